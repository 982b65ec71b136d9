//! Ceph keys held by libvirt as secrets, for QEMU's RBD disks.
//!
//! A disk's `<auth>` names a secret by UUID; when the VM starts, libvirt
//! hands the secret's value to QEMU, which gives it to librbd as the cephx
//! key. The value convention, checked against libvirt 9.0 and QEMU 10.0's
//! rbd driver by starting a VM on a real cluster (`tests/libvirtd.rs`): the
//! value is the *decoded* key, the 28 bytes that the base64 text of
//! `ceph auth print-key` stands for. libvirt base64-encodes the value again
//! for QEMU (and in `/etc/libvirt/secrets/UUID.base64`), so storing the text
//! itself would give librbd a key it cannot decode. [`CephxKey`] carries
//! the decoded form so the two cannot be confused.

use crate::error::LibvirtError;
use crate::xml::{escape, has_forbidden_char};
pub use lqx_core::ceph::{CephxKey, KeyError};
use std::collections::BTreeMap;
use std::sync::Mutex;
use uuid::Uuid;

/// The `<secret>` definition of a Ceph key: persistent (`ephemeral='no'`),
/// and `private='yes'` so libvirt never gives the value back over its API,
/// not even to root (`virsh secret-get-value` answers "secret is
/// private"); only QEMU receives it.
pub fn ceph_secret_xml(uuid: Uuid, usage_name: &str) -> String {
    format!(
        "\
<secret ephemeral='no' private='yes'>
  <uuid>{}</uuid>
  <usage type='ceph'>
    <name>{}</name>
  </usage>
</secret>
",
        uuid.hyphenated(),
        escape(usage_name)
    )
}

/// Where the host's Ceph keys live for QEMU: libvirt's secrets, or a fake.
///
/// Calls block (libvirt's API is synchronous): async callers use
/// `spawn_blocking`.
pub trait SecretStore: Send + Sync {
    /// Makes secret `uuid` a Ceph secret named `usage_name` whose value is
    /// `key`: defines it when absent, redefines it when its usage name
    /// differs, and always sets the value, so this converges from any
    /// earlier state. Fails with [`LibvirtError::UsageTaken`] when another
    /// secret has the usage name.
    fn set_ceph_secret(
        &self,
        uuid: Uuid,
        usage_name: &str,
        key: &CephxKey,
    ) -> Result<(), LibvirtError>;

    /// Removes secret `uuid`; a secret that does not exist is not an error.
    fn remove_secret(&self, uuid: Uuid) -> Result<(), LibvirtError>;

    /// Whether secret `uuid` is defined.
    fn secret_exists(&self, uuid: Uuid) -> Result<bool, LibvirtError>;
}

/// Refuses usage names libvirt cannot carry: the name is XML element
/// content, and the `virt` crate panics on a NUL.
pub(crate) fn check_usage_name(usage_name: &str) -> Result<(), LibvirtError> {
    if usage_name.trim().is_empty() || has_forbidden_char(usage_name) {
        return Err(LibvirtError::UsageName(usage_name.to_owned()));
    }
    Ok(())
}

/// An in-memory [`SecretStore`] for callers' unit tests, with libvirt's
/// rules: one secret per usage name, removal of an absent secret allowed.
#[derive(Debug, Default)]
pub struct FakeSecrets {
    secrets: Mutex<BTreeMap<Uuid, (String, CephxKey)>>,
}

impl FakeSecrets {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The usage name and key of secret `uuid`, if defined.
    pub fn get(&self, uuid: Uuid) -> Option<(String, CephxKey)> {
        self.lock().get(&uuid).cloned()
    }

    /// The UUIDs of every defined secret, in order.
    pub fn uuids(&self) -> Vec<Uuid> {
        self.lock().keys().copied().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Uuid, (String, CephxKey)>> {
        // A panic in another test thread must not hide this store's state.
        self.secrets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SecretStore for FakeSecrets {
    fn set_ceph_secret(
        &self,
        uuid: Uuid,
        usage_name: &str,
        key: &CephxKey,
    ) -> Result<(), LibvirtError> {
        check_usage_name(usage_name)?;
        let mut secrets = self.lock();
        if let Some((&owner, _)) = secrets
            .iter()
            .find(|(other, (name, _))| **other != uuid && name == usage_name)
        {
            return Err(LibvirtError::UsageTaken {
                usage_name: usage_name.to_owned(),
                owner,
            });
        }
        secrets.insert(uuid, (usage_name.to_owned(), key.clone()));
        Ok(())
    }

    fn remove_secret(&self, uuid: Uuid) -> Result<(), LibvirtError> {
        self.lock().remove(&uuid);
        Ok(())
    }

    fn secret_exists(&self, uuid: Uuid) -> Result<bool, LibvirtError> {
        Ok(self.lock().contains_key(&uuid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key as `ceph-authtool --gen-print-key` prints one.
    const KEY: &str = "AQBjdwhrajHoGxAAgQz2sleLL0DXYVYH0DSCxQ==";

    fn uuid(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn secret_xml_is_private_persistent_and_escaped() {
        assert_eq!(
            ceph_secret_xml(uuid(1), "client.lqx <vms>"),
            "\
<secret ephemeral='no' private='yes'>
  <uuid>00000000-0000-0000-0000-000000000001</uuid>
  <usage type='ceph'>
    <name>client.lqx &lt;vms&gt;</name>
  </usage>
</secret>
"
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = CephxKey::from_base64(KEY).unwrap();
        let fake = FakeSecrets::new();
        fake.set_ceph_secret(uuid(1), "client.lqx", &key).unwrap();
        for shown in [format!("{key:?}"), format!("{fake:?}")] {
            assert!(shown.contains("<redacted>"), "{shown}");
            assert!(!shown.contains("AQ"), "{shown}");
            assert!(!shown.contains("[1, 0"), "{shown}");
        }
    }

    #[test]
    fn fake_follows_libvirts_rules() {
        let key = CephxKey::from_base64(KEY).unwrap();
        let fake = FakeSecrets::new();
        assert!(!fake.secret_exists(uuid(1)).unwrap());
        fake.set_ceph_secret(uuid(1), "client.a", &key).unwrap();
        assert!(fake.secret_exists(uuid(1)).unwrap());
        // Redefining under another usage name replaces the old one.
        fake.set_ceph_secret(uuid(1), "client.b", &key).unwrap();
        assert_eq!(fake.get(uuid(1)).unwrap().0, "client.b");
        // One secret per usage name.
        assert!(matches!(
            fake.set_ceph_secret(uuid(2), "client.b", &key),
            Err(LibvirtError::UsageTaken { owner, .. }) if owner == uuid(1)
        ));
        assert!(matches!(
            fake.set_ceph_secret(uuid(2), "", &key),
            Err(LibvirtError::UsageName(_))
        ));
        fake.remove_secret(uuid(1)).unwrap();
        fake.remove_secret(uuid(1)).unwrap();
        assert!(fake.uuids().is_empty());
    }
}
