//! The backend trait.

use futures::future::BoxFuture;
use lqx_api::HostFacts;
use std::path::PathBuf;
use thiserror::Error;

/// Something that can tell the agent about the host.
pub trait HostProbe: Send + Sync + 'static {
    /// Reads the host's facts now.
    fn facts(&self) -> BoxFuture<'_, Result<HostFacts, ProbeError>>;
}

/// Why the host could not be read.
#[derive(Debug, Error)]
pub enum ProbeError {
    /// A kernel or system file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file was read but not understood.
    #[error("cannot parse {path}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The rtnetlink socket failed.
    #[error("netlink request failed while reading {what}")]
    Netlink {
        /// Links, addresses or routes.
        what: &'static str,
        /// Why.
        #[source]
        source: rtnetlink::Error,
    },
    /// The rtnetlink socket could not be opened.
    #[error("cannot open a netlink socket")]
    NetlinkSocket(#[source] std::io::Error),
    /// A system call failed.
    #[error("{call} failed")]
    Syscall {
        /// The call.
        call: &'static str,
        /// Why.
        #[source]
        source: nix::errno::Errno,
    },
}
