//! The cluster's virtual networks: one document in the cluster store,
//! changed by compare-and-swap (so two hosts' API calls never lose each
//! other's change), and written to OVN's northbound database by whichever
//! host holds the writer lease.
//!
//! - `writer`: the lease and the loop that converges the northbound
//!   database and reports how far it got.

mod writer;

use crate::agent::AgentError;
use crate::cluster::ClusterService;
use lqx_api::VnetSync;
use lqx_core::vnet::{self, VnetError, VnetState};
use lqx_etcd::{ClusterStore as _, EtcdStore};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How many times a change is retried when another host changed the
/// document between the read and the write.
const CHANGE_ATTEMPTS: usize = 20;

impl From<VnetError> for AgentError {
    fn from(e: VnetError) -> Self {
        match e {
            VnetError::Invalid(m) => AgentError::Invalid(m),
            VnetError::NotFound(m) => AgentError::NotFound(m),
            VnetError::Conflict(m) => AgentError::Conflict(m),
        }
    }
}

/// Timing of the northbound writer.
#[derive(Clone, Debug)]
pub struct VnetOptions {
    /// Between two looks at the document.
    pub poll: Duration,
    /// The writer lease's time to live.
    pub lease: Duration,
    /// How long one northbound transaction may take.
    pub timeout: Duration,
}

impl Default for VnetOptions {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(10),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The virtual network service of this host.
pub struct VnetService {
    host_id: Uuid,
    cluster: Arc<ClusterService>,
    options: VnetOptions,
    kick: tokio::sync::Notify,
}

impl VnetService {
    /// The service of host `host_id`.
    pub fn new(host_id: Uuid, cluster: Arc<ClusterService>, options: VnetOptions) -> Self {
        Self {
            host_id,
            cluster,
            options,
            kick: tokio::sync::Notify::new(),
        }
    }

    async fn store(&self) -> Result<EtcdStore, AgentError> {
        self.cluster.store().await
    }

    async fn read_raw(store: &EtcdStore) -> Result<(VnetState, Option<Vec<u8>>), AgentError> {
        let raw = store
            .get(vnet::STATE_KEY)
            .await
            .map_err(AgentError::Cluster)?;
        let state = VnetState::from_stored(raw.as_deref()).map_err(|e| {
            AgentError::Unavailable(format!("the stored network document is unreadable: {e}"))
        })?;
        Ok((state, raw))
    }

    /// The cluster's networks as stored now.
    pub async fn state(&self) -> Result<VnetState, AgentError> {
        Ok(Self::read_raw(&self.store().await?).await?.0)
    }

    /// Applies `change` to the document and stores the result, unless the
    /// change is refused (then nothing is written). Retried from a fresh
    /// read when another host wrote meanwhile.
    pub async fn change<T>(
        &self,
        change: impl Fn(&mut VnetState) -> Result<T, VnetError>,
    ) -> Result<T, AgentError> {
        let store = self.store().await?;
        for _ in 0..CHANGE_ATTEMPTS {
            let (mut state, raw) = Self::read_raw(&store).await?;
            let out = change(&mut state)?;
            state.generation += 1;
            let bytes = serde_json::to_vec(&state).unwrap_or_default();
            if store
                .replace(vnet::STATE_KEY, raw, bytes)
                .await
                .map_err(AgentError::Cluster)?
            {
                self.kick.notify_one();
                return Ok(out);
            }
        }
        Err(AgentError::Unavailable(
            "the network document kept changing under this request; try again".into(),
        ))
    }

    /// The cluster's ports, each with `up` as the writer last reported.
    pub async fn ports(&self) -> Result<Vec<lqx_api::Port>, AgentError> {
        let (state, up) = self.state_and_ports_up().await?;
        Ok(state
            .ports
            .into_values()
            .map(|mut p| {
                p.up = up.get(&p.id).copied();
                p
            })
            .collect())
    }

    /// One port (by name or id) with its `up`.
    pub async fn port(&self, id_or_name: &str) -> Result<Option<lqx_api::Port>, AgentError> {
        let (state, up) = self.state_and_ports_up().await?;
        Ok(state.port(id_or_name).cloned().map(|mut p| {
            p.up = up.get(&p.id).copied();
            p
        }))
    }

    async fn state_and_ports_up(&self) -> Result<(VnetState, vnet::PortsUp), AgentError> {
        let store = self.store().await?;
        let (state, _) = Self::read_raw(&store).await?;
        let up = store
            .get(vnet::PORTS_UP_KEY)
            .await
            .map_err(AgentError::Cluster)?
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Ok((state, up))
    }

    /// How far the northbound database carries the document.
    pub async fn sync(&self) -> Result<VnetSync, AgentError> {
        let store = self.store().await?;
        let (state, _) = Self::read_raw(&store).await?;
        let stored = store
            .get(vnet::SYNC_KEY)
            .await
            .map_err(AgentError::Cluster)?
            .and_then(|b| serde_json::from_slice::<VnetSync>(&b).ok());
        let mut sync = stored.unwrap_or(VnetSync {
            central: None,
            generation: 0,
            applied: 0,
            writer: None,
            at: None,
            error: None,
        });
        sync.central = state.central;
        sync.generation = state.generation;
        Ok(sync)
    }

    /// Starts the northbound writer loop.
    pub fn spawn(self: &Arc<Self>) {
        tokio::spawn(writer::run(Arc::clone(self)));
    }
}
