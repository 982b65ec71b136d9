//! A VM whose disk is an RBD image: an `lqxd` on 127.0.0.95 joined to a
//! real Ceph cluster (the project's fixture) with its key stored in a
//! private libvirtd, a volume made through `lqx volume`, and a VM on it
//! that QEMU starts by opening the image through librbd with that key. A
//! VM naming an image that does not exist defines nothing; deleting the
//! VM with its disks removes the image, as `rbd` confirms.

use lqx_api::{Vm, VmState};
use lqx_test_support::ceph::CephFixture;
use lqx_test_support::cluster::{ClusterHost, wait_for};
use lqx_test_support::libvirt::LibvirtdFixture;
use lqx_test_support::{assert_ok, assert_refused};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vm_on_an_rbd_disk() {
    let ceph = CephFixture::start();
    let libvirtd = LibvirtdFixture::start();
    ceph.create_rbd_pool("vms");
    let key = ceph.create_rbd_client("lqx", &["vms"]);
    let mon = ceph.mon_v2().to_string();
    let uri = libvirtd.uri();
    let host =
        ClusterHost::start_with("127.0.0.95", &["--libvirt-uri", &uri, "--vm-accel", "tcg"]).await;
    host.init(&["--name", "ceph"]);
    assert_ok(host.lqx(&[
        "ceph",
        "join",
        "--mon",
        &mon,
        "--name",
        "client.lqx",
        "--key",
        &key,
    ]));
    assert_ok(host.lqx(&["volume", "create", "vms/db-1-root", "--size", "64MiB"]));

    assert_refused(
        host.lqx(&[
            "vm",
            "create",
            "db-0",
            "--memory",
            "64MiB",
            "--disk",
            "rbd:vms/absent",
        ]),
        "vms/absent",
    );
    assert!(
        libvirtd
            .virsh(&["list", "--all", "--name"])
            .trim()
            .is_empty(),
        "nothing defined"
    );

    let vm: Vm = host.json(&[
        "vm",
        "create",
        "db-1",
        "--memory",
        "64MiB",
        "--disk",
        "rbd:vms/db-1-root",
    ]);
    let xml = libvirtd.virsh(&["dumpxml", "db-1"]);
    assert!(
        xml.contains("protocol='rbd' name='vms/db-1-root'") || xml.contains("protocol=\"rbd\""),
        "{xml}"
    );
    assert_eq!(
        libvirtd.virsh(&["domstate", "db-1"]),
        "running",
        "{}",
        libvirtd.domain_log("db-1")
    );
    // QEMU holds the image open: Ceph lists it as a watcher.
    let status = ceph.rbd(&["status", "vms/db-1-root"]);
    assert!(status.contains("watcher="), "{status}");
    wait_for(|| {
        let shown: Vm = host.json(&["vm", "show", &vm.id.to_string()]);
        (shown.status.map(|s| s.state) == Some(VmState::Running)).then_some(())
    })
    .expect("reported running");

    assert_ok(host.lqx(&["vm", "delete", "db-1", "--force", "--disks"]));
    assert!(!ceph.rbd(&["ls", "vms"]).contains("db-1-root"));
    assert!(
        libvirtd
            .virsh(&["list", "--all", "--name"])
            .trim()
            .is_empty()
    );
}
