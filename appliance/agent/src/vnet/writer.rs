//! The northbound writer. One host at a time writes: the one whose key
//! under [`vnet::WRITER_KEY`] is attached to its live lease. When that
//! host dies its lease expires and another takes over. Even two writers
//! at once would not duplicate rows (each insert is guarded), but one
//! avoids two hosts fighting over rows with different views.

use super::VnetService;
use crate::agent::AgentError;
use lqx_api::{OvnCentral, VnetSync};
use lqx_core::vnet::{self, VnetState};
use lqx_etcd::{ClusterStore as _, EtcdStore, LeaseId};
use lqx_ovn::NbWriter;
use std::sync::Arc;
use time::OffsetDateTime;

/// The writer's connections, for the central databases they were made
/// for and the host certificate they present.
struct Connected {
    central: OvnCentral,
    certificate: Option<String>,
    writer: NbWriter,
}

/// Runs until the agent stops.
pub(super) async fn run(service: Arc<VnetService>) {
    let mut lease: Option<LeaseId> = None;
    let mut connected: Option<Connected> = None;
    let mut last_error = String::new();
    loop {
        let _ = tokio::time::timeout(service.options.poll, service.kick.notified()).await;
        let Ok(store) = service.cluster.store().await else {
            lease = None;
            connected = None;
            continue;
        };
        // Nobody contends for the lease (a write to etcd) in a cluster
        // without OVN.
        let configured = VnetService::read_raw(&store)
            .await
            .is_ok_and(|(state, _)| state.central.is_some());
        if !configured {
            connected = None;
            continue;
        }
        match hold(&service, &store, &mut lease).await {
            Ok(true) => {}
            Ok(false) => {
                connected = None;
                continue;
            }
            Err(_) => continue,
        }
        match round(&service, &store, &mut connected).await {
            Ok(()) => last_error.clear(),
            Err(error) => {
                let text = crate::api::error::chain(&error);
                if text != last_error {
                    tracing::warn!(error = %text, "writing the virtual networks to OVN failed");
                    last_error = text;
                }
            }
        }
    }
}

/// Whether this host holds the writer key (taking it when free).
async fn hold(
    service: &VnetService,
    store: &EtcdStore,
    lease: &mut Option<LeaseId>,
) -> Result<bool, AgentError> {
    let me = service.host_id.to_string().into_bytes();
    if let Some(id) = *lease {
        let alive = store.keep_alive(id).await.map_err(AgentError::Cluster)?;
        if alive
            && store
                .get(vnet::WRITER_KEY)
                .await
                .map_err(AgentError::Cluster)?
                == Some(me.clone())
        {
            return Ok(true);
        }
        *lease = None;
    }
    // Held by another host: no lease is taken just to fail.
    if store
        .get(vnet::WRITER_KEY)
        .await
        .map_err(AgentError::Cluster)?
        .is_some_and(|holder| holder != me)
    {
        return Ok(false);
    }
    let id = store
        .grant(service.options.lease)
        .await
        .map_err(AgentError::Cluster)?;
    if store
        .create(vnet::WRITER_KEY, me, Some(id))
        .await
        .map_err(AgentError::Cluster)?
    {
        tracing::info!("this host now writes the virtual networks to OVN");
        *lease = Some(id);
        Ok(true)
    } else {
        let _ = store.revoke(id).await;
        Ok(false)
    }
}

async fn round(
    service: &VnetService,
    store: &EtcdStore,
    connected: &mut Option<Connected>,
) -> Result<(), AgentError> {
    let (state, _) = VnetService::read_raw(store).await?;
    let Some(central) = state.central.clone() else {
        return Ok(());
    };
    // With TLS, the host's certificate in force: a renewed one makes new
    // sessions (the old ones would fail once it expires).
    let remote = match central.ca_cert {
        Some(_) => Some(service.cluster.host_tls()?),
        None => None,
    };
    let certificate = remote.as_ref().map(|r| r.host_identity().cert_pem);
    if connected
        .as_ref()
        .is_none_or(|c| c.central != central || c.certificate != certificate)
    {
        // Built only for new sessions, not at every poll.
        let tls = match (&remote, &central.ca_cert) {
            (Some(remote), Some(ca)) => Some(crate::ovn::ovsdb_tls(remote, ca)?),
            _ => None,
        };
        let nb = lqx_ovsdb::remote::parse_list(&central.nb_remote)
            .map_err(|e| AgentError::Invalid(e.to_string()))?;
        let sb = lqx_ovsdb::remote::parse_list(&central.sb_remote)
            .map_err(|e| AgentError::Invalid(e.to_string()))?;
        let owner = service
            .cluster
            .status()
            .await
            .cluster
            .map_or_else(|| service.host_id.to_string(), |c| c.id.to_string());
        *connected = Some(Connected {
            central: central.clone(),
            certificate,
            writer: NbWriter::start(nb, sb, owner, tls),
        });
    }
    let writer = &connected.as_ref().expect("set above").writer;
    let previous: Option<VnetSync> = store
        .get(vnet::SYNC_KEY)
        .await
        .map_err(AgentError::Cluster)?
        .and_then(|b| serde_json::from_slice(&b).ok());
    let outcome = writer.converge(&state, service.options.timeout).await;
    let error = outcome.as_ref().err().map(|e| crate::api::error::chain(e));
    let applied = if error.is_none() {
        state.generation
    } else {
        previous.as_ref().map_or(0, |p| p.applied)
    };
    let unchanged = previous.as_ref().is_some_and(|p| {
        p.applied == applied
            && p.error == error
            && p.writer == Some(service.host_id)
            && p.generation == state.generation
    });
    // Written when something changed, so an idle cluster does not write
    // every second.
    if !unchanged {
        report(store, service, &state, applied, error.clone()).await?;
    }
    if error.is_none() {
        report_ports_up(store, writer, &state).await?;
    }
    outcome
        .map(drop)
        .map_err(|e| AgentError::Unavailable(crate::api::error::chain(&e)))
}

/// Publishes which ports OVN has bound, when that changed.
async fn report_ports_up(
    store: &EtcdStore,
    writer: &NbWriter,
    state: &VnetState,
) -> Result<(), AgentError> {
    let up: vnet::PortsUp = state
        .ports
        .values()
        .filter_map(|p| writer.port_up(&vnet::lsp_name(p)).map(|up| (p.id, up)))
        .collect();
    let stored: Option<vnet::PortsUp> = store
        .get(vnet::PORTS_UP_KEY)
        .await
        .map_err(AgentError::Cluster)?
        .and_then(|b| serde_json::from_slice(&b).ok());
    if stored.as_ref() == Some(&up) {
        return Ok(());
    }
    store
        .put(
            vnet::PORTS_UP_KEY,
            serde_json::to_vec(&up).unwrap_or_default(),
            None,
        )
        .await
        .map_err(AgentError::Cluster)
}

async fn report(
    store: &EtcdStore,
    service: &VnetService,
    state: &VnetState,
    applied: u64,
    error: Option<String>,
) -> Result<(), AgentError> {
    let sync = VnetSync {
        central: state.central.clone(),
        generation: state.generation,
        applied,
        writer: Some(service.host_id),
        at: Some(OffsetDateTime::now_utc()),
        error,
    };
    store
        .put(
            vnet::SYNC_KEY,
            serde_json::to_vec(&sync).unwrap_or_default(),
            None,
        )
        .await
        .map_err(AgentError::Cluster)
}
