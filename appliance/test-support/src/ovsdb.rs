//! Real `ovsdb-server`s from Debian's openvswitch and ovn packages: one
//! standalone database, or a RAFT cluster of several members, each in the
//! fixture's private directory, on 127.0.0.1 ports picked free (or on an
//! address inside a network namespace the test made).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Open_vSwitch database's schema.
pub const VSWITCH_SCHEMA: &str = "/usr/share/openvswitch/vswitch.ovsschema";
/// OVN's northbound schema.
pub const OVN_NB_SCHEMA: &str = "/usr/share/ovn/ovn-nb.ovsschema";
/// OVN's southbound schema.
pub const OVN_SB_SCHEMA: &str = "/usr/share/ovn/ovn-sb.ovsschema";

const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A 127.0.0.1 TCP port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One `ovsdb-server` process serving one database file.
pub struct OvsdbServer {
    dir: PathBuf,
    name: String,
    db: PathBuf,
    child: Option<Child>,
    /// Its client port on 127.0.0.1.
    pub port: u16,
    /// Its RAFT port, for cluster members.
    pub raft_port: Option<u16>,
    /// Further arguments (SSL settings).
    extra: Vec<String>,
    /// The command it runs through (`ip netns exec NS`), if any.
    prefix: Vec<String>,
    /// The address its TCP port listens on.
    listen: std::net::IpAddr,
}

impl OvsdbServer {
    fn spawn(&mut self) {
        let sock = self.socket();
        let log =
            std::fs::File::create(self.dir.join(format!("{}.log", self.name))).expect("log file");
        let mut cmd = match self.prefix.split_first() {
            Some((program, args)) => {
                let mut cmd = Command::new(program);
                cmd.args(args).arg("ovsdb-server");
                cmd
            }
            None => Command::new("ovsdb-server"),
        };
        let child = cmd
            .arg(&self.db)
            .arg(format!("--remote=punix:{}", sock.display()))
            .arg(format!("--remote=ptcp:{}:{}", self.port, self.listen))
            .arg(format!("--unixctl={}", self.ctl().display()))
            .arg(format!(
                "--pidfile={}",
                self.dir.join(format!("{}.pid", self.name)).display()
            ))
            .arg("--no-chdir")
            .arg("-vconsole:off")
            .arg(format!(
                "--log-file={}",
                self.dir.join(format!("{}.ovsdb.log", self.name)).display()
            ))
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start ovsdb-server (install openvswitch-switch)");
        self.child = Some(child);
        let start = Instant::now();
        while std::os::unix::net::UnixStream::connect(&sock).is_err() {
            assert!(
                start.elapsed() < READY_TIMEOUT,
                "ovsdb-server {} did not come up",
                self.name
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its control socket, for `ovs-appctl -t`.
    pub fn ctl(&self) -> PathBuf {
        self.dir.join(format!("{}.ctl", self.name))
    }

    /// Its role in a cluster (`leader`, `follower`, `candidate`), from
    /// `cluster/status`; `None` when it does not say.
    pub fn raft_role(&self, db: &str) -> Option<String> {
        let out = Command::new("ovs-appctl")
            .arg("-t")
            .arg(self.ctl())
            .args(["cluster/status", db])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.trim().strip_prefix("Role: ").map(str::to_owned))
    }

    /// Its Unix socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.join(format!("{}.sock", self.name))
    }

    /// `unix:SOCKET`.
    pub fn unix_remote(&self) -> String {
        format!("unix:{}", self.socket().display())
    }

    /// `tcp:ADDRESS:PORT` (127.0.0.1 unless started in a namespace).
    pub fn tcp_remote(&self) -> String {
        format!("tcp:{}:{}", self.listen, self.port)
    }

    /// SIGKILLs the server.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same file and ports.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Whether it is running.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for OvsdbServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A standalone database: `ovsdb-tool create` from `schema`, then served.
pub struct OvsdbFixture {
    _dir: tempfile::TempDir,
    /// The server.
    pub server: OvsdbServer,
}

impl OvsdbFixture {
    /// Creates and serves a database from `schema`.
    pub fn start(schema: &str) -> Self {
        Self::serve(schema, |_| vec![])
    }

    /// Creates and serves a database from `schema` through `prefix` (`ip
    /// netns exec NS`), its TCP port on `listen` (an address inside that
    /// namespace). The Unix socket is reachable from anywhere.
    pub fn start_in(schema: &str, prefix: Vec<String>, listen: std::net::IpAddr) -> Self {
        Self::serve_at(schema, prefix, listen, |_| vec![])
    }

    /// Like [`OvsdbFixture::start`], also listening for SSL on
    /// 127.0.0.1:`ssl_port` with `key`, `cert` and `ca` (PEM), requiring
    /// client certificates signed by `ca`, as OVS always does.
    pub fn start_ssl(schema: &str, key: &str, cert: &str, ca: &str) -> (Self, u16) {
        let ssl_port = free_port();
        let fixture = Self::serve(schema, |dir| {
            let write = |name: &str, text: &str| {
                let path = dir.join(name);
                std::fs::write(&path, text).expect("write PEM");
                path.display().to_string()
            };
            vec![
                format!("--remote=pssl:{ssl_port}:127.0.0.1"),
                format!("--private-key={}", write("key.pem", key)),
                format!("--certificate={}", write("cert.pem", cert)),
                format!("--ca-cert={}", write("ca.pem", ca)),
            ]
        });
        (fixture, ssl_port)
    }

    /// `ovsdb-tool create` from `schema` in a new directory, then serves it
    /// with the arguments `extra` returns for that directory.
    fn serve(schema: &str, extra: impl FnOnce(&Path) -> Vec<String>) -> Self {
        Self::serve_at(schema, vec![], [127, 0, 0, 1].into(), extra)
    }

    fn serve_at(
        schema: &str,
        prefix: Vec<String>,
        listen: std::net::IpAddr,
        extra: impl FnOnce(&Path) -> Vec<String>,
    ) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ovsdb-fixture-")
            .tempdir()
            .expect("temporary directory");
        let db = dir.path().join("db");
        run(Command::new("ovsdb-tool")
            .arg("create")
            .arg(&db)
            .arg(schema));
        let mut server = OvsdbServer {
            dir: dir.path().to_owned(),
            name: "standalone".into(),
            db,
            child: None,
            port: free_port(),
            raft_port: None,
            extra: extra(dir.path()),
            prefix,
            listen,
        };
        server.spawn();
        Self { _dir: dir, server }
    }

    /// `ovs-vsctl --no-wait ARGS` against this database (an Open_vSwitch
    /// one); its output, trimmed. Panics on failure.
    pub fn vsctl(&self, args: &[&str]) -> String {
        let out = Command::new("ovs-vsctl")
            .arg(format!("--db={}", self.server.unix_remote()))
            .args(["--no-wait", "--timeout=10"])
            .args(args)
            .output()
            .expect("ovs-vsctl");
        assert!(
            out.status.success(),
            "ovs-vsctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The fixture's directory.
    pub fn dir(&self) -> &Path {
        &self.server.dir
    }
}

/// A RAFT-clustered database of several members.
pub struct OvsdbCluster {
    _dir: tempfile::TempDir,
    /// The members, the creating one first.
    pub members: Vec<OvsdbServer>,
}

impl OvsdbCluster {
    /// Creates a cluster of `size` members for `schema` and serves it.
    pub fn start(schema: &str, size: usize) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ovsdb-cluster-")
            .tempdir()
            .expect("temporary directory");
        let schema_name = schema_name(schema);
        let mut members: Vec<OvsdbServer> = vec![];
        for i in 0..size {
            let name = format!("m{i}");
            let db = dir.path().join(format!("{name}.db"));
            let raft_port = free_port();
            let local = format!("tcp:127.0.0.1:{raft_port}");
            if i == 0 {
                run(Command::new("ovsdb-tool")
                    .arg("create-cluster")
                    .arg(&db)
                    .arg(schema)
                    .arg(&local));
            } else {
                let first = format!("tcp:127.0.0.1:{}", members[0].raft_port.unwrap());
                run(Command::new("ovsdb-tool")
                    .arg("join-cluster")
                    .arg(&db)
                    .arg(&schema_name)
                    .arg(&local)
                    .arg(&first));
            }
            let mut member = OvsdbServer {
                dir: dir.path().to_owned(),
                name,
                db,
                child: None,
                port: free_port(),
                raft_port: Some(raft_port),
                extra: vec![],
                prefix: vec![],
                listen: [127, 0, 0, 1].into(),
            };
            member.spawn();
            members.push(member);
        }
        Self { _dir: dir, members }
    }

    /// Every member's `tcp:` remote, comma-separated.
    pub fn tcp_remotes(&self) -> String {
        self.members
            .iter()
            .map(OvsdbServer::tcp_remote)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The database name a schema file declares.
pub fn schema_name(schema: &str) -> String {
    let out = Command::new("ovsdb-tool")
        .arg("schema-name")
        .arg(schema)
        .output()
        .expect("ovsdb-tool schema-name");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
