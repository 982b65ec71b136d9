//! Hosts of a cluster for multi-host tests: real `lqxd` agents, each on
//! an address of its own (a loopback address, or one inside a network
//! namespace), each running its own etcd member once clustered, driven
//! through the real `lqx` on their local sockets; and `etcdctl` to check
//! the store independently.

use crate::{AgentFixture, assert_ok, run_lqx, text, workspace_bin};
use lqx_api::{ClusterStatus, Member, MemberState, TokenCreated};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long a cluster may take to show what a test waits for.
pub const SETTLE: Duration = Duration::from_secs(40);

/// One host: an agent serving its remote API on `address`.
pub struct ClusterHost {
    /// The agent.
    pub agent: AgentFixture,
    /// The host's address.
    pub address: String,
    /// Its id.
    pub id: String,
    /// The command its programs run through (a namespace's).
    prefix: Vec<String>,
}

impl ClusterHost {
    /// Starts an agent on `address` (API on 8443, etcd on 2379/2380).
    pub async fn start(address: &str) -> Self {
        Self::start_through(Vec::new(), address).await
    }

    /// Starts an agent on `address` with extra flags (`--libvirt-uri`, ...).
    pub async fn start_with(address: &str, extra: &[&str]) -> Self {
        Self::launch(Vec::new(), address, extra).await
    }

    /// Starts an agent on `address` that registers as an OVN chassis in
    /// the Open_vSwitch database `ovs_db` (waiting up to 20 s for
    /// ovn-controller), its API on `api_port`: an agent of another test
    /// without `--address` holds the wildcard 8443.
    pub async fn start_chassis(address: &str, api_port: u16, ovs_db: &str) -> Self {
        let port = api_port.to_string();
        let args = ["--api-port", &port, "--ovs-db", ovs_db, "--ovn-wait", "20"];
        Self::launch(Vec::new(), address, &args).await
    }

    /// Starts an agent on `address` through `prefix` (`ip netns exec NS`).
    pub async fn start_through(prefix: Vec<String>, address: &str) -> Self {
        Self::launch(prefix, address, &[]).await
    }

    /// Starts an agent on `address` through `prefix` with extra flags.
    pub async fn start_through_with(prefix: Vec<String>, address: &str, extra: &[&str]) -> Self {
        Self::launch(prefix, address, extra).await
    }

    async fn launch(prefix: Vec<String>, address: &str, extra: &[&str]) -> Self {
        let mut args = vec!["--address", address];
        args.extend_from_slice(extra);
        let agent = AgentFixture::start_through(prefix.clone(), workspace_bin("lqxd"), &args).await;
        let id = agent
            .client()
            .host()
            .await
            .expect("GET /v1/host")
            .host_id
            .to_string();
        Self {
            agent,
            address: address.to_owned(),
            id,
            prefix,
        }
    }

    /// `etcdctl ARGS` from where this host runs, against its own member,
    /// with its admin bundle.
    pub fn etcdctl(&self, args: &[&str]) -> Output {
        run_etcdctl(&self.prefix, &self.bundle(), &self.etcd_url(), args)
    }

    /// Runs `lqx ARGS` against this host's local socket.
    pub fn lqx(&self, args: &[&str]) -> Output {
        run_lqx(&self.agent.socket(), args)
    }

    /// `lqx --json ARGS`, which must succeed, decoded.
    pub fn json<T: serde::de::DeserializeOwned>(&self, args: &[&str]) -> T {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let out = assert_ok(self.lqx(&full));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("lqx {args:?}: {e}: {out}"))
    }

    /// The remote API's URL.
    pub fn url(&self) -> String {
        format!("https://{}:8443", self.address)
    }

    /// The admin bundle this host writes.
    pub fn bundle(&self) -> PathBuf {
        self.agent.state_dir().join("admin")
    }

    /// The etcd client URL of this host's member.
    pub fn etcd_url(&self) -> String {
        format!("https://{}:2379", self.address)
    }

    /// `lqx cluster init`.
    pub fn init(&self, extra: &[&str]) -> ClusterStatus {
        let mut args = vec!["cluster", "init"];
        args.extend_from_slice(extra);
        self.json(&args)
    }

    /// A new join token from this host.
    pub fn token(&self) -> String {
        self.json::<TokenCreated>(&["cluster", "token", "create"])
            .token
    }

    /// `lqx cluster join TOKEN` on this host.
    pub fn join(&self, token: &str) -> ClusterStatus {
        self.json(&["cluster", "join", token])
    }

    /// The member list this host answers, or why it could not.
    pub fn members(&self) -> Result<Vec<Member>, String> {
        let out = self.lqx(&["--json", "cluster", "members"]);
        if out.status.success() {
            serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
        } else {
            Err(text(&out.stderr))
        }
    }

    /// Waits until this host lists exactly the hosts `ready` as ready and
    /// `unreachable` as unreachable (by id), returning the list.
    pub fn wait_members(
        &self,
        ready: &[&ClusterHost],
        unreachable: &[&ClusterHost],
    ) -> Vec<Member> {
        let want = |m: &[Member]| {
            m.len() == ready.len() + unreachable.len()
                && ready
                    .iter()
                    .all(|h| state_of(m, &h.id) == Some(MemberState::Ready))
                && unreachable
                    .iter()
                    .all(|h| state_of(m, &h.id) == Some(MemberState::Unreachable))
        };
        let mut last = Err(String::new());
        wait_for(|| {
            last = self.members();
            match &last {
                Ok(m) if want(m) => Some(m.clone()),
                _ => None,
            }
        })
        .unwrap_or_else(|| panic!("{}: members are {last:?}", self.address))
    }
}

fn state_of(members: &[Member], id: &str) -> Option<MemberState> {
    members
        .iter()
        .find(|m| m.id.to_string() == id)
        .map(|m| m.state)
}

/// Calls `check` every 200 ms until it returns something or [`SETTLE`]
/// has passed.
pub fn wait_for<T>(mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        if start.elapsed() > SETTLE {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `etcdctl ARGS` against `endpoint` with the admin bundle in `bundle`
/// (whose certificate the cluster authority signed): its output.
pub fn etcdctl(bundle: &Path, endpoint: &str, args: &[&str]) -> Output {
    run_etcdctl(&[], bundle, endpoint, args)
}

fn run_etcdctl(prefix: &[String], bundle: &Path, endpoint: &str, args: &[&str]) -> Output {
    let mut command = match prefix.split_first() {
        Some((program, rest)) => {
            let mut command = Command::new(program);
            command.args(rest).arg("etcdctl");
            command
        }
        None => Command::new("etcdctl"),
    };
    command
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={endpoint}"))
        .arg(format!("--cacert={}", bundle.join("ca.crt").display()))
        .arg(format!("--cert={}", bundle.join("client.crt").display()))
        .arg(format!("--key={}", bundle.join("client.key").display()))
        .args(args)
        .output()
        .expect("etcdctl (install etcd-client)")
}

/// The names of the etcd members as `etcdctl member list` shows them
/// (host ids; empty for members not started).
pub fn etcd_member_names(bundle: &Path, endpoint: &str) -> Vec<String> {
    let out = assert_ok(etcdctl(bundle, endpoint, &["member", "list"]));
    let mut names: Vec<String> = out
        .lines()
        .filter_map(|l| l.split(", ").nth(2).map(str::to_owned))
        .collect();
    names.sort();
    names
}
