//! `Libvirt` against a real libvirtd (and, for RBD disks, a real Ceph
//! cluster): secrets, domain life cycle, and a VM whose disk is an RBD
//! image, which starts only when the secret holds the key in the form
//! QEMU's rbd driver expects.

use lqx_libvirt::{CephxKey, DomainName, Libvirt, LibvirtError, RbdDisk, SecretStore};
use lqx_test_support::ceph::CephFixture;
use lqx_test_support::libvirt::{LibvirtdFixture, tiny_domain_xml};
use std::time::Instant;
use uuid::Uuid;

/// A key as `ceph auth print-key` prints one (any valid key will do where
/// no cluster checks it).
fn gen_key() -> String {
    let out = std::process::Command::new("ceph-authtool")
        .arg("--gen-print-key")
        .output()
        .expect("ceph-authtool (install ceph-common)");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn ceph_secrets_are_set_redefined_and_removed() {
    let libvirtd = LibvirtdFixture::start();
    let lv = Libvirt::open(&libvirtd.uri()).unwrap();
    let uuid = Uuid::new_v4();
    let first = gen_key();

    assert!(!lv.secret_exists(uuid).unwrap());
    lv.set_ceph_secret(uuid, "client.lqx", &CephxKey::from_base64(&first).unwrap())
        .unwrap();
    assert!(lv.secret_exists(uuid).unwrap());
    // What libvirt stores is the decoded key: its base64 is the key's text.
    assert_eq!(libvirtd.secret_value(uuid), first);
    let xml = libvirtd.virsh(&["secret-dumpxml", &uuid.to_string()]);
    assert!(xml.contains("<name>client.lqx</name>"), "{xml}");
    assert!(xml.contains("private='yes'"), "{xml}");

    // Same UUID, new usage name and key: redefined, value replaced.
    let second = gen_key();
    lv.set_ceph_secret(
        uuid,
        "client.lqx-2",
        &CephxKey::from_base64(&second).unwrap(),
    )
    .unwrap();
    assert_eq!(libvirtd.secret_value(uuid), second);
    let xml = libvirtd.virsh(&["secret-dumpxml", &uuid.to_string()]);
    assert!(xml.contains("<name>client.lqx-2</name>"), "{xml}");
    assert_eq!(libvirtd.secret_uuids(), vec![uuid.to_string()]);

    // The usage name is taken: refused, naming the owner.
    let other = Uuid::new_v4();
    match lv.set_ceph_secret(
        other,
        "client.lqx-2",
        &CephxKey::from_base64(&first).unwrap(),
    ) {
        Err(LibvirtError::UsageTaken { owner, .. }) => assert_eq!(owner, uuid),
        r => panic!("expected UsageTaken, got {r:?}"),
    }
    assert!(!lv.secret_exists(other).unwrap());

    lv.remove_secret(uuid).unwrap();
    assert!(!lv.secret_exists(uuid).unwrap());
    assert!(libvirtd.secret_uuids().is_empty());
    // Absent is fine.
    lv.remove_secret(uuid).unwrap();
}

#[test]
fn a_small_domain_defines_starts_and_is_destroyed() {
    let libvirtd = LibvirtdFixture::start();
    let lv = Libvirt::open(&libvirtd.uri()).unwrap();
    let name = format!("lqx-test-{}", Uuid::new_v4().simple());

    let t = Instant::now();
    let defined = lv.define_domain(&tiny_domain_xml(&name, "")).unwrap();
    let define_time = t.elapsed();
    assert_eq!(defined, DomainName::new(&name));
    assert!(!lv.is_active(&defined).unwrap());

    let t = Instant::now();
    lv.start(&defined)
        .unwrap_or_else(|e| panic!("start: {e:?}\n{}", libvirtd.domain_log(&name)));
    let start_time = t.elapsed();
    assert!(lv.is_active(&defined).unwrap());
    assert_eq!(libvirtd.virsh(&["domstate", &name]), "running");

    let t = Instant::now();
    lv.destroy(&defined).unwrap();
    let destroy_time = t.elapsed();
    assert!(!lv.is_active(&defined).unwrap());
    lv.undefine(&defined).unwrap();
    assert!(matches!(
        lv.is_active(&defined),
        Err(LibvirtError::DomainNotFound(_))
    ));
    eprintln!("define {define_time:?}, start {start_time:?}, destroy {destroy_time:?}");
}

/// Host processes whose command line mentions `needle` (QEMU's carries
/// `guest=NAME`); zombies have none, so dead ones do not count.
fn processes_mentioning(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(needle))
        .collect()
}

#[test]
fn dropping_the_fixture_kills_its_qemu() {
    let libvirtd = LibvirtdFixture::start();
    let lv = Libvirt::open(&libvirtd.uri()).unwrap();
    let name = format!("lqx-test-{}", Uuid::new_v4().simple());
    let defined = lv.define_domain(&tiny_domain_xml(&name, "")).unwrap();
    lv.start(&defined).unwrap();
    let needle = format!("guest={name}");
    assert_eq!(processes_mentioning(&needle).len(), 1);

    drop(lv);
    drop(libvirtd);
    // The kernel tears the PID namespace down as its init dies; give it a
    // moment rather than racing it.
    let t = Instant::now();
    while !processes_mentioning(&needle).is_empty() {
        assert!(
            t.elapsed().as_secs() < 5,
            "QEMU outlived its libvirtd: {:?}",
            processes_mentioning(&needle)
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_domain_on_an_rbd_disk_starts_with_the_decoded_key() {
    // Both on this thread: each fixture's daemons die with the thread that
    // started them.
    let ceph = CephFixture::start();
    let libvirtd = LibvirtdFixture::start();
    ceph.create_rbd_pool("vms");
    ceph.rbd(&["create", "--size", "16M", "vms/root"]);
    let key = ceph.create_rbd_client("lqx-vm", &["vms"]);

    let lv = Libvirt::open(&libvirtd.uri()).unwrap();
    let secret = Uuid::new_v4();
    lv.set_ceph_secret(
        secret,
        "client.lqx-vm",
        &CephxKey::from_base64(&key).unwrap(),
    )
    .unwrap();
    let disk = RbdDisk {
        pool: "vms".into(),
        image: "root".into(),
        monitors: vec![ceph.mon_v2()],
        user: "lqx-vm".into(),
        secret_uuid: secret,
        target_dev: "vda".into(),
    };
    disk.validate().unwrap();
    let name = format!("lqx-rbd-{}", Uuid::new_v4().simple());
    let defined = lv
        .define_domain(&tiny_domain_xml(&name, &disk.to_xml()))
        .unwrap();
    let t = Instant::now();
    lv.start(&defined).unwrap_or_else(|e| {
        panic!(
            "start on RBD: {e:?}\n{}\n{}",
            libvirtd.domain_log(&name),
            libvirtd.logs()
        )
    });
    eprintln!("start on RBD {:?}", t.elapsed());
    assert!(lv.is_active(&defined).unwrap());
    // QEMU, not the host, has the image open: librbd's watch on its header.
    let status = ceph.rbd(&["status", "vms/root"]);
    assert!(status.contains("watcher="), "{status}");
    lv.destroy(&defined).unwrap();

    // The other convention, the base64 text itself as the value, gives
    // librbd a key it cannot use: the VM does not start.
    let text = libvirtd.dir().join("key.txt");
    std::fs::write(&text, &key).unwrap();
    libvirtd.virsh(&[
        "secret-set-value",
        &secret.to_string(),
        "--file",
        text.to_str().unwrap(),
        "--plain",
    ]);
    let err = lv.start(&defined).unwrap_err();
    assert!(
        matches!(
            err,
            LibvirtError::Domain {
                action: "starting",
                ..
            }
        ),
        "{err:?}"
    );
    eprintln!(
        "with the base64 text as value: {:?}",
        std::error::Error::source(&err)
    );
    lv.undefine(&defined).unwrap();
}
