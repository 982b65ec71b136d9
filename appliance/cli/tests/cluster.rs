//! `lqx cluster` against a real `lqxd` running a real etcd member: a
//! cluster created on one host, refusals that change nothing, join tokens
//! stored hashed with their lease, the member list fed by heartbeats, and
//! the member back after `kill -9` of the agent, checked independently
//! with etcdctl and the admin bundle.

use lqx_api::{ClusterStatus, EtcdRole, Member, MemberState, TokenCreated};
use lqx_core::cluster_token::JoinToken;
use lqx_test_support::{AgentFixture, assert_ok, assert_refused, run_lqx, text, workspace_bin};
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

const ADDRESS: &str = "127.0.0.31";
const API_PORT: &str = "18443";

/// `etcdctl ARGS` against the member with the agent's admin bundle, whose
/// certificate the cluster authority signed; its standard output.
fn etcdctl(state: &Path, args: &[&str]) -> String {
    let endpoint = format!("https://{ADDRESS}:2379");
    assert_ok(lqx_test_support::cluster::etcdctl(
        &state.join("admin"),
        &endpoint,
        args,
    ))
}

/// The keys under `prefix`.
fn etcdctl_keys(state: &Path, prefix: &str) -> Vec<String> {
    etcdctl(state, &["get", "--prefix", "--keys-only", prefix])
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Waits until the only member is ready and `accept`s it, returning it.
fn wait_ready(lqx: &dyn Fn(&[&str]) -> Output, accept: &dyn Fn(&Member) -> bool) -> Member {
    let start = Instant::now();
    loop {
        let out = lqx(&["--json", "cluster", "members"]);
        if out.status.success() {
            let members: Vec<Member> = serde_json::from_slice(&out.stdout).unwrap();
            if let [m] = members.as_slice()
                && m.state == MemberState::Ready
                && accept(m)
            {
                return m.clone();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no ready member: {}",
            text(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn create_a_cluster_tokens_members_and_restart() {
    let mut agent = AgentFixture::start_with(
        workspace_bin("lqxd"),
        &["--address", ADDRESS, "--api-port", API_PORT],
    )
    .await;
    let socket = agent.socket();
    let lqx = |args: &[&str]| run_lqx(&socket, args);
    let state = agent.state_dir();

    assert!(assert_ok(lqx(&["cluster", "status"])).contains("Not a member"));
    assert_refused(lqx(&["cluster", "members"]), "not a member of a cluster");
    assert_refused(lqx(&["cluster", "token", "create"]), "not a member");
    assert_refused(
        lqx(&["cluster", "init", "--name", "Bad_Name", "--voters", "4"]),
        "cluster name \"Bad_Name\"",
    );
    assert_refused(
        lqx(&["cluster", "init", "--voters", "4"]),
        "4 is not 3 or 5",
    );
    assert!(
        !state.join("cluster.json").exists(),
        "a refusal keeps nothing"
    );
    assert!(!state.join("etcd/data").exists());

    let status: ClusterStatus = serde_json::from_str(&assert_ok(lqx(&[
        "--json", "cluster", "init", "--name", "lab",
    ])))
    .unwrap();
    let config = status.cluster.expect("a cluster");
    assert!(status.store_reachable);
    assert_eq!(config.name, "lab");
    assert_eq!(config.role, EtcdRole::Voter);
    assert_eq!(config.endpoints, [format!("https://{ADDRESS}:2379")]);
    let agent_info = agent.client().agent().await.unwrap();
    assert_eq!(
        config.fingerprint,
        agent_info.remote_api.unwrap().authority_fingerprint,
        "the host's authority became the cluster's"
    );
    assert_refused(lqx(&["cluster", "init"]), "already a member of cluster lab");
    let mode = |p: &str| {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(state.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("cluster.json"), 0o600);
    assert_eq!(mode("etcd/tls/etcd.key"), 0o600);
    assert_eq!(mode("etcd/data"), 0o700);

    // The member list, fed by heartbeats.
    let me = wait_ready(&lqx, &|_| true);
    assert_eq!(me.address, format!("{ADDRESS}:{API_PORT}"));
    assert_eq!(me.etcd_role, EtcdRole::Voter);
    assert!(
        me.versions
            .etcd
            .as_deref()
            .is_some_and(|v| v.starts_with("3.")),
        "{:?}",
        me.versions
    );
    assert!(assert_ok(lqx(&["cluster", "members"])).contains("ready"));

    // Tokens: checked TTLs, decodable, stored by id only.
    assert_refused(
        lqx(&["cluster", "token", "create", "--ttl", "30s"]),
        "outside 60 s",
    );
    assert_refused(
        lqx(&["cluster", "token", "create", "--ttl", "1w"]),
        "use a number with s, m, h or d",
    );
    let created: TokenCreated = serde_json::from_str(&assert_ok(lqx(&[
        "--json", "cluster", "token", "create", "--ttl", "10m",
    ])))
    .unwrap();
    let token = JoinToken::decode(&created.token).unwrap();
    assert_eq!(token.fingerprint, config.fingerprint);
    assert_eq!(
        token.addresses,
        [format!("{ADDRESS}:{API_PORT}").parse().unwrap()]
    );
    let tokens = etcdctl_keys(&state, "/lqx/v1/tokens/");
    assert_eq!(tokens, [format!("/lqx/v1/tokens/{}", token.id)]);
    let stored = etcdctl(&state, &["get", "--print-value-only", &tokens[0]]);
    assert!(
        !stored.contains(&token.secret) && stored.contains("secret_sha256"),
        "only the secret's hash is stored"
    );

    // kill -9: etcd goes with the agent and both come back.
    agent.kill9();
    let start = Instant::now();
    while std::net::TcpStream::connect((ADDRESS, 2379)).is_ok() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "etcd outlived its agent"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    agent.start_again().await;
    // Until the old lease lapses the member still shows its old heartbeat;
    // then the restarted agent's.
    let again = wait_ready(&lqx, &|m| m.since > me.since);
    assert_eq!(again.id, me.id);
    assert_eq!(
        etcdctl_keys(&state, "/lqx/v1/tokens/").len(),
        1,
        "the data survived"
    );
    let status: ClusterStatus =
        serde_json::from_str(&assert_ok(lqx(&["--json", "cluster", "status"]))).unwrap();
    assert!(status.store_reachable, "{status:?}");
}
