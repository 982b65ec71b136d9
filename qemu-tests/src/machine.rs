//! One QEMU machine: OVMF, virtio disks or a CD-ROM, user networking,
//! serial console and QMP on sockets in a private directory.

use crate::accel::accel;
use crate::probe::Report;
use crate::qmp::Qmp;
use crate::serial::Serial;
use crate::{HarnessError, io};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the built image and ISO are: `LQX_IMAGE_DIR`, or
/// `image-build/out` of this checkout.
pub fn image_dir() -> PathBuf {
    std::env::var_os("LQX_IMAGE_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../image-build/out"),
        PathBuf::from,
    )
}

/// A drive of the machine.
#[derive(Clone, Debug)]
pub enum Drive {
    /// A virtio disk backed by a file (raw or qcow2, detected by name).
    Disk(PathBuf),
    /// A read-only CD-ROM (SCSI) with an ISO.
    Cdrom(PathBuf),
}

/// What to boot.
#[derive(Clone, Debug)]
pub struct MachineConfig {
    /// Memory in MiB.
    pub memory_mib: u32,
    /// vCPUs.
    pub cpus: u32,
    /// Drives in boot order.
    pub drives: Vec<Drive>,
    /// Extra kernel command line, passed through SMBIOS to the UKI (honoured
    /// only without Secure Boot).
    pub cmdline_extra: Option<String>,
    /// TCP ports forwarded from the host's loopback: (host, guest).
    pub forwards: Vec<(u16, u16)>,
    /// Give the guest the `org.lqx.test` virtio-serial port its test probe
    /// reports on (the probe also needs `lqx.test-probe` on the command
    /// line).
    pub probe: bool,
    /// NICs beyond the first, each on its own restricted user-mode network.
    /// NICs sit at fixed PCI slots so their names are known: the first is
    /// enp0s8, the extra ones enp0s9, enp0s10, ...
    pub extra_nics: u8,
    /// Run QEMU inside this network namespace (`ip netns exec`): the
    /// guest's user-mode network then dials from there, and forwards
    /// listen there.
    pub netns: Option<String>,
}

impl Default for MachineConfig {
    fn default() -> Self {
        Self {
            memory_mib: 2048,
            cpus: 2,
            drives: vec![],
            cmdline_extra: None,
            forwards: vec![],
            probe: false,
            extra_nics: 0,
            netns: None,
        }
    }
}

/// A running QEMU process, killed when dropped.
pub struct Machine {
    child: Child,
    dir: PathBuf,
    /// The serial console (ttyS0).
    pub serial: Serial,
    /// QMP, for the display (tty1) and the keyboard.
    pub qmp: Qmp,
    /// The test probe's reports, when asked for.
    pub probe: Option<Serial>,
}

/// Creates a copy-on-write overlay of `base` of `size` bytes, so every
/// test boots a pristine image without copying it.
pub fn overlay(base: &Path, overlay: &Path, size: u64) -> Result<(), HarnessError> {
    let status = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-F", "raw", "-b"])
        .arg(base)
        .arg(overlay)
        .arg(size.to_string())
        .status()
        .map_err(io("run qemu-img"))?;
    if status.success() {
        Ok(())
    } else {
        Err(HarnessError::Qmp(format!(
            "qemu-img create failed: {status}"
        )))
    }
}

/// An empty directory `name` under `base` (a test's `CARGO_TARGET_TMPDIR`)
/// for a test's machines, logs and screenshots, kept after the test.
pub fn fresh_dir(base: &str, name: &str) -> PathBuf {
    let dir = Path::new(base).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// Creates an empty disk file of `size` bytes.
pub fn blank_disk(path: &Path, size: u64) -> Result<(), HarnessError> {
    std::fs::File::create(path)
        .and_then(|f| f.set_len(size))
        .map_err(io(format!("create {}", path.display())))
}

impl Machine {
    /// Starts QEMU in `dir` (which keeps the sockets, logs, firmware
    /// variables and screenshots) and connects to its console and QMP.
    pub async fn start(config: &MachineConfig, dir: &Path) -> Result<Self, HarnessError> {
        std::fs::create_dir_all(dir).map_err(io(format!("create {}", dir.display())))?;
        let vars = dir.join("OVMF_VARS.fd");
        if !vars.exists() {
            std::fs::copy("/usr/share/OVMF/OVMF_VARS.fd", &vars).map_err(io("copy OVMF vars"))?;
        }
        let (serial_sock, qmp_sock) = (dir.join("serial.sock"), dir.join("qmp.sock"));
        let _ = std::fs::remove_file(&serial_sock);
        let _ = std::fs::remove_file(&qmp_sock);
        let probe_sock = dir.join("probe.sock");
        let _ = std::fs::remove_file(&probe_sock);
        let mut cmd = match &config.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "qemu-system-x86_64"]);
                c
            }
            None => Command::new("qemu-system-x86_64"),
        };
        cmd.args(["-accel", accel().arg(), "-machine", "q35", "-cpu", "max"])
            .args([
                "-m",
                &config.memory_mib.to_string(),
                "-smp",
                &config.cpus.to_string(),
            ])
            .args(["-display", "none", "-vga", "std", "-nodefaults"])
            .arg("-drive")
            .arg("if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd")
            .arg("-drive")
            .arg(format!("if=pflash,format=raw,file={}", vars.display()))
            .arg("-chardev")
            .arg(format!(
                "socket,id=ser0,path={},server=on,wait=off",
                serial_sock.display()
            ))
            .args(["-serial", "chardev:ser0"])
            .arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", qmp_sock.display()))
            .args(["-device", "virtio-scsi-pci,id=scsi"]);
        if config.probe {
            cmd.args(["-device", "virtio-serial-pci,id=vser"])
                .arg("-chardev")
                .arg(format!(
                    "socket,id=probe,path={},server=on,wait=off",
                    probe_sock.display()
                ))
                .args(["-device", "virtserialport,chardev=probe,name=org.lqx.test"]);
        }
        let mut netdev = "user,id=net0".to_owned();
        for (host, guest) in &config.forwards {
            netdev.push_str(&format!(",hostfwd=tcp:127.0.0.1:{host}-:{guest}"));
        }
        cmd.arg("-netdev")
            .arg(netdev)
            .args(["-device", "virtio-net-pci,netdev=net0,addr=0x8"]);
        for n in 1..=config.extra_nics {
            cmd.arg("-netdev")
                .arg(format!("user,id=net{n},restrict=on"))
                .arg("-device")
                .arg(format!("virtio-net-pci,netdev=net{n},addr={:#x}", 8 + n));
        }
        for (i, drive) in config.drives.iter().enumerate() {
            match drive {
                Drive::Disk(path) => {
                    let format = if path.extension().is_some_and(|e| e == "qcow2") {
                        "qcow2"
                    } else {
                        "raw"
                    };
                    cmd.arg("-drive").arg(format!(
                        "file={},format={format},if=none,id=d{i},cache=unsafe",
                        path.display()
                    ));
                    cmd.arg("-device")
                        .arg(format!("virtio-blk-pci,drive=d{i},bootindex={i}"));
                }
                Drive::Cdrom(path) => {
                    cmd.arg("-drive").arg(format!(
                        "file={},format=raw,if=none,id=d{i},media=cdrom,readonly=on",
                        path.display()
                    ));
                    cmd.arg("-device")
                        .arg(format!("scsi-cd,drive=d{i},bootindex={i}"));
                }
            }
        }
        if let Some(extra) = &config.cmdline_extra {
            cmd.arg("-smbios").arg(format!(
                "type=11,value=io.systemd.stub.kernel-cmdline-extra={extra}"
            ));
        }
        let stderr = std::fs::File::create(dir.join("qemu.log")).map_err(io("qemu log"))?;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(io("start qemu-system-x86_64"))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while !(serial_sock.exists() && qmp_sock.exists()) {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(dir.join("qemu.log")).unwrap_or_default();
                return Err(HarnessError::Qmp(format!(
                    "QEMU exited with {status}: {log}"
                )));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(HarnessError::Qmp("QEMU did not create its sockets".into()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let serial = Serial::connect(&serial_sock, &dir.join("serial.log")).await?;
        let qmp = Qmp::connect(&qmp_sock).await?;
        let probe = if config.probe {
            Some(Serial::connect(&probe_sock, &dir.join("probe.log")).await?)
        } else {
            None
        };
        Ok(Self {
            child,
            dir: dir.to_owned(),
            serial,
            qmp,
            probe,
        })
    }

    /// Saves tty1 as `<dir>/<name>.png` and returns the path.
    pub async fn screenshot(&mut self, name: &str) -> Result<PathBuf, HarnessError> {
        let path = self.dir.join(format!("{name}.png"));
        self.qmp.screendump(&path).await?;
        Ok(path)
    }

    /// Waits for the next complete probe report after now. A report the
    /// guest was in the middle of writing (or that a reboot cut off) is
    /// skipped.
    pub async fn probe_report(&self, timeout: Duration) -> Result<Report, HarnessError> {
        let probe = self
            .probe
            .as_ref()
            .ok_or_else(|| HarnessError::Qmp("machine started without the probe port".into()))?;
        let mark = probe.mark();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(report) = Report::parse(&probe.text_after(mark)) {
                return Ok(report);
            }
            if Instant::now() > deadline {
                return Err(HarnessError::Timeout {
                    what: "a complete report of the test probe".into(),
                    seconds: timeout.as_secs(),
                    tail: self.serial.tail(3000),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits, report after report, until one satisfies `ready`; fails
    /// with the last report after `timeout`.
    pub async fn report_where(
        &self,
        what: &str,
        timeout: Duration,
        ready: impl Fn(&Report) -> bool,
    ) -> Result<Report, HarnessError> {
        let deadline = Instant::now() + timeout;
        loop {
            let report = self.probe_report(timeout).await?;
            if ready(&report) {
                return Ok(report);
            }
            if Instant::now() > deadline {
                return Err(HarnessError::Timeout {
                    what: what.to_owned(),
                    seconds: timeout.as_secs(),
                    tail: format!("{report:#?}"),
                });
            }
        }
    }

    /// The directory holding this machine's logs and screenshots.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Waits until QEMU exits (the guest powered off), up to `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Result<(), HarnessError> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(HarnessError::Timeout {
            what: "QEMU to exit".into(),
            seconds: timeout.as_secs(),
            tail: self.serial.tail(2000),
        })
    }

    /// Presses the ACPI power button and waits for the guest to power off
    /// cleanly (the disks are then consistent for the next boot).
    pub async fn power_off(mut self, timeout: Duration) -> Result<(), HarnessError> {
        self.qmp
            .execute("system_powerdown", serde_json::json!({}))
            .await?;
        self.wait_exit(timeout).await
    }

    /// Kills QEMU now.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        self.kill();
    }
}
