//! What a VM manager asks of libvirt about its domains: listing them with
//! their owner, their state, shutdown and reboot requests, undefining with
//! the UEFI variables, the VNC port, the CD-ROM's medium and the guest's
//! addresses.

use crate::connection::{DomainName, Libvirt, domain_err};
use crate::domain::{CDROM_TARGET, DomainSpec, METADATA_NS, cdrom_xml, domain_xml, path_text};
use crate::error::LibvirtError;
use crate::readback;
use std::net::IpAddr;
use std::path::Path;
use uuid::Uuid;
use virt::domain::Domain;
use virt::error::{Error as VirtError, ErrorNumber};
use virt::sys;

/// Where a domain is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DomainState {
    /// Running (or blocked on a resource, which libvirt reports apart).
    Running,
    /// Paused by libvirt or an administrator.
    Paused,
    /// Running, with a shutdown under way.
    ShuttingDown,
    /// Not running.
    Shutoff,
    /// The guest crashed (kept only with an `on_crash` other than
    /// destroy; a VM's domain shuts off instead).
    Crashed,
    /// Anything else: no state, suspended to RAM by the guest.
    Other,
}

impl DomainState {
    fn from_libvirt(state: sys::virDomainState) -> Self {
        match state {
            sys::VIR_DOMAIN_RUNNING | sys::VIR_DOMAIN_BLOCKED => DomainState::Running,
            sys::VIR_DOMAIN_PAUSED => DomainState::Paused,
            sys::VIR_DOMAIN_SHUTDOWN => DomainState::ShuttingDown,
            sys::VIR_DOMAIN_SHUTOFF => DomainState::Shutoff,
            sys::VIR_DOMAIN_CRASHED => DomainState::Crashed,
            _ => DomainState::Other,
        }
    }
}

/// A domain as [`Libvirt::domains`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainInfo {
    /// Its name.
    pub name: String,
    /// Its UUID.
    pub uuid: Uuid,
    /// Its state.
    pub state: DomainState,
    /// The VM id in its `lqx:vm` metadata ([`METADATA_NS`]); `None` for a
    /// domain that is not a VM of the cluster.
    pub owner: Option<Uuid>,
}

impl Libvirt {
    /// Renders `spec` ([`domain_xml`]) and defines (or redefines) the
    /// domain; returns its name.
    pub fn define_vm(&self, spec: &DomainSpec) -> Result<DomainName, LibvirtError> {
        self.define_domain(&domain_xml(spec)?)
    }

    /// Every domain, defined or transient, running or not, by name.
    pub fn domains(&self) -> Result<Vec<DomainInfo>, LibvirtError> {
        let all = self
            .conn
            .list_all_domains(0)
            .map_err(|e| LibvirtError::List("domains", e))?;
        let mut infos = Vec::with_capacity(all.len());
        for domain in all {
            match domain_info(&domain) {
                Ok(info) => infos.push(info),
                // Undefined (or a transient one stopped) since the list.
                Err(Failure::Virt(e)) if e.code() == ErrorNumber::NoDomain => {}
                Err(Failure::Virt(source)) => {
                    return Err(LibvirtError::List("domains", source));
                }
                Err(Failure::Xml { name, reason }) => {
                    return Err(LibvirtError::UnreadableXml {
                        what: format!("the metadata of domain {name:?}"),
                        reason,
                    });
                }
            }
        }
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(infos)
    }

    /// The domain's state.
    pub fn state(&self, name: &DomainName) -> Result<DomainState, LibvirtError> {
        let (state, _reason) = self
            .domain(name)?
            .get_state()
            .map_err(domain_err("inspecting", name))?;
        Ok(DomainState::from_libvirt(state))
    }

    /// Asks the guest to shut down by pressing its ACPI power button, and
    /// returns at once. A guest may ignore it (no OS, or one that does
    /// not listen): callers wait with a timeout, then [`Libvirt::destroy`].
    pub fn shutdown(&self, name: &DomainName) -> Result<(), LibvirtError> {
        self.domain(name)?
            .shutdown_flags(sys::VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)
            .map(drop)
            .map_err(not_running_or("shutting down", name))
    }

    /// Asks the guest to reboot through ACPI: libvirt presses the power
    /// button and starts the domain again once the guest has powered off.
    /// Returns at once; a guest may ignore it, as with
    /// [`Libvirt::shutdown`].
    pub fn reboot(&self, name: &DomainName) -> Result<(), LibvirtError> {
        self.domain(name)?
            .reboot(sys::VIR_DOMAIN_REBOOT_ACPI_POWER_BTN)
            .map_err(not_running_or("rebooting", name))
    }

    /// Removes a VM's definition with everything libvirt keeps beside it:
    /// the UEFI variables file, a managed-save image, snapshot and
    /// checkpoint metadata (libvirt refuses a plain undefine while any
    /// exists). A BIOS domain has no variables; that is not an error. A
    /// running domain keeps running, transient, until it stops.
    pub fn undefine_vm(&self, name: &DomainName) -> Result<(), LibvirtError> {
        let flags = sys::VIR_DOMAIN_UNDEFINE_NVRAM
            | sys::VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
            | sys::VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
            | sys::VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA;
        self.domain(name)?
            .undefine_flags(flags)
            .map_err(domain_err("undefining", name))
    }

    /// The VNC port QEMU listens on (on 127.0.0.1), chosen when the domain
    /// started; `None` when it is not running.
    pub fn vnc_port(&self, name: &DomainName) -> Result<Option<u16>, LibvirtError> {
        let domain = self.domain(name)?;
        if !domain.is_active().map_err(domain_err("inspecting", name))? {
            return Ok(None);
        }
        let xml = domain
            .get_xml_desc(0)
            .map_err(domain_err("reading the XML of", name))?;
        readback::vnc_port(&xml).map_err(unreadable(name))
    }

    /// Inserts `iso` into the CD-ROM drive [`CDROM_TARGET`], or ejects
    /// its medium for `None`: in the running guest and in the definition
    /// when the domain runs, in the definition otherwise.
    pub fn set_cdrom(&self, name: &DomainName, iso: Option<&Path>) -> Result<(), LibvirtError> {
        let iso = iso
            .map(|path| {
                path_text(path).map_err(|problem| LibvirtError::InvalidPath {
                    what: "ISO",
                    path: path.to_owned(),
                    problem,
                })
            })
            .transpose()?;
        let domain = self.domain(name)?;
        // libvirt replaces the whole <disk> in the definition: without the
        // drive's boot order, the VM would lose its place in the boot
        // sequence.
        let persistent = domain
            .get_xml_desc(sys::VIR_DOMAIN_XML_INACTIVE)
            .map_err(domain_err("reading the XML of", name))?;
        let boot_order =
            readback::disk_boot_order(&persistent, CDROM_TARGET).map_err(unreadable(name))?;
        let mut flags = 0;
        if domain.is_active().map_err(domain_err("inspecting", name))? {
            flags |= sys::VIR_DOMAIN_AFFECT_LIVE;
        }
        if domain
            .is_persistent()
            .map_err(domain_err("inspecting", name))?
        {
            flags |= sys::VIR_DOMAIN_AFFECT_CONFIG;
        }
        domain
            .update_device_flags(&cdrom_xml(iso, boot_order), flags)
            .map(drop)
            .map_err(domain_err("changing the CD-ROM of", name))
    }

    /// The IPv4 addresses the host's ARP table holds for the domain's
    /// MAC addresses: empty, not an error, when none are known or the
    /// domain is not running.
    ///
    /// libvirt's ARP source (`virsh domifaddr --source arp`) fails with
    /// "wrong nlmsg len" on kernels that end a netlink dump in the same
    /// message as its last entry (libvirt 9.0 on Linux 6.x here); the
    /// same table is then read from `/proc/net/arp`, which is right for a
    /// connection to the local daemon, the only kind lqxd opens.
    pub fn addresses(&self, name: &DomainName) -> Result<Vec<IpAddr>, LibvirtError> {
        let domain = self.domain(name)?;
        if !domain.is_active().map_err(domain_err("inspecting", name))? {
            return Ok(Vec::new());
        }
        let mut addresses: Vec<IpAddr> =
            match domain.interface_addresses(sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP, 0) {
                Ok(interfaces) => interfaces
                    .iter()
                    .flat_map(|i| &i.addrs)
                    .filter_map(|a| a.addr.parse().ok())
                    .collect(),
                Err(e) if e.code() == ErrorNumber::InternalError => arp_addresses(&domain, name)?,
                Err(e) => return Err(domain_err("reading the addresses of", name)(e)),
            };
        addresses.sort();
        addresses.dedup();
        Ok(addresses)
    }

    /// libvirt's id of the running domain, new each time it starts; `None`
    /// when it is not running.
    pub fn domain_id(&self, name: &DomainName) -> Result<Option<u32>, LibvirtError> {
        Ok(self.domain(name)?.get_id())
    }

    /// The domain's persistent definition, as libvirt completed it
    /// (addresses, controllers, machine version).
    pub fn domain_xml_of(&self, name: &DomainName) -> Result<String, LibvirtError> {
        self.domain(name)?
            .get_xml_desc(sys::VIR_DOMAIN_XML_INACTIVE)
            .map_err(domain_err("reading the XML of", name))
    }
}

/// The IPv4 addresses `/proc/net/arp` holds for the domain's MACs.
fn arp_addresses(domain: &Domain, name: &DomainName) -> Result<Vec<IpAddr>, LibvirtError> {
    let xml = domain
        .get_xml_desc(0)
        .map_err(domain_err("reading the XML of", name))?;
    let macs = readback::interface_macs(&xml).map_err(unreadable(name))?;
    let table = std::fs::read_to_string("/proc/net/arp").map_err(LibvirtError::ArpTable)?;
    Ok(readback::arp_entries(&table)
        .into_iter()
        .filter(|(_, mac)| macs.contains(mac))
        .map(|(ip, _)| IpAddr::V4(ip))
        .collect())
}

enum Failure {
    Virt(VirtError),
    Xml { name: String, reason: String },
}

fn domain_info(domain: &Domain) -> Result<DomainInfo, Failure> {
    let name = domain.get_name().map_err(Failure::Virt)?;
    let uuid = domain.get_uuid().map_err(Failure::Virt)?;
    let (state, _reason) = domain.get_state().map_err(Failure::Virt)?;
    let owner = match domain.get_metadata(
        sys::VIR_DOMAIN_METADATA_ELEMENT as i32,
        Some(METADATA_NS),
        0,
    ) {
        Ok(element) => readback::metadata_owner(&element).map_err(|reason| Failure::Xml {
            name: name.clone(),
            reason,
        })?,
        Err(e) if e.code() == ErrorNumber::NoDomainMetadata => None,
        Err(e) => return Err(Failure::Virt(e)),
    };
    Ok(DomainInfo {
        name,
        uuid,
        state: DomainState::from_libvirt(state),
        owner,
    })
}

/// libvirt answers a request that needs a running domain with "operation
/// invalid" when it is not running.
fn not_running_or(
    action: &'static str,
    name: &DomainName,
) -> impl FnOnce(VirtError) -> LibvirtError {
    let name = name.clone();
    move |source| {
        if source.code() == ErrorNumber::OperationInvalid {
            LibvirtError::DomainNotRunning(name.as_str().to_owned())
        } else {
            domain_err(action, &name)(source)
        }
    }
}

fn unreadable(name: &DomainName) -> impl FnOnce(String) -> LibvirtError {
    let what = format!("domain {:?}", name.as_str());
    move |reason| LibvirtError::UnreadableXml { what, reason }
}
