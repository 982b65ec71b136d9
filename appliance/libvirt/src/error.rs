//! What can go wrong talking to libvirt.

use crate::domain::{DomainSpecError, PathProblem};
use std::path::PathBuf;
use uuid::Uuid;

/// An operation on libvirt that did not happen. Messages name the object
/// and the action; libvirt's own words are in [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
pub enum LibvirtError {
    /// No connection to the daemon at `uri`.
    #[error("cannot connect to libvirt at {uri}")]
    Connect {
        /// The URI tried.
        uri: String,
        /// libvirt's reason.
        #[source]
        source: virt::error::Error,
    },
    /// A secret usage name that libvirt cannot store (empty, or with a
    /// control character).
    #[error("{0:?} is not a usable secret usage name")]
    UsageName(String),
    /// Another secret already carries this Ceph usage name; libvirt allows
    /// one secret per usage, and removing the other one here could cut off
    /// the VMs that use it.
    #[error("the ceph secret usage name {usage_name:?} already belongs to secret {owner}")]
    UsageTaken {
        /// The usage name asked for.
        usage_name: String,
        /// The secret that has it.
        owner: Uuid,
    },
    /// libvirt could not say which secret has a usage name.
    #[error("looking up the ceph secret named {usage_name:?}")]
    Usage {
        /// The usage name.
        usage_name: String,
        /// libvirt's reason.
        #[source]
        source: virt::error::Error,
    },
    /// libvirt refused an action on a secret.
    #[error("{action} secret {uuid}")]
    Secret {
        /// What was being done, e.g. "setting the value of".
        action: &'static str,
        /// The secret.
        uuid: Uuid,
        /// libvirt's reason.
        #[source]
        source: virt::error::Error,
    },
    /// Domain XML that cannot be handed to libvirt at all (it holds a NUL).
    #[error("the domain XML contains a NUL character")]
    DomainXml,
    /// libvirt refused a domain definition.
    #[error("defining a domain")]
    Define(#[source] virt::error::Error),
    /// No domain of that name is defined.
    #[error("no domain named {0:?}")]
    DomainNotFound(String),
    /// libvirt refused an action on a domain.
    #[error("{action} domain {name:?}")]
    Domain {
        /// What was being done, e.g. "starting".
        action: &'static str,
        /// The domain.
        name: String,
        /// libvirt's reason.
        #[source]
        source: virt::error::Error,
    },
    /// A VM's [`DomainSpec`](crate::DomainSpec) that cannot become a
    /// domain.
    #[error("the VM's definition is not usable")]
    DomainSpec(#[from] DomainSpecError),
    /// A shutdown or reboot request to a domain that is not running.
    #[error("domain {0:?} is not running")]
    DomainNotRunning(String),
    /// libvirt could not list its domains or pools.
    #[error("listing {0}")]
    List(&'static str, #[source] virt::error::Error),
    /// libvirt's own description of an object could not be read.
    #[error("reading the XML of {what}: {reason}")]
    UnreadableXml {
        /// Which object, e.g. "domain \"web-1\"".
        what: String,
        /// The parser's words.
        reason: String,
    },
    /// A path that cannot be handed to libvirt.
    #[error("the {what} path {path:?} {problem}")]
    InvalidPath {
        /// Which path, e.g. "pool" or "ISO".
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// What is wrong with it.
        problem: PathProblem,
    },
    /// A pool or volume name libvirt cannot take: empty, with a `/`, or
    /// with a control character.
    #[error("{name:?} is not a usable {kind} name")]
    InvalidName {
        /// "pool" or "volume".
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// No storage pool of that name is defined.
    #[error("no storage pool named {0:?}")]
    PoolNotFound(String),
    /// A pool of that name exists on another directory: redefining it
    /// would hide the volumes VMs use there.
    #[error("storage pool {name:?} already exists on {existing:?}, not {requested:?}")]
    PoolPathMismatch {
        /// The pool.
        name: String,
        /// Its directory (`None` when it has no target path).
        existing: Option<PathBuf>,
        /// The directory asked for.
        requested: PathBuf,
    },
    /// A pool of that name exists but is not a directory pool.
    #[error("storage pool {name:?} is a {kind:?} pool, not a directory pool")]
    PoolNotDir {
        /// The pool.
        name: String,
        /// Its type.
        kind: String,
    },
    /// libvirt refused an action on a pool.
    #[error("{action} storage pool {name:?}")]
    Pool {
        /// What was being done, e.g. "starting".
        action: &'static str,
        /// The pool.
        name: String,
        /// libvirt's reason.
        #[source]
        source: virt::error::Error,
    },
    /// No volume of that name in the pool.
    #[error("no volume named {name:?} in storage pool {pool:?}")]
    VolumeNotFound {
        /// The pool.
        pool: String,
        /// The volume.
        name: String,
    },
    /// A volume (or a file) of that name is already in the pool.
    #[error("storage pool {pool:?} already has a volume named {name:?}")]
    VolumeExists {
        /// The pool.
        pool: String,
        /// The volume.
        name: String,
    },
    /// A resize to less than the volume's size: the guest's data past the
    /// new end would be lost.
    #[error(
        "volume {name:?} in storage pool {pool:?} has {current} bytes; shrinking it to {requested} is refused"
    )]
    ShrinkRefused {
        /// The pool.
        pool: String,
        /// The volume.
        name: String,
        /// Its size now, in bytes.
        current: u64,
        /// The size asked for, in bytes.
        requested: u64,
    },
    /// libvirt refused an action on a volume.
    #[error("{action} volume {name:?} in storage pool {pool:?}")]
    Volume {
        /// What was being done, e.g. "resizing".
        action: &'static str,
        /// The pool.
        pool: String,
        /// The volume.
        name: String,
        /// libvirt's reason.
        #[source]
        source: virt::error::Error,
    },
    /// The host's ARP table could not be read.
    #[error("reading the host's ARP table")]
    ArpTable(#[source] std::io::Error),
}
