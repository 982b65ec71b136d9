//! KVM when it works, TCG otherwise.

use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// QEMU accelerator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    /// Hardware virtualisation.
    Kvm,
    /// Software emulation.
    Tcg,
}

impl Accel {
    /// The `-accel` argument.
    pub fn arg(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

/// The accelerator to use: `LQX_QEMU_ACCEL=kvm|tcg` when set, otherwise
/// KVM if a probe boot reaches the firmware's shell, else TCG. Probed
/// once per process.
///
/// `/dev/kvm` existing is not enough: on some hosts guests hang or stop
/// with "KVM internal error", so the probe boots the firmware for real.
pub fn accel() -> Accel {
    static CHOICE: OnceLock<Accel> = OnceLock::new();
    *CHOICE.get_or_init(|| match std::env::var("LQX_QEMU_ACCEL").as_deref() {
        Ok("kvm") => Accel::Kvm,
        Ok("tcg") => Accel::Tcg,
        _ if kvm_boots() => Accel::Kvm,
        _ => Accel::Tcg,
    })
}

fn kvm_boots() -> bool {
    if std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_err()
    {
        return false;
    }
    let Ok(dir) = tempfile::tempdir() else {
        return false;
    };
    let log = dir.path().join("serial.log");
    let Ok(mut child) = Command::new("qemu-system-x86_64")
        .args([
            "-accel", "kvm", "-machine", "q35", "-m", "256", "-display", "none",
        ])
        .args(["-nodefaults", "-bios", "/usr/share/OVMF/OVMF_CODE.fd"])
        .arg("-serial")
        .arg(format!("file:{}", log.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut works = false;
    while Instant::now() < deadline {
        let text = std::fs::read(&log).unwrap_or_default();
        // With no boot device OVMF ends in its shell (or its boot manager).
        if text.windows(5).any(|w| w == b"Shell" || w == b"Boot ") {
            works = true;
            break;
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    works
}
