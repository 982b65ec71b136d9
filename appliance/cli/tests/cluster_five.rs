//! Five hosts as separate `lqxd` processes on 127.0.0.61–65 in a cluster
//! that aims for three voters: the first three joiners vote, the other
//! two are clients of the store. A voter and a client killed at once
//! while the rest keep serving (the surviving client through the voters
//! it can reach); both restarted; a voter leaving and then the host that
//! created the cluster removed, each time a client taking the free seat.
//! etcdctl checks the store's members on its own.

use lqx_api::{EtcdRole, Member};
use lqx_test_support::assert_ok;
use lqx_test_support::cluster::{ClusterHost, etcd_member_names, wait_for};

fn role_of(members: &[Member], host: &ClusterHost) -> Option<EtcdRole> {
    members
        .iter()
        .find(|m| m.id.to_string() == host.id)
        .map(|m| m.etcd_role)
}

/// Waits until `via` sees exactly `voters` as the voting members, in
/// the member list and in etcd.
fn wait_voters(via: &ClusterHost, voters: &[&ClusterHost]) {
    let mut want: Vec<String> = voters.iter().map(|h| h.id.clone()).collect();
    want.sort();
    let mut last = (Vec::new(), Vec::new());
    let settled = wait_for(|| {
        let members = via.members().ok()?;
        let mut listed: Vec<String> = members
            .iter()
            .filter(|m| m.etcd_role == EtcdRole::Voter)
            .map(|m| m.id.to_string())
            .collect();
        listed.sort();
        let etcd = etcd_member_names(&via.bundle(), &voters[0].etcd_url());
        last = (listed.clone(), etcd.clone());
        (listed == want && etcd == want).then_some(())
    });
    assert!(
        settled.is_some(),
        "voters (member list, etcd) are {last:?}, not {want:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hosts_three_voters_two_clients() {
    let mut hosts = Vec::new();
    for address in [
        "127.0.0.61",
        "127.0.0.62",
        "127.0.0.63",
        "127.0.0.64",
        "127.0.0.65",
    ] {
        hosts.push(ClusterHost::start(address).await);
    }
    let [h1, h2, h3, h4, h5] = hosts.as_mut_slice() else {
        unreachable!()
    };

    h1.init(&["--name", "five", "--voters", "3"]);
    for (i, joiner) in [&*h2, &*h3, &*h4, &*h5].into_iter().enumerate() {
        // Tokens from different members: each admits.
        let issuer = if i % 2 == 0 { &*h1 } else { &*h2 };
        let status = joiner.join(&issuer.token());
        let want = if i < 2 {
            EtcdRole::Voter
        } else {
            EtcdRole::Client
        };
        assert_eq!(status.cluster.expect("joined").role, want, "joiner {i}");
    }
    let members = h5.wait_members(&[&*h1, &*h2, &*h3, &*h4, &*h5], &[]);
    assert_eq!(role_of(&members, h4), Some(EtcdRole::Client));
    assert_eq!(role_of(&members, h5), Some(EtcdRole::Client));
    wait_voters(h4, &[&*h1, &*h2, &*h3]);

    // A voter and a client die; the others keep serving at once, the
    // surviving client included.
    h2.agent.kill9();
    h5.agent.kill9();
    for h in [&*h1, &*h3, &*h4] {
        assert_ok(h.lqx(&["cluster", "token", "create", "--ttl", "5m"]));
        assert_ok(h.lqx(&["cluster", "members"]));
    }
    h4.wait_members(&[&*h1, &*h3, &*h4], &[&*h2, &*h5]);
    h2.agent.start_again().await;
    h5.agent.start_again().await;
    h1.wait_members(&[&*h1, &*h2, &*h3, &*h4, &*h5], &[]);

    // A voter leaves: a client takes its seat.
    assert_ok(h3.lqx(&["cluster", "leave"]));
    let settled = wait_for(|| {
        let members = h1.members().ok()?;
        let voters = members
            .iter()
            .filter(|m| m.etcd_role == EtcdRole::Voter)
            .count();
        (members.len() == 4 && voters == 3).then_some(members)
    })
    .expect("a client became a voter");
    let promoted: Vec<&Member> = settled
        .iter()
        .filter(|m| m.etcd_role == EtcdRole::Voter)
        .filter(|m| m.id.to_string() == h4.id || m.id.to_string() == h5.id)
        .collect();
    assert_eq!(promoted.len(), 1, "{settled:?}");
    let (seated, client) = if promoted[0].id.to_string() == h4.id {
        (&*h4, &*h5)
    } else {
        (&*h5, &*h4)
    };
    wait_voters(client, &[&*h1, &*h2, seated]);

    // The host that created the cluster is removed: the last client
    // takes its seat, and the cluster goes on without it.
    assert_ok(seated.lqx(&["cluster", "remove", &h1.id]));
    wait_voters(h2, &[&*h2, &*h4, &*h5]);
    let members = h4.wait_members(&[&*h2, &*h4, &*h5], &[]);
    assert!(members.iter().all(|m| m.etcd_role == EtcdRole::Voter));
    assert_ok(h5.lqx(&["cluster", "token", "create"]));
}
