//! Errors of the PKI.

use thiserror::Error;

/// Errors of generating, loading or using certificates.
#[derive(Debug, Error)]
pub enum PkiError {
    /// Key or certificate generation failed.
    #[error("cannot generate {what}")]
    Generate {
        /// What was being generated.
        what: &'static str,
        /// Why.
        #[source]
        source: rcgen::Error,
    },
    /// A PEM document could not be read.
    #[error("{what} is not valid PEM")]
    Pem {
        /// Which document.
        what: &'static str,
        /// Why.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// A key or certificate is not one rustls can use.
    #[error("{what} cannot be used for TLS")]
    Tls {
        /// What was refused.
        what: &'static str,
        /// Why.
        #[source]
        source: rustls::Error,
    },
    /// The CA certificate could not become a trust anchor.
    #[error("the CA certificate cannot be used as a trust anchor")]
    Verifier(#[source] Box<dyn std::error::Error + Send + Sync>),
}
