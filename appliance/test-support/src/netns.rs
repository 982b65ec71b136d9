//! A network namespace made by a test, with one address of its own on its
//! loopback interface, so that daemons and a QEMU guest (whose user-mode
//! network dials real addresses from the namespace) meet on an address
//! that is neither the machine's loopback nor one of its networks.

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A namespace removed when dropped.
pub struct NetNs {
    name: String,
    addr: Ipv4Addr,
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
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "lqxt-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
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
