//! Configurations shared by the tests of this module and its users'.

use super::NicFacts;
use lqx_api::{BondMode, DnsConfig, Ipv4Config, Ipv6Config, LinkConfig, LinkKind, NetworkConfig};

/// A host with four NICs that report no MTU limit.
pub fn nics() -> Vec<NicFacts> {
    ["eno1", "eno2", "eno3", "eno4"]
        .into_iter()
        .map(|n| NicFacts {
            name: n.into(),
            max_mtu: None,
        })
        .collect()
}

/// A link with the given addressing.
pub fn link(name: &str, kind: LinkKind, ipv4: Ipv4Config) -> LinkConfig {
    LinkConfig {
        name: name.into(),
        kind,
        ipv4,
        ipv6: Ipv6Config::Disabled,
        mtu: None,
    }
}

/// Static IPv4 with an optional gateway.
pub fn static_v4(address: &str, gateway: Option<&str>) -> Ipv4Config {
    Ipv4Config::Static {
        addresses: vec![address.into()],
        gateway: gateway.map(Into::into),
    }
}

/// Management on a static address of eno1, DNS and NTP set.
pub fn simple() -> NetworkConfig {
    NetworkConfig {
        hostname: "hv01".into(),
        management: "eno1".into(),
        links: vec![link(
            "eno1",
            LinkKind::Ethernet,
            static_v4("192.0.2.10/24", Some("192.0.2.1")),
        )],
        dns: DnsConfig {
            servers: vec!["192.0.2.53".into()],
            search: vec!["lab.example".into()],
        },
        ntp: vec!["ntp.example".into()],
    }
}

/// An LACP bond over eno2+eno3 with a management VLAN, eno1 on DHCP with
/// SLAAC.
pub fn bonded() -> NetworkConfig {
    let mut eno1 = link("eno1", LinkKind::Ethernet, Ipv4Config::Dhcp);
    eno1.ipv6 = Ipv6Config::Slaac;
    let mut bond = link(
        "bond0",
        LinkKind::Bond {
            members: vec!["eno2".into(), "eno3".into()],
            mode: BondMode::Lacp,
        },
        Ipv4Config::Disabled,
    );
    bond.mtu = Some(9000);
    let mut vlan = link(
        "mgmt",
        LinkKind::Vlan {
            parent: "bond0".into(),
            id: 20,
        },
        static_v4("10.20.0.5/24", Some("10.20.0.1")),
    );
    vlan.ipv6 = Ipv6Config::Static {
        addresses: vec!["2001:db8:20::5/64".into()],
        gateway: Some("fe80::1".into()),
    };
    NetworkConfig {
        hostname: "hv02.lab.example".into(),
        management: "mgmt".into(),
        links: vec![eno1, bond, vlan],
        dns: DnsConfig::default(),
        ntp: vec![],
    }
}
