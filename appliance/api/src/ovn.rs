//! Registering this host as an OVN chassis.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Tunnel encapsulation between chassis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EncapType {
    /// Geneve (OVN's default).
    #[default]
    Geneve,
    /// VXLAN (fewer features; for underlays that need it).
    Vxlan,
}

impl EncapType {
    /// The name OVN uses.
    pub fn as_str(self) -> &'static str {
        match self {
            EncapType::Geneve => "geneve",
            EncapType::Vxlan => "vxlan",
        }
    }
}

/// `POST /v1/ovn/chassis`: the chassis settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChassisRequest {
    /// The southbound database: `tcp:IP:PORT` or `ssl:IP:PORT`, several
    /// comma-separated for a clustered database. Empty or left out: the
    /// cluster's OVN central southbound database (`PUT /v1/ovn/central`).
    #[serde(default)]
    pub sb_remote: String,
    /// This host's tunnel endpoint: one of its own addresses.
    #[schema(value_type = String)]
    pub encap_ip: IpAddr,
    /// Tunnel encapsulation.
    #[serde(default)]
    pub encap_type: EncapType,
    /// Provider networks: `PHYSNET:BRIDGE` pairs.
    #[serde(default)]
    pub bridge_mappings: Vec<String>,
    /// For an `ssl:` southbound database: the PEM certificate of the
    /// authority that signed its certificate. Default: the cluster's OVN
    /// central's, when `sb_remote` is the central's. The host presents its
    /// cluster certificate, so the database must trust the cluster's
    /// authority (the admin bundle's `ca.crt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
}

/// The persisted chassis settings, as applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChassisConfig {
    /// What was asked for.
    #[serde(flatten)]
    pub request: ChassisRequest,
    /// The chassis name: this host's id.
    pub system_id: String,
    /// When the registration was confirmed in the southbound database.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub registered_at: OffsetDateTime,
}

/// `GET /v1/ovn/chassis`: configured values and what the databases say now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChassisStatus {
    /// The registration, when there is one.
    pub config: Option<ChassisConfig>,
    /// Whether the local Open_vSwitch database carries the settings.
    pub ovs_configured: bool,
    /// Whether the southbound database answered just now.
    pub sb_reachable: bool,
    /// Whether the southbound `Chassis` row for this host exists.
    pub chassis_present: bool,
    /// Tunnel endpoints the southbound database lists for this chassis
    /// (`geneve 10.0.0.5`).
    pub encaps: Vec<String>,
    /// Whether ovn-controller keeps this chassis' `Chassis_Private` row,
    /// which it writes while connected.
    pub controller_connected: bool,
    /// Why something could not be read, when it could not.
    pub problem: Option<String>,
}
