//! The northbound rows of the cluster's virtual networks: what each
//! network, router, floating IP, security group, load balancer and port
//! is in OVN's terms.
//!
//! - a network: a `Logical_Switch`; with DHCP, a `DHCP_Options` row its
//!   ports point at; a provider network, a `localnet` port.
//! - a network with an IPv6 subnet and DHCP: a second, stateless
//!   `DHCP_Options` row (DNS only: addresses come from SLAAC).
//! - a port: a `Logical_Switch_Port` with its MAC and addresses (IPv4,
//!   and its EUI-64 IPv6 one) as `addresses` and `port_security`.
//! - a router: a `Logical_Router`, a router port and a switch port of
//!   type `router` per attached network (advertising an IPv6 subnet's
//!   prefix for SLAAC); with a gateway, a router port on
//!   the external network scheduled on every chassis with priorities
//!   (`Gateway_Chassis`), a default route and an SNAT rule per attached
//!   network. A floating IP is a `dnat_and_snat` rule on it.
//! - a security group: a `Port_Group` of its ports with one `ACL` per
//!   rule (`allow-related`, priority 1002); rules naming a group as peer
//!   match ovn-northd's own address sets of its port group's addresses
//!   (`$PG_ip4`, `$PG_ip6`: a set of ours by that name would collide with it in the
//!   southbound database); every port in any group is also in
//!   [`DROP_GROUP`], whose ACLs (priority 1001) drop the rest.
//! - a load balancer: a `Load_Balancer` on its network's switch and
//!   router, with a health check when asked.

use super::converge::{DesiredRow, ManagedTable, RowRef};
use lqx_api::{Direction, LbProtocol, Port, Protocol, SecurityRule};
use lqx_core::vnet::addresses::{router_port_mac, subnet_of, subnet6_of};
use lqx_core::vnet::{
    DROP_GROUP, RouterRecord, VnetState, address_set_name, address_set6_name, lsp_name,
    port_group_name,
};
use lqx_ovsdb::{Atom, Datum};
use std::collections::BTreeMap;
use std::net::IpAddr;

const LS: &str = "Logical_Switch";
const LSP: &str = "Logical_Switch_Port";
const DHCP: &str = "DHCP_Options";
const LR: &str = "Logical_Router";
const LRP: &str = "Logical_Router_Port";
const GC: &str = "Gateway_Chassis";
const NAT: &str = "NAT";
const ROUTE: &str = "Logical_Router_Static_Route";
const PG: &str = "Port_Group";
const ACL: &str = "ACL";
const LB: &str = "Load_Balancer";
const HC: &str = "Load_Balancer_Health_Check";

/// The tables written, referenced ones first.
pub const TABLES: &[ManagedTable] = &[
    ManagedTable {
        name: DHCP,
        root: true,
        columns: &["cidr", "options"],
    },
    ManagedTable {
        name: ACL,
        root: false,
        columns: &["priority", "direction", "match", "action"],
    },
    ManagedTable {
        name: HC,
        root: false,
        columns: &["vip", "options"],
    },
    ManagedTable {
        name: LB,
        root: true,
        columns: &[
            "name",
            "vips",
            "protocol",
            "health_check",
            "ip_port_mappings",
        ],
    },
    ManagedTable {
        name: LSP,
        root: false,
        columns: &[
            "name",
            "type",
            "addresses",
            "port_security",
            "options",
            "tag",
            "dhcpv4_options",
            "dhcpv6_options",
            "up",
        ],
    },
    ManagedTable {
        name: GC,
        root: false,
        columns: &["name", "chassis_name", "priority"],
    },
    ManagedTable {
        name: LRP,
        root: false,
        columns: &[
            "name",
            "mac",
            "networks",
            "gateway_chassis",
            "ipv6_ra_configs",
        ],
    },
    ManagedTable {
        name: NAT,
        root: false,
        columns: &["type", "external_ip", "logical_ip"],
    },
    ManagedTable {
        name: ROUTE,
        root: false,
        columns: &["ip_prefix", "nexthop"],
    },
    ManagedTable {
        name: LS,
        root: true,
        columns: &["name", "ports", "load_balancer"],
    },
    ManagedTable {
        name: LR,
        root: true,
        columns: &["name", "ports", "nat", "static_routes", "load_balancer"],
    },
    ManagedTable {
        name: PG,
        root: true,
        columns: &["name", "ports", "acls"],
    },
];

/// At most this many chassis host a router's gateway port.
const MAX_GATEWAY_CHASSIS: usize = 5;

fn s(text: &str) -> Datum {
    Datum::scalar(text)
}

fn names(pairs: &[(&str, &str)]) -> Datum {
    Datum::string_map(pairs.iter().copied())
}

fn r(table: &'static str, key: String) -> RowRef {
    RowRef { table, key }
}

fn lsp_key(port: &Port) -> String {
    format!("port:{}", port.id)
}

fn lrp_name(router: &RouterRecord, network: uuid::Uuid) -> String {
    format!("lqx-rp-{}-{}", router.id.simple(), network.simple())
}

/// A chassis as gateway scheduling sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayCandidate {
    /// Its name.
    pub name: String,
    /// The provider networks it has a bridge for.
    pub physnets: Vec<String>,
}

impl From<&str> for GatewayCandidate {
    /// A chassis that reports no bridge mappings.
    fn from(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            physnets: Vec::new(),
        }
    }
}

/// The chassis that can host a gateway on a network of `physnet`: those
/// with a bridge for it. A gateway elsewhere could not reach the wire.
/// When no chassis reports one (mappings not known), every chassis, so
/// a gateway is still scheduled.
fn gateway_chassis(candidates: &[GatewayCandidate], physnet: Option<&str>) -> Vec<String> {
    let all = || candidates.iter().map(|c| c.name.clone()).collect();
    let Some(physnet) = physnet else {
        return all();
    };
    let mapped: Vec<String> = candidates
        .iter()
        .filter(|c| c.physnets.iter().any(|p| p == physnet))
        .map(|c| c.name.clone())
        .collect();
    if mapped.is_empty() { all() } else { mapped }
}

/// A stable spread of routers over chassis: each router orders the
/// chassis by a hash of both names, so gateways do not all land on the
/// same host.
fn chassis_order(router: &RouterRecord, chassis: &[String]) -> Vec<String> {
    let mut ordered: Vec<(u64, &String)> = chassis
        .iter()
        .map(|c| {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in router.id.as_bytes().iter().chain(c.as_bytes()) {
                h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            }
            (h, c)
        })
        .collect();
    ordered.sort();
    ordered
        .into_iter()
        .take(MAX_GATEWAY_CHASSIS)
        .map(|(_, c)| c.clone())
        .collect()
}

fn acl_match(group: &str, rule: &SecurityRule, state: &VnetState) -> String {
    let spec = &rule.spec;
    let (port, peer) = match spec.direction {
        Direction::Ingress => ("outport", "src"),
        Direction::Egress => ("inport", "dst"),
    };
    // A CIDR limits the rule to its family; otherwise it covers both.
    let family = spec
        .remote_cidr
        .as_deref()
        .map(|c| if c.contains(':') { "ip6" } else { "ip4" });
    let mut m = format!("{port} == @{group} && {}", family.unwrap_or("ip"));
    if let (Some(cidr), Some(family)) = (&spec.remote_cidr, family) {
        m.push_str(&format!(" && {family}.{peer} == {cidr}"));
    }
    if let Some(peer_group) = spec
        .remote_group
        .as_ref()
        .and_then(|g| state.security_groups.get(g))
    {
        m.push_str(&format!(
            " && (ip4.{peer} == ${} || ip6.{peer} == ${})",
            address_set_name(peer_group.id),
            address_set6_name(peer_group.id)
        ));
    }
    let l4 = match spec.protocol {
        Protocol::Tcp => Some("tcp"),
        Protocol::Udp => Some("udp"),
        Protocol::Icmp => {
            m.push_str(match family {
                Some("ip4") => " && icmp4",
                Some(_) => " && icmp6",
                None => " && (icmp4 || icmp6)",
            });
            None
        }
        Protocol::Any => None,
    };
    if let Some(l4) = l4 {
        m.push_str(&format!(" && {l4}"));
        match (spec.port_min, spec.port_max) {
            (Some(a), Some(b)) if a == b => m.push_str(&format!(" && {l4}.dst == {a}")),
            (Some(a), Some(b)) => {
                m.push_str(&format!(" && {l4}.dst >= {a} && {l4}.dst <= {b}"));
            }
            _ => {}
        }
    }
    m
}

/// The options of a network's DHCPv6 server: stateless (addresses come
/// from SLAAC), handing out the IPv6 DNS servers.
fn dhcp6_options(net: &lqx_core::vnet::NetworkRecord) -> Vec<(&'static str, String)> {
    let mut options = vec![
        ("server_id", router_port_mac(net.id, net.id)),
        ("dhcpv6_stateless", "true".to_owned()),
    ];
    options.extend(dns_servers(net, IpAddr::is_ipv6).map(|d| ("dns_server", d)));
    options
}

/// The network's DNS servers of one family (`keep`) as a DHCP option
/// value (`{a, b}`), if it has any.
fn dns_servers(
    net: &lqx_core::vnet::NetworkRecord,
    keep: impl Fn(&IpAddr) -> bool,
) -> Option<String> {
    let list: Vec<String> = net
        .spec
        .dns
        .iter()
        .filter(|d| keep(d))
        .map(ToString::to_string)
        .collect();
    (!list.is_empty()).then(|| format!("{{{}}}", list.join(", ")))
}

/// A router port's advertisements on an attached network with an IPv6
/// subnet: the prefix for SLAAC, and with DHCP the "other configuration"
/// flag that sends guests to DHCPv6 for DNS.
fn ra_configs(net: &lqx_core::vnet::NetworkRecord) -> Vec<(&'static str, String)> {
    let mode = if net.spec.dhcp {
        "dhcpv6_stateless"
    } else {
        "slaac"
    };
    let mut configs = vec![
        ("address_mode", mode.to_owned()),
        ("send_periodic", "true".to_owned()),
        // Guests that missed the answer to their solicitation learn the
        // prefix within a minute rather than the default ten.
        ("max_interval", "60".to_owned()),
        ("min_interval", "20".to_owned()),
    ];
    if let Some(mtu) = net.spec.mtu {
        configs.push(("mtu", mtu.to_string()));
    }
    configs
}

/// An empty map column (the server refuses an empty set there).
fn empty_map() -> Datum {
    Datum::map([])
}

fn string_pairs(pairs: &[(&'static str, String)]) -> Datum {
    Datum::string_map(pairs.iter().map(|(k, v)| (*k, v.as_str())))
}

/// Every northbound row of `state`, given the chassis (and the provider
/// networks each has a bridge for) a gateway may be scheduled on.
pub fn desired_rows(state: &VnetState, chassis: &[GatewayCandidate]) -> Vec<DesiredRow> {
    let mut rows = Vec::new();
    // Per network: its switch's ports and load balancers, filled below.
    let mut switch_ports: BTreeMap<&str, Vec<RowRef>> = BTreeMap::new();
    let mut switch_lbs: BTreeMap<&str, Vec<RowRef>> = BTreeMap::new();

    for net in state.networks.values() {
        let spec = &net.spec;
        if spec.dhcp
            && let (Some(subnet), Some(gateway)) = (subnet_of(state, &spec.name), spec.gateway)
        {
            let gw = gateway.to_string();
            let mac = router_port_mac(net.id, net.id);
            let mut options = vec![
                ("lease_time", "3600".to_owned()),
                ("router", gw.clone()),
                ("server_id", gw),
                ("server_mac", mac),
            ];
            options.extend(dns_servers(net, IpAddr::is_ipv4).map(|d| ("dns_server", d)));
            if let Some(mtu) = spec.mtu {
                options.push(("mtu", mtu.to_string()));
            }
            let options: Vec<(&str, &str)> =
                options.iter().map(|(k, v)| (*k, v.as_str())).collect();
            rows.push(
                DesiredRow::new(DHCP, format!("dhcp:{}", net.id))
                    .set("cidr", s(&subnet.to_string()))
                    .set("options", names(&options)),
            );
        }
        if spec.dhcp
            && let Some(subnet) = subnet6_of(state, &spec.name)
        {
            rows.push(
                DesiredRow::new(DHCP, format!("dhcp6:{}", net.id))
                    .set("cidr", s(&subnet.to_string()))
                    .set("options", string_pairs(&dhcp6_options(net))),
            );
        }
        if let Some(physnet) = &spec.physnet {
            let row = DesiredRow::new(LSP, format!("localnet:{}", net.id))
                .set("name", s(&format!("lqx-ln-{}", net.id.simple())))
                .set("type", s("localnet"))
                .set("addresses", s("unknown"))
                .set("options", names(&[("network_name", physnet)]))
                .set(
                    "tag",
                    spec.vlan
                        .map_or_else(Datum::empty, |v| Datum::scalar(Atom::Integer(v.into()))),
                );
            switch_ports
                .entry(&spec.name)
                .or_default()
                .push(row.reference());
            rows.push(row);
        }
    }

    for port in state.ports.values() {
        let Some(net) = state.networks.get(&port.network) else {
            continue;
        };
        let mut address = port.mac.clone();
        for ip in port
            .ip
            .map(IpAddr::V4)
            .into_iter()
            .chain(port.ip6.map(IpAddr::V6))
        {
            address.push_str(&format!(" {ip}"));
        }
        let dhcp = if net.spec.dhcp && port.ip.is_some() && net.spec.subnet.is_some() {
            vec![r(DHCP, format!("dhcp:{}", net.id))]
        } else {
            vec![]
        };
        // A port has an IPv6 address only on a network with an IPv6 subnet.
        let dhcp6 = if net.spec.dhcp && port.ip6.is_some() {
            vec![r(DHCP, format!("dhcp6:{}", net.id))]
        } else {
            vec![]
        };
        let row = DesiredRow::new(LSP, lsp_key(port))
            .set("name", s(&lsp_name(port)))
            .set("addresses", s(&address))
            .set("port_security", s(&address))
            .set("external_ids", names(&[("lqx-port", &port.name)]))
            .refs("dhcpv4_options", dhcp)
            .refs("dhcpv6_options", dhcp6);
        switch_ports
            .entry(&port.network)
            .or_default()
            .push(row.reference());
        rows.push(row);
    }

    for router in state.routers.values() {
        let mut ports = Vec::new();
        let mut nats = Vec::new();
        let mut routes = Vec::new();
        for name in &router.networks {
            let Some(net) = state.networks.get(name) else {
                continue;
            };
            let mut networks = Vec::new();
            if let (Some(subnet), Some(gateway)) = (subnet_of(state, name), net.spec.gateway) {
                networks.push(format!("{gateway}/{}", subnet.prefix_len()));
            }
            let mut ra = Vec::new();
            if let (Some(subnet), Some(gateway)) = (subnet6_of(state, name), net.spec.gateway6) {
                networks.push(format!("{gateway}/{}", subnet.prefix_len()));
                ra = ra_configs(net);
            }
            if networks.is_empty() {
                continue;
            }
            let networks: Vec<Atom> = networks.into_iter().map(Atom::from).collect();
            let lrp = lrp_name(router, net.id);
            let rp = DesiredRow::new(LRP, format!("rp:{}:{}", router.id, net.id))
                .set("name", s(&lrp))
                .set("mac", s(&router_port_mac(router.id, net.id)))
                .set("networks", Datum::set(networks))
                .set("ipv6_ra_configs", string_pairs(&ra));
            ports.push(rp.reference());
            rows.push(rp);
            let sp = DesiredRow::new(LSP, format!("rs:{}:{}", router.id, net.id))
                .set(
                    "name",
                    s(&format!(
                        "lqx-rs-{}-{}",
                        router.id.simple(),
                        net.id.simple()
                    )),
                )
                .set("type", s("router"))
                .set("addresses", s("router"))
                .set("options", names(&[("router-port", &lrp)]));
            switch_ports.entry(name).or_default().push(sp.reference());
            rows.push(sp);
        }
        if let Some(gw) = &router.gateway
            && let (Some(ext), Some(subnet)) = (
                state.networks.get(&gw.network),
                subnet_of(state, &gw.network),
            )
        {
            let lrp = lrp_name(router, ext.id);
            let eligible = gateway_chassis(chassis, ext.spec.physnet.as_deref());
            let order = chassis_order(router, &eligible);
            let mut gcs = Vec::new();
            for (rank, c) in order.iter().enumerate() {
                let priority = (order.len() - rank) as i64;
                let row = DesiredRow::new(GC, format!("gc:{}:{c}", router.id))
                    .set("name", s(&format!("{lrp}-{c}")))
                    .set("chassis_name", s(c))
                    .set("priority", Datum::scalar(Atom::Integer(priority)));
                gcs.push(row.reference());
                rows.push(row);
            }
            let rp = DesiredRow::new(LRP, format!("rp:{}:{}", router.id, ext.id))
                .set("name", s(&lrp))
                .set("mac", s(&router_port_mac(router.id, ext.id)))
                .set("networks", s(&format!("{}/{}", gw.ip, subnet.prefix_len())))
                .set("ipv6_ra_configs", empty_map())
                .refs("gateway_chassis", gcs);
            ports.push(rp.reference());
            rows.push(rp);
            let sp = DesiredRow::new(LSP, format!("rs:{}:{}", router.id, ext.id))
                .set(
                    "name",
                    s(&format!(
                        "lqx-rs-{}-{}",
                        router.id.simple(),
                        ext.id.simple()
                    )),
                )
                .set("type", s("router"))
                .set("addresses", s("router"))
                .set("options", names(&[("router-port", &lrp)]));
            switch_ports
                .entry(&gw.network)
                .or_default()
                .push(sp.reference());
            rows.push(sp);
            if let Some(next_hop) = ext.spec.gateway {
                let row = DesiredRow::new(ROUTE, format!("route:{}", router.id))
                    .set("ip_prefix", s("0.0.0.0/0"))
                    .set("nexthop", s(&next_hop.to_string()));
                routes.push(row.reference());
                rows.push(row);
            }
            for name in &router.networks {
                let (Some(net), Some(inner)) = (state.networks.get(name), subnet_of(state, name))
                else {
                    continue;
                };
                let row = DesiredRow::new(NAT, format!("snat:{}:{}", router.id, net.id))
                    .set("type", s("snat"))
                    .set("external_ip", s(&gw.ip.to_string()))
                    .set("logical_ip", s(&inner.to_string()));
                nats.push(row.reference());
                rows.push(row);
            }
            for fip in state.floating_ips.values() {
                let translated = state.fip_router(fip).is_some_and(|fr| fr.id == router.id);
                let port_ip = fip
                    .port
                    .and_then(|id| state.ports.values().find(|p| p.id == id))
                    .and_then(|p| p.ip);
                if let (true, Some(ip)) = (translated, port_ip) {
                    let row = DesiredRow::new(NAT, format!("fip:{}", fip.id))
                        .set("type", s("dnat_and_snat"))
                        .set("external_ip", s(&fip.ip.to_string()))
                        .set("logical_ip", s(&ip.to_string()));
                    nats.push(row.reference());
                    rows.push(row);
                }
            }
        }
        let lbs: Vec<RowRef> = state
            .load_balancers
            .values()
            .filter(|lb| router.networks.contains(&lb.spec.network))
            .map(|lb| r(LB, format!("lb:{}", lb.id)))
            .collect();
        rows.push(
            DesiredRow::new(LR, format!("router:{}", router.id))
                .set("name", s(&format!("lqx-{}", router.name)))
                .set("external_ids", names(&[("lqx-router", &router.name)]))
                .refs("ports", ports)
                .refs("nat", nats)
                .refs("static_routes", routes)
                .refs("load_balancer", lbs),
        );
    }

    for lb in state.load_balancers.values() {
        let protocol = match lb.spec.protocol {
            LbProtocol::Tcp => "tcp",
            LbProtocol::Udp => "udp",
        };
        let mut row = DesiredRow::new(LB, format!("lb:{}", lb.id))
            .set("name", s(&format!("lqx-{}", lb.spec.name)))
            .set("protocol", s(protocol))
            .set(
                "vips",
                names(&[(lb.spec.vip.as_str(), lb.spec.members.join(",").as_str())]),
            )
            .set("external_ids", names(&[("lqx-lb", &lb.spec.name)]));
        if let Some(source) = lb.health_source {
            let check = DesiredRow::new(HC, format!("hc:{}", lb.id))
                .set("vip", s(&lb.spec.vip))
                .set(
                    "options",
                    names(&[
                        ("interval", "5"),
                        ("timeout", "3"),
                        ("success_count", "2"),
                        ("failure_count", "2"),
                    ]),
                );
            let mut mappings = Vec::new();
            for member in &lb.spec.members {
                let ip = member
                    .rsplit_once(':')
                    .map_or(member.as_str(), |(ip, _)| ip);
                if let Some(port) = state.ports.values().find(|p| {
                    p.network == lb.spec.network
                        && p.ip.map(|a| a.to_string()).as_deref() == Some(ip)
                }) {
                    mappings.push((ip.to_owned(), format!("{}:{source}", lsp_name(port))));
                }
            }
            let mappings: Vec<(&str, &str)> = mappings
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            row = row
                .refs("health_check", vec![check.reference()])
                .set("ip_port_mappings", names(&mappings));
            rows.push(check);
        } else {
            row = row
                .refs("health_check", vec![])
                .set("ip_port_mappings", empty_map());
        }
        switch_lbs
            .entry(&lb.spec.network)
            .or_default()
            .push(row.reference());
        rows.push(row);
    }

    for net in state.networks.values() {
        let name = net.spec.name.as_str();
        rows.push(
            DesiredRow::new(LS, format!("network:{}", net.id))
                .set("name", s(&format!("lqx-{name}")))
                .set("external_ids", names(&[("lqx-network", name)]))
                .refs("ports", switch_ports.remove(name).unwrap_or_default())
                .refs("load_balancer", switch_lbs.remove(name).unwrap_or_default()),
        );
    }

    let mut filtered = Vec::new();
    for group in state.security_groups.values() {
        let pg = port_group_name(group.id);
        let members: Vec<&Port> = state
            .ports
            .values()
            .filter(|p| p.security_groups.contains(&group.name))
            .collect();
        let mut acls = Vec::new();
        for rule in &group.rules {
            let direction = match rule.spec.direction {
                Direction::Ingress => "to-lport",
                Direction::Egress => "from-lport",
            };
            let row = DesiredRow::new(ACL, format!("rule:{}", rule.id))
                .set("priority", Datum::scalar(Atom::Integer(1002)))
                .set("direction", s(direction))
                .set("match", s(&acl_match(&pg, rule, state)))
                .set("action", s("allow-related"));
            acls.push(row.reference());
            rows.push(row);
        }
        let ports: Vec<RowRef> = members.iter().map(|p| r(LSP, lsp_key(p))).collect();
        filtered.extend(ports.iter().cloned());
        rows.push(
            DesiredRow::new(PG, format!("sg:{}", group.id))
                .set("name", s(&pg))
                .set("external_ids", names(&[("lqx-sg", &group.name)]))
                .refs("ports", ports)
                .refs("acls", acls),
        );
    }
    if !state.security_groups.is_empty() {
        filtered.sort();
        filtered.dedup();
        let mut acls = Vec::new();
        for (key, direction, m) in [
            (
                "drop:in",
                "to-lport",
                format!("outport == @{DROP_GROUP} && ip"),
            ),
            (
                "drop:out",
                "from-lport",
                format!("inport == @{DROP_GROUP} && ip"),
            ),
            // DHCP requests, whatever the egress rules: OVN answers them
            // in a stage after the ACLs. (Neighbour discovery and router
            // solicitations ovn-northd lets through itself.)
            (
                "dhcp:out",
                "from-lport",
                format!("inport == @{DROP_GROUP} && udp && udp.src == 68 && udp.dst == 67"),
            ),
            (
                "dhcp6:out",
                "from-lport",
                format!(
                    "inport == @{DROP_GROUP} && ip6 && udp && udp.src == 546 && udp.dst == 547"
                ),
            ),
        ] {
            let (priority, action) = if key.starts_with("dhcp") {
                (1002, "allow")
            } else {
                (1001, "drop")
            };
            let row = DesiredRow::new(ACL, key)
                .set("priority", Datum::scalar(Atom::Integer(priority)))
                .set("direction", s(direction))
                .set("match", s(&m))
                .set("action", s(action));
            acls.push(row.reference());
            rows.push(row);
        }
        rows.push(
            DesiredRow::new(PG, "drop")
                .set("name", s(DROP_GROUP))
                .refs("ports", filtered)
                .refs("acls", acls),
        );
    }
    rows
}

#[cfg(test)]
mod tests;
