//! `/v1/install`: the live system installing itself onto a disk.

use super::error::ApiError;
use super::json::ApiJson;
use crate::agent::Agent;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lqx_api::{ErrorBody, InstallInfo, InstallProgress, InstallRequest};
use std::sync::Arc;

/// Whether this system can install itself, onto which disks, and the
/// progress of an installation.
#[utoipa::path(
    get,
    path = "/v1/install",
    tag = "install",
    responses((status = 200, description = "Disks and progress", body = InstallInfo))
)]
pub async fn get_install(State(agent): State<Arc<Agent>>) -> Json<InstallInfo> {
    let agent = Arc::clone(&agent);
    // sysfs reads are quick but blocking.
    let info = tokio::task::spawn_blocking(move || agent.installer().info()).await;
    Json(info.unwrap_or_else(|_| InstallInfo {
        available: false,
        image_bytes: None,
        min_disk_bytes: crate::installer::MIN_DISK_BYTES,
        disks: vec![],
        progress: InstallProgress::idle(),
    }))
}

/// Starts writing the system onto a disk. Every byte of the disk is
/// replaced; the request must repeat the disk's name in `confirm`.
#[utoipa::path(
    post,
    path = "/v1/install",
    tag = "install",
    request_body = InstallRequest,
    responses(
        (status = 202, description = "Installation started", body = InstallProgress),
        (status = 409, description = "No image to install, or one already running", body = ErrorBody),
        (status = 422, description = "Unknown, ineligible or unconfirmed disk; nothing written", body = ErrorBody),
    )
)]
pub async fn post_install(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<InstallRequest>,
) -> Result<(StatusCode, Json<InstallProgress>), ApiError> {
    let started = agent.installer().start(&request)?;
    Ok((StatusCode::ACCEPTED, Json(started)))
}
