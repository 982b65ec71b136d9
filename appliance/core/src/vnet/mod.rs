//! The cluster's virtual networks as one document in the cluster store:
//! networks, routers, floating IPs, security groups, load balancers and
//! ports. Every change is checked against the whole document and applied
//! to a copy, so a refused change leaves it as it was; the agent writes
//! the copy back only if nobody changed the document meanwhile.
//!
//! - [`addresses`]: subnets, address allocation, MACs.
//! - [`change`]: the changes the API makes, each checked in full.
//! - [`view`]: the API's views of the records.

pub mod addresses;
pub mod change;
pub mod view;

use lqx_api::{
    FloatingIp, LoadBalancer, NetworkCreate, OvnCentral, Port, RouterGateway, SecurityRule,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Where the document lives in the cluster store.
pub const STATE_KEY: &str = "/lqx/v1/vnet/state";
/// Where the northbound writer reports how far it got.
pub const SYNC_KEY: &str = "/lqx/v1/vnet/sync";
/// The northbound writer's claim (attached to its lease).
pub const WRITER_KEY: &str = "/lqx/v1/vnet/writer";
/// Where the writer reports which ports OVN has bound: a JSON map of
/// port id to `up`. Kept apart from the document so that a port going up
/// never races a change to the networks.
pub const PORTS_UP_KEY: &str = "/lqx/v1/vnet/ports-up";

/// Ports' `up` as the writer last saw them, by port id.
pub type PortsUp = std::collections::BTreeMap<Uuid, bool>;

/// Why a change was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VnetError {
    /// A bad value.
    #[error("{0}")]
    Invalid(String),
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The change conflicts with what exists (a taken name or address, an
    /// object still in use, overlapping subnets).
    #[error("{0}")]
    Conflict(String),
}

/// A network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRecord {
    /// Its id.
    pub id: Uuid,
    /// Its settings, the gateway filled in when it has a subnet.
    pub spec: NetworkCreate,
}

/// A router.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterRecord {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The attached networks, in attachment order.
    pub networks: Vec<String>,
    /// Its external gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<RouterGateway>,
}

/// A security group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroupRecord {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Its rules.
    pub rules: Vec<SecurityRule>,
}

/// Everything, as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VnetState {
    /// One more at every change.
    pub generation: u64,
    /// The OVN central databases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub central: Option<OvnCentral>,
    /// Networks by name.
    #[serde(default)]
    pub networks: BTreeMap<String, NetworkRecord>,
    /// Routers by name.
    #[serde(default)]
    pub routers: BTreeMap<String, RouterRecord>,
    /// Security groups by name.
    #[serde(default)]
    pub security_groups: BTreeMap<String, SecurityGroupRecord>,
    /// Floating IPs by id (`router` is not stored: it follows from the
    /// port's network).
    #[serde(default)]
    pub floating_ips: BTreeMap<Uuid, FloatingIp>,
    /// Load balancers by name.
    #[serde(default)]
    pub load_balancers: BTreeMap<String, LoadBalancer>,
    /// Ports by name.
    #[serde(default)]
    pub ports: BTreeMap<String, Port>,
}

impl VnetState {
    /// The document stored under [`STATE_KEY`]; none: an empty one.
    pub fn from_stored(bytes: Option<&[u8]>) -> Result<Self, serde_json::Error> {
        bytes.map_or_else(|| Ok(Self::default()), serde_json::from_slice)
    }

    /// The port with this id or name.
    pub fn port(&self, id_or_name: &str) -> Option<&Port> {
        self.ports.get(id_or_name).or_else(|| {
            let id: Uuid = id_or_name.parse().ok()?;
            self.ports.values().find(|p| p.id == id)
        })
    }

    /// The router that routes `network`, if one is attached.
    pub fn router_of(&self, network: &str) -> Option<&RouterRecord> {
        self.routers
            .values()
            .find(|r| r.networks.iter().any(|n| n == network))
    }

    /// The router that translates floating IP `fip` (of its port's
    /// network, with its gateway on the floating IP's network).
    pub fn fip_router(&self, fip: &FloatingIp) -> Option<&RouterRecord> {
        let port = self.ports.values().find(|p| Some(p.id) == fip.port)?;
        self.router_of(&port.network).filter(|r| {
            r.gateway
                .as_ref()
                .is_some_and(|g| g.network == fip.external)
        })
    }
}

/// The OVN logical switch port name of a port: its id, so a port recreated
/// under the same name is a different OVN port. It is also the OVS
/// interface's `iface-id`, which libvirt takes only as a UUID.
pub fn lsp_name(port: &Port) -> String {
    port.id.to_string()
}

/// A security group's OVN port group (names allow `[A-Za-z0-9_]`).
pub fn port_group_name(id: Uuid) -> String {
    format!("lqx_sg_{}", id.simple())
}

/// The address set of a security group's IPv4 addresses: the one
/// ovn-northd derives from its port group (`PG_ip4`) and keeps in the
/// southbound database.
pub fn address_set_name(id: Uuid) -> String {
    format!("lqx_sg_{}_ip4", id.simple())
}

/// The address set of a security group's IPv6 addresses (ovn-northd's
/// `PG_ip6`).
pub fn address_set6_name(id: Uuid) -> String {
    format!("lqx_sg_{}_ip6", id.simple())
}

/// The port group every filtered port is in, whose ACLs drop what no
/// security group allows.
pub const DROP_GROUP: &str = "lqx_drop";
