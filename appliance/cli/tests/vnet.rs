//! Virtual networks through `lqx` and a real clustered `lqxd`, written
//! to a real OVN central and checked with `ovn-nbctl`: every object
//! created, bad requests refused with nothing changed, a change made while
//! the northbound database is down applied once it is back, `kill -9` of
//! the agent duplicating and dropping nothing (the restarted writer waits
//! for the southbound chassis list before it writes), and everything
//! deleted leaving nothing.

use lqx_api::{FloatingIp, Network, Port, SecurityGroup, VnetSync};
use lqx_test_support::cluster::{ClusterHost, wait_for};
use lqx_test_support::ovn::{OvnCentral, OvnHost, nbctl, sbctl};
use lqx_test_support::{assert_ok, assert_refused, text};

const ADDRESS: &str = "127.0.0.101";

/// Rows of every table the writer manages, as ovn-nbctl counts them.
fn rows(nb: &str) -> Vec<(String, usize)> {
    [
        "Logical_Switch",
        "Logical_Switch_Port",
        "Logical_Router",
        "Logical_Router_Port",
        "Gateway_Chassis",
        "NAT",
        "Logical_Router_Static_Route",
        "Port_Group",
        "ACL",
        "Address_Set",
        "Load_Balancer",
        "Load_Balancer_Health_Check",
        "DHCP_Options",
    ]
    .iter()
    .map(|t| {
        let n = nbctl(nb, &["--bare", "--columns=_uuid", "list", t])
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count();
        ((*t).to_owned(), n)
    })
    .collect()
}

/// Waits until the writer has written the current generation.
fn synced(host: &ClusterHost) -> VnetSync {
    let mut last = None;
    wait_for(|| {
        let sync: VnetSync = host.json(&["ovn", "sync"]);
        last = Some(sync.clone());
        (sync.applied == sync.generation && sync.error.is_none()).then_some(sync)
    })
    .unwrap_or_else(|| panic!("not written: {last:?}\n{}", host.agent.log()))
}

#[tokio::test(flavor = "current_thread")]
async fn networks_routers_groups_ips_and_balancers_reach_ovn() {
    let mut central = OvnCentral::start();
    let nb = central.nb.server.unix_remote();
    let sb = central.sb.server.unix_remote();
    // A chassis of another host (its tunnel address differs from ours:
    // the southbound database allows one chassis per address).
    sbctl(&sb, &["chassis-add", "hv-a", "geneve", "127.0.0.2"]);
    // This host's Open vSwitch and ovn-controller, to register as a
    // chassis on the cluster's southbound database.
    let ovs = OvnHost::start();
    let ovs_db = ovs.ovs.server.unix_remote();
    let mut host = ClusterHost::start_chassis(ADDRESS, 18101, &ovs_db).await;
    host.init(&[]);
    assert_refused(
        host.lqx(&["ovn", "register", "--encap-ip", "127.0.0.1"]),
        "no OVN central set",
    );

    // Nothing is written before the central databases are known.
    assert_refused(host.lqx(&["ovn", "central"]), "no OVN central");
    assert_refused(
        host.lqx(&[
            "ovn",
            "central",
            "--nb-remote",
            "tcp:nowhere",
            "--sb-remote",
            "tcp:1.2.3.4:6642",
        ]),
        "nb_remote",
    );
    assert_ok(host.lqx(&[
        "ovn",
        "central",
        "--nb-remote",
        &central.nb.server.tcp_remote(),
        "--sb-remote",
        &central.sb.server.tcp_remote(),
    ]));

    let blue: Network = host.json(&[
        "network",
        "create",
        "blue",
        "--subnet",
        "10.0.0.0/24",
        "--dhcp",
        "--dns",
        "192.0.2.53",
        "--mtu",
        "1442",
    ]);
    assert_eq!(blue.spec.gateway, Some("10.0.0.1".parse().unwrap()));
    host.json::<Network>(&[
        "network",
        "create",
        "ext",
        "--subnet",
        "192.0.2.0/24",
        "--physnet",
        "physnet1",
        "--vlan",
        "7",
    ]);
    host.json::<Network>(&["network", "create", "tiny", "--subnet", "10.9.0.0/30"]);
    let web: SecurityGroup = host.json(&["security-group", "create", "web"]);
    assert_eq!(web.rules.len(), 1, "egress allowed");
    assert_ok(host.lqx(&[
        "security-group",
        "rule",
        "add",
        "web",
        "--direction",
        "ingress",
        "--protocol",
        "tcp",
        "--port",
        "80-81",
        "--remote-cidr",
        "10.0.0.0/8",
    ]));
    let vm1: Port = host.json(&[
        "port",
        "create",
        "--network",
        "blue",
        "--name",
        "vm1",
        "--security-group",
        "web",
    ]);
    assert_eq!(vm1.ip, Some("10.0.0.2".parse().unwrap()));
    assert_ok(host.lqx(&["router", "create", "edge"]));
    assert_ok(host.lqx(&["router", "attach", "edge", "blue"]));
    assert_ok(host.lqx(&["router", "gateway", "edge", "--external", "ext"]));
    let fip: FloatingIp = host.json(&["floating-ip", "create", "--external", "ext"]);
    assert_ok(host.lqx(&["floating-ip", "associate", &fip.ip.to_string(), "vm1"]));
    assert_ok(host.lqx(&[
        "lb",
        "create",
        "www",
        "--vip",
        "10.0.0.200:80",
        "--member",
        "10.0.0.2:8080",
        "--network",
        "blue",
        "--health-check",
    ]));
    synced(&host);

    // Independently, in the northbound database.
    let lsp = vm1.id.to_string();
    assert_eq!(
        nbctl(&nb, &["lsp-get-addresses", &lsp]),
        format!("{} 10.0.0.2", vm1.mac)
    );
    assert!(nbctl(&nb, &["lsp-get-dhcpv4-options", &lsp]).contains("10.0.0.0/24"));
    let pg = format!("lqx_sg_{}", web.id.simple());
    let acls = nbctl(&nb, &["acl-list", &pg]);
    assert!(
        acls.contains("ip4.src == 10.0.0.0/8 && tcp && tcp.dst >= 80 && tcp.dst <= 81"),
        "{acls}"
    );
    let nat = nbctl(&nb, &["lr-nat-list", "lqx-edge"]);
    assert!(
        nat.contains("dnat_and_snat") && nat.contains(&fip.ip.to_string()),
        "{nat}"
    );
    assert!(nbctl(&nb, &["lb-list"]).contains("10.0.0.200:80"));
    assert!(
        nbctl(
            &nb,
            &[
                "--bare",
                "--columns=tag",
                "find",
                "Logical_Switch_Port",
                "type=localnet"
            ]
        )
        .contains('7')
    );

    // Registering without a southbound database takes the cluster's; the
    // new chassis is scheduled for the router's gateway too.
    assert_ok(host.lqx(&["ovn", "register", "--encap-ip", "127.0.0.1"]));
    let chassis = sbctl(&sb, &["--bare", "--columns=name", "list", "Chassis"]);
    assert!(chassis.contains(&host.id), "{chassis}");
    let gateways = wait_for(|| {
        let n = nbctl(
            &nb,
            &[
                "--bare",
                "--columns=chassis_name",
                "list",
                "Gateway_Chassis",
            ],
        );
        n.contains(&host.id).then_some(n)
    })
    .expect("the new chassis hosts the gateway too");
    assert!(gateways.contains("hv-a"), "{gateways}");
    // An interface on br-int whose iface-id is the port's id (what libvirt
    // makes of a VM NIC on a network) binds the port here: it comes up.
    let iface_id = format!("external_ids:iface-id={}", vm1.id);
    ovs.vsctl(&[
        "add-port",
        "br-int",
        "tap-vm1",
        "--",
        "set",
        "Interface",
        "tap-vm1",
        "type=dummy",
        &iface_id,
    ]);
    wait_for(|| (nbctl(&nb, &["lsp-get-up", &vm1.id.to_string()]) == "up").then_some(()))
        .unwrap_or_else(|| {
            panic!(
                "vm1's port is not up: {}\n{}\n{}",
                sbctl(
                    &sb,
                    &["find", "Port_Binding", &format!("logical_port={}", vm1.id)]
                ),
                ovs.vsctl(&["list", "Interface", "tap-vm1"]),
                std::fs::read_to_string(central.dir().join("ovn-northd.log")).unwrap_or_default()
            )
        });
    // ... and the API says so, as the writer reports it.
    let before: Port = host.json(&["port", "show", "vm1"]);
    wait_for(|| {
        let shown: Port = host.json(&["port", "show", "vm1"]);
        (shown.up == Some(true)).then_some(())
    })
    .unwrap_or_else(|| panic!("the API never showed vm1 up (first: {before:?})"));
    let listed = text(&host.lqx(&["port", "list"]).stdout);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("vm1 ") && l.contains(" up ")),
        "{listed}"
    );
    let written = rows(&nb);

    // Refusals: clear messages, nothing stored, nothing written.
    let generation = synced(&host).generation;
    assert_ok(host.lqx(&["router", "create", "inner"]));
    host.json::<Network>(&["network", "create", "overlap", "--subnet", "10.0.0.128/25"]);
    let generation = generation + 2;
    assert_refused(
        host.lqx(&["router", "attach", "edge", "overlap"]),
        "overlaps",
    );
    assert_refused(
        host.lqx(&["port", "create", "--network", "blue", "--ip", "10.5.0.9"]),
        "outside",
    );
    assert_ok(host.lqx(&["port", "create", "--network", "tiny", "--name", "only"]));
    assert_refused(host.lqx(&["port", "create", "--network", "tiny"]), "full");
    assert_refused(
        host.lqx(&[
            "security-group",
            "rule",
            "add",
            "web",
            "--direction",
            "ingress",
            "--protocol",
            "tcp",
            "--remote-cidr",
            "10.0.0.0/33",
        ]),
        "CIDR",
    );
    assert_refused(host.lqx(&["network", "delete", "blue"]), "in use");
    assert_refused(
        host.lqx(&["network", "create", "bad", "--subnet", "10.0.0.1/24"]),
        "host bits",
    );
    assert_refused(
        host.lqx(&[
            "network",
            "create",
            "bad",
            "--subnet",
            "10.7.0.0/24",
            "--subnet",
            "10.8.0.0/24",
        ]),
        "at most one IPv4 and one IPv6",
    );
    assert_refused(
        host.lqx(&["network", "create", "bad", "--subnet", "fd00:7::/56"]),
        "/64",
    );
    assert_eq!(
        synced(&host).generation,
        generation + 1,
        "only the one good port was stored"
    );
    assert_ok(host.lqx(&["port", "delete", "only"]));
    assert_ok(host.lqx(&["router", "delete", "inner"]));
    assert_ok(host.lqx(&["network", "delete", "overlap"]));
    synced(&host);
    assert_eq!(rows(&nb), written);

    // The northbound database goes away; a change waits for it.
    central.nb.server.kill();
    assert_ok(host.lqx(&["floating-ip", "disassociate", &fip.ip.to_string()]));
    std::thread::sleep(std::time::Duration::from_secs(2));
    let sync: VnetSync = host.json(&["ovn", "sync"]);
    assert!(sync.applied < sync.generation, "{sync:?}");
    central.nb.server.restart();
    synced(&host);
    assert!(!nbctl(&nb, &["lr-nat-list", "lqx-edge"]).contains("dnat_and_snat"));

    // kill -9 of the agent: it comes back, takes the writer lease again
    // once the old one lapses, and duplicates nothing.
    assert_ok(host.lqx(&["floating-ip", "associate", &fip.ip.to_string(), "vm1"]));
    synced(&host);
    let before = rows(&nb);
    host.agent.kill9();
    host.agent.start_again().await;
    host.wait_members(&[&host], &[]);
    assert_ok(host.lqx(&[
        "security-group",
        "rule",
        "add",
        "web",
        "--direction",
        "ingress",
        "--protocol",
        "icmp",
    ]));
    synced(&host);
    let after = rows(&nb);
    let acl = |r: &[(String, usize)]| r.iter().find(|(t, _)| t == "ACL").unwrap().1;
    assert_eq!(acl(&after), acl(&before) + 1);
    assert_eq!(
        after.iter().filter(|(t, _)| t != "ACL").collect::<Vec<_>>(),
        before
            .iter()
            .filter(|(t, _)| t != "ACL")
            .collect::<Vec<_>>(),
        "lqxd's log:\n{}",
        host.agent.log()
    );

    // Everything deleted: nothing left behind.
    assert_ok(host.lqx(&["lb", "delete", "www"]));
    assert_ok(host.lqx(&["floating-ip", "delete", &fip.ip.to_string()]));
    assert_ok(host.lqx(&["router", "gateway", "edge", "--clear"]));
    assert_ok(host.lqx(&["router", "detach", "edge", "blue"]));
    assert_ok(host.lqx(&["router", "delete", "edge"]));
    assert_ok(host.lqx(&["port", "delete", "vm1"]));
    assert_ok(host.lqx(&["security-group", "delete", "web"]));
    for n in ["blue", "ext", "tiny"] {
        assert_ok(host.lqx(&["network", "delete", n]));
    }
    synced(&host);
    for (table, n) in rows(&nb) {
        assert_eq!(n, 0, "{table} rows left");
    }
}
