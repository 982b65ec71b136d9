//! A session with a 3-member RAFT cluster of real `ovsdb-server`s (OVN
//! northbound schema): it sits on the leader, and when the leader is
//! killed it moves to the new one; writes go on; `ovn-nbctl` checks.

use lqx_ovsdb::datum::Datum;
use lqx_ovsdb::ops;
use lqx_ovsdb::replica::column;
use lqx_ovsdb::{Session, SessionOptions};
use lqx_test_support::ovsdb::{OVN_NB_SCHEMA, OvsdbCluster};
use std::process::Command;
use std::time::{Duration, Instant};

const DB: &str = "OVN_Northbound";
const WAIT: Duration = Duration::from_secs(20);

fn leader(cluster: &OvsdbCluster) -> usize {
    let start = Instant::now();
    loop {
        if let Some(i) = cluster
            .members
            .iter()
            .position(|m| m.is_running() && m.raft_role(DB).as_deref() == Some("leader"))
        {
            return i;
        }
        assert!(start.elapsed() < WAIT, "no leader elected");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn add_switch(name: &str) -> Vec<serde_json::Value> {
    vec![ops::insert(
        "Logical_Switch",
        [("name", Datum::scalar(name))],
        None,
    )]
}

#[tokio::test]
async fn session_follows_the_leader_when_it_dies() {
    let mut cluster = OvsdbCluster::start(OVN_NB_SCHEMA, 3);
    let first = leader(&cluster);
    let remotes = lqx_ovsdb::remote::parse_list(&cluster.tcp_remotes()).unwrap();
    let options = SessionOptions {
        backoff_max: Duration::from_millis(500),
        ..SessionOptions::default()
    };
    let session = Session::start(remotes, DB, None, options);
    let client = session.client(WAIT).await.unwrap();
    assert_eq!(
        client.remote(),
        cluster.members[first].tcp_remote(),
        "on the leader"
    );
    session.transact(add_switch("ls1"), WAIT).await.unwrap();
    let monitor = session.monitor(&[("Logical_Switch", &["name"])]);
    let has = |name: &'static str| {
        move |r: &lqx_ovsdb::Replica| {
            r.rows("Logical_Switch")
                .any(|(_, row)| column(row, "name").as_str() == Some(name))
        }
    };
    assert!(monitor.wait_for(WAIT, has("ls1")).await);

    cluster.members[first].kill();
    let killed = cluster.members[first].tcp_remote();
    let moved = Instant::now();
    // Writes fail while the cluster elects; the session moves on by
    // itself and the next write lands.
    loop {
        match session
            .transact(add_switch("ls2"), Duration::from_secs(2))
            .await
        {
            Ok(_) => break,
            Err(error) => {
                assert!(moved.elapsed() < WAIT, "never recovered: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    let client = session.client(WAIT).await.unwrap();
    assert_ne!(client.remote(), killed);
    let second = leader(&cluster);
    assert_eq!(client.remote(), cluster.members[second].tcp_remote());
    println!("moved to the new leader in {:?}", moved.elapsed());
    assert!(
        monitor.wait_for(WAIT, has("ls2")).await,
        "the monitor followed"
    );

    let survivors: Vec<String> = cluster
        .members
        .iter()
        .filter(|m| m.is_running())
        .map(|m| m.tcp_remote())
        .collect();
    let out = Command::new("ovn-nbctl")
        .arg(format!("--db={}", survivors.join(",")))
        .arg("--timeout=10")
        .arg("ls-list")
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(list.contains("(ls1)") && list.contains("(ls2)"), "{list}");
}
