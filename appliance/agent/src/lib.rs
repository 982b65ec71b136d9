//! The LimiQuantix host agent, as a library so that tests and the
//! benchmark can build its pieces; `main.rs` is a thin wrapper.
//!
//! - [`args`]: command-line flags.
//! - [`agent`]: the agent's state and the operations the API exposes.
//! - [`api`]: routes, errors, caller checks, OpenAPI.
//! - [`installer`]: the live system installing itself onto a disk.
//! - [`network`]: the safe-apply cycle of the network configuration.
//! - [`auth`]: the admin password.
//! - [`ssh`]: time-limited SSH.
//! - [`journal`]: a unit's newest journal lines.
//! - [`ceph`]: this host as a client of a Ceph cluster.
//! - [`ovn`]: this host as an OVN chassis.
//! - [`cluster`]: the cluster of hosts.
//! - [`vms`]: the VMs placed on this host.
//! - [`vnet`]: the cluster's virtual networks and their writer to OVN.
//! - [`remote`]: the remote API (HTTPS, mutual TLS) and its certificates.
//! - [`socket`]: the local API socket.
//! - [`logging`]: journald or stderr.

pub mod agent;
pub mod api;
pub mod args;
pub mod auth;
pub mod ceph;
pub mod cluster;
pub mod installer;
pub mod journal;
pub mod logging;
pub mod network;
pub mod ovn;
pub mod remote;
pub mod socket;
pub mod ssh;
pub mod vms;
pub mod vnet;

use anyhow::Context as _;
use lqx_api::{AgentInfo, AgentMode};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// Runs the agent until SIGTERM or SIGINT.
pub async fn run(args: args::Args) -> anyhow::Result<()> {
    logging::init();
    let notifier = lqx_systemd::Notifier::from_env();
    let facts = lqx_systemd::detect(&lqx_systemd::Probe::default());
    let mode = lqx_core::mode::decide(args.mode.into(), facts);
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        ?mode,
        state_dir = %args.state_dir.display(),
        socket = %args.socket.display(),
        address = ?args.address,
        "starting"
    );
    if mode == AgentMode::Appliance && !facts.systemd_is_init {
        tracing::warn!("appliance mode forced without systemd as PID 1");
    }

    let store = lqx_store::StateDir::open(&args.state_dir)?;
    let info = AgentInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        mode,
        pid: std::process::id(),
        state_dir: args.state_dir.display().to_string(),
        socket: args.socket.display().to_string(),
        address: args.address,
        started_at: OffsetDateTime::now_utc(),
        remote_api: None,
    };
    let manager: Arc<dyn lqx_systemd::ServiceManager> = Arc::new(lqx_systemd::SystemdManager);
    let appliance = mode == AgentMode::Appliance;
    let network: Arc<dyn lqx_network::NetworkBackend> = match (&args.network_root, appliance) {
        (Some(root), _) => Arc::new(lqx_network::FilesOnly::new(root)),
        (None, true) => Arc::new(lqx_network::Networkd::new(
            "/etc/systemd",
            Arc::clone(&manager),
        )),
        (None, false) => Arc::new(lqx_network::FilesOnly::new(args.state_dir.join("rendered"))),
    };
    let backends = agent::Backends {
        probe: Arc::new(lqx_host::SystemProbe::default()),
        manager,
        network,
    };
    let options = agent::AgentOptions {
        shadow: appliance.then(|| "/etc/shadow".into()),
        watch: network::WatchTiming {
            lost_after: Duration::from_secs(args.network_lost_after),
            ..Default::default()
        },
        ovn: agent::OvnOptions {
            ovs_db: args.ovs_db.clone(),
            wait: Duration::from_secs(args.ovn_wait),
            manage_units: appliance,
            allow_unix: !appliance,
        },
        vnet: vnet::VnetOptions::default(),
        ceph: agent::CephOptions {
            timeout: Duration::from_secs(args.ceph_timeout),
            libvirt_uri: args
                .libvirt_uri
                .clone()
                .or_else(|| appliance.then(|| "qemu:///system".to_owned())),
            manage_units: appliance,
            ..Default::default()
        },
        cluster: cluster::ClusterOptions {
            etcd_bin: args.etcd_bin.clone(),
            client_port: args.etcd_client_port,
            peer_port: args.etcd_peer_port,
            ..Default::default()
        },
        vms: vms::VmOptions {
            libvirt_uri: args
                .libvirt_uri
                .clone()
                .or_else(|| appliance.then(|| "qemu:///system".to_owned())),
            manage_units: appliance,
            accel: args.vm_accel.into(),
            data_dir: args
                .vm_data_dir
                .clone()
                .or_else(|| appliance.then(|| "/var/lib/lqx-vms".into())),
            ..Default::default()
        },
    };
    let installer = installer::Installer::new(
        lqx_install::disks::DiskSources {
            include_loop: args.install_allow_loop,
            ..Default::default()
        },
        args.install_image.clone(),
    );
    let agent = Arc::new(agent::Agent::open(
        store, info, backends, installer, options,
    )?);
    agent.resume().await;
    let host_id = agent.host_id().await;

    let listener = socket::bind(&args.socket)?;
    let router = api::router(
        Arc::clone(&agent),
        api::peer::PeerPolicy::for_this_process(),
    );
    if appliance || args.address.is_some() {
        // Without it the host is still usable from its console: report
        // and go on.
        let routers = remote::Routers {
            api: router.clone(),
            join: api::join::router(Arc::clone(&agent)),
        };
        if let Err(error) = start_remote(&agent, &args, routers).await {
            tracing::error!(error = %format!("{error:#}"), "the remote API is not served");
        }
    }
    // After the remote API: a member's start may replace its authority.
    agent.cluster().resume().await;
    agent.vms().spawn();
    agent.vnet().spawn();
    let service = router.into_make_service_with_connect_info::<api::peer::Peer>();
    let server = tokio::spawn(
        axum::serve(listener, service)
            .with_graceful_shutdown(shutdown_signal())
            .into_future(),
    );
    tracing::info!(%host_id, "serving the local API");
    notifier.ready(&format!("host {host_id}: API on {}", args.socket.display()));
    if let Some(period) = notifier.watchdog_period() {
        tokio::spawn(watchdog(notifier.clone(), args.socket.clone(), period));
    }

    let result = server.await.context("API server task failed")?;
    notifier.stopping();
    agent.cluster().shutdown().await;
    let _ = std::fs::remove_file(&args.socket);
    result.context("API server failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// Sets up the authority (the cluster's, on a member) and certificates,
/// binds the remote API and serves it in a task.
async fn start_remote(
    agent: &Arc<agent::Agent>,
    args: &args::Args,
    routers: remote::Routers,
) -> anyhow::Result<()> {
    let facts = agent.facts().await?;
    let host_id = agent.host_id().await;
    let subject = remote::host_subject(host_id, &facts, args.address);
    let choice = match agent.cluster().authority().await? {
        Some(authority) => remote::AuthorityChoice::Use(authority),
        None => remote::AuthorityChoice::Keep,
    };
    let store = Arc::clone(agent.store());
    let prepared = tokio::task::spawn_blocking(move || {
        remote::prepare(&store, &subject, OffsetDateTime::now_utc(), choice)
    })
    .await??;
    let listener = remote::bind(args.address, args.api_port).await?;
    let listen = listener.local_addr()?;
    let tls = Arc::new(remote::RemoteTls::new(
        Arc::clone(agent.store()),
        host_id.to_string(),
        prepared,
        listen,
    ));
    agent.set_remote(Arc::clone(&tls));
    tokio::spawn(remote::serve(listener, Arc::clone(&tls), routers));
    let renewing = Arc::clone(agent);
    let address = args.address;
    tokio::spawn(remote::renew_loop(tls, move || {
        let agent = Arc::clone(&renewing);
        Box::pin(async move {
            let facts = agent.facts().await.ok()?;
            Some(remote::host_subject(agent.host_id().await, &facts, address))
        })
    }));
    tracing::info!(%listen, "serving the remote API");
    Ok(())
}

/// Pings systemd's watchdog only while the API answers on its own socket:
/// a wedged accept loop or runtime gets the agent restarted.
async fn watchdog(notifier: lqx_systemd::Notifier, socket: std::path::PathBuf, period: Duration) {
    let client = lqx_client::Client::unix(socket).with_timeout(period);
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        match client.agent().await {
            Ok(_) => notifier.watchdog(),
            Err(error) => tracing::warn!(%error, "self-check failed; not pinging the watchdog"),
        }
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop the agent with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = int.recv() => tracing::info!("SIGINT: stopping"),
    }
}
