//! The cluster of hosts: creating it, join tokens, joining, members, and
//! the join exchange between hosts.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
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

/// Header naming the host a request is for (its id or hostname): the
/// host that receives it forwards it to that member over mutual TLS, so
/// any host's API reaches every host.
pub const TARGET_HOST_HEADER: &str = "lqx-host";
/// Header a forwarding host adds with its own id; a request carrying it
/// is never forwarded again.
pub const FORWARDED_BY_HEADER: &str = "lqx-forwarded-by";

/// `POST /v1/cluster/leave`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaveRequest {
    /// Needed when this host is the cluster's last member: leaving then
    /// dissolves the cluster and deletes its store.
    #[serde(default)]
    pub force: bool,
}

/// Query of `DELETE /v1/cluster/members/{host}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RemoveQuery {
    /// Remove a voter even though the voters left could not form a
    /// majority of the ones that answer.
    #[serde(default)]
    pub force: bool,
}

/// What a joining host sends to a member over the join channel (the API
/// port, ALPN `lqx-join/1`), after pinning the member's authority by the
/// token's fingerprint.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerJoinRequest {
    /// The token's id.
    pub token_id: String,
    /// The token's secret, proving the joiner was given the token.
    pub secret: String,
    /// The joining host's id.
    pub host_id: Uuid,
    /// Its hostname.
    pub hostname: String,
    /// Its remote API address (`IP:PORT`).
    pub api_address: String,
    /// The URL its etcd member would listen on for peers.
    pub etcd_peer_url: String,
}

impl std::fmt::Debug for PeerJoinRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerJoinRequest")
            .field("token_id", &self.token_id)
            .field("host_id", &self.host_id)
            .field("hostname", &self.hostname)
            .field("api_address", &self.api_address)
            .field("etcd_peer_url", &self.etcd_peer_url)
            .finish_non_exhaustive()
    }
}

/// A certificate authority in PEM, with its private key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorityPem {
    /// Its name (the certificate's common name).
    pub name: String,
    /// Its certificate.
    pub cert_pem: String,
    /// Its private key.
    pub key_pem: String,
}

impl std::fmt::Debug for AuthorityPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorityPem")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// An etcd member's name and peer URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PeerUrl {
    /// The member's name (a host id).
    pub name: String,
    /// Its peer URL.
    pub url: String,
}

/// A member's answer to an accepted join.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerJoinResponse {
    /// The cluster's id.
    pub cluster_id: Uuid,
    /// Its name.
    pub name: String,
    /// How many voters it aims for.
    pub voters: u8,
    /// The cluster authority: every member holds it, to issue its own
    /// certificates and admin bundles.
    pub authority: AuthorityPem,
    /// The joiner's part in the store.
    pub role: EtcdRole,
    /// On voters: the etcd member id the joiner was added as (a learner
    /// until it promotes itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<u64>,
    /// On voters: every member's name and peer URL, the joiner's included.
    #[serde(default)]
    pub peers: Vec<PeerUrl>,
    /// Client URLs of the voting members.
    pub endpoints: Vec<String>,
}

impl std::fmt::Debug for PeerJoinResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerJoinResponse")
            .field("cluster_id", &self.cluster_id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("member_id", &self.member_id)
            .field("peers", &self.peers)
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
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
