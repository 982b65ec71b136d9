//! The SSH screen: enable SSH for 5–120 minutes (it turns itself off),
//! disable it, see the countdown and the audit trail.

use crate::event::{Effect, Reply, SshOp};
use crate::keymap::Command;
use crate::widgets::{TextField, edit_clearing, move_cursor};
use lqx_api::SshStatus;

/// Minutes accepted, as lqxd accepts them.
pub const MINUTES: std::ops::RangeInclusive<u32> = 5..=120;

/// Rows: minutes, password, Enable, Disable.
pub const ROWS: usize = 4;

/// The SSH screen's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshState {
    /// The status as last read.
    pub status: Option<SshStatus>,
    /// Minutes to enable for.
    pub minutes: TextField,
    /// The admin password (root's SSH password while enabled).
    pub password: TextField,
    /// Focused row.
    pub row: usize,
    /// Inline message under the minutes.
    pub minutes_error: Option<String>,
    /// Inline message under the password.
    pub password_error: Option<String>,
    /// The agent's last refusal or confirmation.
    pub message: Option<String>,
    /// Waiting for the agent.
    pub busy: bool,
}

impl Default for SshState {
    fn default() -> Self {
        Self {
            status: None,
            minutes: TextField::new("15"),
            password: TextField::masked(),
            row: 0,
            minutes_error: None,
            password_error: None,
            message: None,
            busy: false,
        }
    }
}

impl SshState {
    /// Whether keys go into a text field.
    pub fn typing(&self) -> bool {
        self.row < 2
    }

    /// Drops the typed password (on lock).
    pub fn forget_secrets(&mut self) {
        self.password.clear();
    }

    /// Keys on the screen.
    pub fn command(&mut self, command: Command) -> Vec<Effect> {
        if move_cursor(&mut self.row, command, ROWS) {
            return vec![];
        }
        match (self.row, command) {
            (0, Command::Enter) => self.row = 1,
            (0, other) => edit_clearing(&mut self.minutes, &mut self.minutes_error, other),
            (1 | 2, Command::Enter) | (2 | 3, Command::Letter('e')) => return self.enable(),
            (1, other) => edit_clearing(&mut self.password, &mut self.password_error, other),
            (3, Command::Enter) | (2 | 3, Command::Letter('d')) => {
                self.busy = true;
                return vec![Effect::DisableSsh];
            }
            _ => {}
        }
        vec![]
    }

    fn enable(&mut self) -> Vec<Effect> {
        let text = self.minutes.value().trim();
        let minutes = text.parse::<u32>().ok().filter(|m| MINUTES.contains(m));
        self.minutes_error = minutes.is_none().then(|| {
            format!(
                "\"{text}\" is not a number of minutes from {} to {}",
                MINUTES.start(),
                MINUTES.end()
            )
        });
        self.password_error = self
            .password
            .value()
            .is_empty()
            .then(|| "Type the admin password: it becomes root's SSH password.".to_owned());
        let Some(minutes) = minutes.filter(|_| self.password_error.is_none()) else {
            self.row = if self.minutes_error.is_some() { 0 } else { 1 };
            return vec![];
        };
        self.busy = true;
        let password = self.password.value().to_owned();
        self.password.clear();
        vec![Effect::EnableSsh { minutes, password }]
    }

    /// An SSH call finished.
    pub fn reply(&mut self, op: SshOp, reply: Reply<SshStatus>) {
        if op != SshOp::Fetch {
            self.busy = false;
        }
        match reply {
            Ok(status) => {
                self.message = match op {
                    SshOp::Fetch => self.message.take(),
                    SshOp::Enable => {
                        Some("SSH enabled; it turns itself off when the time is up.".into())
                    }
                    SshOp::Disable => Some("SSH disabled.".into()),
                };
                self.status = Some(status);
            }
            Err(failure) if failure.status == Some(401) => {
                self.password_error = Some(failure.message);
                self.row = 1;
            }
            Err(failure) if failure.status == Some(422) => {
                self.minutes_error = Some(failure.message);
                self.row = 0;
            }
            Err(failure) => self.message = Some(failure.message),
        }
    }
}
