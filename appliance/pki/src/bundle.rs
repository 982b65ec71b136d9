//! An admin bundle: what a client needs to call the API remotely, as
//! three PEM files in one directory, in the names curl users expect
//! (`curl --cacert ca.crt --cert client.crt --key client.key`).

use crate::{Identity, PkiError};
use std::path::{Path, PathBuf};

/// The authority's certificate.
pub const CA_FILE: &str = "ca.crt";
/// The client's certificate.
pub const CERT_FILE: &str = "client.crt";
/// The client's private key (0600).
pub const KEY_FILE: &str = "client.key";

/// A bundle's contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    /// The authority's certificate, PEM.
    pub authority_pem: String,
    /// The client's certificate and key.
    pub client: Identity,
}

/// Errors reading a bundle.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A file of the bundle could not be read.
    #[error("cannot read {path} of the admin bundle")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Bundle {
    /// Reads the bundle in `dir`.
    pub fn read(dir: &Path) -> Result<Self, BundleError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| BundleError::Read { path, source })
        };
        Ok(Self {
            authority_pem: read(CA_FILE)?,
            client: Identity {
                cert_pem: read(CERT_FILE)?,
                key_pem: read(KEY_FILE)?,
            },
        })
    }

    /// The rustls client configuration of this bundle.
    pub fn client_config(&self) -> Result<std::sync::Arc<rustls::ClientConfig>, PkiError> {
        crate::tls::client_config(&self.authority_pem, &self.client)
    }
}
