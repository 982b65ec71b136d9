//! Virtual networks on OVN: the cluster's OVN central databases,
//! networks (logical switches), routers, floating IPs, security groups,
//! load balancers and ports (what a VM's NIC plugs into).

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// `PUT|GET /v1/ovn/central`: where the cluster's OVN central databases
/// are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OvnCentral {
    /// The northbound database: `tcp:IP:PORT` or `ssl:IP:PORT`, several
    /// comma-separated for a clustered database.
    pub nb_remote: String,
    /// The southbound database, same form; chassis registration uses it
    /// when given none.
    pub sb_remote: String,
    /// For `ssl:` remotes: the PEM certificate of the authority that
    /// signed the databases' certificates (which must name the addresses
    /// dialled). Hosts present their cluster certificates, so the
    /// databases must trust the cluster's authority (the admin bundle's
    /// `ca.crt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
}

/// How far the northbound database carries the cluster's networks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VnetSync {
    /// The central databases, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub central: Option<OvnCentral>,
    /// The generation of the cluster's network state (every change adds
    /// one).
    pub generation: u64,
    /// The generation last written to the northbound database in full.
    pub applied: u64,
    /// The host that writes the northbound database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer: Option<Uuid>,
    /// When it last wrote or found nothing to write.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<OffsetDateTime>,
    /// Why the last attempt failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

mod opt_time {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub fn serialize<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&t.format(&Rfc3339).map_err(serde::ser::Error::custom)?),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|t| OffsetDateTime::parse(&t, &Rfc3339).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// `POST /v1/networks`: a network (an OVN logical switch).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkCreate {
    /// Its name, unique in the cluster: 1–63 of `a-z 0-9 -`.
    pub name: String,
    /// Its IPv4 subnet (`10.0.0.0/24`); a provider network without one
    /// carries whatever the physical network does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    /// The gateway address; default: the subnet's first address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub gateway: Option<Ipv4Addr>,
    /// Its IPv6 subnet, a /64 (`fd00:1::/64`). Ports take their
    /// addresses by SLAAC from the advertisements of the router the
    /// network is attached to: each port's address is the EUI-64 one of
    /// its MAC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet6: Option<String>,
    /// The router's IPv6 address on it; default: the subnet's `::1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub gateway6: Option<Ipv6Addr>,
    /// Whether OVN answers DHCP on it (needs a subnet): DHCPv4 with
    /// addresses, and, with an IPv6 subnet, stateless DHCPv6 (DNS
    /// servers; addresses come from SLAAC).
    #[serde(default)]
    pub dhcp: bool,
    /// DNS servers handed out by DHCP (IPv4 ones by DHCPv4, IPv6 ones by
    /// DHCPv6).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub dns: Vec<IpAddr>,
    /// The MTU handed out by DHCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u16>,
    /// For a provider network: the physical network name that hosts map
    /// to a bridge (`ovn-bridge-mappings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physnet: Option<String>,
    /// For a provider network: its VLAN (1–4094); none: untagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
}

/// A network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Network {
    /// Its id.
    pub id: Uuid,
    /// What it was created with (the gateway filled in).
    #[serde(flatten)]
    pub spec: NetworkCreate,
    /// How many ports it has (VM NICs, router ports not counted).
    pub ports: usize,
    /// The routers attached to it.
    #[serde(default)]
    pub routers: Vec<String>,
}

/// `POST /v1/routers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouterCreate {
    /// Its name, unique in the cluster: 1–63 of `a-z 0-9 -`.
    pub name: String,
}

/// `POST /v1/routers/{router}/networks`, `.../gateway`: a network to
/// attach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouterNetwork {
    /// The network's name.
    pub network: String,
}

/// A router's external gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RouterGateway {
    /// The external network.
    pub network: String,
    /// The router's address on it (SNAT source of attached networks).
    #[schema(value_type = String)]
    pub ip: Ipv4Addr,
}

/// A router.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Router {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The networks attached (the router is their gateway).
    pub networks: Vec<String>,
    /// Its external gateway, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<RouterGateway>,
}

/// `POST /v1/floating-ips`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FloatingIpCreate {
    /// The external network it is taken from.
    pub external: String,
    /// The address; default: the first free one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub ip: Option<Ipv4Addr>,
}

/// `POST /v1/floating-ips/{ip}/associate`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FloatingIpAssociate {
    /// The port (id or name) the address is translated to.
    pub port: String,
}

/// A floating IP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FloatingIp {
    /// Its id.
    pub id: Uuid,
    /// The external network.
    pub external: String,
    /// The address.
    #[schema(value_type = String)]
    pub ip: Ipv4Addr,
    /// The port it reaches, when associated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Uuid>,
    /// The router that translates it, when associated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router: Option<String>,
}

/// `POST /v1/security-groups`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupCreate {
    /// Its name, unique in the cluster: 1–63 of `a-z 0-9 -`.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
}

/// Which traffic a rule allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Into the group's ports.
    Ingress,
    /// Out of the group's ports.
    Egress,
}

/// The protocol a rule allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP (ICMPv4 and ICMPv6).
    Icmp,
    /// Any IP (IPv4 and IPv6).
    Any,
}

/// `POST /v1/security-groups/{sg}/rules`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityRuleCreate {
    /// Ingress or egress.
    pub direction: Direction,
    /// The protocol.
    pub protocol: Protocol,
    /// First port (TCP and UDP only); none: every port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_min: Option<u16>,
    /// Last port; default: `port_min`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_max: Option<u16>,
    /// The peer's addresses (`10.0.0.0/8`, `fd00::/48`), which also
    /// limit the rule to that family; none and no group: anywhere, both
    /// families.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_cidr: Option<String>,
    /// The peer: the ports of this security group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_group: Option<String>,
}

/// A rule of a security group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SecurityRule {
    /// Its id.
    pub id: Uuid,
    /// What it allows.
    #[serde(flatten)]
    pub spec: SecurityRuleCreate,
}

/// A security group: its ports accept what its ingress rules allow (and
/// the replies), and send what its egress rules allow. A new group allows
/// all egress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SecurityGroup {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Its rules.
    pub rules: Vec<SecurityRule>,
    /// How many ports are in it.
    pub ports: usize,
}

/// The transport protocol of a load balancer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LbProtocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// `POST /v1/load-balancers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancerCreate {
    /// Its name, unique in the cluster: 1–63 of `a-z 0-9 -`.
    pub name: String,
    /// The virtual address (`IP:PORT`).
    pub vip: String,
    /// The backends (`IP:PORT`).
    pub members: Vec<String>,
    /// TCP or UDP.
    pub protocol: LbProtocol,
    /// The network whose ports reach it (and whose routers).
    pub network: String,
    /// Check the members and send only to those that answer (OVN's
    /// service monitor; members must be ports of the network).
    #[serde(default)]
    pub health_check: bool,
}

/// A load balancer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoadBalancer {
    /// Its id.
    pub id: Uuid,
    /// What it was created with.
    #[serde(flatten)]
    pub spec: LoadBalancerCreate,
    /// The source address of health checks, when checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub health_source: Option<Ipv4Addr>,
}

/// `POST /v1/ports`: a port on a network (what a VM NIC plugs into).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortCreate {
    /// Its name, unique in the cluster; default: `port-` and its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The network.
    pub network: String,
    /// Its address; default: the first free one (none on a network
    /// without a subnet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub ip: Option<Ipv4Addr>,
    /// Its MAC; default: one derived from its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// Its security groups; none: traffic is not filtered.
    #[serde(default)]
    pub security_groups: Vec<String>,
}

/// A port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Port {
    /// Its id.
    pub id: Uuid,
    /// Its name (the OVN logical switch port's).
    pub name: String,
    /// The network.
    pub network: String,
    /// Its MAC.
    pub mac: String,
    /// Its address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub ip: Option<Ipv4Addr>,
    /// Its IPv6 address, on a network with an IPv6 subnet: the EUI-64
    /// address of its MAC, which the guest configures by SLAAC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub ip6: Option<Ipv6Addr>,
    /// Its security groups.
    pub security_groups: Vec<String>,
    /// The VM it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm: Option<Uuid>,
    /// Whether OVN has bound it on a chassis (the host running its VM),
    /// as the northbound writer last saw; absent when not known (no
    /// central databases, or not written yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up: Option<bool>,
}
