//! Three hosts as separate `lqxd` processes on 127.0.0.41–43, each with
//! its own state directory and etcd member, driven through `lqx`: a
//! cluster created on one and joined by the other two, every host
//! answering for the whole cluster and forwarding requests to the others,
//! a voter killed while the other two keep serving and then rejoining, a
//! host removed (which forgets the cluster by itself), a host leaving, and
//! a removed host joining again. etcdctl checks the store on its own.

use lqx_api::{ClusterStatus, EtcdRole, HostInfo, Member};
use lqx_test_support::cluster::{ClusterHost, etcd_member_names, wait_for};
use lqx_test_support::{assert_ok, assert_refused, text, workspace_bin};
use std::process::Command;

fn sorted_ids(hosts: &[&ClusterHost]) -> Vec<String> {
    let mut ids: Vec<String> = hosts.iter().map(|h| h.id.clone()).collect();
    ids.sort();
    ids
}

/// `lqx --remote URL --bundle DIR ARGS`.
fn remote(url: &str, bundle: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(workspace_bin("lqx"))
        .args(["--remote", url, "--bundle"])
        .arg(bundle)
        .args(args)
        .output()
        .expect("run lqx")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hosts_join_serve_survive_and_shrink() {
    let h1 = ClusterHost::start("127.0.0.41").await;
    let mut h2 = ClusterHost::start("127.0.0.42").await;
    let h3 = ClusterHost::start("127.0.0.43").await;
    let own_fingerprint = |h: &ClusterHost| {
        h.json::<HostInfo>(&["host", "show"])
            .agent
            .remote_api
            .expect("remote API")
            .authority_fingerprint
    };
    let h2_own = own_fingerprint(&h2);

    let created = h1.init(&["--name", "lab"]).cluster.expect("a cluster");
    // The second join goes through the first joiner: any member admits.
    let joined2 = h2.join(&h1.token()).cluster.expect("joined");
    let joined3 = h3.join(&h2.token()).cluster.expect("joined");
    for joined in [&joined2, &joined3] {
        assert_eq!(joined.id, created.id);
        assert_eq!(joined.name, "lab");
        assert_eq!(joined.fingerprint, created.fingerprint);
        assert_eq!(joined.role, EtcdRole::Voter, "fewer than 3 voters before");
    }
    // The joiners took the cluster's authority.
    assert_eq!(own_fingerprint(&h2), created.fingerprint);
    assert_ne!(h2_own, created.fingerprint);

    // Every host lists every host ready, all voting; etcd agrees.
    for h in [&h1, &h2, &h3] {
        let members = h.wait_members(&[&h1, &h2, &h3], &[]);
        assert!(members.iter().all(|m| m.etcd_role == EtcdRole::Voter));
    }
    assert_eq!(
        etcd_member_names(&h1.bundle(), &h3.etcd_url()),
        sorted_ids(&[&h1, &h2, &h3])
    );

    // Any host answers the cluster's admins: h1's bundle on h3, h3's own
    // (reissued by the cluster authority) on h1.
    let via3: Vec<Member> = serde_json::from_str(&assert_ok(remote(
        &h3.url(),
        &h1.bundle(),
        &["--json", "cluster", "members"],
    )))
    .unwrap();
    assert_eq!(via3.len(), 3);
    assert_ok(remote(&h1.url(), &h3.bundle(), &["cluster", "status"]));
    // h2's bundle of its own old authority is gone; the new one works.
    assert_ok(remote(&h2.url(), &h2.bundle(), &["cluster", "status"]));

    // Requests for another host are forwarded: read and write h3 through
    // h1's socket, and h1 through h3's remote API.
    let shown: HostInfo = h1.json(&["--host", &h3.id, "host", "show"]);
    assert_eq!(shown.host_id.to_string(), h3.id);
    assert_ok(h1.lqx(&["--host", &h3.id, "host", "label", "set", "rack=r3"]));
    let on3: HostInfo = h3.json(&["host", "show"]);
    assert_eq!(on3.labels.get("rack").map(String::as_str), Some("r3"));
    let h1_via3: HostInfo = serde_json::from_str(&assert_ok(remote(
        &h3.url(),
        &h1.bundle(),
        &["--host", &h1.id, "--json", "host", "show"],
    )))
    .unwrap();
    assert_eq!(h1_via3.host_id.to_string(), h1.id);
    assert_refused(
        h1.lqx(&["--host", "no-such-host", "host", "show"]),
        "no member of the cluster is named",
    );

    // kill -9 a voter: the other two keep serving reads and writes at
    // once, and list it unreachable once its heartbeat lease lapses.
    h2.agent.kill9();
    for _ in 0..5 {
        assert_ok(h1.lqx(&["cluster", "token", "create", "--ttl", "10m"]));
        assert_ok(h3.lqx(&["cluster", "members"]));
        assert_ok(h3.lqx(&["host", "label", "set", "written=while-h2-down"]));
    }
    h1.wait_members(&[&h1, &h3], &[&h2]);
    assert_refused(
        h1.lqx(&["--host", &h2.id, "host", "show"]),
        "did not answer",
    );

    // Restarted, it rejoins by itself and sees what was written meanwhile.
    h2.agent.start_again().await;
    h3.wait_members(&[&h1, &h2, &h3], &[]);
    let tokens = assert_ok(lqx_test_support::cluster::etcdctl(
        &h1.bundle(),
        &h2.etcd_url(),
        &["get", "--prefix", "--keys-only", "/lqx/v1/tokens/"],
    ));
    // The five made while it was down (the two joins used theirs).
    assert_eq!(
        tokens.lines().filter(|l| !l.is_empty()).count(),
        5,
        "{tokens}"
    );

    // Refusals that change nothing.
    assert_refused(h1.lqx(&["cluster", "remove", &h1.id]), "that is this host");
    assert_refused(
        h1.lqx(&["cluster", "remove", "no-such-host"]),
        "no member of the cluster is named",
    );
    assert_refused(h3.lqx(&["cluster", "init"]), "already a member");
    assert_refused(
        h3.lqx(&["cluster", "join", &h1.token()]),
        "already a member",
    );

    // Remove h3 through h2: its etcd member and records go, and h3
    // forgets the cluster within a heartbeat or two.
    let left: Vec<Member> = h2.json(&["cluster", "remove", &h3.id]);
    assert_eq!(left.len(), 2, "{left:?}");
    assert_eq!(
        etcd_member_names(&h1.bundle(), &h1.etcd_url()),
        sorted_ids(&[&h1, &h2])
    );
    let forgot = wait_for(|| {
        let status: ClusterStatus = h3.json(&["cluster", "status"]);
        status.cluster.is_none().then_some(())
    });
    assert!(forgot.is_some(), "h3 still thinks it is a member");
    assert_ne!(own_fingerprint(&h3), created.fingerprint, "a new authority");
    assert!(
        !h3.agent.state_dir().join("etcd").exists(),
        "its member's data is gone"
    );
    // The cluster's admins no longer reach it.
    let refused = remote(&h3.url(), &h1.bundle(), &["host", "show"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("TLS handshake"),
        "{}",
        text(&refused.stderr)
    );

    // h2 leaves; h1 is the last member and may leave only with force.
    assert_ok(h2.lqx(&["cluster", "leave"]));
    h1.wait_members(&[&h1], &[]);
    assert_eq!(
        etcd_member_names(&h1.bundle(), &h1.etcd_url()),
        sorted_ids(&[&h1])
    );
    assert_refused(h1.lqx(&["cluster", "leave"]), "last member of cluster lab");

    // A host that was removed joins again with a new token.
    let again = h3.join(&h1.token()).cluster.expect("joined again");
    assert_eq!(again.id, created.id);
    h1.wait_members(&[&h1, &h3], &[]);
}
