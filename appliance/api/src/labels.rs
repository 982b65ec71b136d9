//! Operator-set labels on a host (`rack=r12`, `role=storage`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A host's labels: key → value, sorted by key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    /// The labels.
    pub labels: BTreeMap<String, String>,
}

/// `PATCH /v1/host/labels`: labels to set and keys to remove, applied
/// together or not at all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelsPatch {
    /// Labels to add or overwrite.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Keys to remove; removing an absent key is not an error.
    #[serde(default)]
    pub remove: Vec<String>,
}
