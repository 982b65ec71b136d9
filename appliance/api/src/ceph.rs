//! Joining an existing Ceph cluster as a client.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// `POST /v1/ceph`: how to reach the cluster and who to be there.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CephJoinRequest {
    /// Monitor addresses, `IP` or `IP:PORT` (v2 port 3300 when none is
    /// given, v1 port 6789 tried too), IPv6 in brackets.
    pub mons: Vec<String>,
    /// The cephx entity, `client.ID`.
    pub name: String,
    /// The entity's cephx key, base64. Kept 0600 in the agent's state and
    /// never returned or logged.
    pub key: String,
    /// When given, the cluster must have this fsid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fsid: Option<Uuid>,
}

// The key stays out of Debug output, hence logs.
impl std::fmt::Debug for CephJoinRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CephJoinRequest")
            .field("mons", &self.mons)
            .field("name", &self.name)
            .field("key", &"<redacted>")
            .field("fsid", &self.fsid)
            .finish()
    }
}

/// The persisted membership: the join request as checked, without the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CephConfig {
    /// The cluster's fsid, as read from it when joining.
    pub fsid: Uuid,
    /// Monitor addresses as given, normalised to `IP:PORT`.
    pub mons: Vec<String>,
    /// The cephx entity.
    pub name: String,
    /// The libvirt secret holding the key, in the appliance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub libvirt_secret: Option<Uuid>,
    /// When the join was confirmed.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: OffsetDateTime,
}

/// One monitor as the monitor map lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CephMon {
    /// Its name.
    pub name: String,
    /// Its rank in the map.
    pub rank: i64,
    /// Its msgr v2 address, `IP:PORT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v2: Option<String>,
    /// Its msgr v1 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v1: Option<String>,
}

/// A health check that is not OK.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CephHealthCheck {
    /// Its code, e.g. `MGR_DOWN`.
    pub code: String,
    /// `HEALTH_WARN` or `HEALTH_ERR`.
    pub severity: String,
    /// The one-line summary.
    pub message: String,
}

/// A pool this client can see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CephPool {
    /// Its name.
    pub name: String,
    /// Its id.
    pub id: i64,
    /// Applications enabled on it (`rbd`, `cephfs`, `rgw`).
    pub applications: Vec<String>,
    /// Whether this client could list the pool's RBD images.
    pub rbd_readable: bool,
}

/// What the cluster says now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CephClusterInfo {
    /// The cluster's fsid.
    pub fsid: Uuid,
    /// `HEALTH_OK`, `HEALTH_WARN` or `HEALTH_ERR`.
    pub health: String,
    /// What is not OK.
    pub checks: Vec<CephHealthCheck>,
    /// The monitor map.
    pub mons: Vec<CephMon>,
    /// The monitor map's epoch.
    pub monmap_epoch: u64,
    /// Pools.
    pub pools: Vec<CephPool>,
}

/// `GET /v1/ceph`: the membership and the cluster's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CephStatus {
    /// The membership; absent when this host has not joined a cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<CephConfig>,
    /// The cluster's state, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<CephClusterInfo>,
    /// Why the cluster's state is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}
