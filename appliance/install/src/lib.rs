//! Installing the appliance onto a disk.
//!
//! - [`disks`]: the machine's disks as sysfs describes them, and why one
//!   may not be chosen (it holds the running system, is read-only, too
//!   small).
//! - [`selection`]: the operator's choice checked against that list,
//!   including the typed confirmation.
//! - [`writer`]: streaming the system image onto the disk with progress,
//!   then reading it back to verify.

pub mod disks;
pub mod selection;
pub mod writer;
