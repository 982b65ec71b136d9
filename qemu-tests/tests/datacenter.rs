//! The booted appliance joins what a data center already runs: a real Ceph
//! cluster, in which it makes a volume, and a cluster of LimiQuantix hosts.
//! Both happen in one boot, as an operator does them one after the other
//! at the console; a boot under TCG costs a minute.
//!
//! Ceph (mon, mgr, memstore OSD), three `lqxd` hosts with their etcd
//! members, and QEMU all run in a network namespace made by the test,
//! where each has its own address (192.0.2.10 and 192.0.2.21–23 on the
//! namespace's loopback): the guest's user-mode network dials those
//! addresses from the namespace, and every daemon is reached under the
//! address it names itself by, as Ceph's messenger and etcd require (the
//! usual 10.0.2.2 alias for the host's loopback would not be).
//!
//! Checked: lqxd (built on bookworm) drives the appliance's own librados
//! and librbd, starts libvirtd over D-Bus and stores the key as a libvirt
//! secret, persists the cluster's fsid, and the volume it creates is seen
//! by the `rbd` CLI on the test machine. The appliance joins the three
//! hosts with a token on its command line, as a client of the store (the
//! three are its voters, and user-mode networking lets nobody dial the
//! guest), takes the cluster's authority, heartbeats (the hosts list it
//! ready) and forwards a request to one of them.

use lqx_api::{CephStatus, ClusterStatus, EtcdRole, HostInfo, Member, MemberState};
use lqx_qemu_tests::{Drive, Machine, MachineConfig, Report, fresh_dir, image_dir, overlay};
use lqx_test_support::ceph::CephFixture;
use lqx_test_support::cluster::{ClusterHost, wait_for};
use lqx_test_support::netns::NetNs;
use std::time::Duration;

const BOOT: Duration = Duration::from_secs(900);

fn status(report: &Report) -> Option<CephStatus> {
    serde_json::from_str(report.field("ceph")).ok()
}

fn hosts_cluster(report: &Report) -> Option<ClusterStatus> {
    serde_json::from_str::<ClusterStatus>(report.field("cluster"))
        .ok()
        .filter(|s| s.cluster.is_some())
}

#[tokio::test]
async fn appliance_joins_ceph_and_a_cluster_of_hosts() {
    let ns = NetNs::create("192.0.2.10".parse().unwrap());
    let mut hosts = Vec::new();
    for address in ["192.0.2.21", "192.0.2.22", "192.0.2.23"] {
        ns.add_address(address.parse().unwrap());
        hosts.push(ClusterHost::start_through(ns.exec_prefix(), address).await);
    }
    let created = hosts[0].init(&["--name", "dc"]).cluster.unwrap();
    hosts[1].join(&hosts[0].token());
    hosts[2].join(&hosts[1].token());
    let token = hosts[0].token();
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
             lqx.test-ceph-key={key} lqx.test-ceph-volume=vms/from-guest \
             lqx.test-cluster={token} lqx.test-cluster-forward={}",
            hosts[0].id
        )),
        probe: true,
        netns: Some(ns.name().to_owned()),
        ..MachineConfig::default()
    };
    let m = Machine::start(&config, &dir.join("machine")).await.unwrap();
    let report = m
        .report_where("the joins and the volume finished", BOOT, |r| {
            r.field("ceph-done") == "yes"
                && status(r).is_some()
                && r.field("cluster-done") == "yes"
                && r.field("cluster-forward").contains("host_id")
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

    // The cluster of hosts: a client of the store, under the cluster's
    // authority, reaching the other members through its own API.
    let joined = hosts_cluster(&report)
        .unwrap_or_else(|| panic!("not joined: {}", report.field("cluster-join")))
        .cluster
        .unwrap();
    assert_eq!(joined.id, created.id);
    assert_eq!(joined.role, EtcdRole::Client);
    let host: HostInfo = serde_json::from_value(report.host.clone().expect("the host")).unwrap();
    assert_eq!(
        host.agent.remote_api.unwrap().authority_fingerprint,
        created.fingerprint
    );
    let forwarded: HostInfo = serde_json::from_str(report.field("cluster-forward"))
        .unwrap_or_else(|e| panic!("{e}: {}", report.field("cluster-forward")));
    assert_eq!(forwarded.host_id.to_string(), hosts[0].id);
    let seen_by_guest: Vec<Member> = serde_json::from_str(report.field("cluster-members")).unwrap();
    assert_eq!(seen_by_guest.len(), 4, "{seen_by_guest:?}");
    // The hosts list the appliance ready: its heartbeats arrive.
    let listed = wait_for(|| {
        let members = hosts[2].members().ok()?;
        members
            .iter()
            .find(|m| m.id == host.host_id && m.state == MemberState::Ready)
            .cloned()
    })
    .expect("the hosts list the appliance ready");
    assert_eq!(listed.etcd_role, EtcdRole::Client);
    assert_eq!(report.field("failed"), "", "{report:#?}");
    m.power_off(Duration::from_secs(120)).await.unwrap();
}
