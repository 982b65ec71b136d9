use super::*;
use crate::nb::converge::Want;
use lqx_api::{
    FloatingIpCreate, LoadBalancerCreate, NetworkCreate, PortCreate, SecurityGroupCreate,
    SecurityRuleCreate,
};
use std::collections::HashSet;
use uuid::Uuid;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn network(name: &str, subnet: &str) -> NetworkCreate {
    NetworkCreate {
        name: name.into(),
        subnet: Some(subnet.into()),
        subnet6: None,
        gateway: None,
        gateway6: None,
        dhcp: true,
        dns: vec!["192.0.2.53".parse().unwrap()],
        mtu: Some(1400),
        physnet: None,
        vlan: None,
    }
}

/// A state with one of everything.
fn everything() -> VnetState {
    let mut s = VnetState::default();
    let mut ext = network("ext", "192.0.2.0/24");
    ext.physnet = Some("physnet1".into());
    ext.dhcp = false;
    s.create_network(id(1), ext).unwrap();
    let mut blue = network("blue", "10.0.0.0/24");
    blue.subnet6 = Some("fd00:b::/64".into());
    blue.dns.push("2001:db8::53".parse().unwrap());
    s.create_network(id(2), blue).unwrap();
    s.create_security_group(
        id(3),
        [id(4)],
        &SecurityGroupCreate {
            name: "web".into(),
            description: String::new(),
        },
    )
    .unwrap();
    s.add_rule(
        "web",
        id(5),
        SecurityRuleCreate {
            direction: Direction::Ingress,
            protocol: Protocol::Tcp,
            port_min: Some(80),
            port_max: Some(89),
            remote_cidr: None,
            remote_group: Some("web".into()),
        },
    )
    .unwrap();
    s.add_rule(
        "web",
        id(10),
        SecurityRuleCreate {
            direction: Direction::Ingress,
            protocol: Protocol::Icmp,
            port_min: None,
            port_max: None,
            remote_cidr: Some("fd00::/16".into()),
            remote_group: None,
        },
    )
    .unwrap();
    let port = s
        .create_port(
            id(6),
            &PortCreate {
                name: Some("vm1".into()),
                network: "blue".into(),
                ip: None,
                mac: None,
                security_groups: vec!["web".into()],
            },
            None,
        )
        .unwrap();
    s.create_router(id(7), "edge").unwrap();
    s.attach("edge", "blue").unwrap();
    s.set_gateway("edge", "ext").unwrap();
    let fip = s
        .create_floating_ip(
            id(8),
            &FloatingIpCreate {
                external: "ext".into(),
                ip: None,
            },
        )
        .unwrap();
    s.associate(&fip.ip.to_string(), &port.name).unwrap();
    s.create_load_balancer(
        id(9),
        LoadBalancerCreate {
            name: "www".into(),
            vip: "10.0.0.200:80".into(),
            members: vec![format!("{}:8080", port.ip.unwrap())],
            protocol: LbProtocol::Tcp,
            network: "blue".into(),
            health_check: true,
        },
    )
    .unwrap();
    s
}

fn find<'a>(rows: &'a [DesiredRow], key: &str) -> &'a DesiredRow {
    rows.iter()
        .find(|r| r.key == key)
        .unwrap_or_else(|| panic!("no row {key}"))
}

fn datum<'a>(row: &'a DesiredRow, column: &str) -> &'a Datum {
    match &row.columns[column] {
        Want::Datum(d) => d,
        Want::Refs(_) => panic!("{column} holds references"),
    }
}

fn text(row: &DesiredRow, column: &str) -> String {
    datum(row, column).as_str().unwrap_or_default().to_owned()
}

/// A map column as `key=value` strings, sorted.
fn pairs(row: &DesiredRow, column: &str) -> Vec<String> {
    let mut out: Vec<String> = datum(row, column)
        .pairs()
        .iter()
        .map(|(k, v)| format!("{}={}", k.as_str().unwrap(), v.as_str().unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn every_reference_is_to_a_row_of_the_model_and_keys_are_unique() {
    let rows = desired_rows(&everything(), &["hv1".into(), "hv2".into()]);
    let keys: HashSet<(&str, &str)> = rows.iter().map(|r| (r.table, r.key.as_str())).collect();
    assert_eq!(keys.len(), rows.len(), "a key is used twice");
    let mut referenced = HashSet::new();
    for row in &rows {
        for value in row.columns.values() {
            if let Want::Refs(refs) = value {
                for r in refs {
                    assert!(keys.contains(&(r.table, r.key.as_str())), "{r:?} dangles");
                    referenced.insert((r.table, r.key.as_str()));
                }
            }
        }
    }
    // Non-root rows vanish unless referenced: every one must be.
    for row in &rows {
        let root = TABLES.iter().find(|t| t.name == row.table).unwrap().root;
        assert!(
            root || referenced.contains(&(row.table, row.key.as_str())),
            "{} {} unreferenced",
            row.table,
            row.key
        );
    }
    // And every table written is one converge knows.
    for row in &rows {
        let table = TABLES.iter().find(|t| t.name == row.table).unwrap();
        for column in row.columns.keys() {
            assert!(
                *column == "external_ids" || table.columns.contains(column),
                "{}.{column}",
                row.table
            );
        }
    }
}

#[test]
fn rules_and_nat_read_as_ovn_expects() {
    let state = everything();
    let rows = desired_rows(&state, &["hv1".into(), "hv2".into()]);
    let pg = port_group_name(id(3));
    let set = address_set_name(id(3));
    let set6 = lqx_core::vnet::address_set6_name(id(3));
    assert_eq!(
        text(find(&rows, &format!("rule:{}", id(5))), "match"),
        format!(
            "outport == @{pg} && ip && (ip4.src == ${set} || ip6.src == ${set6}) && tcp && tcp.dst >= 80 && tcp.dst <= 89"
        )
    );
    assert_eq!(
        text(find(&rows, &format!("rule:{}", id(4))), "match"),
        format!("inport == @{pg} && ip")
    );
    // A CIDR keeps the rule to its family.
    assert_eq!(
        text(find(&rows, &format!("rule:{}", id(10))), "match"),
        format!("outport == @{pg} && ip6 && ip6.src == fd00::/16 && icmp6")
    );
    let fip = state.floating_ips.values().next().unwrap();
    let nat = find(&rows, &format!("fip:{}", fip.id));
    assert_eq!(text(nat, "type"), "dnat_and_snat");
    assert_eq!(text(nat, "external_ip"), fip.ip.to_string());
    assert_eq!(text(nat, "logical_ip"), "10.0.0.2");
    let snat = find(&rows, &format!("snat:{}:{}", id(7), id(2)));
    assert_eq!(text(snat, "logical_ip"), "10.0.0.0/24");
    // Two chassis, priorities 2 and 1.
    let gcs: Vec<_> = rows
        .iter()
        .filter(|r| r.table == "Gateway_Chassis")
        .collect();
    assert_eq!(gcs.len(), 2);
}

#[test]
fn ipv6_is_slaac_with_stateless_dhcp() {
    let state = everything();
    let rows = desired_rows(&state, &["hv1".into()]);
    let port = &state.ports["vm1"];
    let ip6 = port.ip6.expect("an EUI-64 address");
    let lsp = find(&rows, &format!("port:{}", port.id));
    let addresses = format!("{} {} {ip6}", port.mac, port.ip.unwrap());
    assert_eq!(text(lsp, "addresses"), addresses);
    assert_eq!(text(lsp, "port_security"), addresses);
    let Want::Refs(dhcp6) = &lsp.columns["dhcpv6_options"] else {
        panic!("dhcpv6_options");
    };
    assert_eq!(dhcp6[0].key, format!("dhcp6:{}", id(2)));
    let options = find(&rows, &format!("dhcp6:{}", id(2)));
    assert_eq!(text(options, "cidr"), "fd00:b::/64");
    let want = [
        "dhcpv6_stateless=true".to_owned(),
        "dns_server={2001:db8::53}".to_owned(),
        format!("server_id={}", router_port_mac(id(2), id(2))),
    ];
    assert_eq!(pairs(options, "options"), want);
    // DHCPv4 hands out the IPv4 DNS server only.
    let v4 = pairs(find(&rows, &format!("dhcp:{}", id(2))), "options");
    assert!(v4.contains(&"dns_server={192.0.2.53}".to_owned()), "{v4:?}");
    // The router port carries both gateways and advertises the prefix.
    let rp = find(&rows, &format!("rp:{}:{}", id(7), id(2)));
    let mut networks: Vec<&str> = datum(rp, "networks")
        .atoms()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    networks.sort_unstable();
    assert_eq!(networks, ["10.0.0.1/24", "fd00:b::1/64"]);
    let ra = pairs(rp, "ipv6_ra_configs");
    assert!(
        ra.contains(&"address_mode=dhcpv6_stateless".to_owned()),
        "{ra:?}"
    );
    assert!(ra.contains(&"mtu=1400".to_owned()), "{ra:?}");
    // The external port is IPv4 only.
    let ext = find(&rows, &format!("rp:{}:{}", id(7), id(1)));
    assert!(pairs(ext, "ipv6_ra_configs").is_empty());
}

#[test]
fn gateways_go_to_chassis_with_a_bridge_for_the_external_network() {
    let state = everything();
    let gateway_hosts = |chassis: &[GatewayCandidate]| -> Vec<String> {
        let mut names: Vec<String> = desired_rows(&state, chassis)
            .iter()
            .filter(|r| r.table == "Gateway_Chassis")
            .map(|r| text(r, "chassis_name"))
            .collect();
        names.sort();
        names
    };
    let mapped = GatewayCandidate {
        name: "hv2".into(),
        physnets: vec!["other".into(), "physnet1".into()],
    };
    // Only hv2 reaches physnet1.
    assert_eq!(gateway_hosts(&["hv1".into(), mapped.clone()]), ["hv2"]);
    // A bridge for another network does not count; with no chassis
    // reporting physnet1, every chassis is a candidate.
    let elsewhere = GatewayCandidate {
        name: "hv3".into(),
        physnets: vec!["other".into()],
    };
    assert_eq!(gateway_hosts(&["hv1".into(), elsewhere]), ["hv1", "hv3"]);
}

#[test]
fn nothing_in_nothing_out() {
    assert!(desired_rows(&VnetState::default(), &[]).is_empty());
}
