//! `/v1/cluster`: creating, joining and leaving the cluster, join
//! tokens, the member list and removing members.

use super::error::ApiError;
use super::json::ApiJson;
use crate::agent::{Agent, AgentError};
use crate::cluster::HostAddress;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use lqx_api::{
    ClusterInitRequest, ClusterStatus, ErrorBody, JoinRequest, LeaveRequest, Member, RemoveQuery,
    TokenCreated, TokenRequest,
};
use std::net::SocketAddr;
use std::sync::Arc;

/// The membership and whether the cluster store answers.
#[utoipa::path(
    get,
    path = "/v1/cluster",
    tag = "cluster",
    responses((status = 200, description = "Membership", body = ClusterStatus))
)]
pub async fn get_cluster(State(agent): State<Arc<Agent>>) -> Json<ClusterStatus> {
    Json(agent.cluster().status().await)
}

/// Creates a cluster with this host as its first member: the host's
/// authority becomes the cluster's and its etcd member (on `--address`)
/// the first voter. Nothing is kept if any step fails.
#[utoipa::path(
    post,
    path = "/v1/cluster",
    tag = "cluster",
    request_body = ClusterInitRequest,
    responses(
        (status = 200, description = "Created", body = ClusterStatus),
        (status = 409, description = "Already a member of a cluster", body = ErrorBody),
        (status = 422, description = "Bad name or number of voters", body = ErrorBody),
        (status = 503, description = "No remote API, or etcd did not start; nothing changed", body = ErrorBody),
    )
)]
pub async fn post_cluster(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<ClusterInitRequest>,
) -> Result<Json<ClusterStatus>, ApiError> {
    let host = host_address(&agent).await?;
    Ok(Json(agent.cluster().init(&request, &host).await?))
}

/// Creates a single-use join token. The answer is the only copy of its
/// secret.
#[utoipa::path(
    post,
    path = "/v1/cluster/tokens",
    tag = "cluster",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "Created", body = TokenCreated),
        (status = 409, description = "Not a member of a cluster", body = ErrorBody),
        (status = 422, description = "TTL out of range", body = ErrorBody),
        (status = 503, description = "The cluster store does not answer", body = ErrorBody),
    )
)]
pub async fn post_token(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<TokenRequest>,
) -> Result<Json<TokenCreated>, ApiError> {
    let host = host_address(&agent).await?;
    let own = SocketAddr::new(host.ip, host.api_port);
    Ok(Json(agent.cluster().create_token(&request, own).await?))
}

/// Joins the cluster a token names: pins its authority by the token's
/// fingerprint, proves the token's secret to a member, starts this host's
/// etcd member (while the cluster has fewer voters than it aims for) or
/// becomes a client of the store, and takes the cluster's authority:
/// admin bundles of this host's old authority stop working. Nothing is
/// kept if any step fails, but the token is used up once a member took
/// it.
#[utoipa::path(
    post,
    path = "/v1/cluster/join",
    tag = "cluster",
    request_body = JoinRequest,
    responses(
        (status = 200, description = "Joined", body = ClusterStatus),
        (status = 409, description = "Already a member of a cluster", body = ErrorBody),
        (status = 422, description = "A damaged token, or the cluster refused it (wrong, used or expired), or its hosts do not hold the authority it names", body = ErrorBody),
        (status = 503, description = "No member answered, or the store did not; nothing changed", body = ErrorBody),
    )
)]
pub async fn post_join(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<JoinRequest>,
) -> Result<Json<ClusterStatus>, ApiError> {
    let host = host_address(&agent).await?;
    Ok(Json(agent.cluster().join(&request, &host).await?))
}

/// Leaves the cluster: this host's etcd member and records are removed
/// from the store, its member's data deleted, and the host takes a new
/// authority of its own (the cluster's admins no longer reach it). The
/// last member leaves only with `force`, which dissolves the cluster.
#[utoipa::path(
    post,
    path = "/v1/cluster/leave",
    tag = "cluster",
    request_body = LeaveRequest,
    responses(
        (status = 200, description = "Left", body = ClusterStatus),
        (status = 409, description = "Not a member, the last member without force, or the voters left could not agree", body = ErrorBody),
        (status = 503, description = "The cluster store does not answer; nothing changed", body = ErrorBody),
    )
)]
pub async fn post_leave(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<LeaveRequest>,
) -> Result<Json<ClusterStatus>, ApiError> {
    Ok(Json(agent.cluster().leave(&request).await?))
}

/// Removes another host from the cluster (by id, or by hostname when
/// unique): its etcd member if it votes, and its records. If it still
/// runs it finds out within seconds and forgets the cluster. Answers the
/// members left.
#[utoipa::path(
    delete,
    path = "/v1/cluster/members/{host}",
    tag = "cluster",
    params(
        ("host" = String, Path, description = "Host id, or hostname when no other member has it"),
        RemoveQuery,
    ),
    responses(
        (status = 200, description = "Removed; the members left", body = Vec<Member>),
        (status = 404, description = "No such member", body = ErrorBody),
        (status = 409, description = "This host itself, the store's only voter, or the voters left could not agree (without force)", body = ErrorBody),
        (status = 503, description = "The cluster store does not answer; nothing changed", body = ErrorBody),
    )
)]
pub async fn delete_member(
    State(agent): State<Arc<Agent>>,
    Path(host): Path<String>,
    query: Result<Query<RemoveQuery>, QueryRejection>,
) -> Result<Json<Vec<Member>>, ApiError> {
    let Query(query) = query.map_err(|e| AgentError::Invalid(e.body_text()))?;
    Ok(Json(agent.cluster().remove(&host, query.force).await?))
}

/// The cluster's hosts: id, hostname, API address, part in the cluster
/// store, `ready` or `unreachable` since when, last heartbeat, versions.
#[utoipa::path(
    get,
    path = "/v1/cluster/members",
    tag = "cluster",
    responses(
        (status = 200, description = "Members", body = Vec<Member>),
        (status = 409, description = "Not a member of a cluster", body = ErrorBody),
        (status = 503, description = "The cluster store does not answer", body = ErrorBody),
    )
)]
pub async fn get_members(State(agent): State<Arc<Agent>>) -> Result<Json<Vec<Member>>, ApiError> {
    Ok(Json(agent.cluster().members().await?))
}

/// Where the cluster reaches this host: `--address` (or, without it, the
/// first global address) and the remote API's port.
async fn host_address(agent: &Agent) -> Result<HostAddress, AgentError> {
    let info = agent.info();
    let remote = info.remote_api.ok_or_else(|| {
        AgentError::Unavailable("the remote API is not served on this host".into())
    })?;
    let listen: SocketAddr = remote
        .listen
        .parse()
        .map_err(|_| AgentError::Unavailable(format!("remote API on {}", remote.listen)))?;
    let facts = agent.facts().await?;
    let ip = match info.address {
        Some(ip) => ip,
        None => facts
            .interfaces
            .iter()
            .flat_map(|i| i.addresses.iter())
            .find(|a| a.scope == lqx_api::AddressScope::Global)
            .map(|a| a.address)
            .ok_or_else(|| {
                AgentError::Unavailable(
                    "the host has no global address for the cluster to reach it on".into(),
                )
            })?,
    };
    Ok(HostAddress {
        ip,
        api_port: listen.port(),
        hostname: facts.hostname,
    })
}
