//! [`Libvirt`]: a connection to a libvirt daemon through the `virt` crate,
//! the real [`SecretStore`] and the few domain operations lqxd needs.

use crate::error::LibvirtError;
use crate::secret::{CephxKey, SecretStore, ceph_secret_xml, check_usage_name};
use uuid::Uuid;
use virt::connect::Connect;
use virt::domain::Domain;
use virt::error::{Error as VirtError, ErrorNumber};
use virt::secret::Secret;

/// A domain's name, as libvirt knows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainName(String);

impl DomainName {
    /// Wraps a name.
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DomainName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An open connection to libvirt. Every call blocks until the daemon
/// answers: async callers use `spawn_blocking`. The connection is shared
/// safely between threads (libvirt serialises calls on it).
#[derive(Debug)]
pub struct Libvirt {
    pub(crate) conn: Connect,
    uri: String,
}

impl Libvirt {
    /// Connects to the daemon at `uri`, e.g. `qemu:///system` or
    /// `qemu+unix:///system?socket=/path/libvirt-sock`.
    pub fn open(uri: &str) -> Result<Self, LibvirtError> {
        // libvirt's default handler prints every error to stderr, including
        // the "no secret" that `secret_exists` expects; errors reach the
        // caller as values instead.
        virt::error::clear_error_callback();
        let conn = Connect::open(Some(uri)).map_err(|source| LibvirtError::Connect {
            uri: uri.to_owned(),
            source,
        })?;
        Ok(Self {
            conn,
            uri: uri.to_owned(),
        })
    }

    /// The URI this connection was opened with.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Whether the daemon is still at the other end (a restarted libvirtd
    /// leaves a dead connection behind).
    pub fn is_alive(&self) -> bool {
        self.conn.is_alive().unwrap_or(false)
    }

    /// Defines (or redefines) a persistent domain from its XML; returns
    /// the name libvirt read from it.
    pub fn define_domain(&self, xml: &str) -> Result<DomainName, LibvirtError> {
        if xml.contains('\0') {
            // The `virt` crate panics on interior NULs.
            return Err(LibvirtError::DomainXml);
        }
        let domain = Domain::define_xml(&self.conn, xml).map_err(LibvirtError::Define)?;
        domain
            .get_name()
            .map(DomainName)
            .map_err(LibvirtError::Define)
    }

    /// Starts a defined domain.
    pub fn start(&self, name: &DomainName) -> Result<(), LibvirtError> {
        let domain = self.domain(name)?;
        domain
            .create()
            .map(drop)
            .map_err(domain_err("starting", name))
    }

    /// Stops a running domain at once, like pulling its power cord.
    pub fn destroy(&self, name: &DomainName) -> Result<(), LibvirtError> {
        let domain = self.domain(name)?;
        domain.destroy().map_err(domain_err("destroying", name))
    }

    /// Removes a domain's definition; a running domain keeps running until
    /// it stops, then disappears.
    pub fn undefine(&self, name: &DomainName) -> Result<(), LibvirtError> {
        let domain = self.domain(name)?;
        domain.undefine().map_err(domain_err("undefining", name))
    }

    /// Whether the domain is running (or paused).
    pub fn is_active(&self, name: &DomainName) -> Result<bool, LibvirtError> {
        let domain = self.domain(name)?;
        domain.is_active().map_err(domain_err("inspecting", name))
    }

    pub(crate) fn domain(&self, name: &DomainName) -> Result<Domain, LibvirtError> {
        if name.0.contains('\0') {
            return Err(LibvirtError::DomainNotFound(name.0.clone()));
        }
        Domain::lookup_by_name(&self.conn, &name.0).map_err(|source| {
            if source.code() == ErrorNumber::NoDomain {
                LibvirtError::DomainNotFound(name.0.clone())
            } else {
                domain_err("looking up", name)(source)
            }
        })
    }

    /// Secret `uuid`, or `None` when libvirt has no such secret.
    fn secret(&self, uuid: Uuid) -> Result<Option<Secret>, LibvirtError> {
        match Secret::lookup_by_uuid(&self.conn, uuid) {
            Ok(secret) => Ok(Some(secret)),
            Err(e) if e.code() == ErrorNumber::NoSecret => Ok(None),
            Err(e) => Err(secret_err("looking up", uuid)(e)),
        }
    }

    /// The UUID of the Ceph secret with this usage name, if any.
    fn ceph_usage_owner(&self, usage_name: &str) -> Result<Option<Uuid>, LibvirtError> {
        let usage_type = virt::sys::VIR_SECRET_USAGE_TYPE_CEPH as i32;
        let usage_err = |source| LibvirtError::Usage {
            usage_name: usage_name.to_owned(),
            source,
        };
        match Secret::lookup_by_usage(&self.conn, usage_type, usage_name) {
            Ok(secret) => secret.get_uuid().map(Some).map_err(usage_err),
            Err(e) if e.code() == ErrorNumber::NoSecret => Ok(None),
            Err(e) => Err(usage_err(e)),
        }
    }
}

impl SecretStore for Libvirt {
    fn set_ceph_secret(
        &self,
        uuid: Uuid,
        usage_name: &str,
        key: &CephxKey,
    ) -> Result<(), LibvirtError> {
        check_usage_name(usage_name)?;
        match self.ceph_usage_owner(usage_name)? {
            // libvirt would refuse the definition with a message naming
            // neither secret clearly; say which one holds the name.
            Some(owner) if owner != uuid => {
                return Err(LibvirtError::UsageTaken {
                    usage_name: usage_name.to_owned(),
                    owner,
                });
            }
            Some(_) => {}
            // libvirt refuses to change an existing secret's usage in
            // place: a definition under another name goes first (the value
            // is set again below). The usage is learnt by name, not read
            // back: `virt`'s `get_usage_id` frees a string libvirt owns.
            None => {
                if let Some(existing) = self.secret(uuid)? {
                    existing
                        .undefine()
                        .map_err(secret_err("undefining the old definition of", uuid))?;
                }
            }
        }
        let secret = Secret::define_xml(&self.conn, &ceph_secret_xml(uuid, usage_name), 0)
            .map_err(secret_err("defining", uuid))?;
        secret
            .set_value(key.as_bytes(), 0)
            .map_err(secret_err("setting the value of", uuid))
    }

    fn remove_secret(&self, uuid: Uuid) -> Result<(), LibvirtError> {
        match self.secret(uuid)? {
            None => Ok(()),
            Some(secret) => match secret.undefine() {
                // Removed by someone else since the lookup: the same outcome.
                Err(e) if e.code() == ErrorNumber::NoSecret => Ok(()),
                other => other.map_err(secret_err("undefining", uuid)),
            },
        }
    }

    fn secret_exists(&self, uuid: Uuid) -> Result<bool, LibvirtError> {
        Ok(self.secret(uuid)?.is_some())
    }
}

impl Drop for Libvirt {
    fn drop(&mut self) {
        // `Connect` has no destructor of its own in `virt` 0.4.
        let _ = self.conn.close();
    }
}

fn secret_err(action: &'static str, uuid: Uuid) -> impl FnOnce(VirtError) -> LibvirtError {
    move |source| LibvirtError::Secret {
        action,
        uuid,
        source,
    }
}

pub(crate) fn domain_err(
    action: &'static str,
    name: &DomainName,
) -> impl FnOnce(VirtError) -> LibvirtError {
    let name = name.0.clone();
    move |source| LibvirtError::Domain {
        action,
        name,
        source,
    }
}
