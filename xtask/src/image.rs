//! Building the appliance image and booting it.

use crate::shell::{cargo, root, run, target_dir};
use std::path::PathBuf;
use std::process::Command;

/// Where `image-build/build.sh` leaves the raw image and the ISO.
pub fn out_dir() -> PathBuf {
    root().join("image-build/out")
}

/// Installs the image build's host tools (mkosi, QEMU, OVMF, ...) when
/// missing.
pub fn setup_host() -> Result<(), String> {
    run(&mut Command::new(root().join("image-build/setup-host.sh")))
}

/// Installs the image build's host tools, builds our binaries in release
/// mode and builds the image and ISO.
pub fn build() -> Result<(), String> {
    setup_host()?;
    crate::packages::ensure(crate::packages::BUILD)?;
    cargo(&[
        "build",
        "--release",
        "-p",
        "lqxd",
        "-p",
        "lqx",
        "-p",
        "lqx-console",
    ])?;
    let mut cmd = Command::new(root().join("image-build/build.sh"));
    cmd.env("LQX_BIN_DIR", target_dir().join("release"));
    // CI clones afresh every run: keep mkosi's package and tree caches
    // outside the clone when told where.
    if let Some(cache) = std::env::var_os("LQX_CACHE_DIR") {
        let cache = PathBuf::from(cache).join("mkosi");
        std::fs::create_dir_all(cache.join("packages")).map_err(|e| e.to_string())?;
        cmd.env(
            "MKOSI_ARGS",
            format!(
                "--cache-dir {} --package-cache-dir {}",
                cache.display(),
                cache.join("packages").display()
            ),
        );
    }
    run(&mut cmd)
}

/// Runs the QEMU tests against the built image.
pub fn test() -> Result<(), String> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root()).env("LQX_IMAGE_DIR", out_dir());
    if crate::shell::has_nextest() {
        // One machine at a time: each wants both cores.
        cmd.args([
            "nextest",
            "run",
            "-p",
            "lqx-qemu-tests",
            "--no-fail-fast",
            "--test-threads",
            "1",
        ]);
    } else {
        cmd.args(["test", "-p", "lqx-qemu-tests", "--", "--test-threads", "1"]);
    }
    run(&mut cmd)
}

/// Boots the raw image in QEMU with its serial console in this terminal
/// (on a fresh copy-on-write disk each time).
pub fn boot() -> Result<(), String> {
    let dir = target_dir().join("lqx-run");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let disk = dir.join("disk.qcow2");
    let _ = std::fs::remove_file(&disk);
    run(Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-F", "raw", "-b"])
        .arg(out_dir().join("lqx.raw"))
        .arg(&disk)
        .arg("16G"))?;
    let vars = dir.join("OVMF_VARS.fd");
    std::fs::copy("/usr/share/OVMF/OVMF_VARS.fd", &vars).map_err(|e| e.to_string())?;
    let accel = if std::env::var("LQX_QEMU_ACCEL").as_deref() == Ok("kvm") {
        "kvm"
    } else {
        "tcg"
    };
    eprintln!(
        "Booting the appliance (accel {accel}); its console is on this terminal. \
         Quit with Ctrl-A then X."
    );
    run(Command::new("qemu-system-x86_64")
        .args([
            "-accel", accel, "-machine", "q35", "-cpu", "max", "-m", "4096", "-smp", "2",
        ])
        .args(["-display", "none", "-serial", "mon:stdio"])
        .arg("-drive")
        .arg("if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd")
        .arg("-drive")
        .arg(format!("if=pflash,format=raw,file={}", vars.display()))
        .arg("-drive")
        .arg(format!("file={},format=qcow2,if=virtio", disk.display()))
        .args(["-nic", "user,model=virtio-net-pci"]))
}

fn size_line(path: &std::path::Path) -> String {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(m) => format!(
            "{:>7.1} MiB apparent, {:>7.1} MiB allocated  {}",
            m.len() as f64 / 1048576.0,
            (m.blocks() * 512) as f64 / 1048576.0,
            path.display()
        ),
        Err(e) => format!("{}: {e}", path.display()),
    }
}

/// `cargo xtask bench-image`: build times and sizes of the appliance and
/// of a stock minimal trixie image, then their boot-to-console times.
pub fn bench() -> Result<(), String> {
    let t = std::time::Instant::now();
    build()?;
    let ours = t.elapsed();
    let t = std::time::Instant::now();
    let mut stock = Command::new("mkosi");
    stock
        .current_dir(root().join("image-build/stock"))
        .arg("-f");
    if let Some(cache) = std::env::var_os("LQX_CACHE_DIR") {
        let cache = PathBuf::from(cache).join("mkosi");
        stock
            .arg("--package-cache-dir")
            .arg(cache.join("packages"))
            .arg("--cache-dir")
            .arg(cache.join("stock"));
    }
    run(stock.arg("build"))?;
    let stock_time = t.elapsed();
    let stock_raw = root().join("image-build/mkosi.output/stock/stock.raw");
    println!(
        "build (mkosi caches as left by earlier builds; appliance includes cargo release build)"
    );
    println!("  appliance: {:.0} s", ours.as_secs_f64());
    println!("  stock:     {:.0} s", stock_time.as_secs_f64());
    println!("sizes");
    println!("  appliance raw {}", size_line(&out_dir().join("lqx.raw")));
    println!("  appliance ISO {}", size_line(&out_dir().join("lqx.iso")));
    println!("  stock raw     {}", size_line(&stock_raw));
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root())
        .env("LQX_IMAGE_DIR", out_dir())
        .env("LQX_STOCK_IMAGE", &stock_raw)
        .args(["bench", "-p", "lqx-qemu-tests", "--bench", "boot"]);
    run(&mut cmd)
}
