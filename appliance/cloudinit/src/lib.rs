//! cloud-init NoCloud data for LimiQuantix VMs: checks `user-data`,
//! `meta-data` and `network-config` before a VM is created, and writes the
//! seed ISO (volume label `cidata`) the VM boots with, where cloud-init's
//! NoCloud data source finds them.
//!
//! - [`validate`] refuses what cloud-init would reject or silently ignore
//!   inside the guest, with a message naming the document and, for YAML,
//!   the line and column.
//! - [`default_meta_data`] gives the meta-data of a VM whose owner gave none.
//! - [`seed_iso`] builds the image in memory; [`write_seed`] validates and
//!   writes it atomically, readable by root only.
//!
//! # How the ISO is written
//!
//! With the [`hadris_iso`] crate, not by running `genisoimage`, `xorriso` or
//! `mkisofs`: the appliance runs no external tools for this, and a crate
//! that writes ISO 9660 is enough. hadris-iso 2.x writes ISO 9660 with both
//! Rock Ridge and Joliet names, as `genisoimage -J -r -V cidata` does, which
//! is what Linux's isofs needs to show the lowercase, hyphenated names
//! cloud-init opens (plain ISO 9660 names are uppercase); its dependencies
//! are small and mostly already in the workspace. Its output is checked by
//! this crate's unit tests (descriptors, Rock Ridge `NM` and Joliet names)
//! and by the integration test, which mounts the image with Linux's isofs
//! (or, on a kernel without it, reads it with xorriso's libisofs) through
//! both name trees and asks `blkid` for its label and type.

mod error;
mod iso;
mod meta_data;
mod validate;
mod write;

pub use error::{CloudInitError, Document};
pub use iso::{VOLUME_ID, seed_iso};
pub use meta_data::default_meta_data;
pub use validate::validate;
pub use write::write_seed;

/// The largest a single document may be, in bytes (64 KiB).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// The largest the documents may be together, in bytes (128 KiB): the seed
/// is a small ISO attached to every VM, not a way to ship files.
pub const MAX_TOTAL_BYTES: usize = 128 * 1024;

/// The three NoCloud documents, as the API receives them
/// (`lqx_api::CloudInit` has the same fields).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct NoCloud {
    /// `user-data`: `#cloud-config` YAML, a `#!` script, or a MIME
    /// multi-part archive, perhaps as a jinja template.
    pub user_data: String,
    /// `meta-data` (a YAML mapping); `None` for the caller's default.
    pub meta_data: Option<String>,
    /// `network-config` (YAML, version 1 or 2); `None` leaves networking to
    /// cloud-init's default (DHCP on the first interface).
    pub network_config: Option<String>,
}

// user-data often carries passwords and keys; keep it out of logs.
impl std::fmt::Debug for NoCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoCloud")
            .field("user_data_bytes", &self.user_data.len())
            .field("meta_data", &self.meta_data.is_some())
            .field("network_config", &self.network_config.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_documents() {
        let data = NoCloud {
            user_data: "#cloud-config\npassword: hunter2\n".to_owned(),
            meta_data: Some("instance-id: secret-id\n".to_owned()),
            network_config: None,
        };
        let shown = format!("{data:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("secret-id"),
            "{shown}"
        );
    }
}
