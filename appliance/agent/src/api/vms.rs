//! `/v1/vms`: the cluster's virtual machines. Any host answers; what
//! changes a VM is done by the VM's host, to which the request is sent
//! (creation: to the host placement chose).

use super::error::ApiError;
use super::forward;
use super::json::ApiJson;
use crate::agent::{Agent, AgentError};
use crate::vms::console::{self, ConsoleKind};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use lqx_api::{
    ErrorBody, PoolVolumeRef, ShutdownDone, ShutdownRequest, Vm, VmCreate, VmDeleteQuery, VmList,
};
use lqx_core::cluster::MembersView;
use lqx_core::vm::{self, Candidate, VmRecord, VmsView};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Where a VM's requests are served.
enum Owner {
    /// This host.
    Here(Box<VmRecord>),
    /// Another member, at its API address.
    There(Uuid, SocketAddr),
}

fn address_of(members: &MembersView, host: Uuid) -> Result<SocketAddr, AgentError> {
    let record =
        members.hosts.iter().find(|h| h.id == host).ok_or_else(|| {
            AgentError::Unavailable(format!("the VM's host {host} left the cluster"))
        })?;
    record.address.parse().map_err(|_| {
        AgentError::Unavailable(format!(
            "host {host} has a bad address {:?}",
            record.address
        ))
    })
}

async fn owner(agent: &Agent, name: &str) -> Result<Owner, AgentError> {
    let view = agent.vms().view().await?;
    let record = view
        .find(name)
        .ok_or_else(|| AgentError::NotFound(format!("no VM {name:?} in the cluster")))?
        .clone();
    if record.host == agent.host_id().await {
        return Ok(Owner::Here(Box::new(record)));
    }
    let members = agent.cluster().view().await?;
    Ok(Owner::There(
        record.host,
        address_of(&members, record.host)?,
    ))
}

/// Sends the request as it came to the VM's host.
async fn relay(
    agent: &Agent,
    host: Uuid,
    address: SocketAddr,
    method: Method,
    uri: &axum::http::Uri,
    body: Option<Vec<u8>>,
) -> Result<Response, ApiError> {
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
    forward::send(agent, host, address, method, &path, body).await
}

fn to_json<T: serde::Serialize>(value: &T) -> Option<Vec<u8>> {
    serde_json::to_vec(value).ok()
}

/// The cluster's VMs with their state, and the domains on the hosts that
/// no VM owns.
#[utoipa::path(
    get,
    path = "/v1/vms",
    tag = "vms",
    responses(
        (status = 200, description = "VMs", body = VmList),
        (status = 409, description = "Not a member of a cluster", body = ErrorBody),
    )
)]
pub async fn list_vms(State(agent): State<Arc<Agent>>) -> Result<Json<VmList>, ApiError> {
    let view = agent.vms().view().await?;
    Ok(Json(VmList {
        vms: view.vms(),
        foreign: view.foreign.into_values().flatten().collect(),
    }))
}

/// Creates a VM on the host named in `host`, or on the ready host with
/// the most free memory that reaches its disks, pools and bridges; starts
/// it unless `start` is false. Nothing is defined or recorded when any
/// check or step fails: a taken name, a missing disk or image, invalid
/// cloud-init data, a host without room.
#[utoipa::path(
    post,
    path = "/v1/vms",
    tag = "vms",
    request_body = VmCreate,
    responses(
        (status = 201, description = "Created", body = Vm),
        (status = 404, description = "A disk, pool, image or the named host does not exist", body = ErrorBody),
        (status = 409, description = "The name is taken, or no host can run it (the message says why each cannot)", body = ErrorBody),
        (status = 422, description = "A bad value, or invalid cloud-init data", body = ErrorBody),
    )
)]
pub async fn create_vm(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<VmCreate>,
) -> Result<Response, ApiError> {
    let problems = vm::check_spec(&request.spec);
    if !problems.is_empty() {
        return Err(AgentError::Invalid(problems.join("; ")).into());
    }
    if let Some(data) = &request.spec.cloud_init {
        lqx_cloudinit::validate(&lqx_cloudinit::NoCloud {
            user_data: data.user_data.clone(),
            meta_data: data.meta_data.clone(),
            network_config: data.network_config.clone(),
        })
        .map_err(|e| AgentError::Invalid(super::error::chain(&e)))?;
    }
    // This host's own figures are read now; the others' are at most a
    // reconciliation old.
    agent.vms().refresh_capacity().await;
    let vms = agent.vms().view().await?;
    if vms
        .records
        .values()
        .any(|r| r.spec.name == request.spec.name)
    {
        return Err(AgentError::Conflict(format!(
            "a VM named {} already exists in the cluster",
            request.spec.name
        ))
        .into());
    }
    let members = agent.cluster().view().await?;
    let wanted = match &request.host {
        Some(name) => Some(
            lqx_core::cluster::resolve_host(&members.hosts, name)
                .map_err(AgentError::NotFound)?
                .id,
        ),
        None => None,
    };
    let target = vm::place(&request.spec, &candidates(&members, &vms), wanted).map_err(|why| {
        AgentError::Conflict(format!("cannot place VM {}: {why}", request.spec.name))
    })?;
    if target == agent.host_id().await {
        let vm = agent.vms().create_here(request.spec, request.start).await?;
        return Ok((StatusCode::CREATED, Json(vm)).into_response());
    }
    // Placement is decided: the chosen host is named, and checks again.
    let placed = VmCreate {
        host: Some(target.to_string()),
        ..request
    };
    forward::send(
        &agent,
        target,
        address_of(&members, target)?,
        Method::POST,
        "/v1/vms",
        to_json(&placed),
    )
    .await
}

fn candidates(members: &MembersView, vms: &VmsView) -> Vec<Candidate> {
    members
        .hosts
        .iter()
        .map(|h| Candidate {
            id: h.id,
            hostname: h.hostname.clone(),
            ready: members.alive.contains_key(&h.id),
            capacity: members.capacity.get(&h.id).cloned(),
            promised_mib: vms.promised_mib(h.id),
        })
        .collect()
}

/// A VM, by id or name.
#[utoipa::path(
    get,
    path = "/v1/vms/{vm}",
    tag = "vms",
    params(("vm" = String, Path, description = "VM id or name")),
    responses(
        (status = 200, description = "The VM", body = Vm),
        (status = 404, description = "No such VM", body = ErrorBody),
    )
)]
pub async fn get_vm(
    State(agent): State<Arc<Agent>>,
    Path(name): Path<String>,
) -> Result<Json<Vm>, ApiError> {
    let view = agent.vms().view().await?;
    let record = view
        .find(&name)
        .ok_or_else(|| AgentError::NotFound(format!("no VM {name:?} in the cluster")))?;
    Ok(Json(view.vm(record)))
}

/// Deletes a VM: its domain and files on its host, its records, and with
/// `disks` its disks. A running VM only with `force` (it is stopped first).
#[utoipa::path(
    delete,
    path = "/v1/vms/{vm}",
    tag = "vms",
    params(("vm" = String, Path, description = "VM id or name"), VmDeleteQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such VM", body = ErrorBody),
        (status = 409, description = "Running, without force", body = ErrorBody),
    )
)]
pub async fn delete_vm(
    State(agent): State<Arc<Agent>>,
    Path(name): Path<String>,
    uri: axum::http::Uri,
    query: Result<Query<VmDeleteQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(how) = query.map_err(|e| AgentError::Invalid(e.body_text()))?;
    match owner(&agent, &name).await? {
        Owner::Here(record) => {
            agent.vms().delete(*record, how).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Owner::There(host, address) => {
            relay(&agent, host, address, Method::DELETE, &uri, None).await
        }
    }
}

/// Runs an operation on a VM's host.
macro_rules! on_owner {
    ($agent:expr, $name:expr, $uri:expr, $body:expr, |$record:ident| $here:expr) => {
        match owner(&$agent, &$name).await? {
            Owner::Here(boxed) => {
                let $record = *boxed;
                Ok(Json($here.await?).into_response())
            }
            Owner::There(host, address) => {
                relay(&$agent, host, address, Method::POST, &$uri, $body).await
            }
        }
    };
}

/// Starts a VM; it should run from now on (its host starts it again after
/// a restart).
#[utoipa::path(
    post,
    path = "/v1/vms/{vm}/start",
    tag = "vms",
    params(("vm" = String, Path, description = "VM id or name")),
    responses(
        (status = 200, description = "Started", body = Vm),
        (status = 404, description = "No such VM, or a disk is gone", body = ErrorBody),
    )
)]
pub async fn post_start(
    State(agent): State<Arc<Agent>>,
    Path(name): Path<String>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    on_owner!(agent, name, uri, None, |record| agent.vms().start(record))
}

/// Stops a VM at once, like pulling its power cord.
#[utoipa::path(
    post,
    path = "/v1/vms/{vm}/stop",
    tag = "vms",
    params(("vm" = String, Path, description = "VM id or name")),
    responses(
        (status = 200, description = "Stopped", body = Vm),
        (status = 404, description = "No such VM", body = ErrorBody),
    )
)]
pub async fn post_stop(
    State(agent): State<Arc<Agent>>,
    Path(name): Path<String>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    on_owner!(agent, name, uri, None, |record| agent.vms().stop(record))
}

/// Asks a VM's guest to reboot (ACPI).
#[utoipa::path(
    post,
    path = "/v1/vms/{vm}/reboot",
    tag = "vms",
    params(("vm" = String, Path, description = "VM id or name")),
    responses(
        (status = 200, description = "Asked", body = Vm),
        (status = 409, description = "Not running", body = ErrorBody),
    )
)]
pub async fn post_reboot(
    State(agent): State<Arc<Agent>>,
    Path(name): Path<String>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    on_owner!(agent, name, uri, None, |record| agent.vms().reboot(record))
}

/// Asks a VM's guest to power off (ACPI) and waits up to
/// `timeout_seconds` (default 60); a guest that does not is stopped
/// forcibly. Answers how it ended.
#[utoipa::path(
    post,
    path = "/v1/vms/{vm}/shutdown",
    tag = "vms",
    params(("vm" = String, Path, description = "VM id or name")),
    request_body = ShutdownRequest,
    responses(
        (status = 200, description = "Off", body = ShutdownDone),
        (status = 404, description = "No such VM", body = ErrorBody),
        (status = 422, description = "Timeout out of range", body = ErrorBody),
    )
)]
pub async fn post_shutdown(
    State(agent): State<Arc<Agent>>,
    Path(name): Path<String>,
    uri: axum::http::Uri,
    ApiJson(request): ApiJson<ShutdownRequest>,
) -> Result<Response, ApiError> {
    let seconds = request
        .timeout_seconds
        .unwrap_or(vm::DEFAULT_SHUTDOWN_SECONDS);
    if !(1..=3600).contains(&seconds) {
        return Err(
            AgentError::Invalid(format!("timeout_seconds: {seconds} is not 1 to 3600")).into(),
        );
    }
    match owner(&agent, &name).await? {
        Owner::Here(record) => {
            let (outcome, vm) = agent
                .vms()
                .shutdown(*record, Duration::from_secs(seconds))
                .await?;
            Ok(Json(ShutdownDone { outcome, vm }).into_response())
        }
        Owner::There(host, address) => {
            relay(&agent, host, address, Method::POST, &uri, to_json(&request)).await
        }
    }
}

/// Inserts an ISO image of a local pool of the VM's host into its CD-ROM
/// drive (live when it runs).
#[utoipa::path(
    put,
    path = "/v1/vms/{vm}/cdrom",
    tag = "vms",
    params(("vm" = String, Path, description = "VM id or name")),
    request_body = PoolVolumeRef,
    responses(
        (status = 200, description = "Inserted", body = Vm),
        (status = 404, description = "No such VM, pool or image", body = ErrorBody),
    )
)]
pub async fn put_cdrom(
    State(agent): State<Arc<Agent>>,
    Path(name): Path<String>,
    uri: axum::http::Uri,
    ApiJson(iso): ApiJson<PoolVolumeRef>,
) -> Result<Response, ApiError> {
    vm::check_pool_name(&iso.pool).map_err(AgentError::Invalid)?;
    vm::check_volume_name(&iso.volume).map_err(AgentError::Invalid)?;
    match owner(&agent, &name).await? {
        Owner::Here(record) => {
            Ok(Json(agent.vms().set_cdrom(*record, Some(iso)).await?).into_response())
        }
        Owner::There(host, address) => {
            relay(&agent, host, address, Method::PUT, &uri, to_json(&iso)).await
        }
    }
}

/// Empties a VM's CD-ROM drive.
#[utoipa::path(
    delete,
    path = "/v1/vms/{vm}/cdrom",
    tag = "vms",
    params(("vm" = String, Path, description = "VM id or name")),
    responses(
        (status = 200, description = "Ejected", body = Vm),
        (status = 404, description = "No such VM", body = ErrorBody),
    )
)]
pub async fn delete_cdrom(
    State(agent): State<Arc<Agent>>,
    Path(name): Path<String>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    match owner(&agent, &name).await? {
        Owner::Here(record) => {
            Ok(Json(agent.vms().set_cdrom(*record, None).await?).into_response())
        }
        Owner::There(host, address) => {
            relay(&agent, host, address, Method::DELETE, &uri, None).await
        }
    }
}

/// A WebSocket upgrade, or the API's error for a plain request.
type Upgrade = Result<WebSocketUpgrade, WebSocketUpgradeRejection>;

async fn open_console(
    agent: Arc<Agent>,
    name: String,
    uri: axum::http::Uri,
    ws: Upgrade,
    kind: ConsoleKind,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            lqx_api::ErrorCode::InvalidValue,
            format!("this route speaks WebSocket only: {}", e.body_text()),
        )
    })?;
    // noVNC asks for the `binary` subprotocol.
    let ws = ws.protocols(["binary"]);
    match owner(&agent, &name).await? {
        Owner::Here(record) => {
            let local = agent.vms().open_console(&record, kind).await?;
            Ok(ws.on_upgrade(move |socket| console::pipe(socket, local)))
        }
        Owner::There(host, address) => {
            let headers = [
                (lqx_api::TARGET_HOST_HEADER, host.to_string()),
                (
                    lqx_api::FORWARDED_BY_HEADER,
                    agent.host_id().await.to_string(),
                ),
            ];
            let remote =
                console::dial(agent.remote_client_tls()?, address, uri.path(), &headers).await?;
            Ok(ws.on_upgrade(move |socket| console::relay(socket, remote)))
        }
    }
}

/// The VM's display as a WebSocket carrying VNC (RFB) bytes, for noVNC
/// (subprotocol `binary`) or any VNC client behind a WebSocket bridge.
#[utoipa::path(
    get,
    path = "/v1/vms/{vm}/console",
    tag = "vms",
    params(("vm" = String, Path, description = "VM id or name")),
    responses(
        (status = 101, description = "Switching to the WebSocket"),
        (status = 404, description = "No such VM", body = ErrorBody),
        (status = 409, description = "Not running", body = ErrorBody),
    )
)]
pub async fn get_console(
    State(agent): State<Arc<Agent>>,
    Path(name): Path<String>,
    uri: axum::http::Uri,
    ws: Upgrade,
) -> Result<Response, ApiError> {
    open_console(agent, name, uri, ws, ConsoleKind::Vnc).await
}

/// The VM's serial console as a WebSocket of bytes (`lqx vm console`).
#[utoipa::path(
    get,
    path = "/v1/vms/{vm}/serial",
    tag = "vms",
    params(("vm" = String, Path, description = "VM id or name")),
    responses(
        (status = 101, description = "Switching to the WebSocket"),
        (status = 404, description = "No such VM", body = ErrorBody),
        (status = 409, description = "Not running", body = ErrorBody),
    )
)]
pub async fn get_serial(
    State(agent): State<Arc<Agent>>,
    Path(name): Path<String>,
    uri: axum::http::Uri,
    ws: Upgrade,
) -> Result<Response, ApiError> {
    open_console(agent, name, uri, ws, ConsoleKind::Serial).await
}
