//! Subnets, which addresses of a network are taken, the next free one,
//! and MACs.

use super::{VnetError, VnetState};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4};
use uuid::Uuid;

/// Parses an IPv4 subnet in CIDR form, its host bits zero, /8 to /30.
pub fn parse_subnet(text: &str) -> Result<Ipv4Net, VnetError> {
    let net: Ipv4Net = text.parse().map_err(|_| {
        VnetError::Invalid(format!("subnet {text:?}: an IPv4 CIDR like 10.0.0.0/24"))
    })?;
    if net.trunc() != net {
        return Err(VnetError::Invalid(format!(
            "subnet {text:?}: host bits are set (did you mean {}?)",
            net.trunc()
        )));
    }
    if !(8..=30).contains(&net.prefix_len()) {
        return Err(VnetError::Invalid(format!(
            "subnet {text:?}: the prefix must be /8 to /30"
        )));
    }
    Ok(net)
}

/// Parses an IPv6 subnet: a /64, the prefix SLAAC needs, and a unicast
/// one (not link-local, not multicast).
pub fn parse_subnet6(text: &str) -> Result<Ipv6Net, VnetError> {
    let net: Ipv6Net = text.parse().map_err(|_| {
        VnetError::Invalid(format!(
            "IPv6 subnet {text:?}: an IPv6 CIDR like fd00:1::/64"
        ))
    })?;
    if net.prefix_len() != 64 {
        return Err(VnetError::Invalid(format!(
            "IPv6 subnet {text:?}: the prefix must be /64 (ports configure themselves by SLAAC)"
        )));
    }
    if net.trunc() != net {
        return Err(VnetError::Invalid(format!(
            "IPv6 subnet {text:?}: host bits are set (did you mean {}?)",
            net.trunc()
        )));
    }
    let first = net.network().segments()[0];
    if first & 0xffc0 == 0xfe80 || first & 0xff00 == 0xff00 || net.network().is_unspecified() {
        return Err(VnetError::Invalid(format!(
            "IPv6 subnet {text:?}: a unicast prefix (not link-local, multicast or ::)"
        )));
    }
    Ok(net)
}

/// The modified EUI-64 address of `mac` in `net` (RFC 4291 appendix A):
/// the address a guest takes by SLAAC.
pub fn eui64(net: Ipv6Net, mac: &str) -> Option<Ipv6Addr> {
    let bytes: Vec<u8> = mac
        .split(':')
        .map(|b| u8::from_str_radix(b, 16))
        .collect::<Result<_, _>>()
        .ok()?;
    let [a, b, c, d, e, f] = bytes[..] else {
        return None;
    };
    let iid = u64::from_be_bytes([a ^ 0x02, b, c, 0xff, 0xfe, d, e, f]);
    Some(Ipv6Addr::from(u128::from(net.network()) | u128::from(iid)))
}

/// Parses a CIDR of a security rule's peer, IPv4 or IPv6 (host bits
/// allowed to be set nowhere: `10.1.2.3/8` is refused as ambiguous).
pub fn parse_cidr(text: &str) -> Result<IpNet, VnetError> {
    let net: IpNet = text
        .parse()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| {
            VnetError::Invalid(format!(
                "CIDR {text:?}: an IPv4 or IPv6 CIDR like 10.0.0.0/8 or fd00::/48"
            ))
        })?;
    if net.trunc() != net {
        return Err(VnetError::Invalid(format!(
            "CIDR {text:?}: host bits are set (did you mean {}?)",
            net.trunc()
        )));
    }
    Ok(net)
}

/// Parses `IP:PORT` (IPv4).
pub fn parse_endpoint(what: &str, text: &str) -> Result<SocketAddrV4, VnetError> {
    text.parse::<SocketAddrV4>()
        .ok()
        .filter(|a| a.port() != 0)
        .ok_or_else(|| VnetError::Invalid(format!("{what} {text:?}: IPv4:PORT, port 1-65535")))
}

/// Whether `ip` is an address a port may have in `net`: not the network
/// or broadcast address.
pub fn is_host(net: Ipv4Net, ip: Ipv4Addr) -> bool {
    net.contains(&ip) && ip != net.network() && ip != net.broadcast()
}

/// The network's subnet, if it has one (stored subnets were checked).
pub fn subnet_of(state: &VnetState, network: &str) -> Option<Ipv4Net> {
    state
        .networks
        .get(network)?
        .spec
        .subnet
        .as_deref()
        .and_then(|s| s.parse().ok())
}

/// The network's IPv6 subnet, if it has one.
pub fn subnet6_of(state: &VnetState, network: &str) -> Option<Ipv6Net> {
    state
        .networks
        .get(network)?
        .spec
        .subnet6
        .as_deref()
        .and_then(|s| s.parse().ok())
}

/// Every address of `network` something holds: its gateway, ports,
/// routers' external addresses, floating IPs, load balancers' addresses.
pub fn taken(state: &VnetState, network: &str) -> BTreeSet<Ipv4Addr> {
    let mut taken = BTreeSet::new();
    let Some(record) = state.networks.get(network) else {
        return taken;
    };
    taken.extend(record.spec.gateway);
    taken.extend(
        state
            .ports
            .values()
            .filter(|p| p.network == network)
            .filter_map(|p| p.ip),
    );
    taken.extend(
        state
            .routers
            .values()
            .filter_map(|r| r.gateway.as_ref())
            .filter(|g| g.network == network)
            .map(|g| g.ip),
    );
    taken.extend(
        state
            .floating_ips
            .values()
            .filter(|f| f.external == network)
            .map(|f| f.ip),
    );
    for lb in state.load_balancers.values() {
        if lb.spec.network == network {
            taken.extend(lb.health_source);
            if let Ok(vip) = lb.spec.vip.parse::<SocketAddrV4>() {
                taken.insert(*vip.ip());
            }
        }
    }
    taken
}

/// Checks that `ip` may be given out on `network` now.
pub fn check_free(state: &VnetState, network: &str, ip: Ipv4Addr) -> Result<(), VnetError> {
    let net = subnet_of(state, network).ok_or_else(|| {
        VnetError::Invalid(format!(
            "network {network:?} has no subnet to take {ip} from"
        ))
    })?;
    if !is_host(net, ip) {
        return Err(VnetError::Invalid(format!(
            "{ip} is outside network {network:?}'s subnet {net} (or is its network or broadcast address)"
        )));
    }
    if taken(state, network).contains(&ip) {
        return Err(VnetError::Conflict(format!(
            "{ip} is already in use on network {network:?}"
        )));
    }
    Ok(())
}

/// The first free address of `network`.
pub fn next_free(state: &VnetState, network: &str) -> Result<Ipv4Addr, VnetError> {
    let net = subnet_of(state, network).ok_or_else(|| {
        VnetError::Invalid(format!(
            "network {network:?} has no subnet to take an address from"
        ))
    })?;
    let taken = taken(state, network);
    net.hosts().find(|ip| !taken.contains(ip)).ok_or_else(|| {
        VnetError::Conflict(format!(
            "network {network:?} is full: every address of {net} is in use"
        ))
    })
}

/// A MAC for an OVN port: a locally administered unicast prefix of the
/// project's (`0a:6c:71`, "lq") and three bytes of `id`.
pub fn derived_mac(id: Uuid) -> String {
    let b = id.as_bytes();
    format!("0a:6c:71:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2])
}

/// A free MAC for a new object `id`, stepping past ones in use.
pub fn free_mac(state: &VnetState, id: Uuid) -> String {
    let used: BTreeSet<&str> = state.ports.values().map(|p| p.mac.as_str()).collect();
    let mut bytes = *id.as_bytes();
    loop {
        let mac = derived_mac(Uuid::from_bytes(bytes));
        if !used.contains(mac.as_str()) {
            return mac;
        }
        bytes[2] = bytes[2].wrapping_add(1);
        if bytes[2] == 0 {
            bytes[1] = bytes[1].wrapping_add(1);
        }
    }
}

/// The MAC of a router's port on a network: derived from both ids.
pub fn router_port_mac(router: Uuid, network: Uuid) -> String {
    let (r, n) = (router.as_bytes(), network.as_bytes());
    format!(
        "0a:6c:72:{:02x}:{:02x}:{:02x}",
        r[0] ^ n[0],
        r[1] ^ n[1],
        n[2]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_must_be_exact() {
        assert!(parse_subnet("10.0.0.0/24").is_ok());
        assert!(
            matches!(parse_subnet("10.0.0.1/24"), Err(VnetError::Invalid(m)) if m.contains("10.0.0.0/24"))
        );
        assert!(parse_subnet("10.0.0.0/31").is_err());
        assert!(parse_subnet("fe80::/64").is_err());
        assert!(parse_subnet("nonsense").is_err());
    }

    #[test]
    fn cidrs_and_endpoints() {
        assert_eq!(parse_cidr("192.0.2.7").unwrap().prefix_len(), 32);
        assert!(parse_cidr("10.1.0.0/8").is_err());
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("fd00::/48").unwrap().addr().is_ipv6());
        assert!(parse_cidr("fd00::1/48").is_err());
        assert_eq!(parse_cidr("2001:db8::7").unwrap().prefix_len(), 128);
        assert!(parse_endpoint("vip", "10.0.0.5:80").is_ok());
        assert!(parse_endpoint("vip", "10.0.0.5").is_err());
        assert!(parse_endpoint("vip", "10.0.0.5:0").is_err());
    }

    #[test]
    fn ipv6_subnets_are_unicast_64s() {
        assert!(parse_subnet6("fd00:1::/64").is_ok());
        assert!(parse_subnet6("2001:db8:0:1::/64").is_ok());
        assert!(parse_subnet6("fd00:1::/48").is_err());
        assert!(
            matches!(parse_subnet6("fd00:1::5/64"), Err(VnetError::Invalid(m)) if m.contains("fd00:1::/64"))
        );
        assert!(parse_subnet6("fe80::/64").is_err());
        assert!(parse_subnet6("ff02::/64").is_err());
        assert!(parse_subnet6("10.0.0.0/24").is_err());
    }

    #[test]
    fn eui64_follows_rfc_4291() {
        // The example of RFC 4291 appendix A's procedure, as the Linux
        // kernel forms it from 52:54:00:12:34:56.
        let net = parse_subnet6("fd00:1::/64").unwrap();
        assert_eq!(
            eui64(net, "52:54:00:12:34:56").unwrap(),
            "fd00:1::5054:ff:fe12:3456".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(
            eui64(net, "0a:6c:71:ab:cd:ef").unwrap(),
            "fd00:1::86c:71ff:feab:cdef".parse::<Ipv6Addr>().unwrap()
        );
        assert!(eui64(net, "0a:6c:71:ab:cd").is_none());
        assert!(eui64(net, "zz:6c:71:ab:cd:ef").is_none());
    }

    #[test]
    fn hosts_exclude_network_and_broadcast() {
        let net = parse_subnet("10.0.0.0/30").unwrap();
        assert!(!is_host(net, "10.0.0.0".parse().unwrap()));
        assert!(is_host(net, "10.0.0.1".parse().unwrap()));
        assert!(is_host(net, "10.0.0.2".parse().unwrap()));
        assert!(!is_host(net, "10.0.0.3".parse().unwrap()));
        assert!(!is_host(net, "10.0.1.1".parse().unwrap()));
    }

    #[test]
    fn macs_are_unicast_and_local() {
        let mac = derived_mac(Uuid::from_u128(u128::MAX));
        let first = u8::from_str_radix(&mac[..2], 16).unwrap();
        assert_eq!(first & 1, 0, "unicast");
        assert_eq!(first & 2, 2, "locally administered");
        let mac = router_port_mac(Uuid::from_u128(1), Uuid::from_u128(2));
        assert!(mac.starts_with("0a:6c:72:"));
    }
}
