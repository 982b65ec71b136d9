//! `lqx`, the LimiQuantix command-line client.

mod args;
mod render;

use args::{
    Args, Command, EncapArg, HostCommand, InstallCommand, LabelCommand, NetworkCommand, OvnCommand,
};
use clap::{CommandFactory, Parser};
use lqx_api::{
    ApplyRequest, ChassisRequest, EncapType, ErrorBody, ErrorCode, InstallRequest, LabelsPatch,
    NetworkConfig, PowerAction,
};
use lqx_client::{Client, ClientError};
use serde::Serialize;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = Args::parse();
    if let Command::Completions { shell } = args.command {
        clap_complete::generate(shell, &mut Args::command(), "lqx", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lqx: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let json = args.json;
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if json {
                print_json(&error_body(&err));
            }
            eprintln!("lqx: {}", message(&err));
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), ClientError> {
    let client = match &args.remote {
        Some(url) => Client::remote(url, &args.bundle)?,
        None => Client::unix(&args.socket),
    };
    match args.command {
        Command::Host { command } => match command {
            HostCommand::Show => {
                let host = client.host().await?;
                if args.json {
                    print_json(&host);
                } else {
                    print!("{}", render::host(&host));
                }
            }
            HostCommand::Reboot | HostCommand::Poweroff => {
                let action = if matches!(command, HostCommand::Reboot) {
                    PowerAction::Reboot
                } else {
                    PowerAction::Poweroff
                };
                client.power(action).await?;
                if args.json {
                    print_json(&serde_json::json!({ "action": action }));
                } else {
                    println!("{action:?} requested");
                }
            }
            HostCommand::Label { command } => {
                let patch = match command {
                    LabelCommand::Set { labels } => LabelsPatch {
                        set: labels.into_iter().collect(),
                        remove: vec![],
                    },
                    LabelCommand::Remove { keys } => LabelsPatch {
                        set: Default::default(),
                        remove: keys,
                    },
                };
                let labels = client.patch_labels(&patch).await?;
                if args.json {
                    print_json(&labels);
                } else {
                    print!("{}", render::labels(&labels.labels));
                }
            }
        },
        Command::Install { command } => match command {
            InstallCommand::Status => {
                let info = client.install_info().await?;
                if args.json {
                    print_json(&info);
                } else {
                    print!("{}", render::install(&info));
                }
            }
            InstallCommand::Start { disk, confirm } => {
                let progress = client.install(&InstallRequest { disk, confirm }).await?;
                if args.json {
                    print_json(&progress);
                } else {
                    println!(
                        "installing onto {}; follow with `lqx install status`",
                        progress.disk.unwrap_or_default()
                    );
                }
            }
        },
        Command::Network { command } => {
            let status = match command {
                NetworkCommand::Show => client.network().await?,
                NetworkCommand::Set { file } => client.set_network(&read_config(&file)?).await?,
                NetworkCommand::Apply { timeout } => {
                    let request = ApplyRequest {
                        timeout_secs: Some(timeout),
                    };
                    client.apply_network(&request).await?
                }
                NetworkCommand::Confirm => client.confirm_network().await?,
                NetworkCommand::Revert => client.revert_network().await?,
            };
            if args.json {
                print_json(&status);
            } else {
                print!(
                    "{}",
                    render::network(&status, time::OffsetDateTime::now_utc())
                );
            }
        }
        Command::Ovn { command } => {
            let status = match command {
                OvnCommand::Register {
                    sb_remote,
                    encap_ip,
                    encap_type,
                    bridge_mappings,
                } => {
                    let request = ChassisRequest {
                        sb_remote,
                        encap_ip,
                        encap_type: match encap_type {
                            EncapArg::Geneve => EncapType::Geneve,
                            EncapArg::Vxlan => EncapType::Vxlan,
                        },
                        bridge_mappings,
                    };
                    client.register_chassis(&request).await?
                }
                OvnCommand::Status => client.ovn_chassis().await?,
                OvnCommand::Unregister => client.unregister_chassis().await?,
            };
            if args.json {
                print_json(&status);
            } else {
                print!("{}", render::chassis(&status));
            }
        }
        Command::Completions { .. } => unreachable!("handled before the runtime starts"),
    }
    Ok(())
}

/// Reads and checks a configuration file before anything is sent, so a
/// typo gets its line and column and the agent is not asked at all.
fn read_config(path: &std::path::Path) -> Result<NetworkConfig, ClientError> {
    let invalid = |message: String| ClientError::Api {
        status: 422,
        code: ErrorCode::InvalidBody,
        message,
    };
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))?;
    let config: NetworkConfig = serde_json::from_str(&text).map_err(|e| {
        invalid(format!(
            "{} is not a network configuration: {e}",
            path.display()
        ))
    })?;
    lqx_core::network::validate(&config, None).map_err(|e| ClientError::Api {
        status: 422,
        code: ErrorCode::InvalidValue,
        message: format!("invalid network configuration: {e}"),
    })?;
    Ok(config)
}

fn print_json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("lqx: cannot encode JSON: {e}"),
    }
}

/// The error and its causes, as one line.
fn message(err: &ClientError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    // The not-running and permission messages already say everything;
    // the raw errno adds nothing for an operator.
    if !matches!(
        err,
        ClientError::NotRunning { .. } | ClientError::PermissionDenied { .. }
    ) {
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
    }
    text
}

/// With `--json`, errors are the API's envelope on stdout too, so scripts
/// read one format.
fn error_body(err: &ClientError) -> ErrorBody {
    let code = match err {
        ClientError::Api { code, .. } => *code,
        ClientError::NotRunning { .. }
        | ClientError::Timeout(_)
        | ClientError::Unreachable { .. } => ErrorCode::Unavailable,
        ClientError::PermissionDenied { .. } | ClientError::Tls { .. } => ErrorCode::Forbidden,
        ClientError::Bundle { .. } | ClientError::BadUrl(_) => ErrorCode::InvalidValue,
        ClientError::Transport(_) | ClientError::Protocol { .. } => ErrorCode::Internal,
    };
    ErrorBody::new(code, message(err))
}
