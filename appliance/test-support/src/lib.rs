//! Fixtures that start the project's real binaries for integration tests.
//!
//! Each fixture owns a private temporary directory, starts its process as
//! a direct child (so it is reaped promptly), waits for readiness by
//! connecting, and kills the process by pid when dropped.

mod agent;
pub mod bench;
mod bins;
pub mod ceph;
pub mod cluster;
pub mod guest;
pub mod libvirt;
mod loop_disk;
pub mod netns;
pub mod ovn;
pub mod ovsdb;
pub mod vm_host;

pub use agent::AgentFixture;
pub use bins::{assert_ok, assert_refused, run_lqx, text, workspace_bin};
pub use loop_disk::LoopDisk;
