//! `/v1/host/network`, its apply cycle, and `/v1/host/diagnostics`.

use super::error::ApiError;
use super::json::ApiJson;
use crate::agent::{Agent, AgentError};
use crate::network::{DEFAULT_TIMEOUT, TIMEOUT_RANGE};
use axum::Json;
use axum::extract::State;
use lqx_api::{ApplyRequest, Diagnostics, ErrorBody, NetworkConfig, NetworkStatus};
use std::sync::Arc;
use std::time::Duration;

/// The saved, applied and pending network configurations.
#[utoipa::path(
    get,
    path = "/v1/host/network",
    tag = "network",
    responses((status = 200, description = "Network configuration state", body = NetworkStatus))
)]
pub async fn get_network(State(agent): State<Arc<Agent>>) -> Json<NetworkStatus> {
    Json(agent.network().status().await)
}

/// Saves the desired configuration after validating it against this
/// host's NICs. Nothing is applied.
#[utoipa::path(
    put,
    path = "/v1/host/network",
    tag = "network",
    request_body = NetworkConfig,
    responses(
        (status = 200, description = "Saved", body = NetworkStatus),
        (status = 422, description = "Invalid; the message names each field; nothing saved", body = ErrorBody),
    )
)]
pub async fn put_network(
    State(agent): State<Arc<Agent>>,
    ApiJson(config): ApiJson<NetworkConfig>,
) -> Result<Json<NetworkStatus>, ApiError> {
    Ok(Json(agent.network().put(config).await?))
}

/// Applies the saved configuration. Unless confirmed before the timeout,
/// or if the management link loses its address, the previous one comes
/// back by itself.
#[utoipa::path(
    post,
    path = "/v1/host/network/apply",
    tag = "network",
    request_body = ApplyRequest,
    responses(
        (status = 200, description = "Applied, waiting for confirmation", body = NetworkStatus),
        (status = 409, description = "Nothing saved, or an apply is already pending", body = ErrorBody),
        (status = 422, description = "Invalid timeout or configuration", body = ErrorBody),
        (status = 503, description = "Applying failed; the previous configuration was restored", body = ErrorBody),
    )
)]
pub async fn post_apply(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<ApplyRequest>,
) -> Result<Json<NetworkStatus>, ApiError> {
    let timeout = match request.timeout_secs {
        None => DEFAULT_TIMEOUT,
        Some(secs) if TIMEOUT_RANGE.contains(&secs) => Duration::from_secs(secs.into()),
        Some(secs) => {
            return Err(AgentError::Invalid(format!(
                "timeout_secs must be {}–{}, not {secs}",
                TIMEOUT_RANGE.start(),
                TIMEOUT_RANGE.end()
            ))
            .into());
        }
    };
    Ok(Json(agent.network().apply(timeout).await?))
}

/// Keeps the pending configuration.
#[utoipa::path(
    post,
    path = "/v1/host/network/confirm",
    tag = "network",
    responses(
        (status = 200, description = "Confirmed", body = NetworkStatus),
        (status = 409, description = "Nothing pending", body = ErrorBody),
    )
)]
pub async fn post_confirm(
    State(agent): State<Arc<Agent>>,
) -> Result<Json<NetworkStatus>, ApiError> {
    Ok(Json(agent.network().confirm().await?))
}

/// Gives up the pending configuration now.
#[utoipa::path(
    post,
    path = "/v1/host/network/revert",
    tag = "network",
    responses(
        (status = 200, description = "Previous configuration restored", body = NetworkStatus),
        (status = 409, description = "Nothing pending", body = ErrorBody),
    )
)]
pub async fn post_revert(State(agent): State<Arc<Agent>>) -> Result<Json<NetworkStatus>, ApiError> {
    Ok(Json(agent.network().revert().await?))
}

/// Preflight checks of the management link: link, address, gateway, DNS,
/// NTP.
#[utoipa::path(
    get,
    path = "/v1/host/diagnostics",
    tag = "network",
    responses(
        (status = 200, description = "Check results", body = Diagnostics),
        (status = 503, description = "The host could not be read", body = ErrorBody),
    )
)]
pub async fn get_diagnostics(
    State(agent): State<Arc<Agent>>,
) -> Result<Json<Diagnostics>, ApiError> {
    Ok(Json(agent.diagnostics().await?))
}
