//! Packets through the virtual networks, end to end: two hosts, each a
//! network namespace with its own `lqxd`, libvirtd, Open vSwitch (the
//! userspace datapath) and ovn-controller, clustered over a management
//! segment and tunnelling Geneve over a second one; OVN's central
//! databases and a Ceph cluster in the first host's namespace. On each
//! host a VM (QEMU under TCG) boots a test guest from an RBD volume: a
//! Debian kernel and a busybox initramfs that asks DHCP and pings the
//! other guest every second, printing the results on its serial console,
//! which the test reads through the API's serial WebSocket.
//!
//! Shown: both guests get the addresses of their ports from OVN's DHCP,
//! and their IPv6 ones by SLAAC from the router's advertisements, and
//! ping each other across the hosts over both while a security group
//! lets ICMP in; a floating IP on the router's gateway (the first host's external
//! bridge) reaches the second host's guest from a namespace on the
//! external segment; removing the rule stops both.

use futures::StreamExt as _;
use lqx_api::{FloatingIp, Network, Port, SecurityRule, Vm};
use lqx_test_support::ceph::CephFixture;
use lqx_test_support::cluster::{ClusterHost, wait_for};
use lqx_test_support::netns::Lan;
use lqx_test_support::ovn::{OvnCentral, nbctl};
use lqx_test_support::vm_host::VmHost;
use lqx_test_support::{assert_ok, guest, text};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a guest may take to boot under TCG and report.
const GUEST_TIMEOUT: Duration = Duration::from_secs(240);

/// Runs `args` through `prefix`; panics on failure.
fn run(prefix: &[String], args: &[&str]) -> String {
    let mut cmd = Command::new(&prefix[0]);
    cmd.args(&prefix[1..]).args(args);
    let out = cmd.output().unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Whether one ping from `prefix`'s namespace to `to` is answered.
fn pings(prefix: &[String], to: Ipv4Addr) -> bool {
    Command::new(&prefix[0])
        .args(&prefix[1..])
        .args(["ping", "-c", "1", "-W", "1", &to.to_string()])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether the northbound database has the switch port `name` up (false
/// while the writer has not put it there yet).
fn lsp_up(nb: &str, name: &str) -> bool {
    Command::new("ovn-nbctl")
        .arg(format!("--db={nb}"))
        .args(["lsp-get-up", name])
        .output()
        .is_ok_and(|o| o.status.success() && text(&o.stdout).trim() == "up")
}

/// Starts a hypervisor in `ns` whose tunnels leave through `eth1`,
/// holding `tunnel_ip`.
async fn hypervisor(ns: &str, address: Ipv4Addr, tunnel_ip: Ipv4Addr) -> VmHost {
    let prefix = Lan::exec_prefix(ns);
    let hv = VmHost::start(prefix.clone(), &address.to_string()).await;
    // The userspace datapath sends tunnel packets out of the bridge whose
    // interface holds the route to the other end, so the tunnel address
    // sits on a bridge of OVS's that owns the wire.
    hv.ovn.vsctl(&[
        "add-br",
        "br-phy",
        "--",
        "set",
        "bridge",
        "br-phy",
        "datapath_type=netdev",
        "--",
        "add-port",
        "br-phy",
        "eth1",
    ]);
    wait_for(|| {
        Command::new("ip")
            .args(["-n", ns, "link", "show", "br-phy"])
            .output()
            .is_ok_and(|o| o.status.success())
            .then_some(())
    })
    .expect("vswitchd made br-phy");
    run(
        &prefix,
        &[
            "ip",
            "addr",
            "add",
            &format!("{tunnel_ip}/24"),
            "dev",
            "br-phy",
        ],
    );
    run(&prefix, &["ip", "link", "set", "br-phy", "up"]);
    hv
}

/// What a guest printed on its serial console so far, read through the
/// agent's serial WebSocket by a background task.
#[derive(Clone, Default)]
struct Serial(Arc<Mutex<String>>);

impl Serial {
    async fn attach(host: &ClusterHost, vm: &str) -> Self {
        let serial = Self::default();
        let mut socket = host
            .agent
            .client()
            .websocket(&format!("/v1/vms/{vm}/serial"))
            .await
            .expect("serial WebSocket");
        let out = serial.clone();
        tokio::spawn(async move {
            use tokio_tungstenite::tungstenite::Message;
            while let Some(Ok(message)) = socket.next().await {
                let bytes = match message {
                    Message::Binary(b) => b.to_vec(),
                    Message::Text(t) => t.as_bytes().to_vec(),
                    Message::Close(_) => break,
                    _ => continue,
                };
                out.0
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&bytes));
            }
        });
        serial
    }

    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }

    /// The guest's report lines after byte `from`.
    fn lines_after(&self, from: usize) -> Vec<String> {
        let text = self.text();
        text.get(from..)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.find("LQX-GUEST ").map(|i| l[i..].trim().to_owned()))
            .collect()
    }

    /// Waits until a report line after byte `from` is `line`; the length
    /// of the text when it was.
    async fn wait_line(&self, from: usize, line: &str) -> usize {
        let start = Instant::now();
        loop {
            if self.lines_after(from).iter().any(|l| l == line) {
                return self.text().len();
            }
            assert!(
                start.elapsed() < GUEST_TIMEOUT,
                "no {line:?} from the guest; it printed:\n{}",
                self.text()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// OVN's stateless DHCPv6 hands out the tenant network's IPv6 DNS
/// server: ISC dhclient sends an Information-request from a port of the
/// network plugged into the second host's br-int as an OVS internal
/// interface.
async fn dhcpv6_answers(hv: &VmHost, ns: &str) {
    let port: Port = hv.host.json(&[
        "port",
        "create",
        "--network",
        "tenant",
        "--name",
        "probe",
        "--mac",
        "0a:6c:71:00:50:0c",
    ]);
    let prefix = Lan::exec_prefix(ns);
    hv.ovn.vsctl(&[
        "add-port",
        "br-int",
        "probe0",
        "--",
        "set",
        "interface",
        "probe0",
        "type=internal",
        &format!("external_ids:iface-id={}", port.id),
    ]);
    wait_for(|| {
        Command::new("ip")
            .args(["-n", ns, "link", "show", "probe0"])
            .output()
            .is_ok_and(|o| o.status.success())
            .then_some(())
    })
    .expect("vswitchd made probe0");
    run(
        &prefix,
        &["ip", "link", "set", "probe0", "address", &port.mac, "up"],
    );
    let dir = tempfile::tempdir().unwrap();
    let leases = dir.path().join("leases");
    let pid = dir.path().join("pid");
    // In stateless mode dhclient writes no lease: it hands what it got to
    // its script, in the environment.
    let got = dir.path().join("got");
    let script = dir.path().join("script");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$reason $new_dhcp6_name_servers\" >> {}\n",
            got.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // In the foreground (-d), so it is killed here rather than left
    // running; started again if it quits early (it cannot bind until the
    // link-local address is past duplicate detection).
    let start = Instant::now();
    let mut client: Option<std::process::Child> = None;
    let answered = loop {
        let lease = std::fs::read_to_string(&got).unwrap_or_default();
        if lease.lines().any(|l| l.ends_with(" 2001:db8::53")) {
            break true;
        }
        if start.elapsed() > Duration::from_secs(60) {
            break false;
        }
        if client
            .as_mut()
            .is_none_or(|c| c.try_wait().ok().flatten().is_some())
        {
            client = Some(
                Command::new(&prefix[0])
                    .args(&prefix[1..])
                    .args(["dhclient", "-6", "-S", "-d", "-v", "-sf"])
                    .arg(&script)
                    .arg("-lf")
                    .arg(&leases)
                    .arg("-pf")
                    .arg(&pid)
                    .arg("probe0")
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("dhclient (isc-dhcp-client)"),
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    if let Some(mut c) = client {
        let _ = c.kill();
        let _ = c.wait();
    }
    assert!(
        answered,
        "no DHCPv6 answer with the DNS server; the client's script saw: {:?}",
        std::fs::read_to_string(&got).unwrap_or_default()
    );
    println!(
        "DHCPv6 answered after {:.1} s",
        start.elapsed().as_secs_f64()
    );
    hv.ovn.vsctl(&["del-port", "br-int", "probe0"]);
    assert_ok(hv.host.lqx(&["port", "delete", "probe"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_on_two_hosts_get_dhcp_and_ping_across_geneve() {
    let (a_ip, b_ip): (Ipv4Addr, Ipv4Addr) = (
        "192.168.77.1".parse().unwrap(),
        "192.168.77.2".parse().unwrap(),
    );
    let mut management = Lan::create();
    let ns_a = management.attach(a_ip);
    let ns_b = management.attach(b_ip);
    let mut underlay = Lan::create();
    underlay.plug(&ns_a, "eth1", None);
    underlay.plug(&ns_b, "eth1", None);
    let mut external = Lan::create();
    let outside: Ipv4Addr = "172.30.0.1".parse().unwrap();
    let ns_x = external.attach(outside);
    external.plug(&ns_a, "eth2", None);
    let outside_prefix = Lan::exec_prefix(&ns_x);

    let central = OvnCentral::start_in(Lan::exec_prefix(&ns_a), a_ip.into());
    let nb = central.nb.server.unix_remote();
    let ceph = CephFixture::start_at(a_ip.into(), Lan::exec_prefix(&ns_a));
    ceph.create_rbd_pool("vms");
    let key = ceph.create_rbd_client("lqx", &["vms"]);
    let mon = ceph.mon_v2().to_string();

    let a = hypervisor(&ns_a, a_ip, "10.99.0.1".parse().unwrap()).await;
    let b = hypervisor(&ns_b, b_ip, "10.99.0.2".parse().unwrap()).await;
    // The first host's wire to the external segment, for provider network
    // `ext` (the router's gateway lives there).
    a.ovn.vsctl(&[
        "add-br",
        "br-ex",
        "--",
        "set",
        "bridge",
        "br-ex",
        "datapath_type=netdev",
        "--",
        "add-port",
        "br-ex",
        "eth2",
    ]);

    a.host.init(&["--name", "datapath"]);
    let token = a.host.token();
    b.host.join(&token);
    a.host.wait_members(&[&a.host, &b.host], &[]);
    for h in [&a.host, &b.host] {
        assert_ok(h.lqx(&[
            "ceph",
            "join",
            "--mon",
            &mon,
            "--name",
            "client.lqx",
            "--key",
            &key,
        ]));
    }
    assert_ok(a.host.lqx(&[
        "ovn",
        "central",
        "--nb-remote",
        &central.nb.server.tcp_remote(),
        "--sb-remote",
        &central.sb.server.tcp_remote(),
    ]));
    assert_ok(a.host.lqx(&[
        "ovn",
        "register",
        "--encap-ip",
        "10.99.0.1",
        "--bridge-mappings",
        "ext:br-ex",
    ]));
    assert_ok(b.host.lqx(&["ovn", "register", "--encap-ip", "10.99.0.2"]));

    // The tenant network, the external one, a router between them, and a
    // group whose one ingress rule lets ICMP in.
    a.host.json::<Network>(&[
        "network",
        "create",
        "tenant",
        "--subnet",
        "10.50.0.0/24",
        "--subnet",
        "fd00:50::/64",
        "--dhcp",
        "--dns",
        "2001:db8::53",
    ]);
    a.host.json::<Network>(&[
        "network",
        "create",
        "ext",
        "--subnet",
        "172.30.0.0/24",
        "--gateway",
        &outside.to_string(),
        "--physnet",
        "ext",
    ]);
    assert_ok(a.host.lqx(&["security-group", "create", "pingable"]));
    let rule: SecurityRule = a.host.json(&[
        "security-group",
        "rule",
        "add",
        "pingable",
        "--direction",
        "ingress",
        "--protocol",
        "icmp",
    ]);
    assert_ok(a.host.lqx(&["router", "create", "edge"]));
    assert_ok(a.host.lqx(&["router", "attach", "edge", "tenant"]));
    assert_ok(
        a.host
            .lqx(&["router", "gateway", "edge", "--external", "ext"]),
    );
    // The gateway goes to the only chassis with a bridge for `ext`: the
    // first host (on the second one the external traffic would have no
    // way out).
    wait_for(|| {
        let gateways = nbctl(
            &nb,
            &[
                "--bare",
                "--columns=chassis_name",
                "list",
                "Gateway_Chassis",
            ],
        );
        (gateways.trim() == a.host.id).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "the gateway is not on {} alone: {}",
            a.host.id,
            nbctl(&nb, &["list", "Gateway_Chassis"])
        )
    });

    // A guest on each host, booting from an RBD volume.
    let (ip_a, ip_b): (Ipv4Addr, Ipv4Addr) =
        ("10.50.0.11".parse().unwrap(), "10.50.0.12".parse().unwrap());
    // Fixed MACs, so the IPv6 addresses (EUI-64, RFC 4291) are known
    // before the images are built: 0a:.. flips to 08:.., ff:fe inserted.
    let (mac_a, mac_b) = ("0a:6c:71:00:50:0a", "0a:6c:71:00:50:0b");
    let (ip6_a, ip6_b): (Ipv6Addr, Ipv6Addr) = (
        "fd00:50::86c:71ff:fe00:500a".parse().unwrap(),
        "fd00:50::86c:71ff:fe00:500b".parse().unwrap(),
    );
    let guests = [
        (&a, "guest-a", ip_a, ip_b, mac_a, ip6_a, ip6_b),
        (&b, "guest-b", ip_b, ip_a, mac_b, ip6_b, ip6_a),
    ];
    let mut serials = vec![];
    let mut started = vec![];
    for (hv, name, ip, peer, mac, ip6, peer6) in guests {
        let image = guest::disk_image(&[peer.into(), peer6.into()]);
        ceph.rbd(&[
            "import",
            &image.display().to_string(),
            &format!("vms/{name}"),
        ]);
        let nic = format!("network=tenant,ip={ip},mac={mac},security-group=pingable");
        let asked = Instant::now();
        let vm: Vm = a.host.json(&[
            "--host",
            &hv.host.id,
            "vm",
            "create",
            name,
            "--memory",
            "160MiB",
            "--disk",
            &format!("rbd:vms/{name}"),
            "--nic",
            &nic,
        ]);
        let created = asked.elapsed();
        started.push(Instant::now());
        assert_eq!(vm.host.to_string(), hv.host.id);
        // The port comes up where its VM runs: the tap libvirt plugged
        // into br-int carries the port's id as iface-id.
        let lsp = vm.spec.nics[0].port.clone().expect("the NIC's port");
        let listed: Vec<Port> = a.host.json(&["port", "list"]);
        assert!(
            listed.iter().any(|p| p.id.to_string() == lsp
                && p.name == format!("{name}-nic0")
                && p.ip6 == Some(ip6)),
            "{name}'s port with {ip6} in {listed:?}"
        );
        while !lsp_up(&nb, &lsp) {
            assert!(
                asked.elapsed() < GUEST_TIMEOUT,
                "{name}'s port never came up"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        println!(
            "{name}: `vm create` (define and start) {:.2} s, its port up {:.2} s after the request",
            created.as_secs_f64(),
            asked.elapsed().as_secs_f64()
        );
        // The API reports it too (from the writer, within its poll).
        let nic = format!("{name}-nic0");
        wait_for(|| (a.host.json::<Port>(&["port", "show", &nic]).up == Some(true)).then_some(()))
            .unwrap_or_else(|| panic!("the API never showed {nic} up"));
        serials.push(Serial::attach(&hv.host, name).await);
    }

    // Addresses from OVN's DHCP, and pings across the hosts; then IPv6.
    for (i, (_, name, ip, peer, _, _, peer6)) in guests.iter().enumerate() {
        let serial = &serials[i];
        serial
            .wait_line(0, &format!("LQX-GUEST ip={ip}/24 router=10.50.0.1"))
            .await;
        serial
            .wait_line(0, &format!("LQX-GUEST ping {peer} ok"))
            .await;
        println!(
            "{name}: DHCP and a ping across {:.1} s after the VM was created",
            started[i].elapsed().as_secs_f64()
        );
        serial
            .wait_line(0, &format!("LQX-GUEST ping {peer6} ok"))
            .await;
        println!(
            "{name}: SLAAC and a ping6 across {:.1} s after the VM was created",
            started[i].elapsed().as_secs_f64()
        );
    }

    dhcpv6_answers(&b, &ns_b).await;

    // From the external segment, through the floating IP on the first
    // host's gateway, to the guest on the second host.
    let fip: FloatingIp = a.host.json(&["floating-ip", "create", "--external", "ext"]);
    let fip_ip = fip.ip;
    assert_ok(a.host.lqx(&[
        "floating-ip",
        "associate",
        &fip_ip.to_string(),
        "guest-b-nic0",
    ]));
    wait_for(|| pings(&outside_prefix, fip_ip).then_some(())).unwrap_or_else(|| {
        panic!(
            "the floating IP {fip_ip} never answered; NAT rows:\n{}\nchassis A:\n{}",
            nbctl(&nb, &["lr-nat-list", "lqx-edge"]),
            a.ovn.appctl(&["dpctl/dump-flows"])
        )
    });

    // The rule removed: the pings stop, both ways and from outside.
    let marks: Vec<usize> = serials.iter().map(|s| s.text().len()).collect();
    assert_ok(a.host.lqx(&[
        "security-group",
        "rule",
        "remove",
        "pingable",
        &rule.id.to_string(),
    ]));
    for (i, (_, name, _, peer, _, _, peer6)) in guests.iter().enumerate() {
        let serial = &serials[i];
        let peers: [IpAddr; 2] = [(*peer).into(), (*peer6).into()];
        let mut after = marks[i];
        for p in peers {
            after = after.max(
                serial
                    .wait_line(marks[i], &format!("LQX-GUEST ping {p} fail"))
                    .await,
            );
        }
        // Once failing, it keeps failing: three more rounds, none ok.
        let start = Instant::now();
        while serial
            .lines_after(after)
            .iter()
            .filter(|l| l.contains("ping"))
            .count()
            < 6
        {
            assert!(start.elapsed() < GUEST_TIMEOUT, "{name} stopped reporting");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let later = serial.lines_after(after);
        for p in peers {
            assert!(
                !later.iter().any(|l| l == &format!("LQX-GUEST ping {p} ok")),
                "{name} still reaches {p} without the rule: {later:?}"
            );
        }
    }
    assert!(
        !pings(&outside_prefix, fip_ip),
        "the floating IP still answers"
    );

    for (hv, name, ..) in guests {
        assert_ok(a.host.lqx(&["vm", "delete", name, "--force", "--disks"]));
        assert!(
            hv.libvirtd
                .virsh(&["list", "--all", "--name"])
                .trim()
                .is_empty()
        );
    }
}
