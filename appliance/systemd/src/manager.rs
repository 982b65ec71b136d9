//! Starting units through systemd's D-Bus API.

use futures::future::BoxFuture;
use thiserror::Error;

/// A failed call to the service manager.
#[derive(Debug, Error)]
pub enum ManagerError {
    /// The system bus could not be reached.
    #[error("cannot connect to the system D-Bus")]
    Connect(#[source] zbus::Error),
    /// systemd refused or failed the call.
    #[error("systemd refused to start {unit}")]
    Call {
        /// The unit.
        unit: String,
        /// Why.
        #[source]
        source: zbus::Error,
    },
}

/// What the agent asks of the service manager.
pub trait ServiceManager: Send + Sync + 'static {
    /// Queues a start job for `unit` (mode `replace-irreversibly` for
    /// shutdown targets, so no later job can cancel them).
    fn start_unit<'a>(&'a self, unit: &'a str) -> BoxFuture<'a, Result<(), ManagerError>>;
}

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1"
)]
trait Manager {
    fn start_unit(&self, name: &str, mode: &str) -> zbus::Result<zbus::OwnedObjectPath>;
}

/// systemd over the system bus.
#[derive(Debug, Default)]
pub struct SystemdManager;

impl ServiceManager for SystemdManager {
    fn start_unit<'a>(&'a self, unit: &'a str) -> BoxFuture<'a, Result<(), ManagerError>> {
        Box::pin(async move {
            let bus = zbus::Connection::system()
                .await
                .map_err(ManagerError::Connect)?;
            let proxy = ManagerProxy::new(&bus)
                .await
                .map_err(ManagerError::Connect)?;
            let mode = if matches!(unit, "reboot.target" | "poweroff.target") {
                "replace-irreversibly"
            } else {
                "replace"
            };
            proxy
                .start_unit(unit, mode)
                .await
                .map(drop)
                .map_err(|source| ManagerError::Call {
                    unit: unit.to_owned(),
                    source,
                })
        })
    }
}

/// Records the units it was asked to start, for unit tests.
#[derive(Debug, Default)]
pub struct FakeManager {
    started: std::sync::Mutex<Vec<String>>,
}

impl FakeManager {
    /// Units started so far.
    pub fn started(&self) -> Vec<String> {
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl ServiceManager for FakeManager {
    fn start_unit<'a>(&'a self, unit: &'a str) -> BoxFuture<'a, Result<(), ManagerError>> {
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(unit.to_owned());
        Box::pin(async { Ok(()) })
    }
}
