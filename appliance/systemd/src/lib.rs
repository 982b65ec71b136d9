//! systemd as the agent sees it.
//!
//! - [`detect`]: the facts that decide the agent's mode.
//! - [`Notifier`]: `sd_notify` readiness, status and watchdog pings; a
//!   no-op when the agent was not started by systemd.
//!
//! - [`ServiceManager`]: starting units over D-Bus ([`SystemdManager`]),
//!   with [`FakeManager`] for unit tests.

mod manager;

pub use manager::{FakeManager, ManagerError, ServiceManager, SystemdManager};

use lqx_core::mode::SystemFacts;
use std::path::PathBuf;
use std::time::Duration;

/// Where systemd and our units are looked for.
#[derive(Clone, Debug)]
pub struct Probe {
    /// Exists only when systemd is PID 1 (`sd_booted(3)`).
    pub run_systemd: PathBuf,
    /// Directories where `lqxd.service` is installed on the appliance.
    pub unit_dirs: Vec<PathBuf>,
}

impl Default for Probe {
    fn default() -> Self {
        Self {
            run_systemd: "/run/systemd/system".into(),
            unit_dirs: vec![
                "/usr/lib/systemd/system".into(),
                "/etc/systemd/system".into(),
            ],
        }
    }
}

/// Name of the agent's own unit.
pub const AGENT_UNIT: &str = "lqxd.service";

/// Reads the facts that decide whether the agent manages this host.
pub fn detect(probe: &Probe) -> SystemFacts {
    SystemFacts {
        systemd_is_init: probe.run_systemd.is_dir(),
        agent_unit_installed: probe.unit_dirs.iter().any(|d| d.join(AGENT_UNIT).exists()),
    }
}

/// Whether the process's output goes to the journal (systemd sets
/// `JOURNAL_STREAM` for services whose stdout/stderr is the journal).
pub fn stderr_is_journal() -> bool {
    std::env::var_os("JOURNAL_STREAM").is_some()
}

/// Sends `sd_notify(3)` messages when systemd is listening.
#[derive(Clone, Debug)]
pub struct Notifier {
    enabled: bool,
}

impl Notifier {
    /// A notifier for this process: active only when `NOTIFY_SOCKET` is set.
    pub fn from_env() -> Self {
        Self {
            enabled: std::env::var_os("NOTIFY_SOCKET").is_some(),
        }
    }

    /// Whether systemd is listening.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    fn send(&self, states: &[sd_notify::NotifyState<'_>]) {
        if self.enabled
            && let Err(error) = sd_notify::notify(states)
        {
            tracing::warn!(%error, "sd_notify failed");
        }
    }

    /// Tells systemd the service is ready, with a status line.
    pub fn ready(&self, status: &str) {
        self.send(&[
            sd_notify::NotifyState::Ready,
            sd_notify::NotifyState::Status(status),
        ]);
    }

    /// Updates the status line `systemctl status` shows.
    pub fn status(&self, status: &str) {
        self.send(&[sd_notify::NotifyState::Status(status)]);
    }

    /// Tells systemd the service is stopping.
    pub fn stopping(&self) {
        self.send(&[sd_notify::NotifyState::Stopping]);
    }

    /// Pings the watchdog.
    pub fn watchdog(&self) {
        self.send(&[sd_notify::NotifyState::Watchdog]);
    }

    /// How often to ping the watchdog: half the interval systemd expects,
    /// or `None` when no watchdog is armed for this process.
    pub fn watchdog_period(&self) -> Option<Duration> {
        sd_notify::watchdog_enabled()
            .filter(|d| self.enabled && !d.is_zero())
            .map(|d| d / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_from_given_paths() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run-systemd");
        let units = dir.path().join("units");
        std::fs::create_dir_all(&units).unwrap();
        let probe = Probe {
            run_systemd: run.clone(),
            unit_dirs: vec![units.clone()],
        };
        assert_eq!(
            detect(&probe),
            SystemFacts {
                systemd_is_init: false,
                agent_unit_installed: false
            }
        );
        std::fs::create_dir(&run).unwrap();
        std::fs::write(units.join(AGENT_UNIT), "").unwrap();
        assert_eq!(
            detect(&probe),
            SystemFacts {
                systemd_is_init: true,
                agent_unit_installed: true
            }
        );
    }
}
