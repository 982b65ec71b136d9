//! Benchmark of the host agent: idle memory, `GET /v1/host` latency on the
//! local socket, and a remote API call over mutual TLS (a new connection
//! and handshake per request, as `lqx --remote` makes), with curl doing the
//! same as the reference.
//!
//! Run with `cargo xtask bench` (or `cargo bench -p lqxd --bench host_api`).
//! Prints figures; asserts nothing. `ip -j addr` is timed in the same run
//! as the reference for reading the network from the kernel.

use lqx_test_support::AgentFixture;
use lqx_test_support::bench::percentile;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const REQUESTS: usize = 1_000;
const IP_RUNS: usize = 200;
const REMOTE_REQUESTS: usize = 300;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{name:<34} n={:<5} p50={:>8.0}us p99={:>8.0}us max={:>8.0}us",
        samples.len(),
        us(percentile(&samples, 50.0)),
        us(percentile(&samples, 99.0)),
        us(*samples.last().unwrap_or(&Duration::ZERO)),
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_lqxd"));
    let agent = AgentFixture::start_with(bin, &["--address", "127.0.0.1", "--api-port", "0"]).await;
    let pid = agent.pid().expect("agent pid");
    let client = agent.client();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_start = rss_kib(pid);

    // One request warms the lazily built paths before measuring.
    client.host().await.expect("GET /v1/host");
    let mut host = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let t = Instant::now();
        client.host().await.expect("GET /v1/host");
        host.push(t.elapsed());
    }
    let mut agent_route = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let t = Instant::now();
        client.agent().await.expect("GET /v1/agent");
        agent_route.push(t.elapsed());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_after = rss_kib(pid);

    let remote_api = client
        .agent()
        .await
        .expect("GET /v1/agent")
        .remote_api
        .expect("remote API served");
    let url = format!("https://{}", remote_api.listen);
    let bundle = PathBuf::from(&remote_api.admin_bundle);
    let remote = lqx_client::Client::remote(&url, &bundle).expect("admin bundle");
    remote.agent().await.expect("remote GET /v1/agent");
    let mut remote_agent = Vec::with_capacity(REMOTE_REQUESTS);
    for _ in 0..REMOTE_REQUESTS {
        let t = Instant::now();
        remote.agent().await.expect("remote GET /v1/agent");
        remote_agent.push(t.elapsed());
    }
    let mut curl = Vec::with_capacity(REMOTE_REQUESTS);
    for _ in 0..REMOTE_REQUESTS {
        let t = Instant::now();
        let out = Command::new("curl")
            .args(["--silent", "--fail", "--cacert"])
            .arg(bundle.join("ca.crt"))
            .arg("--cert")
            .arg(bundle.join("client.crt"))
            .arg("--key")
            .arg(bundle.join("client.key"))
            .arg(format!("{url}/v1/agent"))
            .output()
            .expect("run curl");
        assert!(out.status.success());
        curl.push(t.elapsed());
    }

    let mut ip = Vec::with_capacity(IP_RUNS);
    for _ in 0..IP_RUNS {
        let t = Instant::now();
        let out = Command::new("ip")
            .args(["-j", "addr"])
            .output()
            .expect("run ip");
        assert!(out.status.success());
        ip.push(t.elapsed());
    }

    println!(
        "lqxd benchmark ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!("{:<34} {idle_start} KiB", "lqxd idle RSS after start");
    println!(
        "{:<34} {idle_after} KiB",
        "lqxd idle RSS after 2,000 requests"
    );
    report("GET /v1/host (lqx-client, UDS)", host);
    report("GET /v1/agent (no host read)", agent_route);
    report("reference: `ip -j addr` (process)", ip);
    report("GET /v1/agent (HTTPS mTLS, new conn)", remote_agent);
    report("reference: curl, same call (process)", curl);
}
