//! Benchmark of the cluster, with three release `lqxd`s on 127.0.0.81–83
//! and their own etcd members:
//!
//! - forming: from three unclustered hosts to every member `ready` (init,
//!   two tokens, two joins, the member list from the first host), split
//!   into its steps, over several rounds (the hosts leave in between);
//! - a cluster write through the API (`POST /v1/cluster/tokens`: a lease
//!   grant and a conditional put, over the local socket and over the
//!   remote API with mutual TLS) next to the same writes straight to etcd
//!   with the project's etcd client, a plain etcd put, and `etcdctl put`,
//!   all in the same run against the same three-member cluster.
//!
//! Run with `cargo xtask bench`, or `cargo build --release --workspace
//! --bins && cargo bench -p lqx --bench cluster`. Prints figures; asserts
//! only that every call succeeds.

use lqx_api::{ClusterInitRequest, JoinRequest, LeaveRequest, MemberState, TokenRequest};
use lqx_client::Client;
use lqx_etcd::{ClientTls, ClusterStore as _, EtcdStore};
use lqx_test_support::bench::summary;
use lqx_test_support::cluster::ClusterHost;
use std::time::{Duration, Instant};

const ROUNDS: usize = 5;
const WRITES: usize = 300;
const ETCDCTL_WRITES: usize = 30;

fn report(name: &str, samples: &mut [Duration]) {
    let (p50, p99, max) = summary(samples);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{name:<52} n={:<4} p50={:>8.2}ms p99={:>8.2}ms max={:>8.2}ms",
        samples.len(),
        ms(p50),
        ms(p99),
        ms(max)
    );
}

async fn token(client: &Client) -> String {
    client
        .create_token(&TokenRequest {
            ttl_seconds: Some(600),
        })
        .await
        .expect("token")
        .token
}

/// Forms the cluster; returns the time of each step and the total.
async fn form(hosts: &[ClusterHost]) -> [Duration; 4] {
    let clients: Vec<Client> = hosts
        .iter()
        .map(|h| h.agent.client().with_timeout(Duration::from_secs(120)))
        .collect();
    let start = Instant::now();
    clients[0]
        .init_cluster(&ClusterInitRequest::default())
        .await
        .expect("init");
    let init = start.elapsed();
    let mut joins = [Duration::ZERO; 2];
    for (i, client) in clients[1..].iter().enumerate() {
        let token = token(&clients[0]).await;
        let t = Instant::now();
        client
            .join_cluster(&JoinRequest { token })
            .await
            .expect("join");
        joins[i] = t.elapsed();
    }
    loop {
        let members = clients[0].members().await.expect("members");
        if members.len() == hosts.len() && members.iter().all(|m| m.state == MemberState::Ready) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    [init, joins[0], joins[1], start.elapsed()]
}

async fn dissolve(hosts: &[ClusterHost]) {
    for (i, host) in hosts.iter().enumerate().rev() {
        host.agent
            .client()
            .with_timeout(Duration::from_secs(60))
            .leave_cluster(&LeaveRequest { force: i == 0 })
            .await
            .expect("leave");
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut hosts = Vec::new();
    for address in ["127.0.0.81", "127.0.0.82", "127.0.0.83"] {
        hosts.push(ClusterHost::start(address).await);
    }

    let mut steps: [Vec<Duration>; 4] = Default::default();
    for round in 0..ROUNDS {
        let times = form(&hosts).await;
        for (series, time) in steps.iter_mut().zip(times) {
            series.push(time);
        }
        if round + 1 < ROUNDS {
            dissolve(&hosts).await;
        }
    }
    println!("forming a cluster of 3 hosts ({ROUNDS} rounds):");
    let names = [
        "  init (authority, etcd started, host registered)",
        "  join of the second host (a voter)",
        "  join of the third host (a voter)",
        "  three unclustered hosts to all members ready",
    ];
    for (name, series) in names.iter().zip(steps.iter_mut()) {
        report(name, series);
    }

    // Writes against the cluster just formed.
    let local = hosts[0].agent.client();
    let remote = Client::remote(&hosts[0].url(), &hosts[0].bundle()).expect("admin bundle");
    let bundle = lqx_pki::Bundle::read(&hosts[0].bundle()).expect("admin bundle");
    let etcd = EtcdStore::connect(
        &[hosts[0].etcd_url()],
        &ClientTls {
            ca_pem: bundle.authority_pem.clone(),
            cert_pem: bundle.client.cert_pem.clone(),
            key_pem: bundle.client.key_pem.clone(),
        },
        Duration::from_secs(5),
    )
    .await
    .expect("etcd client");

    let mut api_local = Vec::with_capacity(WRITES);
    let mut api_remote = Vec::with_capacity(WRITES);
    let mut direct_token = Vec::with_capacity(WRITES);
    let mut direct_put = Vec::with_capacity(WRITES);
    for i in 0..WRITES {
        let t = Instant::now();
        token(&local).await;
        api_local.push(t.elapsed());
        let t = Instant::now();
        token(&remote).await;
        api_remote.push(t.elapsed());
        let t = Instant::now();
        let lease = etcd.grant(Duration::from_secs(600)).await.expect("grant");
        let key = format!("/bench/tokens/{i}");
        assert!(
            etcd.create(&key, b"{}".to_vec(), Some(lease))
                .await
                .expect("create")
        );
        direct_token.push(t.elapsed());
        let t = Instant::now();
        etcd.put(&format!("/bench/put/{i}"), b"{}".to_vec(), None)
            .await
            .expect("put");
        direct_put.push(t.elapsed());
    }
    let mut etcdctl = Vec::with_capacity(ETCDCTL_WRITES);
    for i in 0..ETCDCTL_WRITES {
        let t = Instant::now();
        let out = hosts[0].etcdctl(&["put", &format!("/bench/etcdctl/{i}"), "{}"]);
        etcdctl.push(t.elapsed());
        assert!(out.status.success(), "etcdctl put");
    }
    println!("a cluster write (3 voters, leader anywhere):");
    report(
        "  API token create, local socket (grant + txn)",
        &mut api_local,
    );
    report(
        "  API token create, remote API with mutual TLS",
        &mut api_remote,
    );
    report(
        "  etcd grant + txn, project's etcd client",
        &mut direct_token,
    );
    report("  etcd put, project's etcd client", &mut direct_put);
    report("  etcdctl put (a process per write)", &mut etcdctl);
}
