//! Virtual machines on the cluster's hosts, and the local storage pools
//! that hold their qcow2 disks and ISO images.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A disk of a VM, in boot order among the disks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum VmDisk {
    /// An RBD image of the Ceph cluster the hosts joined.
    Rbd {
        /// The pool.
        pool: String,
        /// The image.
        image: String,
    },
    /// A volume (qcow2 or raw) in a local storage pool of the VM's host.
    Local {
        /// The pool.
        pool: String,
        /// The volume.
        volume: String,
    },
}

/// A volume of a local storage pool (an ISO for a CD-ROM).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolVolumeRef {
    /// The pool.
    pub pool: String,
    /// The volume.
    pub volume: String,
}

/// A network interface of a VM: on a Linux bridge of its host, or on a
/// virtual network (an OVN logical switch port, bound wherever the VM
/// runs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VmNic {
    /// The Linux bridge on the host it is plugged into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<String>,
    /// The virtual network it is on (instead of a bridge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Its address on the network; default the first free one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub ip: Option<std::net::Ipv4Addr>,
    /// Its security groups on the network.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    /// Its MAC address; one is chosen when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// The id of its port on the network, filled in by the VM's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
}

impl VmNic {
    /// A NIC on a host bridge.
    pub fn on_bridge(bridge: &str) -> Self {
        Self {
            bridge: Some(bridge.to_owned()),
            network: None,
            ip: None,
            security_groups: Vec::new(),
            mac: None,
            port: None,
        }
    }

    /// A NIC on a virtual network.
    pub fn on_network(network: &str) -> Self {
        Self {
            bridge: None,
            network: Some(network.to_owned()),
            ip: None,
            security_groups: Vec::new(),
            mac: None,
            port: None,
        }
    }
}

/// cloud-init's NoCloud data, given to the VM on a seed ISO (`cidata`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloudInit {
    /// `user-data`: `#cloud-config` YAML, or a script starting with `#!`.
    pub user_data: String,
    /// `meta-data` (YAML); default: the VM's id as `instance-id` and its
    /// name as `local-hostname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<String>,
    /// `network-config` (YAML, version 1 or 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_config: Option<String>,
}

// user-data often carries passwords and keys.
impl std::fmt::Debug for CloudInit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudInit")
            .field("user_data_bytes", &self.user_data.len())
            .field("meta_data", &self.meta_data.is_some())
            .field("network_config", &self.network_config.is_some())
            .finish()
    }
}

/// What the VM boots from, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BootDevice {
    /// Its disks.
    Disk,
    /// Its CD-ROM.
    Cdrom,
    /// Its NICs (PXE).
    Network,
}

/// The VM's firmware.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Firmware {
    /// SeaBIOS.
    #[default]
    Bios,
    /// OVMF (UEFI), with its variables kept per VM.
    Uefi,
}

/// What a VM is: everything but where it runs and whether it should.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VmSpec {
    /// Its name, unique in the cluster: 1–63 of `a-z 0-9 -`.
    pub name: String,
    /// Virtual CPUs: 1–64.
    pub vcpus: u16,
    /// Memory in MiB: 32 to 1 TiB.
    pub memory_mib: u64,
    /// Disks, in boot order among the disks.
    #[serde(default)]
    pub disks: Vec<VmDisk>,
    /// An ISO image from a local pool of the VM's host, as its CD-ROM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cdrom: Option<PoolVolumeRef>,
    /// Network interfaces.
    #[serde(default)]
    pub nics: Vec<VmNic>,
    /// cloud-init data, given on a seed ISO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_init: Option<CloudInit>,
    /// Boot order; default disk, CD-ROM, network.
    #[serde(default)]
    pub boot: Vec<BootDevice>,
    /// Firmware; default BIOS.
    #[serde(default)]
    pub firmware: Firmware,
}

/// `POST /v1/vms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VmCreate {
    /// The VM.
    pub spec: VmSpec,
    /// The host to run it on (id, or hostname when unique); default: the
    /// ready host with the most free memory that can reach its disks,
    /// pools and bridges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Start it once defined (default true).
    #[serde(default = "yes")]
    pub start: bool,
}

fn yes() -> bool {
    true
}

/// Whether a VM should run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PowerIntent {
    /// It should run: its host starts it (again, after the host restarts).
    Running,
    /// It should be off.
    Stopped,
}

/// What a VM is doing, as its host last saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VmState {
    /// Its QEMU runs.
    Running,
    /// Paused by libvirt.
    Paused,
    /// Shutting down (an ACPI request was sent).
    ShuttingDown,
    /// Off.
    Stopped,
    /// Its QEMU died.
    Crashed,
    /// Its host could not define or start it; see the message.
    Failed,
}

/// A VM's state as its host reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VmStatus {
    /// What it is doing.
    pub state: VmState,
    /// Since when.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub since: OffsetDateTime,
    /// The host's VNC port of its display (on the host's loopback; reach
    /// it through `GET /v1/vms/{vm}/console`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vnc_port: Option<u16>,
    /// Its addresses, when the host's ARP table knows them.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub addresses: Vec<IpAddr>,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the host last reported.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub reported_at: OffsetDateTime,
}

/// A VM of the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Vm {
    /// Its id (also its libvirt domain's UUID).
    pub id: Uuid,
    /// What it is.
    pub spec: VmSpec,
    /// The host it is placed on.
    pub host: Uuid,
    /// Whether it should run.
    pub power: PowerIntent,
    /// What its host last reported; none before the first report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<VmStatus>,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// A libvirt domain on a host that no VM of the cluster owns: left alone,
/// and listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ForeignDomain {
    /// The host it is on.
    pub host: Uuid,
    /// Its name.
    pub name: String,
    /// Whether it runs.
    pub running: bool,
}

/// `GET /v1/vms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VmList {
    /// The cluster's VMs, by name.
    pub vms: Vec<Vm>,
    /// Domains on the hosts that no VM owns.
    pub foreign: Vec<ForeignDomain>,
}

/// `POST /v1/vms/{vm}/shutdown`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShutdownRequest {
    /// Seconds to wait for the guest to power off after the ACPI request
    /// before it is stopped forcibly (1–3600; default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
}

/// How a shutdown ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShutdownOutcome {
    /// The guest powered off by itself.
    Clean,
    /// It did not within the timeout and was stopped forcibly.
    Forced,
    /// It was not running.
    AlreadyStopped,
}

/// `POST /v1/vms/{vm}/shutdown`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShutdownDone {
    /// How it ended.
    pub outcome: ShutdownOutcome,
    /// The VM now.
    pub vm: Vm,
}

/// Query of `DELETE /v1/vms/{vm}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VmDeleteQuery {
    /// Delete a running VM (it is stopped forcibly first).
    #[serde(default)]
    pub force: bool,
    /// Also delete its disks (RBD images and local volumes).
    #[serde(default)]
    pub disks: bool,
}

/// `POST /v1/pools`: a local storage pool, a directory on this host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolCreate {
    /// Its name: 1–63 of `a-z 0-9 -`.
    pub name: String,
    /// Its directory; default `STATE_DIR/pools/NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// What a pool volume holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VolumeFormat {
    /// A qcow2 disk.
    Qcow2,
    /// A raw disk image.
    Raw,
    /// An ISO 9660 image.
    Iso,
}

/// A volume of a local pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PoolVolume {
    /// Its name (the file's name).
    pub name: String,
    /// Its format.
    pub format: VolumeFormat,
    /// Its size as the VM sees it.
    pub capacity_bytes: u64,
    /// Space it takes on the host.
    pub allocation_bytes: u64,
}

/// A local storage pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Pool {
    /// Its name.
    pub name: String,
    /// Its directory.
    pub path: String,
    /// Size of the filesystem it is on.
    pub capacity_bytes: u64,
    /// Free space there.
    pub available_bytes: u64,
    /// Its volumes, by name.
    pub volumes: Vec<PoolVolume>,
}

/// `POST /v1/pools/{pool}/volumes`: a new empty disk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolVolumeCreate {
    /// Its name: 1–128 of `A-Z a-z 0-9 . _ -`, not starting with `.`.
    pub name: String,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// qcow2 (default) or raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<VolumeFormat>,
}

/// `POST /v1/pools/{pool}/volumes/{volume}/resize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolVolumeResize {
    /// The new size in bytes; only growing is allowed.
    pub size_bytes: u64,
}
