//! Network namespaces made by a test.
//!
//! - [`NetNs`]: one namespace with an address of its own on its loopback
//!   interface, so that daemons and a QEMU guest (whose user-mode network
//!   dials real addresses from the namespace) meet on an address that is
//!   neither the machine's loopback nor one of its networks.
//! - [`Lan`]: several namespaces on one Ethernet segment (veth pairs on a
//!   bridge in a hub namespace), each of which can be cut off and joined
//!   again: a network partition, for real.

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A namespace removed when dropped.
pub struct NetNs {
    name: String,
    addr: Ipv4Addr,
}

fn unique_name(kind: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "lqx{kind}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl NetNs {
    /// Creates the namespace with loopback up and also holding `addr`/32.
    pub fn create(addr: Ipv4Addr) -> Self {
        let name = unique_name("t");
        ip(&["netns", "add", &name]);
        let ns = Self { name, addr };
        let exec = |args: &[&str]| {
            let mut full = vec!["netns", "exec", &ns.name, "ip"];
            full.extend_from_slice(args);
            ip(&full);
        };
        // On loopback: no kernel module needed (the dummy driver is often
        // missing in containers), and it is still an address of its own.
        exec(&["link", "set", "lo", "up"]);
        exec(&["addr", "add", &format!("{addr}/32"), "dev", "lo"]);
        ns
    }

    /// Adds `addr`/32 to its loopback interface too: another host's
    /// address inside the same namespace.
    pub fn add_address(&self, addr: Ipv4Addr) {
        ip(&[
            "-n",
            &self.name,
            "addr",
            "add",
            &format!("{addr}/32"),
            "dev",
            "lo",
        ]);
    }

    /// Its name, for `ip netns exec`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its address.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// The arguments that run a program inside it: `ip netns exec NAME`.
    pub fn exec_prefix(&self) -> Vec<String> {
        vec![
            "ip".into(),
            "netns".into(),
            "exec".into(),
            self.name.clone(),
        ]
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// Namespaces on one segment: a bridge in a hub namespace, and for each
/// host a namespace holding `eth0` (one end of a veth pair, with the
/// host's address) whose other end is a port of the bridge.
pub struct Lan {
    hub: String,
    hosts: Vec<(String, String)>,
}

impl Lan {
    /// The hub and its bridge.
    pub fn create() -> Self {
        let hub = unique_name("h");
        ip(&["netns", "add", &hub]);
        ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &hub, "link", "set", "br0", "up"]);
        Self { hub, hosts: vec![] }
    }

    /// A new namespace on the segment with `addr`/24 on its `eth0` and
    /// loopback up; returns its name.
    pub fn attach(&mut self, addr: Ipv4Addr) -> String {
        let name = unique_name("n");
        let port = format!("p{}", self.hosts.len());
        ip(&["netns", "add", &name]);
        ip(&[
            "-n", &self.hub, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns",
            &name,
        ]);
        ip(&["-n", &self.hub, "link", "set", &port, "master", "br0", "up"]);
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        ip(&[
            "-n",
            &name,
            "addr",
            "add",
            &format!("{addr}/24"),
            "dev",
            "eth0",
        ]);
        ip(&["-n", &name, "link", "set", "eth0", "up"]);
        self.hosts.push((name.clone(), port));
        name
    }

    /// Plugs the existing namespace `ns` (one of another segment, say) into
    /// this one through a new interface `ifname`, up, holding `addr`/24 if
    /// given (a port for a bridge of OVS's gets none).
    pub fn plug(&mut self, ns: &str, ifname: &str, addr: Option<Ipv4Addr>) {
        let port = format!("p{}", self.hosts.len());
        ip(&[
            "-n", &self.hub, "link", "add", &port, "type", "veth", "peer", "name", ifname, "netns",
            ns,
        ]);
        ip(&["-n", &self.hub, "link", "set", &port, "master", "br0", "up"]);
        if let Some(addr) = addr {
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                ifname,
            ]);
        }
        ip(&["-n", ns, "link", "set", ifname, "up"]);
        self.hosts.push((ns.to_owned(), port));
    }

    fn port(&self, ns: &str) -> &str {
        self.hosts
            .iter()
            .find(|(n, _)| n == ns)
            .map(|(_, p)| p.as_str())
            .expect("a namespace of this segment")
    }

    /// Cuts `ns` off the segment: its frames are dropped, as with a
    /// pulled cable (no resets, connections just stop answering).
    pub fn cut(&self, ns: &str) {
        ip(&["-n", &self.hub, "link", "set", self.port(ns), "down"]);
    }

    /// Joins `ns` to the segment again.
    pub fn heal(&self, ns: &str) {
        ip(&["-n", &self.hub, "link", "set", self.port(ns), "up"]);
    }

    /// The arguments that run a program inside `ns`.
    pub fn exec_prefix(ns: &str) -> Vec<String> {
        vec!["ip".into(), "netns".into(), "exec".into(), ns.to_owned()]
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for (ns, _) in &self.hosts {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.hub])
            .output();
    }
}
