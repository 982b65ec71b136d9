use super::*;
use lqx_api::LbProtocol;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn net(name: &str, subnet: Option<&str>) -> NetworkCreate {
    NetworkCreate {
        name: name.into(),
        subnet: subnet.map(Into::into),
        subnet6: None,
        gateway: None,
        gateway6: None,
        dhcp: subnet.is_some(),
        dns: vec![],
        mtu: None,
        physnet: None,
        vlan: None,
    }
}

fn port(network: &str) -> PortCreate {
    PortCreate {
        name: None,
        network: network.into(),
        ip: None,
        mac: None,
        security_groups: vec![],
    }
}

/// Runs `change` and checks that, when it fails, nothing changed.
fn unchanged_on_error<T>(
    state: &mut VnetState,
    change: impl FnOnce(&mut VnetState) -> Result<T, VnetError>,
) -> VnetError {
    let before = state.clone();
    let Err(e) = change(state) else {
        panic!("the change was accepted");
    };
    assert_eq!(*state, before, "a refused change left a trace");
    e
}

#[test]
fn a_network_gets_its_first_address_as_gateway() {
    let mut s = VnetState::default();
    let n = s
        .create_network(id(1), net("blue", Some("10.1.0.0/24")))
        .unwrap();
    assert_eq!(n.spec.gateway, Some("10.1.0.1".parse().unwrap()));
    let e = unchanged_on_error(&mut s, |s| s.create_network(id(2), net("blue", None)));
    assert!(matches!(e, VnetError::Conflict(_)));
    let mut bad = net("red", Some("10.2.0.0/24"));
    bad.gateway = Some("10.3.0.1".parse().unwrap());
    bad.mtu = Some(100);
    bad.vlan = Some(5000);
    let VnetError::Invalid(m) = unchanged_on_error(&mut s, |s| s.create_network(id(3), bad)) else {
        panic!()
    };
    assert!(
        m.contains("gateway") && m.contains("MTU") && m.contains("VLAN"),
        "{m}"
    );
    let e = unchanged_on_error(&mut s, |s| s.create_network(id(4), net("Bad_Name", None)));
    assert!(matches!(e, VnetError::Invalid(_)));
}

#[test]
fn ports_take_free_addresses_until_the_subnet_is_full() {
    let mut s = VnetState::default();
    s.create_network(id(1), net("tiny", Some("10.9.0.0/29")))
        .unwrap();
    // .1 is the gateway; .2 to .6 are left.
    let ips: Vec<_> = (0..5)
        .map(|i| {
            s.create_port(id(10 + i), &port("tiny"), None)
                .unwrap()
                .ip
                .unwrap()
        })
        .collect();
    assert_eq!(ips[0], "10.9.0.2".parse::<std::net::Ipv4Addr>().unwrap());
    assert_eq!(ips[4], "10.9.0.6".parse::<std::net::Ipv4Addr>().unwrap());
    let VnetError::Conflict(m) =
        unchanged_on_error(&mut s, |s| s.create_port(id(20), &port("tiny"), None))
    else {
        panic!()
    };
    assert!(m.contains("full"), "{m}");
    s.delete_port(&s.ports.values().next().unwrap().name.clone())
        .unwrap();
    assert_eq!(
        s.create_port(id(21), &port("tiny"), None).unwrap().ip,
        Some(ips[0])
    );
}

#[test]
fn a_port_address_must_be_inside_and_free() {
    let mut s = VnetState::default();
    s.create_network(id(1), net("blue", Some("10.1.0.0/24")))
        .unwrap();
    let mut p = port("blue");
    p.ip = Some("10.2.0.5".parse().unwrap());
    let e = unchanged_on_error(&mut s, |s| s.create_port(id(2), &p, None));
    assert!(matches!(e, VnetError::Invalid(m) if m.contains("outside")));
    p.ip = Some("10.1.0.1".parse().unwrap());
    let e = unchanged_on_error(&mut s, |s| s.create_port(id(3), &p, None));
    assert!(matches!(e, VnetError::Conflict(m) if m.contains("in use")));
    p.ip = Some("10.1.0.50".parse().unwrap());
    p.mac = Some("52:54:00:00:00:01".into());
    s.create_port(id(4), &p, None).unwrap();
    p.ip = None;
    let e = unchanged_on_error(&mut s, |s| s.create_port(id(5), &p, None));
    assert!(matches!(e, VnetError::Conflict(m) if m.contains("MAC")));
    p.mac = None;
    p.security_groups = vec!["nope".into()];
    let e = unchanged_on_error(&mut s, |s| s.create_port(id(6), &p, None));
    assert!(matches!(e, VnetError::NotFound(_)));
}

#[test]
fn a_network_in_use_cannot_go() {
    let mut s = VnetState::default();
    s.create_network(id(1), net("blue", Some("10.1.0.0/24")))
        .unwrap();
    let p = s.create_port(id(2), &port("blue"), None).unwrap();
    let e = unchanged_on_error(&mut s, |s| s.delete_network("blue"));
    assert!(matches!(e, VnetError::Conflict(m) if m.contains("1 port")));
    s.delete_port(&p.id.to_string()).unwrap();
    s.delete_network("blue").unwrap();
    assert!(s.networks.is_empty());
}

#[test]
fn a_router_refuses_overlapping_subnets() {
    let mut s = VnetState::default();
    s.create_network(id(1), net("a", Some("10.1.0.0/16")))
        .unwrap();
    s.create_network(id(2), net("b", Some("10.1.5.0/24")))
        .unwrap();
    s.create_network(id(3), net("c", Some("10.2.0.0/24")))
        .unwrap();
    s.create_network(id(4), net("flat", None)).unwrap();
    s.create_router(id(5), "r").unwrap();
    s.attach("r", "a").unwrap();
    let e = unchanged_on_error(&mut s, |s| s.attach("r", "b"));
    assert!(matches!(e, VnetError::Conflict(m) if m.contains("overlaps")));
    s.attach("r", "c").unwrap();
    let e = unchanged_on_error(&mut s, |s| s.attach("r", "flat"));
    assert!(matches!(e, VnetError::Invalid(m) if m.contains("no subnet")));
    s.create_router(id(6), "r2").unwrap();
    let e = unchanged_on_error(&mut s, |s| s.attach("r2", "a"));
    assert!(matches!(e, VnetError::Conflict(m) if m.contains("one gateway")));
    let e = unchanged_on_error(&mut s, |s| s.delete_router("r"));
    assert!(matches!(e, VnetError::Conflict(_)));
}

#[test]
fn floating_ips_need_a_routed_port() {
    let mut s = VnetState::default();
    s.create_network(id(1), net("ext", Some("192.0.2.0/24")))
        .unwrap();
    s.create_network(id(2), net("in", Some("10.0.0.0/24")))
        .unwrap();
    let vm_port = s.create_port(id(3), &port("in"), None).unwrap();
    let fip = s
        .create_floating_ip(
            id(4),
            &FloatingIpCreate {
                external: "ext".into(),
                ip: None,
            },
        )
        .unwrap();
    assert_eq!(fip.ip, "192.0.2.2".parse::<std::net::Ipv4Addr>().unwrap());
    let e = unchanged_on_error(&mut s, |s| s.associate("192.0.2.2", &vm_port.name));
    assert!(matches!(e, VnetError::Conflict(_)));
    s.create_router(id(5), "r").unwrap();
    s.attach("r", "in").unwrap();
    let gw = s.set_gateway("r", "ext").unwrap();
    assert_eq!(gw.ip, "192.0.2.3".parse::<std::net::Ipv4Addr>().unwrap());
    let fip = s.associate(&fip.id.to_string(), &vm_port.name).unwrap();
    assert_eq!(fip.port, Some(vm_port.id));
    assert_eq!(s.fip_router(&fip).unwrap().name, "r");
    let e = unchanged_on_error(&mut s, |s| s.detach("r", "in"));
    assert!(matches!(e, VnetError::Conflict(m) if m.contains("192.0.2.2")));
    let e = unchanged_on_error(&mut s, |s| s.clear_gateway("r"));
    assert!(matches!(e, VnetError::Conflict(_)));
    // Deleting the port leaves the address allocated but unassociated.
    s.delete_port(&vm_port.name).unwrap();
    assert_eq!(s.floating_ips[&fip.id].port, None);
    s.clear_gateway("r").unwrap();
}

#[test]
fn rules_are_checked() {
    let mut s = VnetState::default();
    let web = s
        .create_security_group(
            id(1),
            [id(2)],
            &SecurityGroupCreate {
                name: "web".into(),
                description: String::new(),
            },
        )
        .unwrap();
    assert_eq!(web.rules.len(), 1, "egress allowed by default");
    let rule = |protocol, min, max, cidr: Option<&str>, group: Option<&str>| SecurityRuleCreate {
        direction: Direction::Ingress,
        protocol,
        port_min: min,
        port_max: max,
        remote_cidr: cidr.map(Into::into),
        remote_group: group.map(Into::into),
    };
    for (bad, why) in [
        (
            rule(Protocol::Tcp, Some(90), Some(80), None, None),
            "backwards",
        ),
        (
            rule(Protocol::Icmp, Some(1), None, None, None),
            "tcp and udp",
        ),
        (
            rule(Protocol::Tcp, None, None, Some("10.0.0.0/33"), None),
            "CIDR",
        ),
        (
            rule(Protocol::Tcp, None, None, Some("10.0.0.1/8"), None),
            "host bits",
        ),
    ] {
        let VnetError::Invalid(m) =
            unchanged_on_error(&mut s, |s| s.add_rule("web", id(9), bad.clone()))
        else {
            panic!("{bad:?}")
        };
        assert!(m.contains(why), "{m}");
    }
    let e = unchanged_on_error(&mut s, |s| {
        s.add_rule(
            "web",
            id(9),
            rule(Protocol::Any, None, None, None, Some("db")),
        )
    });
    assert!(matches!(e, VnetError::NotFound(_)));
    let r = s
        .add_rule(
            "web",
            id(10),
            rule(Protocol::Tcp, Some(80), None, None, None),
        )
        .unwrap();
    assert_eq!(r.spec.port_max, Some(80));
    let e = unchanged_on_error(&mut s, |s| {
        s.add_rule(
            "web",
            id(11),
            rule(Protocol::Tcp, Some(80), Some(80), None, None),
        )
    });
    assert!(matches!(e, VnetError::Conflict(_)));
    s.remove_rule("web", id(10)).unwrap();
    assert!(s.remove_rule("web", id(10)).is_err());
}

#[test]
fn load_balancers_check_members() {
    let mut s = VnetState::default();
    s.create_network(id(1), net("in", Some("10.0.0.0/24")))
        .unwrap();
    let backend = s.create_port(id(2), &port("in"), None).unwrap();
    let lb = |members: Vec<String>, health_check| LoadBalancerCreate {
        name: "web".into(),
        vip: "10.0.0.100:80".into(),
        members,
        protocol: LbProtocol::Tcp,
        network: "in".into(),
        health_check,
    };
    let e = unchanged_on_error(&mut s, |s| {
        s.create_load_balancer(id(3), lb(vec!["10.0.0.77:8080".into()], true))
    });
    assert!(matches!(e, VnetError::Invalid(m) if m.contains("10.0.0.77")));
    let e = unchanged_on_error(&mut s, |s| {
        s.create_load_balancer(id(3), lb(vec!["10.0.0.77".into()], false))
    });
    assert!(matches!(e, VnetError::Invalid(_)));
    let member = format!("{}:8080", backend.ip.unwrap());
    let made = s
        .create_load_balancer(id(3), lb(vec![member], true))
        .unwrap();
    assert!(made.health_source.is_some());
    // The VIP and the checker's address are taken.
    let next = s.create_port(id(4), &port("in"), None).unwrap().ip.unwrap();
    assert_ne!(Some(next), made.health_source);
    assert!(s.delete_network("in").is_err());
}

fn dual(name: &str, v4: &str, v6: &str) -> NetworkCreate {
    NetworkCreate {
        subnet6: Some(v6.into()),
        ..net(name, Some(v4))
    }
}

#[test]
fn ipv6_subnets_give_ports_their_eui64_address() {
    let mut s = VnetState::default();
    let n = s
        .create_network(id(1), dual("blue", "10.1.0.0/24", "fd00:1::/64"))
        .unwrap();
    assert_eq!(n.spec.gateway6, Some("fd00:1::1".parse().unwrap()));
    let mut request = port("blue");
    request.mac = Some("52:54:00:12:34:56".into());
    let p = s.create_port(id(2), &request, None).unwrap();
    assert_eq!(p.ip6, Some("fd00:1::5054:ff:fe12:3456".parse().unwrap()));
    assert!(p.ip.is_some());
    // An IPv6-only network: DHCP (stateless DHCPv6) is allowed, ports
    // get no IPv4 address.
    let mut only6 = net("v6only", None);
    only6.subnet6 = Some("fd00:2::/64".into());
    only6.dhcp = true;
    only6.dns = vec!["2001:db8::53".parse().unwrap()];
    s.create_network(id(3), only6).unwrap();
    let p = s.create_port(id(4), &port("v6only"), None).unwrap();
    assert_eq!(p.ip, None);
    assert!(
        p.ip6
            .is_some_and(|a| a.segments()[..4] == [0xfd00, 2, 0, 0])
    );
    // Ports of an IPv4-only network have no IPv6 address.
    s.create_network(id(5), net("plain", Some("10.5.0.0/24")))
        .unwrap();
    assert_eq!(
        s.create_port(id(6), &port("plain"), None).unwrap().ip6,
        None
    );
}

#[test]
fn ipv6_settings_are_checked() {
    let mut s = VnetState::default();
    for (subnet6, gateway6, want) in [
        ("fd00:1::/48", None, "/64"),
        ("fe80::/64", None, "unicast"),
        ("fd00:1::/64", Some("fd00:2::1"), "not a host address"),
        ("fd00:1::/64", Some("fd00:1::"), "not a host address"),
        ("fd00:1::/64", Some("fd00:1::211:22ff:fe33:4455"), "EUI-64"),
    ] {
        let mut spec = dual("blue", "10.1.0.0/24", subnet6);
        spec.gateway6 = gateway6.map(|g| g.parse().unwrap());
        let VnetError::Invalid(m) = unchanged_on_error(&mut s, |s| s.create_network(id(1), spec))
        else {
            panic!("{subnet6} {gateway6:?}")
        };
        assert!(m.contains(want), "{subnet6} {gateway6:?}: {m}");
    }
    let mut spec = net("blue", Some("10.1.0.0/24"));
    spec.gateway6 = Some("fd00:1::1".parse().unwrap());
    spec.dns = vec!["2001:db8::53".parse().unwrap()];
    let VnetError::Invalid(m) = unchanged_on_error(&mut s, |s| s.create_network(id(1), spec))
    else {
        panic!()
    };
    assert!(
        m.contains("IPv6 gateway needs") && m.contains("IPv6 DNS servers need"),
        "{m}"
    );
    let mut spec = net("green", None);
    spec.subnet6 = Some("fd00:1::/64".into());
    spec.dns = vec!["192.0.2.53".parse().unwrap()];
    let VnetError::Invalid(m) = unchanged_on_error(&mut s, |s| s.create_network(id(1), spec))
    else {
        panic!()
    };
    assert!(m.contains("IPv4 DNS servers need"), "{m}");
}

#[test]
fn a_router_refuses_overlapping_ipv6_subnets() {
    let mut s = VnetState::default();
    s.create_network(id(1), dual("a", "10.1.0.0/24", "fd00:1::/64"))
        .unwrap();
    s.create_network(id(2), dual("b", "10.2.0.0/24", "fd00:1::/64"))
        .unwrap();
    s.create_network(id(3), dual("c", "10.3.0.0/24", "fd00:3::/64"))
        .unwrap();
    s.create_router(id(4), "r").unwrap();
    s.attach("r", "a").unwrap();
    let VnetError::Conflict(m) = unchanged_on_error(&mut s, |s| s.attach("r", "b")) else {
        panic!()
    };
    assert!(m.contains("fd00:1::/64"), "{m}");
    s.attach("r", "c").unwrap();
    // The external network's IPv6 subnet is not routed: it may repeat one.
    s.create_network(id(5), dual("ext", "192.0.2.0/24", "fd00:1::/64"))
        .unwrap();
    s.set_gateway("r", "ext").unwrap();
}

#[test]
fn rules_take_ipv6_cidrs() {
    let mut s = VnetState::default();
    s.create_security_group(
        id(1),
        [id(2)],
        &SecurityGroupCreate {
            name: "web".into(),
            description: String::new(),
        },
    )
    .unwrap();
    let mut rule = SecurityRuleCreate {
        direction: Direction::Ingress,
        protocol: Protocol::Icmp,
        port_min: None,
        port_max: None,
        remote_cidr: Some("2001:DB8::/32".into()),
        remote_group: None,
    };
    let added = s.add_rule("web", id(3), rule.clone()).unwrap();
    assert_eq!(added.spec.remote_cidr.as_deref(), Some("2001:db8::/32"));
    rule.remote_cidr = Some("2001:db8::1/32".into());
    let VnetError::Invalid(m) = unchanged_on_error(&mut s, |s| s.add_rule("web", id(4), rule))
    else {
        panic!()
    };
    assert!(m.contains("host bits"), "{m}");
}
