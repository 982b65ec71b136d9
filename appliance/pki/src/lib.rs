//! The public-key infrastructure of the remote API.
//!
//! Each host owns a certificate authority from its first start. It signs
//! the host's own server certificate and admin client certificates, and
//! the API's listener accepts only clients holding a certificate it
//! signed. Clustering (later) makes one host's authority the cluster's
//! and has it sign the other hosts' certificates.
//!
//! - [`authority`]: generating and reloading an authority, issuing
//!   certificates for hosts and admins.
//! - [`bundle`]: the files an admin client holds.
//! - [`tls`]: the rustls server and client configurations built from them.

pub mod authority;
pub mod bundle;
mod error;
pub mod tls;

pub use authority::{Authority, Identity, Issued, Role, Subject, fingerprint, fingerprint_der};
pub use bundle::{Bundle, BundleError};
pub use error::PkiError;
