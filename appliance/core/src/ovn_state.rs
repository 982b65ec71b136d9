//! `ovn.json`: this host's OVN chassis registration, re-applied at start.

use crate::document::Document;
use lqx_api::ChassisConfig;
use serde::{Deserialize, Serialize};

/// The persisted registration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OvnState {
    /// Always [`OvnState::SCHEMA_VERSION`] once read.
    #[serde(default)]
    pub schema_version: u32,
    /// The registration confirmed in the southbound database, if any.
    pub chassis: Option<ChassisConfig>,
}

impl Document for OvnState {
    const FILE_NAME: &'static str = "ovn.json";
    const SCHEMA_VERSION: u32 = 1;
}
