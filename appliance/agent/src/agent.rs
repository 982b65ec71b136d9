//! The agent's in-memory state and the operations the API exposes.

use crate::auth::AuthService;
use crate::installer::Installer;
use crate::network::{NetworkService, WatchTiming};
use crate::ssh::SshService;
use lqx_api::{AgentInfo, AgentMode, HostInfo, Labels, LabelsPatch, PowerAction};
use lqx_core::host_state::HostState;
use lqx_core::labels::{self, LabelError};
use lqx_host::{HostProbe, ProbeError};
use lqx_network::NetworkBackend;
use lqx_store::{StateDir, StoreError};
use lqx_systemd::ServiceManager;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use time::OffsetDateTime;
use tokio::sync::Mutex;
use uuid::Uuid;

/// Failures of agent operations.
#[derive(Debug, Error)]
pub enum AgentError {
    /// The request asks for an invalid label change.
    #[error(transparent)]
    Label(#[from] LabelError),
    /// The host could not be read.
    #[error("cannot read the host's state")]
    Probe(#[source] ProbeError),
    /// State could not be persisted; the previous state is still in force.
    #[error("cannot persist the change; nothing was changed")]
    Store(#[source] StoreError),
    /// A blocking task died.
    #[error("internal task failed")]
    Task(#[source] tokio::task::JoinError),
    /// A value in the request is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with what the agent is or does now.
    #[error("{0}")]
    Conflict(String),
    /// The object the request names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The caller proved nothing that allows the request (a join token
    /// that is wrong, used or expired).
    #[error("{0}")]
    Refused(String),
    /// systemd did not do what was asked.
    #[error("systemd call failed")]
    Systemd(#[source] lqx_systemd::ManagerError),
    /// A network configuration is not valid; nothing was changed.
    #[error("invalid network configuration")]
    Network(#[source] lqx_core::network::ValidationErrors),
    /// Applying a network configuration failed; the previous one was
    /// restored.
    #[error("applying the network configuration failed; the previous one was restored")]
    NetworkApply(#[source] lqx_network::NetworkError),
    /// A password was wrong.
    #[error("{0}")]
    Unauthorized(String),
    /// Too many attempts.
    #[error("{0}")]
    TooMany(String),
    /// A system service or file the request needs is not available.
    #[error("{0}")]
    Unavailable(String),
    /// OVN chassis registration failed; nothing was persisted.
    #[error("OVN chassis registration failed")]
    Ovn(#[source] lqx_ovn::OvnError),
    /// A Ceph operation failed or was refused; nothing was persisted.
    #[error(transparent)]
    Ceph(lqx_ceph::CephError),
    /// The cluster store failed or refused; nothing was persisted.
    #[error(transparent)]
    Cluster(lqx_etcd::EtcdError),
    /// libvirt did not store or remove the Ceph key.
    #[error("libvirt")]
    Libvirt(#[source] lqx_libvirt::LibvirtError),
}

/// Saves `doc` without blocking the runtime (the write fsyncs twice).
/// Callers update their in-memory copy only after this succeeds, so a
/// failed write leaves the old state in force.
pub(crate) async fn persist<D>(store: &Arc<StateDir>, doc: &D) -> Result<(), AgentError>
where
    D: lqx_core::document::Document + Clone + Send + 'static,
{
    let store = Arc::clone(store);
    let doc = doc.clone();
    tokio::task::spawn_blocking(move || store.save(&doc))
        .await
        .map_err(AgentError::Task)?
        .map_err(AgentError::Store)
}

/// The backends an agent drives; fakes in unit tests.
pub struct Backends {
    /// Reads the host.
    pub probe: Arc<dyn HostProbe>,
    /// Starts units.
    pub manager: Arc<dyn ServiceManager>,
    /// Applies network configurations.
    pub network: Arc<dyn NetworkBackend>,
}

/// Settings of an agent beyond its backends.
#[derive(Clone, Debug, Default)]
pub struct AgentOptions {
    /// /etc/shadow, on agents allowed to enable SSH (the appliance).
    pub shadow: Option<std::path::PathBuf>,
    /// Timing of the watch over unconfirmed network applies.
    pub watch: WatchTiming,
    /// OVN chassis registration.
    pub ovn: OvnOptions,
    /// The Ceph client.
    pub ceph: CephOptions,
    /// The host's etcd member.
    pub cluster: crate::cluster::ClusterOptions,
    /// VMs.
    pub vms: crate::vms::VmOptions,
    /// The virtual networks' northbound writer.
    pub vnet: crate::vnet::VnetOptions,
}

/// How the Ceph client connects and where its key goes for QEMU.
#[derive(Clone)]
pub struct CephOptions {
    /// Connects to clusters.
    pub backend: Arc<dyn lqx_ceph::CephBackend>,
    /// How long to wait for a monitor.
    pub timeout: Duration,
    /// The libvirt daemon that gets the key as a secret, if any.
    pub libvirt_uri: Option<String>,
    /// Start libvirtd.service before using it (the appliance).
    pub manage_units: bool,
}

impl Default for CephOptions {
    fn default() -> Self {
        Self {
            backend: Arc::new(lqx_ceph::RadosBackend),
            timeout: Duration::from_secs(10),
            libvirt_uri: None,
            manage_units: false,
        }
    }
}

impl std::fmt::Debug for CephOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CephOptions")
            .field("timeout", &self.timeout)
            .field("libvirt_uri", &self.libvirt_uri)
            .field("manage_units", &self.manage_units)
            .finish_non_exhaustive()
    }
}

/// Where the OVN chassis settings go and how long registration waits.
#[derive(Clone, Debug)]
pub struct OvnOptions {
    /// The local Open_vSwitch database.
    pub ovs_db: lqx_ovsdb::Remote,
    /// How long to wait for ovn-controller's southbound rows.
    pub wait: Duration,
    /// Start openvswitch-switch and ovn-controller before registering
    /// (the appliance).
    pub manage_units: bool,
    /// Accept `unix:` southbound remotes (tests on one machine).
    pub allow_unix: bool,
}

/// The system's Open_vSwitch database socket.
pub const DEFAULT_OVS_DB: &str = "unix:/var/run/openvswitch/db.sock";

impl Default for OvnOptions {
    fn default() -> Self {
        Self {
            ovs_db: lqx_ovsdb::Remote::Unix(DEFAULT_OVS_DB.trim_start_matches("unix:").into()),
            wait: Duration::from_secs(30),
            manage_units: false,
            allow_unix: false,
        }
    }
}

/// One host agent.
pub struct Agent {
    info: AgentInfo,
    probe: Arc<dyn HostProbe>,
    manager: Arc<dyn ServiceManager>,
    installer: Installer,
    network: Arc<NetworkService>,
    auth: Arc<AuthService>,
    ssh: Arc<SshService>,
    ovn: Arc<crate::ovn::OvnService>,
    ceph: Arc<crate::ceph::CephService>,
    cluster: Arc<crate::cluster::ClusterService>,
    vms: Arc<crate::vms::VmService>,
    vnet: Arc<crate::vnet::VnetService>,
    store: Arc<StateDir>,
    remote: std::sync::OnceLock<Arc<crate::remote::RemoteTls>>,
    // Held across the whole read-modify-persist sequence so that writes
    // are serialised and readers never see a state that is not on disk.
    host: Mutex<HostState>,
}

impl Agent {
    /// Loads the host document from `store`, creating the host's identity
    /// on first start.
    pub fn open(
        store: StateDir,
        info: AgentInfo,
        backends: Backends,
        installer: Installer,
        options: AgentOptions,
    ) -> Result<Self, AgentError> {
        let host = match store.load::<HostState>().map_err(AgentError::Store)? {
            Some(host) => host,
            None => {
                let host = HostState::new(Uuid::new_v4(), OffsetDateTime::now_utc());
                store.save(&host).map_err(AgentError::Store)?;
                tracing::info!(host_id = %host.host_id, "created host identity");
                host
            }
        };
        let store = Arc::new(store);
        let network = Arc::new(NetworkService::open(
            Arc::clone(&store),
            backends.network,
            Arc::clone(&backends.probe),
            options.watch,
        )?);
        let auth = Arc::new(AuthService::open(Arc::clone(&store))?);
        let ssh = Arc::new(SshService::open(
            Arc::clone(&store),
            Arc::clone(&backends.manager),
            Arc::clone(&auth),
            options.shadow,
        )?);
        let ovn = Arc::new(crate::ovn::OvnService::open(
            Arc::clone(&store),
            lqx_ovn::OvsChassis::new(options.ovn.ovs_db.clone(), Duration::from_secs(5)),
            options
                .ovn
                .manage_units
                .then(|| Arc::clone(&backends.manager)),
            options.ovn.wait,
            options.ovn.allow_unix,
        )?);
        let ceph = Arc::new(crate::ceph::CephService::open(
            Arc::clone(&store),
            Arc::clone(&options.ceph.backend),
            options
                .ceph
                .libvirt_uri
                .clone()
                .map(|uri| crate::ceph::LibvirtSecrets {
                    uri,
                    manager: options
                        .ceph
                        .manage_units
                        .then(|| Arc::clone(&backends.manager)),
                }),
            options.ceph.timeout,
        )?);
        let cluster = Arc::new(crate::cluster::ClusterService::open(
            Arc::clone(&store),
            host.host_id,
            options.cluster.clone(),
        )?);
        let vnet = Arc::new(crate::vnet::VnetService::new(
            host.host_id,
            Arc::clone(&cluster),
            options.vnet.clone(),
        ));
        let vms = Arc::new(crate::vms::VmService::new(
            host.host_id,
            store.path(),
            Arc::clone(&backends.probe),
            crate::vms::Peers {
                cluster: Arc::clone(&cluster),
                ceph: Arc::clone(&ceph),
                vnet: Arc::clone(&vnet),
                ovn: Arc::clone(&ovn),
            },
            Arc::clone(&backends.manager),
            &options.vms,
        ));
        Ok(Self {
            info,
            vnet,
            ovn,
            ceph,
            cluster,
            vms,
            probe: backends.probe,
            manager: backends.manager,
            installer,
            network,
            auth,
            ssh,
            store,
            remote: std::sync::OnceLock::new(),
            host: Mutex::new(host),
        })
    }

    /// Facts about this agent process, with its remote API once serving.
    pub fn info(&self) -> AgentInfo {
        AgentInfo {
            remote_api: self.remote.get().map(|tls| lqx_api::RemoteApiInfo {
                listen: tls.listen().to_string(),
                authority_fingerprint: tls.fingerprint(),
                admin_bundle: tls.admin_dir().display().to_string(),
            }),
            ..self.info.clone()
        }
    }

    /// Records that the remote API is being served with `tls`, which the
    /// cluster service replaces when the host joins or leaves.
    pub fn set_remote(&self, tls: Arc<crate::remote::RemoteTls>) {
        self.cluster.set_remote(Arc::clone(&tls));
        self.ovn.set_remote(Arc::clone(&tls));
        let _ = self.remote.set(tls);
    }

    /// This host as a client of other hosts' APIs (forwarded requests).
    pub fn remote_client_tls(&self) -> Result<Arc<rustls::ClientConfig>, AgentError> {
        self.remote.get().map(|tls| tls.client()).ok_or_else(|| {
            AgentError::Unavailable("the remote API is not served on this host".into())
        })
    }

    /// Where a request for host `name` (id or hostname) goes: here, or
    /// to another member of the cluster.
    pub async fn locate(&self, name: &str) -> Result<crate::cluster::Located, AgentError> {
        use crate::cluster::Located;
        if name == self.host_id().await.to_string() {
            return Ok(Located::Here);
        }
        if let Some(located) = self.cluster.locate(name).await? {
            return Ok(located);
        }
        if self.facts().await?.hostname == name {
            return Ok(Located::Here);
        }
        Err(AgentError::NotFound(format!(
            "{name} is not this host, and this host is in no cluster"
        )))
    }

    /// The state directory.
    pub fn store(&self) -> &Arc<StateDir> {
        &self.store
    }

    /// The host's facts as probed now.
    pub async fn facts(&self) -> Result<lqx_api::HostFacts, AgentError> {
        self.probe.facts().await.map_err(AgentError::Probe)
    }

    /// Picks up work a previous run left: an unconfirmed network apply,
    /// an open SSH window, the OVN and Ceph memberships. The cluster
    /// membership resumes once the remote API is served (it may have to
    /// replace the API's authority).
    pub async fn resume(&self) {
        self.network.resume().await;
        self.ssh.resume().await;
        let hostname = match self.probe.facts().await {
            Ok(facts) => facts.hostname,
            Err(_) => String::new(),
        };
        tokio::spawn(Arc::clone(&self.ovn).resume(hostname));
        tokio::spawn(Arc::clone(&self.ceph).resume());
    }

    /// The virtual network service.
    pub fn vnet(&self) -> &Arc<crate::vnet::VnetService> {
        &self.vnet
    }

    /// The cluster service.
    pub fn cluster(&self) -> &Arc<crate::cluster::ClusterService> {
        &self.cluster
    }

    /// The VMs of this host.
    pub fn vms(&self) -> &Arc<crate::vms::VmService> {
        &self.vms
    }

    /// The Ceph client service.
    pub fn ceph(&self) -> &Arc<crate::ceph::CephService> {
        &self.ceph
    }

    /// The OVN chassis registration.
    pub fn ovn(&self) -> &Arc<crate::ovn::OvnService> {
        &self.ovn
    }

    /// The network configuration.
    pub fn network(&self) -> &Arc<NetworkService> {
        &self.network
    }

    /// The admin password.
    pub fn auth(&self) -> &AuthService {
        &self.auth
    }

    /// SSH access.
    pub fn ssh(&self) -> &Arc<SshService> {
        &self.ssh
    }

    /// Preflight checks of the management link as the host is now.
    pub async fn diagnostics(&self) -> Result<lqx_api::Diagnostics, AgentError> {
        let facts = self.probe.facts().await.map_err(AgentError::Probe)?;
        let management = match self.network.management().await {
            Some(m) => Some(m),
            // The image's default: the link of the IPv4 default route.
            None => facts
                .default_routes
                .iter()
                .find_map(|r| r.interface.clone()),
        };
        let checks = lqx_network::checks::run(&facts, management.as_deref()).await;
        Ok(lqx_api::Diagnostics { management, checks })
    }

    /// The installer (live system only).
    pub fn installer(&self) -> &Installer {
        &self.installer
    }

    /// Reboots or powers off the host. Only the appliance's agent may: a
    /// standalone agent must never take down the machine it visits.
    pub async fn power(&self, action: PowerAction) -> Result<(), AgentError> {
        if self.info.mode != AgentMode::Appliance {
            return Err(AgentError::Conflict(
                "power actions are only available in appliance mode".into(),
            ));
        }
        let unit = match action {
            PowerAction::Reboot => "reboot.target",
            PowerAction::Poweroff => "poweroff.target",
        };
        tracing::warn!(?action, "power action requested");
        self.manager
            .start_unit(unit)
            .await
            .map_err(AgentError::Systemd)
    }

    /// The host's identity.
    pub async fn host_id(&self) -> Uuid {
        self.host.lock().await.host_id
    }

    /// Everything `GET /v1/host` answers.
    pub async fn host_info(&self) -> Result<HostInfo, AgentError> {
        let facts = self.facts().await?;
        let host = self.host.lock().await.clone();
        Ok(HostInfo {
            host_id: host.host_id,
            labels: host.labels,
            agent: self.info(),
            facts,
        })
    }

    /// The host's labels.
    pub async fn labels(&self) -> Labels {
        Labels {
            labels: self.host.lock().await.labels.clone(),
        }
    }

    /// Applies a label patch: validated, persisted atomically, then made
    /// visible; on any failure the previous labels stay in force.
    pub async fn patch_labels(&self, patch: &LabelsPatch) -> Result<Labels, AgentError> {
        let mut host = self.host.lock().await;
        let next = host.with_labels(labels::apply_patch(&host.labels, patch)?);
        persist(&self.store, &next).await?;
        *host = next;
        Ok(Labels {
            labels: host.labels.clone(),
        })
    }
}
