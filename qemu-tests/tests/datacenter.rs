//! The booted appliance joins a real Ceph cluster and makes a volume in it.
//!
//! The cluster (mon, mgr, memstore OSD) and QEMU both run in a network
//! namespace made by the test, where the cluster has its own address
//! (192.0.2.10 on the namespace's loopback): the guest's user-mode network dials
//! that address from the namespace, and every daemon is reached under the
//! address it names itself by, as Ceph's messenger requires (the usual
//! 10.0.2.2 alias for the host's loopback would not be).
//!
//! Checked: lqxd (built on bookworm) drives the appliance's own librados
//! and librbd, starts libvirtd over D-Bus and stores the key as a libvirt
//! secret, persists the cluster's fsid, and the volume it creates is seen
//! by the `rbd` CLI on the test machine.

use lqx_api::CephStatus;
use lqx_qemu_tests::{Drive, Machine, MachineConfig, Report, fresh_dir, image_dir, overlay};
use lqx_test_support::ceph::CephFixture;
use lqx_test_support::netns::NetNs;
use std::time::Duration;

const BOOT: Duration = Duration::from_secs(900);

fn status(report: &Report) -> Option<CephStatus> {
    serde_json::from_str(report.field("ceph")).ok()
}

#[tokio::test]
async fn appliance_joins_a_ceph_cluster_and_creates_a_volume() {
    let ns = NetNs::create("192.0.2.10".parse().unwrap());
    let ceph = CephFixture::start_in(&ns);
    ceph.create_rbd_pool("vms");
    let key = ceph.create_rbd_client("lqx", &["vms"]);
    let mon = ceph.mon_v2();
    let dir = fresh_dir(env!("CARGO_TARGET_TMPDIR"), "ceph");
    let disk = dir.join("disk.qcow2");
    overlay(&image_dir().join("lqx.raw"), &disk, 8 << 30).unwrap();
    let config = MachineConfig {
        drives: vec![Drive::Disk(disk)],
        cmdline_extra: Some(format!(
            "lqx.test-probe lqx.test-ceph={mon} lqx.test-ceph-name=client.lqx \
             lqx.test-ceph-key={key} lqx.test-ceph-volume=vms/from-guest"
        )),
        probe: true,
        netns: Some(ns.name().to_owned()),
        ..MachineConfig::default()
    };
    let m = Machine::start(&config, &dir.join("machine")).await.unwrap();
    let report = m
        .report_where("the join and volume finished", BOOT, |r| {
            r.field("ceph-done") == "yes" && status(r).is_some()
        })
        .await
        .unwrap();
    let s = status(&report).unwrap();
    let config = s
        .config
        .as_ref()
        .unwrap_or_else(|| panic!("not joined: {}", report.field("ceph-join")));
    assert_eq!(config.fsid.to_string(), ceph.fsid());
    assert_eq!(config.name, "client.lqx");
    let cluster = s.cluster.as_ref().expect("the cluster answers the guest");
    assert!(
        cluster
            .pools
            .iter()
            .any(|p| p.name == "vms" && p.rbd_readable),
        "{cluster:?}"
    );
    let secret = config
        .libvirt_secret
        .expect("a libvirt secret in the appliance");
    let files = report.field("libvirt-secrets");
    assert!(
        files.contains(&format!("{secret}.xml")) && files.contains(&format!("{secret}.base64")),
        "{files}"
    );
    assert!(
        report.field("ceph-volume").contains("16 MiB"),
        "{}",
        report.field("ceph-volume")
    );
    // Independently, on the test machine.
    assert!(ceph.rbd(&["ls", "vms"]).contains("from-guest"));
    assert!(ceph.rbd(&["info", "vms/from-guest"]).contains("16 MiB"));
    assert_eq!(report.field("failed"), "", "{report:#?}");
    m.power_off(Duration::from_secs(120)).await.unwrap();
}
