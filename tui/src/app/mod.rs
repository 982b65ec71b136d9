//! The console's state; it changes only in [`App::handle`].
//!
//! This module holds what every screen shares (the host, the gate and the
//! lock, navigation, refresh scheduling); each screen's own state and key
//! handling is in its submodule.

pub mod auth;
pub mod ceph;
pub mod cluster;
pub mod diagnostics;
pub mod install;
pub mod names;
pub mod network;
pub mod ovn;
pub mod power;
pub mod ssh;

use crate::event::{ClusterOp, Effect, Event, NetworkOp, Reply};
use crate::keymap::{self, Command};
use lqx_api::{AuthStatus, HostInfo, InstallInfo, InstallPhase, NetworkStatus};
use lqx_core::network::NicFacts;
use time::{Duration, OffsetDateTime};

pub use auth::{SetPasswordForm, UnlockForm};
pub use ceph::CephState;
pub use cluster::ClusterState;
pub use diagnostics::DiagState;
pub use install::InstallStep;
pub use names::NamesState;
pub use network::{NetView, NetworkState};
pub use ovn::OvnState;
pub use power::PowerState;
pub use ssh::SshState;

/// The screens, in Tab order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Screen {
    /// What the host is and how to reach it.
    #[default]
    Status,
    /// Installing the live system onto a disk.
    Install,
    /// Links, addresses, bonds and VLANs.
    Network,
    /// Hostname, DNS and NTP.
    Names,
    /// Preflight checks and journals.
    Diagnostics,
    /// Time-limited SSH access.
    Ssh,
    /// Reboot and shutdown.
    Power,
    /// Joining a Ceph cluster as a client.
    Ceph,
    /// Registering as an OVN chassis.
    Ovn,
    /// Creating or joining a cluster of hosts, its members, join tokens.
    Cluster,
}

impl Screen {
    /// Every screen, in Tab order.
    pub const ALL: [Screen; 10] = [
        Screen::Status,
        Screen::Install,
        Screen::Network,
        Screen::Names,
        Screen::Diagnostics,
        Screen::Ssh,
        Screen::Power,
        Screen::Ceph,
        Screen::Ovn,
        Screen::Cluster,
    ];

    /// Title in the tab bar (short: every tab fits in 80 columns).
    pub fn title(self) -> &'static str {
        match self {
            Screen::Status => "Status",
            Screen::Install => "Install",
            Screen::Network => "Network",
            Screen::Names => "Names",
            Screen::Diagnostics => "Diag",
            Screen::Ssh => "SSH",
            Screen::Power => "Power",
            Screen::Ceph => "Ceph",
            Screen::Ovn => "OVN",
            Screen::Cluster => "Cluster",
        }
    }

    /// Whether the screen is shown while the console is locked: what
    /// helps someone at the console find out what is wrong, and changes
    /// nothing.
    pub fn open_when_locked(self) -> bool {
        matches!(self, Screen::Status | Screen::Diagnostics)
    }
}

/// Who may do what at the console now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The live ISO: nothing persists, so nothing is gated.
    Live,
    /// No admin password yet: setting one comes before anything else.
    SetPassword,
    /// Only the screens that change nothing are shown.
    Locked,
    /// The password was given recently.
    Unlocked,
}

/// Settings from the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Time between periodic re-reads.
    pub refresh: Duration,
    /// Idle time after which the console locks.
    pub lock_after: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            refresh: Duration::seconds(5),
            lock_after: Duration::seconds(300),
        }
    }
}

/// Reads that are not repeated while one is under way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fetch {
    Auth,
    Host,
    Install,
    Network,
    Diagnostics,
    Ssh,
    Ovn,
    Ceph,
    Cluster,
    Members,
}

/// What the console knows.
#[derive(Debug)]
pub struct App {
    /// Command-line settings.
    pub settings: Settings,
    /// The time of the latest event: countdowns are drawn against it.
    pub now: OffsetDateTime,
    /// The screen shown.
    pub screen: Screen,
    /// The host as last read.
    pub host: Option<Box<HostInfo>>,
    /// Why the last read of the host failed, if it did.
    pub error: Option<String>,
    /// When the last successful read finished.
    pub updated_at: Option<OffsetDateTime>,
    /// The installer's view, as last read.
    pub install: Option<Box<InstallInfo>>,
    /// Step of the install screen.
    pub install_step: InstallStep,
    /// A one-line message for the operator (e.g. why a key did nothing).
    pub notice: Option<String>,
    /// The operator asked to leave.
    pub quit: bool,
    /// Whether an admin password is set, as last read.
    pub auth: Option<AuthStatus>,
    /// Whether the password was given and the console has not locked since.
    pub unlocked: bool,
    /// The last key press, for the idle lock.
    pub last_input: OffsetDateTime,
    /// The first-boot password form.
    pub set_password: SetPasswordForm,
    /// The unlock prompt.
    pub unlock: UnlockForm,
    /// Network status and the configuration being edited.
    pub net: NetworkState,
    /// The hostname/DNS/NTP screen.
    pub names: NamesState,
    /// The diagnostics screen.
    pub diag: DiagState,
    /// The SSH screen.
    pub ssh: SshState,
    /// The OVN screen.
    pub ovn: OvnState,
    /// The Ceph screen.
    pub ceph: CephState,
    /// The Cluster screen (and the cluster row of Status).
    pub cluster: ClusterState,
    /// The power screen.
    pub power: PowerState,
    pub(crate) in_flight: Vec<Fetch>,
    pub(crate) last_refresh: Option<OffsetDateTime>,
}

impl Default for App {
    fn default() -> Self {
        Self {
            settings: Settings::default(),
            now: OffsetDateTime::UNIX_EPOCH,
            screen: Screen::default(),
            host: None,
            error: None,
            updated_at: None,
            install: None,
            install_step: InstallStep::default(),
            notice: None,
            quit: false,
            auth: None,
            unlocked: false,
            last_input: OffsetDateTime::UNIX_EPOCH,
            set_password: SetPasswordForm::default(),
            unlock: UnlockForm::default(),
            net: NetworkState::default(),
            names: NamesState::default(),
            diag: DiagState::default(),
            ssh: SshState::default(),
            ovn: OvnState::default(),
            ceph: CephState::default(),
            cluster: ClusterState::default(),
            power: PowerState::default(),
            in_flight: vec![],
            last_refresh: None,
        }
    }
}

impl App {
    /// A console with the given settings.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            ..Self::default()
        }
    }

    /// Applies one event at time `now`, returning the work to start.
    pub fn handle(&mut self, event: Event, now: OffsetDateTime) -> Vec<Effect> {
        self.now = now;
        match event {
            Event::Key(key) => match keymap::command(key, self.typing()) {
                Some(command) => {
                    self.last_input = now;
                    self.command(command)
                }
                None => vec![],
            },
            Event::Tick => self.tick(),
            Event::Resize => vec![],
            Event::Auth(reply) => self.auth_reply(reply),
            Event::PasswordSet(reply) => self.password_set(reply),
            Event::Verified(reply) => self.verified(reply),
            Event::Host(reply) => self.host_reply(reply),
            Event::Install(reply) => {
                self.done(Fetch::Install);
                if let Ok(info) = reply {
                    self.install = Some(info);
                }
                vec![]
            }
            Event::InstallStarted(reply) => self.install_started(reply),
            Event::Power(reply) => {
                let text = match reply {
                    Ok(()) => self.power.accepted(),
                    Err(failure) => failure.message,
                };
                self.notice = Some(text);
                vec![]
            }
            Event::Network(op, reply) => self.network_reply(op, reply),
            Event::Diagnostics(reply) => {
                self.done(Fetch::Diagnostics);
                self.diag.checks_reply(reply);
                vec![]
            }
            Event::Journal(reply) => {
                self.diag.journal_reply(reply);
                vec![]
            }
            Event::Ssh(op, reply) => {
                if op == crate::event::SshOp::Fetch {
                    self.done(Fetch::Ssh);
                }
                self.ssh.reply(op, reply);
                vec![]
            }
            Event::Ovn(op, reply) => {
                if op == crate::event::OvnOp::Fetch {
                    self.done(Fetch::Ovn);
                }
                self.ovn.reply(op, reply);
                vec![]
            }
            Event::Ceph(op, reply) => {
                if op == crate::event::CephOp::Fetch {
                    self.done(Fetch::Ceph);
                }
                self.ceph.reply(op, reply);
                vec![]
            }
            Event::Cluster(op, reply) => self.cluster_reply(op, reply),
            Event::Members(reply) => {
                self.done(Fetch::Members);
                self.cluster.members_reply(reply);
                vec![]
            }
            Event::TokenCreated(reply) => {
                self.cluster.token_reply(reply);
                vec![]
            }
            Event::MemberRemoved(reply) => {
                self.cluster.removed_reply(reply);
                vec![]
            }
        }
    }

    /// Who may do what now.
    pub fn access(&self) -> Access {
        if self.install.as_ref().is_some_and(|i| i.available) {
            return Access::Live;
        }
        match &self.auth {
            Some(auth) if !auth.password_set => Access::SetPassword,
            _ if self.unlocked => Access::Unlocked,
            _ => Access::Locked,
        }
    }

    /// Whether the unlock prompt takes the keys: the console is locked
    /// and the screen, or an action asked for, needs the password.
    pub fn unlock_shown(&self) -> bool {
        self.access() == Access::Locked
            && (!self.screen.open_when_locked() || self.unlock.after.is_some())
    }

    /// Screens in Tab order; Install only where installing is possible
    /// (or not yet known to be impossible).
    pub fn tabs(&self) -> Vec<Screen> {
        let installable = self.install.as_ref().is_none_or(|i| i.available);
        Screen::ALL
            .into_iter()
            .filter(|s| *s != Screen::Install || installable)
            .collect()
    }

    /// Whether keys go into a text field.
    pub fn typing(&self) -> bool {
        if self.access() == Access::SetPassword || self.unlock_shown() {
            return true;
        }
        match self.screen {
            Screen::Install => matches!(self.install_step, InstallStep::Confirm { .. }),
            Screen::Network => self.net.typing(),
            Screen::Names => self.names.typing(&self.net),
            Screen::Diagnostics => self.diag.typing(),
            Screen::Ssh => self.ssh.typing(),
            Screen::Ovn => self.ovn.typing(),
            Screen::Ceph => self.ceph.typing(),
            Screen::Cluster => self.cluster.typing(),
            _ => false,
        }
    }

    /// Every non-link-local address of the host, once known.
    pub fn host_addresses(&self) -> Vec<std::net::IpAddr> {
        self.host.as_ref().map_or_else(Vec::new, |h| {
            h.facts
                .interfaces
                .iter()
                .flat_map(|i| i.addresses.iter())
                .filter(|a| a.scope != lqx_api::AddressScope::Link)
                .map(|a| a.address)
                .collect()
        })
    }

    /// The host's physical NICs, once known: validation checks names
    /// and MTUs against them.
    pub fn nics(&self) -> Option<Vec<NicFacts>> {
        self.host
            .as_ref()
            .map(|h| NicFacts::from_interfaces(&h.facts.interfaces))
    }

    fn command(&mut self, command: Command) -> Vec<Effect> {
        self.notice = None;
        match command {
            Command::Quit => {
                self.quit = true;
                return vec![];
            }
            Command::Refresh => return self.refresh_now(),
            _ => {}
        }
        if self.access() == Access::SetPassword {
            return self.set_password_command(command);
        }
        match command {
            Command::NextScreen | Command::PrevScreen => return self.switch(command),
            Command::Install => return self.go(Screen::Install),
            Command::Lock => {
                self.lock("Locked.");
                return vec![];
            }
            _ => {}
        }
        if self.unlock_shown() {
            return self.unlock_command(command);
        }
        match command {
            Command::ConfirmApply | Command::RevertApply => self.pending_action(command),
            other => self.screen_command(other),
        }
    }

    fn screen_command(&mut self, command: Command) -> Vec<Effect> {
        let nics = self.nics();
        match self.screen {
            Screen::Install => self.install_command(command),
            Screen::Network => self
                .net
                .command(command, self.host.as_deref(), nics.as_deref()),
            Screen::Names => self.names.command(command, &mut self.net, nics.as_deref()),
            Screen::Diagnostics => self.diag.command(command),
            Screen::Ssh => self.ssh.command(command),
            Screen::Ovn => {
                let addresses = self.host_addresses();
                self.ovn.command(command, &addresses)
            }
            Screen::Power => self.power.command(command),
            Screen::Ceph => self.ceph.command(command, self.now),
            Screen::Cluster => {
                let this_host = self.host.as_ref().map(|h| h.host_id);
                self.cluster.command(command, self.now, this_host)
            }
            Screen::Status => vec![],
        }
    }

    /// Confirm or revert the pending network change: a change, so it
    /// needs the password; asked for first when locked.
    fn pending_action(&mut self, command: Command) -> Vec<Effect> {
        if self.net.pending().is_none() {
            self.notice = Some("No network change is waiting for confirmation.".into());
            return vec![];
        }
        if self.access() == Access::Locked {
            self.unlock.after = Some(command);
            return vec![];
        }
        self.net.busy = true;
        vec![if command == Command::ConfirmApply {
            Effect::ConfirmNetwork
        } else {
            Effect::RevertNetwork
        }]
    }

    fn switch(&mut self, command: Command) -> Vec<Effect> {
        let tabs = self.tabs();
        let n = tabs.len();
        let next = match tabs.iter().position(|s| *s == self.screen) {
            Some(i) if command == Command::NextScreen => (i + 1) % n,
            Some(i) => (i + n - 1) % n,
            None => 0,
        };
        self.go(tabs[next])
    }

    /// Shows `screen` and reads what it shows.
    fn go(&mut self, screen: Screen) -> Vec<Effect> {
        self.screen = screen;
        // An action waiting for the password belongs to the screen it
        // was asked on.
        self.unlock.after = None;
        self.power.confirm = None;
        self.ceph.confirm_leave = false;
        self.cluster.confirm = None;
        self.enter_fetches()
    }

    fn enter_fetches(&mut self) -> Vec<Effect> {
        match self.screen {
            Screen::Install => self.fetch(Fetch::Install),
            Screen::Network | Screen::Names => {
                let mut e = self.fetch(Fetch::Network);
                e.extend(self.fetch(Fetch::Host));
                e
            }
            Screen::Diagnostics => {
                let mut e = self.fetch(Fetch::Diagnostics);
                e.push(self.diag.fetch_journal());
                e
            }
            Screen::Ssh => self.fetch(Fetch::Ssh),
            Screen::Ovn => self.fetch(Fetch::Ovn),
            Screen::Ceph => self.fetch_ceph(),
            // Status has a row for the cluster.
            Screen::Status | Screen::Cluster => self.fetch_cluster(),
            _ => vec![],
        }
    }

    /// Locks the console, dropping any typed secret.
    pub(crate) fn lock(&mut self, why: &str) {
        if self.access() != Access::Unlocked {
            if self.access() == Access::Live {
                self.notice = Some("The live system has no password to lock with.".into());
            }
            return;
        }
        self.unlocked = false;
        self.unlock = UnlockForm::default();
        self.ssh.forget_secrets();
        self.ceph.forget_secrets();
        self.cluster.forget_secrets();
        self.power.confirm = None;
        if !self.screen.open_when_locked() {
            self.screen = Screen::Status;
        }
        self.notice = Some(why.into());
    }

    fn tick(&mut self) -> Vec<Effect> {
        if self.access() == Access::Unlocked
            && self.now - self.last_input >= self.settings.lock_after
        {
            let minutes = (self.settings.lock_after.whole_seconds() + 59) / 60;
            self.lock(&format!(
                "Locked after {minutes} min without a key press; enter the password to continue."
            ));
        }
        let due = self
            .last_refresh
            .is_none_or(|at| self.now - at >= self.settings.refresh);
        if due {
            self.last_refresh = Some(self.now);
            return self.refresh();
        }
        let mut effects = vec![];
        let installing = self.install_step == InstallStep::Running
            && self
                .install
                .as_ref()
                .is_some_and(|i| !matches!(i.progress.phase, InstallPhase::Done));
        if installing {
            effects.extend(self.fetch(Fetch::Install));
        }
        // Past the deadline the agent restores the old configuration:
        // read its outcome now rather than at the next refresh.
        if self.net.pending().is_some_and(|p| p.deadline <= self.now) {
            effects.extend(self.fetch(Fetch::Network));
        }
        effects
    }

    /// The periodic re-read.
    fn refresh(&mut self) -> Vec<Effect> {
        let mut effects = vec![];
        for what in [Fetch::Auth, Fetch::Host, Fetch::Install, Fetch::Network] {
            effects.extend(self.fetch(what));
        }
        if self.screen == Screen::Ssh {
            effects.extend(self.fetch(Fetch::Ssh));
        }
        if self.screen == Screen::Ovn {
            effects.extend(self.fetch(Fetch::Ovn));
        }
        if self.screen == Screen::Ceph {
            effects.extend(self.fetch_ceph());
        }
        if matches!(self.screen, Screen::Status | Screen::Cluster) {
            effects.extend(self.fetch_cluster());
        }
        effects
    }

    /// Reads the Ceph status, unless a join or leave is under way: the
    /// agent answers the read only after it, and the reply to the join
    /// carries the status anyway.
    fn fetch_ceph(&mut self) -> Vec<Effect> {
        if self.ceph.busy.is_some() {
            return vec![];
        }
        self.fetch(Fetch::Ceph)
    }

    /// Reads the membership, unless creating, joining or leaving is under
    /// way: its answer carries the membership, and a read answered
    /// meanwhile could predate it. The members are read once the answer
    /// says this host is in a cluster.
    fn fetch_cluster(&mut self) -> Vec<Effect> {
        if self.cluster.changing_membership() {
            return vec![];
        }
        self.fetch(Fetch::Cluster)
    }

    fn cluster_reply(
        &mut self,
        op: ClusterOp,
        reply: Reply<lqx_api::ClusterStatus>,
    ) -> Vec<Effect> {
        if op == ClusterOp::Fetch {
            self.done(Fetch::Cluster);
        }
        let changed = op != ClusterOp::Fetch && reply.is_ok();
        self.cluster.reply(op, reply);
        let mut effects = vec![];
        if self.cluster.is_member() && !self.cluster.changing_membership() {
            effects.extend(self.fetch(Fetch::Members));
        }
        // Creating, joining and leaving change the authority the remote
        // API serves with, whose fingerprint Status shows.
        if changed {
            effects.extend(self.fetch(Fetch::Host));
        }
        effects
    }

    /// The operator's re-read: also what the current screen shows.
    fn refresh_now(&mut self) -> Vec<Effect> {
        let mut effects = self.refresh();
        effects.extend(self.enter_fetches());
        effects.dedup();
        effects
    }

    pub(crate) fn fetch(&mut self, what: Fetch) -> Vec<Effect> {
        if self.in_flight.contains(&what) {
            return vec![];
        }
        self.in_flight.push(what);
        vec![match what {
            Fetch::Auth => Effect::FetchAuth,
            Fetch::Host => Effect::FetchHost,
            Fetch::Install => Effect::FetchInstall,
            Fetch::Network => Effect::FetchNetwork,
            Fetch::Diagnostics => Effect::FetchDiagnostics,
            Fetch::Ssh => Effect::FetchSsh,
            Fetch::Ovn => Effect::FetchOvn,
            Fetch::Ceph => Effect::FetchCeph,
            Fetch::Cluster => Effect::FetchCluster,
            Fetch::Members => Effect::FetchMembers,
        }]
    }

    fn done(&mut self, what: Fetch) {
        self.in_flight.retain(|w| *w != what);
    }

    fn auth_reply(&mut self, reply: Reply<AuthStatus>) -> Vec<Effect> {
        self.done(Fetch::Auth);
        if let Ok(auth) = reply {
            if !auth.password_set {
                self.unlocked = false;
            }
            self.auth = Some(auth);
        }
        vec![]
    }

    fn host_reply(&mut self, reply: Reply<Box<HostInfo>>) -> Vec<Effect> {
        self.done(Fetch::Host);
        match reply {
            Ok(host) => {
                self.host = Some(host);
                self.error = None;
                self.updated_at = Some(self.now);
                let nics = self.nics();
                self.net.host_known(self.host.as_deref(), nics.as_deref());
            }
            // Keep showing the last known host, marked stale.
            Err(failure) => self.error = Some(failure.message),
        }
        vec![]
    }

    fn network_reply(&mut self, op: NetworkOp, reply: Reply<Box<NetworkStatus>>) -> Vec<Effect> {
        if op == NetworkOp::Fetch {
            self.done(Fetch::Network);
        }
        let nics = self.nics();
        match reply {
            Ok(status) => {
                self.net
                    .status_known(op, status, self.host.as_deref(), nics.as_deref());
                vec![]
            }
            Err(failure) => {
                if op == NetworkOp::Fetch {
                    return vec![];
                }
                self.net.busy = false;
                self.notice = Some(failure.message.clone());
                self.net.message = Some(failure.message);
                // A refusal may come after part of the work (saved, not
                // applied): show what the agent now has.
                self.fetch(Fetch::Network)
            }
        }
    }
}

#[cfg(test)]
mod tests;
