//! The persisted network document (`network.json`): what the operator
//! saved, what is in force, and an apply waiting for confirmation. The
//! pending apply is persisted before the system is touched, so an agent
//! that dies mid-apply still restores the previous configuration.

use crate::document::Document;
use lqx_api::{ApplyOutcome, ApplyResult, NetworkConfig};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// `network.json` in the state directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkState {
    /// Always [`NetworkState::SCHEMA_VERSION`] once read.
    pub schema_version: u32,
    /// Saved by `PUT /v1/host/network`.
    pub desired: Option<NetworkConfig>,
    /// The last confirmed configuration; `None` is the image's default.
    pub applied: Option<NetworkConfig>,
    /// An apply waiting for confirmation.
    pub pending: Option<Pending>,
    /// How the last apply ended.
    pub last_outcome: Option<ApplyOutcome>,
}

/// An unconfirmed apply and what to go back to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    /// Rendered into the system now.
    pub config: NetworkConfig,
    /// What was in force before (`None`: the image's default).
    pub previous: Option<NetworkConfig>,
    /// The hostname before, restored with a `None` previous config.
    pub previous_hostname: String,
    /// When it was applied.
    #[serde(with = "time::serde::rfc3339")]
    pub applied_at: OffsetDateTime,
    /// When it is reverted unless confirmed.
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
}

impl Document for NetworkState {
    const FILE_NAME: &'static str = "network.json";
    const SCHEMA_VERSION: u32 = 1;
}

impl Default for NetworkState {
    fn default() -> Self {
        Self {
            schema_version: Self::SCHEMA_VERSION,
            desired: None,
            applied: None,
            pending: None,
            last_outcome: None,
        }
    }
}

impl NetworkState {
    /// The state after `pending` is confirmed at `now`.
    pub fn confirmed(&self, now: OffsetDateTime) -> Self {
        let mut next = self.clone();
        if let Some(pending) = next.pending.take() {
            next.applied = Some(pending.config);
            next.last_outcome = Some(ApplyOutcome {
                at: now,
                result: ApplyResult::Confirmed,
                message: "confirmed; the new configuration is in force".into(),
            });
        }
        next
    }

    /// The state after `pending` is given up at `now` for `result`.
    pub fn reverted(&self, now: OffsetDateTime, result: ApplyResult, message: String) -> Self {
        let mut next = self.clone();
        next.pending = None;
        next.last_outcome = Some(ApplyOutcome {
            at: now,
            result,
            message,
        });
        next
    }
}

/// Bonds and VLANs `old` has that `new` does not: networkd never deletes
/// a netdev by itself.
pub fn obsolete_links(old: Option<&NetworkConfig>, new: Option<&NetworkConfig>) -> Vec<String> {
    use lqx_api::LinkKind;
    let virtual_names = |c: Option<&NetworkConfig>| -> Vec<String> {
        c.map(|c| {
            c.links
                .iter()
                .filter(|l| !matches!(l.kind, LinkKind::Ethernet))
                .map(|l| l.name.clone())
                .collect()
        })
        .unwrap_or_default()
    };
    let keep = virtual_names(new);
    virtual_names(old)
        .into_iter()
        .filter(|n| !keep.contains(n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::samples::{bonded, simple};

    #[test]
    fn confirm_and_revert_transitions() {
        let t = OffsetDateTime::UNIX_EPOCH;
        let state = NetworkState {
            pending: Some(Pending {
                config: simple(),
                previous: None,
                previous_hostname: "lqx".into(),
                applied_at: t,
                deadline: t,
            }),
            ..NetworkState::default()
        };
        let confirmed = state.confirmed(t);
        assert_eq!(confirmed.applied, Some(simple()));
        assert!(confirmed.pending.is_none());
        assert_eq!(
            confirmed.last_outcome.unwrap().result,
            ApplyResult::Confirmed
        );
        let reverted = state.reverted(t, ApplyResult::RevertedTimeout, "late".into());
        assert_eq!(reverted.applied, None);
        assert!(reverted.pending.is_none());
        let bytes = crate::document::encode(&state);
        assert_eq!(
            crate::document::decode::<NetworkState>(&bytes).unwrap(),
            state
        );
    }

    #[test]
    fn obsolete_links_are_the_old_virtual_ones() {
        assert_eq!(
            obsolete_links(Some(&bonded()), Some(&simple())),
            ["bond0", "mgmt"]
        );
        assert_eq!(
            obsolete_links(Some(&bonded()), Some(&bonded())),
            Vec::<String>::new()
        );
        assert_eq!(obsolete_links(None, Some(&bonded())), Vec::<String>::new());
        assert_eq!(obsolete_links(Some(&bonded()), None), ["bond0", "mgmt"]);
    }
}
