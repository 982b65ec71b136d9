//! A network partition, for real: three hosts, each `lqxd` (and its etcd
//! member) in a network namespace of its own on one Ethernet segment the
//! test builds (veth pairs on a bridge). One host's link is cut: the
//! other two keep serving reads and writes and list it unreachable; the
//! cut-off host says its store is unreachable instead of answering stale
//! data, and its forwarded requests fail clearly. The link comes back:
//! the host is ready again and has what was written meanwhile.

use lqx_api::{ClusterStatus, HostInfo};
use lqx_test_support::cluster::{ClusterHost, wait_for};
use lqx_test_support::netns::Lan;
use lqx_test_support::{assert_ok, assert_refused};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_host_and_its_healing() {
    let mut lan = Lan::create();
    let mut hosts = Vec::new();
    let mut namespaces = Vec::new();
    for i in 1..=3u8 {
        let address = format!("10.77.0.{}", 10 + i);
        let ns = lan.attach(address.parse().unwrap());
        hosts.push(ClusterHost::start_through(Lan::exec_prefix(&ns), &address).await);
        namespaces.push(ns);
    }
    let [h1, h2, h3] = hosts.as_slice() else {
        unreachable!()
    };
    h1.init(&["--name", "split"]);
    h2.join(&h1.token());
    h3.join(&h1.token());
    h3.wait_members(&[h1, h2, h3], &[]);
    // Requests cross the segment: h3 read through h1.
    let via: HostInfo = h1.json(&["--host", &h3.id, "host", "show"]);
    assert_eq!(via.host_id.to_string(), h3.id);

    lan.cut(&namespaces[2]);
    // The majority keeps serving reads and writes.
    for _ in 0..3 {
        assert_ok(h1.lqx(&["cluster", "token", "create", "--ttl", "10m"]));
        assert_ok(h2.lqx(&["cluster", "members"]));
    }
    h2.wait_members(&[h1, h2], &[h3]);
    // The minority refuses rather than answer stale data.
    let cut_off = wait_for(|| {
        let status: ClusterStatus = h3.json(&["cluster", "status"]);
        (!status.store_reachable).then_some(status)
    })
    .expect("h3 noticed it is cut off");
    assert!(cut_off.store_error.is_some(), "{cut_off:?}");
    assert!(cut_off.cluster.is_some(), "it stays a member");
    assert_refused(h3.lqx(&["cluster", "members"]), "cluster store");
    assert_refused(
        h1.lqx(&["--host", &h3.id, "host", "show"]),
        "no answer to a connection",
    );

    lan.heal(&namespaces[2]);
    h3.wait_members(&[h1, h2, h3], &[]);
    h1.wait_members(&[h1, h2, h3], &[]);
    // Its own member caught up with the writes made while it was cut off.
    let tokens = assert_ok(h3.etcdctl(&[
        "get",
        "--prefix",
        "--keys-only",
        "--consistency=s",
        "/lqx/v1/tokens/",
    ]));
    assert_eq!(
        tokens.lines().filter(|l| !l.is_empty()).count(),
        3,
        "{tokens}"
    );
}
