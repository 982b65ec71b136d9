//! Human-readable output. Pure functions of the API's types, so the
//! layout is unit-tested without an agent.

use lqx_api::{DefaultRoute, HostInfo, InstallInfo, InstallPhase, NetworkInterface};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Bytes as binary units with one decimal (`23.5 GiB`).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A duration in seconds as `3d 4h 5m` (seconds only under a minute).
pub fn uptime(seconds: u64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h {m}m"),
    }
}

fn route(r: &DefaultRoute) -> String {
    let mut text = match r.gateway {
        Some(gw) => format!("via {gw}"),
        None => "direct".to_owned(),
    };
    if let Some(dev) = &r.interface {
        let _ = write!(text, " dev {dev}");
    }
    if let Some(metric) = r.metric {
        let _ = write!(text, " metric {metric}");
    }
    text
}

fn or_dash(list: Vec<String>) -> String {
    if list.is_empty() {
        "-".into()
    } else {
        list.join(", ")
    }
}

/// `lqx host show`.
pub fn host(host: &HostInfo) -> String {
    let f = &host.facts;
    let mut rows: Vec<(&str, String)> = vec![
        ("Hostname", f.hostname.clone()),
        ("Host ID", host.host_id.to_string()),
        (
            "Machine ID",
            f.machine_id.clone().unwrap_or_else(|| "-".into()),
        ),
        (
            "OS",
            f.os.pretty_name
                .clone()
                .or_else(|| f.os.name.clone())
                .unwrap_or_else(|| "-".into()),
        ),
        (
            "Kernel",
            format!(
                "{} {} {}",
                f.kernel.name, f.kernel.release, f.kernel.machine
            ),
        ),
        (
            "Up",
            format!(
                "{} (booted {})",
                uptime(f.uptime_seconds),
                f.boot_time
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default()
            ),
        ),
        (
            "CPU",
            format!(
                "{} x {}",
                f.cpu.count,
                f.cpu.model.as_deref().unwrap_or("unknown model")
            ),
        ),
        (
            "Memory",
            format!(
                "{} total, {} available",
                bytes(f.memory.total_bytes),
                bytes(f.memory.available_bytes)
            ),
        ),
        (
            "Load",
            format!("{:.2} {:.2} {:.2}", f.load.one, f.load.five, f.load.fifteen),
        ),
        (
            "Default routes",
            or_dash(f.default_routes.iter().map(route).collect()),
        ),
        (
            "DNS",
            if f.dns.servers.is_empty() {
                "-".into()
            } else {
                format!(
                    "{} (from {})",
                    or_dash(f.dns.servers.iter().map(ToString::to_string).collect()),
                    f.dns.source
                )
            },
        ),
        ("Search domains", or_dash(f.dns.search.clone())),
        (
            "Labels",
            or_dash(
                host.labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect(),
            ),
        ),
        (
            "Agent",
            format!(
                "lqxd {}, {:?} mode, pid {}",
                host.agent.version, host.agent.mode, host.agent.pid
            )
            .to_lowercase(),
        ),
    ];
    if let Some(addr) = host.agent.address {
        rows.push(("Agent address", addr.to_string()));
    }
    if let Some(remote) = &host.agent.remote_api {
        rows.push((
            "Remote API",
            format!("https://{} (mutual TLS)", remote.listen),
        ));
        rows.push(("API CA sha256", remote.authority_fingerprint.clone()));
        rows.push(("Admin bundle", remote.admin_bundle.clone()));
    }
    let mut out = String::new();
    for (name, value) in rows {
        let _ = writeln!(out, "{name:<16}{value}");
    }
    out.push('\n');
    out.push_str(&interfaces(&f.interfaces));
    out
}

fn interfaces(list: &[NetworkInterface]) -> String {
    let header = ["INTERFACE", "STATE", "MTU", "MAC", "ADDRESSES"];
    let rows: Vec<[String; 5]> = list
        .iter()
        .map(|i| {
            let state = if i.admin_up {
                serde_json::to_value(i.link_state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            } else {
                "admin-down".into()
            };
            let name = match &i.controller {
                Some(c) => format!("{} ({c})", i.name),
                None => i.name.clone(),
            };
            [
                name,
                state,
                i.mtu.to_string(),
                i.mac.clone().unwrap_or_else(|| "-".into()),
                or_dash(
                    i.addresses
                        .iter()
                        .map(|a| format!("{}/{}", a.address, a.prefix_len))
                        .collect(),
                ),
            ]
        })
        .collect();
    table(&header, &rows)
}

fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == N {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<width$}  ", width = widths[i]);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

/// `lqx install status`.
pub fn install(info: &InstallInfo) -> String {
    let mut out = String::new();
    match info.image_bytes {
        Some(n) if info.available => {
            let _ = writeln!(
                out,
                "System image: {} (disks of at least {} accepted)",
                bytes(n),
                bytes(info.min_disk_bytes)
            );
        }
        _ => out.push_str("No system image here: installation runs from the live ISO.\n"),
    }
    let p = &info.progress;
    if p.phase != InstallPhase::Idle {
        let percent = (p.bytes_done * 100).checked_div(p.bytes_total).unwrap_or(0);
        let _ = writeln!(
            out,
            "Installation onto {}: {:?} {percent}%{}",
            p.disk.as_deref().unwrap_or("?"),
            p.phase,
            p.message
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        );
    }
    out.push('\n');
    let rows: Vec<[String; 5]> = info
        .disks
        .iter()
        .map(|d| {
            [
                d.name.clone(),
                bytes(d.size_bytes),
                d.model.clone().unwrap_or_else(|| "-".into()),
                if d.eligible {
                    "yes".into()
                } else {
                    "no".into()
                },
                d.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&table(
        &["DISK", "SIZE", "MODEL", "USABLE", "WHY NOT"],
        &rows,
    ));
    out
}

/// Labels, one `key=value` per line.
/// `lqx network show` (and the other network commands).
pub fn network(status: &lqx_api::NetworkStatus, now: time::OffsetDateTime) -> String {
    let mut out = String::new();
    let summary = |c: &lqx_api::NetworkConfig| {
        let links: Vec<String> = c.links.iter().map(link_summary).collect();
        format!(
            "{} (management {}): {}",
            c.hostname,
            c.management,
            links.join("; ")
        )
    };
    let _ = writeln!(
        out,
        "Applied:  {}",
        status
            .applied
            .as_ref()
            .map(summary)
            .unwrap_or_else(|| "image default (DHCP on every NIC)".into())
    );
    let _ = writeln!(
        out,
        "Saved:    {}",
        status
            .desired
            .as_ref()
            .map(summary)
            .unwrap_or_else(|| "nothing".into())
    );
    if let Some(p) = &status.pending {
        let left = (p.deadline - now).whole_seconds().max(0);
        let _ = writeln!(
            out,
            "Pending:  {} -- reverts in {left} s unless `lqx network confirm`",
            summary(&p.config)
        );
        for check in &p.checks {
            let _ = writeln!(
                out,
                "  {:<8} {:?}: {}",
                check.name, check.status, check.detail
            );
        }
    }
    if let Some(o) = &status.last_outcome {
        let _ = writeln!(out, "Last:     {:?}: {}", o.result, o.message);
    }
    let _ = writeln!(out, "Backend:  {:?}", status.backend);
    out
}

fn link_summary(link: &lqx_api::LinkConfig) -> String {
    use lqx_api::{Ipv4Config, Ipv6Config, LinkKind};
    let kind = match &link.kind {
        LinkKind::Ethernet => String::new(),
        LinkKind::Bond { members, mode } => {
            format!(" bond[{}] {}", members.join(","), mode.as_str())
        }
        LinkKind::Vlan { parent, id } => format!(" vlan {id} on {parent}"),
    };
    let fixed = |addresses: &[String], gateway: &Option<String>| {
        let via = gateway.as_ref().map(|g| format!(" via {g}"));
        format!("{}{}", addresses.join(","), via.unwrap_or_default())
    };
    let v4 = match &link.ipv4 {
        Ipv4Config::Disabled => None,
        Ipv4Config::Dhcp => Some("dhcp4".to_owned()),
        Ipv4Config::Static { addresses, gateway } => Some(fixed(addresses, gateway)),
    };
    let v6 = match &link.ipv6 {
        Ipv6Config::Disabled => None,
        Ipv6Config::Slaac => Some("slaac".to_owned()),
        Ipv6Config::Dhcp => Some("dhcp6".to_owned()),
        Ipv6Config::Static { addresses, gateway } => Some(fixed(addresses, gateway)),
    };
    let addressing: Vec<String> = [v4, v6].into_iter().flatten().collect();
    format!(
        "{}{kind} {}",
        link.name,
        if addressing.is_empty() {
            "no address".to_owned()
        } else {
            addressing.join(" ")
        }
    )
}

pub fn labels(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "(no labels)\n".into();
    }
    labels.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

/// `lqx ovn status`.
pub fn chassis(status: &lqx_api::ChassisStatus) -> String {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut out = String::new();
    let Some(config) = &status.config else {
        out.push_str("Not registered as an OVN chassis.\n");
        return out;
    };
    let r = &config.request;
    let rows = [
        ("Chassis", config.system_id.clone()),
        ("Southbound", r.sb_remote.clone()),
        ("Encap", format!("{} {}", r.encap_type.as_str(), r.encap_ip)),
        (
            "Mappings",
            if r.bridge_mappings.is_empty() {
                "none".into()
            } else {
                r.bridge_mappings.join(", ")
            },
        ),
        (
            "Registered",
            config
                .registered_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        ),
        ("OVS settings", yes_no(status.ovs_configured).into()),
        ("SB reachable", yes_no(status.sb_reachable).into()),
        ("In SB", yes_no(status.chassis_present).into()),
        (
            "SB encaps",
            if status.encaps.is_empty() {
                "none".into()
            } else {
                status.encaps.join(", ")
            },
        ),
        (
            "Controller",
            if status.controller_connected {
                "connected"
            } else {
                "not connected"
            }
            .into(),
        ),
    ];
    for (name, value) in rows {
        let _ = writeln!(out, "{name:<16}{value}");
    }
    if let Some(problem) = &status.problem {
        let _ = writeln!(out, "{:<16}{problem}", "Problem");
    }
    out
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `lqx ceph status`.
pub fn ceph(status: &lqx_api::CephStatus) -> String {
    let mut out = String::new();
    let Some(config) = &status.config else {
        out.push_str("Not a client of a Ceph cluster.\n");
        return out;
    };
    let mut rows = vec![
        ("Cluster", config.fsid.to_string()),
        ("Client", config.name.clone()),
        ("Monitors", config.mons.join(", ")),
        ("Joined", rfc3339(config.joined_at)),
    ];
    if let Some(secret) = config.libvirt_secret {
        rows.push(("libvirt secret", secret.to_string()));
    }
    if let Some(c) = &status.cluster {
        rows.push(("Health", c.health.clone()));
        for check in &c.checks {
            rows.push((
                "",
                format!("{} {}: {}", check.severity, check.code, check.message),
            ));
        }
        for m in &c.mons {
            let addr = m.v2.clone().or_else(|| m.v1.clone()).unwrap_or_default();
            rows.push(("Monitor", format!("{} (rank {}) {addr}", m.name, m.rank)));
        }
    }
    for (name, value) in rows {
        let _ = writeln!(out, "{name:<16}{value}");
    }
    if let Some(problem) = &status.problem {
        let _ = writeln!(out, "{:<16}{problem}", "Problem");
    }
    if let Some(c) = &status.cluster {
        out.push('\n');
        let rows: Vec<[String; 4]> = c
            .pools
            .iter()
            .map(|p| {
                [
                    p.name.clone(),
                    p.id.to_string(),
                    if p.applications.is_empty() {
                        "-".into()
                    } else {
                        p.applications.join(",")
                    },
                    if p.rbd_readable {
                        "readable"
                    } else {
                        "no access"
                    }
                    .into(),
                ]
            })
            .collect();
        out.push_str(&table(&["POOL", "ID", "APPLICATIONS", "RBD"], &rows));
    }
    out
}

/// `lqx volume list`.
pub fn volumes(list: &[lqx_api::VolumeSummary]) -> String {
    if list.is_empty() {
        return "(no volumes)\n".into();
    }
    let rows: Vec<[String; 4]> = list
        .iter()
        .map(|v| {
            [
                v.name.clone(),
                lqx_core::ceph::format_size(v.size_bytes),
                v.snapshots.to_string(),
                v.parent.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    table(&["NAME", "SIZE", "SNAPSHOTS", "PARENT"], &rows)
}

/// `lqx volume snapshot list`.
pub fn snapshots(list: &[lqx_api::Snapshot]) -> String {
    if list.is_empty() {
        return "(no snapshots)\n".into();
    }
    let rows: Vec<[String; 4]> = list
        .iter()
        .map(|s| {
            [
                s.name.clone(),
                lqx_core::ceph::format_size(s.size_bytes),
                if s.protected { "yes" } else { "no" }.into(),
                if s.clones.is_empty() {
                    "-".into()
                } else {
                    s.clones.join(", ")
                },
            ]
        })
        .collect();
    table(&["SNAPSHOT", "SIZE", "PROTECTED", "CLONES"], &rows)
}

/// `lqx volume show` and what volume commands print.
pub fn volume(v: &lqx_api::Volume) -> String {
    let mut out = String::new();
    let rows = [
        ("Volume", format!("{}/{}", v.pool, v.name)),
        ("Size", lqx_core::ceph::format_size(v.size_bytes)),
        ("Id", v.id.clone()),
        (
            "Object size",
            lqx_core::ceph::format_size(v.object_size_bytes),
        ),
        ("Features", v.features.join(", ")),
        (
            "Parent",
            v.parent
                .as_ref()
                .map(|p| format!("{}/{}@{}", p.pool, p.name, p.snapshot))
                .unwrap_or_else(|| "-".into()),
        ),
        ("Created", rfc3339(v.created_at)),
    ];
    for (name, value) in rows {
        let _ = writeln!(out, "{name:<16}{value}");
    }
    if !v.snapshots.is_empty() {
        out.push('\n');
        out.push_str(&snapshots(&v.snapshots));
    }
    out
}

/// `lqx cluster status` and `init`.
pub fn cluster(status: &lqx_api::ClusterStatus) -> String {
    let Some(config) = &status.cluster else {
        return "Not a member of a cluster.\n".into();
    };
    let store = match (&status.store_reachable, &status.store_error) {
        (true, _) => "reachable".to_owned(),
        (false, Some(error)) => format!("unreachable: {error}"),
        (false, None) => "unreachable".to_owned(),
    };
    let rows = [
        ("Cluster", format!("{} ({})", config.name, config.id)),
        ("Authority", config.fingerprint.clone()),
        ("This host", role(config.role).to_owned()),
        ("Voters", config.voters.to_string()),
        ("Store", store),
        ("Endpoints", config.endpoints.join(", ")),
        ("Joined", rfc3339(config.joined_at)),
    ];
    let mut out = String::new();
    for (name, value) in rows {
        let _ = writeln!(out, "{name:<12}{value}");
    }
    out
}

fn role(role: lqx_api::EtcdRole) -> &'static str {
    match role {
        lqx_api::EtcdRole::Voter => "voter",
        lqx_api::EtcdRole::Client => "client",
    }
}

/// `lqx cluster token create`.
pub fn token(token: &lqx_api::TokenCreated) -> String {
    format!(
        "{}\n\nSingle use, valid until {}. On the new host: lqx cluster join TOKEN\n\
         It pins the cluster authority {}\n",
        token.token,
        rfc3339(token.expires_at),
        token.fingerprint
    )
}

/// `lqx cluster members`.
pub fn members(members: &[lqx_api::Member]) -> String {
    let rows: Vec<[String; 6]> = members
        .iter()
        .map(|m| {
            let state = match m.state {
                lqx_api::MemberState::Ready => "ready",
                lqx_api::MemberState::Unreachable => "unreachable",
            };
            [
                m.hostname.clone(),
                m.address.clone(),
                role(m.etcd_role).to_owned(),
                state.to_owned(),
                m.since.map(rfc3339).unwrap_or_else(|| "-".into()),
                m.id.to_string(),
            ]
        })
        .collect();
    table(&["HOST", "ADDRESS", "ETCD", "STATE", "SINCE", "ID"], &rows)
}

/// The rows `key value` of a record, aligned.
fn rows(rows: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (name, value) in rows {
        let _ = writeln!(out, "{name:<16}{value}");
    }
    out
}

fn vm_state(vm: &lqx_api::Vm) -> String {
    match &vm.status {
        Some(s) => format!("{:?}", s.state)
            .to_lowercase()
            .replace("shuttingdown", "shutting-down"),
        None => "pending".into(),
    }
}

fn disk_text(disk: &lqx_api::VmDisk) -> String {
    match disk {
        lqx_api::VmDisk::Rbd { pool, image } => format!("rbd:{pool}/{image}"),
        lqx_api::VmDisk::Local { pool, volume } => format!("local:{pool}/{volume}"),
    }
}

/// `lqx vm show` and what VM commands print.
pub fn vm(vm: &lqx_api::Vm) -> String {
    let spec = &vm.spec;
    let status = vm.status.as_ref();
    let mut out = rows(&[
        ("VM", format!("{} ({})", spec.name, vm.id)),
        ("State", vm_state(vm)),
        (
            "Since",
            status
                .map(|s| rfc3339(s.since))
                .unwrap_or_else(|| "-".into()),
        ),
        (
            "Should run",
            (vm.power == lqx_api::PowerIntent::Running).to_string(),
        ),
        ("Host", vm.host.to_string()),
        ("CPUs", spec.vcpus.to_string()),
        ("Memory", format!("{} MiB", spec.memory_mib)),
        (
            "Disks",
            if spec.disks.is_empty() {
                "-".into()
            } else {
                spec.disks
                    .iter()
                    .map(disk_text)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ),
        (
            "CD-ROM",
            spec.cdrom
                .as_ref()
                .map(|c| format!("{}/{}", c.pool, c.volume))
                .unwrap_or_else(|| "empty".into()),
        ),
        (
            "NICs",
            if spec.nics.is_empty() {
                "-".into()
            } else {
                spec.nics
                    .iter()
                    .map(|n| {
                        let on = match (&n.bridge, &n.network) {
                            (Some(bridge), _) => bridge.clone(),
                            (None, Some(network)) => match n.ip {
                                Some(ip) => format!("network {network} {ip}"),
                                None => format!("network {network}"),
                            },
                            (None, None) => "-".into(),
                        };
                        match &n.mac {
                            Some(mac) => format!("{on} ({mac})"),
                            None => on,
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ),
        ("Firmware", format!("{:?}", spec.firmware).to_lowercase()),
        (
            "cloud-init",
            if spec.cloud_init.is_some() {
                "yes"
            } else {
                "no"
            }
            .into(),
        ),
        (
            "Addresses",
            status
                .map(|s| {
                    s.addresses
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| "-".into()),
        ),
        (
            "VNC",
            status
                .and_then(|s| s.vnc_port)
                .map(|p| format!("port {p} on its host (lqx vm console is the serial console)"))
                .unwrap_or_else(|| "-".into()),
        ),
    ]);
    if let Some(message) = status.and_then(|s| s.message.as_ref()) {
        let _ = writeln!(out, "{:<16}{message}", "Problem");
    }
    out
}

/// `lqx vm list`.
pub fn vms(list: &lqx_api::VmList) -> String {
    let rows: Vec<[String; 6]> = list
        .vms
        .iter()
        .map(|vm| {
            [
                vm.spec.name.clone(),
                vm_state(vm),
                vm.spec.vcpus.to_string(),
                format!("{} MiB", vm.spec.memory_mib),
                vm.host.to_string(),
                vm.status
                    .as_ref()
                    .map(|s| {
                        s.addresses
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .filter(|a| !a.is_empty())
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let mut out = table(
        &["NAME", "STATE", "CPUS", "MEMORY", "HOST", "ADDRESSES"],
        &rows,
    );
    if !list.foreign.is_empty() {
        let foreign: Vec<[String; 3]> = list
            .foreign
            .iter()
            .map(|d| {
                [
                    d.name.clone(),
                    if d.running { "running" } else { "off" }.into(),
                    d.host.to_string(),
                ]
            })
            .collect();
        out.push_str("\nDomains no VM of the cluster owns (left alone):\n");
        out.push_str(&table(&["DOMAIN", "STATE", "HOST"], &foreign));
    }
    out
}

/// `lqx vm shutdown`.
pub fn shutdown(done: &lqx_api::ShutdownDone) -> String {
    let how = match done.outcome {
        lqx_api::ShutdownOutcome::Clean => "the guest powered off",
        lqx_api::ShutdownOutcome::Forced => "the guest did not power off in time; stopped forcibly",
        lqx_api::ShutdownOutcome::AlreadyStopped => "it was not running",
    };
    format!("{}: {how}\n", done.vm.spec.name)
}

/// A pool volume.
pub fn pool_volume(v: &lqx_api::PoolVolume) -> String {
    rows(&[
        ("Volume", v.name.clone()),
        ("Format", format!("{:?}", v.format).to_lowercase()),
        ("Size", bytes(v.capacity_bytes)),
        ("On disk", bytes(v.allocation_bytes)),
    ])
}

/// `lqx pool show`.
pub fn pool(p: &lqx_api::Pool) -> String {
    let mut out = rows(&[
        ("Pool", p.name.clone()),
        ("Path", p.path.clone()),
        (
            "Free",
            format!(
                "{} of {}",
                bytes(p.available_bytes),
                bytes(p.capacity_bytes)
            ),
        ),
    ]);
    if !p.volumes.is_empty() {
        let volumes: Vec<[String; 4]> = p
            .volumes
            .iter()
            .map(|v| {
                [
                    v.name.clone(),
                    format!("{:?}", v.format).to_lowercase(),
                    bytes(v.capacity_bytes),
                    bytes(v.allocation_bytes),
                ]
            })
            .collect();
        out.push('\n');
        out.push_str(&table(&["VOLUME", "FORMAT", "SIZE", "ON DISK"], &volumes));
    }
    out
}

/// `lqx pool list`.
pub fn pools(pools: &[lqx_api::Pool]) -> String {
    let rows: Vec<[String; 4]> = pools
        .iter()
        .map(|p| {
            [
                p.name.clone(),
                p.path.clone(),
                p.volumes.len().to_string(),
                bytes(p.available_bytes),
            ]
        })
        .collect();
    table(&["POOL", "PATH", "VOLUMES", "FREE"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(8 << 30), "8.0 GiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(uptime(59), "59s");
        assert_eq!(uptime(61), "1m 1s");
        assert_eq!(uptime(3 * 3600 + 120), "3h 2m");
        assert_eq!(uptime(2 * 86_400 + 3600), "2d 1h 0m");
    }

    #[test]
    fn interface_table_aligns() {
        let mut lo = lqx_host_sample();
        lo.addresses = vec![];
        let text = interfaces(&[lo]);
        assert_eq!(
            text,
            "INTERFACE  STATE    MTU    MAC  ADDRESSES\nlo         unknown  65536  -    -\n"
        );
    }

    fn lqx_host_sample() -> NetworkInterface {
        NetworkInterface {
            name: "lo".into(),
            index: 1,
            kind: None,
            mac: None,
            mtu: 65536,
            max_mtu: None,
            admin_up: true,
            link_state: lqx_api::LinkState::Unknown,
            carrier: Some(true),
            controller: None,
            addresses: vec![],
        }
    }

    #[test]
    fn volume_tables_align() {
        let list = [
            lqx_api::VolumeSummary {
                name: "golden".into(),
                size_bytes: 10 << 30,
                parent: None,
                snapshots: 1,
            },
            lqx_api::VolumeSummary {
                name: "vm1".into(),
                size_bytes: 512 << 20,
                parent: Some("vms/golden@base".into()),
                snapshots: 0,
            },
        ];
        assert_eq!(
            volumes(&list),
            "NAME    SIZE     SNAPSHOTS  PARENT\n\
             golden  10 GiB   1          -\n\
             vm1     512 MiB  0          vms/golden@base\n"
        );
        assert_eq!(volumes(&[]), "(no volumes)\n");
    }

    #[test]
    fn labels_listing() {
        assert_eq!(labels(&BTreeMap::new()), "(no labels)\n");
        let l: BTreeMap<_, _> = [("a".to_string(), "1".to_string())].into();
        assert_eq!(labels(&l), "a=1\n");
    }
}
