//! The cluster of hosts: what a host persists about its membership, the
//! records hosts keep in the cluster store, and how the member list is
//! derived from them.
//!
//! Keys in the store (values are JSON); the member list reads everything
//! under `/lqx/v1/members/` at once, and nothing else:
//! - `/lqx/v1/members/hosts/{id}`: [`HostRecord`], written at init or join.
//! - `/lqx/v1/members/alive/{id}`: [`Heartbeat`], attached to the host's
//!   lease, so it disappears when the host stops renewing it.
//! - `/lqx/v1/members/seen/{id}`: [`Heartbeat`], the last one, kept.
//! - `/lqx/v1/tokens/{id}`: [`TokenRecord`], attached to a lease of the
//!   token's lifetime.
//! - `/lqx/v1/locks/membership`: held (with a short lease) while a member
//!   decides a joiner's role and adds it to etcd, so that two joins
//!   through two members cannot both take the last voter's seat.
//! - `/lqx/v1/joining/{member}`: a learner added for a joining host, on a
//!   lease; once it lapses, a learner still not promoted was abandoned
//!   and may be removed.

use crate::cluster_token::{constant_time_eq, hex};
use crate::document::{Document, DocumentError};
use crate::pki_state::StoredAuthority;
use lqx_api::{ClusterConfig, EtcdRole, Member, MemberState, MemberVersions};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// Prefix of every key.
pub const ROOT: &str = "/lqx/v1/";
/// Prefix of the keys the member list is made of.
pub const MEMBERS: &str = "/lqx/v1/members/";
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
    format!("{MEMBERS}hosts/{id}")
}

/// Key of a host's live heartbeat.
pub fn alive_key(id: Uuid) -> String {
    format!("{MEMBERS}alive/{id}")
}

/// Key of a host's last heartbeat.
pub fn seen_key(id: Uuid) -> String {
    format!("{MEMBERS}seen/{id}")
}

/// Key of a token's record.
pub fn token_key(id: &str) -> String {
    format!("{ROOT}tokens/{id}")
}

/// Key of the lock held while membership changes.
pub fn membership_lock_key() -> String {
    format!("{ROOT}locks/membership")
}

/// Key marking a learner added for a join still under way.
pub fn joining_key(member: u64) -> String {
    format!("{ROOT}joining/{member:x}")
}

/// Every key a host owns in the store, deleted when it leaves or is
/// removed.
pub fn host_keys(id: Uuid) -> Vec<String> {
    vec![
        host_key(id),
        alive_key(id),
        seen_key(id),
        crate::vm::capacity_key(id),
        crate::vm::foreign_key(id),
    ]
}

/// `cluster.json`: the cluster this host belongs to, the cluster's
/// authority, and the certificate its etcd member uses. Written last
/// when the host creates or joins a cluster and removed first when it
/// leaves: it is the commit point, and `pki.json` follows it.
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
    /// The cluster authority, on hosts that joined (on the host that
    /// created the cluster it is the host's own, in `pki.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<StoredAuthority>,
    /// Set while the host leaves (or was removed): the store no longer
    /// lists it, and what is left to undo here is finished at the next
    /// start if the agent stops midway.
    #[serde(default)]
    pub leaving: bool,
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
    const SCHEMA_VERSION: u32 = 2;

    /// Version 1 had no authority: only cluster creators wrote it.
    fn upgrade(version: u32, value: serde_json::Value) -> Result<Self, DocumentError> {
        match version {
            1 => {
                let mut state: Self =
                    serde_json::from_value(value).map_err(|source| DocumentError::Malformed {
                        file: Self::FILE_NAME,
                        source,
                    })?;
                state.schema_version = Self::SCHEMA_VERSION;
                Ok(state)
            }
            _ => Err(DocumentError::UnsupportedVersion {
                file: Self::FILE_NAME,
                found: version,
                current: Self::SCHEMA_VERSION,
            }),
        }
    }
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

/// Why a join token was refused. None of them consumes the token but
/// [`TokenRefusal::Used`], which means it already was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenRefusal {
    /// No record: never issued here, used, or expired and collected.
    Unknown,
    /// The secret does not match.
    Secret,
    /// Past its expiry.
    Expired,
    /// Consumed by another join meanwhile.
    Used,
}

impl std::fmt::Display for TokenRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unknown => {
                "the join token is unknown to the cluster: already used, expired, or never issued"
            }
            Self::Secret => "the join token's secret is wrong",
            Self::Expired => "the join token has expired",
            Self::Used => "the join token was used by another host",
        })
    }
}

/// Checks a presented token secret (base64url) against its record at
/// `now`: the secret's SHA-256 must match in constant time, then the
/// expiry must not have passed. `sha256` hashes.
pub fn check_token(
    record: &TokenRecord,
    secret: &str,
    now: OffsetDateTime,
    sha256: impl Fn(&[u8]) -> Vec<u8>,
) -> Result<(), TokenRefusal> {
    use base64::Engine as _;
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(secret) else {
        return Err(TokenRefusal::Secret);
    };
    if !constant_time_eq(
        hex(&sha256(&bytes)).as_bytes(),
        record.secret_sha256.as_bytes(),
    ) {
        return Err(TokenRefusal::Secret);
    }
    if record.expires_at <= now {
        return Err(TokenRefusal::Expired);
    }
    Ok(())
}

/// Finds the one registered host that `name` names: its id, or its
/// hostname when no other host has it.
pub fn resolve_host<'a>(hosts: &'a [HostRecord], name: &str) -> Result<&'a HostRecord, String> {
    if let Ok(id) = name.parse::<Uuid>() {
        return hosts
            .iter()
            .find(|h| h.id == id)
            .ok_or_else(|| format!("no member of the cluster has id {id}"));
    }
    let named: Vec<&HostRecord> = hosts.iter().filter(|h| h.hostname == name).collect();
    match named.as_slice() {
        [one] => Ok(one),
        [] => Err(format!("no member of the cluster is named {name:?}")),
        many => Err(format!(
            "{} members are named {name:?}; use a host id ({})",
            many.len(),
            many.iter()
                .map(|h| h.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Whether removing a voter leaves voters that can still agree: a
/// majority of the remaining voters must be ones that answer now.
/// `voters` counts every voter before the removal, `answering` those of
/// them that answer, and `removed_answers` whether the removed one is
/// among them.
pub fn removal_keeps_quorum(voters: usize, answering: usize, removed_answers: bool) -> bool {
    let remaining = voters.saturating_sub(1);
    let answering = answering.saturating_sub(usize::from(removed_answers));
    remaining == 0 || answering > remaining / 2
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

/// Everything under [`MEMBERS`], read at one revision: hosts, their live
/// and last heartbeats, and what they offer VMs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MembersView {
    /// The host records.
    pub hosts: Vec<HostRecord>,
    /// Live heartbeats by host.
    pub alive: BTreeMap<Uuid, Heartbeat>,
    /// Last heartbeats by host.
    pub seen: BTreeMap<Uuid, Heartbeat>,
    /// Capacities by host.
    pub capacity: BTreeMap<Uuid, crate::vm::HostCapacity>,
}

impl MembersView {
    /// Sorts `(key, value)` pairs read under [`MEMBERS`]; values that do
    /// not parse are skipped (a newer agent's, or damaged).
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Self {
        fn by_id<T: serde::de::DeserializeOwned>(
            map: &mut BTreeMap<Uuid, T>,
            id: &str,
            value: &[u8],
        ) {
            if let (Ok(id), Ok(v)) = (id.parse::<Uuid>(), serde_json::from_slice(value)) {
                map.insert(id, v);
            }
        }
        let mut view = Self::default();
        for (key, value) in entries {
            let Some(rest) = key.strip_prefix(MEMBERS) else {
                continue;
            };
            match rest.split_once('/') {
                Some(("hosts", _)) => view.hosts.extend(serde_json::from_slice(value).ok()),
                Some(("alive", id)) => by_id(&mut view.alive, id, value),
                Some(("seen", id)) => by_id(&mut view.seen, id, value),
                Some(("capacity", id)) => by_id(&mut view.capacity, id, value),
                _ => {}
            }
        }
        view
    }

    /// The member list.
    pub fn members(&self) -> Vec<Member> {
        members(&self.hosts, &self.alive, &self.seen)
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

    fn sha256(bytes: &[u8]) -> Vec<u8> {
        // Tests only need a deterministic function of the bytes.
        bytes.iter().rev().copied().collect()
    }

    #[test]
    fn tokens_are_checked_secret_first() {
        use base64::Engine as _;
        let secret = [7u8; 32];
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        let now = datetime!(2026-11-26 12:00 UTC);
        let record = TokenRecord {
            secret_sha256: hex(&sha256(&secret)),
            expires_at: now + time::Duration::minutes(5),
            created_by: Uuid::from_u128(1),
        };
        assert_eq!(check_token(&record, &text, now, sha256), Ok(()));
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([8u8; 32]);
        assert_eq!(
            check_token(&record, &forged, now, sha256),
            Err(TokenRefusal::Secret)
        );
        assert_eq!(
            check_token(&record, "not base64!", now, sha256),
            Err(TokenRefusal::Secret)
        );
        let late = now + time::Duration::minutes(5);
        assert_eq!(
            check_token(&record, &text, late, sha256),
            Err(TokenRefusal::Expired)
        );
        // A wrong secret says nothing about the expiry.
        assert_eq!(
            check_token(&record, &forged, late, sha256),
            Err(TokenRefusal::Secret)
        );
    }

    #[test]
    fn hosts_by_id_or_unique_hostname() {
        let hosts = [host(1, "hv1"), host(2, "hv2"), host(3, "hv2")];
        assert_eq!(resolve_host(&hosts, "hv1").unwrap().id, Uuid::from_u128(1));
        let id = Uuid::from_u128(3).to_string();
        assert_eq!(resolve_host(&hosts, &id).unwrap().id, Uuid::from_u128(3));
        assert!(
            resolve_host(&hosts, "hv2")
                .unwrap_err()
                .contains("2 members")
        );
        assert!(
            resolve_host(&hosts, "hv9")
                .unwrap_err()
                .contains("no member")
        );
        let unknown = Uuid::from_u128(9).to_string();
        assert!(resolve_host(&hosts, &unknown).unwrap_err().contains("id"));
    }

    #[test]
    fn removals_that_keep_a_majority() {
        // Three voters, all answering: removing any leaves two of two.
        assert!(removal_keeps_quorum(3, 3, true));
        // Three voters, one down: removing the down one leaves two of two.
        assert!(removal_keeps_quorum(3, 2, false));
        // Three voters, one down: removing a live one leaves one of two.
        assert!(!removal_keeps_quorum(3, 2, true));
        // Five voters, two down: removing a down one leaves three of four.
        assert!(removal_keeps_quorum(5, 3, false));
        // The last voter.
        assert!(removal_keeps_quorum(1, 1, true));
    }

    #[test]
    fn version_1_documents_upgrade() {
        let v1 = br#"{"schema_version":1,"config":null,"etcd_cert_pem":null,"etcd_key_pem":null}"#;
        let state: ClusterState = crate::document::decode(v1).unwrap();
        assert_eq!(state.schema_version, ClusterState::SCHEMA_VERSION);
        assert!(state.authority.is_none());
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
