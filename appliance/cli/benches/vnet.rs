//! Benchmark of ports with security groups: 1,000 ports created through
//! the API (`POST /v1/ports`: checked against the whole network document,
//! stored by compare-and-swap in etcd, then written to the northbound
//! database by the writer) against a release `lqxd` on 127.0.0.103, next
//! to the same rows made by `ovn-nbctl` (one invocation per port: the
//! logical switch port with addresses and port security, added to its
//! switch, its port group and its address set), against one real OVN
//! central in the same run.
//!
//! Run with `cargo xtask bench`, or `cargo build --release --workspace
//! --bins && cargo bench -p lqx --bench vnet`. Prints figures; asserts only
//! that every call succeeds and that both ends hold the 1,000 ports.

use lqx_api::{
    Direction, NetworkCreate, OvnCentral, PortCreate, Protocol, SecurityGroupCreate,
    SecurityRuleCreate,
};
use lqx_test_support::bench::summary;
use lqx_test_support::cluster::ClusterHost;
use lqx_test_support::ovn::{OvnCentral as Central, nbctl};
use std::process::Command;
use std::time::{Duration, Instant};

const PORTS: usize = 1000;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn report(name: &str, total: Duration, samples: &mut [Duration]) {
    let (p50, p99, max) = summary(samples);
    println!(
        "{name:<44} total={:>8.0}ms per port p50={:>6.2}ms p99={:>6.2}ms max={:>6.1}ms",
        ms(total),
        ms(p50),
        ms(p99),
        ms(max)
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let central = Central::start();
    let nb = central.nb.server.unix_remote();
    let host = ClusterHost::start_with("127.0.0.103", &["--api-port", "18103"]).await;
    host.init(&["--name", "bench"]);
    let client = host.agent.client().with_timeout(Duration::from_secs(60));
    client
        .set_ovn_central(&OvnCentral {
            nb_remote: central.nb.server.tcp_remote(),
            sb_remote: central.sb.server.tcp_remote(),
            ca_cert: None,
        })
        .await
        .expect("central");
    client
        .create_network(&NetworkCreate {
            name: "bench".into(),
            subnet: Some("10.64.0.0/20".into()),
            subnet6: None,
            gateway: None,
            gateway6: None,
            dhcp: true,
            dns: vec![],
            mtu: None,
            physnet: None,
            vlan: None,
        })
        .await
        .expect("network");
    client
        .create_security_group(&SecurityGroupCreate {
            name: "web".into(),
            description: String::new(),
        })
        .await
        .expect("group");
    client
        .add_rule(
            "web",
            &SecurityRuleCreate {
                direction: Direction::Ingress,
                protocol: Protocol::Tcp,
                port_min: Some(80),
                port_max: None,
                remote_cidr: None,
                remote_group: Some("web".into()),
            },
        )
        .await
        .expect("rule");

    // Through the API, until the northbound database holds every port.
    let mut samples = Vec::with_capacity(PORTS);
    let start = Instant::now();
    for i in 0..PORTS {
        let t = Instant::now();
        client
            .create_port(&PortCreate {
                name: Some(format!("p{i}")),
                network: "bench".into(),
                ip: None,
                mac: None,
                security_groups: vec!["web".into()],
            })
            .await
            .expect("port");
        samples.push(t.elapsed());
    }
    let stored = start.elapsed();
    loop {
        let sync = client.ovn_sync().await.expect("sync");
        if sync.applied == sync.generation {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(600), "{sync:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let written = start.elapsed();
    assert_eq!(
        nbctl(&nb, &["lsp-list", "lqx-bench"]).lines().count(),
        PORTS
    );
    report("API: 1000 ports stored (etcd)", stored, &mut samples);
    println!(
        "{:<44} total={:>8.0}ms",
        "API: ... and written to the NB database",
        ms(written)
    );

    // The same rows with ovn-nbctl, one invocation per port.
    nbctl(&nb, &["ls-add", "raw"]);
    nbctl(&nb, &["pg-add", "raw_pg"]);
    nbctl(&nb, &["create", "Address_Set", "name=raw_as"]);
    let mut samples = Vec::with_capacity(PORTS);
    let start = Instant::now();
    for i in 0..PORTS {
        let (hi, lo) = (i / 250, i % 250 + 2);
        let address = format!("\"0a:00:00:00:{hi:02x}:{lo:02x} 10.80.{hi}.{lo}\"");
        let t = Instant::now();
        let out = Command::new("ovn-nbctl")
            .arg(format!("--db={nb}"))
            .args([
                "--",
                "--id=@p",
                "create",
                "Logical_Switch_Port",
                &format!("name=raw{i}"),
                &format!("addresses={address}"),
                &format!("port_security={address}"),
                "--",
                "add",
                "Logical_Switch",
                "raw",
                "ports",
                "@p",
                "--",
                "add",
                "Port_Group",
                "raw_pg",
                "ports",
                "@p",
                "--",
                "add",
                "Address_Set",
                "raw_as",
                "addresses",
                &format!("\"10.80.{hi}.{lo}\""),
            ])
            .output()
            .expect("ovn-nbctl");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        samples.push(t.elapsed());
    }
    let raw = start.elapsed();
    assert_eq!(nbctl(&nb, &["lsp-list", "raw"]).lines().count(), PORTS);
    report("ovn-nbctl: 1000 ports", raw, &mut samples);
    println!(
        "{:<44} {:.2}",
        "ratio (API to NB) / ovn-nbctl",
        written.as_secs_f64() / raw.as_secs_f64()
    );
}
