//! What can go wrong talking to libvirt.

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
}
