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
    #[error("systemd refused to {verb} {unit}")]
    Call {
        /// What was asked: start, stop, restart.
        verb: &'static str,
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

    /// Queues a stop job for `unit`.
    fn stop_unit<'a>(&'a self, unit: &'a str) -> BoxFuture<'a, Result<(), ManagerError>>;

    /// Restarts `unit` (starts it if it is not running) so it rereads its
    /// configuration.
    fn restart_unit<'a>(&'a self, unit: &'a str) -> BoxFuture<'a, Result<(), ManagerError>>;
}

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1"
)]
trait Manager {
    fn start_unit(&self, name: &str, mode: &str) -> zbus::Result<zbus::OwnedObjectPath>;
    fn stop_unit(&self, name: &str, mode: &str) -> zbus::Result<zbus::OwnedObjectPath>;
    fn restart_unit(&self, name: &str, mode: &str) -> zbus::Result<zbus::OwnedObjectPath>;
}

#[derive(Clone, Copy)]
enum Verb {
    Start,
    Stop,
    Restart,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Verb::Start => "start",
            Verb::Stop => "stop",
            Verb::Restart => "restart",
        }
    }
}

async fn job(verb: Verb, unit: &str) -> Result<(), ManagerError> {
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
    let result = match verb {
        Verb::Start => proxy.start_unit(unit, mode).await,
        Verb::Stop => proxy.stop_unit(unit, mode).await,
        Verb::Restart => proxy.restart_unit(unit, mode).await,
    };
    result.map(drop).map_err(|source| ManagerError::Call {
        verb: verb.as_str(),
        unit: unit.to_owned(),
        source,
    })
}

/// systemd over the system bus.
#[derive(Debug, Default)]
pub struct SystemdManager;

impl ServiceManager for SystemdManager {
    fn start_unit<'a>(&'a self, unit: &'a str) -> BoxFuture<'a, Result<(), ManagerError>> {
        Box::pin(job(Verb::Start, unit))
    }

    fn stop_unit<'a>(&'a self, unit: &'a str) -> BoxFuture<'a, Result<(), ManagerError>> {
        Box::pin(job(Verb::Stop, unit))
    }

    fn restart_unit<'a>(&'a self, unit: &'a str) -> BoxFuture<'a, Result<(), ManagerError>> {
        Box::pin(job(Verb::Restart, unit))
    }
}

/// Records the jobs it was asked for, for unit tests.
#[derive(Debug, Default)]
pub struct FakeManager {
    jobs: std::sync::Mutex<Vec<String>>,
}

impl FakeManager {
    /// Units started so far.
    pub fn started(&self) -> Vec<String> {
        self.jobs_with("start")
    }

    /// Every job so far, as "start UNIT", "stop UNIT", "restart UNIT".
    pub fn jobs(&self) -> Vec<String> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn jobs_with(&self, verb: &str) -> Vec<String> {
        self.jobs()
            .into_iter()
            .filter_map(|j| j.strip_prefix(&format!("{verb} ")).map(str::to_owned))
            .collect()
    }

    fn record(&self, verb: Verb, unit: &str) -> BoxFuture<'static, Result<(), ManagerError>> {
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(format!("{} {unit}", verb.as_str()));
        Box::pin(async { Ok(()) })
    }
}

impl ServiceManager for FakeManager {
    fn start_unit<'a>(&'a self, unit: &'a str) -> BoxFuture<'a, Result<(), ManagerError>> {
        self.record(Verb::Start, unit)
    }

    fn stop_unit<'a>(&'a self, unit: &'a str) -> BoxFuture<'a, Result<(), ManagerError>> {
        self.record(Verb::Stop, unit)
    }

    fn restart_unit<'a>(&'a self, unit: &'a str) -> BoxFuture<'a, Result<(), ManagerError>> {
        self.record(Verb::Restart, unit)
    }
}
