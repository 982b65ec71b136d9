//! The host's networking as lqxd changes it: configuration files written
//! under /etc/systemd and applied over D-Bus ([`Networkd`]), or only
//! written ([`FilesOnly`], for agents that must not touch the host), and
//! the preflight checks that tell whether the result works ([`checks`]).
//!
//! Every backend implements [`NetworkBackend`]; [`FakeBackend`] records
//! what it was asked for, for unit tests of the agent's apply logic.

pub mod checks;
mod fake;
mod files;
mod networkd;

pub use fake::FakeBackend;
pub use files::{FilesOnly, write_owned};
pub use networkd::Networkd;

use futures::future::BoxFuture;
use lqx_core::network::RenderedFile;
use std::io;
use std::path::PathBuf;
use thiserror::Error;

/// What one apply asks of the system.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyPlan {
    /// Files under /etc/systemd. An empty list restores the image's
    /// defaults (every file lqxd owns is removed).
    pub files: Vec<RenderedFile>,
    /// Static hostname to set, if any.
    pub hostname: Option<String>,
    /// Bonds and VLANs of the previous configuration that the new one no
    /// longer has: networkd never deletes a netdev by itself.
    pub remove_links: Vec<String>,
}

/// Failures while applying a plan.
#[derive(Debug, Error)]
pub enum NetworkError {
    /// A configuration file could not be written or removed.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The system bus could not be reached.
    #[error("cannot connect to the system D-Bus")]
    Bus(#[source] zbus::Error),
    /// A daemon refused a call.
    #[error("{service} refused {call}")]
    Call {
        /// The D-Bus service.
        service: &'static str,
        /// The method.
        call: &'static str,
        /// Why.
        #[source]
        source: zbus::Error,
    },
    /// A unit could not be restarted to reread its configuration.
    #[error("cannot restart a service to reread its configuration")]
    Restart(#[source] lqx_systemd::ManagerError),
    /// The host's links could not be listed.
    #[error("cannot list the host's links")]
    ListLinks(#[source] rtnetlink::Error),
    /// A link could not be deleted.
    #[error("cannot delete link {name}")]
    DeleteLink {
        /// The link.
        name: String,
        /// Why.
        #[source]
        source: rtnetlink::Error,
    },
    /// The netlink socket could not be opened.
    #[error("cannot open a netlink socket")]
    Netlink(#[source] io::Error),
    /// A blocking task died.
    #[error("internal task failed")]
    Task(#[source] tokio::task::JoinError),
    /// An injected failure (fakes only).
    #[error("{0}")]
    Injected(String),
}

/// Puts a plan into effect.
pub trait NetworkBackend: Send + Sync + 'static {
    /// Writes the plan's files and makes the daemons use them. On error
    /// the system may be half-way; the caller applies the previous plan.
    fn apply<'a>(&'a self, plan: &'a ApplyPlan) -> BoxFuture<'a, Result<(), NetworkError>>;

    /// Which backend this is, for the API.
    fn kind(&self) -> lqx_api::NetworkBackendKind;
}
