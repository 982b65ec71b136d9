//! Interfaces, addresses and default routes read from the kernel over
//! rtnetlink (the same source `ip` uses).

use crate::probe::ProbeError;
use futures::TryStreamExt;
use lqx_api::{
    AddressFamily, AddressScope, DefaultRoute, InterfaceAddress, LinkState, NetworkInterface,
};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope as NlScope,
};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkInfo, LinkMessage, State};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteType,
};
use rtnetlink::{Handle, RouteMessageBuilder};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What one netlink dump of the host's network gives.
pub(crate) struct NetworkSnapshot {
    pub interfaces: Vec<NetworkInterface>,
    pub default_routes: Vec<DefaultRoute>,
}

/// Dumps links, addresses and routes over a fresh rtnetlink socket.
pub(crate) async fn snapshot() -> Result<NetworkSnapshot, ProbeError> {
    let (connection, handle, _) = rtnetlink::new_connection().map_err(ProbeError::NetlinkSocket)?;
    let task = tokio::spawn(connection);
    let result = dump(&handle).await;
    task.abort();
    result
}

async fn dump(handle: &Handle) -> Result<NetworkSnapshot, ProbeError> {
    let netlink = |what| move |source| ProbeError::Netlink { what, source };
    let links: Vec<LinkMessage> = handle
        .link()
        .get()
        .execute()
        .try_collect()
        .await
        .map_err(netlink("links"))?;
    let addresses: Vec<AddressMessage> = handle
        .address()
        .get()
        .execute()
        .try_collect()
        .await
        .map_err(netlink("addresses"))?;
    let mut routes: Vec<RouteMessage> = handle
        .route()
        .get(RouteMessageBuilder::<Ipv4Addr>::new().build())
        .execute()
        .try_collect()
        .await
        .map_err(netlink("IPv4 routes"))?;
    let v6: Vec<RouteMessage> = handle
        .route()
        .get(RouteMessageBuilder::<Ipv6Addr>::new().build())
        .execute()
        .try_collect()
        .await
        .map_err(netlink("IPv6 routes"))?;
    routes.extend(v6);
    Ok(assemble(&links, &addresses, &routes))
}

/// Joins the three dumps into the API's view. Pure, so it can be tested
/// on messages built by hand.
fn assemble(
    links: &[LinkMessage],
    addresses: &[AddressMessage],
    routes: &[RouteMessage],
) -> NetworkSnapshot {
    let names: BTreeMap<u32, String> = links
        .iter()
        .filter_map(|l| Some((l.header.index, link_name(l)?)))
        .collect();
    let mut interfaces: Vec<NetworkInterface> =
        links.iter().filter_map(|l| interface(l, &names)).collect();
    interfaces.sort_by_key(|i| i.index);
    for msg in addresses {
        if let Some(addr) = interface_address(msg)
            && let Some(iface) = interfaces.iter_mut().find(|i| i.index == msg.header.index)
        {
            iface.addresses.push(addr);
        }
    }
    let default_routes = routes
        .iter()
        .flat_map(|r| default_routes(r, &names))
        .collect();
    NetworkSnapshot {
        interfaces,
        default_routes,
    }
}

fn link_name(link: &LinkMessage) -> Option<String> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(name) => Some(name.clone()),
        _ => None,
    })
}

fn interface(link: &LinkMessage, names: &BTreeMap<u32, String>) -> Option<NetworkInterface> {
    let mut iface = NetworkInterface {
        name: link_name(link)?,
        index: link.header.index,
        kind: None,
        mac: None,
        mtu: 0,
        max_mtu: None,
        admin_up: link.header.flags.contains(LinkFlags::Up),
        link_state: LinkState::Unknown,
        carrier: None,
        controller: None,
        addresses: Vec::new(),
    };
    for attr in &link.attributes {
        match attr {
            LinkAttribute::Address(bytes) if bytes.iter().any(|b| *b != 0) => {
                iface.mac = Some(format_mac(bytes));
            }
            LinkAttribute::Mtu(mtu) => iface.mtu = *mtu,
            LinkAttribute::MaxMtu(mtu) => iface.max_mtu = Some(*mtu),
            LinkAttribute::OperState(state) => iface.link_state = link_state(*state),
            LinkAttribute::Carrier(c) => iface.carrier = Some(*c != 0),
            LinkAttribute::Controller(index) => iface.controller = names.get(index).cloned(),
            LinkAttribute::LinkInfo(infos) => {
                iface.kind = infos.iter().find_map(|i| match i {
                    LinkInfo::Kind(kind) => Some(kind.to_string()),
                    _ => None,
                });
            }
            _ => {}
        }
    }
    Some(iface)
}

fn format_mac(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn link_state(state: State) -> LinkState {
    match state {
        State::Up => LinkState::Up,
        State::Down => LinkState::Down,
        State::LowerLayerDown => LinkState::LowerLayerDown,
        State::Dormant => LinkState::Dormant,
        State::Testing => LinkState::Testing,
        State::NotPresent => LinkState::NotPresent,
        _ => LinkState::Unknown,
    }
}

fn interface_address(msg: &AddressMessage) -> Option<InterfaceAddress> {
    // For point-to-point links IFA_ADDRESS is the peer and IFA_LOCAL ours;
    // elsewhere they are equal. `ip` shows IFA_LOCAL when present.
    let mut address = None;
    let mut local = None;
    let mut permanent = msg.header.flags.contains(AddressHeaderFlags::Permanent);
    for attr in &msg.attributes {
        match attr {
            AddressAttribute::Address(a) => address = Some(*a),
            AddressAttribute::Local(a) => local = Some(*a),
            AddressAttribute::Flags(f) => permanent |= f.contains(AddressFlags::Permanent),
            _ => {}
        }
    }
    let address = local.or(address)?;
    Some(InterfaceAddress {
        address,
        prefix_len: msg.header.prefix_len,
        family: family(&address),
        scope: match msg.header.scope {
            NlScope::Universe => AddressScope::Global,
            NlScope::Site => AddressScope::Site,
            NlScope::Link => AddressScope::Link,
            NlScope::Host => AddressScope::Host,
            _ => AddressScope::Other,
        },
        dynamic: !permanent,
    })
}

fn family(addr: &IpAddr) -> AddressFamily {
    match addr {
        IpAddr::V4(_) => AddressFamily::Ipv4,
        IpAddr::V6(_) => AddressFamily::Ipv6,
    }
}

fn route_ip(addr: &RouteAddress) -> Option<IpAddr> {
    match addr {
        RouteAddress::Inet(a) => Some(IpAddr::V4(*a)),
        RouteAddress::Inet6(a) => Some(IpAddr::V6(*a)),
        _ => None,
    }
}

/// The default routes one route message holds: none unless it is a
/// unicast 0/0 route of the main table; one per next hop when multipath.
fn default_routes(route: &RouteMessage, names: &BTreeMap<u32, String>) -> Vec<DefaultRoute> {
    let table = route
        .attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(u32::from(route.header.table));
    if route.header.destination_prefix_length != 0
        || route.header.kind != RouteType::Unicast
        || table != u32::from(RouteHeader::RT_TABLE_MAIN)
    {
        return Vec::new();
    }
    let fam = match route.header.address_family {
        netlink_packet_route::AddressFamily::Inet6 => AddressFamily::Ipv6,
        _ => AddressFamily::Ipv4,
    };
    let mut gateway = None;
    let mut oif = None;
    let mut metric = None;
    let mut hops = Vec::new();
    for attr in &route.attributes {
        match attr {
            RouteAttribute::Gateway(g) => gateway = route_ip(g),
            RouteAttribute::Oif(i) => oif = Some(*i),
            RouteAttribute::Priority(p) => metric = Some(*p),
            RouteAttribute::MultiPath(nexthops) => hops.clone_from(nexthops),
            _ => {}
        }
    }
    if hops.is_empty() {
        return vec![DefaultRoute {
            family: fam,
            gateway,
            interface: oif.and_then(|i| names.get(&i).cloned()),
            metric,
        }];
    }
    hops.iter()
        .map(|hop| DefaultRoute {
            family: fam,
            gateway: hop.attributes.iter().find_map(|a| match a {
                RouteAttribute::Gateway(g) => route_ip(g),
                _ => None,
            }),
            interface: names.get(&hop.interface_index).cloned(),
            metric,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_route::route::RouteProtocol;

    fn link(index: u32, name: &str, attrs: Vec<LinkAttribute>) -> LinkMessage {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.header.flags = LinkFlags::Up;
        msg.attributes = vec![LinkAttribute::IfName(name.into())];
        msg.attributes.extend(attrs);
        msg
    }

    fn route(gateway: Option<Ipv4Addr>, oif: u32, prefix: u8) -> RouteMessage {
        let mut msg = RouteMessage::default();
        msg.header.address_family = netlink_packet_route::AddressFamily::Inet;
        msg.header.destination_prefix_length = prefix;
        msg.header.kind = RouteType::Unicast;
        msg.header.table = RouteHeader::RT_TABLE_MAIN;
        msg.header.protocol = RouteProtocol::Boot;
        if let Some(g) = gateway {
            msg.attributes
                .push(RouteAttribute::Gateway(RouteAddress::Inet(g)));
        }
        msg.attributes.push(RouteAttribute::Oif(oif));
        msg.attributes.push(RouteAttribute::Priority(100));
        msg
    }

    #[test]
    fn joins_links_addresses_and_default_routes() {
        let links = vec![
            link(
                2,
                "eth0",
                vec![
                    LinkAttribute::Address(vec![0x52, 0x54, 0, 0x12, 0x34, 0x56]),
                    LinkAttribute::Mtu(1500),
                    LinkAttribute::OperState(State::Up),
                    LinkAttribute::Controller(3),
                ],
            ),
            link(
                1,
                "lo",
                vec![
                    LinkAttribute::Address(vec![0; 6]),
                    LinkAttribute::Mtu(65536),
                ],
            ),
            link(3, "br0", vec![]),
        ];
        let mut addr = AddressMessage::default();
        addr.header.index = 2;
        addr.header.prefix_len = 24;
        addr.attributes = vec![
            AddressAttribute::Address("192.0.2.10".parse().unwrap()),
            AddressAttribute::Local("192.0.2.10".parse().unwrap()),
        ];
        let routes = vec![
            route(Some(Ipv4Addr::new(192, 0, 2, 1)), 2, 0),
            route(None, 2, 24),
        ];
        let snap = assemble(&links, &[addr], &routes);
        let names: Vec<_> = snap.interfaces.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["lo", "eth0", "br0"]);
        let eth0 = &snap.interfaces[1];
        assert_eq!(eth0.mac.as_deref(), Some("52:54:00:12:34:56"));
        assert_eq!(eth0.mtu, 1500);
        assert_eq!(eth0.link_state, LinkState::Up);
        assert_eq!(eth0.controller.as_deref(), Some("br0"));
        assert_eq!(eth0.addresses.len(), 1);
        assert!(eth0.addresses[0].dynamic);
        assert_eq!(snap.interfaces[0].mac, None, "all-zero MAC is no MAC");
        assert_eq!(
            snap.default_routes,
            vec![DefaultRoute {
                family: AddressFamily::Ipv4,
                gateway: Some("192.0.2.1".parse().unwrap()),
                interface: Some("eth0".into()),
                metric: Some(100),
            }]
        );
    }
}
