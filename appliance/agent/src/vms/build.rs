//! A VM record and this host's resources (its Ceph membership, its local
//! pools) into the domain libvirt runs. Every reference is resolved here,
//! so a missing volume is an error before anything is defined.

use super::VmService;
use crate::agent::AgentError;
use lqx_api::{BootDevice, Firmware, PoolVolumeRef, VmDisk, VolumeFormat};
use lqx_core::ceph::{MON_V2_PORT, MonAddr, Msgr};
use lqx_core::vm::{self, VmRecord};
use lqx_libvirt::RbdDisk;
use lqx_libvirt::domain::{self, Boot, DiskSource, DomainSpec, FileFormat, Nic};
use std::net::SocketAddr;
use std::path::PathBuf;

/// OVN's integration bridge on every chassis.
const INTEGRATION_BRIDGE: &str = "br-int";

/// Names of a VM's files in its directory.
pub const SEED_FILE: &str = "seed.iso";
/// The UEFI variables.
pub const NVRAM_FILE: &str = "VARS.fd";
/// The serial console's socket.
pub const SERIAL_SOCKET: &str = "serial.sock";

impl VmService {
    /// The file of a local pool's volume, and its format.
    pub(super) async fn local_volume(
        &self,
        pool: &str,
        volume: &str,
    ) -> Result<(PathBuf, VolumeFormat), AgentError> {
        let (pool, volume) = (pool.to_owned(), volume.to_owned());
        let info = self
            .hypervisor()?
            .run(move |l| l.volume(&pool, &volume))
            .await?;
        let format = match info.format {
            lqx_libvirt::VolumeFormat::Qcow2 => VolumeFormat::Qcow2,
            lqx_libvirt::VolumeFormat::Iso => VolumeFormat::Iso,
            _ => VolumeFormat::Raw,
        };
        Ok((info.path, format))
    }

    /// The ISO file a CD-ROM reference names.
    pub(super) async fn iso_path(&self, iso: &PoolVolumeRef) -> Result<PathBuf, AgentError> {
        Ok(self.local_volume(&iso.pool, &iso.volume).await?.0)
    }

    async fn rbd_disk(&self, pool: &str, image: &str) -> Result<RbdDisk, AgentError> {
        let config = self.ceph.config().await.ok_or_else(|| {
            AgentError::Conflict(format!(
                "disk {pool}/{image} is in Ceph, and this host has not joined Ceph"
            ))
        })?;
        let secret_uuid = config.libvirt_secret.ok_or_else(|| {
            AgentError::Unavailable(
                "this host's Ceph key is not in libvirt (join Ceph again with libvirt running)"
                    .into(),
            )
        })?;
        // QEMU's librbd speaks msgr v2; monitors given without a port or
        // on v1 are asked on the v2 port.
        let monitors: Vec<SocketAddr> = config
            .mons
            .iter()
            .filter_map(|m| MonAddr::parse(m).ok())
            .map(|m| {
                let port = match (m.port, m.msgr) {
                    (Some(p), Msgr::V2) => p,
                    _ => MON_V2_PORT,
                };
                SocketAddr::new(m.ip, port)
            })
            .collect();
        let user = config
            .name
            .strip_prefix("client.")
            .unwrap_or(&config.name)
            .to_owned();
        let (p, i) = (pool.to_owned(), image.to_owned());
        self.ceph.with(move |c| c.volume(&p, &i)).await?;
        Ok(RbdDisk {
            pool: pool.to_owned(),
            image: image.to_owned(),
            monitors,
            user,
            secret_uuid,
            // Replaced by the disk's place in the domain.
            target_dev: "vda".into(),
        })
    }

    /// The domain of `record` on this host. Checks that every disk and
    /// image exists.
    pub(super) async fn domain_spec(&self, record: &VmRecord) -> Result<DomainSpec, AgentError> {
        let spec = &record.spec;
        let dir = self.vm_dir(record.id);
        let mut disks = Vec::with_capacity(spec.disks.len());
        for disk in &spec.disks {
            disks.push(match disk {
                VmDisk::Rbd { pool, image } => DiskSource::Rbd(self.rbd_disk(pool, image).await?),
                VmDisk::Local { pool, volume } => {
                    let (path, format) = self.local_volume(pool, volume).await?;
                    let format = match format {
                        VolumeFormat::Qcow2 => FileFormat::Qcow2,
                        VolumeFormat::Raw => FileFormat::Raw,
                        VolumeFormat::Iso => {
                            return Err(AgentError::Invalid(format!(
                                "{pool}/{volume} is an ISO image, not a disk: give it as the CD-ROM"
                            )));
                        }
                    };
                    DiskSource::File { path, format }
                }
            });
        }
        let cdrom = match &spec.cdrom {
            Some(iso) => Some(self.iso_path(iso).await?),
            None => None,
        };
        let nics = spec
            .nics
            .iter()
            .enumerate()
            .map(|(i, nic)| Nic {
                // A NIC on a virtual network joins OVN's integration bridge
                // as its port's OVS interface.
                bridge: nic
                    .bridge
                    .clone()
                    .unwrap_or_else(|| INTEGRATION_BRIDGE.to_owned()),
                mac: nic
                    .mac
                    .clone()
                    .unwrap_or_else(|| vm::default_mac(record.id, i)),
                ovs_interface_id: nic.network.as_ref().and(nic.port.clone()),
            })
            .collect();
        let boot = vm::boot_order(spec)
            .into_iter()
            .map(|d| match d {
                BootDevice::Disk => Boot::Disk,
                BootDevice::Cdrom => Boot::Cdrom,
                BootDevice::Network => Boot::Network,
            })
            .collect();
        let (firmware, nvram) = match spec.firmware {
            Firmware::Bios => (domain::Firmware::Bios, None),
            Firmware::Uefi => (domain::Firmware::Uefi, Some(dir.join(NVRAM_FILE))),
        };
        Ok(DomainSpec {
            id: record.id,
            name: spec.name.clone(),
            vcpus: spec.vcpus,
            memory_mib: spec.memory_mib,
            firmware,
            accel: self.accel,
            disks,
            cdrom,
            seed: spec.cloud_init.as_ref().map(|_| dir.join(SEED_FILE)),
            nics,
            boot,
            serial_socket: dir.join(SERIAL_SOCKET),
            nvram,
        })
    }
}
