//! Everything that can change the console's state arrives as an [`Event`]
//! on one channel; work the state asks for leaves as an [`Effect`].

use crossterm::event::KeyEvent;
use lqx_api::{
    AuthStatus, CephJoinRequest, CephStatus, ChassisRequest, ChassisStatus, ClusterInitRequest,
    ClusterStatus, Diagnostics, HostInfo, InstallInfo, InstallProgress, JoinRequest, JournalLines,
    Member, NetworkConfig, NetworkStatus, PowerAction, SshStatus, TokenCreated, TokenRequest,
};
use std::fmt;

/// Why a call to the agent failed, as the operator is shown it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The agent's HTTP status when it answered; `None` when it could not
    /// be reached.
    pub status: Option<u16>,
    /// The message to show.
    pub message: String,
}

impl Failure {
    /// A failure without an HTTP status.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            status: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<lqx_client::ClientError> for Failure {
    fn from(e: lqx_client::ClientError) -> Self {
        let status = match &e {
            lqx_client::ClientError::Api { status, .. } => Some(*status),
            _ => None,
        };
        Self {
            status,
            message: e.to_string(),
        }
    }
}

/// The result of a call to the agent.
pub type Reply<T> = Result<T, Failure>;

/// Which network call a [`Event::Network`] answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkOp {
    /// `GET /v1/host/network`.
    Fetch,
    /// `PUT` then `POST .../apply`.
    Apply,
    /// `POST .../confirm`.
    Confirm,
    /// `POST .../revert`.
    Revert,
}

/// Which SSH call a [`Event::Ssh`] answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SshOp {
    /// `GET /v1/host/ssh`.
    Fetch,
    /// `POST /v1/host/ssh`.
    Enable,
    /// `DELETE /v1/host/ssh`.
    Disable,
}

/// Which OVN call a [`Event::Ovn`] answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OvnOp {
    /// `GET /v1/ovn/chassis`.
    Fetch,
    /// `POST /v1/ovn/chassis`.
    Register,
    /// `DELETE /v1/ovn/chassis`.
    Unregister,
}

/// Which Ceph call a [`Event::Ceph`] answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CephOp {
    /// `GET /v1/ceph`.
    Fetch,
    /// `POST /v1/ceph`.
    Join,
    /// `DELETE /v1/ceph`.
    Leave,
}

/// Which cluster call a [`Event::Cluster`] answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterOp {
    /// `GET /v1/cluster`.
    Fetch,
    /// `POST /v1/cluster`.
    Init,
    /// `POST /v1/cluster/join`.
    Join,
    /// `POST /v1/cluster/leave`.
    Leave,
}

/// One thing that happened.
#[derive(Debug)]
pub enum Event {
    /// A key was pressed.
    Key(KeyEvent),
    /// The terminal changed size; the next draw adapts.
    Resize,
    /// A second passed: countdowns, idle lock, periodic refresh.
    Tick,
    /// `GET /v1/auth` finished.
    Auth(Reply<AuthStatus>),
    /// `PUT /v1/auth/password` finished.
    PasswordSet(Reply<()>),
    /// `POST /v1/auth/verify` finished.
    Verified(Reply<()>),
    /// `GET /v1/host` finished.
    Host(Reply<Box<HostInfo>>),
    /// `GET /v1/install` finished.
    Install(Reply<Box<InstallInfo>>),
    /// `POST /v1/install` finished.
    InstallStarted(Reply<InstallProgress>),
    /// `POST /v1/host/power` finished.
    Power(Reply<()>),
    /// A network call finished.
    Network(NetworkOp, Reply<Box<NetworkStatus>>),
    /// `GET /v1/host/diagnostics` finished.
    Diagnostics(Reply<Diagnostics>),
    /// `GET /v1/host/journal` finished.
    Journal(Reply<JournalLines>),
    /// An SSH call finished.
    Ssh(SshOp, Reply<SshStatus>),
    /// An OVN call finished.
    Ovn(OvnOp, Reply<ChassisStatus>),
    /// A Ceph call finished.
    Ceph(CephOp, Reply<CephStatus>),
    /// A cluster call answering the membership finished.
    Cluster(ClusterOp, Reply<ClusterStatus>),
    /// `GET /v1/cluster/members` finished.
    Members(Reply<Vec<Member>>),
    /// `POST /v1/cluster/tokens` finished. The token stays out of `Debug`.
    TokenCreated(Reply<TokenCreated>),
    /// `DELETE /v1/cluster/members/{host}` finished: the members left.
    MemberRemoved(Reply<Vec<Member>>),
}

/// Work the runtime does on the state's behalf; its results come back as
/// events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// `GET /v1/auth`.
    FetchAuth,
    /// `PUT /v1/auth/password` for the first password.
    SetPassword {
        /// The new password.
        new: String,
    },
    /// `POST /v1/auth/verify`.
    Verify {
        /// The password typed.
        password: String,
    },
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
    /// `GET /v1/host/network`.
    FetchNetwork,
    /// `PUT /v1/host/network`, then `POST /v1/host/network/apply`.
    SaveAndApply(Box<NetworkConfig>),
    /// `POST /v1/host/network/confirm`.
    ConfirmNetwork,
    /// `POST /v1/host/network/revert`.
    RevertNetwork,
    /// `GET /v1/host/diagnostics`.
    FetchDiagnostics,
    /// `GET /v1/host/journal` for `unit`.
    FetchJournal {
        /// The unit.
        unit: String,
    },
    /// `GET /v1/host/ssh`.
    FetchSsh,
    /// `POST /v1/host/ssh`.
    EnableSsh {
        /// Minutes, 5–120.
        minutes: u32,
        /// The admin password.
        password: String,
    },
    /// `DELETE /v1/host/ssh`.
    DisableSsh,
    /// `GET /v1/ovn/chassis`.
    FetchOvn,
    /// `POST /v1/ovn/chassis`.
    RegisterOvn(ChassisRequest),
    /// `DELETE /v1/ovn/chassis`.
    UnregisterOvn,
    /// `GET /v1/ceph`.
    FetchCeph,
    /// `POST /v1/ceph`. The request's `Debug` leaves its key out.
    JoinCeph(CephJoinRequest),
    /// `DELETE /v1/ceph`.
    LeaveCeph,
    /// `GET /v1/cluster`.
    FetchCluster,
    /// `GET /v1/cluster/members`.
    FetchMembers,
    /// `POST /v1/cluster`.
    InitCluster(ClusterInitRequest),
    /// `POST /v1/cluster/join`. The request's `Debug` leaves the token out.
    JoinCluster(JoinRequest),
    /// `POST /v1/cluster/leave`.
    LeaveCluster {
        /// Leave even as the last member, dissolving the cluster.
        force: bool,
    },
    /// `POST /v1/cluster/tokens`.
    CreateToken(TokenRequest),
    /// `DELETE /v1/cluster/members/{host}`.
    RemoveMember {
        /// The member's id.
        host: String,
    },
}

/// How many journal lines the diagnostics screen reads.
pub const JOURNAL_LINES: u32 = 200;
