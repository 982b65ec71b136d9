//! `lqx vm` and `lqx pool`: turning arguments into requests, and the
//! serial console.

use crate::args::{PoolCommand, PoolVolumeCommand, VmCommand};
use crate::{invalid, parse_size, render, show};
use lqx_api::{
    BootDevice, CloudInit, Firmware, PoolCreate, PoolVolumeCreate, PoolVolumeRef, ShutdownRequest,
    VmCreate, VmDeleteQuery, VmDisk, VmNic, VmSpec, VolumeFormat,
};
use lqx_client::{Client, ClientError};
use std::path::Path;

/// `POOL/NAME` of a local pool.
fn pool_ref(text: &str) -> Result<PoolVolumeRef, ClientError> {
    match text.split_once('/') {
        Some((pool, volume)) if !pool.is_empty() && !volume.is_empty() => Ok(PoolVolumeRef {
            pool: pool.to_owned(),
            volume: volume.to_owned(),
        }),
        _ => Err(invalid(format!("{text:?}: expected POOL/VOLUME"))),
    }
}

/// `rbd:POOL/IMAGE` or `local:POOL/VOLUME`.
fn disk(text: &str) -> Result<VmDisk, ClientError> {
    let bad = || {
        invalid(format!(
            "--disk {text:?}: expected rbd:POOL/IMAGE or local:POOL/VOLUME"
        ))
    };
    let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
    let r = pool_ref(rest).map_err(|_| bad())?;
    match kind {
        "rbd" => Ok(VmDisk::Rbd {
            pool: r.pool,
            image: r.volume,
        }),
        "local" => Ok(VmDisk::Local {
            pool: r.pool,
            volume: r.volume,
        }),
        _ => Err(bad()),
    }
}

/// `bridge=BR[,mac=MAC]` or
/// `network=NET[,ip=IP][,mac=MAC][,security-group=SG]...`.
fn nic(text: &str) -> Result<VmNic, ClientError> {
    let usage = || {
        invalid(format!(
            "--nic {text:?}: expected bridge=BRIDGE[,mac=MAC] or \
             network=NET[,ip=IP][,mac=MAC][,security-group=SG]..."
        ))
    };
    let mut nic = VmNic::on_bridge("");
    nic.bridge = None;
    for part in text.split(',') {
        match part.split_once('=') {
            Some(("bridge", v)) => nic.bridge = Some(v.to_owned()),
            Some(("network", v)) => nic.network = Some(v.to_owned()),
            Some(("ip", v)) => {
                nic.ip = Some(v.parse().map_err(|_| {
                    invalid(format!("--nic {text:?}: {v:?} is not an IPv4 address"))
                })?);
            }
            Some(("mac", v)) => nic.mac = Some(v.to_owned()),
            Some(("security-group", v)) => nic.security_groups.push(v.to_owned()),
            _ => return Err(usage()),
        }
    }
    if nic.bridge.is_some() == nic.network.is_some() {
        return Err(usage());
    }
    Ok(nic)
}

fn boot(text: &str) -> Result<BootDevice, ClientError> {
    match text {
        "disk" => Ok(BootDevice::Disk),
        "cdrom" => Ok(BootDevice::Cdrom),
        "network" => Ok(BootDevice::Network),
        _ => Err(invalid(format!(
            "--boot {text:?}: use disk, cdrom and network"
        ))),
    }
}

fn read(path: &Path) -> Result<String, ClientError> {
    std::fs::read_to_string(path)
        .map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))
}

/// Runs `lqx vm ...`. `host` is the global `--host`: where a new VM goes.
pub async fn vm(
    client: &Client,
    command: VmCommand,
    host: Option<String>,
    json: bool,
) -> Result<(), ClientError> {
    match command {
        VmCommand::Create {
            name,
            cpus,
            memory,
            disks,
            cdrom,
            nics,
            cloud_init_user_data,
            cloud_init_meta_data,
            cloud_init_network_config,
            boot: order,
            uefi,
            no_start,
        } => {
            let memory = parse_size(&memory)?;
            if memory % (1 << 20) != 0 {
                return Err(invalid("--memory: a whole number of MiB".into()));
            }
            let cloud_init = match cloud_init_user_data {
                Some(user) => Some(CloudInit {
                    user_data: read(&user)?,
                    meta_data: cloud_init_meta_data.as_deref().map(read).transpose()?,
                    network_config: cloud_init_network_config.as_deref().map(read).transpose()?,
                }),
                None => None,
            };
            let spec = VmSpec {
                name,
                vcpus: cpus,
                memory_mib: memory >> 20,
                disks: disks.iter().map(|d| disk(d)).collect::<Result<_, _>>()?,
                cdrom: cdrom.as_deref().map(pool_ref).transpose()?,
                nics: nics.iter().map(|n| nic(n)).collect::<Result<_, _>>()?,
                cloud_init,
                boot: order.iter().map(|b| boot(b)).collect::<Result<_, _>>()?,
                firmware: if uefi { Firmware::Uefi } else { Firmware::Bios },
            };
            let request = VmCreate {
                spec,
                host,
                start: !no_start,
            };
            // Creating defines and starts QEMU, maybe on another host.
            let created = client
                .clone()
                .with_timeout(std::time::Duration::from_secs(180))
                .create_vm(&request)
                .await?;
            show(json, &created, render::vm);
        }
        VmCommand::List => show(json, &client.vms().await?, render::vms),
        VmCommand::Show { vm } => show(json, &client.vm(&vm).await?, render::vm),
        VmCommand::Start { vm } => show(json, &client.vm_action(&vm, "start").await?, render::vm),
        VmCommand::Stop { vm } => show(json, &client.vm_action(&vm, "stop").await?, render::vm),
        VmCommand::Reboot { vm } => show(json, &client.vm_action(&vm, "reboot").await?, render::vm),
        VmCommand::Shutdown { vm, timeout } => {
            let done = client
                .clone()
                .with_timeout(std::time::Duration::from_secs(timeout + 60))
                .shutdown_vm(
                    &vm,
                    &ShutdownRequest {
                        timeout_seconds: Some(timeout),
                    },
                )
                .await?;
            show(json, &done, render::shutdown);
        }
        VmCommand::Delete { vm, force, disks } => {
            client
                .delete_vm(&vm, VmDeleteQuery { force, disks })
                .await?;
            if json {
                crate::print_json(&serde_json::json!({ "deleted": vm }));
            } else {
                println!("VM {vm} deleted");
            }
        }
        VmCommand::AttachIso { vm, iso } => {
            let iso = pool_ref(&iso)?;
            show(json, &client.set_cdrom(&vm, Some(&iso)).await?, render::vm);
        }
        VmCommand::DetachIso { vm } => show(json, &client.set_cdrom(&vm, None).await?, render::vm),
        VmCommand::Console { vm } => console(client, &vm).await?,
    }
    Ok(())
}

/// Runs `lqx pool ...`.
pub async fn pool(client: &Client, command: PoolCommand, json: bool) -> Result<(), ClientError> {
    match command {
        PoolCommand::Create { name, path } => show(
            json,
            &client.create_pool(&PoolCreate { name, path }).await?,
            render::pool,
        ),
        PoolCommand::List => show(json, &client.pools().await?, |p| render::pools(p)),
        PoolCommand::Show { pool } => show(json, &client.pool(&pool).await?, render::pool),
        PoolCommand::Delete { pool } => {
            client.delete_pool(&pool).await?;
            if json {
                crate::print_json(&serde_json::json!({ "deleted": pool }));
            } else {
                println!("pool {pool} removed (its files stay)");
            }
        }
        PoolCommand::Volume { command } => match command {
            PoolVolumeCommand::Create { spec, size, raw } => {
                let r = pool_ref(&spec)?;
                let request = PoolVolumeCreate {
                    name: r.volume,
                    size_bytes: parse_size(&size)?,
                    format: Some(if raw {
                        VolumeFormat::Raw
                    } else {
                        VolumeFormat::Qcow2
                    }),
                };
                show(
                    json,
                    &client.create_pool_volume(&r.pool, &request).await?,
                    render::pool_volume,
                );
            }
            PoolVolumeCommand::Resize { spec, size } => {
                let r = pool_ref(&spec)?;
                let volume = client
                    .resize_pool_volume(&r.pool, &r.volume, parse_size(&size)?)
                    .await?;
                show(json, &volume, render::pool_volume);
            }
            PoolVolumeCommand::Delete { spec } => {
                let r = pool_ref(&spec)?;
                client.delete_pool_volume(&r.pool, &r.volume).await?;
                if json {
                    crate::print_json(&serde_json::json!({ "deleted": spec }));
                } else {
                    println!("volume {spec} deleted");
                }
            }
            PoolVolumeCommand::Upload { spec, file } => {
                let r = pool_ref(&spec)?;
                let volume = client.upload_pool_volume(&r.pool, &r.volume, &file).await?;
                show(json, &volume, render::pool_volume);
            }
        },
    }
    Ok(())
}

/// The byte that leaves the console: Ctrl-], as telnet and virsh use.
const ESCAPE: u8 = 0x1d;

/// Attaches the terminal to a VM's serial console until Ctrl-] or the
/// console closes.
async fn console(client: &Client, vm: &str) -> Result<(), ClientError> {
    use futures::{SinkExt as _, StreamExt as _};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio_tungstenite::tungstenite::Message;
    let path = format!("/v1/vms/{}/serial", vm);
    let socket = client.websocket(&path).await?;
    eprintln!("Connected to the serial console of {vm}; Ctrl-] leaves.\r");
    let raw = crossterm::terminal::enable_raw_mode().is_ok();
    let (mut to_vm, mut from_vm) = socket.split();
    let input = async {
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 1024];
        loop {
            let n = match stdin.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let (bytes, leave) = match buf[..n].iter().position(|&b| b == ESCAPE) {
                Some(i) => (&buf[..i], true),
                None => (&buf[..n], false),
            };
            if !bytes.is_empty()
                && to_vm
                    .send(Message::Binary(bytes.to_vec().into()))
                    .await
                    .is_err()
            {
                break;
            }
            if leave {
                break;
            }
        }
        let _ = to_vm.close().await;
    };
    let output = async {
        let mut stdout = tokio::io::stdout();
        while let Some(Ok(message)) = from_vm.next().await {
            let bytes = match message {
                Message::Binary(b) => b.to_vec(),
                Message::Text(t) => t.as_bytes().to_vec(),
                Message::Close(_) => break,
                _ => continue,
            };
            if stdout.write_all(&bytes).await.is_err() || stdout.flush().await.is_err() {
                break;
            }
        }
    };
    tokio::select! {
        () = input => {}
        () = output => {}
    }
    if raw {
        let _ = crossterm::terminal::disable_raw_mode();
    }
    eprintln!("\r\nLeft the console of {vm}.");
    Ok(())
}
