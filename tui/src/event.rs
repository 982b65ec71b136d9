//! Everything that can change the console's state arrives as an [`Event`]
//! on one channel; work the state asks for leaves as an [`Effect`].

use crossterm::event::KeyEvent;
use lqx_api::{HostInfo, InstallInfo, InstallProgress, PowerAction};

/// One thing that happened.
#[derive(Debug)]
pub enum Event {
    /// A key was pressed.
    Key(KeyEvent),
    /// The terminal changed size; the next draw adapts.
    Resize,
    /// Time to refresh what is shown.
    Tick,
    /// `GET /v1/host` finished.
    Host(Result<Box<HostInfo>, String>),
    /// `GET /v1/install` finished.
    Install(Result<Box<InstallInfo>, String>),
    /// `POST /v1/install` finished.
    InstallStarted(Result<InstallProgress, String>),
    /// `POST /v1/host/power` finished.
    Power(Result<(), String>),
}

/// Work the runtime does on the state's behalf; its results come back as
/// events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// `GET /v1/host`.
    FetchHost,
    /// `GET /v1/install`.
    FetchInstall,
    /// `POST /v1/install`.
    StartInstall {
        /// Disk name.
        disk: String,
        /// What the operator typed.
        confirm: String,
    },
    /// `POST /v1/host/power`.
    Power(PowerAction),
}
