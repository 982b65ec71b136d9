//! The host agent's logic, kept free of I/O so it can be tested alone.
//!
//! - [`ceph`]: checking Ceph join requests, sizes and volume names.
//! - [`ceph_state`]: the Ceph cluster this host joined.
//! - [`cluster`]: the cluster membership, the records hosts keep in the
//!   cluster store and the member list derived from them.
//! - [`cluster_token`]: join tokens and their text form.
//! - [`document`]: how a persisted document declares and checks its
//!   schema version.
//! - [`host_state`]: the persisted host document (identity, labels) and
//!   how older schema versions are read.
//! - [`labels`]: what a valid label is and how a patch applies.
//! - [`mode`]: whether the agent manages the host it runs on.
//! - [`network`]: validating a network configuration and rendering it
//!   into systemd-networkd files.
//! - [`network_state`]: the persisted network document and its apply cycle.
//! - [`ovn_state`]: the OVN chassis registration.
//! - [`pki_state`]: the host's certificate authority and API certificate.
//! - [`secrets`]: the admin password hash and the SSH window.
//! - [`shadow`]: editing a password field of /etc/shadow text.
//! - [`vm`]: VM specs, where a VM may run, and the VM records of the
//!   cluster store.
//! - [`vnet`]: the cluster's virtual networks and the checks of every
//!   change to them.

pub mod ceph;
pub mod ceph_state;
pub mod cluster;
pub mod cluster_token;
pub mod document;
pub mod host_state;
pub mod labels;
pub mod mode;
pub mod network;
pub mod network_state;
pub mod ovn_state;
pub mod pki_state;
pub mod secrets;
pub mod shadow;
pub mod vm;
pub mod vnet;
