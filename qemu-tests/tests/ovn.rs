//! The booted appliance registers as an OVN chassis with a southbound
//! database on the test machine (reached through QEMU's user network at
//! 10.0.2.2): lqxd starts openvswitch and ovn-controller over D-Bus,
//! writes the settings over OVSDB, and `ovn-sbctl` on the test machine
//! finds the chassis with the guest's address as its Geneve endpoint.

use lqx_api::ChassisStatus;
use lqx_qemu_tests::{Drive, Machine, MachineConfig, Report, fresh_dir, image_dir, overlay};
use lqx_test_support::ovn::{OvnCentral, sbctl};
use std::time::Duration;

const BOOT: Duration = Duration::from_secs(900);

fn status(report: &Report) -> Option<ChassisStatus> {
    serde_json::from_str(report.field("ovn")).ok()
}

#[tokio::test]
async fn appliance_registers_as_a_chassis() {
    let central = OvnCentral::start();
    let port = central.sb.server.port;
    let dir = fresh_dir(env!("CARGO_TARGET_TMPDIR"), "ovn");
    let disk = dir.join("disk.qcow2");
    overlay(&image_dir().join("lqx.raw"), &disk, 8 << 30).unwrap();
    let config = MachineConfig {
        drives: vec![Drive::Disk(disk)],
        cmdline_extra: Some(format!(
            "lqx.test-probe lqx.test-ovn=tcp:10.0.2.2:{port} lqx.test-ovn-encap=10.0.2.15"
        )),
        probe: true,
        ..MachineConfig::default()
    };
    let m = Machine::start(&config, &dir.join("machine")).await.unwrap();
    let report = m
        .report_where("the chassis registered", BOOT, |r| {
            status(r).is_some_and(|s| s.chassis_present)
        })
        .await
        .unwrap();
    let s = status(&report).unwrap();
    assert!(s.ovs_configured && s.sb_reachable, "{s:?}");
    assert_eq!(s.encaps, vec!["geneve 10.0.2.15"]);
    let host_id = report.host.as_ref().unwrap()["host_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(s.config.as_ref().unwrap().system_id, host_id);

    // Independently, on the test machine.
    let sb = central.sb.server.unix_remote();
    assert_eq!(
        sbctl(
            &sb,
            &[
                "--bare",
                "--columns=name",
                "find",
                "Chassis",
                &format!("name={host_id}")
            ]
        ),
        host_id
    );
    assert_eq!(
        sbctl(
            &sb,
            &[
                "--bare",
                "--columns=ip",
                "find",
                "Encap",
                &format!("chassis_name={host_id}")
            ]
        ),
        "10.0.2.15"
    );
    assert_eq!(report.field("failed"), "", "{report:#?}");
    m.power_off(Duration::from_secs(120)).await.unwrap();
}
