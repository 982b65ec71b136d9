//! A real Ceph cluster from Debian's packages: one monitor, one manager and
//! one memstore OSD on 127.0.0.1, cephx on, everything (data, sockets, logs,
//! pid files) inside the fixture's private directory.
//!
//! The monitor listens on msgr v2 and v1 ports picked free. With the paxos
//! and tick settings below, RBD is usable about 1.5 s after `start`; the
//! daemons are killed by pid when the fixture is dropped, and by the kernel
//! when the thread that started them ends (so a killed test leaves none
//! behind): start the fixture on the thread that uses it.

use crate::ovsdb::free_port;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running single-node Ceph cluster.
pub struct CephFixture {
    dir: tempfile::TempDir,
    children: Vec<Child>,
    fsid: String,
    v2: SocketAddr,
    v1: SocketAddr,
    /// `ip netns exec NAME`, when the cluster lives in a namespace.
    prefix: Vec<String>,
}

impl CephFixture {
    /// Creates the cluster on 127.0.0.1 and waits until an OSD is up and
    /// in.
    pub fn start() -> Self {
        Self::start_at("127.0.0.1".parse().unwrap(), vec![])
    }

    /// Creates the cluster inside `ns`, on its address: its daemons and the
    /// `ceph`/`rbd` commands of the fixture run there.
    pub fn start_in(ns: &crate::netns::NetNs) -> Self {
        Self::start_at(ns.addr().into(), ns.exec_prefix())
    }

    /// Creates the cluster on `ip` through `prefix` (`ip netns exec NS`,
    /// `ip` an address inside that namespace: hosts on the namespace's
    /// segment reach it there).
    pub fn start_at(ip: std::net::IpAddr, prefix: Vec<String>) -> Self {
        // In memory when the machine has /dev/shm: the monitor's store then
        // neither waits on nor fails with a busy or nearly full disk.
        let shm = Path::new("/dev/shm");
        let parent = if shm.is_dir() {
            shm.to_owned()
        } else {
            std::env::temp_dir()
        };
        let dir = tempfile::Builder::new()
            .prefix("ceph-fixture-")
            .tempdir_in(parent)
            .expect("temporary directory");
        let fsid = uuid_v4();
        let v2 = SocketAddr::new(ip, free_port());
        let v1 = SocketAddr::new(
            ip,
            std::iter::repeat_with(free_port)
                .find(|p| *p != v2.port())
                .unwrap(),
        );
        let mut fixture = Self {
            dir,
            children: vec![],
            fsid,
            v2,
            v1,
            prefix,
        };
        fixture.create();
        fixture
    }

    fn create(&mut self) {
        let d = self.dir.path().to_owned();
        for sub in ["run", "log", "mon/ceph-a", "mgr/ceph-x", "osd/ceph-0"] {
            std::fs::create_dir_all(d.join(sub)).expect("fixture directories");
        }
        std::fs::write(self.conf(), self.conf_text()).expect("ceph.conf");

        let mon_keyring = d.join("mon.a.keyring");
        let admin_keyring = self.admin_keyring();
        tool(
            Command::new("ceph-authtool")
                .arg("--create-keyring")
                .arg(&mon_keyring)
                .args(["--gen-key", "-n", "mon.", "--cap", "mon", "allow *"]),
        );
        tool(
            Command::new("ceph-authtool")
                .arg("--create-keyring")
                .arg(&admin_keyring)
                .args(["--gen-key", "-n", "client.admin"])
                .args(["--cap", "mon", "allow *", "--cap", "osd", "allow *"])
                .args(["--cap", "mgr", "allow *", "--cap", "mds", "allow *"]),
        );
        tool(
            Command::new("ceph-authtool")
                .arg(&mon_keyring)
                .arg("--import-keyring")
                .arg(&admin_keyring),
        );
        let monmap = d.join("monmap");
        tool(
            Command::new("monmaptool")
                .arg("--create")
                .args(["--fsid", &self.fsid])
                .args(["--addv", "a", &format!("[v2:{},v1:{}]", self.v2, self.v1)])
                .arg(&monmap),
        );
        tool(
            Command::new("ceph-mon")
                .args(["--mkfs", "-i", "a", "-c"])
                .arg(self.conf())
                .arg("--monmap")
                .arg(&monmap)
                .arg("--keyring")
                .arg(&mon_keyring),
        );
        self.spawn("ceph-mon", &["-i", "a"]);
        self.wait_for_monitor();

        let mgr_key = self.ceph(&[
            "auth",
            "get-or-create",
            "mgr.x",
            "mon",
            "allow profile mgr",
            "osd",
            "allow *",
            "mds",
            "allow *",
        ]);
        std::fs::write(d.join("mgr.x.keyring"), mgr_key).expect("mgr keyring");
        self.spawn("ceph-mgr", &["-i", "x"]);

        let osd_uuid = uuid_v4();
        let osd_key =
            String::from_utf8(tool(Command::new("ceph-authtool").arg("--gen-print-key")).stdout)
                .unwrap()
                .trim()
                .to_owned();
        let secret = d.join("osd-secret.json");
        std::fs::write(&secret, format!("{{\"cephx_secret\": \"{osd_key}\"}}"))
            .expect("osd secret");
        let id = self.ceph(&["osd", "new", &osd_uuid, "-i", &secret.display().to_string()]);
        assert_eq!(id.trim(), "0", "first OSD id");
        std::fs::write(
            d.join("osd.0.keyring"),
            format!("[osd.0]\n\tkey = {osd_key}\n"),
        )
        .expect("osd keyring");
        tool(
            Command::new("ceph-osd")
                .args(["--mkfs", "-i", "0", "--no-mon-config", "-c"])
                .arg(self.conf())
                .args(["--osd-uuid", &osd_uuid, "--key", &osd_key]),
        );
        self.spawn("ceph-osd", &["-i", "0"]);

        let start = Instant::now();
        while !self.ceph(&["osd", "stat"]).contains("1 up") {
            assert!(
                start.elapsed() < READY_TIMEOUT,
                "the OSD did not come up{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the monitor answers, in short attempts so that a slow
    /// start on a loaded machine is waited for while a monitor that died is
    /// reported at once, with its logs.
    fn wait_for_monitor(&mut self) {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.children[0].try_wait() {
                panic!("ceph-mon exited ({status}) before answering{}", self.logs());
            }
            let out = self.ceph_output("ceph", &["--connect-timeout", "5", "mon", "stat"]);
            if out.status.success() {
                return;
            }
            assert!(
                start.elapsed() < READY_TIMEOUT,
                "the monitor did not answer in {READY_TIMEOUT:?}: {}{}",
                String::from_utf8_lossy(&out.stderr),
                self.logs()
            );
        }
    }

    /// The last lines of every daemon's log and standard error, for panic
    /// messages: a fixture that fails on a CI machine must say why there.
    fn logs(&self) -> String {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("log")) else {
            return String::new();
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        let mut text = String::new();
        for path in paths {
            let content = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = content.lines().collect();
            let tail = &lines[lines.len().saturating_sub(25)..];
            if !tail.is_empty() {
                text.push_str(&format!(
                    "\n--- {} (last {} lines)\n",
                    path.display(),
                    tail.len()
                ));
                text.push_str(&tail.join("\n"));
            }
        }
        text
    }

    fn conf_text(&self) -> String {
        let d = self.dir.path().display();
        format!(
            "[global]
fsid = {fsid}
mon host = [v2:{v2},v1:{v1}]
public addr = {ip}
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = {d}/$name.keyring
run dir = {d}/run
admin socket = {d}/run/$name.asok
pid file = {d}/run/$name.pid
log file = {d}/log/$name.log
mon cluster log file = {d}/log/cluster.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
# The monitor refuses to start below 5% free disk (and warns below 30%);
# test machines' disks are often that full, and memstore keeps data in RAM.
mon data avail crit = 0
mon data avail warn = 0
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
auth allow insecure global id reclaim = false
paxos propose interval = 0.1
paxos min wait = 0.01
mon tick interval = 1
osd mon report interval = 1
[client]
client mount timeout = 20
[mon]
mon data = {d}/mon/$cluster-$id
[mgr]
mgr data = {d}/mgr/$cluster-$id
[osd]
osd data = {d}/osd/$cluster-$id
osd objectstore = memstore
memstore device bytes = 2147483648
",
            fsid = self.fsid,
            v2 = self.v2,
            v1 = self.v1,
            ip = self.v2.ip(),
        )
    }

    fn spawn(&mut self, program: &str, args: &[&str]) {
        let log = std::fs::File::create(self.dir.path().join(format!("log/{program}.stderr")))
            .expect("log file");
        // The daemons die with the thread that started them, even when the
        // test process is killed before the fixture's Drop runs.
        let child = Command::new("setpriv")
            .args(["--pdeathsig", "KILL"])
            .args(&self.prefix)
            .arg(program)
            .arg("-f")
            .arg("-c")
            .arg(self.conf())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("start {program} (install ceph-mon ceph-mgr ceph-osd): {e}")
            });
        self.children.push(child);
    }

    /// The generated `ceph.conf`.
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("ceph.conf")
    }

    /// The keyring of `client.admin`.
    pub fn admin_keyring(&self) -> PathBuf {
        self.dir.path().join("client.admin.keyring")
    }

    /// The base64 cephx key of `client.admin`.
    pub fn admin_key(&self) -> String {
        self.ceph(&["auth", "print-key", "client.admin"])
    }

    /// The cluster's fsid.
    pub fn fsid(&self) -> &str {
        &self.fsid
    }

    /// The monitor's msgr v2 address.
    pub fn mon_v2(&self) -> SocketAddr {
        self.v2
    }

    /// The monitor's msgr v1 address.
    pub fn mon_v1(&self) -> SocketAddr {
        self.v1
    }

    /// The fixture's directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `ceph ARGS` as client.admin; its standard output, trimmed. Panics on
    /// failure.
    pub fn ceph(&self, args: &[&str]) -> String {
        let out = self.ceph_output("ceph", args);
        assert!(
            out.status.success(),
            "ceph {args:?}: {}{}",
            String::from_utf8_lossy(&out.stderr),
            self.logs()
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// `rbd ARGS` as client.admin; its standard output, trimmed. Panics on
    /// failure.
    pub fn rbd(&self, args: &[&str]) -> String {
        let out = self.rbd_output(args);
        assert!(
            out.status.success(),
            "rbd {args:?}: {}{}",
            String::from_utf8_lossy(&out.stderr),
            self.logs()
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// `rbd ARGS` as client.admin, whatever its outcome.
    pub fn rbd_output(&self, args: &[&str]) -> Output {
        self.ceph_output("rbd", args)
    }

    fn ceph_output(&self, program: &str, args: &[&str]) -> Output {
        let mut cmd = match self.prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(program);
                c
            }
            None => Command::new(program),
        };
        cmd.arg("-c")
            .arg(self.conf())
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"))
    }

    /// Creates a replicated pool and initialises it for RBD.
    pub fn create_rbd_pool(&self, name: &str) {
        self.ceph(&["osd", "pool", "create", name, "8"]);
        self.rbd(&["pool", "init", name]);
    }

    /// Gives `entity` a new key, keeping its capabilities; returns the key.
    pub fn rotate_key(&self, entity: &str) -> String {
        let caps = self.ceph(&["auth", "get", entity, "--format", "json"]);
        let key =
            String::from_utf8(tool(Command::new("ceph-authtool").arg("--gen-print-key")).stdout)
                .unwrap()
                .trim()
                .to_owned();
        // `auth import` replaces the key of an existing entity.
        let file = self.dir.path().join(format!("{entity}.rotated"));
        let caps_lines: String = caps_from_json(&caps)
            .into_iter()
            .map(|(k, v)| format!("\tcaps {k} = \"{v}\"\n"))
            .collect();
        std::fs::write(&file, format!("[{entity}]\n\tkey = {key}\n{caps_lines}")).expect("keyring");
        self.ceph(&["auth", "import", "-i", &file.display().to_string()]);
        key
    }

    /// Creates `client.NAME` with the usual RBD capabilities limited to
    /// `pools`, and returns its key.
    pub fn create_rbd_client(&self, name: &str, pools: &[&str]) -> String {
        let osd_caps = pools
            .iter()
            .map(|p| format!("profile rbd pool={p}"))
            .collect::<Vec<_>>()
            .join(", ");
        let entity = format!("client.{name}");
        self.ceph(&[
            "auth",
            "get-or-create",
            &entity,
            "mon",
            "profile rbd",
            "osd",
            &osd_caps,
        ]);
        self.ceph(&["auth", "print-key", &entity])
    }
}

impl Drop for CephFixture {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The capabilities in `ceph auth get --format json` output:
/// `[{"entity": …, "key": …, "caps": {"mon": "…", "osd": "…"}}]`.
fn caps_from_json(json: &str) -> Vec<(String, String)> {
    let value: serde_json::Value = serde_json::from_str(json).expect("auth get JSON");
    value[0]["caps"]
        .as_object()
        .map(|caps| {
            caps.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn tool(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn uuid_v4() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/uuid")
        .expect("a random uuid")
        .trim()
        .to_owned()
}
