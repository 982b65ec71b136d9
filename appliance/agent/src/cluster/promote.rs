//! Keeping the number of voters: when the store has fewer voting members
//! than the cluster aims for (a voter left or was removed), a client host
//! makes itself a voter, the way a joining voter does: under the
//! membership lock it is added as a learner, then it starts its member,
//! promotes it once caught up, and re-registers as a voter. Of several
//! clients, the first to take the lock does; the others find the seats
//! full.

use super::admit::{self, MembershipLock};
use super::local::{etcd_error, remove_dir};
use super::{ClusterService, HostAddress};
use crate::agent::{AgentError, persist};
use lqx_api::EtcdRole;
use lqx_core::cluster::{self, HostRecord};
use lqx_etcd::ClusterStore as _;
use lqx_etcd::member::https_url;
use std::net::SocketAddr;
use std::sync::Arc;

impl ClusterService {
    /// Makes this client host a voter if the store lacks voters. Runs
    /// apart from the heartbeat (it takes as long as a join).
    pub(super) async fn replenish(self: Arc<Self>) {
        match self.take_a_seat().await {
            Ok(false) => {}
            Ok(true) => tracing::info!("this host now runs a voting member of the cluster store"),
            Err(error) => tracing::warn!(
                error = %crate::api::error::chain(&error),
                "cannot become a voter of the cluster store"
            ),
        }
    }

    async fn take_a_seat(self: &Arc<Self>) -> Result<bool, AgentError> {
        let mut inner = self.inner.lock().await;
        let Some(config) = inner.state.config.clone() else {
            return Ok(false);
        };
        if config.role != EtcdRole::Client || inner.state.leaving {
            return Ok(false);
        }
        let store = Self::running_store(&inner)?;
        let members = store.members().await.map_err(etcd_error)?;
        if members.len() >= usize::from(config.voters) {
            return Ok(false);
        }
        let (Some(cert), Some(key)) = (
            inner.state.etcd_cert_pem.clone(),
            inner.state.etcd_key_pem.clone(),
        ) else {
            return Err(AgentError::Unavailable(
                "cluster.json holds no store certificate".into(),
            ));
        };
        let identity = lqx_pki::Identity {
            cert_pem: cert,
            key_pem: key,
        };
        let authority = self.cluster_authority(&inner.state)?;
        let record: HostRecord = store
            .get(&cluster::host_key(self.host_id))
            .await
            .map_err(etcd_error)?
            .and_then(|raw| serde_json::from_slice(&raw).ok())
            .ok_or_else(|| AgentError::Unavailable("this host's record is missing".into()))?;
        let address: SocketAddr = record.address.parse().map_err(|_| {
            AgentError::Unavailable(format!(
                "bad address in this host's record: {}",
                record.address
            ))
        })?;
        let host = HostAddress {
            ip: address.ip(),
            api_port: address.port(),
            hostname: record.hostname.clone(),
        };
        let peer_url = https_url(host.ip, self.options.peer_port);
        let lock = MembershipLock::acquire(&store, self.host_id).await?;
        let placed = admit::place(&store, self.host_id, &peer_url, config.voters).await;
        lock.release().await;
        let admission = placed?;
        let Some(id) = admission.member_id else {
            // Another client took the seat first.
            return Ok(false);
        };
        let started = async {
            self.write_tls(&authority.cert_pem, &identity)?;
            remove_dir(&self.data_dir())?;
            self.start_voter(
                id,
                &admission.peers,
                &admission.endpoints,
                &authority,
                &identity,
                &host,
            )
            .await
        }
        .await;
        let undo = async |store: &lqx_etcd::EtcdStore| {
            let _ = store.remove_member(id).await;
            let _ = store.delete(&cluster::joining_key(id)).await;
            let _ = remove_dir(&self.data_dir());
            // Registering may have got as far as saying voter.
            let _ = store
                .put(
                    &cluster::host_key(self.host_id),
                    serde_json::to_vec(&record).unwrap_or_default(),
                    None,
                )
                .await;
        };
        let (member, voter_store, endpoints) = match started {
            Ok(started) => started,
            Err(e) => {
                undo(&store).await;
                return Err(e);
            }
        };
        let mut next = inner.state.clone();
        if let Some(config) = next.config.as_mut() {
            config.role = EtcdRole::Voter;
            config.endpoints = endpoints.clone();
        }
        if let Err(e) = persist(&self.store, &next).await {
            member.stop().await;
            undo(&store).await;
            return Err(e);
        }
        if let Some(old) = inner.running.take() {
            old.heartbeat.abort();
        }
        inner.state = next;
        inner.running = Some(self.run(config.id, Some(member), voter_store, endpoints));
        Ok(true)
    }
}
