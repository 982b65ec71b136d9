//! The host's libvirt, as lqxd uses it: the disks of VMs stored in Ceph
//! RBD, the Ceph keys QEMU needs to open them, and the few domain
//! operations that start and stop VMs.
//!
//! - [`disk`]: an RBD-backed disk's `<disk>` XML and its checks (no I/O).
//! - [`secret`]: Ceph keys as libvirt secrets: their XML, the
//!   [`SecretStore`] trait and the [`FakeSecrets`] for callers' tests.
//! - [`connection`]: [`Libvirt`], the real store and domain operations over
//!   the `virt` crate.
//! - [`error`]: what can go wrong, [`LibvirtError`].
//!
//! Domains must be `type='qemu'` where KVM does not work (CI, nested
//! machines). libvirt 9.0 adds `-no-acpi` to the QEMU command line of a
//! domain without `<features><acpi/></features>`, an option QEMU 9 and
//! later refuse: give every domain `<acpi/>`.

pub mod connection;
pub mod disk;
pub mod error;
pub mod secret;
mod xml;

pub use connection::{DomainName, Libvirt};
pub use disk::{DiskError, RbdDisk};
pub use error::LibvirtError;
pub use secret::{CephxKey, FakeSecrets, KeyError, SecretStore, ceph_secret_xml};
