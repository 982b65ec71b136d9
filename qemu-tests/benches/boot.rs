//! Boot-to-console time of the appliance next to a stock minimal Debian
//! trixie image (built by `image-build/stock/`), same QEMU settings, same
//! run. Run with `cargo xtask bench-image`, which builds both first.
//! Prints figures; asserts nothing.

use lqx_qemu_tests::{Drive, Machine, MachineConfig, accel, image_dir, overlay};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ROUNDS: usize = 2;
const TIMEOUT: Duration = Duration::from_secs(900);

/// Boots `image` on a fresh copy-on-write disk and returns the seconds
/// until `ready` is seen on the serial line.
async fn boot(image: &Path, dir: &Path, ready: &str, screen: bool) -> f64 {
    let disk = dir.join("disk.qcow2");
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    overlay(image, &disk, 8 << 30).unwrap();
    let config = MachineConfig {
        drives: vec![Drive::Disk(disk)],
        ..MachineConfig::default()
    };
    let start = Instant::now();
    let m = Machine::start(&config, dir).await.unwrap();
    if screen {
        m.serial.wait_for_screen(ready, TIMEOUT).await.unwrap();
    } else {
        m.serial.wait_for(ready, TIMEOUT).await.unwrap();
    }
    start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let ours = image_dir().join("lqx.raw");
    let stock = std::env::var_os("LQX_STOCK_IMAGE").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../image-build/mkosi.output/stock/stock.raw")
        },
        PathBuf::from,
    );
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-boot");
    let (mut a, mut b) = (vec![], vec![]);
    for round in 0..ROUNDS {
        // The console is up when its status screen shows the host id row
        // (not "Hostname": systemd prints "Hostname Service" while booting).
        a.push(
            boot(
                &ours,
                &work.join(format!("lqx-{round}")),
                "Host ID      ",
                true,
            )
            .await,
        );
        b.push(
            boot(
                &stock,
                &work.join(format!("stock-{round}")),
                "login:",
                false,
            )
            .await,
        );
    }
    println!(
        "boot to console, first boot of a fresh disk ({:?}, 2 vCPUs, 2 GiB, OVMF)",
        accel()
    );
    println!(
        "  appliance (console drawn):  {a:.1?} s, median {:.1} s",
        median(a.clone())
    );
    println!(
        "  stock trixie (login:):      {b:.1?} s, median {:.1} s",
        median(b.clone())
    );
    println!("  ratio appliance/stock:      {:.2}", median(a) / median(b));
}
