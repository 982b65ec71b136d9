//! A VM of the cluster as a libvirt domain: what it is made of
//! ([`DomainSpec`]), its checks, and its `<domain>` XML. No I/O.
//!
//! Every VM gets the same machine around its own disks, CD-ROMs and NICs:
//! q35 (CD-ROMs on SATA, disks and NICs virtio), ACPI so a shutdown request
//! can reach the guest, a VNC display on the host's loopback for the
//! console proxy, a serial console on a Unix socket, a virtio RNG so
//! guests do not starve for entropy at boot, and `on_crash` destroy so a
//! crashed guest stops instead of looping. The `lqx:vm` element in
//! `<metadata>` ([`METADATA_NS`]) marks the domain as a VM of the cluster;
//! domains without it belong to someone else.

use crate::disk::{DiskError, RbdDisk};
use crate::xml::{escape, has_forbidden_char};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// The namespace of the `<lqx:vm id='UUID'/>` element in a domain's
/// `<metadata>`: the mark of a VM of the cluster, and its id.
pub const METADATA_NS: &str = "https://limiquantix.dev/xmlns/vm/1";

/// The target of the CD-ROM drive that takes ISO images, present in every
/// VM (empty when no ISO is inserted): what
/// [`Libvirt::set_cdrom`](crate::Libvirt::set_cdrom) changes.
pub const CDROM_TARGET: &str = "sda";

/// The target of the read-only CD-ROM holding the cloud-init seed, when
/// the VM has one.
pub const SEED_TARGET: &str = "sdb";

/// The smallest memory a VM may have: below it, even firmware fails.
pub const MIN_MEMORY_MIB: u64 = 32;

/// The longest path a Unix socket can be bound to (`sun_path` less its
/// terminating NUL); QEMU would fail only when the VM starts.
const MAX_SOCKET_PATH: usize = 107;

/// Everything that makes up a VM's domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainSpec {
    /// The VM's id: the domain's `<uuid>` and the id in its metadata.
    pub id: Uuid,
    /// The domain's name: 1 to 63 of `a-z`, `0-9` and `-`.
    pub name: String,
    /// Virtual CPUs, at least 1.
    pub vcpus: u16,
    /// Memory in MiB, at least [`MIN_MEMORY_MIB`].
    pub memory_mib: u64,
    /// BIOS or UEFI.
    pub firmware: Firmware,
    /// Hardware virtualisation or emulation.
    pub accel: Accel,
    /// The disks, in order: `vda`, `vdb`, ... on virtio.
    pub disks: Vec<DiskSource>,
    /// The ISO in the CD-ROM drive ([`CDROM_TARGET`]); the drive exists
    /// even when this is `None` (an empty tray), so an ISO can be inserted
    /// later.
    pub cdrom: Option<PathBuf>,
    /// The cloud-init seed ISO, a second read-only CD-ROM
    /// ([`SEED_TARGET`]).
    pub seed: Option<PathBuf>,
    /// The network interfaces, in order.
    pub nics: Vec<Nic>,
    /// The boot order. Devices the VM lacks (a disk when it has none) are
    /// skipped; listing a device twice is refused.
    pub boot: Vec<Boot>,
    /// The Unix socket QEMU listens on for the serial console.
    pub serial_socket: PathBuf,
    /// The UEFI variables file (UEFI only); libvirt copies the firmware's
    /// template there on first start. `None` lets libvirt pick a path
    /// under `/var/lib/libvirt/qemu/nvram`.
    pub nvram: Option<PathBuf>,
}

/// The firmware a VM boots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Firmware {
    /// SeaBIOS.
    Bios,
    /// OVMF without Secure Boot.
    Uefi,
}

/// How QEMU runs the guest's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Accel {
    /// KVM (`<domain type='kvm'>`), the host's CPU passed through.
    Kvm,
    /// QEMU's emulator (`<domain type='qemu'>`), for hosts without KVM.
    Tcg,
}

/// Where a disk's contents live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiskSource {
    /// A Ceph RBD image. Its `target_dev` is replaced by the disk's place
    /// in [`DomainSpec::disks`].
    Rbd(RbdDisk),
    /// An image file on the host.
    File {
        /// The file, an absolute path.
        path: PathBuf,
        /// How the file stores the disk.
        format: FileFormat,
    },
}

/// The format of a disk image file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// QEMU's copy-on-write format: sparse, with snapshots and backing
    /// files.
    Qcow2,
    /// The disk's bytes as they are.
    Raw,
}

impl FileFormat {
    /// The name libvirt and QEMU use.
    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Qcow2 => "qcow2",
            FileFormat::Raw => "raw",
        }
    }
}

/// A network interface on a host bridge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nic {
    /// The host bridge the interface joins.
    pub bridge: String,
    /// Its MAC address: six hex octets separated by `:`, unicast.
    pub mac: String,
    /// On an Open vSwitch bridge: the `iface-id` the interface gets in its
    /// `external_ids` (an OVN logical switch port binds to it).
    pub ovs_interface_id: Option<String>,
}

/// A device in the boot order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Boot {
    /// The first disk.
    Disk,
    /// The CD-ROM drive ([`CDROM_TARGET`]).
    Cdrom,
    /// The first network interface (PXE).
    Network,
}

/// Why a [`DomainSpec`] cannot become a domain.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainSpecError {
    /// The name is not what libvirt, QEMU and the host's paths can all
    /// carry safely.
    #[error("the domain name {0:?} is not 1 to 63 characters of a-z, 0-9 and -")]
    Name(String),
    /// No vCPU.
    #[error("a VM needs at least 1 vCPU")]
    NoVcpus,
    /// Too little memory to boot anything.
    #[error("{0} MiB of memory is below the minimum of {MIN_MEMORY_MIB} MiB")]
    Memory(u64),
    /// A MAC address that is not six hex octets separated by `:`.
    #[error("{0:?} is not a MAC address (six hex octets separated by \":\")")]
    Mac(String),
    /// A multicast (or all-zero) MAC address, which no NIC may own.
    #[error("the MAC address {0} is not a unicast address")]
    MacNotUnicast(String),
    /// A bridge name the kernel cannot have.
    #[error("{0:?} is not a bridge name (1 to 15 characters, no \"/\", \":\" or blanks)")]
    Bridge(String),
    /// A path libvirt or QEMU cannot use.
    #[error("the {what} path {path:?} {problem}")]
    Path {
        /// Which path: "disk", "CD-ROM", "seed", "serial socket", "NVRAM".
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// What is wrong with it.
        problem: PathProblem,
    },
    /// An NVRAM file for a BIOS VM, which has no UEFI variables.
    #[error("an NVRAM file is only for a UEFI VM")]
    NvramWithoutUefi,
    /// A device twice in the boot order.
    #[error("{0:?} is in the boot order twice")]
    BootTwice(Boot),
    /// An RBD disk that would not work.
    #[error("disk {index} (from 0)")]
    Disk {
        /// Its place in [`DomainSpec::disks`].
        index: usize,
        /// What is wrong.
        #[source]
        source: DiskError,
    },
}

/// What is wrong with a path handed to libvirt.
#[derive(Clone, Copy, Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathProblem {
    /// Relative: libvirt would resolve it against its own working
    /// directory.
    #[error("is not absolute")]
    Relative,
    /// Not UTF-8 or holding a control character: XML cannot carry it.
    #[error("is not UTF-8 or contains a control character")]
    NotText,
    /// Too long to bind a Unix socket to.
    #[error("is longer than the {MAX_SOCKET_PATH} bytes a Unix socket path can have")]
    TooLongForSocket,
}

/// The text of `path`, when libvirt can be given it.
pub(crate) fn path_text(path: &Path) -> Result<&str, PathProblem> {
    let text = path
        .to_str()
        .filter(|t| !has_forbidden_char(t))
        .ok_or(PathProblem::NotText)?;
    if !path.is_absolute() {
        return Err(PathProblem::Relative);
    }
    Ok(text)
}

/// Checks `spec` and renders its `<domain>` XML. Every value is escaped;
/// what libvirt would accept but get wrong, or refuse only when the VM
/// starts, is refused here.
pub fn domain_xml(spec: &DomainSpec) -> Result<String, DomainSpecError> {
    let devices = Devices::check(spec)?;
    let mut xml = String::new();
    let kind = match spec.accel {
        Accel::Kvm => "kvm",
        Accel::Tcg => "qemu",
    };
    let _ = writeln!(xml, "<domain type='{kind}'>");
    let _ = writeln!(xml, "  <name>{}</name>", spec.name);
    let _ = writeln!(xml, "  <uuid>{}</uuid>", spec.id.hyphenated());
    xml.push_str("  <metadata>\n");
    let _ = writeln!(
        xml,
        "    <lqx:vm xmlns:lqx=\"{METADATA_NS}\" id=\"{}\"/>",
        spec.id.hyphenated()
    );
    xml.push_str("  </metadata>\n");
    let _ = writeln!(xml, "  <memory unit='MiB'>{}</memory>", spec.memory_mib);
    let _ = writeln!(xml, "  <vcpu>{}</vcpu>", spec.vcpus);
    match spec.firmware {
        Firmware::Bios => {
            xml.push_str("  <os>\n");
            xml.push_str("    <type arch='x86_64' machine='q35'>hvm</type>\n");
        }
        Firmware::Uefi => {
            // libvirt picks the firmware from QEMU's descriptors. Secure
            // Boot is ruled out: the descriptors that have it come first
            // and need SMM (slow under TCG), and with Microsoft's keys
            // enrolled they refuse every unsigned boot loader.
            xml.push_str("  <os firmware='efi'>\n");
            xml.push_str("    <type arch='x86_64' machine='q35'>hvm</type>\n");
            xml.push_str("    <firmware>\n");
            xml.push_str("      <feature enabled='no' name='secure-boot'/>\n");
            xml.push_str("    </firmware>\n");
            if let Some(nvram) = devices.nvram {
                let _ = writeln!(xml, "    <nvram>{}</nvram>", escape(nvram));
            }
        }
    }
    xml.push_str("  </os>\n");
    // libvirt 9.0 passes `-no-acpi` to a domain without <acpi/>, which
    // QEMU ≥ 9 refuses; ACPI is also what carries shutdown requests.
    xml.push_str("  <features>\n    <acpi/>\n    <apic/>\n  </features>\n");
    match spec.accel {
        Accel::Kvm => xml.push_str("  <cpu mode='host-passthrough'/>\n"),
        // libvirt's default for TCG is qemu64, too old for distributions
        // that need x86-64-v2; `maximum` is everything TCG can emulate.
        Accel::Tcg => xml.push_str("  <cpu mode='maximum'/>\n"),
    }
    xml.push_str("  <clock offset='utc'/>\n");
    xml.push_str("  <on_poweroff>destroy</on_poweroff>\n");
    xml.push_str("  <on_reboot>restart</on_reboot>\n");
    xml.push_str("  <on_crash>destroy</on_crash>\n");
    xml.push_str("  <devices>\n");
    devices.render(&mut xml);
    xml.push_str("  </devices>\n");
    xml.push_str("</domain>\n");
    Ok(xml)
}

/// The CD-ROM drive [`CDROM_TARGET`] holding `iso` (an empty tray for
/// `None`), with its place in the boot order if it has one: for the
/// domain and for changing its medium. Call with a path that passed
/// [`path_text`].
pub(crate) fn cdrom_xml(iso: Option<&str>, boot_order: Option<u32>) -> String {
    cdrom_drive(CDROM_TARGET, iso, boot_order)
}

fn cdrom_drive(target: &str, iso: Option<&str>, boot_order: Option<u32>) -> String {
    let mut xml = String::new();
    xml.push_str("<disk type='file' device='cdrom'>\n");
    xml.push_str("  <driver name='qemu' type='raw'/>\n");
    if let Some(iso) = iso {
        let _ = writeln!(xml, "  <source file='{}'/>", escape(iso));
    }
    let _ = writeln!(xml, "  <target dev='{target}' bus='sata'/>");
    xml.push_str("  <readonly/>\n");
    push_boot(&mut xml, boot_order);
    xml.push_str("</disk>\n");
    xml
}

fn push_boot(xml: &mut String, boot_order: Option<u32>) {
    if let Some(order) = boot_order {
        let _ = writeln!(xml, "  <boot order='{order}'/>");
    }
}

/// A [`DomainSpec`]'s devices once checked: paths as text, MACs
/// normalised, boot orders assigned.
struct Devices<'a> {
    disks: Vec<CheckedDisk<'a>>,
    cdrom: Option<&'a str>,
    seed: Option<&'a str>,
    nics: Vec<(&'a str, String, Option<&'a str>)>,
    serial: &'a str,
    nvram: Option<&'a str>,
    disk_boot: Option<u32>,
    cdrom_boot: Option<u32>,
    nic_boot: Option<u32>,
}

enum CheckedDisk<'a> {
    Rbd(RbdDisk),
    File { path: &'a str, format: FileFormat },
}

impl<'a> Devices<'a> {
    fn check(spec: &'a DomainSpec) -> Result<Self, DomainSpecError> {
        if !is_domain_name(&spec.name) {
            return Err(DomainSpecError::Name(spec.name.clone()));
        }
        if spec.vcpus == 0 {
            return Err(DomainSpecError::NoVcpus);
        }
        if spec.memory_mib < MIN_MEMORY_MIB {
            return Err(DomainSpecError::Memory(spec.memory_mib));
        }
        let mut disks = Vec::with_capacity(spec.disks.len());
        for (index, disk) in spec.disks.iter().enumerate() {
            disks.push(match disk {
                DiskSource::Rbd(rbd) => {
                    let rbd = RbdDisk {
                        target_dev: disk_target(index),
                        ..rbd.clone()
                    };
                    rbd.validate()
                        .map_err(|source| DomainSpecError::Disk { index, source })?;
                    CheckedDisk::Rbd(rbd)
                }
                DiskSource::File { path, format } => CheckedDisk::File {
                    path: checked_path("disk", path)?,
                    format: *format,
                },
            });
        }
        let cdrom = spec
            .cdrom
            .as_deref()
            .map(|p| checked_path("CD-ROM", p))
            .transpose()?;
        let seed = spec
            .seed
            .as_deref()
            .map(|p| checked_path("seed", p))
            .transpose()?;
        let nics = spec
            .nics
            .iter()
            .map(|nic| {
                if !is_bridge_name(&nic.bridge) {
                    return Err(DomainSpecError::Bridge(nic.bridge.clone()));
                }
                Ok((
                    nic.bridge.as_str(),
                    unicast_mac(&nic.mac)?,
                    nic.ovs_interface_id.as_deref(),
                ))
            })
            .collect::<Result<_, _>>()?;
        let serial = checked_path("serial socket", &spec.serial_socket)?;
        if serial.len() > MAX_SOCKET_PATH {
            return Err(DomainSpecError::Path {
                what: "serial socket",
                path: spec.serial_socket.clone(),
                problem: PathProblem::TooLongForSocket,
            });
        }
        let nvram = match (&spec.nvram, spec.firmware) {
            (None, _) => None,
            (Some(_), Firmware::Bios) => return Err(DomainSpecError::NvramWithoutUefi),
            (Some(path), Firmware::Uefi) => Some(checked_path("NVRAM", path)?),
        };
        let mut devices = Devices {
            disks,
            cdrom,
            seed,
            nics,
            serial,
            nvram,
            disk_boot: None,
            cdrom_boot: None,
            nic_boot: None,
        };
        devices.assign_boot_order(&spec.boot)?;
        Ok(devices)
    }

    /// Numbers the devices in `boot` from 1, skipping those the VM lacks
    /// so the numbers stay consecutive.
    fn assign_boot_order(&mut self, boot: &[Boot]) -> Result<(), DomainSpecError> {
        let mut next = 1;
        for (i, &device) in boot.iter().enumerate() {
            if boot[..i].contains(&device) {
                return Err(DomainSpecError::BootTwice(device));
            }
            let (present, slot) = match device {
                Boot::Disk => (!self.disks.is_empty(), &mut self.disk_boot),
                Boot::Cdrom => (true, &mut self.cdrom_boot),
                Boot::Network => (!self.nics.is_empty(), &mut self.nic_boot),
            };
            if present {
                *slot = Some(next);
                next += 1;
            }
        }
        Ok(())
    }

    fn render(&self, xml: &mut String) {
        let mut push = |element: &str| {
            for line in element.lines() {
                let _ = writeln!(xml, "    {line}");
            }
        };
        for (index, disk) in self.disks.iter().enumerate() {
            let boot = if index == 0 { self.disk_boot } else { None };
            push(&match disk {
                CheckedDisk::Rbd(rbd) => rbd.render(boot),
                CheckedDisk::File { path, format } => file_disk(index, path, *format, boot),
            });
        }
        push(&cdrom_drive(CDROM_TARGET, self.cdrom, self.cdrom_boot));
        if let Some(seed) = self.seed {
            push(&cdrom_drive(SEED_TARGET, Some(seed), None));
        }
        for (index, (bridge, mac, iface_id)) in self.nics.iter().enumerate() {
            let boot = if index == 0 { self.nic_boot } else { None };
            push(&bridge_nic(bridge, mac, *iface_id, boot));
        }
        push(&serial_console(self.serial));
        // The tablet gives VNC absolute pointer positions, so the guest's
        // cursor follows the viewer's.
        push("<input type='tablet' bus='usb'/>");
        // Loopback only: the console proxy is the way in from outside.
        push("<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>");
        // Standard VGA: every firmware and guest drives it without drivers.
        push("<video>\n  <model type='vga'/>\n</video>");
        push("<rng model='virtio'>\n  <backend model='random'>/dev/urandom</backend>\n</rng>");
    }
}

/// `discard='unmap'` passes the guest's TRIM through, so a sparse image
/// shrinks back on the host when the guest frees blocks.
fn file_disk(index: usize, path: &str, format: FileFormat, boot: Option<u32>) -> String {
    let mut xml = String::new();
    xml.push_str("<disk type='file' device='disk'>\n");
    let _ = writeln!(
        xml,
        "  <driver name='qemu' type='{}' discard='unmap'/>",
        format.as_str()
    );
    let _ = writeln!(xml, "  <source file='{}'/>", escape(path));
    let _ = writeln!(xml, "  <target dev='{}' bus='virtio'/>", disk_target(index));
    push_boot(&mut xml, boot);
    xml.push_str("</disk>\n");
    xml
}

fn bridge_nic(bridge: &str, mac: &str, iface_id: Option<&str>, boot: Option<u32>) -> String {
    let mut xml = String::new();
    xml.push_str("<interface type='bridge'>\n");
    let _ = writeln!(xml, "  <mac address='{mac}'/>");
    let _ = writeln!(xml, "  <source bridge='{}'/>", escape(bridge));
    if let Some(id) = iface_id {
        xml.push_str("  <virtualport type='openvswitch'>\n");
        let _ = writeln!(xml, "    <parameters interfaceid='{}'/>", escape(id));
        xml.push_str("  </virtualport>\n");
    }
    xml.push_str("  <model type='virtio'/>\n");
    push_boot(&mut xml, boot);
    xml.push_str("</interface>\n");
    xml
}

/// The serial port on a socket QEMU listens on (`mode='bind'`), and the
/// console on that port, so `virsh console` and a socket client see the
/// same line.
fn serial_console(path: &str) -> String {
    let path = escape(path);
    format!(
        "\
<serial type='unix'>
  <source mode='bind' path='{path}'/>
  <target port='0'/>
</serial>
<console type='unix'>
  <source mode='bind' path='{path}'/>
  <target type='serial' port='0'/>
</console>
"
    )
}

fn checked_path<'a>(what: &'static str, path: &'a Path) -> Result<&'a str, DomainSpecError> {
    path_text(path).map_err(|problem| DomainSpecError::Path {
        what,
        path: path.to_owned(),
        problem,
    })
}

/// `vd` and the disk's index in libvirt's bijective base 26: `vda` to
/// `vdz`, then `vdaa`.
fn disk_target(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        n -= 1;
        letters.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
    }
    letters.iter().rev().fold(String::from("vd"), |mut s, c| {
        s.push(*c);
        s
    })
}

fn is_domain_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// What the kernel accepts as an interface name (`IFNAMSIZ` less the NUL).
fn is_bridge_name(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '/' | ':'))
}

/// `mac` in lower case, if it is six hex octets and unicast.
fn unicast_mac(mac: &str) -> Result<String, DomainSpecError> {
    let octets: Vec<u8> = mac
        .split(':')
        .map(|o| {
            // Checked by hand: `from_str_radix` would also take "+f".
            let hex = o.len() == 2 && o.bytes().all(|b| b.is_ascii_hexdigit());
            hex.then(|| u8::from_str_radix(o, 16).ok()).flatten()
        })
        .collect::<Option<_>>()
        .filter(|o: &Vec<u8>| o.len() == 6)
        .ok_or_else(|| DomainSpecError::Mac(mac.to_owned()))?;
    // The group bit is the least significant bit of the first octet.
    if octets[0] & 1 == 1 || octets.iter().all(|&o| o == 0) {
        return Err(DomainSpecError::MacNotUnicast(mac.to_owned()));
    }
    Ok(mac.to_ascii_lowercase())
}

#[cfg(test)]
mod tests;
