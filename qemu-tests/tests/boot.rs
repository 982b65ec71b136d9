//! The built appliance image boots to its console, runs its agent with
//! nothing failed, keeps /usr read-only, and keeps its state across a
//! reboot. Needs the image from `image-build/build.sh` (see
//! `lqx_qemu_tests::image_dir`); `cargo xtask test` builds it first.

use lqx_qemu_tests::{Drive, Machine, MachineConfig, fresh_dir, image_dir, overlay};
use std::time::Duration;

/// Generous: first boot under TCG on a loaded 2-core machine takes up to
/// two minutes; repart and the factory copy run first.
const BOOT: Duration = Duration::from_secs(900);

#[tokio::test]
async fn raw_image_boots_to_the_console_and_keeps_state_across_reboot() {
    let dir = fresh_dir(env!("CARGO_TARGET_TMPDIR"), "raw-boot");
    let disk = dir.join("disk.qcow2");
    overlay(&image_dir().join("lqx.raw"), &disk, 8 << 30).unwrap();

    // First boot: also sets a label through the API (the probe does, from
    // the command line), to be found again after the reboot.
    let config = MachineConfig {
        drives: vec![Drive::Disk(disk.clone())],
        cmdline_extra: Some("lqx.test-probe lqx.test-label=boot-check=first".into()),
        probe: true,
        ..MachineConfig::default()
    };
    let mut m = Machine::start(&config, &dir.join("boot1")).await.unwrap();
    let report = m
        .report_where("the console showing a DHCP address", BOOT, |r| {
            r.tty1.contains("Management") && r.tty1.contains("10.0.2.15")
        })
        .await
        .unwrap();
    let shot = m.screenshot("tty1-status").await.unwrap();
    assert!(std::fs::metadata(&shot).unwrap().len() > 0);

    let host = report.host.clone().expect("lqx host show --json answered");
    let hostname = host["hostname"].as_str().unwrap().to_owned();
    let host_id = host["host_id"].as_str().unwrap().to_owned();
    assert!(
        report.tty1.contains(&hostname),
        "tty1 shows the host name:\n{}",
        report.tty1
    );
    assert!(
        report.tty1.contains(&host_id),
        "tty1 shows the host id:\n{}",
        report.tty1
    );
    // The same console runs on the serial line.
    m.serial
        .wait_for("10.0.2.15", Duration::from_secs(60))
        .await
        .unwrap();
    m.serial
        .wait_for(&hostname, Duration::from_secs(60))
        .await
        .unwrap();

    assert_eq!(report.field("lqxd"), "active", "{report:#?}");
    assert_eq!(report.field("console-tty1"), "active");
    assert_eq!(report.field("console-ttyS0"), "active");
    assert_eq!(report.field("failed"), "", "failed units: {report:#?}");
    assert_eq!(report.field("gettys"), "", "no login prompt anywhere");
    let usr = report.field("usr");
    assert!(
        usr.contains("erofs") && usr.split([' ', ',']).any(|o| o == "ro"),
        "/usr: {usr}"
    );
    assert_eq!(host["agent"]["mode"], "appliance");

    // Clean power-off (ACPI button), then boot the same disk again.
    m.report_where("the label write", BOOT, |r| {
        r.host
            .as_ref()
            .is_some_and(|h| h["labels"]["boot-check"] == "first")
    })
    .await
    .unwrap();
    m.power_off(Duration::from_secs(300)).await.unwrap();

    let config = MachineConfig {
        cmdline_extra: Some("lqx.test-probe".into()),
        ..config
    };
    let m = Machine::start(&config, &dir.join("boot2")).await.unwrap();
    let report = m
        .report_where("lqxd after the reboot", BOOT, |r| r.host.is_some())
        .await
        .unwrap();
    let host = report.host.clone().unwrap();
    assert_eq!(host["host_id"], host_id.as_str(), "identity kept");
    assert_eq!(
        host["labels"]["boot-check"], "first",
        "state written before the reboot"
    );
    assert_eq!(report.field("failed"), "");
}
