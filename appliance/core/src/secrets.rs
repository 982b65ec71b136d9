//! Persisted documents that hold secrets or their hashes (0600 like every
//! state file, and never logged): the admin password hash and the SSH
//! window with its audit trail.

use crate::document::Document;
use lqx_api::AuditEvent;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// `auth.json`: the admin password, hashed (PHC string, Argon2id).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthState {
    /// Always [`AuthState::SCHEMA_VERSION`] once read.
    pub schema_version: u32,
    /// PHC string of the hash.
    pub password_hash: String,
    /// When it was set.
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
}

impl std::fmt::Debug for AuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthState")
            .field("password_hash", &"<redacted>")
            .field("changed_at", &self.changed_at)
            .finish()
    }
}

impl Document for AuthState {
    const FILE_NAME: &'static str = "auth.json";
    const SCHEMA_VERSION: u32 = 1;
}

/// Longest audit trail kept.
pub const AUDIT_KEEP: usize = 50;

/// `ssh.json`: when SSH turns itself off, and who turned it on or off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshState {
    /// Always [`SshState::SCHEMA_VERSION`] once read.
    pub schema_version: u32,
    /// End of the window SSH is enabled for; `None` when disabled.
    #[serde(with = "time::serde::rfc3339::option")]
    pub until: Option<OffsetDateTime>,
    /// Newest last, at most [`AUDIT_KEEP`].
    pub audit: Vec<AuditEvent>,
}

impl Default for SshState {
    fn default() -> Self {
        Self {
            schema_version: Self::SCHEMA_VERSION,
            until: None,
            audit: vec![],
        }
    }
}

impl Document for SshState {
    const FILE_NAME: &'static str = "ssh.json";
    const SCHEMA_VERSION: u32 = 1;
}

impl SshState {
    /// The state with `until` and one more audit event.
    pub fn with_event(&self, until: Option<OffsetDateTime>, event: AuditEvent) -> Self {
        let mut audit = self.audit.clone();
        audit.push(event);
        let excess = audit.len().saturating_sub(AUDIT_KEEP);
        audit.drain(..excess);
        Self {
            until,
            audit,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_never_shows_in_debug() {
        let auth = AuthState {
            schema_version: 1,
            password_hash: "$argon2id$secret".into(),
            changed_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert!(!format!("{auth:?}").contains("argon2"));
    }

    #[test]
    fn audit_trail_is_bounded() {
        let mut state = SshState::default();
        for i in 0..(AUDIT_KEEP + 5) {
            state = state.with_event(
                None,
                AuditEvent {
                    at: OffsetDateTime::UNIX_EPOCH,
                    action: format!("event {i}"),
                    actor: "test".into(),
                },
            );
        }
        assert_eq!(state.audit.len(), AUDIT_KEEP);
        assert_eq!(
            state.audit.last().unwrap().action,
            format!("event {}", AUDIT_KEEP + 4)
        );
    }
}
