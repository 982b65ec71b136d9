//! The reconciler: every few seconds this host's VMs are compared with
//! the cluster's records and reported, its capacity published, and the
//! domains no VM owns listed.
//!
//! What it does to domains is deliberately little. A VM that should run
//! and is off is started only when this agent has not seen it running
//! before (the host or lqxd restarted) or it crashed: a guest that powers
//! itself off stays off, and its record says so. A running domain is never
//! stopped or restarted by the reconciler: after a restart of lqxd its VMs
//! are adopted as they are. Domains that no VM owns are left alone.

use super::{VmService, put_json};
use crate::agent::AgentError;
use lqx_api::{ForeignDomain, PowerIntent, Vm, VmState, VmStatus};
use lqx_core::vm::{self, HostCapacity, VmRecord};
use lqx_libvirt::{DomainInfo, DomainName, DomainState};
use std::sync::Arc;
use time::OffsetDateTime;

/// Runs [`VmService::reconcile`] until the agent stops.
pub(super) async fn run(service: Arc<VmService>) {
    let mut tick = tokio::time::interval(service.reconcile_every);
    let mut last_error = String::new();
    loop {
        tick.tick().await;
        match service.reconcile().await {
            Ok(()) => last_error.clear(),
            Err(error) => {
                // Said once, not every few seconds.
                let text = crate::api::error::chain(&error);
                if text != last_error {
                    tracing::warn!(error = %text, "VM reconciliation failed");
                    last_error = text;
                }
            }
        }
    }
}

fn state_of(domain: Option<DomainState>) -> VmState {
    match domain {
        Some(DomainState::Running) => VmState::Running,
        Some(DomainState::Paused) => VmState::Paused,
        Some(DomainState::ShuttingDown) => VmState::ShuttingDown,
        Some(DomainState::Crashed) => VmState::Crashed,
        Some(DomainState::Shutoff | DomainState::Other) | None => VmState::Stopped,
    }
}

impl VmService {
    /// The VM's status as this host sees it now; `failure` when its last
    /// operation failed.
    async fn observe(&self, record: &VmRecord, failure: Option<String>) -> VmStatus {
        let name = DomainName::new(record.spec.name.clone());
        let observed = match self.hypervisor() {
            Ok(h) => {
                h.run(move |l| {
                    let state = l.state(&name)?;
                    let running = matches!(state, DomainState::Running | DomainState::Paused);
                    let vnc = if running { l.vnc_port(&name)? } else { None };
                    let addresses = if running {
                        l.addresses(&name).unwrap_or_default()
                    } else {
                        vec![]
                    };
                    Ok((Some(state), vnc, addresses))
                })
                .await
            }
            Err(e) => Err(e),
        };
        let (domain, vnc_port, addresses, message) = match observed {
            Ok((state, vnc, addresses)) => (state, vnc, addresses, failure),
            Err(e) => (
                None,
                None,
                vec![],
                failure.or_else(|| Some(crate::api::error::chain(&e))),
            ),
        };
        let state = match (&message, domain) {
            (Some(_), None | Some(DomainState::Shutoff)) => VmState::Failed,
            _ => state_of(domain),
        };
        let now = OffsetDateTime::now_utc();
        let since = {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            match seen.get(&record.id) {
                Some((previous, since)) if *previous == state => *since,
                _ => {
                    seen.insert(record.id, (state, now));
                    now
                }
            }
        };
        VmStatus {
            state,
            since,
            vnc_port,
            addresses,
            message,
            reported_at: now,
        }
    }

    /// Writes the VM's status now and answers the VM as the API shows it.
    pub(super) async fn report(&self, record: &VmRecord) -> Result<Vm, AgentError> {
        let status = self.observe(record, None).await;
        put_json(&self.store().await?, &vm::status_key(record.id), &status).await?;
        Ok(Vm {
            id: record.id,
            spec: record.spec.clone(),
            host: record.host,
            power: record.power,
            status: Some(status),
            created_at: record.created_at,
        })
    }

    /// Brings one VM towards its record; the failure, if any, to report.
    async fn converge(&self, record: &VmRecord, domain: Option<&DomainInfo>) -> Option<String> {
        let previous = self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&record.id)
            .map(|(s, _)| *s);
        if domain.is_none()
            && let Err(e) = self.ensure_defined(record).await
        {
            return Some(crate::api::error::chain(&e));
        }
        let state = domain.map(|d| d.state);
        let off = matches!(
            state,
            None | Some(DomainState::Shutoff | DomainState::Crashed)
        );
        if record.power != PowerIntent::Running || !off {
            return None;
        }
        let powered_off_by_guest =
            previous == Some(VmState::Running) && state == Some(DomainState::Shutoff);
        if powered_off_by_guest {
            let mut stopped = record.clone();
            stopped.power = PowerIntent::Stopped;
            tracing::info!(vm = %record.id, "the guest powered off; it stays off");
            return self
                .save(&stopped)
                .await
                .err()
                .map(|e| crate::api::error::chain(&e));
        }
        let name = DomainName::new(record.spec.name.clone());
        let started = match self.hypervisor() {
            Ok(h) => h.run(move |l| l.start(&name)).await,
            Err(e) => Err(e),
        };
        match started {
            Ok(()) => {
                tracing::info!(vm = %record.id, "started the VM, as its record wants");
                None
            }
            Err(e) => Some(crate::api::error::chain(&e)),
        }
    }

    /// One round: every VM of this host converged and reported, the
    /// domains no VM owns listed, the host's capacity published.
    pub async fn reconcile(&self) -> Result<(), AgentError> {
        let Ok(store) = self.cluster.store().await else {
            // In no cluster: no VMs.
            return Ok(());
        };
        let hypervisor = self.hypervisor()?;
        let domains = hypervisor.run(|l| l.domains()).await;
        self.publish_capacity(domains.is_ok()).await;
        let domains = domains?;
        let view = self.view().await?;
        let mine: Vec<&VmRecord> = view
            .records
            .values()
            .filter(|r| r.host == self.host_id)
            .collect();
        for record in &mine {
            let lock = self.lock_of(record.id);
            // An API call is working on it: it reports by itself.
            let Ok(_held) = lock.try_lock() else {
                continue;
            };
            let domain = domains.iter().find(|d| d.owner == Some(record.id));
            let failure = self.converge(record, domain).await;
            let status = self.observe(record, failure).await;
            let changed = view.statuses.get(&record.id).is_none_or(|old| {
                (
                    old.state,
                    old.since,
                    old.vnc_port,
                    &old.addresses,
                    &old.message,
                ) != (
                    status.state,
                    status.since,
                    status.vnc_port,
                    &status.addresses,
                    &status.message,
                )
            });
            if changed {
                put_json(&store, &vm::status_key(record.id), &status).await?;
            }
        }
        let ours: Vec<uuid::Uuid> = mine.iter().map(|r| r.id).collect();
        let foreign: Vec<ForeignDomain> = domains
            .iter()
            .filter(|d| d.owner.is_none_or(|owner| !ours.contains(&owner)))
            .map(|d| ForeignDomain {
                host: self.host_id,
                name: d.name.clone(),
                running: matches!(d.state, DomainState::Running | DomainState::Paused),
            })
            .collect();
        if view.foreign.get(&self.host_id) != Some(&foreign) {
            put_json(&store, &vm::foreign_key(self.host_id), &foreign).await?;
        }
        Ok(())
    }

    /// Publishes what this host offers VMs now (placement reads it).
    pub async fn refresh_capacity(&self) {
        let libvirt = match self.hypervisor() {
            Ok(h) => h.run(|l| l.pools().map(drop)).await.is_ok(),
            Err(_) => false,
        };
        self.publish_capacity(libvirt).await;
    }

    /// Publishes what this host offers VMs.
    async fn publish_capacity(&self, libvirt: bool) {
        let Ok(store) = self.cluster.store().await else {
            return;
        };
        let facts = self.probe.facts().await.ok();
        let pools = match (libvirt, self.hypervisor()) {
            (true, Ok(h)) => h
                .run(|l| l.pools())
                .await
                .map(|pools| {
                    pools
                        .into_iter()
                        .filter(|p| p.active)
                        .map(|p| p.name)
                        .collect()
                })
                .unwrap_or_default(),
            _ => vec![],
        };
        let ceph = self
            .ceph
            .config()
            .await
            .is_some_and(|c| c.libvirt_secret.is_some());
        let mib = |bytes: u64| bytes >> 20;
        let capacity = HostCapacity {
            libvirt,
            ceph,
            chassis: self.ovn.registered().await,
            memory_total_mib: facts.as_ref().map_or(0, |f| mib(f.memory.total_bytes)),
            memory_available_mib: facts.as_ref().map_or(0, |f| mib(f.memory.available_bytes)),
            cpus: facts.as_ref().map_or(0, |f| f.cpu.count),
            pools,
            bridges: facts
                .as_ref()
                .map(|f| {
                    f.interfaces
                        .iter()
                        .filter(|i| i.kind.as_deref() == Some("bridge"))
                        .map(|i| i.name.clone())
                        .collect()
                })
                .unwrap_or_default(),
        };
        if let Err(error) = put_json(&store, &vm::capacity_key(self.host_id), &capacity).await {
            tracing::debug!(%error, "capacity not published");
        }
    }
}
