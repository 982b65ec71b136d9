//! The cluster's virtual networks in OVN's northbound database.
//!
//! - [`converge`]: rows keyed in their `external_ids`, and the one
//!   transaction that makes the database hold exactly the wanted ones.
//! - [`model`]: the rows of each network, router, floating IP, security
//!   group, load balancer and port.
//! - [`writer`]: sessions with the central databases and the converge
//!   step.

pub mod converge;
pub mod model;
pub mod writer;

pub use converge::PlanCounts;
pub use writer::{NbError, NbWriter};
