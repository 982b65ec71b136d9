//! `/v1/ceph`: this host as a client of a Ceph cluster.

use super::error::ApiError;
use super::json::ApiJson;
use crate::agent::Agent;
use axum::Json;
use axum::extract::State;
use lqx_api::{CephJoinRequest, CephStatus, ErrorBody};
use std::sync::Arc;

/// The membership and what the cluster says now: fsid, health, monitor
/// map, pools this client can read.
#[utoipa::path(
    get,
    path = "/v1/ceph",
    tag = "ceph",
    responses((status = 200, description = "Membership and cluster state", body = CephStatus))
)]
pub async fn get_ceph(State(agent): State<Arc<Agent>>) -> Json<CephStatus> {
    Json(agent.ceph().status().await)
}

/// Joins a cluster: connects with the given monitors, name and key within
/// the connect timeout, reads the fsid, health and monitor map, checks the
/// fsid when given, stores the key as a libvirt secret (appliance), and
/// only then persists. Joining the same cluster again replaces the
/// monitors and key.
#[utoipa::path(
    post,
    path = "/v1/ceph",
    tag = "ceph",
    request_body = CephJoinRequest,
    responses(
        (status = 200, description = "Joined", body = CephStatus),
        (status = 409, description = "Another cluster's fsid, or joined to another cluster; nothing changed", body = ErrorBody),
        (status = 422, description = "Bad monitor address, name or key, or authentication failed; nothing changed", body = ErrorBody),
        (status = 503, description = "No monitor answered in time; nothing changed", body = ErrorBody),
    )
)]
pub async fn post_ceph(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<CephJoinRequest>,
) -> Result<Json<CephStatus>, ApiError> {
    Ok(Json(agent.ceph().join(&request).await?))
}

/// Leaves the cluster: removes the key (and its libvirt secret) and the
/// membership.
#[utoipa::path(
    delete,
    path = "/v1/ceph",
    tag = "ceph",
    responses(
        (status = 200, description = "Left", body = CephStatus),
        (status = 409, description = "Not joined", body = ErrorBody),
    )
)]
pub async fn delete_ceph(State(agent): State<Arc<Agent>>) -> Result<Json<CephStatus>, ApiError> {
    Ok(Json(agent.ceph().leave().await?))
}
