//! `/v1/ovn/chassis`: this host as an OVN chassis.

use super::error::ApiError;
use super::json::ApiJson;
use crate::agent::{Agent, AgentError};
use axum::Json;
use axum::extract::State;
use lqx_api::{AddressScope, ChassisRequest, ChassisStatus, ErrorBody};
use std::sync::Arc;

/// The registration and what the Open_vSwitch and southbound databases
/// say about it now.
#[utoipa::path(
    get,
    path = "/v1/ovn/chassis",
    tag = "ovn",
    responses((status = 200, description = "Chassis state", body = ChassisStatus))
)]
pub async fn get_chassis(State(agent): State<Arc<Agent>>) -> Json<ChassisStatus> {
    Json(agent.ovn().status().await)
}

/// Registers this host as a chassis (on the cluster's OVN central
/// southbound database when none is given): writes the settings into the local
/// Open_vSwitch database and returns once ovn-controller's `Chassis` and
/// `Encap` rows are in the southbound database. Nothing is written when
/// the southbound database does not answer, and the settings are undone
/// when the rows do not come.
#[utoipa::path(
    post,
    path = "/v1/ovn/chassis",
    tag = "ovn",
    request_body = ChassisRequest,
    responses(
        (status = 200, description = "Registered", body = ChassisStatus),
        (status = 422, description = "Bad remote, encap IP not of this host, bad mapping", body = ErrorBody),
        (status = 503, description = "Southbound or local database unreachable, or no chassis row in time; nothing changed", body = ErrorBody),
    )
)]
pub async fn post_chassis(
    State(agent): State<Arc<Agent>>,
    ApiJson(mut request): ApiJson<ChassisRequest>,
) -> Result<Json<ChassisStatus>, ApiError> {
    let central = match agent.vnet().state().await {
        Ok(state) => state.central,
        Err(_) => None,
    };
    if request.sb_remote.trim().is_empty() {
        request.sb_remote = central
            .as_ref()
            .map(|c| c.sb_remote.clone())
            .ok_or_else(|| {
                AgentError::Invalid(
                    "no southbound database given, and the cluster has no OVN central set".into(),
                )
            })?;
    }
    // The central's database: its authority too, unless another is given.
    if request.ca_cert.is_none()
        && let Some(central) = central.filter(|c| c.sb_remote == request.sb_remote)
    {
        request.ca_cert = central.ca_cert;
    }
    let facts = agent.facts().await?;
    let addresses: Vec<std::net::IpAddr> = facts
        .interfaces
        .iter()
        .flat_map(|i| i.addresses.iter())
        .filter(|a| a.scope != AddressScope::Link)
        .map(|a| a.address)
        .collect();
    let system_id = agent.host_id().await.to_string();
    let status = agent
        .ovn()
        .register(&request, &system_id, &facts.hostname, &addresses)
        .await?;
    // Placement takes NICs on virtual networks to chassis only: say so
    // now rather than at the next reconciliation.
    agent.vms().refresh_capacity().await;
    Ok(Json(status))
}

/// Unregisters: removes the settings and the southbound rows.
#[utoipa::path(
    delete,
    path = "/v1/ovn/chassis",
    tag = "ovn",
    responses(
        (status = 200, description = "Unregistered", body = ChassisStatus),
        (status = 409, description = "Not registered", body = ErrorBody),
        (status = 503, description = "Southbound database unreachable; nothing changed", body = ErrorBody),
    )
)]
pub async fn delete_chassis(
    State(agent): State<Arc<Agent>>,
) -> Result<Json<ChassisStatus>, ApiError> {
    let status = agent.ovn().unregister().await?;
    agent.vms().refresh_capacity().await;
    Ok(Json(status))
}
