//! The ISO, written to a stick (here: attached as a third disk), boots
//! live into the console, which installs the system onto a disk chosen
//! with keys on the serial console; refused choices (the stick itself, a
//! disk too small, a mistyped name, Esc) write nothing; the machine then
//! boots the installed system from the chosen disk.

use lqx_qemu_tests::{Drive, Machine, MachineConfig, blank_disk, fresh_dir, image_dir};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

const BOOT: Duration = Duration::from_secs(900);
const ENTER: &[u8] = b"\r";
const ESC: &[u8] = b"\x1b";
const DOWN: &[u8] = b"\x1b[B";

fn allocated(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().blocks() * 512
}

/// Sends keys, then waits for `expect` to be on the serial terminal.
async fn keys(m: &Machine, bytes: &[u8], expect: &str, timeout: Duration) {
    m.serial.send(bytes).await.unwrap();
    m.serial.wait_for_screen(expect, timeout).await.unwrap();
}

#[tokio::test]
async fn iso_installs_onto_a_disk_chosen_on_the_console() {
    let dir = fresh_dir(env!("CARGO_TARGET_TMPDIR"), "iso-install");
    let target = dir.join("target.raw");
    let small = dir.join("small.raw");
    blank_disk(&target, 10 << 30).unwrap();
    blank_disk(&small, 4 << 30).unwrap();
    // A copy, so that an install onto the stick could be detected.
    let stick = dir.join("stick.raw");
    std::fs::copy(image_dir().join("lqx.iso"), &stick).unwrap();
    let stick_before = std::fs::read(&stick).unwrap();
    let config = MachineConfig {
        // The blank disks come first in the boot order: the firmware skips
        // them until one holds a system.
        drives: vec![
            Drive::Disk(target.clone()),
            Drive::Disk(small.clone()),
            Drive::Disk(stick.clone()),
        ],
        // The probe writes this label through the API once the agent answers;
        // on the installed system it must survive a power cycle.
        cmdline_extra: Some("lqx.test-probe lqx.test-label=installed=yes".into()),
        probe: true,
        ..MachineConfig::default()
    };
    let mut m = Machine::start(&config, &dir.join("machine")).await.unwrap();

    let live = m
        .report_where("the live system", BOOT, |r| r.host.is_some())
        .await
        .unwrap();
    assert_eq!(
        live.field("root").split(' ').nth(1),
        Some("tmpfs"),
        "{live:#?}"
    );
    assert_eq!(live.field("failed"), "", "{live:#?}");
    m.serial.wait_for_screen("Live system", BOOT).await.unwrap();
    m.screenshot("live-status").await.unwrap();

    // The install screen lists the disks; the small one and the stick the
    // system runs from are refused.
    keys(&m, b"i", "Choose the disk", Duration::from_secs(60)).await;
    keys(&m, DOWN, "vdb", Duration::from_secs(30)).await;
    keys(
        &m,
        ENTER,
        "vdb cannot be used: too small",
        Duration::from_secs(30),
    )
    .await;
    // The stick the live system runs from.
    keys(&m, DOWN, "vdc", Duration::from_secs(30)).await;
    keys(&m, ENTER, "vdc cannot be used", Duration::from_secs(30)).await;
    assert!(
        m.serial.screen().contains("mounted"),
        "{}",
        m.serial.screen()
    );

    // vda: a wrong name, then cancel. Nothing is written.
    keys(&m, b"\x1b[A\x1b[A", "vda", Duration::from_secs(30)).await;
    keys(
        &m,
        ENTER,
        "Type the disk name (vda)",
        Duration::from_secs(30),
    )
    .await;
    keys(
        &m,
        b"vdb\r",
        "type the disk's name exactly",
        Duration::from_secs(30),
    )
    .await;
    keys(
        &m,
        ESC,
        "Cancelled; nothing was written.",
        Duration::from_secs(30),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        allocated(&target),
        0,
        "cancelled install wrote to the target"
    );
    assert_eq!(allocated(&small), 0, "refused disk was written");

    // The real thing.
    keys(
        &m,
        ENTER,
        "Type the disk name (vda)",
        Duration::from_secs(30),
    )
    .await;
    m.screenshot("install-confirm").await.unwrap();
    keys(&m, b"vda\r", "Installed onto vda and verified", BOOT).await;
    m.screenshot("install-done").await.unwrap();
    assert!(allocated(&target) > 100 << 20, "the system was written");
    assert_eq!(allocated(&small), 0);
    assert!(
        std::fs::read(&stick).unwrap() == stick_before,
        "the stick is unchanged"
    );

    // Enter reboots; the firmware now finds the installed system first.
    m.serial.send(ENTER).await.unwrap();
    let installed = m
        .report_where("the installed system", BOOT, |r| {
            r.field("root").contains("ext4") && r.host.is_some()
        })
        .await
        .unwrap();
    assert!(
        installed.field("usr").contains("/dev/mapper/usr"),
        "{installed:#?}"
    );
    assert_eq!(installed.field("failed"), "", "{installed:#?}");
    assert_eq!(installed.field("lqxd"), "active");
    let host = installed.host.clone().unwrap();
    assert_eq!(host["agent"]["mode"], "appliance");
    let host_id = host["host_id"].as_str().unwrap().to_owned();
    assert!(
        installed.tty1.contains(&host_id),
        "the console shows the installed host:\n{}",
        installed.tty1
    );
    m.screenshot("installed-status").await.unwrap();

    // A label written through the API on the installed system survives a
    // clean power-off and a boot without the probe's label argument.
    m.report_where("the label write", BOOT, |r| {
        r.host
            .as_ref()
            .is_some_and(|h| h["labels"]["installed"] == "yes")
    })
    .await
    .unwrap();
    m.power_off(Duration::from_secs(300)).await.unwrap();
    let config = MachineConfig {
        cmdline_extra: Some("lqx.test-probe".into()),
        ..config
    };
    let m = Machine::start(&config, &dir.join("machine-again"))
        .await
        .unwrap();
    let again = m
        .report_where("the installed system, booted again", BOOT, |r| {
            r.host.is_some()
        })
        .await
        .unwrap();
    let host = again.host.clone().unwrap();
    assert_eq!(host["host_id"], host_id.as_str(), "identity kept");
    assert_eq!(host["labels"]["installed"], "yes", "state kept");
    assert_eq!(again.field("failed"), "");
}
