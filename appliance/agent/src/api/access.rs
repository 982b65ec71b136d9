//! `/v1/auth` (the admin password), `/v1/host/ssh` and
//! `/v1/host/journal`.

use super::error::ApiError;
use super::json::ApiJson;
use super::peer::Caller;
use crate::agent::{Agent, AgentError};
use crate::journal;
use axum::Extension;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use lqx_api::{
    AuthStatus, ErrorBody, JournalLines, JournalQuery, SetPasswordRequest, SshEnableRequest,
    SshStatus, VerifyRequest,
};
use std::sync::Arc;

/// Whether an admin password is set.
#[utoipa::path(
    get,
    path = "/v1/auth",
    tag = "auth",
    responses((status = 200, description = "Password state", body = AuthStatus))
)]
pub async fn get_auth(State(agent): State<Arc<Agent>>) -> Json<AuthStatus> {
    Json(agent.auth().status().await)
}

/// Sets the admin password: the first time freely, later with the
/// current one. Stored as an Argon2id hash.
#[utoipa::path(
    put,
    path = "/v1/auth/password",
    tag = "auth",
    request_body = SetPasswordRequest,
    responses(
        (status = 204, description = "Set"),
        (status = 401, description = "Current password wrong", body = ErrorBody),
        (status = 409, description = "A password is set and `current` is missing", body = ErrorBody),
        (status = 422, description = "Too weak; the message says why", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords", body = ErrorBody),
    )
)]
pub async fn put_password(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<SetPasswordRequest>,
) -> Result<StatusCode, ApiError> {
    agent.auth().set(&request).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks a password against the admin password (the console's unlock).
#[utoipa::path(
    post,
    path = "/v1/auth/verify",
    tag = "auth",
    request_body = VerifyRequest,
    responses(
        (status = 204, description = "Right"),
        (status = 401, description = "Wrong", body = ErrorBody),
        (status = 409, description = "No password set", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords; wait", body = ErrorBody),
    )
)]
pub async fn post_verify(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<VerifyRequest>,
) -> Result<StatusCode, ApiError> {
    agent.auth().verify(&request.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether SSH is on, until when, and the audit trail.
#[utoipa::path(
    get,
    path = "/v1/host/ssh",
    tag = "host",
    responses((status = 200, description = "SSH state", body = SshStatus))
)]
pub async fn get_ssh(State(agent): State<Arc<Agent>>) -> Json<SshStatus> {
    Json(agent.ssh().status().await)
}

/// Enables SSH for 5–120 minutes (appliance only); root logs in with the
/// admin password until it turns itself off.
#[utoipa::path(
    post,
    path = "/v1/host/ssh",
    tag = "host",
    request_body = SshEnableRequest,
    responses(
        (status = 200, description = "Enabled", body = SshStatus),
        (status = 401, description = "Wrong password", body = ErrorBody),
        (status = 409, description = "Not the appliance, or no password set", body = ErrorBody),
        (status = 422, description = "Minutes out of range", body = ErrorBody),
    )
)]
pub async fn post_ssh(
    State(agent): State<Arc<Agent>>,
    Extension(caller): Extension<Caller>,
    ApiJson(request): ApiJson<SshEnableRequest>,
) -> Result<Json<SshStatus>, ApiError> {
    let ssh = agent.ssh();
    Ok(Json(
        ssh.enable(request.minutes, &request.password, &caller.to_string())
            .await?,
    ))
}

/// Disables SSH now.
#[utoipa::path(
    delete,
    path = "/v1/host/ssh",
    tag = "host",
    responses(
        (status = 200, description = "Disabled", body = SshStatus),
        (status = 503, description = "systemd refused", body = ErrorBody),
    )
)]
pub async fn delete_ssh(
    State(agent): State<Arc<Agent>>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<SshStatus>, ApiError> {
    Ok(Json(agent.ssh().disable(&caller.to_string()).await?))
}

/// The newest journal lines of a unit.
#[utoipa::path(
    get,
    path = "/v1/host/journal",
    tag = "host",
    params(JournalQuery),
    responses(
        (status = 200, description = "Lines, oldest first", body = JournalLines),
        (status = 422, description = "Bad unit name or line count", body = ErrorBody),
        (status = 503, description = "The journal cannot be read", body = ErrorBody),
    )
)]
pub async fn get_journal(
    query: Result<Query<JournalQuery>, QueryRejection>,
) -> Result<Json<JournalLines>, ApiError> {
    let Query(query) = query.map_err(|e| AgentError::Invalid(e.body_text()))?;
    let unit = query.unit.unwrap_or_else(|| "lqxd.service".into());
    journal::check_unit(&unit)?;
    let lines = query.lines.unwrap_or(journal::DEFAULT_LINES);
    if !(1..=journal::MAX_LINES).contains(&lines) {
        return Err(AgentError::Invalid(format!(
            "lines must be 1–{}, not {lines}",
            journal::MAX_LINES
        ))
        .into());
    }
    let lines = tokio::task::spawn_blocking(move || journal::read(&unit, lines))
        .await
        .map_err(AgentError::Task)??;
    Ok(Json(lines))
}
