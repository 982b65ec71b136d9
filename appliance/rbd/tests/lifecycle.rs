//! The binding against a real cluster (the project's Ceph fixture), with
//! every effect checked independently through the `rbd` CLI.

use lqx_rbd::{ErrorKind, Image, Rados};
use lqx_test_support::ceph::CephFixture;

const MIB: u64 = 1 << 20;

/// One cluster for the whole binary: the daemons take a core between them.
#[test]
fn image_lifecycle_matches_the_rbd_cli() {
    let ceph = CephFixture::start();
    ceph.create_rbd_pool("vms");
    ceph.create_rbd_pool("base");
    let rados = Rados::connect("admin", &ceph.conf()).expect("connect as client.admin");
    let vms = rados.pool("vms").unwrap();
    let base = rados.pool("base").unwrap();
    assert_eq!(
        rados.pool("nopool").err().unwrap().kind(),
        ErrorKind::NotFound
    );
    let reply = rados
        .mon_command(r#"{"prefix": "fsid", "format": "json"}"#)
        .unwrap();
    let fsid: serde_json::Value = serde_json::from_slice(&reply.out).unwrap();
    assert_eq!(fsid["fsid"], ceph.fsid());
    let err = rados
        .mon_command(r#"{"prefix": "no such command"}"#)
        .unwrap_err();
    assert!(!err.status.is_empty(), "{err}");
    assert!(lqx_rbd::version().0 >= 1);

    // Create and list.
    lqx_rbd::create(&base, "golden", 64 * MIB).unwrap();
    lqx_rbd::create(&vms, "data", 32 * MIB).unwrap();
    let names: Vec<String> = lqx_rbd::list(&vms)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["data"]);
    assert!(ceph.rbd(&["ls", "vms"]).contains("data"));
    let err = lqx_rbd::create(&vms, "data", MIB).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Exists, "{err}");

    // Properties agree with `rbd info`.
    {
        let image = Image::open(&vms, "data").unwrap();
        let info = image.info().unwrap();
        assert_eq!(info.size, 32 * MIB);
        let cli: serde_json::Value =
            serde_json::from_str(&ceph.rbd(&["info", "vms/data", "--format", "json"])).unwrap();
        assert_eq!(cli["size"], 32 * MIB);
        assert_eq!(cli["id"], image.id().unwrap());
        assert_eq!(cli["order"], info.order);
        assert!(image.features().unwrap() & 1 == 1, "layering");
        assert!(image.created().unwrap() > std::time::UNIX_EPOCH);
        assert_eq!(image.parent().unwrap(), None);

        // Grow, then shrink.
        image.resize(48 * MIB).unwrap();
        assert!(ceph.rbd(&["info", "vms/data"]).contains("48 MiB"));
        image.resize(16 * MIB).unwrap();
        assert!(ceph.rbd(&["info", "vms/data"]).contains("16 MiB"));
    }

    // Snapshot, protect, clone across pools.
    {
        let golden = Image::open(&base, "golden").unwrap();
        golden.snap_create("v1").unwrap();
        golden.snap_create("v2").unwrap();
        let snaps = golden.snapshots().unwrap();
        assert_eq!(
            snaps.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["v1", "v2"]
        );
        assert_eq!(snaps[0].size, 64 * MIB);
        assert!(ceph.rbd(&["snap", "ls", "base/golden"]).contains("v2"));
        assert!(!golden.snap_is_protected("v1").unwrap());
        golden.snap_protect("v1").unwrap();
        assert!(golden.snap_is_protected("v1").unwrap());
    }
    lqx_rbd::clone(&base, "golden", "v1", &vms, "vm1-root").unwrap();
    {
        let clone = Image::open(&vms, "vm1-root").unwrap();
        let parent = clone.parent().unwrap().unwrap();
        assert_eq!(
            (
                parent.pool.as_str(),
                parent.image.as_str(),
                parent.snap.as_str()
            ),
            ("base", "golden", "v1")
        );
        assert!(
            ceph.rbd(&["info", "vms/vm1-root"])
                .contains("parent: base/golden@v1")
        );
        let at_v1 = Image::open_snapshot(&base, "golden", "v1").unwrap();
        let children = at_v1.children().unwrap();
        assert_eq!(children.len(), 1);
        assert_eq!(
            (children[0].pool.as_str(), children[0].image.as_str()),
            ("vms", "vm1-root")
        );
        assert!(
            ceph.rbd(&["children", "base/golden@v1"])
                .contains("vms/vm1-root")
        );
    }

    // What librbd refuses, and why.
    {
        let golden = Image::open(&base, "golden").unwrap();
        let err = golden.snap_unprotect("v1").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
        let err = golden.snap_remove("v1").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    }
    let err = lqx_rbd::remove(&base, "golden").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotEmpty, "{err}");
    let err = Image::open(&vms, "absent").err().unwrap();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");

    // Flatten detaches the clone; then everything can go.
    {
        let clone = Image::open(&vms, "vm1-root").unwrap();
        clone.flatten().unwrap();
        assert_eq!(clone.parent().unwrap(), None);
        let golden = Image::open(&base, "golden").unwrap();
        golden.snap_unprotect("v1").unwrap();
        golden.snap_remove("v1").unwrap();
        golden.snap_remove("v2").unwrap();
        assert_eq!(golden.snapshots().unwrap(), vec![]);
    }
    lqx_rbd::remove(&base, "golden").unwrap();
    lqx_rbd::remove(&vms, "vm1-root").unwrap();
    lqx_rbd::remove(&vms, "data").unwrap();
    assert_eq!(ceph.rbd(&["ls", "vms"]), "");
    assert_eq!(ceph.rbd(&["ls", "base"]), "");

    long_listings_grow_their_buffers(&ceph);
    failed_connects_release_their_threads(&ceph);
}

fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap()
}

/// A connect that times out shuts its handle down: an agent retrying an
/// unreachable cluster must not gain threads with every attempt.
fn failed_connects_release_their_threads(ceph: &CephFixture) {
    let conf = ceph.dir().join("dead.conf");
    let port = lqx_test_support::ovsdb::free_port();
    std::fs::write(
        &conf,
        format!(
            "[global]\nmon host = v2:127.0.0.1:{port}\nkeyring = {}\nclient mount timeout = 1\n\
             log file =\nadmin socket =\n",
            ceph.admin_keyring().display()
        ),
    )
    .unwrap();
    let before = threads();
    for _ in 0..5 {
        let err = Rados::connect("admin", &conf).err().unwrap();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    }
    // librados joins its threads in rados_shutdown; allow stragglers a
    // moment, but not four new threads per attempt.
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        threads() <= before + 2,
        "{before} threads before, {} after",
        threads()
    );
}

/// The list helpers retry on ERANGE: 70 images exceed the first buffer of
/// 64, 20 snapshots the first of 16.
fn long_listings_grow_their_buffers(ceph: &CephFixture) {
    ceph.create_rbd_pool("many");
    let rados = Rados::connect("admin", &ceph.conf()).unwrap();
    let io = rados.pool("many").unwrap();
    for i in 0..70 {
        lqx_rbd::create(&io, &format!("img{i:02}"), MIB).unwrap();
    }
    let names: Vec<String> = lqx_rbd::list(&io)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names.len(), 70);
    assert_eq!(names[0], "img00");
    assert_eq!(names[69], "img69");
    let image = Image::open(&io, "img00").unwrap();
    for i in 0..20 {
        image.snap_create(&format!("s{i:02}")).unwrap();
    }
    assert_eq!(image.snapshots().unwrap().len(), 20);
}
