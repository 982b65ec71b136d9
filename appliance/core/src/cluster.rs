//! The cluster of hosts: what a host persists about its membership, the
//! records hosts keep in the cluster store, and how the member list is
//! derived from them.
//!
//! Keys in the store (values are JSON):
//! - `/lqx/v1/hosts/{id}`: [`HostRecord`], written at init or join.
//! - `/lqx/v1/alive/{id}`: [`Heartbeat`], attached to the host's lease, so
//!   it disappears when the host stops renewing it.
//! - `/lqx/v1/seen/{id}`: [`Heartbeat`], the last one, kept.
//! - `/lqx/v1/tokens/{id}`: [`TokenRecord`], attached to a lease of the
//!   token's lifetime.

use crate::document::Document;
use lqx_api::{ClusterConfig, EtcdRole, Member, MemberState, MemberVersions};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// Prefix of every key.
pub const ROOT: &str = "/lqx/v1/";
/// The default cluster name.
pub const DEFAULT_NAME: &str = "lqx";
/// Voting members unless told otherwise.
pub const DEFAULT_VOTERS: u8 = 3;
/// A token's lifetime unless told otherwise (seconds).
pub const DEFAULT_TOKEN_TTL: u64 = 3600;
/// Shortest and longest token lifetimes (seconds).
pub const TOKEN_TTL_RANGE: std::ops::RangeInclusive<u64> = 60..=7 * 24 * 3600;

/// Key of a host's record.
pub fn host_key(id: Uuid) -> String {
    format!("{ROOT}hosts/{id}")
}

/// Key of a host's live heartbeat.
pub fn alive_key(id: Uuid) -> String {
    format!("{ROOT}alive/{id}")
}

/// Key of a host's last heartbeat.
pub fn seen_key(id: Uuid) -> String {
    format!("{ROOT}seen/{id}")
}

/// Key of a token's record.
pub fn token_key(id: &str) -> String {
    format!("{ROOT}tokens/{id}")
}

/// `cluster.json`: the cluster this host belongs to, and the certificate
/// its etcd member uses.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterState {
    /// Always [`ClusterState::SCHEMA_VERSION`] once read.
    #[serde(default)]
    pub schema_version: u32,
    /// The membership.
    pub config: Option<ClusterConfig>,
    /// The etcd member's (and this host's etcd client's) certificate and
    /// key, PEM.
    pub etcd_cert_pem: Option<String>,
    /// Its key. The document is 0600 like every state file.
    pub etcd_key_pem: Option<String>,
}

impl std::fmt::Debug for ClusterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Document for ClusterState {
    const FILE_NAME: &'static str = "cluster.json";
    const SCHEMA_VERSION: u32 = 1;
}

/// A host as registered in the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRecord {
    /// The host's id.
    pub id: Uuid,
    /// Its hostname.
    pub hostname: String,
    /// Its API address, `IP:PORT`.
    pub address: String,
    /// Its part in the store.
    pub etcd_role: EtcdRole,
    /// Its etcd member id, on voters (hex, as etcdctl prints it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etcd_member: Option<String>,
    /// What it runs.
    pub versions: MemberVersions,
    /// When it registered.
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: OffsetDateTime,
}

/// A heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// When it was sent (the sender's clock).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Since when the sender has been heartbeating without a gap.
    #[serde(with = "time::serde::rfc3339")]
    pub up_since: OffsetDateTime,
}

/// A join token as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// SHA-256 of the token's secret, hex.
    pub secret_sha256: String,
    /// When it expires (the lease expires it too).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The host that created it.
    pub created_by: Uuid,
}

/// Checks a cluster name: 1–63 of `a-z 0-9 -`, not starting or ending
/// with `-`.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "cluster name {name:?}: use 1 to 63 of a-z, 0-9 and '-', not at either end"
        ))
    }
}

/// Checks the number of voters: 3 or 5 (an odd number that tolerates one
/// or two failures; more only slows writes).
pub fn check_voters(voters: u8) -> Result<(), String> {
    if voters == 3 || voters == 5 {
        Ok(())
    } else {
        Err(format!("voters: {voters} is not 3 or 5"))
    }
}

/// Checks a token lifetime in seconds.
pub fn check_token_ttl(seconds: u64) -> Result<(), String> {
    if TOKEN_TTL_RANGE.contains(&seconds) {
        Ok(())
    } else {
        Err(format!(
            "ttl: {seconds} s is outside {} s to {} s (a week)",
            TOKEN_TTL_RANGE.start(),
            TOKEN_TTL_RANGE.end()
        ))
    }
}

/// Whether a joining host becomes a voter: while fewer than `voters`
/// hosts vote.
pub fn role_for_joiner(current_voters: usize, voters: u8) -> EtcdRole {
    if current_voters < usize::from(voters) {
        EtcdRole::Voter
    } else {
        EtcdRole::Client
    }
}

/// The member list from the store's records: every registered host,
/// ready when its live heartbeat exists, otherwise unreachable since its
/// last one. Ordered by hostname, then id.
pub fn members(
    hosts: &[HostRecord],
    alive: &BTreeMap<Uuid, Heartbeat>,
    seen: &BTreeMap<Uuid, Heartbeat>,
) -> Vec<Member> {
    let mut members: Vec<Member> = hosts
        .iter()
        .map(|host| {
            let (state, since, last) = match (alive.get(&host.id), seen.get(&host.id)) {
                (Some(beat), last) => (
                    MemberState::Ready,
                    Some(beat.up_since),
                    Some(last.map_or(beat.at, |l| l.at.max(beat.at))),
                ),
                (None, Some(last)) => (MemberState::Unreachable, Some(last.at), Some(last.at)),
                (None, None) => (MemberState::Unreachable, None, None),
            };
            Member {
                id: host.id,
                hostname: host.hostname.clone(),
                address: host.address.clone(),
                etcd_role: host.etcd_role,
                state,
                since,
                last_heartbeat: last,
                versions: host.versions.clone(),
            }
        })
        .collect();
    members.sort_by(|a, b| (&a.hostname, a.id).cmp(&(&b.hostname, b.id)));
    members
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn host(n: u128, name: &str) -> HostRecord {
        HostRecord {
            id: Uuid::from_u128(n),
            hostname: name.into(),
            address: format!("10.0.0.{n}:8443"),
            etcd_role: EtcdRole::Voter,
            etcd_member: None,
            versions: MemberVersions::default(),
            registered_at: datetime!(2026-11-26 10:00 UTC),
        }
    }

    #[test]
    fn states_come_from_heartbeats() {
        let hosts = [host(2, "hv2"), host(1, "hv1"), host(3, "hv3")];
        let beat = |at, up_since| Heartbeat { at, up_since };
        let alive = BTreeMap::from([(
            Uuid::from_u128(1),
            beat(
                datetime!(2026-11-26 12:00:05 UTC),
                datetime!(2026-11-26 11:00 UTC),
            ),
        )]);
        let seen = BTreeMap::from([
            (
                Uuid::from_u128(1),
                beat(
                    datetime!(2026-11-26 12:00:05 UTC),
                    datetime!(2026-11-26 11:00 UTC),
                ),
            ),
            (
                Uuid::from_u128(2),
                beat(
                    datetime!(2026-11-26 11:59 UTC),
                    datetime!(2026-11-26 10:00 UTC),
                ),
            ),
        ]);
        let m = members(&hosts, &alive, &seen);
        assert_eq!(
            m.iter().map(|m| m.hostname.as_str()).collect::<Vec<_>>(),
            ["hv1", "hv2", "hv3"]
        );
        assert_eq!(m[0].state, MemberState::Ready);
        assert_eq!(m[0].since, Some(datetime!(2026-11-26 11:00 UTC)));
        assert_eq!(m[1].state, MemberState::Unreachable);
        assert_eq!(m[1].since, Some(datetime!(2026-11-26 11:59 UTC)));
        assert_eq!(m[2].state, MemberState::Unreachable);
        assert_eq!(m[2].last_heartbeat, None);
    }

    #[test]
    fn names_voters_and_ttls() {
        assert!(check_name("lqx").is_ok());
        assert!(check_name("dc-1").is_ok());
        for bad in ["", "-a", "a-", "A", "a_b", &"a".repeat(64)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_voters(3).is_ok() && check_voters(5).is_ok());
        assert!(check_voters(4).is_err() && check_voters(1).is_err());
        assert!(check_token_ttl(3600).is_ok());
        assert!(check_token_ttl(59).is_err());
        assert!(check_token_ttl(8 * 24 * 3600).is_err());
    }

    #[test]
    fn joiners_vote_until_the_quorum_is_full() {
        assert_eq!(role_for_joiner(1, 3), EtcdRole::Voter);
        assert_eq!(role_for_joiner(2, 3), EtcdRole::Voter);
        assert_eq!(role_for_joiner(3, 3), EtcdRole::Client);
        assert_eq!(role_for_joiner(4, 5), EtcdRole::Voter);
        assert_eq!(role_for_joiner(5, 5), EtcdRole::Client);
    }
}
