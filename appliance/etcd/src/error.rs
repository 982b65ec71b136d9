//! Errors of the cluster store.

use std::path::PathBuf;
use thiserror::Error;

/// What went wrong talking to etcd or running a member.
#[derive(Debug, Error)]
pub enum EtcdError {
    /// No endpoint answered within the timeout, or the cluster has no
    /// quorum (etcd then fails every request the same way).
    #[error("the cluster store is unavailable ({what})")]
    Unavailable {
        /// The request that failed.
        what: &'static str,
        /// etcd's or the transport's error.
        #[source]
        source: etcd_client::Error,
    },
    /// etcd refused a request.
    #[error("the cluster store refused to {what}")]
    Refused {
        /// The request.
        what: &'static str,
        /// etcd's answer.
        #[source]
        source: etcd_client::Error,
    },
    /// A request took longer than the store's timeout.
    #[error("the cluster store did not answer in time ({what})")]
    TimedOut {
        /// The request.
        what: &'static str,
    },
    /// The client's certificates are unusable.
    #[error("the cluster store's certificates are unusable")]
    Tls(#[source] etcd_client::Error),
    /// A member refused this client's certificate at the TLS handshake.
    #[error("the cluster store refused this client's certificate ({what})")]
    CertificateRefused {
        /// The request.
        what: &'static str,
        /// The handshake's failure.
        #[source]
        source: etcd_client::Error,
    },
    /// A key was written with a lease that has expired.
    #[error("the lease has expired")]
    NoLease,
    /// A member was not found.
    #[error("no etcd member {0}")]
    NoMember(String),
    /// A learner cannot be promoted before it has caught up.
    #[error("the new member has not caught up with the leader yet")]
    LearnerBehind(#[source] etcd_client::Error),
    /// etcd allows only so many learners at once: another join is under
    /// way.
    #[error("another host is joining the cluster store; try again")]
    TooManyLearners(#[source] etcd_client::Error),
    /// etcd could not be started.
    #[error("cannot start {bin}")]
    Spawn {
        /// The binary.
        bin: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The member stopped, or never became ready.
    #[error("the etcd member is not running: {0}")]
    NotRunning(String),
    /// A file operation failed.
    #[error("cannot {what}")]
    Io {
        /// The operation.
        what: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl EtcdError {
    /// Sorts a client error of `what`: transport failures and lost quorum
    /// are the store being unavailable; the rest are refusals.
    pub(crate) fn classify(what: &'static str, source: etcd_client::Error) -> Self {
        use etcd_client::Error as E;
        match &source {
            E::TransportError(_) | E::IoError(_) => Self::Unavailable { what, source },
            E::GRpcStatus(status) if status.message().contains("lease not found") => Self::NoLease,
            E::GRpcStatus(status) if status.message().contains("in sync with leader") => {
                Self::LearnerBehind(source)
            }
            E::GRpcStatus(status) if status.message().contains("too many learner") => {
                Self::TooManyLearners(source)
            }
            E::GRpcStatus(status) if status.message().contains("member not found") => {
                Self::NoMember(status.message().to_owned())
            }
            // tonic keeps the TLS alert only in the debug form of its source.
            E::GRpcStatus(status)
                if ["BadCertificate", "UnknownCA", "CertificateUnknown"]
                    .iter()
                    .any(|alert| format!("{status:?}").contains(alert)) =>
            {
                Self::CertificateRefused { what, source }
            }
            // The connection broke below gRPC; with TLS 1.3 a refused client
            // certificate may show only as this, as may a member going away.
            E::GRpcStatus(status) if status.message() == "transport error" => {
                Self::Unavailable { what, source }
            }
            E::GRpcStatus(status)
                if matches!(
                    status.code() as i32,
                    grpc_code::CANCELLED | grpc_code::DEADLINE_EXCEEDED | grpc_code::UNAVAILABLE
                ) =>
            {
                Self::Unavailable { what, source }
            }
            _ => Self::Refused { what, source },
        }
    }

    /// Whether retrying later may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Unavailable { .. }
                | Self::TimedOut { .. }
                | Self::LearnerBehind(_)
                | Self::TooManyLearners(_)
        )
    }
}

/// The gRPC status codes that mean "try again elsewhere or later"
/// (grpc/status.proto).
mod grpc_code {
    pub const CANCELLED: i32 = 1;
    pub const DEADLINE_EXCEEDED: i32 = 4;
    pub const UNAVAILABLE: i32 = 14;
}
