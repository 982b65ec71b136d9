//! `/v1/volumes`: RBD volumes in the joined cluster's pools.

use super::error::ApiError;
use super::json::ApiJson;
use crate::agent::{Agent, AgentError};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use lqx_api::{
    CloneRequest, ErrorBody, SnapshotCreate, Volume, VolumeCreate, VolumeDeleteQuery, VolumeResize,
    VolumeSummary,
};
use lqx_core::ceph::{VolumeSpec, check_name, check_size};
use std::sync::Arc;

fn names(pairs: &[(&str, &str)]) -> Result<(), AgentError> {
    for (what, name) in pairs {
        check_name(what, name).map_err(AgentError::Invalid)?;
    }
    Ok(())
}

/// The volumes of a pool.
#[utoipa::path(
    get,
    path = "/v1/volumes/{pool}",
    tag = "volumes",
    params(("pool" = String, Path, description = "Pool")),
    responses(
        (status = 200, description = "Volumes", body = [VolumeSummary]),
        (status = 403, description = "The client may not read the pool", body = ErrorBody),
        (status = 404, description = "No such pool", body = ErrorBody),
    )
)]
pub async fn list_volumes(
    State(agent): State<Arc<Agent>>,
    Path(pool): Path<String>,
) -> Result<Json<Vec<VolumeSummary>>, ApiError> {
    names(&[("pool", &pool)])?;
    Ok(Json(agent.ceph().with(move |c| c.list(&pool)).await?))
}

/// Creates a volume.
#[utoipa::path(
    post,
    path = "/v1/volumes/{pool}",
    tag = "volumes",
    params(("pool" = String, Path, description = "Pool")),
    request_body = VolumeCreate,
    responses(
        (status = 201, description = "Created", body = Volume),
        (status = 403, description = "The client may not write the pool", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "Bad name or size", body = ErrorBody),
    )
)]
pub async fn create_volume(
    State(agent): State<Arc<Agent>>,
    Path(pool): Path<String>,
    ApiJson(body): ApiJson<VolumeCreate>,
) -> Result<(StatusCode, Json<Volume>), ApiError> {
    names(&[("pool", &pool), ("volume", &body.name)])?;
    check_size(body.size_bytes).map_err(AgentError::Invalid)?;
    let volume = agent
        .ceph()
        .with(move |c| c.create(&pool, &body.name, body.size_bytes))
        .await?;
    tracing::info!(
        pool = volume.pool,
        name = volume.name,
        size = volume.size_bytes,
        "volume created"
    );
    Ok((StatusCode::CREATED, Json(volume)))
}

/// A volume with its snapshots and their clones.
#[utoipa::path(
    get,
    path = "/v1/volumes/{pool}/{name}",
    tag = "volumes",
    params(("pool" = String, Path, description = "Pool"), ("name" = String, Path, description = "Volume")),
    responses(
        (status = 200, description = "The volume", body = Volume),
        (status = 404, description = "No such pool or volume", body = ErrorBody),
    )
)]
pub async fn get_volume(
    State(agent): State<Arc<Agent>>,
    Path((pool, name)): Path<(String, String)>,
) -> Result<Json<Volume>, ApiError> {
    names(&[("pool", &pool), ("volume", &name)])?;
    Ok(Json(
        agent.ceph().with(move |c| c.volume(&pool, &name)).await?,
    ))
}

/// Deletes a volume. Refused while it has snapshots unless
/// `snapshots=true`, and while those have clones unless
/// `flatten_clones=true`; every refusal is found before anything changes.
#[utoipa::path(
    delete,
    path = "/v1/volumes/{pool}/{name}",
    tag = "volumes",
    params(("pool" = String, Path, description = "Pool"), ("name" = String, Path, description = "Volume"), VolumeDeleteQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such volume", body = ErrorBody),
        (status = 409, description = "Has snapshots or clones, or is in use; nothing changed", body = ErrorBody),
    )
)]
pub async fn delete_volume(
    State(agent): State<Arc<Agent>>,
    Path((pool, name)): Path<(String, String)>,
    query: Result<Query<VolumeDeleteQuery>, QueryRejection>,
) -> Result<StatusCode, ApiError> {
    let Query(how) = query.map_err(|e| AgentError::Invalid(e.body_text()))?;
    names(&[("pool", &pool), ("volume", &name)])?;
    let target = format!("{pool}/{name}");
    agent
        .ceph()
        .with(move |c| c.delete(&pool, &name, how))
        .await?;
    tracing::info!(volume = target, "volume deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Resizes a volume: larger, or smaller with `allow_shrink`.
#[utoipa::path(
    post,
    path = "/v1/volumes/{pool}/{name}/resize",
    tag = "volumes",
    params(("pool" = String, Path, description = "Pool"), ("name" = String, Path, description = "Volume")),
    request_body = VolumeResize,
    responses(
        (status = 200, description = "Resized", body = Volume),
        (status = 409, description = "Smaller without allow_shrink; nothing changed", body = ErrorBody),
    )
)]
pub async fn resize_volume(
    State(agent): State<Arc<Agent>>,
    Path((pool, name)): Path<(String, String)>,
    ApiJson(body): ApiJson<VolumeResize>,
) -> Result<Json<Volume>, ApiError> {
    names(&[("pool", &pool), ("volume", &name)])?;
    check_size(body.size_bytes).map_err(AgentError::Invalid)?;
    let volume = agent
        .ceph()
        .with(move |c| c.resize(&pool, &name, body.size_bytes, body.allow_shrink))
        .await?;
    tracing::info!(
        pool = volume.pool,
        name = volume.name,
        size = volume.size_bytes,
        "volume resized"
    );
    Ok(Json(volume))
}

/// Takes a snapshot.
#[utoipa::path(
    post,
    path = "/v1/volumes/{pool}/{name}/snapshots",
    tag = "volumes",
    params(("pool" = String, Path, description = "Pool"), ("name" = String, Path, description = "Volume")),
    request_body = SnapshotCreate,
    responses(
        (status = 201, description = "Taken; the volume with its snapshots", body = Volume),
        (status = 409, description = "The name is taken", body = ErrorBody),
    )
)]
pub async fn create_snapshot(
    State(agent): State<Arc<Agent>>,
    Path((pool, name)): Path<(String, String)>,
    ApiJson(body): ApiJson<SnapshotCreate>,
) -> Result<(StatusCode, Json<Volume>), ApiError> {
    names(&[("pool", &pool), ("volume", &name), ("snapshot", &body.name)])?;
    let volume = agent
        .ceph()
        .with(move |c| c.snapshot_create(&pool, &name, &body.name))
        .await?;
    Ok((StatusCode::CREATED, Json(volume)))
}

/// Deletes a snapshot (unprotecting it); refused while it has clones.
#[utoipa::path(
    delete,
    path = "/v1/volumes/{pool}/{name}/snapshots/{snapshot}",
    tag = "volumes",
    params(("pool" = String, Path, description = "Pool"), ("name" = String, Path, description = "Volume"), ("snapshot" = String, Path, description = "Snapshot")),
    responses(
        (status = 200, description = "Deleted; the volume with its snapshots", body = Volume),
        (status = 409, description = "It has clones; nothing changed", body = ErrorBody),
    )
)]
pub async fn delete_snapshot(
    State(agent): State<Arc<Agent>>,
    Path((pool, name, snap)): Path<(String, String, String)>,
) -> Result<Json<Volume>, ApiError> {
    names(&[("pool", &pool), ("volume", &name), ("snapshot", &snap)])?;
    Ok(Json(
        agent
            .ceph()
            .with(move |c| c.snapshot_delete(&pool, &name, &snap))
            .await?,
    ))
}

/// Clones a snapshot into a new volume (copy-on-write), protecting the
/// snapshot first when needed.
#[utoipa::path(
    post,
    path = "/v1/volumes/{pool}/{name}/snapshots/{snapshot}/clone",
    tag = "volumes",
    params(("pool" = String, Path, description = "Pool"), ("name" = String, Path, description = "Volume"), ("snapshot" = String, Path, description = "Snapshot")),
    request_body = CloneRequest,
    responses(
        (status = 201, description = "The clone", body = Volume),
        (status = 404, description = "No such snapshot", body = ErrorBody),
        (status = 409, description = "The target name is taken", body = ErrorBody),
    )
)]
pub async fn clone_snapshot(
    State(agent): State<Arc<Agent>>,
    Path((pool, name, snap)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<CloneRequest>,
) -> Result<(StatusCode, Json<Volume>), ApiError> {
    let source =
        VolumeSpec::parse(&format!("{pool}/{name}@{snap}")).map_err(AgentError::Invalid)?;
    let target =
        VolumeSpec::parse(&format!("{}/{}", body.pool, body.name)).map_err(AgentError::Invalid)?;
    let volume = agent
        .ceph()
        .with(move |c| c.clone_volume(&source, &target))
        .await?;
    tracing::info!(pool = volume.pool, name = volume.name, "volume cloned");
    Ok((StatusCode::CREATED, Json(volume)))
}
