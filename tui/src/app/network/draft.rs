//! The configuration being edited: text as typed, checked as a whole
//! with `lqx_core`'s validation.

use crate::widgets::{Choice, TextField, split_list};
use lqx_api::{
    AddressFamily, DnsConfig, HostInfo, Ipv4Config, Ipv6Config, LinkConfig, LinkKind, NetworkConfig,
};
use lqx_core::network::validate::check_hostname;
use lqx_core::network::{FieldError, NicFacts, ValidationErrors, validate};

/// IPv4 modes, in the order Left/Right cycles them.
pub const V4_MODES: [&str; 3] = ["DHCP", "static", "disabled"];
/// IPv6 modes, in the order Left/Right cycles them.
pub const V6_MODES: [&str; 4] = ["disabled", "SLAAC", "DHCP", "static"];
/// Bond modes offered.
pub const BOND_MODES: [&str; 2] = ["active-backup", "802.3ad"];

const V4_STATIC: usize = 1;
const V6_STATIC: usize = 3;

/// One link being edited; text stays as typed until it is valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkDraft {
    /// Kernel name.
    pub name: String,
    /// NIC, bond or VLAN.
    pub kind: LinkKind,
    /// IPv4 mode, one of [`V4_MODES`].
    pub ipv4: Choice,
    /// Static IPv4 addresses, "ADDR/PREFIX", comma- or space-separated.
    pub v4_addresses: TextField,
    /// Static IPv4 gateway (may be empty).
    pub v4_gateway: TextField,
    /// IPv6 mode, one of [`V6_MODES`].
    pub ipv6: Choice,
    /// Static IPv6 addresses.
    pub v6_addresses: TextField,
    /// Static IPv6 gateway (may be empty).
    pub v6_gateway: TextField,
    /// MTU in bytes; empty keeps the default.
    pub mtu: TextField,
}

impl LinkDraft {
    /// A new link with DHCPv4, the image's default for every NIC.
    pub fn new(name: impl Into<String>, kind: LinkKind) -> Self {
        Self::from_config(&LinkConfig {
            name: name.into(),
            kind,
            ipv4: Ipv4Config::Dhcp,
            ipv6: Ipv6Config::Disabled,
            mtu: None,
        })
    }

    /// The draft of a saved link.
    pub fn from_config(link: &LinkConfig) -> Self {
        let (v4, v4_addresses, v4_gateway) = match &link.ipv4 {
            Ipv4Config::Dhcp => (0, vec![], None),
            Ipv4Config::Static { addresses, gateway } => {
                (V4_STATIC, addresses.clone(), gateway.clone())
            }
            Ipv4Config::Disabled => (2, vec![], None),
        };
        let (v6, v6_addresses, v6_gateway) = match &link.ipv6 {
            Ipv6Config::Disabled => (0, vec![], None),
            Ipv6Config::Slaac => (1, vec![], None),
            Ipv6Config::Dhcp => (2, vec![], None),
            Ipv6Config::Static { addresses, gateway } => {
                (V6_STATIC, addresses.clone(), gateway.clone())
            }
        };
        Self {
            name: link.name.clone(),
            kind: link.kind.clone(),
            ipv4: Choice::new(V4_MODES).with(v4),
            v4_addresses: TextField::new(v4_addresses.join(", ")),
            v4_gateway: TextField::new(v4_gateway.unwrap_or_default()),
            ipv6: Choice::new(V6_MODES).with(v6),
            v6_addresses: TextField::new(v6_addresses.join(", ")),
            v6_gateway: TextField::new(v6_gateway.unwrap_or_default()),
            mtu: TextField::new(link.mtu.map(|m| m.to_string()).unwrap_or_default()),
        }
    }

    /// Whether IPv4 is static (address and gateway fields shown).
    pub fn v4_static(&self) -> bool {
        self.ipv4.index() == V4_STATIC
    }

    /// Whether IPv6 is static.
    pub fn v6_static(&self) -> bool {
        self.ipv6.index() == V6_STATIC
    }

    /// The link as the API takes it; text that cannot even be parsed
    /// (an MTU that is not a number) is reported in `errors` under the
    /// field's path `at`.
    pub(super) fn to_config(&self, at: &str, errors: &mut Vec<FieldError>) -> LinkConfig {
        let gateway = |f: &TextField| Some(f.value().trim().to_owned()).filter(|g| !g.is_empty());
        let ipv4 = match self.ipv4.index() {
            0 => Ipv4Config::Dhcp,
            V4_STATIC => Ipv4Config::Static {
                addresses: split_list(self.v4_addresses.value()),
                gateway: gateway(&self.v4_gateway),
            },
            _ => Ipv4Config::Disabled,
        };
        let ipv6 = match self.ipv6.index() {
            1 => Ipv6Config::Slaac,
            2 => Ipv6Config::Dhcp,
            V6_STATIC => Ipv6Config::Static {
                addresses: split_list(self.v6_addresses.value()),
                gateway: gateway(&self.v6_gateway),
            },
            _ => Ipv6Config::Disabled,
        };
        let text = self.mtu.value().trim();
        let mtu = if text.is_empty() {
            None
        } else if let Ok(mtu) = text.parse::<u32>() {
            Some(mtu)
        } else {
            errors.push(FieldError {
                field: format!("{at}.mtu"),
                message: format!(
                    "\"{text}\" is not a number of bytes; leave empty for the default"
                ),
            });
            None
        };
        LinkConfig {
            name: self.name.clone(),
            kind: self.kind.clone(),
            ipv4,
            ipv6,
            mtu,
        }
    }

    /// A short description of the kind, for the link list.
    pub fn kind_text(&self) -> String {
        match &self.kind {
            LinkKind::Ethernet => "NIC".into(),
            LinkKind::Bond { members, mode } => {
                format!("bond {} ({})", members.join("+"), mode.as_str())
            }
            LinkKind::Vlan { parent, id } => format!("VLAN {id} on {parent}"),
        }
    }

    /// A short description of the addressing, for the link list.
    pub fn addressing_text(&self) -> String {
        let v4 = if self.v4_static() {
            let mut text = split_list(self.v4_addresses.value()).join(" ");
            if !self.v4_gateway.value().trim().is_empty() {
                text.push_str(&format!(" via {}", self.v4_gateway.value().trim()));
            }
            text
        } else {
            format!("IPv4 {}", self.ipv4.label())
        };
        if self.ipv6.index() == 0 {
            v4
        } else {
            format!("{v4}, IPv6 {}", self.ipv6.label())
        }
    }
}

/// The whole configuration being edited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    /// Static hostname.
    pub hostname: TextField,
    /// DNS servers, comma- or space-separated.
    pub dns_servers: TextField,
    /// Search domains.
    pub dns_search: TextField,
    /// NTP servers.
    pub ntp: TextField,
    /// The management link's name.
    pub management: String,
    /// Links, in the order sent.
    pub links: Vec<LinkDraft>,
}

impl Draft {
    /// The draft of a saved configuration.
    pub fn from_config(config: &NetworkConfig) -> Self {
        Self {
            hostname: TextField::new(config.hostname.clone()),
            dns_servers: TextField::new(config.dns.servers.join(", ")),
            dns_search: TextField::new(config.dns.search.join(", ")),
            ntp: TextField::new(config.ntp.join(", ")),
            management: config.management.clone(),
            links: config.links.iter().map(LinkDraft::from_config).collect(),
        }
    }

    /// A first configuration from what the host runs now: DHCPv4 on
    /// every NIC (the image's default), management on the NIC of the
    /// IPv4 default route.
    pub fn from_host(host: &HostInfo) -> Self {
        let facts = &host.facts;
        let nics = NicFacts::from_interfaces(&facts.interfaces);
        let routed = facts
            .default_routes
            .iter()
            .filter(|r| r.family == AddressFamily::Ipv4)
            .filter_map(|r| r.interface.as_deref())
            .find(|i| nics.iter().any(|n| n.name == *i));
        let management = routed
            .or(nics.first().map(|n| n.name.as_str()))
            .unwrap_or_default()
            .to_owned();
        let hostname = if check_hostname(&facts.hostname).is_ok() {
            facts.hostname.clone()
        } else {
            // Left for the operator: the inline message says why.
            String::new()
        };
        Self::from_config(&NetworkConfig {
            hostname,
            management,
            links: nics
                .iter()
                .map(|n| LinkConfig {
                    name: n.name.clone(),
                    kind: LinkKind::Ethernet,
                    ipv4: Ipv4Config::Dhcp,
                    ipv6: Ipv6Config::Disabled,
                    mtu: None,
                })
                .collect(),
            dns: DnsConfig {
                servers: facts.dns.servers.iter().map(ToString::to_string).collect(),
                search: vec![],
            },
            ntp: vec![],
        })
    }

    /// The configuration to send, and every problem with it: text that
    /// does not parse, then what `lqx_core::network::validate` finds.
    pub fn check(&self, nics: Option<&[NicFacts]>) -> (NetworkConfig, Option<ValidationErrors>) {
        let mut errors = vec![];
        let links = self
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| l.to_config(&format!("links[{i}]"), &mut errors))
            .collect();
        let config = NetworkConfig {
            hostname: self.hostname.value().trim().to_owned(),
            management: self.management.clone(),
            links,
            dns: DnsConfig {
                servers: split_list(self.dns_servers.value()),
                search: split_list(self.dns_search.value()),
            },
            ntp: split_list(self.ntp.value()),
        };
        if let Err(found) = validate(&config, nics) {
            errors.extend(found.0);
        }
        let errors = (!errors.is_empty()).then_some(ValidationErrors(errors));
        (config, errors)
    }

    /// Names of the links a VLAN can go on.
    pub fn vlan_parents(&self) -> Vec<String> {
        self.links
            .iter()
            .filter(|l| !matches!(l.kind, LinkKind::Vlan { .. }))
            .map(|l| l.name.clone())
            .collect()
    }

    pub(super) fn bonded(&self) -> Vec<&str> {
        self.links
            .iter()
            .flat_map(|l| match &l.kind {
                LinkKind::Bond { members, .. } => members.iter().map(String::as_str).collect(),
                _ => vec![],
            })
            .collect()
    }

    /// Re-points VLANs on `from` and the management role to `to`.
    pub(super) fn move_role(&mut self, from: &[String], to: &str) {
        if from.contains(&self.management) {
            self.management = to.to_owned();
        }
        for link in &mut self.links {
            if let LinkKind::Vlan { parent, .. } = &mut link.kind
                && from.contains(parent)
            {
                *parent = to.to_owned();
            }
        }
    }
}

/// A field path for an operator: `links[1].ipv4.gateway` becomes
/// `eno2 ipv4.gateway`.
pub fn describe_field(draft: &Draft, field: &str) -> String {
    let Some(rest) = field.strip_prefix("links[") else {
        return field.to_owned();
    };
    let Some((index, tail)) = rest.split_once(']') else {
        return field.to_owned();
    };
    match index.parse::<usize>().ok().and_then(|i| draft.links.get(i)) {
        Some(link) => format!("{} {}", link.name, tail.trim_start_matches('.'))
            .trim()
            .to_owned(),
        None => field.to_owned(),
    }
}
