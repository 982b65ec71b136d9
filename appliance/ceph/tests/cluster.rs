//! The real backend against the project's Ceph fixture: connecting, what
//! each failure is reported as, and every volume operation with its
//! refusals, checked with the `rbd` CLI.

use lqx_api::VolumeDeleteQuery;
use lqx_ceph::{CephBackend, CephError, ConnectParams, RadosBackend};
use lqx_core::ceph::{MonAddr, VolumeSpec};
use lqx_test_support::ceph::CephFixture;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

fn params(ceph: &CephFixture, scratch: &std::path::Path, name: &str, key: &str) -> ConnectParams {
    ConnectParams {
        mons: vec![MonAddr::parse(&ceph.mon_v2().to_string()).unwrap()],
        name: name.into(),
        key: key.into(),
        timeout: Duration::from_secs(3),
        scratch: scratch.to_owned(),
    }
}

/// One cluster for the binary.
#[test]
fn connect_and_manage_volumes() {
    let ceph = CephFixture::start();
    ceph.create_rbd_pool("vms");
    ceph.create_rbd_pool("secret");
    let scratch = tempfile::tempdir().unwrap();
    let key = ceph.create_rbd_client("lqx", &["vms"]);

    failures_are_told_apart(&ceph, scratch.path(), &key);

    let cluster = RadosBackend
        .connect(&params(&ceph, scratch.path(), "client.lqx", &key))
        .expect("connect as client.lqx");
    // The connection's files are gone once connected.
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);

    let info = cluster.info().unwrap();
    assert_eq!(info.fsid.to_string(), ceph.fsid());
    assert!(info.health.starts_with("HEALTH_"), "{info:?}");
    assert_eq!(info.mons.len(), 1);
    assert_eq!(
        info.mons[0].v2.as_deref(),
        Some(&*ceph.mon_v2().to_string())
    );
    let vms = info.pools.iter().find(|p| p.name == "vms").unwrap();
    assert!(vms.rbd_readable);
    assert_eq!(vms.applications, ["rbd"]);
    let secret = info.pools.iter().find(|p| p.name == "secret").unwrap();
    assert!(
        !secret.rbd_readable,
        "client.lqx has no caps on pool secret"
    );

    // No permission on a pool: said plainly, nothing created.
    let err = cluster.create("secret", "x", MIB).unwrap_err();
    assert!(matches!(err, CephError::PermissionDenied { .. }), "{err}");
    assert!(
        err.to_string().contains("client.lqx has no permission"),
        "{err}"
    );
    assert_eq!(ceph.rbd(&["ls", "secret"]), "");
    let err = cluster.create("nopool", "x", MIB).unwrap_err();
    assert!(matches!(err, CephError::NotFound(_)), "{err}");

    // Create, list, show.
    let v = cluster.create("vms", "golden", 64 * MIB).unwrap();
    assert_eq!(v.size_bytes, 64 * MIB);
    assert!(v.features.contains(&"layering".to_owned()));
    let cli: serde_json::Value =
        serde_json::from_str(&ceph.rbd(&["info", "vms/golden", "--format", "json"])).unwrap();
    assert_eq!(cli["id"], v.id.as_str());
    assert!(matches!(
        cluster.create("vms", "golden", MIB).unwrap_err(),
        CephError::Exists(_)
    ));

    // Resize: grow; shrink only when allowed.
    cluster.resize("vms", "golden", 128 * MIB, false).unwrap();
    let err = cluster
        .resize("vms", "golden", 32 * MIB, false)
        .unwrap_err();
    assert!(matches!(err, CephError::ShrinkRefused { .. }), "{err}");
    assert!(ceph.rbd(&["info", "vms/golden"]).contains("128 MiB"));
    cluster.resize("vms", "golden", 96 * MIB, true).unwrap();
    assert!(ceph.rbd(&["info", "vms/golden"]).contains("96 MiB"));

    // Snapshot and clone (the snapshot gets protected).
    let v = cluster.snapshot_create("vms", "golden", "base").unwrap();
    assert_eq!(v.snapshots.len(), 1);
    assert!(!v.snapshots[0].protected);
    let clone = cluster
        .clone_volume(
            &VolumeSpec::parse("vms/golden@base").unwrap(),
            &VolumeSpec::parse("vms/vm1").unwrap(),
        )
        .unwrap();
    assert_eq!(clone.parent.as_ref().unwrap().snapshot, "base");
    assert!(
        ceph.rbd(&["info", "vms/vm1"])
            .contains("parent: vms/golden@base")
    );
    let golden = cluster.volume("vms", "golden").unwrap();
    assert!(golden.snapshots[0].protected);
    assert_eq!(golden.snapshots[0].clones, ["vms/vm1"]);
    let list = cluster.list("vms").unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].parent.as_deref(), Some("vms/golden@base"));

    // Refusals change nothing.
    let err = cluster
        .snapshot_delete("vms", "golden", "base")
        .unwrap_err();
    assert!(matches!(err, CephError::HasClones { .. }), "{err}");
    let err = cluster
        .delete("vms", "golden", VolumeDeleteQuery::default())
        .unwrap_err();
    assert!(matches!(err, CephError::HasSnapshots { .. }), "{err}");
    let err = cluster
        .delete(
            "vms",
            "golden",
            VolumeDeleteQuery {
                snapshots: true,
                flatten_clones: false,
            },
        )
        .unwrap_err();
    assert!(matches!(err, CephError::HasClones { .. }), "{err}");
    assert!(ceph.rbd(&["snap", "ls", "vms/golden"]).contains("base"));
    assert!(ceph.rbd(&["info", "vms/vm1"]).contains("parent:"));

    // Asked for: clones flattened, snapshots and volume gone.
    cluster
        .delete(
            "vms",
            "golden",
            VolumeDeleteQuery {
                snapshots: true,
                flatten_clones: true,
            },
        )
        .unwrap();
    assert!(!ceph.rbd(&["info", "vms/vm1"]).contains("parent:"));
    assert_eq!(ceph.rbd(&["ls", "vms"]), "vm1");
    assert!(matches!(
        cluster.volume("vms", "golden").unwrap_err(),
        CephError::NotFound(_)
    ));
    cluster.snapshot_create("vms", "vm1", "s1").unwrap();
    let v = cluster.snapshot_delete("vms", "vm1", "s1").unwrap();
    assert!(v.snapshots.is_empty());
    cluster
        .delete("vms", "vm1", VolumeDeleteQuery::default())
        .unwrap();
    assert_eq!(ceph.rbd(&["ls", "vms"]), "");
}

fn failures_are_told_apart(ceph: &CephFixture, scratch: &std::path::Path, key: &str) {
    // Wrong key: another client's.
    let other = ceph.create_rbd_client("other", &["vms"]);
    let err = RadosBackend
        .connect(&params(ceph, scratch, "client.lqx", &other))
        .err()
        .unwrap();
    assert!(matches!(err, CephError::AuthFailed { .. }), "{err}");
    assert!(
        err.to_string().starts_with("authentication failed"),
        "{err}"
    );

    // Unknown entity.
    let err = RadosBackend
        .connect(&params(ceph, scratch, "client.nobody", key))
        .err()
        .unwrap();
    assert!(matches!(err, CephError::AuthFailed { .. }), "{err}");

    // Nobody listening: an error within the timeout (3 s), no hang.
    let mut p = params(ceph, scratch, "client.lqx", key);
    let port = lqx_test_support::ovsdb::free_port();
    p.mons = vec![MonAddr::parse(&format!("127.0.0.1:{port}")).unwrap()];
    let t = Instant::now();
    let err = RadosBackend.connect(&p).err().unwrap();
    assert!(matches!(err, CephError::Unreachable { .. }), "{err}");
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    assert_eq!(std::fs::read_dir(scratch).unwrap().count(), 0);
}
