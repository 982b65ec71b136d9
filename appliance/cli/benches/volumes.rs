//! Benchmark of volume operations: create, snapshot, clone and delete
//! through `lqx` (a process per operation, as an operator or script runs
//! it, served by a running lqxd), through the API client alone (no
//! process start), and with the `rbd` CLI, all in the same run against the
//! project's Ceph fixture.
//!
//! Run with `cargo xtask bench` (after the agent's bench, which leaves a
//! release lqxd) or `cargo build --release -p lqxd && cargo bench -p lqx
//! --bench volumes`. Prints figures; asserts nothing.

use lqx_api::{CloneRequest, VolumeCreate, VolumeDeleteQuery};
use lqx_test_support::AgentFixture;
use lqx_test_support::bench::percentile;
use lqx_test_support::ceph::CephFixture;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const ROUNDS: usize = 20;
const SIZE: &str = "1GiB";

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{name:<40} n={:<3} p50={:>7.1}ms p99={:>7.1}ms",
        samples.len(),
        ms(percentile(&samples, 50.0)),
        ms(percentile(&samples, 99.0)),
    );
}

fn timed(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    let out = cmd.output().expect("run");
    let elapsed = t.elapsed();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    elapsed
}

#[derive(Default)]
struct Series {
    create: Vec<Duration>,
    snapshot: Vec<Duration>,
    clone: Vec<Duration>,
    delete_clone: Vec<Duration>,
    delete_with_snapshot: Vec<Duration>,
}

impl Series {
    fn report(self, via: &str) {
        report(&format!("{via}: create {SIZE}"), self.create);
        report(&format!("{via}: snapshot create"), self.snapshot);
        report(&format!("{via}: clone (protect + clone)"), self.clone);
        report(&format!("{via}: delete a clone"), self.delete_clone);
        report(
            &format!("{via}: delete with its snapshot"),
            self.delete_with_snapshot,
        );
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let lqx_bin = PathBuf::from(env!("CARGO_BIN_EXE_lqx"));
    let lqxd = lqx_bin.with_file_name("lqxd");
    assert!(
        lqxd.exists(),
        "{} is not built: cargo build --release -p lqxd",
        lqxd.display()
    );
    let ceph = CephFixture::start();
    ceph.create_rbd_pool("bench");
    let key = ceph.create_rbd_client("lqx", &["bench"]);
    let agent = AgentFixture::start_with(lqxd, &[]).await;
    let client = agent.client();
    let socket = agent.socket();
    let mon = ceph.mon_v2().to_string();
    let lqx = |args: &[&str]| {
        let mut c = Command::new(&lqx_bin);
        c.arg("--socket")
            .arg(&socket)
            .args(args)
            .env_remove("LQX_SOCKET");
        c
    };
    timed(&mut lqx(&[
        "ceph",
        "join",
        "--mon",
        &mon,
        "--name",
        "client.lqx",
        "--key",
        &key,
    ]));

    let mut cli = Series::default();
    let mut api = Series::default();
    let mut rbd = Series::default();
    for i in 0..ROUNDS {
        // Through lqx.
        let (vol, snap, clone) = (
            format!("bench/l{i}"),
            format!("bench/l{i}@s"),
            format!("bench/l{i}-c"),
        );
        cli.create
            .push(timed(&mut lqx(&["volume", "create", &vol, "--size", SIZE])));
        cli.snapshot
            .push(timed(&mut lqx(&["volume", "snapshot", "create", &snap])));
        cli.clone
            .push(timed(&mut lqx(&["volume", "clone", &snap, &clone])));
        cli.delete_clone
            .push(timed(&mut lqx(&["volume", "delete", &clone])));
        cli.delete_with_snapshot
            .push(timed(&mut lqx(&["volume", "delete", &vol, "--snapshots"])));

        // Through the API client, no process start.
        let name = format!("a{i}");
        let t = Instant::now();
        client
            .create_volume(
                "bench",
                &VolumeCreate {
                    name: name.clone(),
                    size_bytes: 1 << 30,
                },
            )
            .await
            .unwrap();
        api.create.push(t.elapsed());
        let t = Instant::now();
        client.create_snapshot("bench", &name, "s").await.unwrap();
        api.snapshot.push(t.elapsed());
        let t = Instant::now();
        let target = CloneRequest {
            pool: "bench".into(),
            name: format!("{name}-c"),
        };
        client
            .clone_snapshot("bench", &name, "s", &target)
            .await
            .unwrap();
        api.clone.push(t.elapsed());
        let t = Instant::now();
        client
            .delete_volume("bench", &target.name, VolumeDeleteQuery::default())
            .await
            .unwrap();
        api.delete_clone.push(t.elapsed());
        let t = Instant::now();
        client
            .delete_volume(
                "bench",
                &name,
                VolumeDeleteQuery {
                    snapshots: true,
                    flatten_clones: false,
                },
            )
            .await
            .unwrap();
        api.delete_with_snapshot.push(t.elapsed());

        // The rbd CLI, as client.admin with the fixture's conf.
        let (vol, snap, clone) = (
            format!("bench/r{i}"),
            format!("bench/r{i}@s"),
            format!("bench/r{i}-c"),
        );
        let rbd_cmd = |args: &[&str]| {
            let mut c = Command::new("rbd");
            c.arg("-c").arg(ceph.conf()).args(args);
            c
        };
        rbd.create
            .push(timed(&mut rbd_cmd(&["create", &vol, "--size", "1G"])));
        rbd.snapshot
            .push(timed(&mut rbd_cmd(&["snap", "create", &snap])));
        rbd.clone.push(
            timed(&mut rbd_cmd(&["snap", "protect", &snap]))
                + timed(&mut rbd_cmd(&["clone", &snap, &clone])),
        );
        rbd.delete_clone
            .push(timed(&mut rbd_cmd(&["rm", "--no-progress", &clone])));
        rbd.delete_with_snapshot.push(
            timed(&mut rbd_cmd(&["snap", "unprotect", &snap]))
                + timed(&mut rbd_cmd(&["snap", "rm", "--no-progress", &snap]))
                + timed(&mut rbd_cmd(&["rm", "--no-progress", &vol])),
        );
    }
    println!("volume operations, {ROUNDS} rounds, Ceph fixture on 127.0.0.1 (memstore OSD)");
    cli.report("lqx");
    api.report("API client");
    rbd.report("rbd CLI");
}
