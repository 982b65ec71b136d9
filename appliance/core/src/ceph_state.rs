//! `ceph.json`: the cluster this host joined and its cephx key.

use crate::document::Document;
use lqx_api::CephConfig;
use serde::{Deserialize, Serialize};

/// The persisted membership.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CephState {
    /// Always [`CephState::SCHEMA_VERSION`] once read.
    #[serde(default)]
    pub schema_version: u32,
    /// The membership, once a join succeeded.
    pub config: Option<CephConfig>,
    /// The cephx key of `config.name`, base64. The document is 0600 like
    /// every state file.
    pub key: Option<String>,
}

// The key stays out of logs.
impl std::fmt::Debug for CephState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CephState")
            .field("schema_version", &self.schema_version)
            .field("config", &self.config)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Document for CephState {
    const FILE_NAME: &'static str = "ceph.json";
    const SCHEMA_VERSION: u32 = 1;
}
