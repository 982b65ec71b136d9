//! Boots the test guest's disk image in plain QEMU (TCG, SeaBIOS, the image
//! as a virtio disk, a virtio-net NIC on user-mode networking) and waits for
//! its DHCP lease and a ping of the gateway on the serial console.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(120);

/// Guest memory, with headroom: Debian's kernel needs 88 MiB here (at 80
/// the guest runs out of memory during boot, at 64 it hangs unpacking the
/// kernel).
const MEMORY_MIB: &str = "128";

/// QEMU, killed when dropped (a failed assertion included).
struct Qemu(Child);

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn guest_boots_from_disk_gets_a_lease_and_pings_the_gateway() {
    let built = Instant::now();
    let image = lqx_test_support::guest::disk_image(&["10.0.2.2".parse().unwrap()]);
    let size = std::fs::metadata(&image).expect("image").len();
    eprintln!(
        "image {} ({:.1} MiB) in {:.2} s",
        image.display(),
        size as f64 / (1 << 20) as f64,
        built.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let mut qemu = Qemu(
        Command::new("qemu-system-x86_64")
            .args(["-accel", "tcg", "-machine", "q35", "-m", MEMORY_MIB])
            .args(["-nodefaults", "-display", "none", "-serial", "stdio"])
            // A reboot means the guest panicked: end the test now.
            .arg("-no-reboot")
            .arg("-drive")
            .arg(format!(
                "file={},format=raw,if=virtio,readonly=on",
                image.display()
            ))
            .args([
                "-netdev",
                "user,id=n0",
                "-device",
                "virtio-net-pci,netdev=n0",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run qemu-system-x86_64 (package qemu-system-x86)"),
    );
    let (tx, rx) = mpsc::channel();
    let stdout = qemu.0.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let mut console = Vec::new();
    let mut lease = None;
    let mut pinged = None;
    while pinged.is_none() {
        let left = TIMEOUT.saturating_sub(started.elapsed());
        let line = match rx.recv_timeout(left) {
            Ok(line) => line,
            Err(e) => panic!(
                "no lease and ping within {TIMEOUT:?} ({e}); console:\n{}",
                console.join("\n")
            ),
        };
        let line = line.trim_end_matches('\r').to_owned();
        if line.contains("LQX-GUEST ip=10.0.2.15/24 router=10.0.2.2") && lease.is_none() {
            lease = Some(started.elapsed());
        }
        if line.contains("LQX-GUEST ping 10.0.2.2 ok") {
            pinged = Some(started.elapsed());
        }
        console.push(line);
    }
    let lease = lease.unwrap_or_else(|| panic!("ping before lease?\n{}", console.join("\n")));
    eprintln!("{}", console.join("\n"));
    eprintln!(
        "QEMU start to lease: {:.1} s, to first ping ok: {:.1} s ({MEMORY_MIB} MiB, TCG)",
        lease.as_secs_f64(),
        pinged.unwrap_or_default().as_secs_f64()
    );
}
