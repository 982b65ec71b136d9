//! Errors as the API answers them.

use crate::agent::AgentError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lqx_api::{ErrorBody, ErrorCode};

/// An error response: a status and the JSON envelope.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    /// An error with an explicit status, code and message.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody::new(code, message),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// Full chain of causes, so the operator sees why and not just what.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// What a Ceph failure means to an API client.
fn ceph_status(e: &lqx_ceph::CephError) -> (StatusCode, ErrorCode) {
    use lqx_ceph::CephError as E;
    match e {
        E::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
        E::Exists(_)
        | E::HasSnapshots { .. }
        | E::HasClones { .. }
        | E::InUse(_)
        | E::ShrinkRefused { .. }
        | E::WrongCluster { .. } => (StatusCode::CONFLICT, ErrorCode::Conflict),
        E::PermissionDenied { .. } => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
        E::AuthFailed { .. } => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidValue),
        E::Unreachable { .. } | E::TimedOut(_) | E::Stopped => {
            (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable)
        }
        E::Mon { .. } | E::Answer { .. } | E::Rados { .. } | E::Rbd { .. } | E::Io(_) => {
            (StatusCode::BAD_GATEWAY, ErrorCode::Unavailable)
        }
    }
}

/// What a cluster store failure means to an API client.
fn cluster_status(e: &lqx_etcd::EtcdError) -> (StatusCode, ErrorCode) {
    use lqx_etcd::EtcdError as E;
    match e {
        E::NoMember(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
        E::Refused { .. } | E::NoLease => (StatusCode::CONFLICT, ErrorCode::Conflict),
        E::Unavailable { .. }
        | E::LearnerBehind(_)
        | E::TooManyLearners(_)
        | E::TimedOut { .. }
        | E::NotRunning(_)
        | E::CertificateRefused { .. } => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable),
        E::Tls(_) | E::Spawn { .. } | E::Io { .. } => {
            (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal)
        }
    }
}

impl From<AgentError> for ApiError {
    fn from(err: AgentError) -> Self {
        let (status, code) = match &err {
            AgentError::Label(_) | AgentError::Invalid(_) | AgentError::Network(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidValue)
            }
            AgentError::Conflict(_) => (StatusCode::CONFLICT, ErrorCode::Conflict),
            AgentError::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            AgentError::Refused(_) => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            AgentError::Systemd(_) => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable),
            AgentError::Probe(_)
            | AgentError::Unavailable(_)
            | AgentError::NetworkApply(_)
            | AgentError::Ovn(_) => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable),
            AgentError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
            AgentError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyRequests),
            AgentError::Ceph(e) => ceph_status(e),
            AgentError::Cluster(e) => cluster_status(e),
            AgentError::Libvirt(_) => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable),
            AgentError::Store(_) | AgentError::Task(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal)
            }
        };
        if status.is_server_error() {
            tracing::error!(error = %chain(&err), "request failed");
        }
        Self::new(status, code, chain(&err))
    }
}
