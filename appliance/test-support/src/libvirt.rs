//! A real `libvirtd` (Debian's monolithic daemon, QEMU driver) whose whole
//! state lives in the fixture's private directory.
//!
//! libvirt's paths are compiled in, so the daemon runs in its own mount
//! namespace where `/etc/libvirt`, `/run/libvirt`, `/var/lib/libvirt`,
//! `/var/log/libvirt` and `/var/cache/libvirt` are bind mounts of
//! directories in the fixture's tempdir; the socket is therefore reachable
//! from outside at `DIR/run/libvirt-sock`. It also runs in its own PID
//! namespace, under a shell that is the namespace's init: QEMU processes
//! (which libvirt daemonises) are reparented to that shell and reaped as
//! soon as they exit — without that, each destroy waits ~2 s for a zombie —
//! and killing the fixture's direct child (`unshare --kill-child`) takes
//! the namespace down, so every QEMU it started dies with it.
//!
//! The `qemu.conf` settings, each needed on a host without systemd as init:
//! QEMU's stdio to files (no virtlogd), no cgroups, no per-VM mount
//! namespaces, no security driver, QEMU as root (as another user, libvirt
//! kept re-probing QEMU's capabilities: ~50 s per define). libvirtd is
//! pinned to one CPU: the capabilities cache records the host CPU, and two
//! vCPUs reporting different CPUID invalidate it on every start.
//!
//! Measured on the 2-core CI-class machine (libvirt 9.0, QEMU 10.0): ready
//! in 0.13–0.16 s when the QEMU capabilities cache is warm, 1.39–1.41 s
//! when libvirtd must probe QEMU first. Fixtures share the probe's result
//! through a cache directory under the system temp dir (libvirt checks each
//! entry against the QEMU binary and host, and re-probes a stale one).
//! Through the `virt` crate, a 64 MiB `type='qemu'` domain defines in
//! 2–6 ms, starts in 0.28–0.32 s (0.35 s with an RBD disk) and is destroyed
//! in 0.2 s; dropping the fixture takes 3–6 ms.
//!
//! Needs `libvirt-daemon-system` (it creates the `libvirt-qemu` user that
//! libvirtd resolves before reading `qemu.conf`, even when QEMU runs as
//! root), `libvirt-daemon-driver-qemu`, `libvirt-clients` and
//! `qemu-system-x86`. Domains must be `type='qemu'` (TCG) and, with
//! libvirt 9.0 and QEMU ≥ 9, carry `<features><acpi/></features>`.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The directories libvirtd uses, and the fixture's subdirectory mounted
/// over each.
const PRIVATE_DIRS: [(&str, &str); 5] = [
    ("/etc/libvirt", "etc"),
    ("/run/libvirt", "run"),
    ("/var/lib/libvirt", "lib"),
    ("/var/log/libvirt", "log"),
    ("/var/cache/libvirt", "cache"),
];

const LIBVIRTD_CONF: &str = r#"# Written by lqx-test-support.
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_rw_perms = "0700"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
"#;

const QEMU_CONF: &str = r#"# Written by lqx-test-support.
stdio_handler = "file"
cgroup_controllers = [ ]
namespaces = [ ]
security_driver = "none"
user = "+0"
group = "+0"
"#;

/// `QEMU_CONF` with a VNC port range of this fixture's own: every
/// libvirtd allocates from 5900 believing it alone on the machine, and
/// fixtures running at once (tests in parallel, two hosts in one test)
/// would hand QEMUs the same port.
fn qemu_conf() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let slot =
        (std::process::id().wrapping_mul(7) + NEXT.fetch_add(1, Ordering::Relaxed) * 131) % 500;
    let min = 6000 + slot * 100;
    format!(
        "{QEMU_CONF}remote_display_port_min = {min}\nremote_display_port_max = {}\n",
        min + 99
    )
}

/// Runs as init of the new PID namespace: private mounts, then libvirtd as
/// its child. `wait` returns when libvirtd exits, and meanwhile the shell
/// reaps every orphan (QEMU) that is reparented to it. A missing mount
/// point (`/run/libvirt` after a reboot) is created empty on the host: the
/// only trace the fixture leaves outside its directory.
const INIT_SCRIPT: &str = r#"set -e
dir=$1
shift
while [ $# -gt 1 ]; do
    case "$2" in
    /*) src=$2 ;;
    *) src=$dir/$2 ;;
    esac
    mkdir -p "$1"
    mount --bind "$src" "$1"
    shift 2
done
# The first CPU this process may use: CPU 0 unless a cpuset says otherwise.
cpu=$(taskset -pc $$ | sed 's/.*: //; s/[-,].*//')
taskset -c "$cpu" libvirtd --pid-file "$dir/libvirtd.pid" &
wait $!
"#;

/// A running libvirtd with its state in a private directory.
///
/// Drop it on the thread that started it: the daemon is also killed when
/// that thread ends (the parent-death signal follows the thread, not the
/// process), so a fixture started on a short-lived helper thread would
/// die with it.
pub struct LibvirtdFixture {
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl LibvirtdFixture {
    /// Starts libvirtd and waits until it answers `virsh version` (its QEMU
    /// driver is then initialised).
    pub fn start() -> Self {
        Self::start_in(vec![], &[])
    }

    /// Starts libvirtd through `prefix` (`ip netns exec NS`: the taps of
    /// its VMs are then made in that namespace) with `mounts` too: pairs of
    /// a path in libvirtd's view and the directory mounted there (such as
    /// a host's OVS run directory on `/run/openvswitch`, where the
    /// `ovs-vsctl` libvirt runs finds its database).
    pub fn start_in(prefix: Vec<String>, mounts: &[(&str, &Path)]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("libvirtd-fixture-")
            .tempdir()
            .expect("temporary directory");
        let d = dir.path();
        for (_, sub) in PRIVATE_DIRS {
            std::fs::create_dir_all(d.join(sub)).expect("fixture directories");
        }
        std::fs::write(d.join("etc/libvirtd.conf"), LIBVIRTD_CONF).expect("libvirtd.conf");
        std::fs::write(d.join("etc/qemu.conf"), qemu_conf()).expect("qemu.conf");
        capabilities_cache::seed(&d.join("cache"));

        let out = std::fs::File::create(d.join("libvirtd.out")).expect("output file");
        // setpriv: should the test process die without dropping the
        // fixture (an abort, a timeout's SIGKILL), unshare gets SIGKILL and
        // the namespace goes with it instead of leaving QEMUs running.
        let mut cmd = match prefix.split_first() {
            Some((first, rest)) => {
                let mut cmd = Command::new(first);
                cmd.args(rest).arg("setpriv");
                cmd
            }
            None => Command::new("setpriv"),
        };
        let child = cmd
            .args(["--pdeathsig", "KILL", "--", "unshare"])
            .args(["--mount", "--propagation", "private"])
            .args(["--pid", "--fork", "--mount-proc", "--kill-child"])
            .args(["sh", "-c", INIT_SCRIPT, "libvirtd-init"])
            .arg(d)
            .args(PRIVATE_DIRS.iter().flat_map(|(path, sub)| [*path, *sub]))
            .args(
                mounts
                    .iter()
                    .flat_map(|(path, source)| [std::ffi::OsStr::new(path), source.as_os_str()]),
            )
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("output file"))
            .stderr(out)
            .spawn()
            .expect("start setpriv and unshare (util-linux) for libvirtd");
        let mut fixture = Self {
            dir,
            child: Some(child),
        };
        fixture.wait_ready();
        capabilities_cache::save(&fixture.dir.path().join("cache"));
        fixture
    }

    fn wait_ready(&mut self) {
        let socket = self.socket();
        let start = Instant::now();
        while UnixStream::connect(&socket).is_err() {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "libvirtd exited ({status}) before listening:\n{}",
                    self.logs()
                );
            }
            assert!(
                start.elapsed() < READY_TIMEOUT,
                "libvirtd did not listen within {READY_TIMEOUT:?}:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // The socket listens before the drivers are initialised; a call is
        // answered only after, so one call is the readiness check.
        let out = self.virsh_output(&["version"]);
        assert!(
            out.status.success(),
            "libvirtd did not answer: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.logs()
        );
    }

    /// The daemon's read-write socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("run/libvirt-sock")
    }

    /// A URI for this daemon's QEMU driver, for the `virt` crate and
    /// `virsh -c` alike.
    pub fn uri(&self) -> String {
        format!("qemu+unix:///system?socket={}", self.socket().display())
    }

    /// `virsh -c URI ARGS`; its standard output, trimmed. Panics on failure.
    pub fn virsh(&self, args: &[&str]) -> String {
        let out = self.virsh_output(args);
        assert!(
            out.status.success(),
            "virsh {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// `virsh -c URI ARGS`, whatever its outcome.
    pub fn virsh_output(&self, args: &[&str]) -> Output {
        Command::new("virsh")
            .arg("-c")
            .arg(self.uri())
            .args(args)
            .env_remove("LIBVIRT_DEFAULT_URI")
            .output()
            .expect("run virsh (install libvirt-clients)")
    }

    /// What QEMU wrote about domain `name` (its command line, its errors),
    /// for a failing test's message; empty when there is no log.
    pub fn domain_log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("log/qemu/{name}.log")))
            .unwrap_or_default()
    }

    /// libvirtd's warnings and errors and its output, for a failing test's
    /// message.
    pub fn logs(&self) -> String {
        let read = |p: &str| std::fs::read_to_string(self.dir.path().join(p)).unwrap_or_default();
        format!(
            "--- libvirtd.log\n{}--- output\n{}",
            read("log/libvirtd.log"),
            read("libvirtd.out")
        )
    }

    /// The fixture's directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The UUIDs `virsh secret-list` shows (libvirt 9.0's has no `--name`).
    pub fn secret_uuids(&self) -> Vec<String> {
        self.virsh(&["secret-list"])
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|w| {
                w.len() == 36
                    && w.char_indices().all(|(i, c)| match i {
                        8 | 13 | 18 | 23 => c == '-',
                        _ => c.is_ascii_hexdigit(),
                    })
            })
            .map(str::to_owned)
            .collect()
    }

    /// Secret `uuid`'s value, base64 as libvirt 9.0 keeps it in
    /// `/etc/libvirt/secrets/UUID.base64` (in the fixture's directory):
    /// libvirt refuses to reveal a private secret's value over its API,
    /// even to root (`virsh secret-get-value`: "secret is private").
    pub fn secret_value(&self, uuid: impl std::fmt::Display) -> String {
        std::fs::read_to_string(self.dir().join(format!("etc/secrets/{uuid}.base64")))
            .expect("the secret's stored value")
    }
}

/// The smallest domain that runs under TCG: 64 MiB, one vCPU, no display,
/// serial console to nowhere, and `devices` (XML, e.g. a disk) if any.
pub fn tiny_domain_xml(name: &str, devices: &str) -> String {
    let devices: String = devices.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "\
<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/></features>
  <devices>
{devices}    <serial type='null'/>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
"
    )
}

impl Drop for LibvirtdFixture {
    fn drop(&mut self) {
        // SIGKILL to unshare; `--kill-child` passes a SIGKILL to the
        // namespace's init, and the kernel kills the rest of the namespace
        // (libvirtd, every QEMU) with it.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// libvirt's cache of what each QEMU binary can do, shared between
/// fixtures: probing costs ~1.3 s of CPU per fresh daemon otherwise.
/// Entries are copied in before start and back (atomically) once ready;
/// libvirt validates each against the binary, itself and the host, and
/// re-probes a stale one.
mod capabilities_cache {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn shared() -> PathBuf {
        std::env::temp_dir().join("lqx-test-libvirtd-qemu-capabilities")
    }

    fn entries(dir: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "xml"))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Copies the shared entries into a fixture's `/var/cache/libvirt`.
    pub(super) fn seed(cache: &Path) {
        let to = cache.join("qemu/capabilities");
        if std::fs::create_dir_all(&to).is_err() {
            return;
        }
        for entry in entries(&shared()) {
            if let Some(name) = entry.file_name() {
                let _ = std::fs::copy(&entry, to.join(name));
            }
        }
    }

    /// Publishes a ready fixture's entries; a failure only costs speed.
    pub(super) fn save(cache: &Path) {
        let shared = shared();
        if std::fs::create_dir_all(&shared).is_err() {
            return;
        }
        for entry in entries(&cache.join("qemu/capabilities")) {
            let Some(name) = entry.file_name() else {
                continue;
            };
            // Another test process may be reading or writing the same
            // entry: write aside, then rename over it.
            static WRITES: AtomicUsize = AtomicUsize::new(0);
            let tmp = shared.join(format!(
                ".{}.{}.{}.tmp",
                name.to_string_lossy(),
                std::process::id(),
                WRITES.fetch_add(1, Ordering::Relaxed)
            ));
            if std::fs::copy(&entry, &tmp).is_ok()
                && std::fs::rename(&tmp, shared.join(name)).is_err()
            {
                let _ = std::fs::remove_file(&tmp);
            }
        }
    }
}
