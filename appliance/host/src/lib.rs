//! Reading the running host.
//!
//! [`HostProbe`] is the backend trait the agent uses; [`SystemProbe`]
//! reads the real system (procfs, `os-release`, resolver files, rtnetlink)
//! and [`FakeProbe`] returns fixed facts for unit tests of the agent.
//! The text formats are parsed by pure functions in [`parse`].

mod fake;
mod netlink;
pub mod parse;
mod probe;
mod system;

pub use fake::FakeProbe;
pub use probe::{HostProbe, ProbeError};
pub use system::{SystemPaths, SystemProbe};
