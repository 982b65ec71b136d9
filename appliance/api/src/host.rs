//! `GET /v1/host`: what the host is and how it is doing.

use crate::agent::AgentInfo;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// The host as the agent sees it: identity, the running system and its
/// network, read from the kernel when asked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostInfo {
    /// Stable identity of this host, created on the agent's first start
    /// and kept in its state directory.
    pub host_id: Uuid,
    /// Operator-set labels.
    pub labels: BTreeMap<String, String>,
    /// The agent answering.
    pub agent: AgentInfo,
    /// Facts read from the running system.
    #[serde(flatten)]
    pub facts: HostFacts,
}

/// Facts read from the running system at the time of the request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HostFacts {
    /// The kernel's host name.
    pub hostname: String,
    /// The systemd machine id (`/etc/machine-id`), when the system has one.
    pub machine_id: Option<String>,
    /// The operating system (`os-release`).
    pub os: OsRelease,
    /// The running kernel.
    pub kernel: KernelInfo,
    /// When the host booted (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub boot_time: OffsetDateTime,
    /// Seconds since boot.
    pub uptime_seconds: u64,
    /// Processors.
    pub cpu: CpuInfo,
    /// Memory.
    pub memory: MemoryInfo,
    /// Load averages.
    pub load: LoadAverage,
    /// Every network interface the kernel knows, in index order.
    pub interfaces: Vec<NetworkInterface>,
    /// Default routes (IPv4 and IPv6) of the main routing table.
    pub default_routes: Vec<DefaultRoute>,
    /// DNS resolvers in use.
    pub dns: DnsInfo,
}

/// Fields of `os-release(5)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OsRelease {
    /// `ID`, e.g. `debian`.
    pub id: Option<String>,
    /// `NAME`.
    pub name: Option<String>,
    /// `VERSION_ID`.
    pub version_id: Option<String>,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
    /// `IMAGE_VERSION` (set on appliance images).
    pub image_version: Option<String>,
}

/// The running kernel (`uname(2)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KernelInfo {
    /// Kernel name, `Linux`.
    pub name: String,
    /// Release, e.g. `6.1.0-40-amd64`.
    pub release: String,
    /// Build version string.
    pub version: String,
    /// Machine architecture, e.g. `x86_64`.
    pub machine: String,
}

/// Processors of the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CpuInfo {
    /// Model name of the first processor.
    pub model: Option<String>,
    /// Logical processors online.
    pub count: u32,
}

/// Memory of the host, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemoryInfo {
    /// Usable RAM (`MemTotal`).
    pub total_bytes: u64,
    /// Memory available for new work without swapping (`MemAvailable`).
    pub available_bytes: u64,
}

/// Run-queue load averages.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LoadAverage {
    /// Over 1 minute.
    pub one: f64,
    /// Over 5 minutes.
    pub five: f64,
    /// Over 15 minutes.
    pub fifteen: f64,
}

/// Operational state of a link (RFC 2863, as the kernel reports it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// Ready to pass packets.
    Up,
    /// Not passing packets.
    Down,
    /// Down because a lower layer is down (e.g. no carrier under a VLAN).
    LowerLayerDown,
    /// Waiting for an external event.
    Dormant,
    /// In a test mode.
    Testing,
    /// A component is missing.
    NotPresent,
    /// The driver does not report a state (typical of loopback and
    /// virtual devices).
    Unknown,
}

/// A network interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NetworkInterface {
    /// Kernel name, e.g. `eno1`.
    pub name: String,
    /// Kernel interface index.
    pub index: u32,
    /// Link kind for virtual devices (`bridge`, `bond`, `vlan`, `veth`,
    /// ...); absent for physical NICs.
    pub kind: Option<String>,
    /// Hardware (MAC) address, lower-case, colon separated.
    pub mac: Option<String>,
    /// Maximum transmission unit in bytes.
    pub mtu: u32,
    /// Largest MTU the driver accepts, when it says.
    #[serde(default)]
    pub max_mtu: Option<u32>,
    /// Whether the interface is administratively up.
    pub admin_up: bool,
    /// Operational state.
    pub link_state: LinkState,
    /// Whether the physical layer has a carrier, when reported.
    pub carrier: Option<bool>,
    /// Name of the device this one is enslaved to (bridge, bond), if any.
    pub controller: Option<String>,
    /// Addresses assigned to the interface.
    pub addresses: Vec<InterfaceAddress>,
}

/// IP version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AddressFamily {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
}

/// Scope of an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AddressScope {
    /// Valid everywhere.
    Global,
    /// Valid only on this site.
    Site,
    /// Valid only on this link.
    Link,
    /// Valid only on this host (loopback).
    Host,
    /// Another scope value.
    Other,
}

/// An address on an interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InterfaceAddress {
    /// The address.
    #[schema(value_type = String)]
    pub address: IpAddr,
    /// Prefix length of its subnet.
    pub prefix_len: u8,
    /// IP version.
    pub family: AddressFamily,
    /// Scope.
    pub scope: AddressScope,
    /// Whether the address was configured by a protocol (DHCP, SLAAC) and
    /// expires, rather than set permanently.
    pub dynamic: bool,
}

/// A default route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DefaultRoute {
    /// IP version.
    pub family: AddressFamily,
    /// Next hop, when the route has one.
    #[schema(value_type = Option<String>)]
    pub gateway: Option<IpAddr>,
    /// Outgoing interface name.
    pub interface: Option<String>,
    /// Route metric (priority); lower wins.
    pub metric: Option<u32>,
}

/// DNS resolvers in use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DnsInfo {
    /// Name servers, in the order they are tried.
    #[schema(value_type = Vec<String>)]
    pub servers: Vec<IpAddr>,
    /// Search domains.
    pub search: Vec<String>,
    /// The file the resolvers were read from.
    pub source: String,
}

/// What `POST /v1/host/power` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PowerAction {
    /// Restart the host.
    Reboot,
    /// Turn the host off.
    Poweroff,
}

/// `POST /v1/host/power` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PowerRequest {
    /// The action.
    pub action: PowerAction,
}
