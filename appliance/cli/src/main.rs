//! `lqx`, the LimiQuantix command-line client.

mod args;
mod render;
mod vm;
mod vnet;

use args::{
    Args, CephCommand, ClusterCommand, Command, EncapArg, HostCommand, InstallCommand,
    LabelCommand, NetworkCommand, OvnCommand, SnapshotCommand, TokenCommand, VolumeCommand,
};
use clap::{CommandFactory, Parser};
use lqx_api::{
    ApplyRequest, CephJoinRequest, ChassisRequest, CloneRequest, EncapType, ErrorBody, ErrorCode,
    InstallRequest, LabelsPatch, NetworkConfig, PowerAction, Volume, VolumeCreate,
    VolumeDeleteQuery, VolumeResize,
};
use lqx_api::{ClusterInitRequest, JoinRequest, LeaveRequest, TokenRequest};
use lqx_client::{Client, ClientError};
use lqx_core::ceph::VolumeSpec;
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
    let mut client = match &args.remote {
        Some(url) => Client::remote(url, &args.bundle)?,
        None => Client::unix(&args.socket),
    };
    if let Some(host) = &args.target_host {
        client = client.with_header(lqx_api::TARGET_HOST_HEADER, host);
    }
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
        Command::Network {
            command: NetworkCommand::Show { name: Some(name) },
        } => vnet::network_show(&client, &name, args.json).await?,
        Command::Network {
            command: NetworkCommand::Create(create),
        } => vnet::network_create(&client, create, args.json).await?,
        Command::Network {
            command: NetworkCommand::List,
        } => vnet::network_list(&client, args.json).await?,
        Command::Network {
            command: NetworkCommand::Delete { name },
        } => client.delete_network(&name).await?,
        Command::Ovn {
            command:
                OvnCommand::Central {
                    nb_remote,
                    sb_remote,
                    ca_cert,
                },
        } => vnet::central(&client, nb_remote, sb_remote, ca_cert, args.json).await?,
        Command::Ovn {
            command: OvnCommand::Sync,
        } => vnet::sync(&client, args.json).await?,
        Command::Router { command } => vnet::router(&client, command, args.json).await?,
        Command::FloatingIp { command } => vnet::floating_ip(&client, command, args.json).await?,
        Command::SecurityGroup { command } => {
            vnet::security_group(&client, command, args.json).await?
        }
        Command::Lb { command } => vnet::lb(&client, command, args.json).await?,
        Command::Port { command } => vnet::port(&client, command, args.json).await?,
        Command::Network { command } => {
            let status = match command {
                NetworkCommand::Show { name: None } => client.network().await?,
                NetworkCommand::Show { .. }
                | NetworkCommand::Create(_)
                | NetworkCommand::List
                | NetworkCommand::Delete { .. } => unreachable!("handled above"),
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
                    ca_cert,
                } => {
                    let request = ChassisRequest {
                        sb_remote,
                        encap_ip,
                        encap_type: match encap_type {
                            EncapArg::Geneve => EncapType::Geneve,
                            EncapArg::Vxlan => EncapType::Vxlan,
                        },
                        bridge_mappings,
                        ca_cert: ca_cert.as_deref().map(read_pem).transpose()?,
                    };
                    client.register_chassis(&request).await?
                }
                OvnCommand::Status => client.ovn_chassis().await?,
                OvnCommand::Unregister => client.unregister_chassis().await?,
                OvnCommand::Central { .. } | OvnCommand::Sync => unreachable!("handled above"),
            };
            if args.json {
                print_json(&status);
            } else {
                print!("{}", render::chassis(&status));
            }
        }
        Command::Ceph { command } => {
            let status = match command {
                CephCommand::Join {
                    mon,
                    name,
                    key,
                    keyring,
                    fsid,
                } => {
                    let key = match (key, keyring) {
                        (Some(key), _) if key == "-" => std::io::read_to_string(std::io::stdin())
                            .map_err(|e| {
                                invalid(format!("cannot read the key from standard input: {e}"))
                            })?
                            .trim()
                            .to_owned(),
                        (Some(key), _) => key,
                        (None, Some(path)) => read_keyring(&path, &name)?,
                        (None, None) => unreachable!("clap requires one"),
                    };
                    let request = CephJoinRequest {
                        mons: mon,
                        name,
                        key,
                        fsid,
                    };
                    client.join_ceph(&request).await?
                }
                CephCommand::Status => client.ceph().await?,
                CephCommand::Leave => client.leave_ceph().await?,
            };
            if args.json {
                print_json(&status);
            } else {
                print!("{}", render::ceph(&status));
            }
        }
        Command::Volume { command } => volume(&client, command, args.json).await?,
        Command::Cluster { command } => match command {
            ClusterCommand::Init { name, voters } => {
                let status = client
                    .init_cluster(&ClusterInitRequest { name, voters })
                    .await?;
                show(args.json, &status, render::cluster);
            }
            ClusterCommand::Status => show(args.json, &client.cluster().await?, render::cluster),
            ClusterCommand::Token {
                command: TokenCommand::Create { ttl },
            } => {
                let token = client
                    .create_token(&TokenRequest {
                        ttl_seconds: Some(ttl),
                    })
                    .await?;
                show(args.json, &token, render::token);
            }
            ClusterCommand::Members => {
                show(args.json, &client.members().await?, |m| render::members(m))
            }
            ClusterCommand::Join { token, token_file } => {
                let token = read_token(token, token_file)?;
                // A join may wait for another host's to finish first.
                let status = client
                    .with_timeout(std::time::Duration::from_secs(180))
                    .join_cluster(&JoinRequest { token })
                    .await?;
                show(args.json, &status, render::cluster);
            }
            ClusterCommand::Leave { force } => {
                let status = client
                    .with_timeout(std::time::Duration::from_secs(120))
                    .leave_cluster(&LeaveRequest { force })
                    .await?;
                if args.json {
                    print_json(&status);
                } else {
                    println!("Left the cluster; this host has a new authority of its own.");
                }
            }
            ClusterCommand::Remove { host, force } => {
                let left = client.remove_member(&host, force).await?;
                show(args.json, &left, |m| render::members(m))
            }
        },
        Command::Vm { command } => {
            vm::vm(&client, command, args.target_host.clone(), args.json).await?
        }
        Command::Pool { command } => vm::pool(&client, command, args.json).await?,
        Command::Completions { .. } => unreachable!("handled before the runtime starts"),
    }
    Ok(())
}

/// The join token from the argument, standard input (`-`) or a file.
fn read_token(
    token: Option<String>,
    file: Option<std::path::PathBuf>,
) -> Result<String, ClientError> {
    let bad = invalid;
    let text = match (token.as_deref(), file) {
        (_, Some(path)) => std::fs::read_to_string(&path)
            .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?,
        (Some("-"), None) => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| bad(format!("cannot read the token from standard input: {e}")))?;
            text
        }
        (Some(token), None) => token.to_owned(),
        (None, None) => {
            return Err(bad(
                "give a token, - for standard input, or --token-file".into()
            ));
        }
    };
    Ok(text.trim().to_owned())
}

async fn volume(client: &Client, command: VolumeCommand, json: bool) -> Result<(), ClientError> {
    let show = |v: &Volume| {
        if json {
            print_json(v);
        } else {
            print!("{}", render::volume(v));
        }
    };
    match command {
        VolumeCommand::Create { spec, size } => {
            let s = spec_without_snapshot(&spec)?;
            let size_bytes = parse_size(&size)?;
            let body = VolumeCreate {
                name: s.name.clone(),
                size_bytes,
            };
            show(&client.create_volume(&s.pool, &body).await?);
        }
        VolumeCommand::List { pool } => {
            lqx_core::ceph::check_name("pool", &pool).map_err(invalid)?;
            let list = client.volumes(&pool).await?;
            if json {
                print_json(&list);
            } else {
                print!("{}", render::volumes(&list));
            }
        }
        VolumeCommand::Show { spec } => {
            let s = spec_without_snapshot(&spec)?;
            show(&client.volume(&s.pool, &s.name).await?);
        }
        VolumeCommand::Resize {
            spec,
            size,
            allow_shrink,
        } => {
            let s = spec_without_snapshot(&spec)?;
            let body = VolumeResize {
                size_bytes: parse_size(&size)?,
                allow_shrink,
            };
            show(&client.resize_volume(&s.pool, &s.name, &body).await?);
        }
        VolumeCommand::Snapshot { command } => match command {
            SnapshotCommand::Create { spec } => {
                let (s, snap) = spec_with_snapshot(&spec)?;
                show(&client.create_snapshot(&s.pool, &s.name, &snap).await?);
            }
            SnapshotCommand::List { spec } => {
                let s = spec_without_snapshot(&spec)?;
                let v = client.volume(&s.pool, &s.name).await?;
                if json {
                    print_json(&v.snapshots);
                } else {
                    print!("{}", render::snapshots(&v.snapshots));
                }
            }
            SnapshotCommand::Delete { spec } => {
                let (s, snap) = spec_with_snapshot(&spec)?;
                show(&client.delete_snapshot(&s.pool, &s.name, &snap).await?);
            }
        },
        VolumeCommand::Clone { source, target } => {
            let (src, snap) = spec_with_snapshot(&source)?;
            let dst = spec_without_snapshot(&target)?;
            let body = CloneRequest {
                pool: dst.pool,
                name: dst.name,
            };
            show(
                &client
                    .clone_snapshot(&src.pool, &src.name, &snap, &body)
                    .await?,
            );
        }
        VolumeCommand::Delete {
            spec,
            snapshots,
            flatten_clones,
        } => {
            let s = spec_without_snapshot(&spec)?;
            let how = VolumeDeleteQuery {
                snapshots,
                flatten_clones,
            };
            client.delete_volume(&s.pool, &s.name, how).await?;
            if json {
                print_json(&serde_json::json!({"deleted": spec}));
            } else {
                println!("deleted {spec}");
            }
        }
    }
    Ok(())
}

/// A bad argument, said before the agent is asked anything.
/// A PEM file's text, for a request.
pub(crate) fn read_pem(path: &std::path::Path) -> Result<String, ClientError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(invalid(format!(
            "{}: not a PEM certificate",
            path.display()
        )));
    }
    Ok(text)
}

pub(crate) fn invalid(message: String) -> ClientError {
    ClientError::Api {
        status: 422,
        code: ErrorCode::InvalidValue,
        message,
    }
}

pub(crate) fn parse_size(s: &str) -> Result<u64, ClientError> {
    lqx_core::ceph::parse_size(s).map_err(|e| invalid(format!("--size: {e}")))
}

fn spec_without_snapshot(s: &str) -> Result<VolumeSpec, ClientError> {
    let spec = VolumeSpec::parse(s).map_err(invalid)?;
    if spec.snapshot.is_some() {
        return Err(invalid(format!("{s:?}: give POOL/NAME, without @SNAP")));
    }
    Ok(spec)
}

fn spec_with_snapshot(s: &str) -> Result<(VolumeSpec, String), ClientError> {
    let spec = VolumeSpec::parse(s).map_err(invalid)?;
    match spec.snapshot.clone() {
        Some(snap) => Ok((spec, snap)),
        None => Err(invalid(format!("{s:?}: give POOL/NAME@SNAP"))),
    }
}

/// The key of `name` from a keyring file, read here so that the file
/// never has to be on the agent's host.
fn read_keyring(path: &std::path::Path, name: &str) -> Result<String, ClientError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))?;
    lqx_core::ceph::key_from_keyring(&text, name)
        .map_err(|e| invalid(format!("{}: {e}", path.display())))
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

/// Prints `value` as JSON, or as `render` writes it for people.
pub(crate) fn show<T: Serialize>(json: bool, value: &T, render: impl Fn(&T) -> String) {
    if json {
        print_json(value);
    } else {
        print!("{}", render(value));
    }
}

pub(crate) fn print_json<T: Serialize>(value: &T) {
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
