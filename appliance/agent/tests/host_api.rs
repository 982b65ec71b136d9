//! The real `lqxd` answers true facts about this machine and keeps its
//! identity.

use lqx_test_support::AgentFixture;
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

fn ip_json(args: &[&str]) -> serde_json::Value {
    let out = Command::new("ip")
        .arg("-j")
        .args(args)
        .output()
        .expect("run ip");
    assert!(out.status.success(), "ip {args:?} failed");
    serde_json::from_slice(&out.stdout).expect("ip -j output")
}

#[tokio::test]
async fn host_facts_match_what_ip_and_procfs_report() {
    let agent = AgentFixture::start().await;
    let host = agent.client().host().await.unwrap();

    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(host.facts.hostname, hostname.trim());
    assert_eq!(
        host.facts.kernel.release,
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap()
            .trim()
    );

    let ip = ip_json(&["addr"]);
    let expected: BTreeSet<(String, Option<String>, u64, BTreeSet<String>)> = ip
        .as_array()
        .unwrap()
        .iter()
        .map(|link| {
            let mac = link["address"]
                .as_str()
                .filter(|m| *m != "00:00:00:00:00:00");
            let addrs = link["addr_info"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| format!("{}/{}", a["local"].as_str().unwrap(), a["prefixlen"]))
                .collect();
            (
                link["ifname"].as_str().unwrap().to_owned(),
                mac.map(str::to_owned),
                link["mtu"].as_u64().unwrap(),
                addrs,
            )
        })
        .collect();
    let actual: BTreeSet<(String, Option<String>, u64, BTreeSet<String>)> = host
        .facts
        .interfaces
        .iter()
        .map(|i| {
            (
                i.name.clone(),
                i.mac.clone(),
                u64::from(i.mtu),
                i.addresses
                    .iter()
                    .map(|a| format!("{}/{}", a.address, a.prefix_len))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(actual, expected);

    let gateways: BTreeSet<String> = ["-4", "-6"]
        .iter()
        .flat_map(|fam| {
            ip_json(&[fam, "route", "show", "default"])
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|r| r["gateway"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect();
    let reported: BTreeSet<String> = host
        .facts
        .default_routes
        .iter()
        .filter_map(|r| r.gateway.map(|g| g.to_string()))
        .collect();
    assert_eq!(reported, gateways);

    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kb: u64 = meminfo
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(host.facts.memory.total_bytes, total_kb * 1024);
}

#[tokio::test]
async fn identity_survives_restart_and_crash() {
    let mut agent = AgentFixture::start().await;
    let id = agent.client().host().await.unwrap().host_id;
    agent.restart().await;
    assert_eq!(agent.client().host().await.unwrap().host_id, id);
    agent.kill9();
    agent.start_again().await;
    assert_eq!(agent.client().host().await.unwrap().host_id, id);
}

#[tokio::test]
async fn state_and_socket_are_private() {
    let agent = AgentFixture::start().await;
    let mode = |p: std::path::PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(agent.socket()), 0o600);
    assert_eq!(mode(agent.state_dir()), 0o700);
    assert_eq!(mode(agent.state_dir().join("host.json")), 0o600);
}

#[tokio::test]
async fn a_second_agent_on_the_same_state_or_socket_is_refused() {
    let agent = AgentFixture::start().await;
    let bin = lqx_test_support::workspace_bin("lqxd");

    let same_state = Command::new(&bin)
        .arg("--state-dir")
        .arg(agent.state_dir())
        .arg("--socket")
        .arg(agent.dir().join("other.sock"))
        .args(["--mode", "standalone"])
        .output()
        .unwrap();
    assert!(!same_state.status.success());
    let stderr = String::from_utf8_lossy(&same_state.stderr);
    assert!(stderr.contains("in use by another lqxd"), "{stderr}");

    let same_socket = Command::new(&bin)
        .arg("--state-dir")
        .arg(agent.dir().join("other-state"))
        .arg("--socket")
        .arg(agent.socket())
        .args(["--mode", "standalone"])
        .output()
        .unwrap();
    assert!(!same_socket.status.success());
    let stderr = String::from_utf8_lossy(&same_socket.stderr);
    assert!(stderr.contains("already serving"), "{stderr}");

    // The first agent is unharmed.
    agent.client().agent().await.unwrap();
}

#[tokio::test]
async fn sigterm_stops_cleanly_and_removes_the_socket() {
    let mut agent = AgentFixture::start().await;
    let status = agent.stop().unwrap();
    assert!(status.success(), "{status}; log:\n{}", agent.log());
    assert!(!agent.socket().exists());
}

#[tokio::test]
async fn bad_flags_get_a_clear_message() {
    let bin = lqx_test_support::workspace_bin("lqxd");
    let out = Command::new(&bin)
        .args(["--address", "not-an-ip"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--address"), "{stderr}");
    let out = Command::new(&bin)
        .args(["--mode", "sideways"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn address_and_mode_are_reported() {
    let bin = lqx_test_support::workspace_bin("lqxd");
    let agent = AgentFixture::start_with(bin, &["--address", "127.0.0.7"]).await;
    let info = agent.client().agent().await.unwrap();
    assert_eq!(info.address, Some("127.0.0.7".parse().unwrap()));
    assert_eq!(info.mode, lqx_api::AgentMode::Standalone);
    assert_eq!(Some(info.pid), agent.pid());
}
