//! Everything that can change the console's state arrives as an [`Event`]
//! on one channel.

use crossterm::event::KeyEvent;
use lqx_api::HostInfo;

/// One thing that happened.
#[derive(Debug)]
pub enum Event {
    /// A key was pressed.
    Key(KeyEvent),
    /// The terminal changed size; the next draw adapts.
    Resize,
    /// Time to refresh what is shown.
    Tick,
    /// A `GET /v1/host` finished.
    Host(Result<Box<HostInfo>, String>),
}

/// Work the runtime does on the state's behalf; its results come back as
/// events.
#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    /// Fetch `GET /v1/host`.
    FetchHost,
}
