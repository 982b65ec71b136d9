//! The host's desired network configuration and the safe-apply cycle.
//!
//! Addresses travel as strings ("192.0.2.10/24", "2001:db8::1") so that a
//! malformed one gets a message naming its field instead of a generic
//! body error; `lqx-core` parses and validates them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Everything lqxd renders into systemd-networkd, resolved, timesyncd and
/// hostnamed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Static hostname (RFC 1123 name, up to 63 characters per label).
    pub hostname: String,
    /// Name of the link (NIC, bond or VLAN) that carries the management
    /// address: the API, the console's URL and the safe-apply checks use it.
    pub management: String,
    /// Links with their addressing. NICs that are bond members are not
    /// listed here: they belong to their bond.
    pub links: Vec<LinkConfig>,
    /// Resolver settings used by every link.
    #[serde(default)]
    pub dns: DnsConfig,
    /// NTP servers (host names or addresses); empty means the image's
    /// defaults.
    #[serde(default)]
    pub ntp: Vec<String>,
}

/// One link and its addressing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkConfig {
    /// Kernel name: the NIC's name, or the bond's or VLAN's to create.
    pub name: String,
    /// What the link is.
    pub kind: LinkKind,
    /// IPv4 addressing.
    #[serde(default)]
    pub ipv4: Ipv4Config,
    /// IPv6 addressing.
    #[serde(default)]
    pub ipv6: Ipv6Config,
    /// MTU in bytes; absent keeps the NIC's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
}

/// The kind of a link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LinkKind {
    /// A physical NIC.
    Ethernet,
    /// A bond over NICs.
    Bond {
        /// Member NICs.
        members: Vec<String>,
        /// Bonding mode.
        mode: BondMode,
    },
    /// A VLAN sub-interface.
    Vlan {
        /// The NIC or bond carrying the tagged frames.
        parent: String,
        /// VLAN id, 1–4094.
        id: u16,
    },
}

/// Bonding modes offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BondMode {
    /// One member carries traffic; another takes over on link loss.
    ActiveBackup,
    /// LACP (IEEE 802.3ad); the switch must be configured for it.
    #[serde(rename = "802.3ad")]
    Lacp,
}

impl BondMode {
    /// The name systemd-networkd and the kernel use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ActiveBackup => "active-backup",
            Self::Lacp => "802.3ad",
        }
    }
}

/// IPv4 addressing of a link.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Ipv4Config {
    /// No IPv4 address.
    #[default]
    Disabled,
    /// DHCPv4.
    Dhcp,
    /// Fixed addresses.
    Static {
        /// Addresses with prefix length, e.g. "192.0.2.10/24".
        addresses: Vec<String>,
        /// Default gateway; must lie inside one of the addresses' subnets.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gateway: Option<String>,
    },
}

/// IPv6 addressing of a link.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Ipv6Config {
    /// No IPv6 address beyond link-local.
    #[default]
    Disabled,
    /// Stateless autoconfiguration from router advertisements.
    Slaac,
    /// DHCPv6 (with router advertisements for the route).
    Dhcp,
    /// Fixed addresses.
    Static {
        /// Addresses with prefix length, e.g. "2001:db8::10/64".
        addresses: Vec<String>,
        /// Default gateway; must lie inside one of the addresses' subnets.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gateway: Option<String>,
    },
}

/// Resolver settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsConfig {
    /// DNS server addresses, in order of preference.
    #[serde(default)]
    pub servers: Vec<String>,
    /// Search domains.
    #[serde(default)]
    pub search: Vec<String>,
}

/// Body of `POST /v1/host/network/apply`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// Seconds to wait for a confirmation before restoring the previous
    /// configuration; 10–3600, default 120.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u32>,
}

/// Answer of `GET /v1/host/network`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkStatus {
    /// The configuration saved by `PUT` (what the next apply renders);
    /// absent until one is saved: the image's default (DHCP on every NIC)
    /// is then in force.
    pub desired: Option<NetworkConfig>,
    /// The configuration in force: the last one confirmed.
    pub applied: Option<NetworkConfig>,
    /// An apply waiting for confirmation.
    pub pending: Option<PendingApply>,
    /// How the last apply ended.
    pub last_outcome: Option<ApplyOutcome>,
    /// How configurations reach the system.
    pub backend: NetworkBackendKind,
}

/// An applied configuration that is not yet confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PendingApply {
    /// The configuration now rendered into the system.
    pub config: NetworkConfig,
    /// When it was applied.
    #[serde(with = "time::serde::rfc3339")]
    pub applied_at: OffsetDateTime,
    /// When the previous configuration comes back unless confirmed.
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
    /// Checks run after the apply.
    pub checks: Vec<Check>,
}

/// How an apply ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyOutcome {
    /// When it ended.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Confirmed, or restored and why.
    pub result: ApplyResult,
    /// Explanation for an operator.
    pub message: String,
}

/// The end of an apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplyResult {
    /// The operator confirmed; the configuration is in force.
    Confirmed,
    /// Not confirmed in time: the previous configuration was restored.
    RevertedTimeout,
    /// The management address went away: the previous one was restored.
    RevertedLostManagement,
    /// The operator asked to go back.
    RevertedByOperator,
    /// Rendering or applying failed: the previous configuration was restored.
    Failed,
}

/// How configurations reach the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NetworkBackendKind {
    /// Files in /etc/systemd/network and friends, reloaded over D-Bus
    /// (the appliance).
    Networkd,
    /// Files rendered into a directory only; the host's networking is not
    /// touched (standalone agents).
    FilesOnly,
}

/// One preflight check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// What is checked, e.g. "gateway reachable".
    pub name: String,
    /// The verdict.
    pub status: CheckStatus,
    /// What was seen, for an operator.
    pub detail: String,
}

/// Verdict of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Fine.
    Pass,
    /// Not fine.
    Fail,
    /// Does not apply (e.g. no gateway configured).
    Skip,
}

/// Answer of `GET /v1/host/diagnostics`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Diagnostics {
    /// The management link checked.
    pub management: Option<String>,
    /// Preflight checks, in order: link, address, gateway, DNS, NTP.
    pub checks: Vec<Check>,
}
