//! Validation of a [`NetworkConfig`] against the host's NICs.

use ipnet::IpNet;
use lqx_api::{Ipv4Config, Ipv6Config, LinkConfig, LinkKind, NetworkConfig, NetworkInterface};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use thiserror::Error;

/// Smallest MTU accepted: the IPv4 minimum datagram every host must take.
pub const MIN_MTU: u32 = 576;
/// Largest MTU accepted unless the NIC reports a larger limit.
pub const MAX_MTU: u32 = 9216;

/// What validation needs to know of a NIC on this host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NicFacts {
    /// Kernel name.
    pub name: String,
    /// Largest MTU the driver takes, if it says.
    pub max_mtu: Option<u32>,
}

impl NicFacts {
    /// The physical NICs among the host's interfaces (no kind, not loopback).
    pub fn from_interfaces(interfaces: &[NetworkInterface]) -> Vec<NicFacts> {
        interfaces
            .iter()
            .filter(|i| i.kind.is_none() && i.name != "lo" && i.mac.is_some())
            .map(|i| NicFacts {
                name: i.name.clone(),
                max_mtu: i.max_mtu,
            })
            .collect()
    }
}

/// One problem, with the path of the field it concerns
/// (e.g. `links[0].ipv4.gateway`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field.
    pub field: String,
    /// What is wrong, for an operator.
    pub message: String,
}

/// Every problem found; never empty.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{}", self.summary())]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    fn summary(&self) -> String {
        self.0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The first message about `field` or any field under it: its members
    /// (`links[0]` covers `links[0].mtu`) and its items (`dns.servers`
    /// covers `dns.servers[1]`).
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| {
                e.field
                    .strip_prefix(field)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
            })
            .map(|e| e.message.as_str())
    }
}

/// Checks `config` against the host's NICs. `nics` is `None` when the
/// host's NICs are unknown: names are then only checked for shape.
pub fn validate(config: &NetworkConfig, nics: Option<&[NicFacts]>) -> Result<(), ValidationErrors> {
    let mut v = Validator {
        errors: vec![],
        nics: nics.map(|n| n.iter().map(|n| (n.name.as_str(), n)).collect()),
    };
    v.config(config);
    if v.errors.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(v.errors))
    }
}

struct Validator<'a> {
    errors: Vec<FieldError>,
    nics: Option<BTreeMap<&'a str, &'a NicFacts>>,
}

impl Validator<'_> {
    fn err(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    fn config(&mut self, config: &NetworkConfig) {
        if let Err(message) = check_hostname(&config.hostname) {
            self.err("hostname", message);
        }
        self.links(config);
        let names: BTreeSet<&str> = config.links.iter().map(|l| l.name.as_str()).collect();
        if config.management.is_empty() {
            self.err("management", "choose the management interface");
        } else if !names.contains(config.management.as_str()) {
            self.err(
                "management",
                format!("{} is not one of the configured links", config.management),
            );
        } else if let Some(link) = config.links.iter().find(|l| l.name == config.management)
            && link.ipv4 == Ipv4Config::Disabled
            && link.ipv6 == Ipv6Config::Disabled
        {
            self.err(
                "management",
                format!("{} has no address: give it IPv4 or IPv6", link.name),
            );
        }
        self.gateways(config);
        for (i, server) in config.dns.servers.iter().enumerate() {
            if server.trim().parse::<IpAddr>().is_err() {
                self.err(
                    format!("dns.servers[{i}]"),
                    format!("\"{server}\" is not an IP address"),
                );
            }
        }
        for (i, domain) in config.dns.search.iter().enumerate() {
            if check_domain(domain).is_err() {
                self.err(
                    format!("dns.search[{i}]"),
                    format!("\"{domain}\" is not a domain name"),
                );
            }
        }
        for (i, server) in config.ntp.iter().enumerate() {
            if server.parse::<IpAddr>().is_err() && check_domain(server).is_err() {
                self.err(
                    format!("ntp[{i}]"),
                    format!("\"{server}\" is neither a host name nor an address"),
                );
            }
        }
    }

    fn links(&mut self, config: &NetworkConfig) {
        let mut seen = BTreeSet::new();
        let mut bonded: BTreeMap<&str, &str> = BTreeMap::new();
        let kinds: BTreeMap<&str, &LinkKind> = config
            .links
            .iter()
            .map(|l| (l.name.as_str(), &l.kind))
            .collect();
        for (i, link) in config.links.iter().enumerate() {
            let at = format!("links[{i}]");
            if let Err(message) = check_ifname(&link.name) {
                self.err(format!("{at}.name"), message);
            } else if !seen.insert(link.name.as_str()) {
                self.err(
                    format!("{at}.name"),
                    format!("{} is listed twice", link.name),
                );
            }
            match &link.kind {
                LinkKind::Ethernet => {
                    if let Some(nics) = &self.nics
                        && !nics.contains_key(link.name.as_str())
                    {
                        self.err(
                            format!("{at}.name"),
                            format!("this host has no NIC named {}", link.name),
                        );
                    }
                }
                LinkKind::Bond { members, .. } => {
                    if self.is_nic(&link.name) {
                        self.err(
                            format!("{at}.name"),
                            format!("{} is a NIC; name the bond differently", link.name),
                        );
                    }
                    if members.is_empty() {
                        self.err(
                            format!("{at}.kind.members"),
                            "a bond needs at least one NIC",
                        );
                    }
                    for (j, member) in members.iter().enumerate() {
                        let field = format!("{at}.kind.members[{j}]");
                        if let Some(nics) = &self.nics
                            && !nics.contains_key(member.as_str())
                        {
                            self.err(field, format!("this host has no NIC named {member}"));
                        } else if kinds.contains_key(member.as_str()) {
                            self.err(
                                field,
                                format!(
                                    "{member} is configured on its own; a bond member cannot be"
                                ),
                            );
                        } else if let Some(other) = bonded.insert(member, &link.name) {
                            self.err(field, format!("{member} is already a member of {other}"));
                        }
                    }
                }
                LinkKind::Vlan { parent, id } => {
                    if !(1..=4094).contains(id) {
                        self.err(format!("{at}.kind.id"), "VLAN ids are 1–4094");
                    }
                    if self.is_nic(&link.name) {
                        self.err(
                            format!("{at}.name"),
                            format!("{} is a NIC; name the VLAN differently", link.name),
                        );
                    }
                    match kinds.get(parent.as_str()) {
                        Some(LinkKind::Ethernet | LinkKind::Bond { .. }) => {}
                        Some(LinkKind::Vlan { .. }) => self.err(
                            format!("{at}.kind.parent"),
                            format!("{parent} is a VLAN; VLANs go on a NIC or a bond"),
                        ),
                        None => self.err(
                            format!("{at}.kind.parent"),
                            format!("{parent} is not one of the configured links"),
                        ),
                    }
                    let twin = config.links[..i].iter().any(|other| {
                        matches!(&other.kind, LinkKind::Vlan { parent: p, id: d } if p == parent && d == id)
                    });
                    if twin {
                        self.err(
                            format!("{at}.kind.id"),
                            format!("VLAN {id} on {parent} is configured twice"),
                        );
                    }
                }
            }
            self.addressing(&at, link);
            self.mtu(&at, link, config);
        }
    }

    fn is_nic(&self, name: &str) -> bool {
        self.nics.as_ref().is_some_and(|n| n.contains_key(name))
    }

    fn addressing(&mut self, at: &str, link: &LinkConfig) {
        if let Ipv4Config::Static { addresses, gateway } = &link.ipv4 {
            self.static_addresses(&format!("{at}.ipv4"), addresses, gateway.as_deref(), false);
        }
        if let Ipv6Config::Static { addresses, gateway } = &link.ipv6 {
            self.static_addresses(&format!("{at}.ipv6"), addresses, gateway.as_deref(), true);
        }
    }

    fn static_addresses(
        &mut self,
        at: &str,
        addresses: &[String],
        gateway: Option<&str>,
        v6: bool,
    ) {
        let family = if v6 { "IPv6" } else { "IPv4" };
        if addresses.is_empty() {
            self.err(
                format!("{at}.addresses"),
                format!("static {family} needs an address"),
            );
        }
        let mut nets = vec![];
        for (i, text) in addresses.iter().enumerate() {
            match parse_address(text, v6) {
                Ok(net) => nets.push(net),
                Err(message) => self.err(format!("{at}.addresses[{i}]"), message),
            }
        }
        let Some(gateway) = gateway.map(str::trim).filter(|g| !g.is_empty()) else {
            return;
        };
        let field = format!("{at}.gateway");
        match gateway.parse::<IpAddr>() {
            Ok(ip) if ip.is_ipv6() != v6 => {
                self.err(field, format!("\"{gateway}\" is not an {family} address"));
            }
            Ok(ip) if nets.iter().any(|n| n.addr() == ip) => {
                self.err(field, format!("{ip} is this host's own address"));
            }
            Ok(IpAddr::V6(ip)) if ip.is_unicast_link_local() => {}
            Ok(ip) if nets.is_empty() || nets.iter().any(|n| n.contains(&ip)) => {}
            Ok(ip) => {
                let subnets: Vec<String> = nets.iter().map(|n| n.trunc().to_string()).collect();
                self.err(
                    field,
                    format!(
                        "{ip} is outside the configured subnet(s) {}",
                        subnets.join(", ")
                    ),
                );
            }
            Err(_) => self.err(field, format!("\"{gateway}\" is not an {family} address")),
        }
    }

    fn gateways(&mut self, config: &NetworkConfig) {
        let with_gateway = |v6: bool| {
            config
                .links
                .iter()
                .filter(|l| match (v6, &l.ipv4, &l.ipv6) {
                    (
                        false,
                        Ipv4Config::Static {
                            gateway: Some(g), ..
                        },
                        _,
                    ) => !g.trim().is_empty(),
                    (
                        true,
                        _,
                        Ipv6Config::Static {
                            gateway: Some(g), ..
                        },
                    ) => !g.trim().is_empty(),
                    _ => false,
                })
                .map(|l| l.name.clone())
                .collect::<Vec<_>>()
        };
        for (v6, family) in [(false, "IPv4"), (true, "IPv6")] {
            let links = with_gateway(v6);
            if links.len() > 1 {
                self.err(
                    "links",
                    format!(
                        "only one {family} default gateway is allowed; {} each have one",
                        links.join(", ")
                    ),
                );
            }
        }
    }

    fn mtu(&mut self, at: &str, link: &LinkConfig, config: &NetworkConfig) {
        let Some(mtu) = link.mtu else { return };
        let limit = match &link.kind {
            LinkKind::Ethernet => self.nic_limit(&link.name),
            LinkKind::Bond { members, .. } => members
                .iter()
                .map(|m| self.nic_limit(m))
                .min()
                .unwrap_or(MAX_MTU),
            LinkKind::Vlan { parent, .. } => {
                let parent_mtu = config
                    .links
                    .iter()
                    .find(|l| &l.name == parent)
                    .and_then(|l| l.mtu);
                parent_mtu.unwrap_or_else(|| self.nic_limit(parent))
            }
        };
        if mtu < MIN_MTU || mtu > limit {
            self.err(
                format!("{at}.mtu"),
                format!("MTU {mtu} is outside {MIN_MTU}–{limit}"),
            );
        }
    }

    fn nic_limit(&self, name: &str) -> u32 {
        self.nics
            .as_ref()
            .and_then(|n| n.get(name))
            .and_then(|n| n.max_mtu)
            .unwrap_or(MAX_MTU)
    }
}

/// Parses "ADDRESS/PREFIX" of the given family and checks it is a usable
/// host address.
pub fn parse_address(text: &str, v6: bool) -> Result<IpNet, String> {
    let family = if v6 { "IPv6" } else { "IPv4" };
    let text = text.trim();
    if !text.contains('/') {
        return Err(format!("\"{text}\" needs a prefix length, e.g. /24"));
    }
    let net: IpNet = text
        .parse()
        .map_err(|_| format!("\"{text}\" is not an {family} address with a prefix length"))?;
    if net.addr().is_ipv6() != v6 {
        return Err(format!("\"{text}\" is not an {family} address"));
    }
    let addr = net.addr();
    if net.prefix_len() == 0 {
        return Err(format!("prefix /0 of \"{text}\" is not a subnet"));
    }
    if addr.is_unspecified() || addr.is_loopback() || addr.is_multicast() {
        return Err(format!("{addr} cannot be a host's address"));
    }
    if let IpNet::V4(v4) = net
        && v4.prefix_len() <= 30
        && (v4.addr() == v4.network() || v4.addr() == v4.broadcast())
    {
        return Err(format!(
            "{} is the {} address of {}",
            v4.addr(),
            if v4.addr() == v4.network() {
                "network"
            } else {
                "broadcast"
            },
            v4.trunc()
        ));
    }
    Ok(net)
}

/// A static hostname: RFC 1123 labels, at most 64 characters in all.
pub fn check_hostname(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("enter a hostname".into());
    }
    if name.len() > 64 {
        return Err("a hostname has at most 64 characters".into());
    }
    // hostnamed refuses the root dot that a search domain may carry.
    if name.ends_with('.') {
        return Err("a hostname does not end with a dot".into());
    }
    check_domain(name)
}

fn check_domain(name: &str) -> Result<(), String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return Err(format!("\"{name}\" is not a valid name"));
    }
    for label in name.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!(
                "\"{label}\" is not a valid name part: letters, digits and inner hyphens, up to 63"
            ));
        }
    }
    Ok(())
}

/// A kernel interface name: 1–15 bytes, no '/', ':' or whitespace.
pub fn check_ifname(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 15 {
        return Err("interface names have 1–15 characters".into());
    }
    if name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace())
    {
        return Err(format!("\"{name}\" is not a valid interface name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::samples::{bonded, link, nics, simple, static_v4};

    fn errors(config: &NetworkConfig) -> Vec<(String, String)> {
        match validate(config, Some(&nics())) {
            Ok(()) => vec![],
            Err(e) => e.0.into_iter().map(|e| (e.field, e.message)).collect(),
        }
    }

    fn fields(config: &NetworkConfig) -> Vec<String> {
        errors(config).into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn samples_are_valid() {
        assert_eq!(errors(&simple()), vec![]);
        assert_eq!(errors(&bonded()), vec![]);
    }

    #[test]
    fn addresses_and_gateways() {
        for (address, gateway, field) in [
            (
                "192.0.2.10",
                Some("192.0.2.1"),
                "links[0].ipv4.addresses[0]",
            ),
            ("192.0.2.300/24", None, "links[0].ipv4.addresses[0]"),
            ("192.0.2.10/33", None, "links[0].ipv4.addresses[0]"),
            ("192.0.2.10/0", None, "links[0].ipv4.addresses[0]"),
            ("192.0.2.0/24", None, "links[0].ipv4.addresses[0]"),
            ("192.0.2.255/24", None, "links[0].ipv4.addresses[0]"),
            ("127.0.0.2/8", None, "links[0].ipv4.addresses[0]"),
            ("2001:db8::1/64", None, "links[0].ipv4.addresses[0]"),
            (
                "192.0.2.10/24",
                Some("198.51.100.1"),
                "links[0].ipv4.gateway",
            ),
            ("192.0.2.10/24", Some("192.0.2.10"), "links[0].ipv4.gateway"),
            ("192.0.2.10/24", Some("gateway"), "links[0].ipv4.gateway"),
            (
                "192.0.2.10/24",
                Some("2001:db8::1"),
                "links[0].ipv4.gateway",
            ),
        ] {
            let mut c = simple();
            c.links[0].ipv4 = static_v4(address, gateway);
            assert_eq!(fields(&c), [field], "{address} via {gateway:?}");
        }
        let mut c = simple();
        c.links[0].ipv4 = static_v4("192.0.2.10/31", Some("192.0.2.11"));
        assert_eq!(fields(&c), Vec::<String>::new(), "/31 point-to-point");
        let errs = errors(&{
            let mut c = simple();
            c.links[0].ipv4 = static_v4("192.0.2.10/24", Some("198.51.100.1"));
            c
        });
        assert!(
            errs[0]
                .1
                .contains("outside the configured subnet(s) 192.0.2.0/24"),
            "{errs:?}"
        );
    }

    #[test]
    fn vlan_ids_parents_and_twins() {
        let mut c = bonded();
        let LinkKind::Vlan { id, .. } = &mut c.links[2].kind else {
            panic!()
        };
        *id = 4095;
        assert_eq!(fields(&c), ["links[2].kind.id"]);
        let mut c = bonded();
        let LinkKind::Vlan { parent, .. } = &mut c.links[2].kind else {
            panic!()
        };
        *parent = "eno4".into();
        assert_eq!(fields(&c), ["links[2].kind.parent"]);
        let mut c = bonded();
        let mut twin = c.links[2].clone();
        twin.name = "mgmt2".into();
        twin.ipv4 = Ipv4Config::Dhcp;
        twin.ipv6 = Ipv6Config::Disabled;
        c.links.push(twin);
        assert_eq!(fields(&c), ["links[3].kind.id"]);
    }

    #[test]
    fn a_nic_is_either_bonded_or_standalone() {
        let mut c = bonded();
        c.links
            .push(link("eno2", LinkKind::Ethernet, Ipv4Config::Dhcp));
        assert_eq!(fields(&c), ["links[1].kind.members[0]"]);
        let mut c = bonded();
        c.links.push(link(
            "bond1",
            LinkKind::Bond {
                members: vec!["eno3".into()],
                mode: lqx_api::BondMode::ActiveBackup,
            },
            Ipv4Config::Disabled,
        ));
        let errs = errors(&c);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].1.contains("already a member of bond0"), "{errs:?}");
        let mut c = bonded();
        let LinkKind::Bond { members, .. } = &mut c.links[1].kind else {
            panic!()
        };
        members.push("eth9".into());
        assert_eq!(fields(&c), ["links[1].kind.members[2]"]);
    }

    #[test]
    fn exactly_one_management_link_with_an_address() {
        let mut c = simple();
        c.management = String::new();
        assert_eq!(fields(&c), ["management"]);
        c.management = "eno9".into();
        assert_eq!(fields(&c), ["management"]);
        let mut c = simple();
        c.links[0].ipv4 = Ipv4Config::Disabled;
        assert_eq!(fields(&c), ["management"]);
    }

    #[test]
    fn mtu_bounds_follow_the_nic() {
        let mut c = simple();
        for (mtu, ok) in [(575, false), (576, true), (9216, true), (9217, false)] {
            c.links[0].mtu = Some(mtu);
            assert_eq!(errors(&c).is_empty(), ok, "{mtu}");
        }
        let mut nics = nics();
        nics[0].max_mtu = Some(1500);
        c.links[0].mtu = Some(9000);
        assert!(validate(&c, Some(&nics)).is_err());
        nics[0].max_mtu = Some(65535);
        c.links[0].mtu = Some(16000);
        assert!(validate(&c, Some(&nics)).is_ok(), "the NIC says otherwise");
        let mut c = bonded();
        c.links[2].mtu = Some(9100);
        assert_eq!(fields(&c), ["links[2].mtu"], "VLAN above its bond's 9000");
    }

    #[test]
    fn names_dns_ntp_and_duplicate_gateways() {
        let mut c = simple();
        c.hostname = "hv01.".into();
        assert_eq!(fields(&c), ["hostname"]);
        let mut c = simple();
        c.hostname = "-bad".into();
        c.dns.servers.push("dns.example".into());
        c.dns.search.push("a..b".into());
        c.ntp.push("not valid".into());
        c.links
            .push(link("eno1", LinkKind::Ethernet, Ipv4Config::Dhcp));
        c.links.push(link(
            "eno2",
            LinkKind::Ethernet,
            static_v4("198.51.100.2/24", Some("198.51.100.1")),
        ));
        c.links
            .push(link("eno7", LinkKind::Ethernet, Ipv4Config::Dhcp));
        assert_eq!(
            fields(&c),
            [
                "hostname",
                "links[1].name",
                "links[3].name",
                "links",
                "dns.servers[1]",
                "dns.search[1]",
                "ntp[1]"
            ]
        );
        assert!(validate(&c, None).is_err());
    }

    #[test]
    fn messages_are_found_by_field_members_and_items() {
        let mut c = simple();
        c.dns.servers.push("dns.example".into());
        c.links[0].mtu = Some(100);
        let errors = validate(&c, Some(&nics())).unwrap_err();
        assert!(
            errors
                .for_field("dns.servers")
                .unwrap()
                .contains("dns.example")
        );
        assert!(errors.for_field("dns.servers[1]").is_some());
        assert!(errors.for_field("links[0]").unwrap().contains("MTU 100"));
        assert!(errors.for_field("links[0].mtu").is_some());
        assert_eq!(errors.for_field("links[0].ipv4"), None);
        assert_eq!(errors.for_field("dns"), errors.for_field("dns.servers"));
        assert_eq!(errors.for_field("dns.serv"), None, "not a prefix of a name");
    }

    #[test]
    fn unknown_nics_are_only_shape_checked() {
        let mut c = simple();
        c.links[0].name = "enp0s99".into();
        c.management = "enp0s99".into();
        assert!(validate(&c, None).is_ok());
        assert!(validate(&c, Some(&nics())).is_err());
    }
}
