//! The Cluster screen. A host in no cluster creates one (name, voters)
//! or joins one with a token pasted from a member; a member sees the
//! cluster, its store and its hosts, creates join tokens (shown once),
//! removes other hosts and leaves. Inputs the console can check (the
//! name, the token's form) are checked with lqxd's own functions before
//! anything is sent; every refusal of the agent is shown as it words it.

use crate::event::{ClusterOp, Effect, Reply};
use crate::keymap::Command;
use crate::widgets::{Choice, TextField, edit_clearing, move_cursor};
use lqx_api::{ClusterInitRequest, ClusterStatus, JoinRequest, Member, TokenCreated, TokenRequest};
use lqx_core::cluster_token::JoinToken;
use time::OffsetDateTime;
use uuid::Uuid;

/// Row of the cluster name (in no cluster).
pub const NAME: usize = 0;
/// Row of the voter count.
pub const VOTERS: usize = 1;
/// Row of the Create button.
pub const CREATE: usize = 2;
/// Row of the join token.
pub const TOKEN: usize = 3;
/// Row of the Join button.
pub const JOIN: usize = 4;
/// Rows of the form shown in no cluster.
pub const FORM_ROWS: usize = 5;

/// Row of the token lifetime (in a cluster).
pub const TTL: usize = 0;
/// Row of the "Create a join token" button.
pub const NEW_TOKEN: usize = 1;
/// Row of the "Leave the cluster" button.
pub const LEAVE: usize = 2;
/// Row of the member table's first host: row `MEMBERS + i` is host `i`.
pub const MEMBERS: usize = 3;

/// Voter counts offered, as lqxd accepts them; the first is its default.
pub const VOTER_CHOICES: [u8; 2] = [3, 5];
/// Token lifetimes offered: seconds and label.
pub const TTLS: [(u64, &str); 3] = [(900, "15m"), (3600, "1h"), (86_400, "1d")];
/// The lifetime selected at first (1 h, lqxd's default).
const DEFAULT_TTL: usize = 1;
/// Longest join token the field takes: a token names every ready
/// member's address, so it grows with the cluster (~260 characters for
/// one host).
pub const TOKEN_LIMIT: usize = 4096;

/// A call the screen waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Work {
    /// Creating a cluster.
    Create,
    /// Joining one.
    Join,
    /// Leaving; `force` dissolves the cluster when this is its last host.
    Leave {
        /// Sent with force.
        force: bool,
    },
    /// Creating a join token.
    Token,
    /// Removing another host.
    Remove {
        /// Its hostname, for the messages.
        hostname: String,
    },
}

/// The call under way and when it was sent: joining can take a minute,
/// and the seconds shown say the console is not stuck.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Busy {
    /// What.
    pub work: Work,
    /// Sent at.
    pub since: OffsetDateTime,
}

/// An action waiting for Y.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirm {
    /// Leave the cluster.
    Leave,
    /// lqxd refused to let the last host leave: leave with force, which
    /// dissolves the cluster.
    Dissolve,
    /// Remove another host.
    Remove {
        /// Its id (what the request names).
        id: Uuid,
        /// Its hostname (what the operator reads).
        hostname: String,
    },
}

/// The Cluster screen's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterState {
    /// The membership as last read.
    pub status: Option<ClusterStatus>,
    /// The cluster's hosts as last read (members only).
    pub members: Option<Vec<Member>>,
    /// Why the last read of the hosts failed.
    pub members_error: Option<String>,
    /// Name of the cluster to create.
    pub name: TextField,
    /// Voters of the cluster to create.
    pub voters: Choice,
    /// The join token pasted (shown, kept out of `Debug`).
    pub token: TextField,
    /// Lifetime of the next join token.
    pub ttl: Choice,
    /// Focused row: of the form in no cluster, of the actions and hosts
    /// in one.
    pub row: usize,
    /// Inline message under the name.
    pub name_error: Option<String>,
    /// Inline message under the token.
    pub token_error: Option<String>,
    /// The agent's last refusal or confirmation.
    pub message: Option<String>,
    /// Waiting for the agent.
    pub busy: Option<Busy>,
    /// An action waiting for Y.
    pub confirm: Option<Confirm>,
    /// The join token just created. lqxd keeps only its hash, so it is
    /// shown until Esc (or the lock) and never again; its `Debug` leaves
    /// the text out.
    pub created: Option<TokenCreated>,
}

impl Default for ClusterState {
    fn default() -> Self {
        Self {
            status: None,
            members: None,
            members_error: None,
            name: TextField::new(lqx_core::cluster::DEFAULT_NAME),
            voters: Choice::new(VOTER_CHOICES.map(|v| v.to_string())),
            token: TextField::secret(TOKEN_LIMIT),
            ttl: Choice::new(TTLS.map(|(_, label)| label)).with(DEFAULT_TTL),
            row: NAME,
            name_error: None,
            token_error: None,
            message: None,
            busy: None,
            confirm: None,
            created: None,
        }
    }
}

impl ClusterState {
    /// Whether this host is a member, as last read.
    pub fn is_member(&self) -> bool {
        self.status.as_ref().is_some_and(|s| s.cluster.is_some())
    }

    /// Whether keys go into a text field.
    pub fn typing(&self) -> bool {
        let form = self.status.is_some() && !self.is_member();
        form && self.busy.is_none()
            && self.confirm.is_none()
            && self.created.is_none()
            && matches!(self.row, NAME | TOKEN)
    }

    /// Whether a read of the membership would race the call under way:
    /// lqxd answers it without waiting, so it may predate the answer that
    /// is coming.
    pub fn changing_membership(&self) -> bool {
        self.busy
            .as_ref()
            .is_some_and(|b| matches!(b.work, Work::Create | Work::Join | Work::Leave { .. }))
    }

    /// Drops the pasted token, the token shown and any pending
    /// confirmation (on lock): a join token lets a host into the cluster.
    pub fn forget_secrets(&mut self) {
        self.token.clear();
        self.created = None;
        self.confirm = None;
    }

    /// Keys on the screen at time `now`; `this_host` is this host's id,
    /// which it cannot remove (it leaves instead).
    pub fn command(
        &mut self,
        command: Command,
        now: OffsetDateTime,
        this_host: Option<Uuid>,
    ) -> Vec<Effect> {
        if self.busy.is_some() {
            return vec![];
        }
        if self.created.is_some() {
            if command == Command::Back {
                self.created = None;
            }
            return vec![];
        }
        if let Some(confirm) = self.confirm.take() {
            return match command {
                Command::Letter('y') => self.confirmed(confirm, now),
                Command::Back | Command::Letter('n') => vec![],
                _ => {
                    self.confirm = Some(confirm);
                    vec![]
                }
            };
        }
        match &self.status {
            None => vec![],
            Some(s) if s.cluster.is_none() => self.form_command(command, now),
            Some(_) => self.member_command(command, now, this_host),
        }
    }

    fn form_command(&mut self, command: Command, now: OffsetDateTime) -> Vec<Effect> {
        if move_cursor(&mut self.row, command, FORM_ROWS) {
            return vec![];
        }
        match (self.row, command) {
            (NAME, Command::Enter) => self.row = VOTERS,
            (NAME, other) => edit_clearing(&mut self.name, &mut self.name_error, other),
            (VOTERS | CREATE, Command::Enter) => return self.create(now),
            (VOTERS, other) => {
                self.voters.edit(other);
            }
            (TOKEN | JOIN, Command::Enter) => return self.join(now),
            (TOKEN, other) => edit_clearing(&mut self.token, &mut self.token_error, other),
            _ => {}
        }
        vec![]
    }

    fn create(&mut self, now: OffsetDateTime) -> Vec<Effect> {
        self.message = None;
        let name = self.name.value().trim().to_owned();
        if let Err(problem) = lqx_core::cluster::check_name(&name) {
            self.name_error = Some(problem);
            self.row = NAME;
            return vec![];
        }
        self.name_error = None;
        self.start(Work::Create, now);
        vec![Effect::InitCluster(ClusterInitRequest {
            name: Some(name),
            voters: Some(VOTER_CHOICES[self.voters.index()]),
        })]
    }

    fn join(&mut self, now: OffsetDateTime) -> Vec<Effect> {
        self.message = None;
        // A token copied from a wrapped screen or mail picks up line
        // breaks and spaces; none belongs to it.
        let token: String = self
            .token
            .value()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let problem = if token.is_empty() {
            Some(
                "Paste the join token: `lqx cluster token create` or the Cluster screen of a \
                 member gives one."
                    .to_owned(),
            )
        } else {
            // lqxd decodes it the same way first: a damaged token is
            // refused here without a round trip.
            JoinToken::decode(&token).err().map(|e| e.to_string())
        };
        if let Some(problem) = problem {
            self.token_error = Some(problem);
            self.row = TOKEN;
            return vec![];
        }
        self.token_error = None;
        self.start(Work::Join, now);
        vec![Effect::JoinCluster(JoinRequest { token })]
    }

    fn member_command(
        &mut self,
        command: Command,
        now: OffsetDateTime,
        this_host: Option<Uuid>,
    ) -> Vec<Effect> {
        let rows = MEMBERS + self.members.as_ref().map_or(0, Vec::len);
        if move_cursor(&mut self.row, command, rows) {
            return vec![];
        }
        match (self.row, command) {
            (_, Command::Letter('t')) | (TTL | NEW_TOKEN, Command::Enter) => {
                self.message = None;
                self.start(Work::Token, now);
                return vec![Effect::CreateToken(TokenRequest {
                    ttl_seconds: Some(TTLS[self.ttl.index()].0),
                })];
            }
            (TTL, other) => {
                self.ttl.edit(other);
            }
            (LEAVE, Command::Enter) => {
                self.message = None;
                self.confirm = Some(Confirm::Leave);
            }
            (row, Command::Enter) if row >= MEMBERS => self.ask_remove(row - MEMBERS, this_host),
            _ => {}
        }
        vec![]
    }

    fn ask_remove(&mut self, index: usize, this_host: Option<Uuid>) {
        let Some(member) = self.members.as_ref().and_then(|m| m.get(index)) else {
            return;
        };
        if Some(member.id) == this_host {
            self.message = Some(
                "That is this host: choose Leave the cluster to take it out, or remove it \
                 through another member."
                    .into(),
            );
            return;
        }
        self.message = None;
        self.confirm = Some(Confirm::Remove {
            id: member.id,
            hostname: member.hostname.clone(),
        });
    }

    fn confirmed(&mut self, confirm: Confirm, now: OffsetDateTime) -> Vec<Effect> {
        self.message = None;
        match confirm {
            Confirm::Leave | Confirm::Dissolve => {
                let force = confirm == Confirm::Dissolve;
                self.start(Work::Leave { force }, now);
                vec![Effect::LeaveCluster { force }]
            }
            Confirm::Remove { id, hostname } => {
                self.start(Work::Remove { hostname }, now);
                vec![Effect::RemoveMember {
                    host: id.to_string(),
                }]
            }
        }
    }

    fn start(&mut self, work: Work, since: OffsetDateTime) {
        self.busy = Some(Busy { work, since });
    }

    /// A call answering the membership finished.
    pub fn reply(&mut self, op: ClusterOp, reply: Reply<ClusterStatus>) {
        if op == ClusterOp::Fetch && self.changing_membership() {
            return;
        }
        let work = match op {
            ClusterOp::Fetch => None,
            _ => self.busy.take().map(|b| b.work),
        };
        let status = match reply {
            Ok(status) => status,
            Err(failure) => {
                let last_host = self.members.as_ref().is_none_or(|m| m.len() <= 1);
                match (op, failure.status) {
                    (ClusterOp::Init, Some(422)) => {
                        self.name_error = Some(failure.message);
                        self.row = NAME;
                    }
                    (ClusterOp::Join, Some(422)) => {
                        self.token_error = Some(failure.message);
                        self.row = TOKEN;
                    }
                    // The last host may leave only by dissolving the
                    // cluster: offer that, under lqxd's words.
                    (ClusterOp::Leave, Some(409))
                        if work == Some(Work::Leave { force: false }) && last_host =>
                    {
                        self.confirm = Some(Confirm::Dissolve);
                        self.message = Some(failure.message);
                    }
                    _ => self.message = Some(failure.message),
                }
                return;
            }
        };
        let name = status.cluster.as_ref().map(|c| c.name.clone());
        self.message = match (op, name) {
            (ClusterOp::Fetch, _) => self.message.take(),
            (ClusterOp::Init, Some(name)) => Some(format!(
                "Created cluster {name}: this host is its first member and votes in its store."
            )),
            (ClusterOp::Join, Some(name)) => {
                let role = status.cluster.as_ref().map_or("member", |c| role(c.role));
                Some(format!("Joined cluster {name} as a {role}."))
            }
            (ClusterOp::Leave, _) => Some(if work == Some(Work::Leave { force: true }) {
                "Left and dissolved the cluster: this host has an authority of its own again."
                    .into()
            } else {
                "Left the cluster: this host has an authority of its own again.".into()
            }),
            (_, None) => None,
        };
        if op == ClusterOp::Join && status.cluster.is_some() {
            self.token.clear();
        }
        if self.is_member() != status.cluster.is_some() || self.status.is_none() {
            // The other view: its rows, its hosts.
            self.row = 0;
            self.members = None;
            self.members_error = None;
            self.confirm = None;
        }
        self.status = Some(status);
    }

    /// `GET /v1/cluster/members` finished.
    pub fn members_reply(&mut self, reply: Reply<Vec<Member>>) {
        if !self.is_member() {
            // Read before this host left: no longer its cluster.
            return;
        }
        match reply {
            Ok(members) => self.set_members(members),
            // The last list stays, marked with why it is not fresh.
            Err(failure) => self.members_error = Some(failure.message),
        }
    }

    /// `POST /v1/cluster/tokens` finished.
    pub fn token_reply(&mut self, reply: Reply<TokenCreated>) {
        self.busy = None;
        match reply {
            Ok(token) => self.created = Some(token),
            Err(failure) => self.message = Some(failure.message),
        }
    }

    /// `DELETE /v1/cluster/members/{host}` finished.
    pub fn removed_reply(&mut self, reply: Reply<Vec<Member>>) {
        let hostname = match self.busy.take().map(|b| b.work) {
            Some(Work::Remove { hostname }) => hostname,
            _ => "the host".into(),
        };
        match reply {
            Ok(members) => {
                self.message = Some(format!(
                    "Removed {hostname} from the cluster; if it still runs, it finds out and \
                     forgets the cluster."
                ));
                self.set_members(members);
            }
            Err(failure) => self.message = Some(failure.message),
        }
    }

    fn set_members(&mut self, members: Vec<Member>) {
        // Keep the cursor on a row that exists.
        if self.is_member() && self.row >= MEMBERS + members.len() {
            self.row = (MEMBERS + members.len()).saturating_sub(1);
        }
        self.members = Some(members);
        self.members_error = None;
    }
}

/// A host's part in the store, as the screen words it.
pub fn role(role: lqx_api::EtcdRole) -> &'static str {
    match role {
        lqx_api::EtcdRole::Voter => "voter",
        lqx_api::EtcdRole::Client => "client",
    }
}
