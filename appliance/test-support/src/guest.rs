//! A tiny bootable test guest for network tests: Debian's kernel and a
//! busybox initramfs on an isohybrid ISO 9660 image, which SeaBIOS boots
//! both as a CD and, through the hybrid MBR, as a plain disk (a raw file,
//! an RBD volume attached as a virtio disk).
//!
//! The guest's `/init` loads the virtio-net driver, runs `udhcpc` on `eth0`
//! and prints, on the serial console (`ttyS0`, 115200 baud):
//!
//! - `LQX-GUEST ip=<addr>/<prefix> router=<gw>` once it has a lease (again
//!   on each renewal), or `LQX-GUEST dhcp fail` before retrying;
//! - then, every second and for each address of `lqx.ping=A,B,...` on its
//!   kernel command line (IPv4 or IPv6), `LQX-GUEST ping <A> ok` or
//!   `LQX-GUEST ping <A> fail`.
//!
//! IPv6 the kernel configures by itself: SLAAC from the router's
//! advertisements, with the EUI-64 address of the NIC's MAC.
//!
//! On a panic the kernel reboots at once (`panic=-1`) rather than hanging
//! silently.
//!
//! Nothing is installed on the machine: the kernel and busybox packages are
//! fetched with `apt-get download` and unpacked into a cache under the
//! system temp dir, keyed by their versions, so each machine builds the
//! initramfs once. Needs `xorriso`, `isolinux`, `syslinux-common` and `kmod`
//! (`depmod`); `xz-utils` only if the kernel's modules are compressed.
//!
//! Measured on the 2-core CI-class machine (kernel 6.1.0-57, QEMU 10.0 TCG,
//! 128 MiB, booted from the image as a virtio disk): first build 6 s (most
//! of it downloading 70 MB of kernel package), an image for another ping
//! list 0.1–0.3 s; the image is 11 MiB; the lease is printed 7.2–7.8 s
//! after QEMU starts (2.6 s of it in the guest's own clock: the rest is
//! firmware, loading and decompressing the kernel), the first ping 30 ms
//! later. Without a DHCP server, `dhcp fail` comes every ~11 s. The guest
//! needs 88 MiB of memory.

use nix::fcntl::{Flock, FlockArg};
use std::fmt::Write as _;
use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The modules the virtio-net NIC needs, besides what they depend on:
/// `virtio_pci` binds the PCI device, `virtio_net` drives it.
const NIC_MODULES: [&str; 2] = ["virtio_pci", "virtio_net"];

/// Run by busybox as PID 1. `@INSMOD@` becomes the `insmod` lines.
const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
@INSMOD@
# The driver probes the device during insmod, but give the interface a
# moment rather than fail on a slow (TCG) machine.
n=0
while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 50 ]; do
    sleep 0.1
    n=$((n + 1))
done
ip link set lo up
ip link set eth0 up
targets=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    lqx.ping=*) targets=$(echo "${arg#lqx.ping=}" | tr , ' ') ;;
    esac
done
# Without -q, udhcpc stays in the background after the lease to renew it;
# with -n it gives up (and returns non-zero) when no server answers.
until udhcpc -i eth0 -s /udhcpc.script -n -t 5 -T 2 >/dev/null 2>&1; do
    echo "LQX-GUEST dhcp fail"
    sleep 1
done
while :; do
    for a in $targets; do
        if ping -c 1 -W 1 "$a" >/dev/null 2>&1; then
            echo "LQX-GUEST ping $a ok"
        else
            echo "LQX-GUEST ping $a fail"
        fi
    done
    sleep 1
done
"#;

/// udhcpc's event script. It writes to the console itself: once udhcpc
/// has gone to the background its stdout is /dev/null.
const UDHCPC_SCRIPT: &str = r#"#!/bin/sh
case "$1" in
deconfig)
    ip addr flush dev "$interface"
    ip link set "$interface" up
    ;;
bound|renew)
    ip addr replace "$ip/$mask" dev "$interface"
    gw=${router%% *}
    [ -n "$gw" ] && ip route replace default via "$gw" dev "$interface"
    echo "LQX-GUEST ip=$ip/$mask router=$gw" >/dev/console
    ;;
esac
exit 0
"#;

/// Builds (once per machine, cached) and returns the path of a raw disk
/// image that boots the test guest.
///
/// `ping` = the addresses the guest pings forever, baked into
/// `isolinux.cfg`'s kernel command line. Images are cached per list too;
/// the file must not be modified (attach it read-only, or copy or import
/// it).
///
/// # Panics
/// When a package cannot be downloaded (no network, stale apt lists:
/// `apt-get update`) or a tool is missing (the message names its package).
pub fn disk_image(ping: &[IpAddr]) -> PathBuf {
    let root = cache_root();
    // Held until the image is in place: two test processes then neither
    // unpack the same packages nor run xorriso for the same list at once.
    let _lock = lock(&root);
    remove_scratch(&root);
    let base = base(&root);
    let list = ping
        .iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let image = base.join(format!("guest-{:016x}.img", fnv1a(list.as_bytes())));
    if !image.exists() {
        write_iso(&root, &base, &list, &image);
    }
    image
}

fn cache_root() -> PathBuf {
    let root = std::env::temp_dir().join("lqx-guest-cache");
    std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("create {}: {e}", root.display()));
    root
}

/// Removes what builds that died left behind: with the lock held no other
/// build is under way.
fn remove_scratch(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        if entry.file_name().to_string_lossy().ends_with(".tmp") {
            let path = entry.path();
            let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
        }
    }
}

/// Held until dropped. `flock` rather than `File::lock`, which is newer
/// than the workspace's minimum Rust.
fn lock(root: &Path) -> Flock<File> {
    let path = root.join("lock");
    let file = File::create(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    Flock::lock(file, FlockArg::LockExclusive)
        .unwrap_or_else(|(_, e)| panic!("lock {}: {e}", path.display()))
}

/// A stable hash (unlike `DefaultHasher`) for names that outlive a build.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A name unique to this process and call, for files written aside.
fn scratch_name(what: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        ".{what}.{}.{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `cmd`, returning its stdout; panics naming `package` when the
/// program is missing and with its stderr when it fails.
fn tool(cmd: &mut Command, package: &str) -> Vec<u8> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("{program} not found: install the `{package}` package")
        }
        Err(e) => panic!("run {program}: {e}"),
    };
    assert!(
        out.status.success(),
        "{program} {:?}: {}\n{}",
        cmd.get_args().collect::<Vec<_>>(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The packages' exact versions, from the apt lists: `(kernel package,
/// its version, busybox-static's version)`.
fn versions() -> (String, String, String) {
    let out = tool(
        Command::new("apt-cache").args([
            "show",
            "--no-all-versions",
            "linux-image-amd64",
            "busybox-static",
        ]),
        "apt",
    );
    let text = String::from_utf8_lossy(&out);
    let mut kernel = None;
    let mut busybox = None;
    for para in text.split("\n\n") {
        let field = |name: &str| {
            para.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
                .map(str::trim)
        };
        match field("Package") {
            // The metapackage depends on exactly one image, "= version".
            Some("linux-image-amd64") => {
                let dep = field("Depends").unwrap_or_default();
                let (name, rest) = dep.split_once(" (= ").unwrap_or((dep, ""));
                let version = rest.split(')').next().unwrap_or_default();
                kernel = Some((name.to_owned(), version.to_owned()));
            }
            Some("busybox-static") => busybox = field("Version").map(str::to_owned),
            _ => {}
        }
    }
    let Some((kernel, kernel_version)) = kernel.filter(|(n, v)| !n.is_empty() && !v.is_empty())
    else {
        panic!("no linux-image-amd64 in the apt lists (apt-get update?):\n{text}")
    };
    let busybox =
        busybox.unwrap_or_else(|| panic!("no busybox-static in the apt lists (apt-get update?)"));
    (kernel, kernel_version, busybox)
}

/// The cache directory holding `vmlinuz` and `initrd.img` for the current
/// package versions, built if missing. Call with the lock held.
fn base(root: &Path) -> PathBuf {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let (kernel, kernel_version, busybox) = versions();
        let key = format!("{kernel}_{kernel_version}_busybox_{busybox}").replace(':', "-");
        let dir = root.join(key);
        // The directory only ever appears whole, by rename; a build that
        // died leaves just its scratch directory behind.
        if !dir.exists() {
            let work = root.join(scratch_name("build"));
            build_base(&work, &kernel, &kernel_version, &busybox);
            std::fs::rename(work.join("out"), &dir)
                .unwrap_or_else(|e| panic!("rename into {}: {e}", dir.display()));
            let _ = std::fs::remove_dir_all(&work);
        }
        dir
    })
    .clone()
}

/// Downloads and unpacks the packages into `work`, and leaves the kernel
/// and the initramfs in `work/out`.
fn build_base(work: &Path, kernel: &str, kernel_version: &str, busybox: &str) {
    let debs = work.join("debs");
    let out = work.join("out");
    for d in [&debs, &out] {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("create {}: {e}", d.display()));
    }
    tool(
        Command::new("apt-get")
            .current_dir(&debs)
            .args(["-q", "download"])
            .arg(format!("{kernel}={kernel_version}"))
            .arg(format!("busybox-static={busybox}")),
        "apt",
    );
    let unpack = |prefix: &str, into: &Path| {
        let deb = std::fs::read_dir(&debs)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
            })
            .unwrap_or_else(|| panic!("apt-get download left no {prefix}*.deb"));
        tool(
            Command::new("dpkg-deb").arg("-x").arg(&deb).arg(into),
            "dpkg",
        );
    };
    let k = work.join("kernel");
    let bb = work.join("busybox");
    unpack(&format!("{kernel}_"), &k);
    unpack("busybox-static_", &bb);

    // The image package names the release: linux-image-<release>.
    let release = kernel.strip_prefix("linux-image-").unwrap_or(kernel);
    let vmlinuz = k.join(format!("boot/vmlinuz-{release}"));
    std::fs::rename(&vmlinuz, out.join("vmlinuz"))
        .unwrap_or_else(|e| panic!("move {}: {e}", vmlinuz.display()));

    let modules = nic_modules(&k, release);
    let mut cpio = Newc::default();
    for dir in ["bin", "dev", "proc", "sys", "modules"] {
        cpio.dir(dir);
    }
    // The kernel opens the console for init before anything mounts
    // devtmpfs; without the node init's output would go nowhere.
    cpio.char_dev("dev/console", 5, 1);
    let read = |p: &Path| std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    cpio.file("bin/busybox", 0o755, &read(&bb.join("bin/busybox")));
    cpio.file("udhcpc.script", 0o755, UDHCPC_SCRIPT.as_bytes());
    let mut insmod = String::new();
    for (name, path) in &modules {
        let bytes = if path.extension().is_some_and(|x| x == "xz") {
            // busybox's insmod takes only plain modules.
            tool(Command::new("xz").arg("-dc").arg(path), "xz-utils")
        } else {
            read(path)
        };
        cpio.file(&format!("modules/{name}.ko"), 0o644, &bytes);
        let _ = writeln!(insmod, "insmod /modules/{name}.ko");
    }
    cpio.file(
        "init",
        0o755,
        INIT.replace("@INSMOD@", insmod.trim_end()).as_bytes(),
    );
    // Uncompressed: the kernel takes a plain newc archive, and the ~3 MB it
    // costs on the ISO is less than inflating gzip takes under TCG.
    write_atomic(&out.join("initrd.img"), &cpio.finish());
}

/// The module files [`NIC_MODULES`] need, in load order (dependencies
/// first) as `(name, path)`. Debian's package ships no `modules.dep`
/// (postinst runs depmod), so it is generated inside the unpacked tree.
fn nic_modules(unpacked: &Path, release: &str) -> Vec<(String, PathBuf)> {
    tool(
        Command::new("depmod").arg("-b").arg(unpacked).arg(release),
        "kmod",
    );
    let dir = unpacked.join("lib/modules").join(release);
    let read = |name: &str| {
        let p = dir.join(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
    };
    let module_name = |path: &str| {
        let file = path.rsplit('/').next().unwrap_or(path);
        file.split(".ko").next().unwrap_or(file).replace('-', "_")
    };
    let deps: Vec<(String, String, Vec<String>)> = read("modules.dep")
        .lines()
        .filter_map(|l| {
            let (path, rest) = l.split_once(':')?;
            let needs = rest.split_whitespace().map(module_name).collect();
            Some((module_name(path), path.to_owned(), needs))
        })
        .collect();
    let builtin: Vec<String> = read("modules.builtin").lines().map(module_name).collect();

    fn visit(
        name: &str,
        deps: &[(String, String, Vec<String>)],
        builtin: &[String],
        dir: &Path,
        order: &mut Vec<(String, PathBuf)>,
    ) {
        if order.iter().any(|(n, _)| n == name) || builtin.iter().any(|b| b == name) {
            return;
        }
        let Some((_, path, needs)) = deps.iter().find(|(n, _, _)| n == name) else {
            panic!("kernel module {name} is neither in modules.dep nor built in")
        };
        for need in needs {
            visit(need, deps, builtin, dir, order);
        }
        order.push((name.to_owned(), dir.join(path)));
    }
    let mut order = Vec::new();
    for m in NIC_MODULES {
        visit(m, &deps, &builtin, &dir, &mut order);
    }
    order
}

/// Writes the isohybrid ISO booting `base`'s kernel with `lqx.ping=list`
/// to `image`, atomically, staging in `root`.
fn write_iso(root: &Path, base: &Path, list: &str, image: &Path) {
    let stage = root.join(scratch_name("iso"));
    let isolinux = stage.join("isolinux");
    let boot = stage.join("boot");
    for d in [&isolinux, &boot] {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("create {}: {e}", d.display()));
    }
    let link = |from: &Path, to: &Path, package: &str| {
        // Hard links spare copying the kernel for each list; /usr/lib and
        // the temp dir may be different file systems, hence the copy.
        if std::fs::hard_link(from, to).is_err() {
            std::fs::copy(from, to)
                .unwrap_or_else(|e| panic!("copy {}: {e} (package `{package}`)", from.display()));
        }
    };
    link(
        Path::new("/usr/lib/ISOLINUX/isolinux.bin"),
        &isolinux.join("isolinux.bin"),
        "isolinux",
    );
    link(
        Path::new("/usr/lib/syslinux/modules/bios/ldlinux.c32"),
        &isolinux.join("ldlinux.c32"),
        "syslinux-common",
    );
    link(&base.join("vmlinuz"), &boot.join("vmlinuz"), "linux-image");
    link(
        &base.join("initrd.img"),
        &boot.join("initrd.img"),
        "busybox-static",
    );
    // PROMPT 0 and a tenth of a second: boot at once, no menu.
    let cfg = format!(
        "DEFAULT lqx\nPROMPT 0\nTIMEOUT 1\nLABEL lqx\n  KERNEL /boot/vmlinuz\n  \
         INITRD /boot/initrd.img\n  APPEND console=ttyS0,115200 quiet panic=-1 lqx.ping={list}\n"
    );
    std::fs::write(isolinux.join("isolinux.cfg"), cfg).expect("write isolinux.cfg");

    let tmp = root.join(scratch_name("img"));
    let isohdpfx = Path::new("/usr/lib/ISOLINUX/isohdpfx.bin");
    assert!(
        isohdpfx.exists(),
        "{} missing: install the `isolinux` package",
        isohdpfx.display()
    );
    tool(
        Command::new("xorriso")
            .args(["-as", "mkisofs", "-quiet", "-R", "-V", "LQXGUEST"])
            .arg("-isohybrid-mbr")
            .arg(isohdpfx)
            .args(["-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat"])
            .args(["-no-emul-boot", "-boot-load-size", "4", "-boot-info-table"])
            .arg("-o")
            .arg(&tmp)
            .arg(&stage),
        "xorriso",
    );
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::rename(&tmp, image).unwrap_or_else(|e| panic!("rename to {}: {e}", image.display()));
}

fn write_atomic(path: &Path, bytes: &[u8]) {
    let tmp = path.with_file_name(scratch_name("write"));
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// A newc ("070701") cpio archive, the format the kernel unpacks as its
/// initramfs; written here so that neither `cpio` nor root (for the
/// device node) is needed.
#[derive(Default)]
struct Newc {
    out: Vec<u8>,
    ino: u32,
}

impl Newc {
    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
        self.ino += 1;
        let len = u32::try_from(data.len()).expect("initramfs member under 4 GiB");
        let fields = [
            self.ino,
            mode,
            0, // uid
            0, // gid
            1, // nlink
            0, // mtime: the same bytes for the same inputs
            len,
            0, // dev major
            0, // dev minor
            rdev.0,
            rdev.1,
            u32::try_from(name.len() + 1).expect("short name"),
            0, // check
        ];
        let mut header = String::from("070701");
        for f in fields {
            let _ = write!(header, "{f:08x}");
        }
        self.out.extend_from_slice(header.as_bytes());
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    fn dir(&mut self, name: &str) {
        self.entry(name, 0o040_755, (0, 0), &[]);
    }

    fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, 0o100_000 | perm, (0, 0), data);
    }

    fn char_dev(&mut self, name: &str, major: u32, minor: u32) {
        self.entry(name, 0o020_600, (major, minor), &[]);
    }

    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newc_pads_to_four_bytes() {
        let mut c = Newc::default();
        c.file("a", 0o644, b"xyz");
        let out = c.finish();
        assert_eq!(out.len() % 4, 0);
        assert!(out.starts_with(b"070701"));
        // 110-byte header + "a\0" padded to 112, then 3 bytes of data + 1.
        assert_eq!(&out[110..112], b"a\0");
        assert_eq!(&out[112..116], b"xyz\0");
    }
}
