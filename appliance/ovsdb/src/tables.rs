//! Typed rows of the tables LimiQuantix reads, in Open_vSwitch,
//! OVN_Southbound and OVN_Northbound. Hand-written for the columns used
//! (a generator over the .ovsschema files would type hundreds of columns
//! nobody reads); columns absent from a row read as their default.

use crate::datum::Atom;
use crate::replica::{Replica, Row, column};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A typed view of one table's rows.
pub trait Table: Sized {
    /// The table's name.
    const NAME: &'static str;
    /// The columns a monitor needs for this type.
    const COLUMNS: &'static [&'static str];
    /// Builds the typed row.
    fn from_row(uuid: Uuid, row: &Row) -> Self;
}

/// Every row of `T` in `replica`.
pub fn rows<T: Table>(replica: &Replica) -> Vec<T> {
    replica
        .rows(T::NAME)
        .map(|(uuid, row)| T::from_row(*uuid, row))
        .collect()
}

fn string(row: &Row, name: &str) -> String {
    column(row, name).as_str().unwrap_or_default().to_owned()
}

fn optional_string(row: &Row, name: &str) -> Option<String> {
    column(row, name).as_str().map(str::to_owned)
}

fn uuids(row: &Row, name: &str) -> Vec<Uuid> {
    column(row, name)
        .atoms()
        .iter()
        .filter_map(Atom::as_uuid)
        .collect()
}

fn string_map(row: &Row, name: &str) -> BTreeMap<String, String> {
    column(row, name)
        .pairs()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
        .collect()
}

fn boolean(row: &Row, name: &str) -> Option<bool> {
    match column(row, name).as_atom() {
        Some(Atom::Boolean(b)) => Some(*b),
        _ => None,
    }
}

/// `Open_vSwitch`: the switch's root row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenVSwitch {
    /// Row id.
    pub uuid: Uuid,
    /// `external_ids`, where OVN's chassis settings live.
    pub external_ids: BTreeMap<String, String>,
    /// The bridges.
    pub bridges: Vec<Uuid>,
}

impl Table for OpenVSwitch {
    const NAME: &'static str = "Open_vSwitch";
    const COLUMNS: &'static [&'static str] = &["external_ids", "bridges"];
    fn from_row(uuid: Uuid, row: &Row) -> Self {
        Self {
            uuid,
            external_ids: string_map(row, "external_ids"),
            bridges: uuids(row, "bridges"),
        }
    }
}

/// `Bridge`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bridge {
    /// Row id.
    pub uuid: Uuid,
    /// The bridge's name.
    pub name: String,
    /// Its ports.
    pub ports: Vec<Uuid>,
}

impl Table for Bridge {
    const NAME: &'static str = "Bridge";
    const COLUMNS: &'static [&'static str] = &["name", "ports"];
    fn from_row(uuid: Uuid, row: &Row) -> Self {
        Self {
            uuid,
            name: string(row, "name"),
            ports: uuids(row, "ports"),
        }
    }
}

/// Southbound `Chassis`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chassis {
    /// Row id.
    pub uuid: Uuid,
    /// The chassis name (a host's `system-id`).
    pub name: String,
    /// The host's name.
    pub hostname: String,
    /// Its tunnel endpoints.
    pub encaps: Vec<Uuid>,
    /// The provider networks it has a bridge for (the physnets of its
    /// `other_config:ovn-bridge-mappings`, which ovn-controller copies
    /// from the host's Open_vSwitch row).
    pub physnets: Vec<String>,
}

impl Table for Chassis {
    const NAME: &'static str = "Chassis";
    const COLUMNS: &'static [&'static str] = &["name", "hostname", "encaps", "other_config"];
    fn from_row(uuid: Uuid, row: &Row) -> Self {
        Self {
            uuid,
            name: string(row, "name"),
            hostname: string(row, "hostname"),
            encaps: uuids(row, "encaps"),
            physnets: column(row, "other_config")
                .get("ovn-bridge-mappings")
                .unwrap_or_default()
                .split(',')
                .filter_map(|m| m.split_once(':').map(|(net, _)| net.trim().to_owned()))
                .filter(|net| !net.is_empty())
                .collect(),
        }
    }
}

/// Southbound `Encap`: one tunnel endpoint of a chassis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encap {
    /// Row id.
    pub uuid: Uuid,
    /// `geneve`, `vxlan`, ...
    pub kind: String,
    /// The endpoint address.
    pub ip: String,
    /// The chassis it belongs to.
    pub chassis_name: String,
}

impl Table for Encap {
    const NAME: &'static str = "Encap";
    const COLUMNS: &'static [&'static str] = &["type", "ip", "chassis_name"];
    fn from_row(uuid: Uuid, row: &Row) -> Self {
        Self {
            uuid,
            kind: string(row, "type"),
            ip: string(row, "ip"),
            chassis_name: string(row, "chassis_name"),
        }
    }
}

/// Southbound `Chassis_Private`: kept by a connected ovn-controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChassisPrivate {
    /// Row id.
    pub uuid: Uuid,
    /// The chassis name.
    pub name: String,
}

impl Table for ChassisPrivate {
    const NAME: &'static str = "Chassis_Private";
    const COLUMNS: &'static [&'static str] = &["name"];
    fn from_row(uuid: Uuid, row: &Row) -> Self {
        Self {
            uuid,
            name: string(row, "name"),
        }
    }
}

/// Northbound `Logical_Switch`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogicalSwitch {
    /// Row id.
    pub uuid: Uuid,
    /// Its name.
    pub name: String,
    /// Its ports.
    pub ports: Vec<Uuid>,
}

impl Table for LogicalSwitch {
    const NAME: &'static str = "Logical_Switch";
    const COLUMNS: &'static [&'static str] = &["name", "ports"];
    fn from_row(uuid: Uuid, row: &Row) -> Self {
        Self {
            uuid,
            name: string(row, "name"),
            ports: uuids(row, "ports"),
        }
    }
}

/// Northbound `Logical_Switch_Port`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogicalSwitchPort {
    /// Row id.
    pub uuid: Uuid,
    /// Its name (the `iface-id` an OVS interface binds with).
    pub name: String,
    /// Whether it is bound and up, once northd says (`None`: not yet).
    pub up: Option<bool>,
    /// Its `type` (empty for a VM port).
    pub kind: Option<String>,
}

impl Table for LogicalSwitchPort {
    const NAME: &'static str = "Logical_Switch_Port";
    const COLUMNS: &'static [&'static str] = &["name", "up", "type"];
    fn from_row(uuid: Uuid, row: &Row) -> Self {
        Self {
            uuid,
            name: string(row, "name"),
            up: boolean(row, "up"),
            kind: optional_string(row, "type").filter(|t| !t.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn typed_rows_from_a_replica() {
        let schema = Schema::from_json(&json!({"name": "OVN_Southbound", "tables": {
            "Chassis": {"columns": {
                "name": {"type": "string"}, "hostname": {"type": "string"},
                "encaps": {"type": {"key": {"type": "uuid", "refTable": "Encap"}, "min": 1, "max": "unlimited"}}}},
            "Encap": {"columns": {
                "type": {"type": "string"}, "ip": {"type": "string"}, "chassis_name": {"type": "string"}}}
        }}))
        .unwrap();
        let mut replica = Replica::new(Arc::new(schema));
        let encap = Uuid::from_u128(2);
        replica
            .apply(&json!({
                "Chassis": {Uuid::from_u128(1).to_string(): {"initial": {
                    "name": "hv1", "hostname": "hv-1", "encaps": ["uuid", encap.to_string()]}}},
                "Encap": {encap.to_string(): {"initial": {
                    "type": "geneve", "ip": "10.0.0.5", "chassis_name": "hv1"}}}
            }))
            .unwrap();
        let chassis = rows::<Chassis>(&replica);
        assert_eq!(chassis.len(), 1);
        assert_eq!(
            (chassis[0].name.as_str(), chassis[0].encaps.as_slice()),
            ("hv1", &[encap][..])
        );
        let encaps = rows::<Encap>(&replica);
        assert_eq!(
            (encaps[0].kind.as_str(), encaps[0].ip.as_str()),
            ("geneve", "10.0.0.5")
        );
    }
}
