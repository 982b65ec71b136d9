//! `/v1/host` and `/v1/agent`.

use super::error::ApiError;
use super::json::ApiJson;
use crate::agent::Agent;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lqx_api::{AgentInfo, ErrorBody, HostInfo, Labels, LabelsPatch, PowerRequest};
use std::sync::Arc;

/// The host: identity, system, network.
#[utoipa::path(
    get,
    path = "/v1/host",
    tag = "host",
    responses(
        (status = 200, description = "The host as read now", body = HostInfo),
        (status = 503, description = "The host could not be read", body = ErrorBody),
    )
)]
pub async fn get_host(State(agent): State<Arc<Agent>>) -> Result<Json<HostInfo>, ApiError> {
    Ok(Json(agent.host_info().await?))
}

/// The agent answering: version, mode, paths.
#[utoipa::path(
    get,
    path = "/v1/agent",
    tag = "host",
    responses((status = 200, description = "The agent", body = AgentInfo))
)]
pub async fn get_agent(State(agent): State<Arc<Agent>>) -> Json<AgentInfo> {
    Json(agent.info())
}

/// The host's labels.
#[utoipa::path(
    get,
    path = "/v1/host/labels",
    tag = "host",
    responses((status = 200, description = "Current labels", body = Labels))
)]
pub async fn get_labels(State(agent): State<Arc<Agent>>) -> Json<Labels> {
    Json(agent.labels().await)
}

/// Sets and removes labels in one atomic change.
#[utoipa::path(
    patch,
    path = "/v1/host/labels",
    tag = "host",
    request_body = LabelsPatch,
    responses(
        (status = 200, description = "Labels after the change", body = Labels),
        (status = 400, description = "Body is not JSON", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Body is not declared as JSON", body = ErrorBody),
        (status = 422, description = "Invalid label or body shape; nothing changed", body = ErrorBody),
        (status = 500, description = "Could not persist; nothing changed", body = ErrorBody),
    )
)]
pub async fn patch_labels(
    State(agent): State<Arc<Agent>>,
    ApiJson(patch): ApiJson<LabelsPatch>,
) -> Result<Json<Labels>, ApiError> {
    Ok(Json(agent.patch_labels(&patch).await?))
}

/// Reboots or powers off the host (appliance mode only).
#[utoipa::path(
    post,
    path = "/v1/host/power",
    tag = "host",
    request_body = PowerRequest,
    responses(
        (status = 202, description = "The shutdown has been queued"),
        (status = 409, description = "Not the appliance's agent", body = ErrorBody),
        (status = 503, description = "systemd refused", body = ErrorBody),
    )
)]
pub async fn post_power(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<PowerRequest>,
) -> Result<StatusCode, ApiError> {
    agent.power(request.action).await?;
    Ok(StatusCode::ACCEPTED)
}
