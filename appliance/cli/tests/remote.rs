//! The remote API: `lqx --remote` with the admin bundle against a real
//! `lqxd` listening on 127.0.0.1; curl, which checks names the way any
//! HTTPS client does, as an independent client; strangers refused.

use lqx_api::{AgentInfo, HostInfo};
use lqx_test_support::{AgentFixture, workspace_bin};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn start() -> (AgentFixture, AgentInfo) {
    let agent = AgentFixture::start_with(
        workspace_bin("lqxd"),
        &["--address", "127.0.0.1", "--api-port", "0"],
    )
    .await;
    let info = agent.client().agent().await.unwrap();
    (agent, info)
}

fn url_of(info: &AgentInfo) -> String {
    format!("https://{}", info.remote_api.as_ref().unwrap().listen)
}

/// `lqx --remote URL --bundle DIR ARGS`, never the local socket.
fn remote(url: &str, bundle: &Path, args: &[&str]) -> Output {
    Command::new(workspace_bin("lqx"))
        .args(["--remote", url, "--bundle"])
        .arg(bundle)
        .args(["--socket", "/nonexistent/lqxd.sock"])
        .args(args)
        .env_remove("LQX_REMOTE")
        .env_remove("LQX_BUNDLE")
        .output()
        .unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn admin_bundle_reaches_the_remote_api_and_strangers_do_not() {
    let (mut agent, info) = start().await;
    let remote_api = info.remote_api.clone().expect("remote API served");
    assert!(
        remote_api.listen.starts_with("127.0.0.1:"),
        "{remote_api:?}"
    );
    assert_eq!(remote_api.authority_fingerprint.len(), 64);
    let bundle = Path::new(&remote_api.admin_bundle).to_owned();
    assert_eq!(bundle, agent.state_dir().join("admin"));
    assert_eq!(mode(&bundle), 0o700);
    assert_eq!(mode(&bundle.join("client.key")), 0o600);
    assert_eq!(mode(&agent.state_dir().join("pki.json")), 0o600);
    let url = url_of(&info);

    // Read and write through the remote API; the local socket sees it.
    let out = remote(&url, &bundle, &["host", "show", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let host: HostInfo = serde_json::from_slice(&out.stdout).unwrap();
    let local = agent.client().host().await.unwrap();
    assert_eq!(host.host_id, local.host_id);
    assert_eq!(host.agent.remote_api, info.remote_api);
    let out = remote(&url, &bundle, &["host", "label", "set", "rack=r7"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(agent.client().host().await.unwrap().labels["rack"], "r7");
    assert!(
        agent.log().contains("remote API call"),
        "writes are logged with the caller:\n{}",
        agent.log()
    );

    // curl checks the name (127.0.0.1 is in the certificate) and the
    // authority; without a client certificate it is refused.
    let curl = |with_cert: bool| {
        let mut cmd = Command::new("curl");
        cmd.args([
            "--silent",
            "--show-error",
            "--fail",
            "--max-time",
            "10",
            "--cacert",
        ])
        .arg(bundle.join("ca.crt"));
        if with_cert {
            cmd.arg("--cert")
                .arg(bundle.join("client.crt"))
                .arg("--key")
                .arg(bundle.join("client.key"));
        }
        cmd.arg(format!("{url}/v1/host")).output().unwrap()
    };
    let out = curl(true);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let host: HostInfo = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(host.labels["rack"], "r7");
    let out = curl(false);
    assert!(
        !out.status.success(),
        "no client certificate, yet: {}",
        text(&out.stdout)
    );

    // Another host's bundle: its certificate is from another authority,
    // and it does not trust this host either.
    let (other, other_info) = start().await;
    let other_bundle = Path::new(&other_info.remote_api.unwrap().admin_bundle).to_owned();
    let out = remote(&url, &other_bundle, &["host", "show"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("TLS handshake with"), "{stderr}");
    drop(other);

    // Restarted, the agent keeps its authority: the bundle still works.
    agent.restart().await;
    let again = agent.client().agent().await.unwrap();
    let again_api = again.remote_api.clone().unwrap();
    assert_eq!(
        again_api.authority_fingerprint,
        remote_api.authority_fingerprint
    );
    let out = remote(&url_of(&again), &bundle, &["host", "show", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[tokio::test]
async fn bad_remote_settings_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let out = remote("http://127.0.0.1:8443", dir.path(), &["host", "show"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("bad remote URL"),
        "{}",
        text(&out.stderr)
    );
    let out = remote("https://127.0.0.1:1", dir.path(), &["host", "show"]);
    assert!(
        text(&out.stderr).contains("cannot use the admin bundle"),
        "{}",
        text(&out.stderr)
    );
    // Nothing listens there.
    let (_agent, info) = start().await;
    let bundle = info.remote_api.unwrap().admin_bundle;
    let out = remote(
        "https://127.0.0.1:1",
        Path::new(&bundle),
        &["host", "show", "--json"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("cannot reach https://127.0.0.1:1"),
        "{}",
        text(&out.stderr)
    );
    let body: lqx_api::ErrorBody = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body.error.code, lqx_api::ErrorCode::Unavailable);
}
