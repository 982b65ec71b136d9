//! `/v1/pools`: this host's local storage pools (directories managed by
//! libvirt) with qcow2 disks and ISO images. Another host's pools are
//! reached with the `lqx-host` header.

use super::error::ApiError;
use super::json::ApiJson;
use crate::agent::{Agent, AgentError};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use futures::StreamExt as _;
use lqx_api::{
    ErrorBody, Pool, PoolCreate, PoolVolume, PoolVolumeCreate, PoolVolumeResize, VmDisk,
    VolumeFormat,
};
use lqx_core::vm::{check_pool_name, check_volume_name};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::AsyncWriteExt as _;

/// The largest image an upload takes.
pub const MAX_UPLOAD_BYTES: u64 = 256 << 30;

fn volume(info: lqx_libvirt::VolumeInfo) -> PoolVolume {
    PoolVolume {
        name: info.name,
        format: match info.format {
            lqx_libvirt::VolumeFormat::Qcow2 => VolumeFormat::Qcow2,
            lqx_libvirt::VolumeFormat::Iso => VolumeFormat::Iso,
            _ => VolumeFormat::Raw,
        },
        capacity_bytes: info.capacity_bytes,
        allocation_bytes: info.allocation_bytes,
    }
}

async fn pool(agent: &Agent, name: String) -> Result<Pool, AgentError> {
    let hypervisor = agent.vms().hypervisor()?;
    let (info, volumes) = hypervisor
        .run(move |l| Ok((l.pool(&name)?, l.volumes(&name)?)))
        .await?;
    Ok(Pool {
        name: info.name,
        path: info.path.display().to_string(),
        capacity_bytes: info.capacity_bytes,
        available_bytes: info.available_bytes,
        volumes: volumes.into_iter().map(volume).collect(),
    })
}

/// This host's pools.
#[utoipa::path(
    get,
    path = "/v1/pools",
    tag = "pools",
    responses(
        (status = 200, description = "Pools", body = Vec<Pool>),
        (status = 503, description = "This host runs no VMs (no libvirt)", body = ErrorBody),
    )
)]
pub async fn list_pools(State(agent): State<Arc<Agent>>) -> Result<Json<Vec<Pool>>, ApiError> {
    let names = agent
        .vms()
        .hypervisor()?
        .run(|l| l.pools())
        .await?
        .into_iter()
        .map(|p| p.name);
    let mut pools = Vec::new();
    for name in names {
        pools.push(pool(&agent, name).await?);
    }
    pools.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(pools))
}

/// Creates a pool: a directory (default `STATE_DIR/pools/NAME`) that
/// libvirt manages and starts with the host.
#[utoipa::path(
    post,
    path = "/v1/pools",
    tag = "pools",
    request_body = PoolCreate,
    responses(
        (status = 201, description = "Created", body = Pool),
        (status = 409, description = "The name is taken by a pool elsewhere", body = ErrorBody),
        (status = 422, description = "A bad name or path", body = ErrorBody),
    )
)]
pub async fn create_pool(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<PoolCreate>,
) -> Result<(StatusCode, Json<Pool>), ApiError> {
    check_pool_name(&request.name).map_err(AgentError::Invalid)?;
    let path = match &request.path {
        Some(p) => {
            let path = PathBuf::from(p);
            if !path.is_absolute() || p.contains('\0') || p.contains("/../") || p.ends_with("/..") {
                return Err(
                    AgentError::Invalid(format!("path {p:?}: an absolute directory path")).into(),
                );
            }
            path
        }
        None => agent.vms().default_pool_path(&request.name),
    };
    let name = request.name.clone();
    agent
        .vms()
        .hypervisor()?
        .run(move |l| l.define_dir_pool(&name, &path))
        .await?;
    tracing::info!(pool = %request.name, "created a local pool");
    Ok((StatusCode::CREATED, Json(pool(&agent, request.name).await?)))
}

/// A pool and its volumes (files copied into its directory appear).
#[utoipa::path(
    get,
    path = "/v1/pools/{pool}",
    tag = "pools",
    params(("pool" = String, Path, description = "Pool")),
    responses(
        (status = 200, description = "The pool", body = Pool),
        (status = 404, description = "No such pool", body = ErrorBody),
    )
)]
pub async fn get_pool(
    State(agent): State<Arc<Agent>>,
    Path(name): Path<String>,
) -> Result<Json<Pool>, ApiError> {
    check_pool_name(&name).map_err(AgentError::Invalid)?;
    Ok(Json(pool(&agent, name).await?))
}

/// The VMs of this host that use `pool` (and `volume`, if given).
async fn users(agent: &Agent, pool: &str, volume: Option<&str>) -> Result<Vec<String>, AgentError> {
    let me = agent.host_id().await;
    let Ok(view) = agent.vms().view().await else {
        // In no cluster there are no VMs.
        return Ok(vec![]);
    };
    Ok(view
        .records
        .values()
        .filter(|r| r.host == me)
        .filter(|r| {
            let disks = r.spec.disks.iter().filter_map(|d| match d {
                VmDisk::Local { pool, volume } => Some((pool, volume)),
                VmDisk::Rbd { .. } => None,
            });
            let cdrom = r.spec.cdrom.iter().map(|c| (&c.pool, &c.volume));
            disks
                .chain(cdrom)
                .any(|(p, v)| p == pool && volume.is_none_or(|want| want == v))
        })
        .map(|r| r.spec.name.clone())
        .collect())
}

/// Removes a pool from libvirt; its directory and files stay. Refused
/// while a VM of this host uses it.
#[utoipa::path(
    delete,
    path = "/v1/pools/{pool}",
    tag = "pools",
    params(("pool" = String, Path, description = "Pool")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such pool", body = ErrorBody),
        (status = 409, description = "A VM uses it", body = ErrorBody),
    )
)]
pub async fn delete_pool(
    State(agent): State<Arc<Agent>>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    check_pool_name(&name).map_err(AgentError::Invalid)?;
    let using = users(&agent, &name, None).await?;
    if !using.is_empty() {
        return Err(AgentError::Conflict(format!(
            "pool {name} is used by VM(s) {}",
            using.join(", ")
        ))
        .into());
    }
    agent
        .vms()
        .hypervisor()?
        .run(move |l| l.remove_pool(&name))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates an empty disk (qcow2 unless told raw).
#[utoipa::path(
    post,
    path = "/v1/pools/{pool}/volumes",
    tag = "pools",
    params(("pool" = String, Path, description = "Pool")),
    request_body = PoolVolumeCreate,
    responses(
        (status = 201, description = "Created", body = PoolVolume),
        (status = 404, description = "No such pool", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "A bad name, size or format", body = ErrorBody),
    )
)]
pub async fn create_pool_volume(
    State(agent): State<Arc<Agent>>,
    Path(pool): Path<String>,
    ApiJson(request): ApiJson<PoolVolumeCreate>,
) -> Result<(StatusCode, Json<PoolVolume>), ApiError> {
    check_pool_name(&pool).map_err(AgentError::Invalid)?;
    check_volume_name(&request.name).map_err(AgentError::Invalid)?;
    lqx_core::ceph::check_size(request.size_bytes).map_err(AgentError::Invalid)?;
    let format = match request.format.unwrap_or(VolumeFormat::Qcow2) {
        VolumeFormat::Qcow2 => lqx_libvirt::domain::FileFormat::Qcow2,
        VolumeFormat::Raw => lqx_libvirt::domain::FileFormat::Raw,
        VolumeFormat::Iso => {
            return Err(AgentError::Invalid(
                "format iso: upload ISO images (PUT …/content); new volumes are qcow2 or raw"
                    .into(),
            )
            .into());
        }
    };
    let info = agent
        .vms()
        .hypervisor()?
        .run(move |l| l.create_volume(&pool, &request.name, request.size_bytes, format))
        .await?;
    Ok((StatusCode::CREATED, Json(volume(info))))
}

/// Grows a disk.
#[utoipa::path(
    post,
    path = "/v1/pools/{pool}/volumes/{volume}/resize",
    tag = "pools",
    params(("pool" = String, Path, description = "Pool"), ("volume" = String, Path, description = "Volume")),
    request_body = PoolVolumeResize,
    responses(
        (status = 200, description = "Resized", body = PoolVolume),
        (status = 404, description = "No such pool or volume", body = ErrorBody),
        (status = 409, description = "Smaller than it is", body = ErrorBody),
    )
)]
pub async fn resize_pool_volume(
    State(agent): State<Arc<Agent>>,
    Path((pool, name)): Path<(String, String)>,
    ApiJson(request): ApiJson<PoolVolumeResize>,
) -> Result<Json<PoolVolume>, ApiError> {
    check_pool_name(&pool).map_err(AgentError::Invalid)?;
    check_volume_name(&name).map_err(AgentError::Invalid)?;
    lqx_core::ceph::check_size(request.size_bytes).map_err(AgentError::Invalid)?;
    let info = agent
        .vms()
        .hypervisor()?
        .run(move |l| l.resize_volume(&pool, &name, request.size_bytes))
        .await?;
    Ok(Json(volume(info)))
}

/// Deletes a volume; refused while a VM of this host uses it.
#[utoipa::path(
    delete,
    path = "/v1/pools/{pool}/volumes/{volume}",
    tag = "pools",
    params(("pool" = String, Path, description = "Pool"), ("volume" = String, Path, description = "Volume")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such pool or volume", body = ErrorBody),
        (status = 409, description = "A VM uses it", body = ErrorBody),
    )
)]
pub async fn delete_pool_volume(
    State(agent): State<Arc<Agent>>,
    Path((pool, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    check_pool_name(&pool).map_err(AgentError::Invalid)?;
    check_volume_name(&name).map_err(AgentError::Invalid)?;
    let using = users(&agent, &pool, Some(&name)).await?;
    if !using.is_empty() {
        return Err(AgentError::Conflict(format!(
            "{pool}/{name} is used by VM(s) {}",
            using.join(", ")
        ))
        .into());
    }
    agent
        .vms()
        .hypervisor()?
        .run(move |l| l.delete_volume(&pool, &name))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Uploads a volume's contents (an ISO image, a disk image) as the raw
/// request body, up to 256 GiB. It is written beside its final name and
/// renamed into place once complete, so a broken upload leaves nothing.
/// Refused when the name is taken. Not forwarded: send it to the host's
/// own API.
#[utoipa::path(
    put,
    path = "/v1/pools/{pool}/volumes/{volume}/content",
    tag = "pools",
    params(("pool" = String, Path, description = "Pool"), ("volume" = String, Path, description = "Volume")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Uploaded", body = PoolVolume),
        (status = 404, description = "No such pool", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 413, description = "Larger than 256 GiB", body = ErrorBody),
    )
)]
pub async fn upload_pool_volume(
    State(agent): State<Arc<Agent>>,
    Path((pool_name, name)): Path<(String, String)>,
    body: Body,
) -> Result<(StatusCode, Json<PoolVolume>), ApiError> {
    check_pool_name(&pool_name).map_err(AgentError::Invalid)?;
    check_volume_name(&name).map_err(AgentError::Invalid)?;
    let hypervisor = agent.vms().hypervisor()?;
    let lookup = pool_name.clone();
    let info = hypervisor.run(move |l| l.pool(&lookup)).await?;
    let target = info.path.join(&name);
    if target.exists() {
        return Err(AgentError::Conflict(format!("{pool_name}/{name} exists")).into());
    }
    let partial = info
        .path
        .join(format!(".upload-{name}.{}", std::process::id()));
    let written = receive(body, &partial).await;
    let result = match written {
        Ok(()) => std::fs::rename(&partial, &target)
            .map_err(|e| AgentError::Unavailable(format!("cannot rename the upload: {e}"))),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e.into());
    }
    let info = hypervisor.run(move |l| l.volume(&pool_name, &name)).await?;
    tracing::info!(volume = %target.display(), bytes = info.capacity_bytes, "uploaded a volume");
    Ok((StatusCode::CREATED, Json(volume(info))))
}

async fn receive(body: Body, path: &std::path::Path) -> Result<(), AgentError> {
    let io = |e: std::io::Error| {
        AgentError::Unavailable(format!("cannot write {}: {e}", path.display()))
    };
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await
        .map_err(io)?;
    let mut stream = body.into_data_stream();
    let mut total: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| AgentError::Invalid(format!("the upload broke off: {e}")))?;
        total += chunk.len() as u64;
        if total > MAX_UPLOAD_BYTES {
            return Err(AgentError::Invalid(format!(
                "the upload is larger than {MAX_UPLOAD_BYTES} bytes"
            )));
        }
        file.write_all(&chunk).await.map_err(io)?;
    }
    file.sync_all().await.map_err(io)?;
    Ok(())
}
