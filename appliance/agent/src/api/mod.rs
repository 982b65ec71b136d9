//! The HTTP API: routes, error mapping, caller checks and the OpenAPI
//! document generated from the same route definitions.

mod access;
mod ceph;
mod cluster;
pub mod error;
mod forward;
mod host;
mod install;
pub mod join;
mod json;
mod limit;
mod network;
mod ovn;
pub mod peer;
mod pools;
mod vms;
mod vnet;
mod volumes;

use crate::agent::Agent;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use error::ApiError;
use lqx_api::ErrorCode;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest request body accepted. Every request of this API is small;
/// anything bigger is a mistake or an attack.
pub const MAX_BODY_BYTES: usize = 1 << 20;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "LimiQuantix host agent API",
        description = "Served by lqxd on its local Unix socket (root only) and over HTTPS on \
                       port 8443 to holders of a client certificate from the host's authority \
                       (mutual TLS). Every error is `{\"error\": {\"code\", \"message\"}}` \
                       with a 4xx/5xx status.",
        license(name = "Apache-2.0"),
    ),
    tags(
        (name = "host", description = "The host and its agent"),
        (name = "install", description = "Installing the live system onto a disk"),
        (name = "network", description = "Network configuration with safe apply, and preflight checks"),
        (name = "auth", description = "The admin password"),
        (name = "ovn", description = "This host as an OVN chassis"),
        (name = "ceph", description = "This host as a client of a Ceph cluster"),
        (name = "volumes", description = "RBD volumes, their snapshots and clones"),
        (name = "cluster", description = "The cluster of hosts: creating, joining and leaving it, join tokens, members. \
            Any request may name a member in the `lqx-host` header (host id, or hostname when unique): \
            the host that receives it forwards it there over mutual TLS."),
        (name = "vms", description = "The cluster's virtual machines: any host answers, the VM's host acts"),
        (name = "vnet", description = "The cluster's virtual networks on OVN: networks, routers, floating IPs, security groups, load balancers, ports"),
        (name = "pools", description = "This host's local storage pools: qcow2 disks and ISO images")
    )
)]
struct ApiDoc;

fn routes() -> (Router<Arc<Agent>>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(host::get_host))
        .routes(routes!(host::get_agent))
        .routes(routes!(host::get_labels, host::patch_labels))
        .routes(routes!(host::post_power))
        .routes(routes!(install::get_install, install::post_install))
        .routes(routes!(network::get_network, network::put_network))
        .routes(routes!(network::post_apply))
        .routes(routes!(network::post_confirm))
        .routes(routes!(network::post_revert))
        .routes(routes!(network::get_diagnostics))
        .routes(routes!(access::get_auth))
        .routes(routes!(access::put_password))
        .routes(routes!(access::post_verify))
        .routes(routes!(
            access::get_ssh,
            access::post_ssh,
            access::delete_ssh
        ))
        .routes(routes!(access::get_journal))
        .routes(routes!(
            ovn::get_chassis,
            ovn::post_chassis,
            ovn::delete_chassis
        ))
        .routes(routes!(ceph::get_ceph, ceph::post_ceph, ceph::delete_ceph))
        .routes(routes!(volumes::list_volumes, volumes::create_volume))
        .routes(routes!(volumes::get_volume, volumes::delete_volume))
        .routes(routes!(volumes::resize_volume))
        .routes(routes!(volumes::create_snapshot))
        .routes(routes!(volumes::delete_snapshot))
        .routes(routes!(volumes::clone_snapshot))
        .routes(routes!(cluster::get_cluster, cluster::post_cluster))
        .routes(routes!(cluster::post_token))
        .routes(routes!(cluster::post_join))
        .routes(routes!(cluster::post_leave))
        .routes(routes!(cluster::get_members))
        .routes(routes!(cluster::delete_member))
        .routes(routes!(vms::list_vms, vms::create_vm))
        .routes(routes!(vms::get_vm, vms::delete_vm))
        .routes(routes!(vms::post_start))
        .routes(routes!(vms::post_stop))
        .routes(routes!(vms::post_shutdown))
        .routes(routes!(vms::post_reboot))
        .routes(routes!(vms::put_cdrom, vms::delete_cdrom))
        .routes(routes!(vms::get_console))
        .routes(routes!(vms::get_serial))
        .routes(routes!(pools::list_pools, pools::create_pool))
        .routes(routes!(pools::get_pool, pools::delete_pool))
        .routes(routes!(pools::create_pool_volume))
        .routes(routes!(pools::resize_pool_volume))
        .routes(routes!(pools::delete_pool_volume))
        .routes(routes!(pools::upload_pool_volume))
        .routes(routes!(vnet::get_central, vnet::put_central))
        .routes(routes!(vnet::get_sync))
        .routes(routes!(vnet::list_networks, vnet::create_network))
        .routes(routes!(vnet::get_network, vnet::delete_network))
        .routes(routes!(vnet::list_routers, vnet::create_router))
        .routes(routes!(vnet::get_router, vnet::delete_router))
        .routes(routes!(vnet::attach_network))
        .routes(routes!(vnet::detach_network))
        .routes(routes!(vnet::put_gateway, vnet::delete_gateway))
        .routes(routes!(vnet::list_floating_ips, vnet::create_floating_ip))
        .routes(routes!(vnet::delete_floating_ip))
        .routes(routes!(vnet::associate_floating_ip))
        .routes(routes!(vnet::disassociate_floating_ip))
        .routes(routes!(
            vnet::list_security_groups,
            vnet::create_security_group
        ))
        .routes(routes!(
            vnet::get_security_group,
            vnet::delete_security_group
        ))
        .routes(routes!(vnet::add_rule))
        .routes(routes!(vnet::remove_rule))
        .routes(routes!(
            vnet::list_load_balancers,
            vnet::create_load_balancer
        ))
        .routes(routes!(vnet::delete_load_balancer))
        .routes(routes!(vnet::list_ports, vnet::create_port))
        .routes(routes!(vnet::get_port, vnet::delete_port))
        .split_for_parts()
}

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = routes().1;
    // The crate version would make the committed document churn on every
    // release bump; the API has its own version in its paths.
    doc.info.version = "v1".into();
    doc
}

/// The OpenAPI document as the pretty JSON committed in docs/.
pub fn openapi_json() -> String {
    openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The API's router, with caller checks, body limits, JSON errors for
/// unknown routes and methods, and panics turned into 500s.
pub fn router(agent: Arc<Agent>, policy: peer::PeerPolicy) -> Router {
    routes()
        .0
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // After the caller check: only callers allowed here are forwarded.
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&agent),
            forward::route,
        ))
        .layer(axum::middleware::from_fn(limit::refuse_oversized))
        .layer(axum::middleware::from_fn_with_state(policy, peer::check))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .with_state(agent)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        format!("no route {method} {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        format!("{} does not accept {method}", uri.path()),
    )
}

pub(crate) fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    tracing::error!("request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Internal,
        "internal error while serving the request; nothing was changed",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Agent;
    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use lqx_api::{AgentInfo, AgentMode, ErrorBody};
    use lqx_host::FakeProbe;
    use peer::{Peer, PeerPolicy};
    use tower::ServiceExt;

    fn agent(dir: &std::path::Path) -> Arc<Agent> {
        let store = lqx_store::StateDir::open(dir).unwrap();
        let info = AgentInfo {
            version: "test".into(),
            mode: AgentMode::Standalone,
            pid: 1,
            state_dir: dir.display().to_string(),
            socket: "test.sock".into(),
            address: None,
            started_at: time::OffsetDateTime::UNIX_EPOCH,
            remote_api: None,
        };
        let probe = Arc::new(FakeProbe::new(FakeProbe::sample("fake-host")));
        Arc::new(
            Agent::open(
                store,
                info,
                backends(probe),
                installer(dir),
                Default::default(),
            )
            .unwrap(),
        )
    }

    fn backends(probe: Arc<FakeProbe>) -> crate::agent::Backends {
        crate::agent::Backends {
            probe,
            manager: Arc::new(lqx_systemd::FakeManager::default()),
            network: Arc::new(lqx_network::FakeBackend::default()),
        }
    }

    fn installer(dir: &std::path::Path) -> crate::installer::Installer {
        crate::installer::Installer::new(Default::default(), dir.join("no-image"))
    }

    async fn call(router: Router, uid: Option<u32>, req: Request<Body>) -> (StatusCode, Vec<u8>) {
        let mut req = req;
        if let Some(uid) = uid {
            req.extensions_mut().insert(ConnectInfo(Peer {
                uid: Some(uid),
                pid: Some(1),
            }));
        }
        let res = router.oneshot(req).await.unwrap();
        let status = res.status();
        (
            status,
            res.into_body().collect().await.unwrap().to_bytes().to_vec(),
        )
    }

    fn get(path: &str) -> Request<Body> {
        Request::get(path).body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn owner_and_root_are_served_others_refused() {
        let dir = tempfile::tempdir().unwrap();
        let router = router(agent(dir.path()), PeerPolicy { owner_uid: 1000 });
        for uid in [0, 1000] {
            let (status, body) = call(router.clone(), Some(uid), get("/v1/host")).await;
            assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
            let host: lqx_api::HostInfo = serde_json::from_slice(&body).unwrap();
            assert_eq!(host.facts.hostname, "fake-host");
        }
        for uid in [Some(1001), None] {
            let (status, body) = call(router.clone(), uid, get("/v1/host")).await;
            assert_eq!(status, StatusCode::FORBIDDEN);
            let err: ErrorBody = serde_json::from_slice(&body).unwrap();
            assert_eq!(err.error.code, ErrorCode::Forbidden);
        }
    }

    #[tokio::test]
    async fn probe_failure_is_503_json() {
        let dir = tempfile::tempdir().unwrap();
        let store = lqx_store::StateDir::open(dir.path()).unwrap();
        let probe = Arc::new(FakeProbe::new(FakeProbe::sample("h")));
        probe.set(Err("netlink down".into()));
        let info = agent(tempfile::tempdir().unwrap().path()).info();
        let agent = Agent::open(
            store,
            info,
            backends(probe),
            installer(dir.path()),
            Default::default(),
        )
        .unwrap();
        let router = router(Arc::new(agent), PeerPolicy { owner_uid: 0 });
        let (status, body) = call(router, Some(0), get("/v1/host")).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let err: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert!(
            err.error.message.contains("netlink down"),
            "{}",
            err.error.message
        );
    }

    #[tokio::test]
    async fn power_is_refused_outside_the_appliance() {
        let dir = tempfile::tempdir().unwrap();
        let router = router(agent(dir.path()), PeerPolicy { owner_uid: 0 });
        let req = Request::post("/v1/host/power")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"action":"reboot"}"#))
            .unwrap();
        let (status, body) = call(router, Some(0), req).await;
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "{}",
            String::from_utf8_lossy(&body)
        );
    }

    #[tokio::test]
    async fn power_in_appliance_mode_starts_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let store = lqx_store::StateDir::open(dir.path()).unwrap();
        let mut info = agent(tempfile::tempdir().unwrap().path()).info();
        info.mode = AgentMode::Appliance;
        let manager = Arc::new(lqx_systemd::FakeManager::default());
        let backends = crate::agent::Backends {
            probe: Arc::new(FakeProbe::new(FakeProbe::sample("h"))),
            manager: manager.clone(),
            network: Arc::new(lqx_network::FakeBackend::default()),
        };
        let agent = Agent::open(
            store,
            info,
            backends,
            installer(dir.path()),
            Default::default(),
        )
        .unwrap();
        let router = router(Arc::new(agent), PeerPolicy { owner_uid: 0 });
        let req = Request::post("/v1/host/power")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"action":"poweroff"}"#))
            .unwrap();
        let (status, _) = call(router, Some(0), req).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(manager.started(), ["poweroff.target"]);
    }

    #[test]
    fn openapi_lists_every_route() {
        let doc = openapi();
        let paths: Vec<_> = doc.paths.paths.keys().cloned().collect();
        assert_eq!(
            paths,
            [
                "/v1/agent",
                "/v1/auth",
                "/v1/auth/password",
                "/v1/auth/verify",
                "/v1/ceph",
                "/v1/cluster",
                "/v1/cluster/join",
                "/v1/cluster/leave",
                "/v1/cluster/members",
                "/v1/cluster/members/{host}",
                "/v1/cluster/tokens",
                "/v1/floating-ips",
                "/v1/floating-ips/{fip}",
                "/v1/floating-ips/{fip}/associate",
                "/v1/floating-ips/{fip}/disassociate",
                "/v1/host",
                "/v1/host/diagnostics",
                "/v1/host/journal",
                "/v1/host/labels",
                "/v1/host/network",
                "/v1/host/network/apply",
                "/v1/host/network/confirm",
                "/v1/host/network/revert",
                "/v1/host/power",
                "/v1/host/ssh",
                "/v1/install",
                "/v1/load-balancers",
                "/v1/load-balancers/{lb}",
                "/v1/networks",
                "/v1/networks/{network}",
                "/v1/ovn/central",
                "/v1/ovn/chassis",
                "/v1/ovn/sync",
                "/v1/pools",
                "/v1/pools/{pool}",
                "/v1/pools/{pool}/volumes",
                "/v1/pools/{pool}/volumes/{volume}",
                "/v1/pools/{pool}/volumes/{volume}/content",
                "/v1/pools/{pool}/volumes/{volume}/resize",
                "/v1/ports",
                "/v1/ports/{port}",
                "/v1/routers",
                "/v1/routers/{router}",
                "/v1/routers/{router}/gateway",
                "/v1/routers/{router}/networks",
                "/v1/routers/{router}/networks/{network}",
                "/v1/security-groups",
                "/v1/security-groups/{group}",
                "/v1/security-groups/{group}/rules",
                "/v1/security-groups/{group}/rules/{rule}",
                "/v1/vms",
                "/v1/vms/{vm}",
                "/v1/vms/{vm}/cdrom",
                "/v1/vms/{vm}/console",
                "/v1/vms/{vm}/reboot",
                "/v1/vms/{vm}/serial",
                "/v1/vms/{vm}/shutdown",
                "/v1/vms/{vm}/start",
                "/v1/vms/{vm}/stop",
                "/v1/volumes/{pool}",
                "/v1/volumes/{pool}/{name}",
                "/v1/volumes/{pool}/{name}/resize",
                "/v1/volumes/{pool}/{name}/snapshots",
                "/v1/volumes/{pool}/{name}/snapshots/{snapshot}",
                "/v1/volumes/{pool}/{name}/snapshots/{snapshot}/clone",
            ]
        );
    }
}
