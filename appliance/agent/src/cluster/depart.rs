//! Hosts going: this host leaving, another host removed through this
//! one, and this host finding out that another member removed it.
//!
//! The store's side goes first (the etcd member removed, the host's keys
//! deleted), under the membership lock; then the host marks itself
//! `leaving` in `cluster.json`, stops its member, deletes its data, takes
//! a new authority of its own and forgets the cluster. An agent stopped
//! midway finishes that at its next start.

use super::admit::MembershipLock;
use super::local::{etcd_error, remove_dir, settle};
use super::{ClusterService, Inner};
use crate::agent::{AgentError, persist};
use crate::remote::AuthorityChoice;
use lqx_api::{ClusterStatus, EtcdRole, LeaveRequest, Member, MemberState};
use lqx_core::cluster::{self, ClusterState, HostRecord};
use lqx_core::document::Document as _;
use lqx_etcd::{ClusterStore as _, EtcdError, EtcdStore};
use std::sync::Arc;
use uuid::Uuid;

impl ClusterService {
    /// Leaves the cluster: takes this host out of the store and forgets
    /// the cluster. The cluster's last member may leave only with
    /// `force`, which dissolves the cluster.
    pub async fn leave(
        self: &Arc<Self>,
        request: &LeaveRequest,
    ) -> Result<ClusterStatus, AgentError> {
        let mut inner = self.inner.lock().await;
        let store = Self::running_store(&inner)?;
        let name = inner
            .state
            .config
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let view = Self::records(&store).await?;
        let me = view.hosts.iter().find(|h| h.id == self.host_id).cloned();
        let others = view.hosts.iter().filter(|h| h.id != self.host_id).count();
        if others == 0 {
            if !request.force {
                return Err(AgentError::Conflict(format!(
                    "this host is the last member of cluster {name}: leaving dissolves the \
                     cluster and deletes its store; leave with force to do that"
                )));
            }
            tracing::warn!(cluster = %name, "dissolving the cluster: its last member leaves");
        } else if let Some(me) = me {
            let members = view.members();
            // Stop heartbeating first: a heartbeat after the keys are gone
            // would be taken for a removal.
            if let Some(running) = &inner.running {
                running.heartbeat.abort();
            }
            if let Err(e) = self.depart(&inner, &me, &members, request.force).await {
                self.restart_heartbeat(&mut inner);
                return Err(e);
            }
        }
        self.mark_leaving(&mut inner).await?;
        self.finish_leave(&mut inner).await?;
        tracing::info!(cluster = %name, "left the cluster");
        Ok(ClusterStatus {
            cluster: None,
            store_reachable: false,
            store_error: None,
        })
    }

    /// Removes another member `name` (id or hostname) from the cluster:
    /// its etcd member if it votes, and its records. The host, if it
    /// still runs, finds out at its next heartbeat and forgets the
    /// cluster. Answers the members left.
    pub async fn remove(&self, name: &str, force: bool) -> Result<Vec<Member>, AgentError> {
        {
            let inner = self.inner.lock().await;
            let store = Self::running_store(&inner)?;
            let view = Self::records(&store).await?;
            let target = cluster::resolve_host(&view.hosts, name)
                .map_err(AgentError::NotFound)?
                .clone();
            if target.id == self.host_id {
                return Err(AgentError::Conflict(
                    "that is this host: leave the cluster from it, or remove it through another \
                     member"
                        .into(),
                ));
            }
            let members = view.members();
            self.depart(&inner, &target, &members, force).await?;
            tracing::info!(host = %target.id, hostname = %target.hostname, "removed a host from the cluster");
        }
        self.members().await
    }

    /// The store's side of `target` going: under the membership lock, its
    /// etcd member removed (refused when the voters left could not agree,
    /// unless `force`), then its keys deleted. Works through a client
    /// that does not use `target`'s member, which stops once removed.
    async fn depart(
        &self,
        inner: &Inner,
        target: &HostRecord,
        members: &[Member],
        force: bool,
    ) -> Result<(), AgentError> {
        let store = Self::running_store(inner)?;
        let etcd_members = store.members().await.map_err(etcd_error)?;
        let target_name = target.id.to_string();
        let its = etcd_members.iter().find(|m| {
            m.name == target_name || target.etcd_member.as_deref() == Some(&format!("{:x}", m.id))
        });
        let via = match its {
            Some(m) if !m.client_urls.is_empty() => {
                let endpoints: Vec<String> = etcd_members
                    .iter()
                    .filter(|o| o.id != m.id && !o.learner)
                    .flat_map(|o| o.client_urls.iter().cloned())
                    .collect();
                if endpoints.is_empty() {
                    return Err(AgentError::Conflict(format!(
                        "{} runs the cluster store's only voting member: remove the other hosts \
                         first",
                        target.hostname
                    )));
                }
                self.connect_as_member(inner, &endpoints).await?
            }
            _ => store,
        };
        let lock = MembershipLock::acquire(&via, self.host_id).await?;
        let result = async {
            if let Some(m) = its {
                let voters = etcd_members.iter().filter(|m| !m.learner).count();
                let answering = members
                    .iter()
                    .filter(|m| m.etcd_role == EtcdRole::Voter && m.state == MemberState::Ready)
                    .count();
                let target_answers = members
                    .iter()
                    .any(|m| m.id == target.id && m.state == MemberState::Ready);
                if !m.learner
                    && !force
                    && !cluster::removal_keeps_quorum(voters, answering, target_answers)
                {
                    return Err(AgentError::Conflict(format!(
                        "without {} the cluster store would have {} voters of which too few \
                         answer to agree; bring members back, or force",
                        target.hostname,
                        voters - 1
                    )));
                }
                match via.remove_member(m.id).await {
                    Ok(()) | Err(EtcdError::NoMember(_)) => {}
                    Err(e) => return Err(etcd_error(e)),
                }
            }
            settle(|| via.delete_many(cluster::host_keys(target.id)))
                .await
                .map_err(etcd_error)
        }
        .await;
        lock.release().await;
        result
    }

    /// A client of the store at `endpoints` with this member's own
    /// certificate.
    async fn connect_as_member(
        &self,
        inner: &Inner,
        endpoints: &[String],
    ) -> Result<EtcdStore, AgentError> {
        let (Some(cert), Some(key)) = (&inner.state.etcd_cert_pem, &inner.state.etcd_key_pem)
        else {
            return Err(AgentError::Unavailable(
                "cluster.json holds no store certificate".into(),
            ));
        };
        let authority = self.cluster_authority(&inner.state)?;
        let identity = lqx_pki::Identity {
            cert_pem: cert.clone(),
            key_pem: key.clone(),
        };
        self.connect(endpoints, &authority.cert_pem, &identity)
            .await
    }

    fn restart_heartbeat(self: &Arc<Self>, inner: &mut Inner) {
        let id = inner.state.config.as_ref().map(|c| c.id);
        if let (Some(id), Some(running)) = (id, inner.running.take()) {
            let endpoints = running.endpoints.clone();
            inner.running = Some(self.run(id, running.member, running.store, endpoints));
        }
    }

    async fn mark_leaving(&self, inner: &mut Inner) -> Result<(), AgentError> {
        let next = ClusterState {
            leaving: true,
            ..inner.state.clone()
        };
        persist(&self.store, &next).await?;
        inner.state = next;
        Ok(())
    }

    /// Undoes the membership here: the member and heartbeat stopped, the
    /// member's data deleted, a new authority, `cluster.json` emptied.
    pub(super) async fn finish_leave(&self, inner: &mut Inner) -> Result<(), AgentError> {
        if let Some(running) = inner.running.take() {
            running.heartbeat.abort();
            if let Some(member) = running.member {
                member.stop().await;
            }
        }
        remove_dir(&self.etcd_dir())?;
        let fresh = match self.remote.get() {
            Some(remote) => remote.switch(AuthorityChoice::Fresh).await.map(drop),
            None => {
                let store = Arc::clone(&self.store);
                let host_id = self.host_id;
                tokio::task::spawn_blocking(move || {
                    crate::remote::forget_authority(&store, host_id)
                })
                .await
                .map_err(AgentError::Task)?
            }
        };
        fresh.map_err(|e| {
            AgentError::Unavailable(format!(
                "cannot replace the cluster's authority: {}",
                crate::api::error::chain(&e)
            ))
        })?;
        let next = ClusterState {
            schema_version: ClusterState::SCHEMA_VERSION,
            ..ClusterState::default()
        };
        persist(&self.store, &next).await?;
        inner.state = next;
        Ok(())
    }

    /// The heartbeat found this host's record gone: if the store confirms
    /// it, another member removed this host, which then forgets the
    /// cluster.
    pub(super) async fn removed_from_cluster(&self, cluster_id: Uuid) {
        let mut inner = self.inner.lock().await;
        let current = inner.state.config.as_ref().map(|c| c.id);
        if current != Some(cluster_id) || inner.state.leaving {
            return;
        }
        let Ok(store) = Self::running_store(&inner) else {
            return;
        };
        match store.get(&cluster::host_key(self.host_id)).await {
            Ok(None) => {}
            _ => return,
        }
        tracing::warn!(cluster = %cluster_id, "another member removed this host from the cluster; forgetting it");
        let done = async {
            self.mark_leaving(&mut inner).await?;
            self.finish_leave(&mut inner).await
        }
        .await;
        if let Err(error) = done {
            tracing::error!(error = %crate::api::error::chain(&error), "cannot forget the cluster");
        }
    }
}
