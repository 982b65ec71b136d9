//! Virtual machines on this host, as the cluster wants them: the records
//! in the cluster store are the desired state; this host defines, starts
//! and stops the domains of the VMs placed on it, reports their state,
//! and adopts them after a restart without touching running ones.
//!
//! - `hypervisor`: the libvirt daemon behind a cached connection.
//! - `build`: a VM record and this host's resources into a domain.
//! - `lifecycle`: the operations of the API on this host's VMs.
//! - `reconcile`: the loop that converges and reports.
//! - `console`: the VNC and serial consoles as WebSocket streams.

pub mod build;
pub mod console;
pub mod hypervisor;
pub mod lifecycle;
pub mod reconcile;

use crate::agent::AgentError;
use crate::ceph::CephService;
use crate::cluster::ClusterService;
use hypervisor::Hypervisor;
use lqx_core::vm::{self, VmsView};
use lqx_etcd::{ClusterStore as _, EtcdStore};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// Writes `value` as JSON under `key` (no lease).
async fn put_json<T: serde::Serialize>(
    store: &EtcdStore,
    key: &str,
    value: &T,
) -> Result<(), AgentError> {
    store
        .put(key, serde_json::to_vec(value).unwrap_or_default(), None)
        .await
        .map_err(AgentError::Cluster)
}

/// The group Debian's libvirt runs QEMU as (qemu.conf's default).
const QEMU_GROUP: &str = "libvirt-qemu";

/// How QEMU runs guests on this host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccelChoice {
    /// KVM when `/dev/kvm` opens, else TCG.
    Auto,
    /// KVM.
    Kvm,
    /// TCG (emulation), where KVM does not work.
    Tcg,
}

/// How the VM service runs.
#[derive(Clone, Debug)]
pub struct VmOptions {
    /// The libvirt daemon VMs run on; none: this host runs no VMs.
    pub libvirt_uri: Option<String>,
    /// Start libvirtd.service before using it (the appliance).
    pub manage_units: bool,
    /// KVM or TCG.
    pub accel: AccelChoice,
    /// Between two reconciliations.
    pub reconcile_every: Duration,
    /// Where VMs' files (seeds, UEFI variables, serial sockets) and pools
    /// go by default; `STATE_DIR/vm-data` when none. Not under the state
    /// directory in the appliance: that is root's alone (0700), and QEMU
    /// runs as libvirt's own user there.
    pub data_dir: Option<PathBuf>,
}

impl Default for VmOptions {
    fn default() -> Self {
        Self {
            libvirt_uri: None,
            manage_units: false,
            accel: AccelChoice::Auto,
            reconcile_every: Duration::from_secs(5),
            data_dir: None,
        }
    }
}

/// The services VMs use: the cluster store for records, Ceph for RBD
/// disks, the virtual networks for NICs' ports.
pub struct Peers {
    /// The cluster.
    pub cluster: Arc<ClusterService>,
    /// The Ceph client.
    pub ceph: Arc<CephService>,
    /// The virtual networks.
    pub vnet: Arc<crate::vnet::VnetService>,
    /// This host as an OVN chassis.
    pub ovn: Arc<crate::ovn::OvnService>,
}

/// The VM service of this host.
pub struct VmService {
    host_id: Uuid,
    probe: Arc<dyn lqx_host::HostProbe>,
    cluster: Arc<ClusterService>,
    ceph: Arc<CephService>,
    vnet: Arc<crate::vnet::VnetService>,
    ovn: Arc<crate::ovn::OvnService>,
    hypervisor: Option<Hypervisor>,
    accel: lqx_libvirt::domain::Accel,
    /// `DATA/vms`: seeds, UEFI variables and serial sockets.
    dir: PathBuf,
    /// `DATA/pools`: where pools go unless told otherwise.
    pools_dir: PathBuf,
    reconcile_every: Duration,
    // One operation at a time per VM: an API call and the reconciler must
    // not start and stop the same domain at once.
    locks: Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>,
    // What each VM was last seen doing and since when, for its status.
    seen: Mutex<HashMap<Uuid, (lqx_api::VmState, time::OffsetDateTime)>>,
}

impl VmService {
    /// The service for a host whose state is in `state_dir`.
    pub fn new(
        host_id: Uuid,
        state_dir: &std::path::Path,
        probe: Arc<dyn lqx_host::HostProbe>,
        peers: Peers,
        manager: Arc<dyn lqx_systemd::ServiceManager>,
        options: &VmOptions,
    ) -> Self {
        let Peers {
            cluster,
            ceph,
            vnet,
            ovn,
        } = peers;
        let data_dir = options
            .data_dir
            .clone()
            .unwrap_or_else(|| state_dir.join("vm-data"));
        let accel = match options.accel {
            AccelChoice::Kvm => lqx_libvirt::domain::Accel::Kvm,
            AccelChoice::Tcg => lqx_libvirt::domain::Accel::Tcg,
            AccelChoice::Auto => {
                let kvm = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open("/dev/kvm")
                    .is_ok();
                if kvm {
                    lqx_libvirt::domain::Accel::Kvm
                } else {
                    lqx_libvirt::domain::Accel::Tcg
                }
            }
        };
        Self {
            host_id,
            probe,
            cluster,
            ceph,
            vnet,
            ovn,
            hypervisor: options
                .libvirt_uri
                .clone()
                .map(|uri| Hypervisor::new(uri, options.manage_units.then_some(manager))),
            accel,
            dir: data_dir.join("vms"),
            pools_dir: data_dir.join("pools"),
            reconcile_every: options.reconcile_every,
            locks: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// This host's id.
    pub fn host_id(&self) -> Uuid {
        self.host_id
    }

    /// The libvirt daemon, or why this host runs no VMs.
    pub fn hypervisor(&self) -> Result<&Hypervisor, AgentError> {
        self.hypervisor.as_ref().ok_or_else(|| {
            AgentError::Unavailable(
                "this host runs no VMs: lqxd has no libvirt daemon (--libvirt-uri)".into(),
            )
        })
    }

    /// Where a pool named `name` goes unless told otherwise.
    pub fn default_pool_path(&self, name: &str) -> PathBuf {
        self.pools_dir.join(name)
    }

    /// The directory of a VM's files on this host.
    fn vm_dir(&self, id: Uuid) -> PathBuf {
        self.dir.join(id.to_string())
    }

    /// Creates a VM's directory: root's, and writable by libvirt's QEMU
    /// group where there is one (QEMU binds the serial socket there);
    /// the directories above are only traversable.
    fn make_vm_dir(&self, id: Uuid) -> Result<PathBuf, AgentError> {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = self.vm_dir(id);
        let failed = |e: std::io::Error| {
            AgentError::Unavailable(format!("cannot create {}: {e}", dir.display()))
        };
        for parent in [self.dir.parent(), Some(self.dir.as_path())]
            .into_iter()
            .flatten()
        {
            std::fs::create_dir_all(parent).map_err(failed)?;
            std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o711))
                .map_err(failed)?;
        }
        lqx_store::atomic::private_dir(&dir).map_err(failed)?;
        if let Ok(Some(group)) = nix::unistd::Group::from_name(QEMU_GROUP) {
            nix::unistd::chown(&dir, None, Some(group.gid))
                .map_err(|e| failed(std::io::Error::from(e)))?;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770))
                .map_err(failed)?;
        }
        Ok(dir)
    }

    /// The lock of one VM's operations.
    fn lock_of(&self, id: Uuid) -> Arc<tokio::sync::Mutex<()>> {
        Arc::clone(
            self.locks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(id)
                .or_default(),
        )
    }

    /// The cluster store: VMs need a cluster.
    pub async fn store(&self) -> Result<EtcdStore, AgentError> {
        self.cluster.store().await.map_err(|e| match e {
            AgentError::Conflict(_) => AgentError::Conflict(
                "VMs live in the cluster store: create a cluster (lqx cluster init) or join one \
                 first"
                    .into(),
            ),
            other => other,
        })
    }

    /// Every VM record, status and foreign domain, at one revision.
    pub async fn view(&self) -> Result<VmsView, AgentError> {
        let store = self.store().await?;
        let entries = store.list(vm::VMS).await.map_err(AgentError::Cluster)?;
        Ok(VmsView::from_entries(
            entries.iter().map(|e| (e.key.as_str(), e.value.as_slice())),
        ))
    }

    /// Starts the reconciler; it runs until the agent stops.
    pub fn spawn(self: &Arc<Self>) {
        if self.hypervisor.is_none() {
            return;
        }
        tokio::spawn(reconcile::run(Arc::clone(self)));
    }
}
