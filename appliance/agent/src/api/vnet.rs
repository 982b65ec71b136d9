//! Virtual networks on OVN: `/v1/ovn/central`, `/v1/ovn/sync`,
//! `/v1/networks`, `/v1/routers`, `/v1/floating-ips`,
//! `/v1/security-groups`, `/v1/load-balancers`, `/v1/ports`. Any host
//! answers; a change is checked against the whole of the cluster's
//! networks and stored in one compare-and-swap, or refused with nothing
//! stored. The host holding the writer lease then writes it to OVN's
//! northbound database (`GET /v1/ovn/sync` tells how far it got).

use super::error::ApiError;
use super::json::ApiJson;
use crate::agent::{Agent, AgentError};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lqx_api::{
    ErrorBody, FloatingIp, FloatingIpAssociate, FloatingIpCreate, LoadBalancer, LoadBalancerCreate,
    Network, NetworkCreate, OvnCentral, Port, PortCreate, Router, RouterCreate, RouterGateway,
    RouterNetwork, SecurityGroup, SecurityGroupCreate, SecurityRule, SecurityRuleCreate, VnetSync,
};
use lqx_core::vnet::{VnetError, VnetState};
use std::sync::Arc;
use uuid::Uuid;

type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

fn created<T>(value: T) -> Created<T> {
    Ok((StatusCode::CREATED, Json(value)))
}

fn missing(what: &str, name: &str) -> AgentError {
    AgentError::NotFound(format!("no {what} {name:?}"))
}

fn network_of(state: &VnetState, name: &str) -> Result<Network, AgentError> {
    let record = state
        .networks
        .get(name)
        .ok_or_else(|| missing("network", name))?;
    Ok(state.network_view(record))
}

fn router_of(state: &VnetState, name: &str) -> Result<Router, AgentError> {
    let record = state
        .routers
        .get(name)
        .ok_or_else(|| missing("router", name))?;
    Ok(VnetState::router_view(record))
}

fn group_of(state: &VnetState, name: &str) -> Result<SecurityGroup, AgentError> {
    let record = state
        .security_groups
        .get(name)
        .ok_or_else(|| missing("security group", name))?;
    Ok(state.security_group_view(record))
}

/// The OVN central databases the cluster's networks are written to.
#[utoipa::path(
    get,
    path = "/v1/ovn/central",
    tag = "vnet",
    responses(
        (status = 200, description = "The central databases", body = OvnCentral),
        (status = 404, description = "Not set", body = ErrorBody),
        (status = 409, description = "Not a member of a cluster", body = ErrorBody),
    )
)]
pub async fn get_central(State(agent): State<Arc<Agent>>) -> Result<Json<OvnCentral>, ApiError> {
    let state = agent.vnet().state().await?;
    Ok(Json(state.central.ok_or_else(|| {
        AgentError::NotFound("the cluster has no OVN central databases set".into())
    })?))
}

/// Sets the OVN central databases (cluster-wide); the writer connects to
/// them and writes every network there.
#[utoipa::path(
    put,
    path = "/v1/ovn/central",
    tag = "vnet",
    request_body = OvnCentral,
    responses(
        (status = 200, description = "Set", body = OvnCentral),
        (status = 422, description = "A remote does not parse", body = ErrorBody),
    )
)]
pub async fn put_central(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<OvnCentral>,
) -> Result<Json<OvnCentral>, ApiError> {
    let mut problems = Vec::new();
    for (what, text) in [
        ("nb_remote", &request.nb_remote),
        ("sb_remote", &request.sb_remote),
    ] {
        match lqx_ovsdb::remote::parse_list(text) {
            Ok(remotes) => {
                problems.extend(lqx_ovn::ca_problem(
                    what,
                    &remotes,
                    request.ca_cert.as_deref(),
                ));
            }
            Err(e) => problems.push(format!("{what}: {e}")),
        }
    }
    problems.dedup();
    if !problems.is_empty() {
        return Err(AgentError::Invalid(problems.join("; ")).into());
    }
    // The authority must make a TLS configuration with this host's
    // certificate: a bad PEM is refused now, not at the first connection.
    if let Some(ca) = &request.ca_cert {
        let remote = agent.cluster().host_tls()?;
        crate::ovn::ovsdb_tls(&remote, ca)?;
    }
    agent
        .vnet()
        .change(|s| {
            s.set_central(request.clone());
            Ok(())
        })
        .await?;
    Ok(Json(request))
}

/// How far the northbound database carries the cluster's networks.
#[utoipa::path(
    get,
    path = "/v1/ovn/sync",
    tag = "vnet",
    responses((status = 200, description = "Generations stored and written", body = VnetSync))
)]
pub async fn get_sync(State(agent): State<Arc<Agent>>) -> Result<Json<VnetSync>, ApiError> {
    Ok(Json(agent.vnet().sync().await?))
}

/// The cluster's networks.
#[utoipa::path(
    get,
    path = "/v1/networks",
    tag = "vnet",
    responses((status = 200, description = "Networks", body = Vec<Network>))
)]
pub async fn list_networks(
    State(agent): State<Arc<Agent>>,
) -> Result<Json<Vec<Network>>, ApiError> {
    let state = agent.vnet().state().await?;
    Ok(Json(
        state
            .networks
            .values()
            .map(|n| state.network_view(n))
            .collect(),
    ))
}

/// Creates a network: a logical switch, with DHCP served by OVN when
/// asked, and a localnet port for a provider network.
#[utoipa::path(
    post,
    path = "/v1/networks",
    tag = "vnet",
    request_body = NetworkCreate,
    responses(
        (status = 201, description = "Created", body = Network),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "A bad value (every one is listed)", body = ErrorBody),
    )
)]
pub async fn create_network(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<NetworkCreate>,
) -> Created<Network> {
    let id = Uuid::new_v4();
    let name = request.name.clone();
    agent
        .vnet()
        .change(|s| s.create_network(id, request.clone()))
        .await?;
    created(network_of(&agent.vnet().state().await?, &name)?)
}

/// A network.
#[utoipa::path(
    get,
    path = "/v1/networks/{network}",
    tag = "vnet",
    params(("network" = String, Path, description = "Its name")),
    responses(
        (status = 200, description = "Found", body = Network),
        (status = 404, description = "No such object", body = ErrorBody),
    )
)]
pub async fn get_network(
    State(agent): State<Arc<Agent>>,
    Path(network): Path<String>,
) -> Result<Json<Network>, ApiError> {
    let state = agent.vnet().state().await?;
    Ok(Json(network_of(&state, &network)?))
}

/// Deletes a network that no port, router, floating IP or load balancer uses.
#[utoipa::path(
    delete,
    path = "/v1/networks/{network}",
    tag = "vnet",
    params(("network" = String, Path, description = "Its name (or id)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such object", body = ErrorBody),
        (status = 409, description = "In use (the message says by what)", body = ErrorBody),
    )
)]
pub async fn delete_network(
    State(agent): State<Arc<Agent>>,
    Path(network): Path<String>,
) -> Result<StatusCode, ApiError> {
    agent.vnet().change(|s| s.delete_network(&network)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The cluster's routers.
#[utoipa::path(
    get,
    path = "/v1/routers",
    tag = "vnet",
    responses((status = 200, description = "Routers", body = Vec<Router>))
)]
pub async fn list_routers(State(agent): State<Arc<Agent>>) -> Result<Json<Vec<Router>>, ApiError> {
    let state = agent.vnet().state().await?;
    Ok(Json(
        state.routers.values().map(VnetState::router_view).collect(),
    ))
}

/// Creates a router.
#[utoipa::path(
    post,
    path = "/v1/routers",
    tag = "vnet",
    request_body = RouterCreate,
    responses(
        (status = 201, description = "Created", body = Router),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "A bad name", body = ErrorBody),
    )
)]
pub async fn create_router(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<RouterCreate>,
) -> Created<Router> {
    let id = Uuid::new_v4();
    let record = agent
        .vnet()
        .change(|s| s.create_router(id, &request.name))
        .await?;
    created(VnetState::router_view(&record))
}

/// A router.
#[utoipa::path(
    get,
    path = "/v1/routers/{router}",
    tag = "vnet",
    params(("router" = String, Path, description = "Its name")),
    responses(
        (status = 200, description = "Found", body = Router),
        (status = 404, description = "No such object", body = ErrorBody),
    )
)]
pub async fn get_router(
    State(agent): State<Arc<Agent>>,
    Path(router): Path<String>,
) -> Result<Json<Router>, ApiError> {
    let state = agent.vnet().state().await?;
    Ok(Json(router_of(&state, &router)?))
}

/// Deletes a router with no networks attached.
#[utoipa::path(
    delete,
    path = "/v1/routers/{router}",
    tag = "vnet",
    params(("router" = String, Path, description = "Its name (or id)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such object", body = ErrorBody),
        (status = 409, description = "Networks are attached, or floating IPs use its gateway", body = ErrorBody),
    )
)]
pub async fn delete_router(
    State(agent): State<Arc<Agent>>,
    Path(router): Path<String>,
) -> Result<StatusCode, ApiError> {
    agent.vnet().change(|s| s.delete_router(&router)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Attaches a network: the router takes the network's gateway address.
#[utoipa::path(
    post,
    path = "/v1/routers/{router}/networks",
    tag = "vnet",
    params(("router" = String, Path, description = "The router")),
    request_body = RouterNetwork,
    responses(
        (status = 200, description = "Attached", body = Router),
        (status = 404, description = "No such router or network", body = ErrorBody),
        (status = 409, description = "Overlapping subnets, or attached elsewhere", body = ErrorBody),
    )
)]
pub async fn attach_network(
    State(agent): State<Arc<Agent>>,
    Path(router): Path<String>,
    ApiJson(request): ApiJson<RouterNetwork>,
) -> Result<Json<Router>, ApiError> {
    agent
        .vnet()
        .change(|s| s.attach(&router, &request.network))
        .await?;
    Ok(Json(router_of(&agent.vnet().state().await?, &router)?))
}

/// Detaches a network.
#[utoipa::path(
    delete,
    path = "/v1/routers/{router}/networks/{network}",
    tag = "vnet",
    params(
        ("router" = String, Path, description = "The router"),
        ("network" = String, Path, description = "The network"),
    ),
    responses(
        (status = 200, description = "Detached", body = Router),
        (status = 404, description = "Not attached", body = ErrorBody),
        (status = 409, description = "A floating IP reaches a port of it", body = ErrorBody),
    )
)]
pub async fn detach_network(
    State(agent): State<Arc<Agent>>,
    Path((router, network)): Path<(String, String)>,
) -> Result<Json<Router>, ApiError> {
    agent.vnet().change(|s| s.detach(&router, &network)).await?;
    Ok(Json(router_of(&agent.vnet().state().await?, &router)?))
}

/// Sets the router's external gateway on a network: it takes an address
/// there, routes by default through the network's gateway, and SNATs its
/// attached networks; its port there is scheduled on the chassis with
/// priorities, so a lost host fails over.
#[utoipa::path(
    put,
    path = "/v1/routers/{router}/gateway",
    tag = "vnet",
    params(("router" = String, Path, description = "The router")),
    request_body = RouterNetwork,
    responses(
        (status = 200, description = "Set", body = RouterGateway),
        (status = 404, description = "No such router or network", body = ErrorBody),
        (status = 409, description = "A gateway is set, the network is full or overlaps", body = ErrorBody),
    )
)]
pub async fn put_gateway(
    State(agent): State<Arc<Agent>>,
    Path(router): Path<String>,
    ApiJson(request): ApiJson<RouterNetwork>,
) -> Result<Json<RouterGateway>, ApiError> {
    Ok(Json(
        agent
            .vnet()
            .change(|s| s.set_gateway(&router, &request.network))
            .await?,
    ))
}

/// Clears the router's gateway.
#[utoipa::path(
    delete,
    path = "/v1/routers/{router}/gateway",
    tag = "vnet",
    params(("router" = String, Path, description = "Its name (or id)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such object", body = ErrorBody),
        (status = 409, description = "Floating IPs are translated through it", body = ErrorBody),
    )
)]
pub async fn delete_gateway(
    State(agent): State<Arc<Agent>>,
    Path(router): Path<String>,
) -> Result<StatusCode, ApiError> {
    agent.vnet().change(|s| s.clear_gateway(&router)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The cluster's floating IPs.
#[utoipa::path(
    get,
    path = "/v1/floating-ips",
    tag = "vnet",
    responses((status = 200, description = "Floating IPs", body = Vec<FloatingIp>))
)]
pub async fn list_floating_ips(
    State(agent): State<Arc<Agent>>,
) -> Result<Json<Vec<FloatingIp>>, ApiError> {
    let state = agent.vnet().state().await?;
    Ok(Json(
        state
            .floating_ips
            .values()
            .map(|f| state.floating_ip_view(f))
            .collect(),
    ))
}

/// Takes a floating IP from an external network.
#[utoipa::path(
    post,
    path = "/v1/floating-ips",
    tag = "vnet",
    request_body = FloatingIpCreate,
    responses(
        (status = 201, description = "Created", body = FloatingIp),
        (status = 404, description = "No such network", body = ErrorBody),
        (status = 409, description = "The address is taken or the network full", body = ErrorBody),
        (status = 422, description = "The address is outside the network", body = ErrorBody),
    )
)]
pub async fn create_floating_ip(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<FloatingIpCreate>,
) -> Created<FloatingIp> {
    let id = Uuid::new_v4();
    let fip = agent
        .vnet()
        .change(|s| s.create_floating_ip(id, &request))
        .await?;
    created(fip)
}

/// Translates a floating IP to a port (DNAT and SNAT on the router that
/// routes the port's network out to the floating IP's).
#[utoipa::path(
    post,
    path = "/v1/floating-ips/{fip}/associate",
    tag = "vnet",
    params(("fip" = String, Path, description = "The address or id")),
    request_body = FloatingIpAssociate,
    responses(
        (status = 200, description = "Associated", body = FloatingIp),
        (status = 404, description = "No such address or port", body = ErrorBody),
        (status = 409, description = "No router routes the port there, or the port has one", body = ErrorBody),
    )
)]
pub async fn associate_floating_ip(
    State(agent): State<Arc<Agent>>,
    Path(fip): Path<String>,
    ApiJson(request): ApiJson<FloatingIpAssociate>,
) -> Result<Json<FloatingIp>, ApiError> {
    let done = agent
        .vnet()
        .change(|s| s.associate(&fip, &request.port))
        .await?;
    Ok(Json(agent.vnet().state().await?.floating_ip_view(&done)))
}

/// Stops translating a floating IP; it stays allocated.
#[utoipa::path(
    post,
    path = "/v1/floating-ips/{fip}/disassociate",
    tag = "vnet",
    params(("fip" = String, Path, description = "The address or id")),
    responses(
        (status = 200, description = "Disassociated", body = FloatingIp),
        (status = 404, description = "No such address", body = ErrorBody),
    )
)]
pub async fn disassociate_floating_ip(
    State(agent): State<Arc<Agent>>,
    Path(fip): Path<String>,
) -> Result<Json<FloatingIp>, ApiError> {
    Ok(Json(agent.vnet().change(|s| s.disassociate(&fip)).await?))
}

/// Gives a floating IP back.
#[utoipa::path(
    delete,
    path = "/v1/floating-ips/{fip}",
    tag = "vnet",
    params(("fip" = String, Path, description = "Its name (or id)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such object", body = ErrorBody),
        (status = 409, description = "Never", body = ErrorBody),
    )
)]
pub async fn delete_floating_ip(
    State(agent): State<Arc<Agent>>,
    Path(fip): Path<String>,
) -> Result<StatusCode, ApiError> {
    agent.vnet().change(|s| s.delete_floating_ip(&fip)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The cluster's security groups.
#[utoipa::path(
    get,
    path = "/v1/security-groups",
    tag = "vnet",
    responses((status = 200, description = "Security groups", body = Vec<SecurityGroup>))
)]
pub async fn list_security_groups(
    State(agent): State<Arc<Agent>>,
) -> Result<Json<Vec<SecurityGroup>>, ApiError> {
    let state = agent.vnet().state().await?;
    Ok(Json(
        state
            .security_groups
            .values()
            .map(|g| state.security_group_view(g))
            .collect(),
    ))
}

/// Creates a security group; it allows all egress until that rule is
/// removed, and no ingress but replies.
#[utoipa::path(
    post,
    path = "/v1/security-groups",
    tag = "vnet",
    request_body = SecurityGroupCreate,
    responses(
        (status = 201, description = "Created", body = SecurityGroup),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "A bad name", body = ErrorBody),
    )
)]
pub async fn create_security_group(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<SecurityGroupCreate>,
) -> Created<SecurityGroup> {
    let ids = (Uuid::new_v4(), Uuid::new_v4());
    let record = agent
        .vnet()
        .change(|s| s.create_security_group(ids.0, [ids.1], &request))
        .await?;
    created(group_of(&agent.vnet().state().await?, &record.name)?)
}

/// A security group.
#[utoipa::path(
    get,
    path = "/v1/security-groups/{group}",
    tag = "vnet",
    params(("group" = String, Path, description = "Its name")),
    responses(
        (status = 200, description = "Found", body = SecurityGroup),
        (status = 404, description = "No such object", body = ErrorBody),
    )
)]
pub async fn get_security_group(
    State(agent): State<Arc<Agent>>,
    Path(group): Path<String>,
) -> Result<Json<SecurityGroup>, ApiError> {
    let state = agent.vnet().state().await?;
    Ok(Json(group_of(&state, &group)?))
}

/// Deletes a security group no port and no other group's rule uses.
#[utoipa::path(
    delete,
    path = "/v1/security-groups/{group}",
    tag = "vnet",
    params(("group" = String, Path, description = "Its name (or id)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such object", body = ErrorBody),
        (status = 409, description = "In use", body = ErrorBody),
    )
)]
pub async fn delete_security_group(
    State(agent): State<Arc<Agent>>,
    Path(group): Path<String>,
) -> Result<StatusCode, ApiError> {
    agent
        .vnet()
        .change(|s| s.delete_security_group(&group))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a rule to a security group.
#[utoipa::path(
    post,
    path = "/v1/security-groups/{group}/rules",
    tag = "vnet",
    params(("group" = String, Path, description = "The security group")),
    request_body = SecurityRuleCreate,
    responses(
        (status = 201, description = "Added", body = SecurityRule),
        (status = 404, description = "No such group (or peer group)", body = ErrorBody),
        (status = 409, description = "The group has this rule", body = ErrorBody),
        (status = 422, description = "A bad CIDR or port range", body = ErrorBody),
    )
)]
pub async fn add_rule(
    State(agent): State<Arc<Agent>>,
    Path(group): Path<String>,
    ApiJson(request): ApiJson<SecurityRuleCreate>,
) -> Created<SecurityRule> {
    let id = Uuid::new_v4();
    let rule = agent
        .vnet()
        .change(|s| s.add_rule(&group, id, request.clone()))
        .await?;
    created(rule)
}

/// Removes a rule.
#[utoipa::path(
    delete,
    path = "/v1/security-groups/{group}/rules/{rule}",
    tag = "vnet",
    params(
        ("group" = String, Path, description = "The security group"),
        ("rule" = Uuid, Path, description = "The rule's id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such group or rule", body = ErrorBody),
    )
)]
pub async fn remove_rule(
    State(agent): State<Arc<Agent>>,
    Path((group, rule)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let rule: Uuid = rule
        .parse()
        .map_err(|_| AgentError::Invalid(format!("rule {rule:?} is not a rule id")))?;
    agent.vnet().change(|s| s.remove_rule(&group, rule)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The cluster's load balancers.
#[utoipa::path(
    get,
    path = "/v1/load-balancers",
    tag = "vnet",
    responses((status = 200, description = "Load balancers", body = Vec<LoadBalancer>))
)]
pub async fn list_load_balancers(
    State(agent): State<Arc<Agent>>,
) -> Result<Json<Vec<LoadBalancer>>, ApiError> {
    let state = agent.vnet().state().await?;
    Ok(Json(state.load_balancers.values().cloned().collect()))
}

/// Creates a load balancer on a network's switch and its router.
#[utoipa::path(
    post,
    path = "/v1/load-balancers",
    tag = "vnet",
    request_body = LoadBalancerCreate,
    responses(
        (status = 201, description = "Created", body = LoadBalancer),
        (status = 404, description = "No such network", body = ErrorBody),
        (status = 409, description = "The name or VIP is taken", body = ErrorBody),
        (status = 422, description = "A bad address, or a checked member that is not a port", body = ErrorBody),
    )
)]
pub async fn create_load_balancer(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<LoadBalancerCreate>,
) -> Created<LoadBalancer> {
    let id = Uuid::new_v4();
    let lb = agent
        .vnet()
        .change(|s| s.create_load_balancer(id, request.clone()))
        .await?;
    created(lb)
}

/// Deletes a load balancer.
#[utoipa::path(
    delete,
    path = "/v1/load-balancers/{lb}",
    tag = "vnet",
    params(("lb" = String, Path, description = "Its name (or id)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such object", body = ErrorBody),
        (status = 409, description = "Never", body = ErrorBody),
    )
)]
pub async fn delete_load_balancer(
    State(agent): State<Arc<Agent>>,
    Path(lb): Path<String>,
) -> Result<StatusCode, ApiError> {
    agent.vnet().change(|s| s.delete_load_balancer(&lb)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The cluster's ports.
#[utoipa::path(
    get,
    path = "/v1/ports",
    tag = "vnet",
    responses((status = 200, description = "Ports", body = Vec<Port>))
)]
pub async fn list_ports(State(agent): State<Arc<Agent>>) -> Result<Json<Vec<Port>>, ApiError> {
    Ok(Json(agent.vnet().ports().await?))
}

/// Creates a port on a network (VM NICs get theirs with the VM).
#[utoipa::path(
    post,
    path = "/v1/ports",
    tag = "vnet",
    request_body = PortCreate,
    responses(
        (status = 201, description = "Created", body = Port),
        (status = 404, description = "No such network or security group", body = ErrorBody),
        (status = 409, description = "The name, address or MAC is taken, or the network is full", body = ErrorBody),
        (status = 422, description = "The address is outside the subnet, or a bad MAC", body = ErrorBody),
    )
)]
pub async fn create_port(
    State(agent): State<Arc<Agent>>,
    ApiJson(request): ApiJson<PortCreate>,
) -> Created<Port> {
    let id = Uuid::new_v4();
    let port = agent
        .vnet()
        .change(|s| s.create_port(id, &request, None))
        .await?;
    created(port)
}

/// A port.
#[utoipa::path(
    get,
    path = "/v1/ports/{port}",
    tag = "vnet",
    params(("port" = String, Path, description = "Its name")),
    responses(
        (status = 200, description = "Found", body = Port),
        (status = 404, description = "No such object", body = ErrorBody),
    )
)]
pub async fn get_port(
    State(agent): State<Arc<Agent>>,
    Path(port): Path<String>,
) -> Result<Json<Port>, ApiError> {
    Ok(Json(
        agent
            .vnet()
            .port(&port)
            .await?
            .ok_or_else(|| missing("port", &port))?,
    ))
}

/// Deletes a port that no VM owns (a VM's ports go with it).
#[utoipa::path(
    delete,
    path = "/v1/ports/{port}",
    tag = "vnet",
    params(("port" = String, Path, description = "Its name or id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such port", body = ErrorBody),
        (status = 409, description = "A VM owns it", body = ErrorBody),
    )
)]
pub async fn delete_port(
    State(agent): State<Arc<Agent>>,
    Path(port): Path<String>,
) -> Result<StatusCode, ApiError> {
    agent
        .vnet()
        .change(|s| {
            if let Some(vm) = s.port(&port).and_then(|p| p.vm) {
                return Err(VnetError::Conflict(format!(
                    "port {port:?} is VM {vm}'s NIC; it goes with the VM"
                )));
            }
            s.delete_port(&port)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
