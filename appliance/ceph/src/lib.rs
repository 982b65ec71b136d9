//! The Ceph backend: a connection to a cluster as one cephx client, what
//! the cluster says about itself, and RBD volumes.
//!
//! - [`backend`]: the traits the agent uses ([`CephBackend`] connects,
//!   [`CephCluster`] is a connection), so its logic can be tested on
//!   [`fake::FakeCeph`].
//! - [`rados`]: the real backend. librados handles are not `Send`, so each
//!   connection lives on a thread of its own that runs the calls it is
//!   sent.
//! - [`conf`]: the ceph.conf a connection reads.
//! - [`status`]: reading `status`, `mon dump` and `osd pool ls` answers.
//! - [`volumes`]: volume operations on librbd, with the checks that keep a
//!   refused operation from changing anything.

pub mod backend;
pub mod conf;
mod error;
pub mod fake;
pub mod rados;
pub mod status;
mod volumes;

pub use backend::{CephBackend, CephCluster, ConnectParams};
pub use error::CephError;
pub use rados::RadosBackend;
