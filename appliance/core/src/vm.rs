//! Virtual machines: what makes a spec valid, where a VM may run, and the
//! records the cluster store keeps.
//!
//! Keys in the store (values are JSON):
//! - `/lqx/v1/vms/specs/{id}`: [`VmRecord`], the desired state.
//! - `/lqx/v1/vms/names/{name}`: the id, so that names are unique (created
//!   in the same transaction as the record).
//! - `/lqx/v1/vms/status/{id}`: [`lqx_api::VmStatus`], written by the
//!   VM's host.
//! - `/lqx/v1/vms/foreign/{host}`: the domains on a host that no VM owns.
//! - `/lqx/v1/members/capacity/{host}`: [`HostCapacity`], what a host can
//!   offer VMs, read with the member list at one revision.

use crate::cluster::MEMBERS;
use lqx_api::{BootDevice, ForeignDomain, PowerIntent, Vm, VmDisk, VmSpec, VmStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// Prefix of every VM key.
pub const VMS: &str = "/lqx/v1/vms/";
/// Prefix of the VM records.
pub const SPECS: &str = "/lqx/v1/vms/specs/";
/// Prefix of the VM statuses.
pub const STATUSES: &str = "/lqx/v1/vms/status/";
/// Prefix of the foreign domain lists.
pub const FOREIGN: &str = "/lqx/v1/vms/foreign/";
/// Most virtual CPUs a VM may have.
pub const MAX_VCPUS: u16 = 64;
/// Least memory a VM may have (MiB).
pub const MIN_MEMORY_MIB: u64 = 32;
/// Most memory a VM may have (MiB): 1 TiB.
pub const MAX_MEMORY_MIB: u64 = 1 << 20;
/// Most disks.
pub const MAX_DISKS: usize = 16;
/// Most NICs.
pub const MAX_NICS: usize = 8;
/// Default seconds a shutdown waits before it forces the VM off.
pub const DEFAULT_SHUTDOWN_SECONDS: u64 = 60;

/// Key of a VM's record.
pub fn spec_key(id: Uuid) -> String {
    format!("{SPECS}{id}")
}

/// Key reserving a VM name.
pub fn name_key(name: &str) -> String {
    format!("{VMS}names/{name}")
}

/// Key of a VM's status.
pub fn status_key(id: Uuid) -> String {
    format!("{STATUSES}{id}")
}

/// Key of a host's list of foreign domains.
pub fn foreign_key(host: Uuid) -> String {
    format!("{FOREIGN}{host}")
}

/// Key of a host's capacity.
pub fn capacity_key(host: Uuid) -> String {
    format!("{MEMBERS}capacity/{host}")
}

/// A VM as the store keeps it: the desired state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmRecord {
    /// Its id.
    pub id: Uuid,
    /// What it is.
    pub spec: VmSpec,
    /// The host it runs on.
    pub host: Uuid,
    /// Whether it should run.
    pub power: PowerIntent,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Everything under [`VMS`], read at one revision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VmsView {
    /// The records, by id.
    pub records: BTreeMap<Uuid, VmRecord>,
    /// The statuses, by VM id.
    pub statuses: BTreeMap<Uuid, VmStatus>,
    /// Foreign domains, by host.
    pub foreign: BTreeMap<Uuid, Vec<ForeignDomain>>,
}

impl VmsView {
    /// Sorts `(key, value)` pairs read under [`VMS`]; values that do not
    /// parse are skipped.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Self {
        let mut view = Self::default();
        for (key, value) in entries {
            let Some(rest) = key.strip_prefix(VMS) else {
                continue;
            };
            let Some((kind, id)) = rest.split_once('/') else {
                continue;
            };
            let Ok(id) = id.parse::<Uuid>() else {
                continue;
            };
            match kind {
                "specs" => {
                    if let Ok(r) = serde_json::from_slice(value) {
                        view.records.insert(id, r);
                    }
                }
                "status" => {
                    if let Ok(s) = serde_json::from_slice(value) {
                        view.statuses.insert(id, s);
                    }
                }
                "foreign" => {
                    if let Ok(f) = serde_json::from_slice(value) {
                        view.foreign.insert(id, f);
                    }
                }
                _ => {}
            }
        }
        view
    }

    /// The VM `name` names: its id, or its name.
    pub fn find(&self, name: &str) -> Option<&VmRecord> {
        match name.parse::<Uuid>() {
            Ok(id) => self.records.get(&id),
            Err(_) => self.records.values().find(|r| r.spec.name == name),
        }
    }

    /// The VM as the API shows it.
    pub fn vm(&self, record: &VmRecord) -> Vm {
        Vm {
            id: record.id,
            spec: record.spec.clone(),
            host: record.host,
            power: record.power,
            status: self.statuses.get(&record.id).cloned(),
            created_at: record.created_at,
        }
    }

    /// Every VM, by name.
    pub fn vms(&self) -> Vec<Vm> {
        let mut vms: Vec<Vm> = self.records.values().map(|r| self.vm(r)).collect();
        vms.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        vms
    }

    /// Memory (MiB) of the VMs placed on `host` that should run but are
    /// not reported running.
    pub fn promised_mib(&self, host: Uuid) -> u64 {
        self.records
            .values()
            .filter(|r| r.host == host && r.power == PowerIntent::Running)
            .filter(|r| {
                !matches!(
                    self.statuses.get(&r.id).map(|s| s.state),
                    Some(lqx_api::VmState::Running | lqx_api::VmState::Paused)
                )
            })
            .map(|r| r.spec.memory_mib)
            .sum()
    }
}

/// What a host offers VMs, as it reports every few seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostCapacity {
    /// Whether it reaches a libvirt daemon (no VM runs without).
    pub libvirt: bool,
    /// Whether it joined the Ceph cluster (RBD disks).
    pub ceph: bool,
    /// Whether it is registered as an OVN chassis (NICs on virtual
    /// networks bind only there). Absent in reports of older agents.
    #[serde(default)]
    pub chassis: bool,
    /// Its memory (MiB).
    pub memory_total_mib: u64,
    /// Memory available for new VMs now (MiB), as the kernel estimates it.
    pub memory_available_mib: u64,
    /// Its CPUs.
    pub cpus: u32,
    /// Its local storage pools.
    pub pools: Vec<String>,
    /// Its Linux bridges.
    pub bridges: Vec<String>,
}

/// A host as placement sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Its id.
    pub id: Uuid,
    /// Its hostname.
    pub hostname: String,
    /// Whether its heartbeat is current.
    pub ready: bool,
    /// What it reported, if it did.
    pub capacity: Option<HostCapacity>,
    /// Memory (MiB) of its VMs that should run but do not yet: promised,
    /// but not yet taken from what it reports available.
    pub promised_mib: u64,
}

pub(crate) fn is_name(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// Checks a VM name: 1–63 of `a-z 0-9 -`, not starting or ending with
/// `-` (it becomes a hostname and a libvirt domain name).
pub fn check_vm_name(name: &str) -> Result<(), String> {
    if is_name(name, 63) {
        Ok(())
    } else {
        Err(format!(
            "name {name:?}: use 1 to 63 of a-z, 0-9 and '-', not at either end"
        ))
    }
}

/// Checks a local pool's name (same rule as VM names).
pub fn check_pool_name(name: &str) -> Result<(), String> {
    if is_name(name, 63) {
        Ok(())
    } else {
        Err(format!(
            "pool {name:?}: use 1 to 63 of a-z, 0-9 and '-', not at either end"
        ))
    }
}

/// Checks a pool volume's name: a file name of 1–128 of
/// `A-Z a-z 0-9 . _ -`, not starting with `.`.
pub fn check_volume_name(name: &str) -> Result<(), String> {
    let ok = (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "volume {name:?}: use 1 to 128 of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '.'"
        ))
    }
}

/// Checks a Linux bridge name: 1–15 bytes, no `/`, whitespace or `:`.
pub fn check_bridge_name(name: &str) -> Result<(), String> {
    let ok = (1..=15).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "bridge {name:?}: an interface name of 1 to 15 of A-Z, a-z, 0-9, '.', '_' and '-'"
        ))
    }
}

/// Checks a MAC address: six hex octets with `:`, unicast.
pub fn check_mac(mac: &str) -> Result<(), String> {
    let octets: Vec<&str> = mac.split(':').collect();
    let hex = octets.len() == 6
        && octets
            .iter()
            .all(|o| o.len() == 2 && o.bytes().all(|b| b.is_ascii_hexdigit()));
    let unicast = hex && u8::from_str_radix(octets[0], 16).is_ok_and(|first| first & 1 == 0);
    if unicast {
        Ok(())
    } else {
        Err(format!(
            "MAC {mac:?}: six hex octets like 52:54:00:12:34:56, unicast"
        ))
    }
}

/// A MAC address for a VM's NIC: QEMU's `52:54:00` prefix and three
/// bytes from the VM's id and the NIC's index, so it is stable across
/// redefinitions.
pub fn default_mac(vm: Uuid, index: usize) -> String {
    let b = vm.as_bytes();
    let low = (b[15] as usize + index) as u8;
    format!("52:54:00:{:02x}:{:02x}:{low:02x}", b[13], b[14])
}

/// Every problem of `spec` (empty when it is valid). cloud-init data is
/// checked apart (lqx-cloudinit).
pub fn check_spec(spec: &VmSpec) -> Vec<String> {
    let mut problems = Vec::new();
    let mut push = |r: Result<(), String>| {
        if let Err(e) = r {
            problems.push(e);
        }
    };
    push(check_vm_name(&spec.name));
    if !(1..=MAX_VCPUS).contains(&spec.vcpus) {
        push(Err(format!(
            "vcpus: {} is not 1 to {MAX_VCPUS}",
            spec.vcpus
        )));
    }
    if !(MIN_MEMORY_MIB..=MAX_MEMORY_MIB).contains(&spec.memory_mib) {
        push(Err(format!(
            "memory: {} MiB is not {MIN_MEMORY_MIB} MiB to 1 TiB",
            spec.memory_mib
        )));
    }
    if spec.disks.len() > MAX_DISKS {
        push(Err(format!("disks: at most {MAX_DISKS}")));
    }
    for disk in &spec.disks {
        match disk {
            VmDisk::Rbd { pool, image } => {
                push(crate::ceph::check_name("pool", pool));
                push(crate::ceph::check_name("image", image));
            }
            VmDisk::Local { pool, volume } => {
                push(check_pool_name(pool));
                push(check_volume_name(volume));
            }
        }
    }
    for (i, disk) in spec.disks.iter().enumerate() {
        if spec.disks[..i].contains(disk) {
            push(Err(format!("disks: {disk:?} is given twice")));
        }
    }
    if let Some(cdrom) = &spec.cdrom {
        push(check_pool_name(&cdrom.pool));
        push(check_volume_name(&cdrom.volume));
    }
    if spec.nics.len() > MAX_NICS {
        push(Err(format!("nics: at most {MAX_NICS}")));
    }
    for nic in &spec.nics {
        match (&nic.bridge, &nic.network) {
            (Some(bridge), None) => {
                push(check_bridge_name(bridge));
                if nic.ip.is_some() || !nic.security_groups.is_empty() {
                    push(Err(format!(
                        "NIC on bridge {bridge}: an address and security groups need a network"
                    )));
                }
            }
            (None, Some(network)) => {
                if !is_name(network, 63) {
                    push(Err(format!(
                        "network {network:?}: use 1 to 63 of a-z, 0-9 and '-', not at either end"
                    )));
                }
            }
            _ => push(Err(
                "a NIC is on a bridge or on a network: give one of them".into(),
            )),
        }
        if let Some(mac) = &nic.mac {
            push(check_mac(mac));
        }
    }
    let mut boot = spec.boot.clone();
    boot.sort_by_key(|d| *d as u8);
    boot.dedup();
    if boot.len() != spec.boot.len() {
        push(Err("boot: a device is named twice".into()));
    }
    if spec.boot.contains(&BootDevice::Cdrom) && spec.cdrom.is_none() {
        push(Err("boot: cdrom, but the VM has no CD-ROM image".into()));
    }
    if spec.boot.contains(&BootDevice::Disk) && spec.disks.is_empty() {
        push(Err("boot: disk, but the VM has no disk".into()));
    }
    if spec.boot.contains(&BootDevice::Network) && spec.nics.is_empty() {
        push(Err("boot: network, but the VM has no NIC".into()));
    }
    problems
}

/// The boot order: the spec's, or disk, CD-ROM, network (those the VM
/// has).
pub fn boot_order(spec: &VmSpec) -> Vec<BootDevice> {
    if !spec.boot.is_empty() {
        return spec.boot.clone();
    }
    let mut order = Vec::new();
    if !spec.disks.is_empty() {
        order.push(BootDevice::Disk);
    }
    if spec.cdrom.is_some() {
        order.push(BootDevice::Cdrom);
    }
    if !spec.nics.is_empty() {
        order.push(BootDevice::Network);
    }
    order
}

/// Why `candidate` cannot take `spec`, if it cannot.
fn unfit(spec: &VmSpec, candidate: &Candidate) -> Option<String> {
    let name = &candidate.hostname;
    if !candidate.ready {
        return Some(format!("{name} is unreachable"));
    }
    let Some(capacity) = &candidate.capacity else {
        return Some(format!("{name} has not reported what it can run"));
    };
    if !capacity.libvirt {
        return Some(format!("{name} has no libvirt"));
    }
    let rbd = spec.disks.iter().any(|d| matches!(d, VmDisk::Rbd { .. }));
    if rbd && !capacity.ceph {
        return Some(format!("{name} has not joined Ceph (the VM has RBD disks)"));
    }
    let pools = spec
        .disks
        .iter()
        .filter_map(|d| match d {
            VmDisk::Local { pool, .. } => Some(pool),
            VmDisk::Rbd { .. } => None,
        })
        .chain(spec.cdrom.iter().map(|c| &c.pool));
    for pool in pools {
        if !capacity.pools.contains(pool) {
            return Some(format!("{name} has no local pool {pool}"));
        }
    }
    // A NIC on a virtual network binds on whichever chassis runs the VM:
    // anywhere else it would never pass a packet.
    if spec.nics.iter().any(|n| n.network.is_some()) && !capacity.chassis {
        return Some(format!(
            "{name} is not an OVN chassis (the VM has NICs on virtual networks)"
        ));
    }
    for bridge in spec.nics.iter().filter_map(|n| n.bridge.as_ref()) {
        if !capacity.bridges.contains(bridge) {
            return Some(format!("{name} has no bridge {bridge}"));
        }
    }
    let free = capacity
        .memory_available_mib
        .saturating_sub(candidate.promised_mib);
    if free < spec.memory_mib {
        return Some(format!(
            "{name} has {free} MiB of memory free; the VM needs {} MiB",
            spec.memory_mib
        ));
    }
    None
}

/// Chooses the host for a VM: `wanted` if it can take it, or else the
/// ready host with the most free memory that reaches the VM's disks,
/// pools and bridges. The error says why each host cannot.
pub fn place(
    spec: &VmSpec,
    candidates: &[Candidate],
    wanted: Option<Uuid>,
) -> Result<Uuid, String> {
    if let Some(id) = wanted {
        let candidate = candidates
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| format!("host {id} is not a member of the cluster"))?;
        return match unfit(spec, candidate) {
            Some(why) => Err(why),
            None => Ok(id),
        };
    }
    let free = |c: &Candidate| {
        c.capacity.as_ref().map_or(0, |cap| {
            cap.memory_available_mib.saturating_sub(c.promised_mib)
        })
    };
    let mut reasons = Vec::new();
    let mut best: Option<&Candidate> = None;
    for candidate in candidates {
        match unfit(spec, candidate) {
            Some(why) => reasons.push(why),
            None => {
                if best.is_none_or(|b| (free(candidate), candidate.id) > (free(b), b.id)) {
                    best = Some(candidate);
                }
            }
        }
    }
    best.map(|c| c.id).ok_or_else(|| {
        if reasons.is_empty() {
            "no host can run it: the cluster has no members".into()
        } else {
            format!("no host can run it: {}", reasons.join("; "))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lqx_api::{Firmware, PoolVolumeRef, VmNic};

    fn spec() -> VmSpec {
        VmSpec {
            name: "web-1".into(),
            vcpus: 2,
            memory_mib: 1024,
            disks: vec![VmDisk::Rbd {
                pool: "vms".into(),
                image: "web-1".into(),
            }],
            cdrom: None,
            nics: vec![VmNic::on_bridge("br0")],
            cloud_init: None,
            boot: vec![],
            firmware: Firmware::Bios,
        }
    }

    fn host(n: u128, available: u64) -> Candidate {
        Candidate {
            id: Uuid::from_u128(n),
            hostname: format!("hv{n}"),
            ready: true,
            capacity: Some(HostCapacity {
                libvirt: true,
                ceph: true,
                chassis: true,
                memory_total_mib: 8192,
                memory_available_mib: available,
                cpus: 4,
                pools: vec!["isos".into()],
                bridges: vec!["br0".into()],
            }),
            promised_mib: 0,
        }
    }

    #[test]
    fn specs_are_checked_field_by_field() {
        assert!(check_spec(&spec()).is_empty());
        let mut bad = spec();
        bad.name = "Web_1".into();
        bad.vcpus = 0;
        bad.memory_mib = 16;
        bad.nics[0].mac = Some("01:00:5e:00:00:01".into());
        bad.nics[0].bridge = Some("a-very-long-bridge-name".into());
        bad.nics.push(VmNic {
            network: Some("blue".into()),
            ..VmNic::on_bridge("br0")
        });
        bad.boot = vec![BootDevice::Cdrom, BootDevice::Cdrom];
        bad.disks.push(bad.disks[0].clone());
        let problems = check_spec(&bad).join("\n");
        for expected in [
            "name \"Web_1\"",
            "vcpus: 0",
            "memory: 16 MiB",
            "unicast",
            "bridge \"a-very-long-bridge-name\"",
            "give one of them",
            "named twice",
            "given twice",
            "no CD-ROM image",
        ] {
            assert!(problems.contains(expected), "{expected}: {problems}");
        }
    }

    #[test]
    fn boot_order_defaults_to_what_the_vm_has() {
        let mut s = spec();
        assert_eq!(boot_order(&s), [BootDevice::Disk, BootDevice::Network]);
        s.cdrom = Some(PoolVolumeRef {
            pool: "isos".into(),
            volume: "debian.iso".into(),
        });
        s.boot = vec![BootDevice::Cdrom, BootDevice::Disk];
        assert_eq!(boot_order(&s), [BootDevice::Cdrom, BootDevice::Disk]);
    }

    #[test]
    fn macs() {
        assert!(check_mac("52:54:00:ab:cd:ef").is_ok());
        for bad in [
            "52:54:00:ab:cd",
            "zz:54:00:ab:cd:ef",
            "01:54:00:ab:cd:ef",
            "",
        ] {
            assert!(check_mac(bad).is_err(), "{bad}");
        }
        let id = Uuid::from_u128(0x1234_5678);
        assert!(check_mac(&default_mac(id, 0)).is_ok());
        assert_ne!(default_mac(id, 0), default_mac(id, 1));
        assert_eq!(default_mac(id, 0), default_mac(id, 0));
    }

    #[test]
    fn the_most_free_memory_wins_among_hosts_that_fit() {
        let hosts = [host(1, 2048), host(2, 6000), host(3, 4000)];
        assert_eq!(place(&spec(), &hosts, None), Ok(Uuid::from_u128(2)));
        // Promised memory counts as taken.
        let mut promised = hosts.clone();
        promised[1].promised_mib = 5000;
        assert_eq!(place(&spec(), &promised, None), Ok(Uuid::from_u128(3)));
        // A host without Ceph cannot take RBD disks; one without the
        // bridge cannot take the NIC; an unreachable one takes nothing.
        let mut picky = hosts.clone();
        picky[1].capacity.as_mut().unwrap().ceph = false;
        picky[2].capacity.as_mut().unwrap().bridges.clear();
        picky[0].ready = false;
        let err = place(&spec(), &picky, None).unwrap_err();
        assert!(err.contains("hv1 is unreachable"), "{err}");
        assert!(err.contains("hv2 has not joined Ceph"), "{err}");
        assert!(err.contains("hv3 has no bridge br0"), "{err}");
    }

    #[test]
    fn nics_on_virtual_networks_go_to_chassis_only() {
        let mut hosts = [host(1, 2048), host(2, 6000)];
        hosts[1].capacity.as_mut().unwrap().chassis = false;
        let mut on_network = spec();
        on_network.nics = vec![VmNic::on_network("blue")];
        // The roomier host is no chassis: the other one takes the VM.
        assert_eq!(place(&on_network, &hosts, None), Ok(Uuid::from_u128(1)));
        let err = place(&on_network, &hosts, Some(Uuid::from_u128(2))).unwrap_err();
        assert!(err.contains("hv2 is not an OVN chassis"), "{err}");
        // Bridge NICs do not care.
        assert_eq!(place(&spec(), &hosts, None), Ok(Uuid::from_u128(2)));
        hosts[0].capacity.as_mut().unwrap().chassis = false;
        let err = place(&on_network, &hosts, None).unwrap_err();
        assert!(err.contains("hv1 is not an OVN chassis"), "{err}");
    }

    #[test]
    fn a_named_host_is_taken_or_refused_with_the_reason() {
        let hosts = [host(1, 512), host(2, 6000)];
        assert_eq!(
            place(&spec(), &hosts, Some(Uuid::from_u128(2))),
            Ok(Uuid::from_u128(2))
        );
        let err = place(&spec(), &hosts, Some(Uuid::from_u128(1))).unwrap_err();
        assert!(err.contains("512 MiB of memory free"), "{err}");
        let mut local = spec();
        local.disks = vec![VmDisk::Local {
            pool: "fast".into(),
            volume: "a.qcow2".into(),
        }];
        let err = place(&local, &hosts, Some(Uuid::from_u128(2))).unwrap_err();
        assert!(err.contains("no local pool fast"), "{err}");
    }
}
