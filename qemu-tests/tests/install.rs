//! The ISO boots live into the console, which installs the system onto a
//! disk chosen with keys on the serial console; refused choices write
//! nothing; the machine then boots the installed system from that disk.

use lqx_qemu_tests::{Drive, Machine, MachineConfig, Report, blank_disk, image_dir};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const BOOT: Duration = Duration::from_secs(900);
const ENTER: &[u8] = b"\r";
const ESC: &[u8] = b"\x1b";
const DOWN: &[u8] = b"\x1b[B";

fn artifacts(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn allocated(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().blocks() * 512
}

async fn report_where(m: &Machine, what: &str, ready: impl Fn(&Report) -> bool) -> Report {
    let deadline = Instant::now() + BOOT;
    loop {
        let report = m.probe_report(BOOT).await.unwrap();
        if ready(&report) {
            return report;
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting for {what}: {report:#?}"
        );
    }
}

/// Sends keys, then waits for `expect` to be on the serial terminal.
async fn keys(m: &Machine, bytes: &[u8], expect: &str, timeout: Duration) {
    m.serial.send(bytes).await.unwrap();
    m.serial.wait_for_screen(expect, timeout).await.unwrap();
}

#[tokio::test]
async fn iso_installs_onto_a_disk_chosen_on_the_console() {
    let dir = artifacts("iso-install");
    let target = dir.join("target.raw");
    let small = dir.join("small.raw");
    blank_disk(&target, 10 << 30).unwrap();
    blank_disk(&small, 4 << 30).unwrap();
    let config = MachineConfig {
        // The blank disks come first in the boot order: the firmware skips
        // them until one holds a system.
        drives: vec![
            Drive::Disk(target.clone()),
            Drive::Disk(small.clone()),
            Drive::Cdrom(image_dir().join("lqx.iso")),
        ],
        cmdline_extra: Some("lqx.test-probe".into()),
        probe: true,
        ..MachineConfig::default()
    };
    let mut m = Machine::start(&config, &dir.join("machine")).await.unwrap();

    let live = report_where(&m, "the live system", |r| r.host.is_some()).await;
    assert_eq!(
        live.field("root").split(' ').nth(1),
        Some("tmpfs"),
        "{live:#?}"
    );
    assert_eq!(live.field("failed"), "", "{live:#?}");
    m.serial.wait_for_screen("Live system", BOOT).await.unwrap();
    m.screenshot("live-status").await.unwrap();

    // The install screen lists both disks; the small one is refused.
    keys(&m, b"i", "Choose the disk", Duration::from_secs(60)).await;
    keys(&m, DOWN, "vdb", Duration::from_secs(30)).await;
    keys(
        &m,
        ENTER,
        "vdb cannot be used: too small",
        Duration::from_secs(30),
    )
    .await;

    // vda: a wrong name, then cancel. Nothing is written.
    keys(&m, b"\x1b[A", "vda", Duration::from_secs(30)).await;
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

    // Enter reboots; the firmware now finds the installed system first.
    m.serial.send(ENTER).await.unwrap();
    let installed = report_where(&m, "the installed system", |r| {
        r.field("root").contains("ext4") && r.host.is_some()
    })
    .await;
    assert!(
        installed.field("usr").contains("/dev/mapper/usr"),
        "{installed:#?}"
    );
    assert_eq!(installed.field("failed"), "", "{installed:#?}");
    assert_eq!(installed.field("lqxd"), "active");
    let host = installed.host.unwrap();
    assert_eq!(host["agent"]["mode"], "appliance");
    m.screenshot("installed-status").await.unwrap();
}
