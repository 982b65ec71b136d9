//! The northbound writer against a real OVN central (NB, SB, northd):
//! every object written, checked with `ovn-nbctl`, changed, written again
//! without duplicates, deleted with nothing left behind; rows it does not
//! own are left alone; a northbound restart is ridden out; two writers at
//! once do not duplicate rows.

use lqx_api::{
    Direction, FloatingIpCreate, LbProtocol, LoadBalancerCreate, NetworkCreate, PortCreate,
    Protocol, SecurityGroupCreate, SecurityRuleCreate,
};
use lqx_core::vnet::{VnetState, address_set_name, address_set6_name, lsp_name, port_group_name};
use lqx_ovn::NbWriter;
use lqx_test_support::ovn::{OvnCentral, nbctl, sbctl};
use std::time::Duration;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(10);

fn network(name: &str, subnet: &str, physnet: Option<&str>) -> NetworkCreate {
    NetworkCreate {
        name: name.into(),
        subnet: Some(subnet.into()),
        subnet6: None,
        gateway: None,
        gateway6: None,
        dhcp: physnet.is_none(),
        dns: vec!["192.0.2.53".parse().unwrap()],
        mtu: Some(1442),
        physnet: physnet.map(Into::into),
        vlan: physnet.map(|_| 42),
    }
}

fn rule(direction: Direction, protocol: Protocol, port: Option<u16>) -> SecurityRuleCreate {
    SecurityRuleCreate {
        direction,
        protocol,
        port_min: port,
        port_max: None,
        remote_cidr: None,
        remote_group: None,
    }
}

/// Two networks, a router with a gateway, a security group with rules,
/// two ports, a floating IP and a load balancer.
fn cloud() -> VnetState {
    let mut s = VnetState::default();
    let id = Uuid::new_v4;
    s.create_network(id(), network("ext", "192.0.2.0/24", Some("physnet1")))
        .unwrap();
    let mut blue = network("blue", "10.0.0.0/24", None);
    blue.subnet6 = Some("fd00:b::/64".into());
    blue.dns.push("2001:db8::53".parse().unwrap());
    s.create_network(id(), blue).unwrap();
    let sg = SecurityGroupCreate {
        name: "web".into(),
        description: "web servers".into(),
    };
    s.create_security_group(id(), [id()], &sg).unwrap();
    s.add_rule(
        "web",
        id(),
        rule(Direction::Ingress, Protocol::Tcp, Some(80)),
    )
    .unwrap();
    s.add_rule("web", id(), rule(Direction::Ingress, Protocol::Icmp, None))
        .unwrap();
    for name in ["vm1", "vm2"] {
        let port = PortCreate {
            name: Some(name.into()),
            network: "blue".into(),
            ip: None,
            mac: None,
            security_groups: vec!["web".into()],
        };
        s.create_port(id(), &port, None).unwrap();
    }
    s.create_router(id(), "edge").unwrap();
    s.attach("edge", "blue").unwrap();
    s.set_gateway("edge", "ext").unwrap();
    let fip = s
        .create_floating_ip(
            id(),
            &FloatingIpCreate {
                external: "ext".into(),
                ip: Some("192.0.2.100".parse().unwrap()),
            },
        )
        .unwrap();
    s.associate(&fip.ip.to_string(), "vm1").unwrap();
    s.create_load_balancer(
        id(),
        LoadBalancerCreate {
            name: "www".into(),
            vip: "10.0.0.250:80".into(),
            members: vec!["10.0.0.2:8080".into(), "10.0.0.3:8080".into()],
            protocol: LbProtocol::Tcp,
            network: "blue".into(),
            health_check: true,
        },
    )
    .unwrap();
    // One without a health check: its empty mappings are a map too.
    s.create_load_balancer(
        id(),
        LoadBalancerCreate {
            name: "dns".into(),
            vip: "10.0.0.251:53".into(),
            members: vec!["10.0.0.2:53".into()],
            protocol: LbProtocol::Udp,
            network: "blue".into(),
            health_check: false,
        },
    )
    .unwrap();
    s
}

/// Every row of `table`'s uuids, as `ovn-nbctl` lists them.
fn count(nb: &str, table: &str) -> usize {
    nbctl(nb, &["--bare", "--columns=_uuid", "list", table])
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

const TABLES: &[&str] = &[
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
];

/// Waits until northd's southbound address set `name` satisfies `want`.
fn sb_set(sb: &str, name: &str, want: impl Fn(&str) -> bool) {
    let mut last = String::new();
    for _ in 0..100 {
        last = sbctl(
            sb,
            &[
                "--bare",
                "--columns=addresses",
                "find",
                "Address_Set",
                &format!("name={name}"),
            ],
        );
        if want(&last) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("address set {name}: {last}");
}

fn counts(nb: &str) -> Vec<(&'static str, usize)> {
    TABLES.iter().map(|t| (*t, count(nb, t))).collect()
}

#[tokio::test]
async fn every_object_written_changed_and_removed_against_real_ovn() {
    let mut central = OvnCentral::start();
    let nb = central.nb.server.unix_remote();
    let sb = central.sb.server.unix_remote();
    // Two chassis to schedule the gateway on.
    sbctl(&sb, &["chassis-add", "hv-a", "geneve", "127.0.0.1"]);
    sbctl(&sb, &["chassis-add", "hv-b", "geneve", "127.0.0.2"]);
    // A row of somebody else's, to be left alone.
    nbctl(&nb, &["ls-add", "manual"]);

    let writer = NbWriter::start(
        vec![central.nb.server.tcp_remote().parse().unwrap()],
        vec![central.sb.server.tcp_remote().parse().unwrap()],
        "cluster-1".into(),
        None,
    );
    // The chassis arrive through the southbound monitor.
    for _ in 0..100 {
        if writer.chassis().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(writer.chassis(), ["hv-a", "hv-b"]);

    let mut state = cloud();
    let done = writer.converge(&state, WAIT).await.unwrap();
    assert!(done.inserts > 20, "{done:?}");

    // Independently, with ovn-nbctl.
    let switches = nbctl(&nb, &["ls-list"]);
    for name in ["lqx-blue", "lqx-ext", "manual"] {
        assert!(switches.contains(name), "{switches}");
    }
    let vm1 = state.ports["vm1"].clone();
    let lsp = lsp_name(&vm1);
    let address = format!("{} {} {}", vm1.mac, vm1.ip.unwrap(), vm1.ip6.unwrap());
    assert_eq!(nbctl(&nb, &["lsp-get-addresses", &lsp]), address);
    assert_eq!(nbctl(&nb, &["lsp-get-port-security", &lsp]), address);
    let dhcp = nbctl(&nb, &["lsp-get-dhcpv4-options", &lsp]);
    assert!(dhcp.contains("10.0.0.0/24"), "{dhcp}");
    let options = nbctl(
        &nb,
        &[
            "dhcp-options-get-options",
            dhcp.split_whitespace().next().unwrap(),
        ],
    );
    for want in [
        "router=10.0.0.1",
        "mtu=1442",
        "dns_server={192.0.2.53}",
        "lease_time=3600",
    ] {
        assert!(options.contains(want), "{want} in {options}");
    }
    // Stateless DHCPv6 with the IPv6 DNS server.
    let dhcp6 = nbctl(&nb, &["lsp-get-dhcpv6-options", &lsp]);
    assert!(dhcp6.contains("fd00:b::/64"), "{dhcp6}");
    let options = nbctl(
        &nb,
        &[
            "dhcp-options-get-options",
            dhcp6.split_whitespace().next().unwrap(),
        ],
    );
    for want in [
        "dhcpv6_stateless=true",
        "dns_server={2001:db8::53}",
        "server_id=",
    ] {
        assert!(options.contains(want), "{want} in {options}");
    }
    // The router port has both gateways and advertises the prefix.
    let rp = nbctl(
        &nb,
        &[
            "--bare",
            "--columns=networks,ipv6_ra_configs",
            "find",
            "Logical_Router_Port",
            "networks{>=}\"fd00:b::1/64\"",
        ],
    );
    assert!(
        rp.contains("10.0.0.1/24") && rp.contains("address_mode=dhcpv6_stateless"),
        "{rp}"
    );
    let localnet = nbctl(
        &nb,
        &[
            "--bare",
            "--columns=type,tag",
            "find",
            "Logical_Switch_Port",
            "type=localnet",
        ],
    );
    assert!(localnet.contains("42"), "{localnet}");
    let sg = state.security_groups["web"].id;
    let pg = port_group_name(sg);
    let acls = nbctl(&nb, &["acl-list", &pg]);
    assert!(
        acls.contains(&format!(
            "to-lport  1002 (outport == @{pg} && ip && tcp && tcp.dst == 80) allow-related"
        )),
        "{acls}"
    );
    assert!(acls.contains("(icmp4 || icmp6)"), "{acls}");
    assert!(
        acls.contains(&format!(
            "from-lport  1002 (inport == @{pg} && ip) allow-related"
        )),
        "{acls}"
    );
    let drop = nbctl(&nb, &["acl-list", "lqx_drop"]);
    assert!(
        drop.contains("drop") && drop.contains("udp.dst == 67") && drop.contains("udp.dst == 547"),
        "{drop}"
    );
    // northd took all of it: the port has its southbound binding row (a
    // southbound commit northd could not make would leave none).
    let mut bound = String::new();
    for _ in 0..100 {
        bound = sbctl(
            &sb,
            &[
                "--bare",
                "--columns=logical_port",
                "find",
                "Port_Binding",
                &format!("logical_port={lsp}"),
            ],
        );
        if !bound.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(bound, lsp);
    // The peer group's addresses: northd's set of the port group.
    sb_set(&sb, &address_set_name(sg), |set| {
        set.contains("10.0.0.2") && set.contains("10.0.0.3")
    });
    let vm2_ip6 = state.ports["vm2"].ip6.unwrap().to_string();
    sb_set(&sb, &address_set6_name(sg), |set| set.contains(&vm2_ip6));
    // northd compiled the advertisements and the DHCPv6 answers into
    // logical flows.
    let flows = sbctl(&sb, &["lflow-list"]);
    for want in ["put_nd_ra_opts", "put_dhcpv6_opts", "fd00:b::1"] {
        assert!(flows.contains(want), "no {want} in the logical flows");
    }
    let nat = nbctl(&nb, &["lr-nat-list", "lqx-edge"]);
    assert!(
        nat.contains("dnat_and_snat") && nat.contains("192.0.2.100") && nat.contains("10.0.0.2"),
        "{nat}"
    );
    assert!(nat.contains("snat") && nat.contains("10.0.0.0/24"), "{nat}");
    let routes = nbctl(&nb, &["lr-route-list", "lqx-edge"]);
    assert!(
        routes.contains("0.0.0.0/0") && routes.contains("192.0.2.1"),
        "{routes}"
    );
    let gw_port = nbctl(
        &nb,
        &[
            "--bare",
            "--columns=name",
            "find",
            "Logical_Router_Port",
            "networks=\"192.0.2.2/24\"",
        ],
    );
    let chassis = nbctl(&nb, &["lrp-get-gateway-chassis", gw_port.trim()]);
    assert!(
        chassis.contains("hv-a") && chassis.contains("hv-b"),
        "{chassis}"
    );
    let lbs = nbctl(&nb, &["lb-list"]);
    assert!(
        lbs.contains("lqx-www")
            && lbs.contains("10.0.0.250:80")
            && lbs.contains("10.0.0.2:8080,10.0.0.3:8080"),
        "{lbs}"
    );
    assert!(nbctl(&nb, &["ls-lb-list", "lqx-blue"]).contains("lqx-www"));
    assert!(nbctl(&nb, &["lr-lb-list", "lqx-edge"]).contains("lqx-www"));
    assert_eq!(count(&nb, "Load_Balancer_Health_Check"), 1);

    // Again: nothing to do, nothing duplicated.
    let before = counts(&nb);
    assert!(writer.converge(&state, WAIT).await.unwrap().is_empty());
    assert_eq!(counts(&nb), before);

    // A change touches only what changed: removing a rule and a port.
    let vm1_uuid = nbctl(
        &nb,
        &[
            "--bare",
            "--columns=_uuid",
            "find",
            "Logical_Switch_Port",
            &format!("name={lsp}"),
        ],
    );
    let http = state.security_groups["web"].rules[1].id;
    state.remove_rule("web", http).unwrap();
    state.delete_port("vm2").unwrap();
    let done = writer.converge(&state, WAIT).await.unwrap();
    assert_eq!(done.inserts, 0, "{done:?}");
    assert!(!nbctl(&nb, &["acl-list", &pg]).contains("tcp.dst == 80"));
    assert_eq!(
        nbctl(
            &nb,
            &[
                "--bare",
                "--columns=_uuid",
                "find",
                "Logical_Switch_Port",
                &format!("name={lsp}")
            ]
        ),
        vm1_uuid,
        "an unchanged port keeps its row"
    );
    sb_set(&sb, &address_set_name(sg), |set| !set.contains("10.0.0.3"));

    // The northbound server dies; the writer waits and carries on once it
    // is back.
    central.nb.server.kill();
    state.disassociate("192.0.2.100").unwrap();
    assert!(
        writer
            .converge(&state, Duration::from_millis(500))
            .await
            .is_err()
    );
    central.nb.server.restart();
    let mut converged = false;
    for _ in 0..20 {
        if writer.converge(&state, WAIT).await.is_ok() {
            converged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(converged, "no converge after the restart");
    assert!(!nbctl(&nb, &["lr-nat-list", "lqx-edge"]).contains("dnat_and_snat"));

    // Two writers at once (two agents that both think they write) make
    // one set of rows.
    let other = NbWriter::start(
        vec![central.nb.server.tcp_remote().parse().unwrap()],
        vec![central.sb.server.tcp_remote().parse().unwrap()],
        "cluster-1".into(),
        None,
    );
    let mut more = state.clone();
    more.create_network(Uuid::new_v4(), network("green", "10.1.0.0/24", None))
        .unwrap();
    for i in 0..5 {
        let port = PortCreate {
            name: Some(format!("g{i}")),
            network: "green".into(),
            ip: None,
            mac: None,
            security_groups: vec!["web".into()],
        };
        more.create_port(Uuid::new_v4(), &port, None).unwrap();
    }
    let (a, b) = tokio::join!(writer.converge(&more, WAIT), other.converge(&more, WAIT));
    // One may lose the race (its guarded insert fails); a retry finds
    // nothing to do.
    if a.is_err() || b.is_err() {
        writer.converge(&more, WAIT).await.unwrap();
    }
    assert!(other.converge(&more, WAIT).await.unwrap().is_empty());
    assert_eq!(nbctl(&nb, &["lsp-list", "lqx-green"]).lines().count(), 5);
    assert_eq!(
        count(&nb, "Gateway_Chassis"),
        2,
        "{}",
        nbctl(&nb, &["list", "Gateway_Chassis"])
    );

    // Everything deleted: nothing of ours left, the manual switch kept.
    let mut empty = more.clone();
    empty.ports.clear();
    empty.floating_ips.clear();
    empty.load_balancers.clear();
    empty.routers.clear();
    empty.security_groups.clear();
    empty.networks.clear();
    writer.converge(&empty, WAIT).await.unwrap();
    for (table, n) in counts(&nb) {
        let expected = usize::from(table == "Logical_Switch");
        assert_eq!(
            n,
            expected,
            "{table} rows left: {}",
            nbctl(&nb, &["list", table])
        );
    }
    assert_eq!(
        nbctl(&nb, &["ls-list"])
            .trim_start_matches(|c: char| c != '(')
            .trim(),
        "(manual)"
    );
}
