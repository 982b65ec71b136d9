//! Debian packages the build and the tests need, installed only when
//! missing so that a prepared machine pays nothing.

use crate::shell::run;
use std::process::Command;

/// Needed to build the workspace's binaries: the C libraries lqxd links
/// (libsystemd, libvirt, librados, librbd; libsystemd-dev itself comes
/// with the host set-up, from where systemd came) and protoc with the
/// well-known types for etcd's gRPC API.
pub const BUILD: &[&str] = &[
    "pkg-config",
    "libvirt-dev",
    "librados-dev",
    "librbd-dev",
    "protobuf-compiler",
    "libprotobuf-dev",
];

/// Needed by `cargo xtask test` besides [`BUILD`]: `ip` checks the agent's
/// network facts independently; `tmux` runs the real console binary in a
/// terminal.
pub const TEST: &[&str] = &[
    "iproute2",
    "tmux",
    "curl",
    // Real OVSDB servers, ovs-vsctl and ovn-nbctl for the OVSDB client's tests.
    "openvswitch-switch",
    "ovn-central",
    "ovn-host",
    // lqx-libvirt's tests run a private libvirtd (which needs the
    // `libvirt-qemu` user that libvirt-daemon-system creates). QEMU itself
    // and its rbd block driver, whose versions must match, come from
    // image-build/setup-host.sh.
    "libvirt-daemon-system",
    "libvirt-daemon-driver-qemu",
    "libvirt-clients",
    // A real Ceph cluster (mon, mgr, memstore OSD) for the Ceph backend's
    // tests and the `rbd` CLI to check them.
    "ceph-mon",
    "ceph-mgr",
    "ceph-osd",
    "ceph-common",
    // Real etcd members for the cluster store's tests, and etcdctl to check
    // them.
    "etcd-server",
    "etcd-client",
    // The network tests' guest disk image (lqx-test-support's `guest`): an
    // isohybrid ISO made by xorriso with isolinux, depmod for the order of
    // the kernel modules it loads and xz for modules shipped compressed.
    "xorriso",
    "isolinux",
    "syslinux-common",
    "kmod",
    "xz-utils",
    // `ping` from a namespace on the external segment, for the floating IP.
    "iputils-ping",
    // A DHCPv6 client (dhclient -6 -S) asking OVN's stateless DHCPv6.
    "isc-dhcp-client",
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
    let _guard = NoServiceStarts::new();
    apt(&args)
}

/// Keeps package scripts from starting daemons (openvswitch, ovn, ...)
/// while installing: the tests start their own, and on a machine without
/// the kernel module a started vswitchd would fail the install. Debian's
/// mechanism is a policy-rc.d that answers 101; one is put in place unless
/// the machine has its own, and removed afterwards.
struct NoServiceStarts(Option<&'static str>);

impl NoServiceStarts {
    const PATH: &'static str = "/usr/sbin/policy-rc.d";

    fn new() -> Self {
        use std::os::unix::fs::PermissionsExt;
        if std::path::Path::new(Self::PATH).exists() {
            return Self(None);
        }
        let written = std::fs::write(
            Self::PATH,
            "#!/bin/sh\n# written by cargo xtask while installing packages\nexit 101\n",
        )
        .and_then(|()| {
            std::fs::set_permissions(Self::PATH, std::fs::Permissions::from_mode(0o755))
        });
        match written {
            Ok(()) => Self(Some(Self::PATH)),
            Err(e) => {
                eprintln!(
                    "cannot write {}: {e}; package scripts may start daemons",
                    Self::PATH
                );
                Self(None)
            }
        }
    }
}

impl Drop for NoServiceStarts {
    fn drop(&mut self) {
        if let Some(path) = self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}
