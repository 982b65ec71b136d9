use super::*;

fn id() -> Uuid {
    "7c9e6679-7425-40de-944b-e07fc1f90ae7".parse().unwrap()
}

/// A BIOS VM on a qcow2 file that installs from an ISO: two NICs, a
/// cloud-init seed, booting the CD-ROM first.
fn bios() -> DomainSpec {
    DomainSpec {
        id: id(),
        name: "web-1".into(),
        vcpus: 2,
        memory_mib: 2048,
        firmware: Firmware::Bios,
        accel: Accel::Kvm,
        disks: vec![DiskSource::File {
            path: "/var/lib/lqx/images/web-1-root.qcow2".into(),
            format: FileFormat::Qcow2,
        }],
        cdrom: Some("/var/lib/lqx/images/debian-12.iso".into()),
        seed: Some("/var/lib/lqx/vms/web-1/seed.iso".into()),
        nics: vec![
            Nic {
                bridge: "br-mgmt".into(),
                mac: "52:54:00:12:34:56".into(),
                ovs_interface_id: None,
            },
            // On a virtual network: OVN's integration bridge, the port's
            // id as the OVS interface's iface-id.
            Nic {
                bridge: "br-int".into(),
                mac: "52:54:00:AB:CD:EF".into(),
                ovs_interface_id: Some("6f1d3c7e-0000-4000-8000-000000000002".into()),
            },
        ],
        boot: vec![Boot::Cdrom, Boot::Disk],
        serial_socket: "/run/lqx/vms/web-1/serial.sock".into(),
        nvram: None,
    }
}

/// A UEFI VM on an RBD image, with an empty CD-ROM and no NIC.
fn uefi_rbd() -> DomainSpec {
    DomainSpec {
        id: id(),
        name: "db-2".into(),
        vcpus: 4,
        memory_mib: 8192,
        firmware: Firmware::Uefi,
        accel: Accel::Tcg,
        disks: vec![DiskSource::Rbd(RbdDisk {
            pool: "vms".into(),
            image: "db-2-root".into(),
            monitors: vec![
                "192.0.2.11:3300".parse().unwrap(),
                "[2001:db8::12]:3300".parse().unwrap(),
            ],
            user: "lqx".into(),
            secret_uuid: "2f1c7e0a-5b3d-4c6e-9f8a-0b1c2d3e4f50".parse().unwrap(),
            // Replaced by the disk's place: vda.
            target_dev: "sdz".into(),
        })],
        cdrom: None,
        seed: None,
        nics: vec![],
        boot: vec![Boot::Disk, Boot::Cdrom, Boot::Network],
        serial_socket: "/run/lqx/vms/db-2/serial.sock".into(),
        nvram: Some("/var/lib/lqx/vms/db-2/VARS.fd".into()),
    }
}

#[test]
fn bios_vm_with_a_file_disk_iso_seed_and_two_nics() {
    insta::assert_snapshot!(domain_xml(&bios()).unwrap());
}

#[test]
fn uefi_vm_on_an_rbd_disk() {
    insta::assert_snapshot!(domain_xml(&uefi_rbd()).unwrap());
}

#[test]
fn refusals() {
    let refusal = |edit: fn(&mut DomainSpec)| {
        let mut spec = bios();
        edit(&mut spec);
        domain_xml(&spec).unwrap_err()
    };
    let refusals = [
        refusal(|s| s.nics[1].mac = "52:54:00:ab:cd".into()),
        refusal(|s| s.nics[1].mac = "01:00:5e:00:00:01".into()),
        refusal(|s| s.cdrom = Some("images/debian.iso".into())),
        refusal(|s| s.vcpus = 0),
        refusal(|s| s.memory_mib = 16),
        refusal(|s| s.name = "Web_1".into()),
        refusal(|s| s.nvram = Some("/var/lib/lqx/VARS.fd".into())),
        refusal(|s| s.boot = vec![Boot::Disk, Boot::Cdrom, Boot::Disk]),
        refusal(|s| s.serial_socket = format!("/run/{}/serial.sock", "x".repeat(100)).into()),
    ];
    let text: String = refusals.iter().map(|e| format!("{e:?}\n  {e}\n")).collect();
    insta::assert_snapshot!(text);
}

#[test]
fn macs_must_be_six_hex_octets_and_unicast() {
    for bad in [
        "",
        "52:54:00:12:34",
        "52:54:00:12:34:56:78",
        "52-54-00-12-34-56",
        "52:54:00:12:34:5g",
        "52:54:00:12:34:+5",
        "52:54:0:12:34:56",
        "525400123456",
    ] {
        assert_eq!(
            unicast_mac(bad),
            Err(DomainSpecError::Mac(bad.into())),
            "{bad:?}"
        );
    }
    for multicast in [
        "ff:ff:ff:ff:ff:ff",
        "33:33:00:00:00:01",
        "00:00:00:00:00:00",
    ] {
        assert_eq!(
            unicast_mac(multicast),
            Err(DomainSpecError::MacNotUnicast(multicast.into()))
        );
    }
    assert_eq!(
        unicast_mac("52:54:00:AB:cd:Ef").unwrap(),
        "52:54:00:ab:cd:ef"
    );
    // Locally administered unicast is fine: that is what lqxd generates.
    assert!(unicast_mac("02:00:00:00:00:01").is_ok());
}

#[test]
fn paths_are_absolute_text_and_escaped() {
    let mut spec = bios();
    spec.disks = vec![DiskSource::File {
        path: "relative.qcow2".into(),
        format: FileFormat::Raw,
    }];
    assert_eq!(
        domain_xml(&spec),
        Err(DomainSpecError::Path {
            what: "disk",
            path: "relative.qcow2".into(),
            problem: PathProblem::Relative
        })
    );
    spec.disks.clear();
    spec.seed = Some("/seed\0.iso".into());
    assert!(matches!(
        domain_xml(&spec),
        Err(DomainSpecError::Path {
            what: "seed",
            problem: PathProblem::NotText,
            ..
        })
    ));
    spec.seed = Some("/srv/it's \"<seed>\" & more.iso".into());
    let xml = domain_xml(&spec).unwrap();
    assert!(
        xml.contains("<source file='/srv/it&apos;s &quot;&lt;seed&gt;&quot; &amp; more.iso'/>"),
        "{xml}"
    );
    assert!(roxmltree::Document::parse(&xml).is_ok(), "{xml}");
}

#[test]
fn boot_order_skips_absent_devices() {
    let mut spec = uefi_rbd();
    spec.disks.clear();
    spec.boot = vec![Boot::Network, Boot::Disk, Boot::Cdrom];
    let xml = domain_xml(&spec).unwrap();
    assert_eq!(xml.matches("<boot order=").count(), 1, "{xml}");
    assert!(xml.contains("<boot order='1'/>"), "{xml}");
    // No boot list: libvirt's default (the first disk).
    spec.boot.clear();
    assert!(!domain_xml(&spec).unwrap().contains("<boot"));
}

#[test]
fn disks_are_named_by_position() {
    assert_eq!(disk_target(0), "vda");
    assert_eq!(disk_target(1), "vdb");
    assert_eq!(disk_target(25), "vdz");
    assert_eq!(disk_target(26), "vdaa");
    assert_eq!(disk_target(27), "vdab");
    assert_eq!(disk_target(26 + 26 * 26), "vdaaa");
}

#[test]
fn bridge_names_fit_the_kernel() {
    for bad in [
        "",
        "a-very-long-bridge",
        "br/0",
        "br 0",
        "br:0",
        "..",
        "brü",
    ] {
        assert!(!is_bridge_name(bad), "{bad:?}");
    }
    for good in ["br0", "br-mgmt", "lqx.100", "fifteen-chars15"] {
        assert!(is_bridge_name(good), "{good:?}");
    }
}

#[test]
fn the_cdrom_element_for_changing_media() {
    assert_eq!(
        cdrom_xml(Some("/isos/a.iso"), Some(2)),
        "\
<disk type='file' device='cdrom'>
  <driver name='qemu' type='raw'/>
  <source file='/isos/a.iso'/>
  <target dev='sda' bus='sata'/>
  <readonly/>
  <boot order='2'/>
</disk>
"
    );
    assert!(!cdrom_xml(None, None).contains("<source"));
}
