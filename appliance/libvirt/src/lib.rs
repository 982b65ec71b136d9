//! The host's libvirt, as lqxd uses it: VMs as domains, their disks in
//! Ceph RBD or in local directory pools, the Ceph keys QEMU needs to open
//! RBD images, and the domain operations that run VMs.
//!
//! - [`domain`]: a VM's [`DomainSpec`] and its `<domain>` XML (no I/O).
//! - [`disk`]: an RBD-backed disk's `<disk>` XML and its checks (no I/O).
//! - [`secret`]: Ceph keys as libvirt secrets: their XML, the
//!   [`SecretStore`] trait and the [`FakeSecrets`] for callers' tests.
//! - [`connection`]: [`Libvirt`], the real store and the basic domain
//!   operations (define, start, destroy) over the `virt` crate.
//! - [`lifecycle`]: what a VM manager asks of its domains: listing with
//!   their owner, state, shutdown and reboot requests, VNC port, CD-ROM,
//!   addresses.
//! - [`pools`]: local directory storage pools and their volumes.
//! - [`error`]: what can go wrong, [`LibvirtError`].
//!
//! Domains must be `type='qemu'` where KVM does not work (CI, nested
//! machines). libvirt 9.0 adds `-no-acpi` to the QEMU command line of a
//! domain without `<features><acpi/></features>`, an option QEMU 9 and
//! later refuse: give every domain `<acpi/>` ([`domain_xml`] does).

pub mod connection;
pub mod disk;
pub mod domain;
pub mod error;
pub mod lifecycle;
pub mod pools;
mod readback;
pub mod secret;
mod xml;

pub use connection::{DomainName, Libvirt};
pub use disk::{DiskError, RbdDisk};
pub use domain::{
    Accel, Boot, CDROM_TARGET, DiskSource, DomainSpec, DomainSpecError, FileFormat, Firmware,
    METADATA_NS, Nic, PathProblem, SEED_TARGET, domain_xml,
};
pub use error::LibvirtError;
pub use lifecycle::{DomainInfo, DomainState};
pub use pools::{PoolInfo, VolumeFormat, VolumeInfo};
pub use secret::{CephxKey, FakeSecrets, KeyError, SecretStore, ceph_secret_xml};
