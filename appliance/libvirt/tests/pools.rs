//! Local directory pools against a real libvirtd: defining (idempotent,
//! refusing another directory), volumes created, grown, found when copied
//! in by hand, deleted, and removing a pool without its files.

use lqx_libvirt::{FileFormat, Libvirt, LibvirtError, PathProblem, VolumeFormat};
use lqx_test_support::libvirt::LibvirtdFixture;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const GIB: u64 = 1 << 30;

#[test]
fn directory_pools_and_their_volumes() {
    let libvirtd = LibvirtdFixture::start();
    let lv = Libvirt::open(&libvirtd.uri()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lqx/images");

    // Defined, built (the directory made), started, autostarted.
    let pool = lv.define_dir_pool("images", &path).unwrap();
    assert!(path.is_dir());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o7777, 0o711);
    assert_eq!(
        (pool.name.as_str(), pool.path.as_path()),
        ("images", path.as_path())
    );
    assert!(pool.active);
    assert!(pool.capacity_bytes > 0 && pool.available_bytes <= pool.capacity_bytes);
    let info = libvirtd.virsh(&["pool-info", "images"]);
    assert!(
        info.lines()
            .any(|l| l.starts_with("Autostart:") && l.ends_with("yes")),
        "{info}"
    );
    let pools = lv.pools().unwrap();
    assert_eq!(pools.len(), 1);
    assert_eq!((pools[0].name.as_str(), &pools[0].path), ("images", &path));
    assert_eq!(lv.pool("images").unwrap().path, path);
    assert!(matches!(lv.pool("nope"), Err(LibvirtError::PoolNotFound(n)) if n == "nope"));

    volumes(&lv, &path);
    files_copied_in(&lv, &path);
    defining_again(&libvirtd, &lv, &path, dir.path());

    // Removed: the definition goes, the directory and files stay.
    lv.remove_pool("images").unwrap();
    assert!(lv.pools().unwrap().is_empty());
    assert!(matches!(
        lv.pool("images"),
        Err(LibvirtError::PoolNotFound(_))
    ));
    assert!(matches!(
        lv.remove_pool("images"),
        Err(LibvirtError::PoolNotFound(_))
    ));
    assert!(path.join("root.qcow2").is_file());
}

fn volumes(lv: &Libvirt, path: &Path) {
    let root = lv
        .create_volume("images", "root.qcow2", GIB, FileFormat::Qcow2)
        .unwrap();
    assert_eq!(root.path, path.join("root.qcow2"));
    assert_eq!(root.format, VolumeFormat::Qcow2);
    assert_eq!(root.capacity_bytes, GIB);
    assert!(root.allocation_bytes < 16 << 20, "{root:?}");
    assert_eq!(qemu_img_info(&root.path), ("qcow2".to_owned(), GIB));
    assert!(matches!(
        lv.create_volume("images", "root.qcow2", GIB, FileFormat::Raw),
        Err(LibvirtError::VolumeExists { pool, name }) if pool == "images" && name == "root.qcow2"
    ));

    // Raw: sparse.
    let data = lv
        .create_volume("images", "data.img", 10 << 20, FileFormat::Raw)
        .unwrap();
    assert_eq!(data.format, VolumeFormat::Raw);
    assert_eq!(qemu_img_info(&data.path), ("raw".to_owned(), 10 << 20));
    assert!(data.allocation_bytes < 10 << 20, "{data:?}");

    // Grown, never shrunk.
    let grown = lv.resize_volume("images", "root.qcow2", 2 * GIB).unwrap();
    assert_eq!(grown.capacity_bytes, 2 * GIB);
    assert_eq!(qemu_img_info(&root.path), ("qcow2".to_owned(), 2 * GIB));
    match lv.resize_volume("images", "root.qcow2", GIB) {
        Err(LibvirtError::ShrinkRefused {
            current, requested, ..
        }) => assert_eq!((current, requested), (2 * GIB, GIB)),
        r => panic!("expected ShrinkRefused, got {r:?}"),
    }
    assert_eq!(
        lv.resize_volume("images", "root.qcow2", 2 * GIB)
            .unwrap()
            .capacity_bytes,
        2 * GIB
    );
    assert_eq!(qemu_img_info(&root.path).1, 2 * GIB);

    let grown_raw = lv.resize_volume("images", "data.img", 20 << 20).unwrap();
    assert_eq!(grown_raw.capacity_bytes, 20 << 20);

    assert!(matches!(
        lv.create_volume("images", "../escape.img", GIB, FileFormat::Raw),
        Err(LibvirtError::InvalidName { kind: "volume", .. })
    ));
    assert!(matches!(
        lv.create_volume("nope", "x.img", GIB, FileFormat::Raw),
        Err(LibvirtError::PoolNotFound(_))
    ));

    lv.delete_volume("images", "data.img").unwrap();
    assert!(!path.join("data.img").exists());
    assert!(matches!(
        lv.delete_volume("images", "data.img"),
        Err(LibvirtError::VolumeNotFound { pool, name }) if pool == "images" && name == "data.img"
    ));
    assert!(matches!(
        lv.volume("images", "data.img"),
        Err(LibvirtError::VolumeNotFound { .. })
    ));
}

fn files_copied_in(lv: &Libvirt, path: &Path) {
    // What libvirt probes to call a file an ISO: the ISO 9660 primary
    // volume descriptor at 32 KiB.
    let mut iso = vec![0u8; 64 << 10];
    iso[32768..32775].copy_from_slice(b"\x01CD001\x01");
    std::fs::write(path.join("installer.iso"), &iso).unwrap();
    std::fs::write(path.join("blank.img"), vec![0u8; 1 << 20]).unwrap();

    let volumes = lv.volumes("images").unwrap();
    let names: Vec<_> = volumes.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["blank.img", "installer.iso", "root.qcow2"]);
    let installer = &volumes[1];
    assert_eq!(installer.format, VolumeFormat::Iso);
    assert_eq!(installer.capacity_bytes, 64 << 10);
    assert_eq!(installer.path, path.join("installer.iso"));
    assert_eq!(volumes[0].format, VolumeFormat::Raw);

    // A name already taken by a file libvirt has not seen yet is refused,
    // not overwritten.
    std::fs::write(path.join("later.img"), b"keep me").unwrap();
    assert!(matches!(
        lv.create_volume("images", "later.img", GIB, FileFormat::Qcow2),
        Err(LibvirtError::VolumeExists { .. })
    ));
    assert_eq!(std::fs::read(path.join("later.img")).unwrap(), b"keep me");
    // Deleting one found by name, unlisted until now.
    std::fs::write(path.join("unseen.img"), b"x").unwrap();
    lv.delete_volume("images", "unseen.img").unwrap();
    assert!(!path.join("unseen.img").exists());

    for name in ["installer.iso", "blank.img", "later.img"] {
        lv.delete_volume("images", name).unwrap();
    }
}

fn defining_again(libvirtd: &LibvirtdFixture, lv: &Libvirt, path: &Path, dir: &Path) {
    // Same directory, written differently: the same pool.
    let again = lv.define_dir_pool("images", path).unwrap();
    assert!(again.active);
    let slashed = format!("{}/", path.display());
    lv.define_dir_pool("images", Path::new(&slashed)).unwrap();

    let other = dir.join("elsewhere");
    match lv.define_dir_pool("images", &other) {
        Err(LibvirtError::PoolPathMismatch {
            name,
            existing,
            requested,
        }) => {
            assert_eq!(name, "images");
            assert_eq!(existing.as_deref(), Some(path));
            assert_eq!(requested, other);
        }
        r => panic!("expected PoolPathMismatch, got {r:?}"),
    }
    assert!(!other.exists());
    assert!(matches!(
        lv.define_dir_pool("relative", Path::new("images")),
        Err(LibvirtError::InvalidPath {
            problem: PathProblem::Relative,
            ..
        })
    ));
    assert!(matches!(
        lv.define_dir_pool("a/b", path),
        Err(LibvirtError::InvalidName { kind: "pool", .. })
    ));

    // Stopped behind lqxd's back: defining again starts it.
    libvirtd.virsh(&["pool-destroy", "images"]);
    assert!(!lv.pool("images").unwrap().active);
    assert!(lv.define_dir_pool("images", path).unwrap().active);
    assert_eq!(lv.volumes("images").unwrap().len(), 1);
}

/// `qemu-img info`'s format and virtual size for the file.
fn qemu_img_info(path: &Path) -> (String, u64) {
    let out = Command::new("qemu-img")
        .args(["info", "--output=json"])
        .arg(path)
        .output()
        .expect("qemu-img (install qemu-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        info["format"].as_str().unwrap().to_owned(),
        info["virtual-size"].as_u64().unwrap(),
    )
}
