//! The admin password: set once on first boot, then required to unlock
//! the console and for sensitive actions.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Answer of `GET /v1/auth`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthStatus {
    /// Whether an admin password has been set.
    pub password_set: bool,
    /// When it was last set.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub changed_at: Option<OffsetDateTime>,
}

/// Body of `PUT /v1/auth/password`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPasswordRequest {
    /// The password in force; required once one is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// The new password; must pass the strength check.
    pub new: String,
}

/// Body of `POST /v1/auth/verify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The password to check.
    pub password: String,
}
