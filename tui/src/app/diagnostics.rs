//! The diagnostics screen: the agent's preflight checks and the journal
//! of a chosen unit. Read-only, so it is shown while locked.

use crate::event::{Effect, Reply};
use crate::keymap::Command;
use crate::widgets::{Choice, TailScroll, TextField};
use lqx_api::{Diagnostics, JournalLines};

/// Units offered for the journal view; any other can be typed.
pub const UNITS: [&str; 6] = [
    "lqxd.service",
    "systemd-networkd.service",
    "systemd-resolved.service",
    "systemd-timesyncd.service",
    "ssh.service",
    "lqx-console@tty1.service",
];

/// The diagnostics screen's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiagState {
    /// The checks as last read.
    pub checks: Option<Diagnostics>,
    /// Why reading the checks failed.
    pub checks_error: Option<String>,
    /// Whether checks are being run.
    pub checking: bool,
    /// The journal as last read.
    pub journal: Option<JournalLines>,
    /// Why reading the journal failed.
    pub journal_error: Option<String>,
    /// The offered units, cycled with Left/Right.
    pub units: Choice,
    /// The unit shown (an offered one or a typed one).
    pub unit: String,
    /// A unit name being typed (after T).
    pub typed: Option<TextField>,
    /// Journal scroll position.
    pub scroll: TailScroll,
}

impl Default for DiagState {
    fn default() -> Self {
        Self {
            checks: None,
            checks_error: None,
            checking: false,
            journal: None,
            journal_error: None,
            units: Choice::new(UNITS),
            unit: UNITS[0].into(),
            typed: None,
            scroll: TailScroll::default(),
        }
    }
}

impl DiagState {
    /// Whether keys go into the unit field.
    pub fn typing(&self) -> bool {
        self.typed.is_some()
    }

    /// Reads the journal of the unit shown.
    pub fn fetch_journal(&mut self) -> Effect {
        Effect::FetchJournal {
            unit: self.unit.clone(),
        }
    }

    /// Keys on the screen.
    pub fn command(&mut self, command: Command) -> Vec<Effect> {
        if let Some(field) = self.typed.as_mut() {
            match command {
                Command::Enter => {
                    let unit = field.value().trim().to_owned();
                    self.typed = None;
                    if !unit.is_empty() {
                        return vec![self.show(unit)];
                    }
                }
                Command::Back => self.typed = None,
                other => {
                    field.edit(other);
                }
            }
            return vec![];
        }
        let lines = self.journal.as_ref().map_or(0, |j| j.lines.len());
        if self.scroll.scroll(command, lines) {
            return vec![];
        }
        match command {
            Command::Left | Command::Right | Command::Toggle => {
                self.units.edit(command);
                vec![self.show(self.units.label().to_owned())]
            }
            Command::Letter('t') => {
                self.typed = Some(TextField::new(""));
                vec![]
            }
            _ => vec![],
        }
    }

    fn show(&mut self, unit: String) -> Effect {
        self.unit = unit;
        self.scroll = TailScroll::default();
        self.journal = None;
        self.journal_error = None;
        self.fetch_journal()
    }

    /// The checks arrived.
    pub fn checks_reply(&mut self, reply: Reply<Diagnostics>) {
        self.checking = false;
        match reply {
            Ok(checks) => {
                self.checks = Some(checks);
                self.checks_error = None;
            }
            Err(failure) => self.checks_error = Some(failure.message),
        }
    }

    /// A journal arrived; one for a unit no longer shown is dropped.
    pub fn journal_reply(&mut self, reply: Reply<JournalLines>) {
        match reply {
            Ok(journal) if journal.unit == self.unit => {
                self.journal = Some(journal);
                self.journal_error = None;
            }
            Ok(_) => {}
            Err(failure) => self.journal_error = Some(failure.message),
        }
    }
}
