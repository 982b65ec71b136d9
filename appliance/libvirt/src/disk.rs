//! A VM disk backed by a Ceph RBD image: checking it and rendering the
//! libvirt `<disk>` element. No I/O.
//!
//! QEMU opens the image itself through librbd, authenticating as
//! `client.USER` with the key libvirt holds in the secret
//! [`RbdDisk::secret_uuid`] names (see [`crate::secret`]); nothing on the
//! host maps the image.

use crate::xml::{escape, has_forbidden_char};
use std::fmt::Write as _;
use std::net::SocketAddr;
use uuid::Uuid;

/// A disk whose contents are the RBD image `pool/image`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RbdDisk {
    /// The Ceph pool holding the image.
    pub pool: String,
    /// The image's name inside the pool.
    pub image: String,
    /// The monitors QEMU asks for the cluster maps. Production passes their
    /// msgr-v2 addresses (port 3300): librbd speaks v2 there.
    pub monitors: Vec<SocketAddr>,
    /// The cephx id QEMU authenticates as, without the `client.` prefix.
    pub user: String,
    /// The libvirt secret holding that id's key.
    pub secret_uuid: Uuid,
    /// The guest device name, e.g. `vda`; it also picks the bus order.
    pub target_dev: String,
}

/// Why an [`RbdDisk`] cannot be rendered into a usable `<disk>`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DiskError {
    /// A required name is empty.
    #[error("the RBD disk's {field} is empty")]
    Empty {
        /// Which field: `pool`, `image` or `user`.
        field: &'static str,
    },
    /// A pool or image name holds `/` or `@`, which libvirt reads as a
    /// namespace or snapshot separator inside `pool/image`, so the disk
    /// would silently name another image.
    #[error(
        "the RBD disk's {field} {value:?} contains {separator:?}, which libvirt reads as a separator"
    )]
    Separator {
        /// Which field: `pool` or `image`.
        field: &'static str,
        /// Its value.
        value: String,
        /// The offending character.
        separator: char,
    },
    /// A value holds a control character XML cannot carry.
    #[error("the RBD disk's {field} contains a control character")]
    ControlCharacter {
        /// Which field.
        field: &'static str,
    },
    /// The user was given as `client.NAME`; libvirt adds the prefix itself,
    /// so QEMU would authenticate as `client.client.NAME`.
    #[error("the RBD disk's user {0:?} must be the cephx id without the \"client.\" prefix")]
    UserWithPrefix(String),
    /// No monitor address: QEMU could not reach the cluster.
    #[error("the RBD disk has no monitor addresses")]
    NoMonitors,
    /// The target device is not a disk name like `vda` or `sdb`.
    #[error("the RBD disk's target device {0:?} is not a disk name like \"vda\" ([a-z]d[a-z]+)")]
    TargetDev(String),
}

impl RbdDisk {
    /// Checks what libvirt would accept silently but get wrong, or refuse
    /// only when the VM starts.
    pub fn validate(&self) -> Result<(), DiskError> {
        for (field, value) in [
            ("pool", &self.pool),
            ("image", &self.image),
            ("user", &self.user),
        ] {
            if value.is_empty() {
                return Err(DiskError::Empty { field });
            }
            if has_forbidden_char(value) {
                return Err(DiskError::ControlCharacter { field });
            }
        }
        for (field, value) in [("pool", &self.pool), ("image", &self.image)] {
            if let Some(separator) = value.chars().find(|c| matches!(c, '/' | '@')) {
                return Err(DiskError::Separator {
                    field,
                    value: value.clone(),
                    separator,
                });
            }
        }
        if self.user.starts_with("client.") {
            return Err(DiskError::UserWithPrefix(self.user.clone()));
        }
        if self.monitors.is_empty() {
            return Err(DiskError::NoMonitors);
        }
        if !is_disk_dev(&self.target_dev) {
            return Err(DiskError::TargetDev(self.target_dev.clone()));
        }
        Ok(())
    }

    /// The `<disk>` element, for a domain's `<devices>`. Call
    /// [`RbdDisk::validate`] first: rendering does not check.
    ///
    /// `cache='writeback'` lets librbd's cache absorb small writes (QEMU
    /// still honours guest flushes); `discard='unmap'` passes the guest's
    /// TRIM through so deleted blocks are freed in the pool.
    pub fn to_xml(&self) -> String {
        self.render(None)
    }

    /// [`RbdDisk::to_xml`], with the `<boot order='N'/>` a VM's boot
    /// order gives its first disk.
    pub(crate) fn render(&self, boot_order: Option<u32>) -> String {
        let mut xml = String::new();
        xml.push_str("<disk type='network' device='disk'>\n");
        xml.push_str("  <driver name='qemu' type='raw' cache='writeback' discard='unmap'/>\n");
        let _ = writeln!(
            xml,
            "  <source protocol='rbd' name='{}/{}'>",
            escape(&self.pool),
            escape(&self.image)
        );
        for monitor in &self.monitors {
            // `ip()` prints an IPv6 address without brackets, the form
            // libvirt expects in `name=`: the port has its own attribute,
            // and the brackets `mon_host` needs are added further down.
            let _ = writeln!(
                xml,
                "    <host name='{}' port='{}'/>",
                monitor.ip(),
                monitor.port()
            );
        }
        xml.push_str("  </source>\n");
        let _ = writeln!(xml, "  <auth username='{}'>", escape(&self.user));
        let _ = writeln!(
            xml,
            "    <secret type='ceph' uuid='{}'/>",
            self.secret_uuid.hyphenated()
        );
        xml.push_str("  </auth>\n");
        let _ = writeln!(
            xml,
            "  <target dev='{}' bus='virtio'/>",
            escape(&self.target_dev)
        );
        if let Some(order) = boot_order {
            let _ = writeln!(xml, "  <boot order='{order}'/>");
        }
        xml.push_str("</disk>\n");
        xml
    }
}

/// `[a-z]d[a-z]+`: the names libvirt maps to a disk index (`vda`, `sdb`,
/// `vdaa`); anything else it refuses or maps unpredictably.
fn is_disk_dev(dev: &str) -> bool {
    let b = dev.as_bytes();
    b.len() >= 3
        && b[0].is_ascii_lowercase()
        && b[1] == b'd'
        && b[2..].iter().all(u8::is_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk() -> RbdDisk {
        RbdDisk {
            pool: "vms".into(),
            image: "web-1-root".into(),
            monitors: vec![
                "192.0.2.11:3300".parse().unwrap(),
                "192.0.2.12:3300".parse().unwrap(),
            ],
            user: "lqx".into(),
            secret_uuid: "2f1c7e0a-5b3d-4c6e-9f8a-0b1c2d3e4f50".parse().unwrap(),
            target_dev: "vda".into(),
        }
    }

    #[test]
    fn renders_a_typical_disk() {
        let d = disk();
        assert_eq!(d.validate(), Ok(()));
        assert_eq!(
            d.to_xml(),
            "\
<disk type='network' device='disk'>
  <driver name='qemu' type='raw' cache='writeback' discard='unmap'/>
  <source protocol='rbd' name='vms/web-1-root'>
    <host name='192.0.2.11' port='3300'/>
    <host name='192.0.2.12' port='3300'/>
  </source>
  <auth username='lqx'>
    <secret type='ceph' uuid='2f1c7e0a-5b3d-4c6e-9f8a-0b1c2d3e4f50'/>
  </auth>
  <target dev='vda' bus='virtio'/>
</disk>
"
        );
    }

    #[test]
    fn escapes_every_interpolated_name() {
        let d = RbdDisk {
            pool: "p'o\"ol".into(),
            image: "<img>&".into(),
            user: "u'><evil/>".into(),
            ..disk()
        };
        let xml = d.to_xml();
        assert!(
            xml.contains("name='p&apos;o&quot;ol/&lt;img&gt;&amp;'"),
            "{xml}"
        );
        assert!(
            xml.contains("<auth username='u&apos;&gt;&lt;evil/&gt;'>"),
            "{xml}"
        );
        assert!(!xml.contains("<evil/>"), "{xml}");
    }

    #[test]
    fn ipv6_monitors_render_bare() {
        let d = RbdDisk {
            monitors: vec!["[2001:db8::11]:3300".parse().unwrap()],
            ..disk()
        };
        assert!(
            d.to_xml()
                .contains("    <host name='2001:db8::11' port='3300'/>\n"),
            "{}",
            d.to_xml()
        );
    }

    #[test]
    fn refuses_what_would_break_at_start() {
        let check = |edit: fn(&mut RbdDisk)| {
            let mut d = disk();
            edit(&mut d);
            d.validate().unwrap_err()
        };
        assert_eq!(
            check(|d| d.pool.clear()),
            DiskError::Empty { field: "pool" }
        );
        assert_eq!(
            check(|d| d.image.clear()),
            DiskError::Empty { field: "image" }
        );
        assert_eq!(
            check(|d| d.user.clear()),
            DiskError::Empty { field: "user" }
        );
        assert_eq!(check(|d| d.monitors.clear()), DiskError::NoMonitors);
        assert_eq!(
            check(|d| d.image = "ns/img".into()),
            DiskError::Separator {
                field: "image",
                value: "ns/img".into(),
                separator: '/'
            }
        );
        assert_eq!(
            check(|d| d.pool = "vms@snap".into()),
            DiskError::Separator {
                field: "pool",
                value: "vms@snap".into(),
                separator: '@'
            }
        );
        assert_eq!(
            check(|d| d.user = "client.lqx".into()),
            DiskError::UserWithPrefix("client.lqx".into())
        );
        assert_eq!(
            check(|d| d.image = "a\0b".into()),
            DiskError::ControlCharacter { field: "image" }
        );
        for bad in ["", "vd", "vd1", "VDA", "vxa", "vda1", "v-da", "xvda"] {
            let mut d = disk();
            d.target_dev = bad.into();
            assert_eq!(
                d.validate(),
                Err(DiskError::TargetDev(bad.into())),
                "{bad:?}"
            );
        }
        for good in ["vda", "sdb", "hdc", "vdaa"] {
            let mut d = disk();
            d.target_dev = good.into();
            assert_eq!(d.validate(), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn error_messages_say_what_to_fix() {
        assert_eq!(
            DiskError::TargetDev("vd1".into()).to_string(),
            "the RBD disk's target device \"vd1\" is not a disk name like \"vda\" ([a-z]d[a-z]+)"
        );
        assert_eq!(
            DiskError::Empty { field: "pool" }.to_string(),
            "the RBD disk's pool is empty"
        );
    }
}
