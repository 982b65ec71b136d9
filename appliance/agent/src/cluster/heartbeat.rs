//! The heartbeat that keeps a host `ready` in the member list, and the
//! upkeep done every few beats: the etcd member restarted if it died, and
//! the store client (and `cluster.json`) following the voters as they
//! change.

use super::admit::voter_endpoints;
use super::local::etcd_error;
use super::{ClusterService, own_ip, to_json};
use crate::agent::{AgentError, persist};
use lqx_api::EtcdRole;
use lqx_core::cluster::{self, ClusterState, Heartbeat};
use lqx_etcd::{Bootstrap, ClusterStore as _, EtcdError, EtcdStore, Put};
use std::sync::{Arc, Weak};
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// A heartbeat's lease: a host is unreachable this long after its last.
const HEARTBEAT_TTL: Duration = Duration::from_secs(6);
/// Between heartbeats.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// Upkeep runs every this many heartbeats.
const UPKEEP_EVERY: u32 = 5;

/// Heartbeats until aborted: a lease of [`HEARTBEAT_TTL`] carrying the
/// live key, renewed every [`HEARTBEAT_EVERY`], and the last heartbeat
/// kept, both written only while the host's record exists. A lost lease
/// (the store was unreachable too long) starts a new one, and a new
/// `up_since`; a missing record means another member removed the host.
pub(super) async fn heartbeat(
    service: Weak<ClusterService>,
    store: EtcdStore,
    host_id: Uuid,
    cluster_id: Uuid,
) {
    let host = cluster::host_key(host_id);
    let alive = cluster::alive_key(host_id);
    let seen = cluster::seen_key(host_id);
    let mut lease = None;
    let mut up_since = OffsetDateTime::now_utc();
    let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
    let mut beats: u32 = 0;
    loop {
        tick.tick().await;
        beats = beats.wrapping_add(1);
        if beats.is_multiple_of(UPKEEP_EVERY)
            && let Some(service) = service.upgrade()
        {
            service.upkeep().await;
        }
        let renewed = match lease {
            Some(id) => store.keep_alive(id).await.unwrap_or(false),
            None => false,
        };
        if !renewed {
            match store.grant(HEARTBEAT_TTL).await {
                Ok(id) => {
                    lease = Some(id);
                    up_since = OffsetDateTime::now_utc();
                }
                Err(error) => {
                    tracing::debug!(%error, "heartbeat: no lease");
                    lease = None;
                    continue;
                }
            }
        }
        let beat = Heartbeat {
            at: OffsetDateTime::now_utc(),
            up_since,
        };
        let puts = vec![
            Put {
                key: alive.clone(),
                value: to_json(&beat),
                lease,
            },
            Put {
                key: seen.clone(),
                value: to_json(&beat),
                lease: None,
            },
        ];
        match store.put_if_exists(&host, puts).await {
            Ok(true) => {}
            Ok(false) => {
                // Handled apart: forgetting the cluster aborts this task.
                if let Some(service) = service.upgrade() {
                    tokio::spawn(async move { service.removed_from_cluster(cluster_id).await });
                }
            }
            Err(EtcdError::NoLease) => lease = None,
            Err(error) => tracing::debug!(%error, "heartbeat not written"),
        }
    }
}

impl ClusterService {
    /// Restarts a member that died, moves the store client to the voters
    /// the store lists now (this host's own member first), and on a
    /// client host takes a free voter's seat. Skips a round while a
    /// membership change holds the service.
    async fn upkeep(self: &Arc<Self>) {
        let (store, old, role, own, voters) = {
            let Ok(mut inner) = self.inner.try_lock() else {
                return;
            };
            let Some(config) = inner.state.config.clone() else {
                return;
            };
            let own = own_ip(&config.endpoints).ok();
            let restart = own.map(|ip| self.member_config(ip, Bootstrap::Restart));
            let Some(running) = inner.running.as_mut() else {
                return;
            };
            if let (Some(member), Some(config)) = (running.member.as_mut(), restart)
                && let Some(exited) = member.exited()
            {
                tracing::warn!(%exited, "the etcd member stopped; starting it again");
                match self.spawn_member(&config) {
                    Ok(again) => *member = again,
                    Err(error) => {
                        tracing::error!(error = %crate::api::error::chain(&error), "cannot restart the etcd member")
                    }
                }
            }
            let own = (config.role == EtcdRole::Voter)
                .then(|| config.endpoints.first().cloned())
                .flatten();
            (
                running.store.clone(),
                running.endpoints.clone(),
                config.role,
                own,
                config.voters,
            )
        };
        let Ok(members) = store.members().await else {
            return;
        };
        if role == EtcdRole::Client && members.len() < usize::from(voters) {
            tokio::spawn(Arc::clone(self).replenish());
        }
        let voters = voter_endpoints(&members);
        let new: Vec<String> = match (role, own) {
            (EtcdRole::Voter, Some(own)) => std::iter::once(own.clone())
                .chain(voters.into_iter().filter(|v| *v != own))
                .collect(),
            _ => voters,
        };
        if new.is_empty() || new == old {
            return;
        }
        if let Err(error) = self.follow_voters(&store, &old, new).await {
            tracing::warn!(error = %crate::api::error::chain(&error), "cannot update the store's endpoints");
        }
    }

    async fn follow_voters(
        &self,
        store: &EtcdStore,
        old: &[String],
        new: Vec<String>,
    ) -> Result<(), AgentError> {
        let mut inner = self.inner.lock().await;
        let Some(running) = inner.running.as_mut() else {
            return Ok(());
        };
        if running.endpoints != old {
            return Ok(());
        }
        store.update_endpoints(&new).await.map_err(etcd_error)?;
        running.endpoints = new.clone();
        let mut next: ClusterState = inner.state.clone();
        if let Some(config) = next.config.as_mut() {
            config.endpoints = new;
        }
        persist(&self.store, &next).await?;
        tracing::info!(endpoints = ?next.config.as_ref().map(|c| &c.endpoints), "the cluster store's voters changed");
        inner.state = next;
        Ok(())
    }
}
