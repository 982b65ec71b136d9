//! The Ceph screen: join an existing cluster as a client (monitors, cephx
//! name and key, optionally the fsid it must have), see what the cluster
//! says, leave it. Fields are checked by the validator lqxd uses, so a
//! refusal shows inline before anything is sent. The key is masked while
//! typed, never shown back, and forgotten once joined or when the console
//! locks.

use crate::event::{CephOp, Effect, Reply};
use crate::keymap::Command;
use crate::widgets::{TextField, edit_clearing, move_cursor, split_list};
use lqx_api::{CephJoinRequest, CephStatus};
use time::OffsetDateTime;
use uuid::Uuid;

/// Row of the monitor addresses.
pub const MONS: usize = 0;
/// Row of the cephx name.
pub const NAME: usize = 1;
/// Row of the key.
pub const KEY: usize = 2;
/// Row of the optional fsid.
pub const FSID: usize = 3;
/// Row of the Join button.
pub const JOIN: usize = 4;
/// Row of the Leave button.
pub const LEAVE: usize = 5;
/// Rows on the screen.
pub const ROWS: usize = 6;

/// A call the screen waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy {
    /// Join or Leave.
    pub op: CephOp,
    /// When it was sent: a join can take the agent's whole connect
    /// timeout, and the seconds shown say the console is not stuck.
    pub since: OffsetDateTime,
}

/// The Ceph screen's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CephState {
    /// The status as last read.
    pub status: Option<CephStatus>,
    /// Monitor addresses, comma- or space-separated.
    pub mons: TextField,
    /// `client.ID`.
    pub name: TextField,
    /// The cephx key (masked).
    pub key: TextField,
    /// The fsid the cluster must have; empty for any.
    pub fsid: TextField,
    /// Focused row.
    pub row: usize,
    /// Inline messages, indexed by the field's row.
    pub errors: [Option<String>; 4],
    /// The agent's last refusal or confirmation.
    pub message: Option<String>,
    /// Waiting for the agent.
    pub busy: Option<Busy>,
    /// Leave was chosen and waits for Y.
    pub confirm_leave: bool,
    /// The fields were filled from the membership already.
    filled: bool,
}

impl Default for CephState {
    fn default() -> Self {
        Self {
            status: None,
            mons: TextField::new(""),
            name: TextField::new(""),
            key: TextField::masked(),
            fsid: TextField::new(""),
            row: MONS,
            errors: Default::default(),
            message: None,
            busy: None,
            confirm_leave: false,
            filled: false,
        }
    }
}

impl CephState {
    /// Whether keys go into a text field.
    pub fn typing(&self) -> bool {
        self.row <= FSID
    }

    /// Drops the typed key and any pending confirmation (on lock).
    pub fn forget_secrets(&mut self) {
        self.key.clear();
        self.confirm_leave = false;
    }

    /// Keys on the screen at time `now`.
    pub fn command(&mut self, command: Command, now: OffsetDateTime) -> Vec<Effect> {
        if self.busy.is_some() {
            return vec![];
        }
        if self.confirm_leave {
            match command {
                Command::Letter('y') => {
                    self.confirm_leave = false;
                    self.busy = Some(Busy {
                        op: CephOp::Leave,
                        since: now,
                    });
                    self.message = None;
                    return vec![Effect::LeaveCeph];
                }
                Command::Back | Command::Letter('n') => self.confirm_leave = false,
                _ => {}
            }
            return vec![];
        }
        if move_cursor(&mut self.row, command, ROWS) {
            return vec![];
        }
        match (self.row, command) {
            (MONS..=KEY, Command::Enter) => self.row += 1,
            (FSID | JOIN, Command::Enter) => return self.join(now),
            (LEAVE, Command::Enter) => self.ask_leave(),
            (row @ MONS..=FSID, other) => {
                let field = match row {
                    MONS => &mut self.mons,
                    NAME => &mut self.name,
                    KEY => &mut self.key,
                    _ => &mut self.fsid,
                };
                edit_clearing(field, &mut self.errors[row], other);
            }
            _ => {}
        }
        vec![]
    }

    fn ask_leave(&mut self) {
        if self.status.as_ref().is_some_and(|s| s.config.is_none()) {
            self.message =
                Some("This host has not joined a Ceph cluster: nothing to leave.".into());
        } else {
            self.confirm_leave = true;
        }
    }

    fn join(&mut self, now: OffsetDateTime) -> Vec<Effect> {
        self.errors = Default::default();
        self.message = None;
        // lqxd takes a UUID here, so the console parses it: the
        // validator only sees requests that could be sent.
        let text = self.fsid.value().trim();
        let fsid = match text {
            "" => None,
            _ => match Uuid::parse_str(text) {
                Ok(uuid) => Some(uuid),
                Err(_) => {
                    self.errors[FSID] = Some(format!(
                        "\"{text}\" is not a UUID (`ceph fsid` prints the cluster's)"
                    ));
                    None
                }
            },
        };
        let request = CephJoinRequest {
            mons: split_list(self.mons.value()),
            name: self.name.value().trim().to_owned(),
            key: self.key.value().trim().to_owned(),
            fsid,
        };
        if let Err(problems) = lqx_core::ceph::validate_join(&request) {
            self.place(&problems);
        }
        if self.focus_first_error() {
            return vec![];
        }
        self.busy = Some(Busy {
            op: CephOp::Join,
            since: now,
        });
        vec![Effect::JoinCeph(request)]
    }

    /// Puts each line of `problems` under its field: lines start with
    /// the field's name, as `validate_join` and lqxd write them. A line
    /// naming no field is the agent's verdict on the credentials
    /// (authentication failed), so it goes under the key.
    fn place(&mut self, problems: &str) {
        for line in problems.lines() {
            let (row, text) = match line.split_once(": ") {
                Some(("mons", text)) => (MONS, text),
                Some(("name", text)) => (NAME, text),
                Some(("key", text)) => (KEY, text),
                Some(("fsid", text)) => (FSID, text),
                _ => (KEY, line),
            };
            // Several monitors can be wrong at once: say so for each.
            match &mut self.errors[row] {
                Some(existing) => {
                    existing.push_str("; ");
                    existing.push_str(text);
                }
                slot => *slot = Some(text.to_owned()),
            }
        }
    }

    /// Moves the cursor to the first field with a message; returns
    /// whether there was one.
    fn focus_first_error(&mut self) -> bool {
        match self.errors.iter().position(Option::is_some) {
            Some(row) => {
                self.row = row;
                true
            }
            None => false,
        }
    }

    /// A Ceph call finished.
    pub fn reply(&mut self, op: CephOp, reply: Reply<CephStatus>) {
        if op == CephOp::Fetch && self.busy.is_some() {
            // Read before the join or leave took the agent's lock, so
            // older than the answer that is coming: drop it.
            return;
        }
        if op != CephOp::Fetch {
            self.busy = None;
        }
        match reply {
            Ok(status) => {
                self.message = match (op, &status.config) {
                    (CephOp::Fetch, _) => self.message.take(),
                    (CephOp::Join, Some(config)) => Some(format!(
                        "Joined: the monitors accepted {} and lqxd stored its key.",
                        config.name
                    )),
                    (CephOp::Join, None) => Some("Joined.".into()),
                    (CephOp::Leave, _) => {
                        Some("Left the cluster: this host forgot its key and monitors.".into())
                    }
                };
                if op == CephOp::Join {
                    // The agent has it now; and show the monitors as it
                    // saved them (normalised).
                    self.key.clear();
                    self.filled = false;
                }
                self.fill(&status);
                self.status = Some(status);
            }
            Err(failure) if op == CephOp::Join && failure.status == Some(422) => {
                self.place(&failure.message);
                self.focus_first_error();
            }
            Err(failure) => self.message = Some(failure.message),
        }
    }

    /// Fills the fields from the membership, once: the key is never
    /// returned, so it stays empty.
    fn fill(&mut self, status: &CephStatus) {
        let Some(config) = status.config.as_ref().filter(|_| !self.filled) else {
            return;
        };
        self.mons.set(config.mons.join(", "));
        self.name.set(config.name.clone());
        self.fsid.set(config.fsid.to_string());
        self.filled = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Failure;

    const KEY_B64: &str = "AQBzSk5nAAAAABAAGJ2UxtMqK6IjkGUoJ9DAHQ==";

    fn typed(state: &mut CephState, text: &str) {
        for c in text.chars() {
            state.command(Command::Char(c), OffsetDateTime::UNIX_EPOCH);
        }
    }

    fn press(state: &mut CephState, command: Command) -> Vec<Effect> {
        state.command(command, OffsetDateTime::UNIX_EPOCH)
    }

    fn filled_form() -> CephState {
        let mut s = CephState::default();
        typed(&mut s, "192.0.2.1, 192.0.2.2:3300");
        press(&mut s, Command::Enter);
        typed(&mut s, "client.lqx");
        press(&mut s, Command::Enter);
        typed(&mut s, KEY_B64);
        press(&mut s, Command::Enter);
        s
    }

    #[test]
    fn a_valid_form_sends_the_request() {
        let mut s = filled_form();
        let sent = press(&mut s, Command::Enter);
        let [Effect::JoinCeph(request)] = sent.as_slice() else {
            panic!("{sent:?}");
        };
        assert_eq!(request.mons, ["192.0.2.1", "192.0.2.2:3300"]);
        assert_eq!((request.name.as_str(), request.fsid), ("client.lqx", None));
        assert_eq!(request.key, KEY_B64);
        assert!(s.busy.is_some());
        assert!(press(&mut s, Command::Char('x')).is_empty(), "busy");
        let debug = format!("{s:?} {sent:?}");
        assert!(!debug.contains(KEY_B64), "{debug}");
    }

    #[test]
    fn problems_go_under_their_fields_and_nothing_is_sent() {
        let mut s = CephState::default();
        typed(&mut s, "mon1, 192.0.2.1:0");
        press(&mut s, Command::Enter);
        typed(&mut s, "lqx");
        press(&mut s, Command::Enter);
        typed(&mut s, "c2VjcmV0");
        press(&mut s, Command::Enter);
        typed(&mut s, "not-a-uuid");
        assert!(press(&mut s, Command::Enter).is_empty());
        let [mons, name, key, fsid] = s.errors.clone().map(Option::unwrap);
        assert!(mons.contains("mon1") && mons.contains("port 0"), "{mons}");
        assert!(name.contains("client.ID"), "{name}");
        assert!(key.contains("not a cephx key"), "{key}");
        assert!(fsid.contains("not a UUID"), "{fsid}");
        assert_eq!(s.row, MONS, "the cursor goes to the first problem");
        typed(&mut s, "x");
        assert!(s.errors[MONS].is_none(), "editing clears its message");
    }

    #[test]
    fn an_authentication_failure_is_shown_under_the_key() {
        let mut s = filled_form();
        press(&mut s, Command::Enter);
        s.reply(
            CephOp::Join,
            Err(Failure {
                status: Some(422),
                message: "authentication failed: the monitors refused client.lqx with this key"
                    .into(),
            }),
        );
        assert_eq!(s.row, KEY);
        assert!(
            s.errors[KEY]
                .as_deref()
                .unwrap()
                .starts_with("authentication failed")
        );
        assert!(s.busy.is_none());
        s.reply(
            CephOp::Join,
            Err(Failure {
                status: Some(503),
                message: "no monitor of 192.0.2.1 answered within 10s".into(),
            }),
        );
        assert!(s.message.as_deref().unwrap().contains("no monitor"));
    }

    #[test]
    fn leave_asks_first() {
        let mut s = CephState {
            row: LEAVE,
            ..CephState::default()
        };
        assert!(press(&mut s, Command::Enter).is_empty());
        assert!(s.confirm_leave);
        assert!(press(&mut s, Command::Back).is_empty());
        assert!(!s.confirm_leave);
        press(&mut s, Command::Enter);
        assert_eq!(press(&mut s, Command::Letter('y')), [Effect::LeaveCeph]);
        assert_eq!(s.busy.map(|b| b.op), Some(CephOp::Leave));
    }

    #[test]
    fn a_poll_during_a_join_is_dropped() {
        let mut s = filled_form();
        press(&mut s, Command::Enter);
        let empty = CephStatus {
            config: None,
            cluster: None,
            problem: None,
        };
        s.reply(CephOp::Fetch, Ok(empty));
        assert!(s.status.is_none() && s.busy.is_some());
    }
}
