//! `lqx network` against a real `lqxd` (standalone: configurations are
//! rendered into its state directory, the host is never touched).

use lqx_api::{ApplyResult, Ipv4Config, LinkConfig, LinkKind, NetworkConfig, NetworkStatus};
use lqx_core::network::NicFacts;
use lqx_test_support::{AgentFixture, run_lqx as lqx};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

fn status(socket: &Path) -> NetworkStatus {
    let out = lqx(socket, &["network", "show", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn config(nic: &str, address: &str, gateway: &str) -> NetworkConfig {
    NetworkConfig {
        hostname: "hv-test".into(),
        management: nic.into(),
        links: vec![LinkConfig {
            name: nic.into(),
            kind: LinkKind::Ethernet,
            ipv4: Ipv4Config::Static {
                addresses: vec![address.into()],
                gateway: Some(gateway.into()),
            },
            ipv6: Default::default(),
            mtu: None,
        }],
        dns: Default::default(),
        ntp: vec![],
    }
}

fn write(dir: &Path, name: &str, config: &NetworkConfig) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(config).unwrap()).unwrap();
    path.display().to_string()
}

/// Saves `config` through `lqx network set` and applies it with `timeout`
/// seconds to confirm; both must succeed.
fn set_and_apply(socket: &Path, dir: &Path, name: &str, config: &NetworkConfig, timeout: &str) {
    let file = write(dir, name, config);
    let out = lqx(socket, &["network", "set", "--file", &file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = lqx(socket, &["network", "apply", "--timeout", timeout]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("reverts in"));
}

fn failed_with(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {stderr}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
}

#[tokio::test]
async fn set_apply_confirm_and_revert_by_itself() {
    let agent = AgentFixture::start().await;
    let socket = agent.socket();
    let host = agent.client().host().await.unwrap();
    let nics = NicFacts::from_interfaces(&host.facts.interfaces);
    let nic = nics
        .first()
        .expect("this machine needs a physical NIC for the test")
        .name
        .clone();
    let dir = agent.dir().to_path_buf();
    let rendered = agent
        .state_dir()
        .join("rendered/network")
        .join(format!("10-lqx-{nic}.network"));

    // Refused before anything is saved: a gateway outside the subnet
    // (caught by lqx itself), a NIC this host does not have (caught by
    // lqxd), and a file that is not JSON.
    let bad = write(
        &dir,
        "bad.json",
        &config(&nic, "198.51.100.10/24", "203.0.113.1"),
    );
    failed_with(
        &lqx(&socket, &["network", "set", "--file", &bad]),
        "links[0].ipv4.gateway",
    );
    let ghost = write(
        &dir,
        "ghost.json",
        &config("nosuchnic0", "198.51.100.10/24", "198.51.100.1"),
    );
    failed_with(
        &lqx(&socket, &["network", "set", "--file", &ghost]),
        "this host has no NIC named nosuchnic0",
    );
    std::fs::write(dir.join("broken.json"), "{\"hostname\": ").unwrap();
    let broken = dir.join("broken.json").display().to_string();
    failed_with(
        &lqx(&socket, &["network", "set", "--file", &broken]),
        "is not a network configuration",
    );
    failed_with(
        &lqx(&socket, &["network", "apply"]),
        "no network configuration is saved",
    );
    failed_with(
        &lqx(&socket, &["network", "confirm"]),
        "no apply is waiting",
    );
    assert_eq!(status(&socket).desired, None);
    assert!(!rendered.exists());

    // Save, apply, confirm.
    let good = write(
        &dir,
        "good.json",
        &config(&nic, "198.51.100.10/24", "198.51.100.1"),
    );
    let out = lqx(&socket, &["network", "set", "--file", &good]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!rendered.exists(), "set does not apply");
    let out = lqx(&socket, &["network", "apply", "--timeout", "60"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("reverts in"), "{text}");
    let file = std::fs::read_to_string(&rendered).unwrap();
    assert!(file.contains("Address=198.51.100.10/24") && file.contains("Gateway=198.51.100.1"));
    failed_with(
        &lqx(&socket, &["network", "apply"]),
        "waiting for confirmation",
    );
    let out = lqx(&socket, &["network", "confirm"]);
    assert!(out.status.success());
    let s = status(&socket);
    assert_eq!(s.applied, s.desired);
    assert_eq!(s.last_outcome.unwrap().result, ApplyResult::Confirmed);

    // A second configuration, not confirmed: the first comes back.
    let next = config(&nic, "198.51.100.11/24", "198.51.100.1");
    set_and_apply(&socket, &dir, "next.json", &next, "10");
    assert!(
        std::fs::read_to_string(&rendered)
            .unwrap()
            .contains("198.51.100.11/24")
    );
    let mut outcome = None;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let s = status(&socket);
        if s.pending.is_none() {
            outcome = s.last_outcome;
            break;
        }
    }
    assert_eq!(outcome.unwrap().result, ApplyResult::RevertedTimeout);
    assert!(
        std::fs::read_to_string(&rendered)
            .unwrap()
            .contains("198.51.100.10/24")
    );
}

#[tokio::test]
async fn a_pending_apply_survives_kill_9_and_is_reverted_after_its_deadline() {
    let mut agent = AgentFixture::start().await;
    let socket = agent.socket();
    let host = agent.client().host().await.unwrap();
    let nic = NicFacts::from_interfaces(&host.facts.interfaces)[0]
        .name
        .clone();
    let good = config(&nic, "198.51.100.10/24", "198.51.100.1");
    set_and_apply(&socket, agent.dir(), "good.json", &good, "10");
    let rendered = agent
        .state_dir()
        .join("rendered/network")
        .join(format!("10-lqx-{nic}.network"));
    assert!(rendered.exists());
    agent.kill9();
    tokio::time::sleep(Duration::from_secs(11)).await;
    agent.start_again().await;
    let s = status(&socket);
    assert!(s.pending.is_none());
    assert_eq!(s.last_outcome.unwrap().result, ApplyResult::RevertedTimeout);
    assert!(!rendered.exists(), "back to the image default");
}
