//! `lqx` against a real `lqxd`.

use lqx_api::{ErrorBody, ErrorCode, HostInfo};
use lqx_test_support::{AgentFixture, run_lqx as lqx, workspace_bin};
use std::os::unix::process::CommandExt;
use std::process::Command;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn host_show_table_and_json_tell_the_truth() {
    let agent = AgentFixture::start().await;
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let hostname = hostname.trim();

    let out = lqx(&agent.socket(), &["host", "show", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let host: HostInfo = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(host.facts.hostname, hostname);

    let out = lqx(&agent.socket(), &["host", "show"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.contains(&format!("Hostname        {hostname}")),
        "{table}"
    );
    assert!(table.contains(&host.host_id.to_string()), "{table}");
    for iface in &host.facts.interfaces {
        assert!(
            table.contains(&iface.name),
            "{} missing:\n{table}",
            iface.name
        );
        for addr in &iface.addresses {
            assert!(
                table.contains(&format!("{}/{}", addr.address, addr.prefix_len)),
                "{table}"
            );
        }
    }

    // LQX_SOCKET is honoured when --socket is absent.
    let out = Command::new(workspace_bin("lqx"))
        .args(["host", "show", "--json"])
        .env("LQX_SOCKET", agent.socket())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[tokio::test]
async fn labels_round_trip_and_bad_ones_change_nothing() {
    let agent = AgentFixture::start().await;
    let s = agent.socket();
    let out = lqx(&s, &["host", "label", "set", "rack=r12", "role=compute"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "rack=r12\nrole=compute\n");

    let out = lqx(&s, &["host", "label", "set", "zone=a", "Bad=1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("invalid label key \"Bad\""),
        "{}",
        text(&out.stderr)
    );

    let out = lqx(&s, &["--json", "host", "label", "remove", "role"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let labels: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(labels, serde_json::json!({"labels": {"rack": "r12"}}));

    let host = agent.client().host().await.unwrap();
    assert_eq!(
        host.labels.len(),
        1,
        "the refused change left nothing behind"
    );
}

#[tokio::test]
async fn agent_not_running_is_said_plainly() {
    let dir = tempfile_dir();
    let out = lqx(&dir.join("absent.sock"), &["host", "show"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("lqxd is not running"), "{stderr}");
    assert!(stderr.contains("absent.sock"), "{stderr}");

    let out = lqx(&dir.join("absent.sock"), &["--json", "host", "show"]);
    let err: ErrorBody = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err.error.code, ErrorCode::Unavailable);
}

#[tokio::test]
async fn socket_of_another_user_is_refused_with_a_reason() {
    let agent = AgentFixture::start().await;
    // The fixture's directory and socket are root's and private: an
    // unprivileged user cannot reach them.
    let out = Command::new(workspace_bin("lqx"))
        .arg("--socket")
        .arg(agent.socket())
        .args(["host", "show"])
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("permission denied"), "{stderr}");
}

#[test]
fn completions_and_usage() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(workspace_bin("lqx"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(text(&out.stdout).contains("host"), "{shell}");
    }
    let out = Command::new(workspace_bin("lqx"))
        .args(["host", "explode"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Usage"));
    let out = Command::new(workspace_bin("lqx"))
        .args(["host", "label", "set", "novalue"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("KEY=VALUE"));
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lqx-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
