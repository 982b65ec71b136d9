//! Registering this host as an OVN chassis, and writing the cluster's
//! virtual networks to OVN's northbound database.
//!
//! Registration is a few `external_ids` on the local `Open_vSwitch` row
//! (`system-id`, `hostname`, `ovn-remote`, `ovn-encap-type`,
//! `ovn-encap-ip`, `ovn-bridge`, `ovn-bridge-mappings`) and the
//! integration bridge; ovn-controller reads them and creates the
//! southbound `Chassis` and `Encap` rows. This crate writes them over
//! OVSDB, checks the southbound database before writing anything, and
//! waits for the rows, undoing its write when they do not come.
//!
//! - [`validate`]: checking a request before anything is touched.
//! - [`chassis`]: the OVSDB side, [`OvsChassis`].
//! - [`nb`]: the cluster's virtual networks in the northbound database.

pub mod chassis;
pub mod nb;
pub mod validate;

pub use chassis::{ChassisTls, OvnError, OvsChassis, Registration};
pub use nb::{NbError, NbWriter};
pub use validate::{Validated, ca_problem, validate};
