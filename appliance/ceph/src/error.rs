//! What can go wrong talking to a cluster, said so an operator knows what
//! to fix.

use std::time::Duration;

/// A Ceph operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CephError {
    /// No monitor answered within the connect timeout.
    #[error("no monitor of {mons} answered within {}s", timeout.as_secs())]
    Unreachable {
        /// The monitors tried.
        mons: String,
        /// The connect timeout.
        timeout: Duration,
    },
    /// The monitors refused the name and key.
    #[error("authentication failed: the monitors refused {name} with this key")]
    AuthFailed {
        /// The cephx entity.
        name: String,
    },
    /// A connected cluster did not answer an operation in time (the
    /// monitors or OSDs went away after connecting).
    #[error("the cluster did not answer in time: {0}")]
    TimedOut(String),
    /// The cluster is not the one asked for.
    #[error("refused: the cluster's fsid is {found}, not {expected}")]
    WrongCluster {
        /// The fsid asked for.
        expected: uuid::Uuid,
        /// The cluster's.
        found: uuid::Uuid,
    },
    /// The client's capabilities do not allow the operation.
    #[error("{name} has no permission to {action} (check its caps, e.g. `ceph auth get {name}`)")]
    PermissionDenied {
        /// The cephx entity.
        name: String,
        /// What was attempted, with its target.
        action: String,
    },
    /// No such pool, volume or snapshot.
    #[error("{0} does not exist")]
    NotFound(String),
    /// The name is taken.
    #[error("{0} already exists")]
    Exists(String),
    /// The volume has snapshots and deleting them was not asked for.
    #[error("{volume} has snapshots ({}); delete them or ask to delete them with the volume", snapshots.join(", "))]
    HasSnapshots {
        /// `POOL/NAME`.
        volume: String,
        /// Their names.
        snapshots: Vec<String>,
    },
    /// A snapshot has clones and flattening them was not asked for.
    #[error("{snapshot} has clones ({}); delete or flatten them first", clones.join(", "))]
    HasClones {
        /// `POOL/NAME@SNAP`.
        snapshot: String,
        /// `POOL/NAME` of each clone.
        clones: Vec<String>,
    },
    /// A client has the volume open.
    #[error("{0} is in use (a client has it open)")]
    InUse(String),
    /// A smaller size without leave to shrink.
    #[error(
        "{volume} is {current} bytes; shrinking to {requested} discards data and needs allow_shrink"
    )]
    ShrinkRefused {
        /// `POOL/NAME`.
        volume: String,
        /// Its size now.
        current: u64,
        /// The size asked for.
        requested: u64,
    },
    /// A monitor command failed.
    #[error("monitor command {command} failed")]
    Mon {
        /// The command's prefix.
        command: String,
        /// Why, with the monitor's status string.
        #[source]
        source: lqx_rbd::MonError,
    },
    /// A monitor's answer could not be read.
    #[error("cannot read the answer to {command}: {detail}")]
    Answer {
        /// The command's prefix.
        command: String,
        /// What was wrong with it.
        detail: String,
    },
    /// Another librados failure.
    #[error("librados: {action}")]
    Rados {
        /// What was attempted.
        action: String,
        /// Why.
        #[source]
        source: lqx_rbd::RbdError,
    },
    /// Another librbd failure.
    #[error("librbd: {target}")]
    Rbd {
        /// `POOL/NAME[@SNAP]`.
        target: String,
        /// Why.
        #[source]
        source: lqx_rbd::RbdError,
    },
    /// The connection's files could not be written.
    #[error("cannot write the client configuration")]
    Io(#[source] std::io::Error),
    /// The connection's thread is gone.
    #[error("the Ceph connection stopped")]
    Stopped,
}
