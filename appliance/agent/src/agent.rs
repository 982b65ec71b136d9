//! The agent's in-memory state and the operations the API exposes.

use lqx_api::{AgentInfo, HostInfo, Labels, LabelsPatch};
use lqx_core::host_state::HostState;
use lqx_core::labels::{self, LabelError};
use lqx_host::{HostProbe, ProbeError};
use lqx_store::{StateDir, StoreError};
use std::sync::Arc;
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
}

/// One host agent.
pub struct Agent {
    info: AgentInfo,
    probe: Arc<dyn HostProbe>,
    store: Arc<StateDir>,
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
        probe: Arc<dyn HostProbe>,
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
        Ok(Self {
            info,
            probe,
            store: Arc::new(store),
            host: Mutex::new(host),
        })
    }

    /// Facts about this agent process.
    pub fn info(&self) -> &AgentInfo {
        &self.info
    }

    /// The host's identity.
    pub async fn host_id(&self) -> Uuid {
        self.host.lock().await.host_id
    }

    /// Everything `GET /v1/host` answers.
    pub async fn host_info(&self) -> Result<HostInfo, AgentError> {
        let facts = self.probe.facts().await.map_err(AgentError::Probe)?;
        let host = self.host.lock().await.clone();
        Ok(HostInfo {
            host_id: host.host_id,
            labels: host.labels,
            agent: self.info.clone(),
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
        let store = Arc::clone(&self.store);
        let to_save = next.clone();
        tokio::task::spawn_blocking(move || store.save(&to_save))
            .await
            .map_err(AgentError::Task)?
            .map_err(AgentError::Store)?;
        *host = next;
        Ok(Labels {
            labels: host.labels.clone(),
        })
    }
}
