//! Debian packages the build and the tests need, installed only when
//! missing so that a prepared machine pays nothing.

use crate::shell::run;
use std::process::Command;

/// Needed by `cargo xtask test`: `ip` checks the agent's network facts
/// independently; `tmux` runs the real console binary in a terminal.
pub const TEST: &[&str] = &[
    "iproute2",
    "pkg-config",
    "libsystemd-dev",
    "tmux",
    "curl",
    // Real OVSDB servers, ovs-vsctl and ovn-nbctl for the OVSDB client's tests.
    "openvswitch-switch",
    "ovn-central",
    "ovn-host",
];

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f", "${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// Installs the missing ones of `packages` (as root, non-interactive).
pub fn ensure(packages: &[&str]) -> Result<(), String> {
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("installing missing packages: {}", missing.join(" "));
    let apt = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.env("DEBIAN_FRONTEND", "noninteractive")
            .args(["-o", "DPkg::Lock::Timeout=600", "-q", "-y"])
            .args(args);
        run(&mut cmd)
    };
    apt(&["update"])?;
    let mut args = vec!["install", "--no-install-recommends"];
    args.extend(&missing);
    apt(&args)
}
