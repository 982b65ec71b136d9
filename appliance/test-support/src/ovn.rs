//! A whole OVN stack from Debian's packages on one machine: northbound
//! and southbound databases, ovn-northd, a host's Open_vSwitch database,
//! ovs-vswitchd with the dummy datapath (no kernel module, as OVS's own
//! tests run it) and ovn-controller, every file in private directories.
//!
//! For traffic between hosts, the same stack runs inside network
//! namespaces the test made: the central databases listening on an
//! address of a namespace, and each host's vswitchd with the userspace
//! datapath (`netdev`: real packets through AF_PACKET sockets, tunnels
//! encapsulated by vswitchd itself, still no kernel module).

use crate::ovsdb::{OVN_NB_SCHEMA, OVN_SB_SCHEMA, OvsdbFixture, VSWITCH_SCHEMA};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A daemon of the stack, killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn daemon(dir: &Path, prefix: &[String], name: &str, program: &str, args: &[String]) -> Daemon {
    let stderr = std::fs::File::create(dir.join(format!("{name}.stderr"))).expect("log file");
    let mut cmd = match prefix.split_first() {
        Some((first, rest)) => {
            let mut cmd = Command::new(first);
            cmd.args(rest).arg(program);
            cmd
        }
        None => Command::new(program),
    };
    cmd.args(args)
        .arg("--no-chdir")
        .arg("-vconsole:off")
        .arg(format!(
            "--log-file={}",
            dir.join(format!("{name}.log")).display()
        ))
        .arg(format!(
            "--pidfile={}",
            dir.join(format!("{name}.pid")).display()
        ));
    // ovn-controller 23.03 has no --unixctl; its control socket goes to
    // OVN_RUNDIR as ovn-controller.PID.ctl.
    if program != "ovn-controller" {
        cmd.arg(format!(
            "--unixctl={}",
            dir.join(format!("{name}.ctl")).display()
        ));
    }
    let child = cmd
        .env("OVS_RUNDIR", dir)
        .env("OVS_LOGDIR", dir)
        .env("OVS_DBDIR", dir)
        .env("OVN_RUNDIR", dir)
        .env("OVN_LOGDIR", dir)
        .env("OVN_DBDIR", dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("start {program} (install ovn-central, ovn-host): {e}"));
    Daemon(child)
}

/// Central databases and northd: what a cluster runs once.
pub struct OvnCentral {
    dir: tempfile::TempDir,
    /// The northbound database.
    pub nb: OvsdbFixture,
    /// The southbound database.
    pub sb: OvsdbFixture,
    _northd: Daemon,
}

impl OvnCentral {
    /// Starts NB, SB and ovn-northd.
    pub fn start() -> Self {
        Self::start_in(vec![], [127, 0, 0, 1].into())
    }

    /// Starts NB, SB and ovn-northd through `prefix` (`ip netns exec
    /// NS`), the databases' TCP ports on `listen`, an address inside that
    /// namespace.
    pub fn start_in(prefix: Vec<String>, listen: std::net::IpAddr) -> Self {
        let nb = OvsdbFixture::start_in(OVN_NB_SCHEMA, prefix.clone(), listen);
        let sb = OvsdbFixture::start_in(OVN_SB_SCHEMA, prefix, listen);
        Self::with_databases(nb, sb)
    }

    /// Starts NB, SB and ovn-northd, the databases also listening for
    /// SSL on 127.0.0.1 with `key` and `cert` (PEM), requiring client
    /// certificates signed by `client_ca`; their `ssl:` remotes, NB then
    /// SB.
    pub fn start_ssl(key: &str, cert: &str, client_ca: &str) -> (Self, String, String) {
        let (nb, nb_port) = OvsdbFixture::start_ssl(OVN_NB_SCHEMA, key, cert, client_ca);
        let (sb, sb_port) = OvsdbFixture::start_ssl(OVN_SB_SCHEMA, key, cert, client_ca);
        (
            Self::with_databases(nb, sb),
            format!("ssl:127.0.0.1:{nb_port}"),
            format!("ssl:127.0.0.1:{sb_port}"),
        )
    }

    fn with_databases(nb: OvsdbFixture, sb: OvsdbFixture) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ovn-central-")
            .tempdir()
            .expect("temporary directory");
        // northd reaches both over their Unix sockets: no namespace needed.
        let northd = daemon(
            dir.path(),
            &[],
            "ovn-northd",
            "ovn-northd",
            &[
                format!("--ovnnb-db={}", nb.server.unix_remote()),
                format!("--ovnsb-db={}", sb.server.unix_remote()),
            ],
        );
        Self {
            dir,
            nb,
            sb,
            _northd: northd,
        }
    }

    /// The directory of northd's files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// One hypervisor's OVS and ovn-controller.
pub struct OvnHost {
    dir: tempfile::TempDir,
    /// Its Open_vSwitch database (initialised, root row present).
    pub ovs: OvsdbFixture,
    _vswitchd: Daemon,
    controller: Option<Daemon>,
    prefix: Vec<String>,
}

impl OvnHost {
    /// Starts the host's database, ovs-vswitchd (dummy datapath) and
    /// ovn-controller. ovn-controller idles until the chassis settings
    /// appear in the database.
    pub fn start() -> Self {
        Self::launch(
            vec![],
            &["--enable-dummy=override".into(), "--disable-system".into()],
        )
    }

    /// Starts the host's daemons through `prefix` (`ip netns exec NS`),
    /// vswitchd able to use the userspace datapath: bridges made with
    /// `datapath_type=netdev` pass real packets between the namespace's
    /// interfaces and Geneve tunnels. br-int is one of them.
    pub fn start_in(prefix: Vec<String>) -> Self {
        let host = Self::launch(prefix, &[]);
        // ovn-controller may have made br-int already, for the kernel's
        // datapath, which is not there.
        host.vsctl(&[
            "--may-exist",
            "add-br",
            "br-int",
            "--",
            "set",
            "bridge",
            "br-int",
            "datapath_type=netdev",
            "fail_mode=secure",
        ]);
        host
    }

    fn launch(prefix: Vec<String>, vswitchd_args: &[String]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ovn-host-")
            .tempdir()
            .expect("temporary directory");
        let ovs = OvsdbFixture::start(VSWITCH_SCHEMA);
        ovs.vsctl(&["init"]);
        let mut args = vec![ovs.server.unix_remote()];
        args.extend_from_slice(vswitchd_args);
        let vswitchd = daemon(dir.path(), &prefix, "ovs-vswitchd", "ovs-vswitchd", &args);
        // Where OVS's tools look by default (libvirt runs `ovs-vsctl`
        // without `--db` to plug a VM's interface): a directory holding
        // `db.sock`, to be mounted on /run/openvswitch for them.
        let run = dir.path().join("run");
        std::fs::create_dir_all(&run).expect("OVS run directory");
        std::os::unix::fs::symlink(ovs.server.socket(), run.join("db.sock")).expect("db.sock link");
        let mut host = Self {
            dir,
            ovs,
            _vswitchd: vswitchd,
            controller: None,
            prefix,
        };
        host.start_controller();
        host
    }

    /// A directory whose `db.sock` is this host's Open_vSwitch database,
    /// to mount on `/run/openvswitch` for libvirtd.
    pub fn ovs_rundir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    /// `ovs-appctl -t ovs-vswitchd ARGS` output (`ofproto/trace`,
    /// `dpctl/dump-flows`, ...), for a failing test's message.
    pub fn appctl(&self, args: &[&str]) -> String {
        let out = Command::new("ovs-appctl")
            .arg("-t")
            .arg(self.dir.path().join("ovs-vswitchd.ctl"))
            .args(args)
            .output()
            .expect("ovs-appctl");
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// Starts ovn-controller (again).
    pub fn start_controller(&mut self) {
        self.controller = None;
        self.controller = Some(daemon(
            self.dir.path(),
            &self.prefix,
            "ovn-controller",
            "ovn-controller",
            &[self.ovs.server.unix_remote()],
        ));
    }

    /// Stops ovn-controller (SIGKILL: it leaves its rows behind).
    pub fn stop_controller(&mut self) {
        self.controller = None;
    }

    /// The directory of the daemons' files.
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// `ovs-vsctl --no-wait ARGS` against the host's database.
    pub fn vsctl(&self, args: &[&str]) -> String {
        self.ovs.vsctl(args)
    }
}

/// `ovn-sbctl --db=REMOTE ARGS` output.
pub fn sbctl(remote: &str, args: &[&str]) -> String {
    ctl("ovn-sbctl", remote, args)
}

/// `ovn-nbctl --db=REMOTE ARGS` output.
pub fn nbctl(remote: &str, args: &[&str]) -> String {
    ctl("ovn-nbctl", remote, args)
}

fn ctl(program: &str, remote: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .arg(format!("--db={remote}"))
        .arg("--timeout=10")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
