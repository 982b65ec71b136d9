//! The operations of the API on the VMs of this host. Each holds the
//! VM's lock, changes the domain and the record together, and reports
//! the new state at once.

use super::build::SEED_FILE;
use super::{VmService, put_json};
use crate::agent::AgentError;
use lqx_api::{
    PoolVolumeRef, PowerIntent, ShutdownOutcome, Vm, VmDeleteQuery, VmDisk, VmSpec,
    VolumeDeleteQuery,
};
use lqx_core::vm::{self, VmRecord};
use lqx_etcd::{ClusterStore as _, Put};
use lqx_libvirt::{DomainName, DomainState};
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// How often a shutdown looks whether the guest has powered off.
const SHUTDOWN_POLL: Duration = Duration::from_millis(250);

fn nocloud(data: &lqx_api::CloudInit) -> lqx_cloudinit::NoCloud {
    lqx_cloudinit::NoCloud {
        user_data: data.user_data.clone(),
        meta_data: data.meta_data.clone(),
        network_config: data.network_config.clone(),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

impl VmService {
    fn domain_name(record: &VmRecord) -> DomainName {
        DomainName::new(record.spec.name.clone())
    }

    /// Creates a VM on this host (the API placed it here): its cloud-init
    /// data and every disk and image checked, its records created (its
    /// name must be free in the cluster), its files written, its domain
    /// defined and, with `start`, started. A failure undoes every step.
    pub async fn create_here(&self, spec: VmSpec, start: bool) -> Result<Vm, AgentError> {
        let hypervisor = self.hypervisor()?;
        if let Some(data) = &spec.cloud_init {
            lqx_cloudinit::validate(&nocloud(data))
                .map_err(|e| AgentError::Invalid(crate::api::error::chain(&e)))?;
        }
        let id = Uuid::new_v4();
        let spec = self.attach_ports(id, spec).await?;
        let record = VmRecord {
            id,
            spec,
            host: self.host_id,
            power: if start {
                PowerIntent::Running
            } else {
                PowerIntent::Stopped
            },
            created_at: OffsetDateTime::now_utc(),
        };
        let lock = self.lock_of(record.id);
        let _held = lock.lock().await;
        // Everything the domain refers to must exist before anything is
        // written; ports taken above are given back when this fails.
        let checked = async {
            let domain = self.domain_spec(&record).await?;
            let xml = lqx_libvirt::domain::domain_xml(&domain)
                .map_err(|e| AgentError::Invalid(crate::api::error::chain(&e)))?;
            let created = self
                .store()
                .await?
                .create_many(vec![
                    Put {
                        key: vm::name_key(&record.spec.name),
                        value: record.id.to_string().into_bytes(),
                        lease: None,
                    },
                    Put {
                        key: vm::spec_key(record.id),
                        value: json(&record),
                        lease: None,
                    },
                ])
                .await
                .map_err(AgentError::Cluster)?;
            if !created {
                return Err(AgentError::Conflict(format!(
                    "a VM named {} already exists in the cluster",
                    record.spec.name
                )));
            }
            Ok(xml)
        }
        .await;
        let xml = match checked {
            Ok(xml) => xml,
            Err(e) => {
                self.release_ports(&record).await;
                return Err(e);
            }
        };
        let made = async {
            let dir = self.make_vm_dir(record.id)?;
            if let Some(data) = &record.spec.cloud_init {
                let path = dir.join(SEED_FILE);
                let data = nocloud(data);
                let meta =
                    lqx_cloudinit::default_meta_data(&record.id.to_string(), &record.spec.name);
                tokio::task::spawn_blocking(move || lqx_cloudinit::write_seed(&path, &data, &meta))
                    .await
                    .map_err(AgentError::Task)?
                    .map_err(|e| AgentError::Invalid(crate::api::error::chain(&e)))?;
            }
            let name = hypervisor.run(move |l| l.define_domain(&xml)).await?;
            if start {
                hypervisor.run(move |l| l.start(&name)).await?;
            }
            Ok::<_, AgentError>(())
        }
        .await;
        if let Err(e) = made {
            self.undo_create(&record).await;
            return Err(e);
        }
        tracing::info!(vm = %record.id, name = %record.spec.name, "created a VM");
        self.report(&record).await
    }

    /// Takes a port on each NIC's virtual network for VM `id`, filling in
    /// the NICs' MAC, address and port. Nothing is taken when one fails.
    async fn attach_ports(&self, id: Uuid, spec: VmSpec) -> Result<VmSpec, AgentError> {
        if spec.nics.iter().all(|n| n.network.is_none()) {
            return Ok(spec);
        }
        self.vnet
            .change(|state| {
                let mut spec = spec.clone();
                let name = spec.name.clone();
                for (index, nic) in spec.nics.iter_mut().enumerate() {
                    let Some(network) = nic.network.clone() else {
                        continue;
                    };
                    let request = lqx_api::PortCreate {
                        name: Some(format!("{name}-nic{index}")),
                        network,
                        ip: nic.ip,
                        mac: nic.mac.clone(),
                        security_groups: nic.security_groups.clone(),
                    };
                    let port = state.create_port(Uuid::new_v4(), &request, Some(id))?;
                    nic.mac = Some(port.mac);
                    nic.ip = port.ip;
                    nic.port = Some(port.id.to_string());
                }
                Ok(spec)
            })
            .await
    }

    /// Gives back the ports of the VM's NICs; logged, not returned: the
    /// caller is already failing or the VM is already gone.
    async fn release_ports(&self, record: &VmRecord) {
        if let Err(e) = self.detach_ports(record).await {
            tracing::warn!(vm = %record.id, error = %crate::api::error::chain(&e), "cannot give back the VM's ports");
        }
    }

    async fn detach_ports(&self, record: &VmRecord) -> Result<(), AgentError> {
        if record.spec.nics.iter().all(|n| n.network.is_none()) {
            return Ok(());
        }
        let id = record.id;
        self.vnet
            .change(|state| {
                let names: Vec<String> = state
                    .ports
                    .values()
                    .filter(|p| p.vm == Some(id))
                    .map(|p| p.name.clone())
                    .collect();
                for name in names {
                    state.delete_port(&name)?;
                }
                Ok(())
            })
            .await
    }

    /// Takes back what a failed create made.
    async fn undo_create(&self, record: &VmRecord) {
        self.release_ports(record).await;
        if let Ok(hypervisor) = self.hypervisor() {
            let name = Self::domain_name(record);
            let _ = hypervisor
                .run(move |l| {
                    if l.is_active(&name).unwrap_or(false) {
                        let _ = l.destroy(&name);
                    }
                    l.undefine_vm(&name)
                })
                .await;
        }
        let _ = std::fs::remove_dir_all(self.vm_dir(record.id));
        if let Ok(store) = self.store().await {
            let _ = store
                .delete_many(vec![
                    vm::spec_key(record.id),
                    vm::name_key(&record.spec.name),
                    vm::status_key(record.id),
                ])
                .await;
        }
    }

    /// Writes `record` as the desired state.
    pub(super) async fn save(&self, record: &VmRecord) -> Result<(), AgentError> {
        put_json(&self.store().await?, &vm::spec_key(record.id), record).await
    }

    /// The domain's state; `None` when it is not defined.
    async fn domain_state(&self, record: &VmRecord) -> Result<Option<DomainState>, AgentError> {
        let name = Self::domain_name(record);
        let hypervisor = self.hypervisor()?;
        match hypervisor.run(move |l| l.state(&name)).await {
            Ok(state) => Ok(Some(state)),
            Err(AgentError::Libvirt(lqx_libvirt::LibvirtError::DomainNotFound(_))) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Defines the domain again if it is missing (removed behind the
    /// cluster's back).
    pub(super) async fn ensure_defined(&self, record: &VmRecord) -> Result<(), AgentError> {
        if self.domain_state(record).await?.is_some() {
            return Ok(());
        }
        let domain = self.domain_spec(record).await?;
        let xml = lqx_libvirt::domain::domain_xml(&domain)
            .map_err(|e| AgentError::Invalid(crate::api::error::chain(&e)))?;
        self.hypervisor()?
            .run(move |l| l.define_domain(&xml).map(drop))
            .await?;
        tracing::info!(vm = %record.id, "defined the VM's domain again");
        Ok(())
    }

    /// Starts the VM (it should run from now on).
    pub async fn start(&self, mut record: VmRecord) -> Result<Vm, AgentError> {
        let lock = self.lock_of(record.id);
        let _held = lock.lock().await;
        self.ensure_defined(&record).await?;
        if !matches!(
            self.domain_state(&record).await?,
            Some(DomainState::Running | DomainState::Paused)
        ) {
            let name = Self::domain_name(&record);
            self.hypervisor()?.run(move |l| l.start(&name)).await?;
        }
        record.power = PowerIntent::Running;
        self.save(&record).await?;
        self.report(&record).await
    }

    /// Stops the VM at once, like pulling its power cord.
    pub async fn stop(&self, mut record: VmRecord) -> Result<Vm, AgentError> {
        let lock = self.lock_of(record.id);
        let _held = lock.lock().await;
        // Recorded first: the reconciler must not start it again.
        record.power = PowerIntent::Stopped;
        self.save(&record).await?;
        if matches!(
            self.domain_state(&record).await?,
            Some(DomainState::Running | DomainState::Paused | DomainState::ShuttingDown)
        ) {
            let name = Self::domain_name(&record);
            self.hypervisor()?.run(move |l| l.destroy(&name)).await?;
        }
        self.report(&record).await
    }

    /// Asks the guest to power off (ACPI) and waits up to `timeout`; a
    /// guest that does not is stopped forcibly.
    pub async fn shutdown(
        &self,
        mut record: VmRecord,
        timeout: Duration,
    ) -> Result<(ShutdownOutcome, Vm), AgentError> {
        let lock = self.lock_of(record.id);
        let _held = lock.lock().await;
        record.power = PowerIntent::Stopped;
        self.save(&record).await?;
        let running = matches!(
            self.domain_state(&record).await?,
            Some(DomainState::Running | DomainState::Paused | DomainState::ShuttingDown)
        );
        if !running {
            return Ok((ShutdownOutcome::AlreadyStopped, self.report(&record).await?));
        }
        let hypervisor = self.hypervisor()?;
        let name = Self::domain_name(&record);
        hypervisor.run(move |l| l.shutdown(&name)).await?;
        let deadline = tokio::time::Instant::now() + timeout;
        let outcome = loop {
            match self.domain_state(&record).await? {
                None | Some(DomainState::Shutoff | DomainState::Crashed) => {
                    break ShutdownOutcome::Clean;
                }
                _ if tokio::time::Instant::now() >= deadline => {
                    let name = Self::domain_name(&record);
                    hypervisor.run(move |l| l.destroy(&name)).await?;
                    tracing::info!(vm = %record.id, ?timeout, "the guest did not power off; stopped it");
                    break ShutdownOutcome::Forced;
                }
                _ => tokio::time::sleep(SHUTDOWN_POLL).await,
            }
        };
        Ok((outcome, self.report(&record).await?))
    }

    /// Asks the guest to reboot (ACPI).
    pub async fn reboot(&self, record: VmRecord) -> Result<Vm, AgentError> {
        let lock = self.lock_of(record.id);
        let _held = lock.lock().await;
        if !matches!(
            self.domain_state(&record).await?,
            Some(DomainState::Running)
        ) {
            return Err(AgentError::Conflict(format!(
                "VM {} is not running",
                record.spec.name
            )));
        }
        let name = Self::domain_name(&record);
        self.hypervisor()?.run(move |l| l.reboot(&name)).await?;
        self.report(&record).await
    }

    /// Puts an ISO of a local pool in the VM's CD-ROM drive, or empties it.
    pub async fn set_cdrom(
        &self,
        mut record: VmRecord,
        iso: Option<PoolVolumeRef>,
    ) -> Result<Vm, AgentError> {
        let lock = self.lock_of(record.id);
        let _held = lock.lock().await;
        let path = match &iso {
            Some(iso) => Some(self.iso_path(iso).await?),
            None => None,
        };
        if self.domain_state(&record).await?.is_some() {
            let name = Self::domain_name(&record);
            self.hypervisor()?
                .run(move |l| l.set_cdrom(&name, path.as_deref()))
                .await?;
        }
        record.spec.cdrom = iso;
        self.save(&record).await?;
        self.report(&record).await
    }

    /// Deletes the VM: its domain, its files on this host, its records,
    /// and with `disks` its disks. A running VM only with `force`.
    pub async fn delete(&self, record: VmRecord, how: VmDeleteQuery) -> Result<(), AgentError> {
        let lock = self.lock_of(record.id);
        let _held = lock.lock().await;
        let state = self.domain_state(&record).await?;
        let running = matches!(
            state,
            Some(DomainState::Running | DomainState::Paused | DomainState::ShuttingDown)
        );
        if running && !how.force {
            return Err(AgentError::Conflict(format!(
                "VM {} is running: stop it first, or delete it with force",
                record.spec.name
            )));
        }
        if state.is_some() {
            let name = Self::domain_name(&record);
            self.hypervisor()?
                .run(move |l| {
                    if running {
                        l.destroy(&name)?;
                    }
                    l.undefine_vm(&name)
                })
                .await?;
        }
        if how.disks {
            for disk in &record.spec.disks {
                self.delete_disk(disk).await?;
            }
        }
        match std::fs::remove_dir_all(self.vm_dir(record.id)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(vm = %record.id, error = %e, "cannot remove the VM's files"),
        }
        // Before the records: if this fails, the VM is still there to
        // delete again.
        self.detach_ports(&record).await?;
        self.store()
            .await?
            .delete_many(vec![
                vm::spec_key(record.id),
                vm::name_key(&record.spec.name),
                vm::status_key(record.id),
            ])
            .await
            .map_err(AgentError::Cluster)?;
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&record.id);
        tracing::info!(vm = %record.id, name = %record.spec.name, "deleted a VM");
        Ok(())
    }

    async fn delete_disk(&self, disk: &VmDisk) -> Result<(), AgentError> {
        match disk {
            VmDisk::Rbd { pool, image } => {
                let (pool, image) = (pool.clone(), image.clone());
                self.ceph
                    .with(move |c| {
                        c.delete(
                            &pool,
                            &image,
                            VolumeDeleteQuery {
                                snapshots: true,
                                flatten_clones: false,
                            },
                        )
                    })
                    .await
            }
            VmDisk::Local { pool, volume } => {
                let (pool, volume) = (pool.clone(), volume.clone());
                self.hypervisor()?
                    .run(move |l| l.delete_volume(&pool, &volume))
                    .await
            }
        }
    }
}
