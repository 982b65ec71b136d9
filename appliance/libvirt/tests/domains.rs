//! VM domains from `domain_xml` against a real libvirtd: defining and
//! starting them, listing them with their owner, VNC, the serial socket,
//! shutdown requests a guest ignores, the CD-ROM, addresses, runtime ids,
//! undefining, and a UEFI VM.
//!
//! One daemon for the whole file (a fixture must be dropped on the thread
//! that started it, and each test runs on its own thread), so the steps
//! run in order inside one test.

use lqx_libvirt::{
    Accel, Boot, DiskSource, DomainName, DomainSpec, DomainState, FileFormat, Firmware, Libvirt,
    LibvirtError, Nic,
};
use lqx_test_support::libvirt::{LibvirtdFixture, tiny_domain_xml};
use std::io::Read;
use std::net::{IpAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// OVMF's code as the `ovmf` package installs it, and QEMU's firmware
/// descriptors libvirt chooses it by.
const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const FIRMWARE_DESCRIPTORS: &str = "/usr/share/qemu/firmware";

#[test]
fn vm_domains_through_their_life() {
    let libvirtd = LibvirtdFixture::start();
    let lv = Libvirt::open(&libvirtd.uri()).unwrap();
    let dir = tempfile::tempdir().unwrap();

    bios_vm(&libvirtd, &lv, dir.path());
    uefi_vm(&libvirtd, &lv, dir.path());
}

/// A BIOS VM with everything a VM has: a qcow2 disk from a pool, an empty
/// CD-ROM, a seed ISO, a NIC when a bridge can be made here.
fn bios_vm(libvirtd: &LibvirtdFixture, lv: &Libvirt, dir: &Path) {
    let pool = lv.define_dir_pool("vm-disks", &dir.join("disks")).unwrap();
    let root = lv
        .create_volume(&pool.name, "root.qcow2", 64 << 20, FileFormat::Qcow2)
        .unwrap();
    let seed = dir.join("seed.iso");
    std::fs::write(&seed, vec![0u8; 64 << 10]).unwrap();
    let bridge = Bridge::create();
    let mac = "52:54:00:6c:71:01";

    let id = Uuid::new_v4();
    let spec = DomainSpec {
        id,
        name: format!("vm-{}", &id.simple().to_string()[..12]),
        vcpus: 1,
        memory_mib: 96,
        firmware: Firmware::Bios,
        accel: Accel::Tcg,
        disks: vec![DiskSource::File {
            path: root.path.clone(),
            format: FileFormat::Qcow2,
        }],
        cdrom: None,
        seed: Some(seed.clone()),
        nics: bridge
            .iter()
            .map(|b| Nic {
                bridge: b.name.clone(),
                mac: mac.into(),
                ovs_interface_id: None,
            })
            .collect(),
        boot: vec![Boot::Cdrom, Boot::Disk, Boot::Network],
        serial_socket: dir.join("serial.sock"),
        nvram: None,
    };
    let vm = lv.define_vm(&spec).unwrap();
    assert_eq!(vm.as_str(), spec.name);
    let plain_name = format!("plain-{}", Uuid::new_v4().simple());
    let plain = lv.define_domain(&tiny_domain_xml(&plain_name, "")).unwrap();

    // Listed, ours with its owner, the other without.
    let domains = lv.domains().unwrap();
    let ours = domains.iter().find(|d| d.name == spec.name).unwrap();
    assert_eq!((ours.uuid, ours.owner), (id, Some(id)));
    assert_eq!(ours.state, DomainState::Shutoff);
    let theirs = domains.iter().find(|d| d.name == plain_name).unwrap();
    assert_eq!(theirs.owner, None);
    assert_eq!(lv.vnc_port(&vm).unwrap(), None);
    assert_eq!(lv.domain_id(&vm).unwrap(), None);

    let t = Instant::now();
    lv.start(&vm)
        .unwrap_or_else(|e| panic!("start: {e:?}\n{}", libvirtd.domain_log(vm.as_str())));
    eprintln!("start {:?}", t.elapsed());
    assert_eq!(lv.state(&vm).unwrap(), DomainState::Running);
    let listed = lv.domains().unwrap();
    let ours = listed.iter().find(|d| d.name == spec.name).unwrap();
    assert_eq!(ours.state, DomainState::Running);

    // The display: QEMU's VNC server greets with its protocol version.
    let port = lv.vnc_port(&vm).unwrap().expect("a VNC port once running");
    assert_eq!(
        rfb_banner(port).get(..10),
        Some("RFB 003.00"),
        "port {port}"
    );

    // The serial console's socket.
    assert!(spec.serial_socket.exists());
    UnixStream::connect(&spec.serial_socket).expect("the serial socket accepts");

    // What libvirt kept of the definition.
    let xml = lv.domain_xml_of(&vm).unwrap();
    assert!(xml.contains("limiquantix.dev/xmlns/vm/1"), "{xml}");
    assert!(xml.contains("<boot order='1'/>"), "{xml}");

    // SeaBIOS with nothing to boot has no ACPI handler: the requests are
    // delivered and ignored, so callers need their timeout and destroy.
    lv.shutdown(&vm).unwrap();
    lv.reboot(&vm).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(lv.state(&vm).unwrap(), DomainState::Running);

    cdrom_changes_while_running(libvirtd, lv, &vm, dir);
    addresses(lv, &vm, bridge.as_ref(), mac);

    // A new runtime id for each start.
    let first = lv.domain_id(&vm).unwrap().expect("an id while running");
    lv.destroy(&vm).unwrap();
    assert_eq!(lv.state(&vm).unwrap(), DomainState::Shutoff);
    assert_eq!(lv.domain_id(&vm).unwrap(), None);
    assert_eq!(lv.vnc_port(&vm).unwrap(), None);
    assert!(lv.addresses(&vm).unwrap().is_empty());
    assert!(matches!(
        lv.shutdown(&vm),
        Err(LibvirtError::DomainNotRunning(n)) if n == spec.name
    ));
    assert!(matches!(
        lv.reboot(&vm),
        Err(LibvirtError::DomainNotRunning(_))
    ));
    lv.start(&vm).unwrap();
    let second = lv.domain_id(&vm).unwrap().expect("an id while running");
    assert_ne!(first, second);
    lv.destroy(&vm).unwrap();

    // Stopped: the CD-ROM changes in the definition only.
    let iso = dir.join("tools.iso");
    lv.set_cdrom(&vm, Some(&iso)).unwrap();
    let xml = lv.domain_xml_of(&vm).unwrap();
    assert!(
        xml.contains(&format!("<source file='{}'/>", iso.display())),
        "{xml}"
    );
    lv.set_cdrom(&vm, None).unwrap();
    assert!(!lv.domain_xml_of(&vm).unwrap().contains("tools.iso"));
    assert!(matches!(
        lv.set_cdrom(&vm, Some(Path::new("tools.iso"))),
        Err(LibvirtError::InvalidPath { what: "ISO", .. })
    ));

    lv.undefine_vm(&vm).unwrap();
    assert!(matches!(
        lv.state(&vm),
        Err(LibvirtError::DomainNotFound(_))
    ));
    assert!(!lv.domains().unwrap().iter().any(|d| d.name == spec.name));
    // A plain BIOS domain undefines with the same flags.
    lv.undefine_vm(&plain).unwrap();
    assert!(lv.domains().unwrap().is_empty());

    lv.delete_volume(&pool.name, "root.qcow2").unwrap();
    lv.remove_pool(&pool.name).unwrap();
}

fn cdrom_changes_while_running(
    libvirtd: &LibvirtdFixture,
    lv: &Libvirt,
    vm: &DomainName,
    dir: &Path,
) {
    let iso = dir.join("tools.iso");
    std::fs::write(&iso, vec![0u8; 64 << 10]).unwrap();
    let cdrom = |target: &str| -> String {
        let list = libvirtd.virsh(&["domblklist", vm.as_str()]);
        list.lines()
            .find_map(|l| {
                let mut words = l.split_whitespace();
                (words.next() == Some(target)).then(|| words.collect::<Vec<_>>().join(" "))
            })
            .unwrap_or_else(|| panic!("no {target} in\n{list}"))
    };
    assert_eq!(cdrom("sda"), "-");
    assert_eq!(cdrom("sdb"), dir.join("seed.iso").display().to_string());

    lv.set_cdrom(vm, Some(&iso)).unwrap();
    assert_eq!(cdrom("sda"), iso.display().to_string());
    // The definition has it too, still first in the boot order.
    let persistent = lv.domain_xml_of(vm).unwrap();
    let drive = disk_element(&persistent, "sda");
    assert!(
        drive.contains(&format!("<source file='{}'/>", iso.display())),
        "{drive}"
    );
    assert!(drive.contains("<boot order='1'/>"), "{drive}");

    lv.set_cdrom(vm, None).unwrap();
    assert_eq!(cdrom("sda"), "-");
    let drive = disk_element(&lv.domain_xml_of(vm).unwrap(), "sda");
    assert!(!drive.contains("<source"), "{drive}");
    assert!(drive.contains("<boot order='1'/>"), "{drive}");
}

/// The `<disk>` element whose target is `target`, as text.
fn disk_element(xml: &str, target: &str) -> String {
    let needle = format!("<target dev='{target}'");
    xml.split("<disk ")
        .skip(1)
        .map(|d| d.split("</disk>").next().unwrap_or_default())
        .find(|d| d.contains(&needle))
        .unwrap_or_else(|| panic!("no disk {target} in\n{xml}"))
        .to_owned()
}

fn addresses(lv: &Libvirt, vm: &DomainName, bridge: Option<&Bridge>, mac: &str) {
    assert_eq!(lv.addresses(vm).unwrap(), Vec::<IpAddr>::new());
    let Some(bridge) = bridge else {
        eprintln!("addresses with an ARP entry: skipped, no bridge could be created");
        return;
    };
    // An entry as the kernel would learn it from the guest's traffic;
    // nothing is sent to the address.
    let ip = "198.51.100.7";
    run(&[
        "ip",
        "neigh",
        "replace",
        ip,
        "lladdr",
        mac,
        "dev",
        &bridge.name,
        "nud",
        "stale",
    ]);
    assert_eq!(
        lv.addresses(vm).unwrap(),
        vec![ip.parse::<IpAddr>().unwrap()]
    );
    run(&["ip", "neigh", "del", ip, "dev", &bridge.name]);
}

/// The first 12 bytes a VNC server sends, e.g. `RFB 003.008\n`.
fn rfb_banner(port: u16) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to VNC");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut banner = [0u8; 12];
    stream.read_exact(&mut banner).expect("the RFB banner");
    String::from_utf8_lossy(&banner).into_owned()
}

/// A UEFI VM: libvirt picks OVMF from QEMU's firmware descriptors,
/// creates the variables file from its template, and removes it with the
/// domain.
fn uefi_vm(libvirtd: &LibvirtdFixture, lv: &Libvirt, dir: &Path) {
    if !Path::new(OVMF_CODE).exists() || !Path::new(FIRMWARE_DESCRIPTORS).is_dir() {
        eprintln!(
            "UEFI VM: skipped, no {OVMF_CODE} or {FIRMWARE_DESCRIPTORS} (install the ovmf package)"
        );
        return;
    }
    let id = Uuid::new_v4();
    let nvram = dir.join("uefi-VARS.fd");
    let spec = DomainSpec {
        id,
        name: format!("uefi-{}", &id.simple().to_string()[..12]),
        vcpus: 1,
        memory_mib: 128,
        firmware: Firmware::Uefi,
        accel: Accel::Tcg,
        disks: vec![],
        cdrom: None,
        seed: None,
        nics: vec![],
        boot: vec![Boot::Cdrom],
        serial_socket: dir.join("uefi-serial.sock"),
        nvram: Some(nvram.clone()),
    };
    let vm = lv.define_vm(&spec).unwrap();
    let t = Instant::now();
    lv.start(&vm)
        .unwrap_or_else(|e| panic!("start: {e:?}\n{}", libvirtd.domain_log(vm.as_str())));
    eprintln!("UEFI start {:?}", t.elapsed());
    assert_eq!(lv.state(&vm).unwrap(), DomainState::Running);
    let live = libvirtd.virsh(&["dumpxml", vm.as_str()]);
    assert!(live.contains(OVMF_CODE), "{live}");
    assert!(nvram.exists(), "libvirt creates the variables file");
    lv.destroy(&vm).unwrap();
    lv.undefine_vm(&vm).unwrap();
    assert!(!nvram.exists(), "undefine_vm removes the variables file");
}

/// A host bridge for the test's NIC, deleted on drop; `None` where links
/// cannot be created (no privilege, no bridge module).
struct Bridge {
    name: String,
}

impl Bridge {
    fn create() -> Option<Self> {
        let name = format!("lqxt{:x}", std::process::id());
        let ok = Command::new("ip")
            .args(["link", "add", &name, "type", "bridge"])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("no bridge: `ip link add {name} type bridge` failed; the VM has no NIC");
            return None;
        }
        Some(Self { name })
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.name])
            .status();
    }
}

fn run(args: &[&str]) {
    let status = Command::new(args[0]).args(&args[1..]).status().unwrap();
    assert!(status.success(), "{args:?}");
}
