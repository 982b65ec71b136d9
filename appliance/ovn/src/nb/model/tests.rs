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
        gateway: None,
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
    s.create_network(id(2), network("blue", "10.0.0.0/24"))
        .unwrap();
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

fn text(row: &DesiredRow, column: &str) -> String {
    match &row.columns[column] {
        Want::Datum(d) => d.as_str().unwrap_or_default().to_owned(),
        Want::Refs(_) => panic!("{column} holds references"),
    }
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
    assert_eq!(
        text(find(&rows, &format!("rule:{}", id(5))), "match"),
        format!(
            "outport == @{pg} && ip4 && ip4.src == ${set} && tcp && tcp.dst >= 80 && tcp.dst <= 89"
        )
    );
    assert_eq!(
        text(find(&rows, &format!("rule:{}", id(4))), "match"),
        format!("inport == @{pg} && ip4")
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
