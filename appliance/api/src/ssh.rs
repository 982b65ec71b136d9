//! Time-limited SSH access.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Answer of `GET /v1/host/ssh`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SshStatus {
    /// Whether SSH is enabled now.
    pub enabled: bool,
    /// When it turns itself off.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub until: Option<OffsetDateTime>,
    /// Recent enable/disable events, newest last.
    pub audit: Vec<AuditEvent>,
}

/// Body of `POST /v1/host/ssh`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SshEnableRequest {
    /// How long SSH stays on: 5–120 minutes.
    pub minutes: u32,
    /// The admin password: it becomes root's SSH password while enabled.
    pub password: String,
}

/// One audited action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened, e.g. "ssh enabled for 15 minutes".
    pub action: String,
    /// Who asked: "uid 0 pid 123", or "lqxd" for automatic actions.
    pub actor: String,
}
