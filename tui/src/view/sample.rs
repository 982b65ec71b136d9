//! Sample data and screen capture for tests (here and in tests/).

use lqx_api::{
    AddressFamily, AddressScope, AgentInfo, AgentMode, CpuInfo, DefaultRoute, DnsInfo, HostFacts,
    HostInfo, InterfaceAddress, KernelInfo, LinkState, LoadAverage, MemoryInfo, NetworkInterface,
    OsRelease,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use time::OffsetDateTime;

fn nic(name: &str, index: u32, addrs: &[(&str, u8)]) -> NetworkInterface {
    NetworkInterface {
        name: name.into(),
        index,
        kind: None,
        mac: Some("52:54:00:12:34:56".into()),
        mtu: 1500,
        max_mtu: None,
        admin_up: true,
        link_state: LinkState::Up,
        carrier: Some(true),
        controller: None,
        addresses: addrs
            .iter()
            .map(|(a, p)| {
                let address: std::net::IpAddr = a.parse().unwrap();
                InterfaceAddress {
                    address,
                    prefix_len: *p,
                    family: if address.is_ipv4() {
                        AddressFamily::Ipv4
                    } else {
                        AddressFamily::Ipv6
                    },
                    scope: if a.starts_with("fe80") {
                        AddressScope::Link
                    } else {
                        AddressScope::Global
                    },
                    dynamic: false,
                }
            })
            .collect(),
    }
}

/// Installer view of a live system with one usable disk.
pub fn sample_install() -> lqx_api::InstallInfo {
    let disk = |name: &str, gib: u64, reason: Option<&str>| lqx_api::InstallDisk {
        name: name.into(),
        path: format!("/dev/{name}"),
        size_bytes: gib << 30,
        model: Some("QEMU HARDDISK".into()),
        serial: None,
        rotational: false,
        removable: false,
        eligible: reason.is_none(),
        reason: reason.map(Into::into),
    };
    lqx_api::InstallInfo {
        available: true,
        image_bytes: Some(1_300_000_000),
        min_disk_bytes: 8 << 30,
        disks: vec![
            disk(
                "sda",
                2,
                Some("sda1 is mounted (this disk holds the running system)"),
            ),
            disk("vdb", 32, None),
        ],
        progress: lqx_api::InstallProgress::idle(),
    }
}

/// A plausible host.
pub fn sample_host() -> HostInfo {
    HostInfo {
        host_id: uuid::Uuid::from_u128(0x1234),
        labels: Default::default(),
        agent: AgentInfo {
            version: "0.1.0".into(),
            mode: AgentMode::Appliance,
            pid: 42,
            state_dir: "/var/lib/lqx".into(),
            socket: "/run/lqx/lqxd.sock".into(),
            address: None,
            started_at: OffsetDateTime::UNIX_EPOCH,
            remote_api: Some(lqx_api::RemoteApiInfo {
                listen: "[::]:8443".into(),
                authority_fingerprint:
                    "3f9a0c1d2e4b5a6978877665544332211000ffeeddccbbaa9988776655443322".into(),
                admin_bundle: "/var/lib/lqx/admin".into(),
            }),
        },
        facts: HostFacts {
            hostname: "hv-01".into(),
            machine_id: None,
            os: OsRelease {
                pretty_name: Some("LimiQuantix 0.1 (Debian trixie)".into()),
                ..Default::default()
            },
            kernel: KernelInfo {
                name: "Linux".into(),
                release: "6.12.57+deb13-amd64".into(),
                version: "#1".into(),
                machine: "x86_64".into(),
            },
            boot_time: OffsetDateTime::UNIX_EPOCH,
            uptime_seconds: 3725,
            cpu: CpuInfo {
                model: Some("AMD EPYC 7302".into()),
                count: 32,
            },
            memory: MemoryInfo {
                total_bytes: 128 << 30,
                available_bytes: 100 << 30,
            },
            load: LoadAverage {
                one: 0.5,
                five: 0.25,
                fifteen: 0.1,
            },
            interfaces: vec![
                nic("lo", 1, &[("127.0.0.1", 8)]),
                nic("eno1", 2, &[("192.0.2.10", 24), ("fe80::1", 64)]),
                nic("eno2", 3, &[]),
            ],
            default_routes: vec![DefaultRoute {
                family: AddressFamily::Ipv4,
                gateway: Some("192.0.2.1".parse().unwrap()),
                interface: Some("eno1".into()),
                metric: None,
            }],
            dns: DnsInfo {
                servers: vec!["192.0.2.53".parse().unwrap()],
                search: vec!["lab.example".into()],
                source: "/run/systemd/resolve/resolv.conf".into(),
            },
        },
    }
}

/// The screen's text, line by line, as drawn for `app` at `width`x`height`.
pub fn render(app: &crate::app::App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| super::draw(f, app)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    (0..height)
        .map(|y| {
            let line: String = (0..width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect();
            line.trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A time for samples: 2026-11-26 09:01:05 UTC.
pub fn sample_now() -> OffsetDateTime {
    time::macros::datetime!(2026-11-26 09:01:05 UTC)
}

/// The agent's answer when nothing is saved yet.
pub fn sample_network(desired: Option<lqx_api::NetworkConfig>) -> lqx_api::NetworkStatus {
    lqx_api::NetworkStatus {
        applied: desired.clone(),
        desired,
        pending: None,
        last_outcome: None,
        backend: lqx_api::NetworkBackendKind::FilesOnly,
    }
}

/// A static configuration of the sample host.
pub fn sample_config() -> lqx_api::NetworkConfig {
    use lqx_api::{DnsConfig, Ipv4Config, Ipv6Config, LinkConfig, LinkKind};
    lqx_api::NetworkConfig {
        hostname: "hv-01".into(),
        management: "eno1".into(),
        links: vec![
            LinkConfig {
                name: "eno1".into(),
                kind: LinkKind::Ethernet,
                ipv4: Ipv4Config::Static {
                    addresses: vec!["192.0.2.10/24".into()],
                    gateway: Some("192.0.2.1".into()),
                },
                ipv6: Ipv6Config::Slaac,
                mtu: None,
            },
            LinkConfig {
                name: "eno2".into(),
                kind: LinkKind::Ethernet,
                ipv4: Ipv4Config::Dhcp,
                ipv6: Ipv6Config::Disabled,
                mtu: Some(9000),
            },
        ],
        dns: DnsConfig {
            servers: vec!["192.0.2.53".into()],
            search: vec!["lab.example".into()],
        },
        ntp: vec!["ntp.lab.example".into()],
    }
}

/// An apply waiting for confirmation, 102 s before its deadline.
pub fn sample_pending() -> lqx_api::NetworkStatus {
    let config = sample_config();
    let mut status = sample_network(None);
    status.desired = Some(config.clone());
    status.pending = Some(lqx_api::PendingApply {
        config,
        applied_at: sample_now() - time::Duration::seconds(18),
        deadline: sample_now() + time::Duration::seconds(102),
        checks: vec![],
    });
    status
}

/// Preflight checks with one failure.
pub fn sample_diagnostics() -> lqx_api::Diagnostics {
    use lqx_api::{Check, CheckStatus};
    let check = |name: &str, status, detail: &str| Check {
        name: name.into(),
        status,
        detail: detail.into(),
    };
    lqx_api::Diagnostics {
        management: Some("eno1".into()),
        checks: vec![
            check("link", CheckStatus::Pass, "eno1 is up, carrier"),
            check("address", CheckStatus::Pass, "192.0.2.10/24"),
            check(
                "gateway reachable",
                CheckStatus::Pass,
                "192.0.2.1 answered in 0.4 ms",
            ),
            check(
                "DNS resolves",
                CheckStatus::Fail,
                "192.0.2.53: no answer for debian.org",
            ),
            check(
                "NTP synced",
                CheckStatus::Skip,
                "timesyncd not running here",
            ),
        ],
    }
}

/// `n` journal lines of lqxd.
pub fn sample_journal(n: usize) -> lqx_api::JournalLines {
    lqx_api::JournalLines {
        unit: "lqxd.service".into(),
        lines: (0..n)
            .map(|i| lqx_api::JournalLine {
                at: sample_now() - time::Duration::seconds((n - i) as i64),
                priority: if i % 17 == 3 { 4 } else { 6 },
                message: format!("line {i}: served GET /v1/host in 0.3 ms"),
            })
            .collect(),
    }
}

/// Registered as a chassis, listed in the southbound database.
pub fn sample_chassis() -> lqx_api::ChassisStatus {
    lqx_api::ChassisStatus {
        config: Some(lqx_api::ChassisConfig {
            request: lqx_api::ChassisRequest {
                sb_remote: "tcp:192.0.2.20:6642,tcp:192.0.2.21:6642".into(),
                encap_ip: "192.0.2.10"
                    .parse()
                    .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()),
                encap_type: lqx_api::EncapType::Geneve,
                bridge_mappings: vec!["physnet:br-ex".into()],
                ca_cert: None,
            },
            system_id: "00000000-0000-0000-0000-000000001234".into(),
            registered_at: sample_now(),
        }),
        ovs_configured: true,
        sb_reachable: true,
        chassis_present: true,
        encaps: vec!["geneve 192.0.2.10".into()],
        controller_connected: true,
        problem: None,
    }
}

/// SSH enabled for another 14:20, with two audit events.
pub fn sample_ssh() -> lqx_api::SshStatus {
    let event = |ago: i64, action: &str, actor: &str| lqx_api::AuditEvent {
        at: sample_now() - time::Duration::seconds(ago),
        action: action.into(),
        actor: actor.into(),
    };
    lqx_api::SshStatus {
        enabled: true,
        until: Some(sample_now() + time::Duration::seconds(860)),
        audit: vec![
            event(7200, "ssh disabled (time up)", "lqxd"),
            event(40, "ssh enabled for 15 minutes", "uid 0 pid 812"),
        ],
    }
}

/// Joined to a three-monitor cluster that warns about one thing; two
/// pools, one this client may not read.
pub fn sample_ceph() -> lqx_api::CephStatus {
    let fsid = uuid::Uuid::from_u128(0x5e3c_1f0a_9d2b_4c6e_8a71_0b3d_2f4e_6a58);
    let mon = |name: &str, rank: i64, ip: &str| lqx_api::CephMon {
        name: name.into(),
        rank,
        v2: Some(format!("{ip}:3300")),
        v1: Some(format!("{ip}:6789")),
    };
    let pool = |name: &str, id: i64, rbd_readable: bool| lqx_api::CephPool {
        name: name.into(),
        id,
        applications: vec!["rbd".into()],
        rbd_readable,
    };
    lqx_api::CephStatus {
        config: Some(lqx_api::CephConfig {
            fsid,
            mons: vec!["192.0.2.31".into(), "v2:192.0.2.32:3300".into()],
            name: "client.lqx".into(),
            libvirt_secret: Some(uuid::Uuid::from_u128(0x2a)),
            joined_at: sample_now() - time::Duration::minutes(42),
        }),
        cluster: Some(lqx_api::CephClusterInfo {
            fsid,
            health: "HEALTH_WARN".into(),
            checks: vec![lqx_api::CephHealthCheck {
                code: "MON_DOWN".into(),
                severity: "HEALTH_WARN".into(),
                message: "1/3 mons down, quorum a,b".into(),
            }],
            mons: vec![
                mon("a", 0, "192.0.2.31"),
                mon("b", 1, "192.0.2.32"),
                mon("c", 2, "192.0.2.33"),
            ],
            monmap_epoch: 3,
            pools: vec![pool("vms", 2, true), pool("images", 3, false)],
        }),
        problem: None,
    }
}

/// This host (the sample host) the voter that created cluster `lab`,
/// whose store answers.
pub fn sample_cluster() -> lqx_api::ClusterStatus {
    lqx_api::ClusterStatus {
        cluster: Some(lqx_api::ClusterConfig {
            id: uuid::Uuid::from_u128(0x0c1a_57e2_4f6b_4d8e_9a01_2b3c_4d5e_6f70),
            name: "lab".into(),
            fingerprint: sample_host()
                .agent
                .remote_api
                .map(|r| r.authority_fingerprint)
                .unwrap_or_default(),
            role: lqx_api::EtcdRole::Voter,
            voters: 3,
            endpoints: vec!["https://192.0.2.10:2379".into()],
            joined_at: sample_now() - time::Duration::days(2),
        }),
        store_reachable: true,
        store_error: None,
    }
}

/// The sample host in no cluster.
pub fn sample_no_cluster() -> lqx_api::ClusterStatus {
    lqx_api::ClusterStatus {
        cluster: None,
        store_reachable: false,
        store_error: None,
    }
}

/// Three hosts of `lab`, the third unreachable for six minutes.
pub fn sample_members() -> Vec<lqx_api::Member> {
    let member = |n: u128, name: &str, state, ago: i64| lqx_api::Member {
        id: uuid::Uuid::from_u128(n),
        hostname: name.into(),
        address: format!("192.0.2.{}:8443", 9 + (n >> 12)),
        etcd_role: lqx_api::EtcdRole::Voter,
        state,
        since: Some(sample_now() - time::Duration::seconds(ago)),
        last_heartbeat: Some(sample_now()),
        versions: lqx_api::MemberVersions {
            agent: "0.1.0".into(),
            etcd: Some("3.5.16".into()),
        },
    };
    vec![
        member(0x1234, "hv-01", lqx_api::MemberState::Ready, 2 * 86_400),
        member(0x2002, "hv-02", lqx_api::MemberState::Ready, 3600),
        member(0x3003, "hv-03", lqx_api::MemberState::Unreachable, 360),
    ]
}

/// A join token of `lab` valid for another hour, naming the sample
/// host's API address (fixed bytes instead of randomness).
pub fn sample_token() -> lqx_api::TokenCreated {
    let fingerprint = sample_cluster()
        .cluster
        .map(|c| c.fingerprint)
        .unwrap_or_default();
    let mut random = [0u8; 40];
    for (i, b) in random.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    let token = lqx_core::cluster_token::JoinToken::new(
        vec![std::net::SocketAddr::from(([192, 0, 2, 10], 8443))],
        &fingerprint,
        &random,
    );
    lqx_api::TokenCreated {
        token: token.encode(),
        id: token.id,
        fingerprint,
        expires_at: sample_now() + time::Duration::hours(1),
    }
}
