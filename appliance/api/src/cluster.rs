//! The cluster of hosts: creating it, join tokens, joining, members.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// `POST /v1/cluster`: create a cluster with this host as its first member.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterInitRequest {
    /// A name for people (1–63 of `a-z 0-9 -`); default `lqx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How many hosts vote in the cluster store: 3 (default) or 5. Hosts
    /// beyond that are clients of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voters: Option<u8>,
}

/// A host's part in the cluster store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EtcdRole {
    /// Runs a voting etcd member.
    Voter,
    /// Runs no member; uses the voters' endpoints.
    Client,
}

/// The cluster this host belongs to, as it persisted it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// The cluster's id (also etcd's initial cluster token).
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// SHA-256 fingerprint of the cluster authority's certificate.
    pub fingerprint: String,
    /// This host's part in the cluster store.
    pub role: EtcdRole,
    /// How many voters the cluster store aims for.
    pub voters: u8,
    /// Client URLs of the cluster store as last known.
    pub endpoints: Vec<String>,
    /// When this host created or joined the cluster.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: OffsetDateTime,
}

/// `GET /v1/cluster`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClusterStatus {
    /// The cluster, once created or joined.
    pub cluster: Option<ClusterConfig>,
    /// Whether the cluster store answers from this host now.
    pub store_reachable: bool,
    /// Why not, when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_error: Option<String>,
}

/// `POST /v1/cluster/tokens`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Seconds the token stays valid: 60 to 604800 (a week); default 3600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<u64>,
}

/// A new join token. Shown once: the cluster keeps only its secret's hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    /// The token, to pass to `lqx cluster join` on the new host.
    pub token: String,
    /// The token's id.
    pub id: String,
    /// The fingerprint the joining host will pin.
    pub fingerprint: String,
    /// When the token stops working.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for TokenCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCreated")
            .field("id", &self.id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// `POST /v1/cluster/join` on the local API of the host that joins.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// The token from `lqx cluster token create`.
    pub token: String,
}

impl std::fmt::Debug for JoinRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinRequest").finish_non_exhaustive()
    }
}

/// Whether a member answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberState {
    /// Its heartbeat is current.
    Ready,
    /// Its heartbeat lapsed.
    Unreachable,
}

/// One host of the cluster (`GET /v1/cluster/members`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Member {
    /// The host's id.
    pub id: Uuid,
    /// Its hostname when it last registered.
    pub hostname: String,
    /// Its API address (`IP:PORT`).
    pub address: String,
    /// Its part in the cluster store.
    pub etcd_role: EtcdRole,
    /// Whether it answers.
    pub state: MemberState,
    /// Since when it is in `state` (as far as the cluster saw).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub since: Option<OffsetDateTime>,
    /// Its last heartbeat.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_heartbeat: Option<OffsetDateTime>,
    /// Versions it runs: the agent's and its etcd's.
    pub versions: MemberVersions,
}

/// Versions a member reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberVersions {
    /// lqxd's version.
    pub agent: String,
    /// The etcd member's version, on voters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etcd: Option<String>,
}
