//! This host as a client of a Ceph cluster: joining (checked against the
//! cluster before anything is persisted), status, leaving, reconnecting at
//! start, and the connection volume operations go through.

use crate::agent::{AgentError, persist};
use lqx_api::{CephConfig, CephJoinRequest, CephStatus};
use lqx_ceph::{CephBackend, CephCluster, CephError, ConnectParams};
use lqx_core::ceph::{MonAddr, ValidJoin};
use lqx_core::ceph_state::CephState;
use lqx_core::document::Document as _;
use lqx_libvirt::{Libvirt, SecretStore as _};
use lqx_store::StateDir;
use lqx_systemd::ServiceManager;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Mutex;
use uuid::Uuid;

/// Between attempts to reconnect at start.
const RESUME_RETRY: Duration = Duration::from_secs(10);

/// Where the key goes for QEMU: a libvirt daemon, started first in the
/// appliance.
#[derive(Clone)]
pub struct LibvirtSecrets {
    /// The daemon's URI.
    pub uri: String,
    /// Starts libvirtd.service before connecting (the appliance).
    pub manager: Option<Arc<dyn ServiceManager>>,
}

/// The connection as volume operations see it.
enum Link {
    /// Not joined.
    None,
    /// Joined; connecting failed for this reason (retried at start).
    Down(String),
    /// Connected.
    Up(Arc<dyn CephCluster>),
}

/// The Ceph client service.
pub struct CephService {
    store: Arc<StateDir>,
    backend: Arc<dyn CephBackend>,
    libvirt: Option<LibvirtSecrets>,
    timeout: Duration,
    // Held across connect-check-persist, so joins and leaves do not
    // interleave.
    state: Mutex<CephState>,
    link: RwLock<Link>,
}

impl CephService {
    /// Loads `ceph.json`. Connecting to a joined cluster happens in
    /// [`CephService::resume`].
    pub fn open(
        store: Arc<StateDir>,
        backend: Arc<dyn CephBackend>,
        libvirt: Option<LibvirtSecrets>,
        timeout: Duration,
    ) -> Result<Self, AgentError> {
        let state = store
            .load::<CephState>()
            .map_err(AgentError::Store)?
            .unwrap_or_default();
        let link = match &state.config {
            Some(_) => Link::Down("connecting".into()),
            None => Link::None,
        };
        Ok(Self {
            store,
            backend,
            libvirt,
            timeout,
            state: Mutex::new(state),
            link: RwLock::new(link),
        })
    }

    fn scratch(&self) -> Result<PathBuf, AgentError> {
        let dir = self.store.path().join("ceph-connect");
        lqx_store::atomic::private_dir(&dir).map_err(|e| {
            AgentError::Unavailable(format!("cannot create {}: {e}", dir.display()))
        })?;
        Ok(dir)
    }

    async fn connect(
        &self,
        mons: Vec<MonAddr>,
        name: String,
        key: String,
    ) -> Result<Arc<dyn CephCluster>, AgentError> {
        let params = ConnectParams {
            mons,
            name,
            key,
            timeout: self.timeout,
            scratch: self.scratch()?,
        };
        let backend = Arc::clone(&self.backend);
        tokio::task::spawn_blocking(move || backend.connect(&params))
            .await
            .map_err(AgentError::Task)?
            .map_err(AgentError::Ceph)
    }

    /// Joins the cluster: connects and authenticates, reads fsid, health
    /// and monitor map, checks the fsid, stores the key in libvirt (when
    /// configured), and only then persists.
    pub async fn join(&self, request: &CephJoinRequest) -> Result<CephStatus, AgentError> {
        let valid = lqx_core::ceph::validate_join(request).map_err(AgentError::Invalid)?;
        let mut state = self.state.lock().await;
        let cluster = self
            .connect(valid.mons.clone(), valid.name.clone(), valid.key.clone())
            .await?;
        let info = blocking({
            let cluster = Arc::clone(&cluster);
            move || cluster.info()
        })
        .await?;
        if let Some(expected) = valid.fsid
            && expected != info.fsid
        {
            return Err(AgentError::Ceph(CephError::WrongCluster {
                expected,
                found: info.fsid,
            }));
        }
        if let Some(current) = &state.config
            && current.fsid != info.fsid
        {
            return Err(AgentError::Conflict(format!(
                "this host is a client of cluster {}; leave it before joining {}",
                current.fsid, info.fsid
            )));
        }
        let secret = match &self.libvirt {
            None => None,
            Some(libvirt) => {
                let uuid = state
                    .config
                    .as_ref()
                    .and_then(|c| c.libvirt_secret)
                    .unwrap_or_else(Uuid::new_v4);
                store_secret(libvirt, uuid, &valid, info.fsid).await?;
                Some(uuid)
            }
        };
        let next = CephState {
            schema_version: CephState::SCHEMA_VERSION,
            config: Some(CephConfig {
                fsid: info.fsid,
                mons: valid.mon_strings(),
                name: valid.name.clone(),
                libvirt_secret: secret,
                joined_at: OffsetDateTime::now_utc(),
            }),
            key: Some(valid.key.clone()),
        };
        persist(&self.store, &next).await?;
        *state = next;
        *self.link.write().unwrap_or_else(|e| e.into_inner()) = Link::Up(cluster);
        tracing::info!(fsid = %info.fsid, name = valid.name, "joined the Ceph cluster");
        Ok(CephStatus {
            config: state.config.clone(),
            cluster: Some(info),
            problem: None,
        })
    }

    /// The membership as persisted, without asking the cluster.
    pub async fn config(&self) -> Option<CephConfig> {
        self.state.lock().await.config.clone()
    }

    /// The membership and what the cluster says now.
    pub async fn status(&self) -> CephStatus {
        let config = self.state.lock().await.config.clone();
        let (cluster, problem) = match self.cluster() {
            Err(AgentError::Conflict(_)) => (None, None),
            Err(e) => (None, Some(crate::api::error::chain(&e))),
            Ok(c) => match blocking(move || c.info()).await {
                Ok(info) => (Some(info), None),
                Err(e) => (None, Some(crate::api::error::chain(&e))),
            },
        };
        CephStatus {
            config,
            cluster,
            problem,
        }
    }

    /// Leaves the cluster: removes the libvirt secret, forgets the key and
    /// the membership, and closes the connection.
    pub async fn leave(&self) -> Result<CephStatus, AgentError> {
        let mut state = self.state.lock().await;
        let Some(config) = state.config.clone() else {
            return Err(AgentError::Conflict(
                "this host has not joined a Ceph cluster".into(),
            ));
        };
        if let (Some(libvirt), Some(uuid)) = (&self.libvirt, config.libvirt_secret) {
            remove_secret(libvirt, uuid).await?;
        }
        let next = CephState {
            schema_version: CephState::SCHEMA_VERSION,
            config: None,
            key: None,
        };
        persist(&self.store, &next).await?;
        *state = next;
        *self.link.write().unwrap_or_else(|e| e.into_inner()) = Link::None;
        tracing::info!(fsid = %config.fsid, "left the Ceph cluster");
        Ok(CephStatus {
            config: None,
            cluster: None,
            problem: None,
        })
    }

    /// The connection, for volume operations.
    pub fn cluster(&self) -> Result<Arc<dyn CephCluster>, AgentError> {
        match &*self.link.read().unwrap_or_else(|e| e.into_inner()) {
            Link::Up(c) => Ok(Arc::clone(c)),
            Link::None => Err(AgentError::Conflict(
                "this host has not joined a Ceph cluster (lqx ceph join)".into(),
            )),
            Link::Down(why) => Err(AgentError::Unavailable(format!(
                "not connected to the Ceph cluster: {why}"
            ))),
        }
    }

    /// Runs a blocking operation on the connection.
    pub async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn CephCluster) -> Result<T, CephError> + Send + 'static,
    ) -> Result<T, AgentError> {
        let cluster = self.cluster()?;
        blocking(move || f(&*cluster)).await
    }

    /// Connects to the joined cluster, retrying until it answers.
    pub async fn resume(self: Arc<Self>) {
        let (config, key) = {
            let state = self.state.lock().await;
            match (&state.config, &state.key) {
                (Some(c), Some(k)) => (c.clone(), k.clone()),
                _ => return,
            }
        };
        let mons: Vec<MonAddr> = config
            .mons
            .iter()
            .filter_map(|m| MonAddr::parse(m).ok())
            .collect();
        loop {
            let attempt = self
                .connect(mons.clone(), config.name.clone(), key.clone())
                .await;
            // A leave or another join while connecting wins.
            {
                let state = self.state.lock().await;
                if state.config.as_ref().map(|c| c.joined_at) != Some(config.joined_at) {
                    return;
                }
                let mut link = self.link.write().unwrap_or_else(|e| e.into_inner());
                match attempt {
                    Ok(cluster) => {
                        *link = Link::Up(cluster);
                        tracing::info!(fsid = %config.fsid, "connected to the Ceph cluster");
                        return;
                    }
                    Err(error) => {
                        let why = crate::api::error::chain(&error);
                        tracing::warn!(error = why, "cannot connect to the Ceph cluster; retrying");
                        *link = Link::Down(why);
                    }
                }
            }
            tokio::time::sleep(RESUME_RETRY).await;
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CephError> + Send + 'static,
) -> Result<T, AgentError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(AgentError::Task)?
        .map_err(AgentError::Ceph)
}

async fn start_libvirtd(libvirt: &LibvirtSecrets) -> Result<(), AgentError> {
    if let Some(manager) = &libvirt.manager {
        manager
            .start_unit("libvirtd.service")
            .await
            .map_err(AgentError::Systemd)?;
    }
    Ok(())
}

/// The libvirt usage name of the key: one per cluster and client.
fn usage_name(fsid: Uuid, name: &str) -> String {
    format!("ceph {fsid} {name}")
}

async fn store_secret(
    libvirt: &LibvirtSecrets,
    uuid: Uuid,
    valid: &ValidJoin,
    fsid: Uuid,
) -> Result<(), AgentError> {
    start_libvirtd(libvirt).await?;
    let key = valid.secret.clone();
    let (uri, usage) = (libvirt.uri.clone(), usage_name(fsid, &valid.name));
    tokio::task::spawn_blocking(move || {
        Libvirt::open(&uri).and_then(|l| l.set_ceph_secret(uuid, &usage, &key))
    })
    .await
    .map_err(AgentError::Task)?
    .map_err(AgentError::Libvirt)
}

async fn remove_secret(libvirt: &LibvirtSecrets, uuid: Uuid) -> Result<(), AgentError> {
    start_libvirtd(libvirt).await?;
    let uri = libvirt.uri.clone();
    tokio::task::spawn_blocking(move || Libvirt::open(&uri).and_then(|l| l.remove_secret(uuid)))
        .await
        .map_err(AgentError::Task)?
        .map_err(AgentError::Libvirt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lqx_ceph::fake::FakeCeph;

    const KEY: &str = "AQBvCEVnAAAAABAAnmzkLkfJEEXKZQqjuAQ0tQ==";
    const OTHER_KEY: &str = "AQBvCEVnAAAAABAAAAAAAAAAAAAAAAAAAAAAAA==";

    fn service(dir: &std::path::Path, fake: Arc<FakeCeph>) -> CephService {
        let store = Arc::new(StateDir::open(dir).unwrap());
        CephService::open(store, fake, None, Duration::from_secs(1)).unwrap()
    }

    fn request(key: &str, fsid: Option<Uuid>) -> CephJoinRequest {
        CephJoinRequest {
            mons: vec!["192.0.2.1".into()],
            name: "client.lqx".into(),
            key: key.into(),
            fsid,
        }
    }

    fn persisted(dir: &std::path::Path) -> Option<CephState> {
        let text = std::fs::read_to_string(dir.join("ceph.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    #[tokio::test]
    async fn a_refused_join_keeps_nothing_and_a_good_one_persists() {
        let dir = tempfile::tempdir().unwrap();
        let fake = Arc::new(FakeCeph::new("client.lqx", KEY, &["vms"]));
        let svc = service(dir.path(), Arc::clone(&fake));

        let err = svc.join(&request(OTHER_KEY, None)).await.unwrap_err();
        assert!(
            matches!(err, AgentError::Ceph(CephError::AuthFailed { .. })),
            "{err}"
        );
        let err = svc
            .join(&request(KEY, Some(Uuid::new_v4())))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AgentError::Ceph(CephError::WrongCluster { .. })),
            "{err}"
        );
        fake.set_reachable(false);
        let err = svc.join(&request(KEY, None)).await.unwrap_err();
        assert!(
            matches!(err, AgentError::Ceph(CephError::Unreachable { .. })),
            "{err}"
        );
        let err = svc.join(&request("nope", None)).await.unwrap_err();
        assert!(matches!(err, AgentError::Invalid(_)), "{err}");
        assert!(persisted(dir.path()).is_none());
        assert!(matches!(svc.cluster(), Err(AgentError::Conflict(_))));

        fake.set_reachable(true);
        let status = svc.join(&request(KEY, Some(fake.fsid()))).await.unwrap();
        assert_eq!(status.config.as_ref().unwrap().fsid, fake.fsid());
        let state = persisted(dir.path()).unwrap();
        assert_eq!(state.key.as_deref(), Some(KEY));
        assert_eq!(state.config.as_ref().unwrap().mons, ["192.0.2.1"]);
        assert!(!format!("{state:?}").contains(KEY));
        svc.with(|c| c.create("vms", "disk", 1 << 20))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn another_cluster_needs_a_leave_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = Arc::new(FakeCeph::new("client.lqx", KEY, &["vms"]));
        let svc = service(dir.path(), Arc::clone(&first));
        svc.join(&request(KEY, None)).await.unwrap();
        let before = persisted(dir.path()).unwrap();

        // The same store, now pointed at another cluster.
        drop(svc);
        let second = Arc::new(FakeCeph::new("client.lqx", KEY, &["vms"]));
        let svc = service(dir.path(), Arc::clone(&second));
        let err = svc.join(&request(KEY, None)).await.unwrap_err();
        assert!(matches!(err, AgentError::Conflict(_)), "{err}");
        assert_eq!(persisted(dir.path()).unwrap(), before);

        svc.leave().await.unwrap();
        assert_eq!(persisted(dir.path()).unwrap().config, None);
        assert!(matches!(svc.leave().await, Err(AgentError::Conflict(_))));
        svc.join(&request(KEY, None)).await.unwrap();
        assert_eq!(
            persisted(dir.path()).unwrap().config.unwrap().fsid,
            second.fsid()
        );
    }

    #[tokio::test]
    async fn a_joined_host_reconnects_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let fake = Arc::new(FakeCeph::new("client.lqx", KEY, &["vms"]));
        let svc = service(dir.path(), Arc::clone(&fake));
        svc.join(&request(KEY, None)).await.unwrap();
        drop(svc);

        let svc = Arc::new(service(dir.path(), Arc::clone(&fake)));
        // Before resuming: joined, but not connected yet.
        assert!(matches!(svc.cluster(), Err(AgentError::Unavailable(_))));
        Arc::clone(&svc).resume().await;
        svc.with(|c| c.list("vms")).await.unwrap();
        let status = svc.status().await;
        assert_eq!(status.cluster.unwrap().fsid, fake.fsid());
    }
}
