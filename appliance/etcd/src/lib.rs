//! The cluster store of LimiQuantix hosts: etcd.
//!
//! The agent runs the host's etcd member as its child process (when the
//! host is one of the voting members) and reaches the cluster through
//! etcd's gRPC API with mutual TLS.
//!
//! - [`member`]: a member's configuration, rendered as etcd's flags.
//! - [`process`]: the member as a child process.
//! - [`store`]: the [`ClusterStore`] trait the agent's cluster logic uses.
//! - [`etcd`]: [`EtcdStore`], the trait on a real cluster.
//! - [`fake`]: [`FakeStore`], the trait in memory, for unit tests.

mod error;
pub mod etcd;
pub mod fake;
pub mod member;
pub mod process;
pub mod store;

pub use error::EtcdError;
pub use etcd::{ClientTls, EtcdStore};
pub use fake::FakeStore;
pub use member::{Bootstrap, MemberConfig, TlsFiles};
pub use process::MemberProcess;
pub use store::{Added, ClusterStore, Entry, LeaseId, MemberInfo, Put};
