//! Benchmark of the OVSDB client against a real OVN northbound
//! `ovsdb-server`: sequential single-insert transactions per second, by
//! this client and by `ovn-nbctl` (one process per insert, as scripts use
//! it, and one process inserting many in one transaction), and the latency
//! from a commit to a monitor's replica showing it.
//!
//! Run with `cargo xtask bench` (or `cargo bench -p lqx-ovsdb`). Prints
//! figures; asserts nothing.

use lqx_ovsdb::datum::Datum;
use lqx_ovsdb::replica::column;
use lqx_ovsdb::{Client, ops};
use lqx_test_support::bench::percentile;
use lqx_test_support::ovsdb::{OVN_NB_SCHEMA, OvsdbFixture};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DB: &str = "OVN_Northbound";
const CLIENT_INSERTS: usize = 1_000;
const NBCTL_INSERTS: usize = 100;
const LATENCY_SAMPLES: usize = 300;

fn rate(name: &str, count: usize, elapsed: Duration) {
    println!(
        "{name:<46} {count:>5} in {:>7.3}s = {:>8.0}/s",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    );
}

fn switch(name: &str) -> serde_json::Value {
    ops::insert("Logical_Switch", [("name", Datum::scalar(name))], None)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let fixture = OvsdbFixture::start(OVN_NB_SCHEMA);
    let remote: lqx_ovsdb::Remote = fixture.server.unix_remote().parse().unwrap();
    let client = Client::connect(&remote, None, Duration::from_secs(5))
        .await
        .unwrap();

    let start = Instant::now();
    for i in 0..CLIENT_INSERTS {
        client
            .transact(DB, vec![switch(&format!("c{i}"))])
            .await
            .unwrap();
    }
    let ours = start.elapsed();

    let nbctl = |args: &[String]| {
        let out = Command::new("ovn-nbctl")
            .arg(format!("--db={}", fixture.server.unix_remote()))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let start = Instant::now();
    for i in 0..NBCTL_INSERTS {
        nbctl(&["ls-add".into(), format!("n{i}")]);
    }
    let nbctl_each = start.elapsed();
    let start = Instant::now();
    let mut batch = vec![];
    for i in 0..NBCTL_INSERTS {
        if i > 0 {
            batch.push("--".into());
        }
        batch.push("ls-add".into());
        batch.push(format!("b{i}"));
    }
    nbctl(&batch);
    let nbctl_batch = start.elapsed();
    let start = Instant::now();
    client
        .transact(
            DB,
            (0..NBCTL_INSERTS)
                .map(|i| switch(&format!("t{i}")))
                .collect(),
        )
        .await
        .unwrap();
    let ours_batch = start.elapsed();

    // Commit-to-replica latency: one connection writes, another
    // monitors.
    let watcher = Client::connect(&remote, None, Duration::from_secs(5))
        .await
        .unwrap();
    let schema = Arc::new(watcher.get_schema(DB).await.unwrap());
    let monitor = watcher
        .monitor(DB, schema, &[("Logical_Switch", &["name"])])
        .await
        .unwrap();
    let mut latency = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES {
        let name = format!("m{i}");
        let start = Instant::now();
        client.transact(DB, vec![switch(&name)]).await.unwrap();
        let seen = monitor
            .wait_for(Duration::from_secs(5), |r| {
                r.rows("Logical_Switch")
                    .any(|(_, row)| column(row, "name").as_str() == Some(name.as_str()))
            })
            .await;
        assert!(seen);
        latency.push(start.elapsed());
    }
    latency.sort();
    let rows = monitor.read(|r| r.rows("Logical_Switch").count());

    println!(
        "OVSDB client benchmark ({} build), OVN NB on a Unix socket",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    rate("lqx-ovsdb: 1 insert per transaction", CLIENT_INSERTS, ours);
    rate(
        "ovn-nbctl ls-add: 1 process per insert",
        NBCTL_INSERTS,
        nbctl_each,
    );
    rate(
        "lqx-ovsdb: 100 inserts in 1 transaction",
        NBCTL_INSERTS,
        ours_batch,
    );
    rate(
        "ovn-nbctl: 100 ls-add in 1 process",
        NBCTL_INSERTS,
        nbctl_batch,
    );
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{:<46} n={LATENCY_SAMPLES} p50={:.0}us p99={:.0}us (replica holds {rows} rows)",
        "commit -> monitor replica (transact + update2)",
        us(percentile(&latency, 50.0)),
        us(percentile(&latency, 99.0)),
    );
}
