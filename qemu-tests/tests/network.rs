//! Network configurations applied by lqxd on the booted appliance through
//! systemd-networkd: a static management address, an active-backup bond
//! with a VLAN on top, confirmed and kept across a reboot; then a
//! configuration that breaks management, not confirmed, restored by
//! itself. The test probe submits each configuration through `lqx
//! network` from the kernel command line.

use base64::Engine as _;
use lqx_api::{
    ApplyResult, BondMode, DnsConfig, Ipv4Config, LinkConfig, LinkKind, NetworkConfig,
    NetworkStatus,
};
use lqx_qemu_tests::{Drive, Machine, MachineConfig, Report, fresh_dir, image_dir, overlay};
use serde_json::Value;
use std::time::Duration;

const BOOT: Duration = Duration::from_secs(900);

fn link(name: &str, kind: LinkKind, ipv4: Ipv4Config) -> LinkConfig {
    LinkConfig {
        name: name.into(),
        kind,
        ipv4,
        ipv6: Default::default(),
        mtu: None,
    }
}

fn static_v4(address: &str, gateway: Option<&str>) -> Ipv4Config {
    Ipv4Config::Static {
        addresses: vec![address.into()],
        gateway: gateway.map(Into::into),
    }
}

/// Management static on the slirp network (what DHCP gave, now fixed), a
/// bond over the two extra NICs, a VLAN on the bond.
fn bonded() -> NetworkConfig {
    NetworkConfig {
        hostname: "hv-net".into(),
        management: "enp0s8".into(),
        links: vec![
            link(
                "enp0s8",
                LinkKind::Ethernet,
                static_v4("10.0.2.15/24", Some("10.0.2.2")),
            ),
            link(
                "bond0",
                LinkKind::Bond {
                    members: vec!["enp0s9".into(), "enp0s10".into()],
                    mode: BondMode::ActiveBackup,
                },
                Ipv4Config::Disabled,
            ),
            link(
                "bond0.100",
                LinkKind::Vlan {
                    parent: "bond0".into(),
                    id: 100,
                },
                static_v4("192.168.100.5/24", None),
            ),
        ],
        dns: DnsConfig {
            servers: vec!["10.0.2.3".into()],
            search: vec![],
        },
        ntp: vec![],
    }
}

fn cmdline(config: &NetworkConfig, extra: &str) -> String {
    let json = serde_json::to_vec(config).unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(json);
    format!("lqx.test-probe lqx.test-network={encoded} {extra}")
}

fn network(report: &Report) -> Option<NetworkStatus> {
    serde_json::from_str(report.field("network")).ok()
}

fn interface<'a>(report: &'a Report, name: &str) -> Option<&'a Value> {
    report.host.as_ref()?["interfaces"]
        .as_array()?
        .iter()
        .find(|i| i["name"] == name)
}

fn has_address(report: &Report, name: &str, address: &str) -> bool {
    interface(report, name).is_some_and(|i| {
        i["addresses"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["address"] == address))
    })
}

fn outcome(report: &Report) -> Option<ApplyResult> {
    network(report)?.last_outcome.map(|o| o.result)
}

#[tokio::test]
async fn static_bond_and_vlan_come_up_and_a_breaking_config_reverts_itself() {
    let dir = fresh_dir(env!("CARGO_TARGET_TMPDIR"), "network");
    let disk = dir.join("disk.qcow2");
    overlay(&image_dir().join("lqx.raw"), &disk, 8 << 30).unwrap();

    let config = MachineConfig {
        drives: vec![Drive::Disk(disk.clone())],
        cmdline_extra: Some(cmdline(&bonded(), "lqx.test-network-confirm")),
        probe: true,
        extra_nics: 2,
        ..MachineConfig::default()
    };
    let m = Machine::start(&config, &dir.join("boot1")).await.unwrap();
    let report = m
        .report_where("the bonded configuration confirmed", BOOT, |r| {
            outcome(r) == Some(ApplyResult::Confirmed)
                && has_address(r, "bond0.100", "192.168.100.5")
        })
        .await
        .unwrap();
    let status = network(&report).unwrap();
    assert_eq!(status.applied, Some(bonded()));
    assert_eq!(status.backend, lqx_api::NetworkBackendKind::Networkd);
    let mgmt = interface(&report, "enp0s8").unwrap();
    let address = mgmt["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["address"] == "10.0.2.15")
        .expect("management address");
    assert_eq!(address["dynamic"], false, "static, not DHCP: {mgmt}");
    assert_eq!(interface(&report, "bond0").unwrap()["kind"], "bond");
    for member in ["enp0s9", "enp0s10"] {
        assert_eq!(interface(&report, member).unwrap()["controller"], "bond0");
    }
    assert_eq!(interface(&report, "bond0.100").unwrap()["kind"], "vlan");
    let host = report.host.as_ref().unwrap();
    assert_eq!(host["hostname"], "hv-net");
    let failed = report.field("failed");
    assert!(failed.is_empty(), "failed units: {failed}");
    m.power_off(Duration::from_secs(120)).await.unwrap();

    // Second boot: the confirmed configuration is what networkd brings
    // up; then one that moves management off the network is applied and
    // not confirmed.
    let mut breaking = bonded();
    breaking.links[0].ipv4 = static_v4("192.0.2.50/24", None);
    breaking.hostname = "hv-broken".into();
    let config = MachineConfig {
        cmdline_extra: Some(cmdline(&breaking, "lqx.test-network-timeout=30")),
        ..config
    };
    let m = Machine::start(&config, &dir.join("boot2")).await.unwrap();
    let report = m
        .report_where("the breaking configuration pending", BOOT, |r| {
            network(r).is_some_and(|n| n.pending.is_some())
                && has_address(r, "enp0s8", "192.0.2.50")
        })
        .await
        .unwrap();
    assert!(!has_address(&report, "enp0s8", "10.0.2.15"));
    let report = m
        .report_where(
            "the previous configuration back",
            Duration::from_secs(180),
            // The probe reads the host before the network state, so a
            // report can show the reverted outcome with the hostname of a
            // moment earlier: wait for all three.
            |r| {
                outcome(r) == Some(ApplyResult::RevertedTimeout)
                    && has_address(r, "enp0s8", "10.0.2.15")
                    && r.host.as_ref().is_some_and(|h| h["hostname"] == "hv-net")
            },
        )
        .await
        .unwrap();
    assert!(!has_address(&report, "enp0s8", "192.0.2.50"));
    let status = network(&report).unwrap();
    assert_eq!(status.applied, Some(bonded()));
    assert!(status.pending.is_none());
    m.power_off(Duration::from_secs(120)).await.unwrap();
}
