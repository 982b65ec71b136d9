//! The persisted host document: identity and labels.

use crate::document::Document;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// `host.json` in the state directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostState {
    /// Always [`HostState::SCHEMA_VERSION`] once read.
    pub schema_version: u32,
    /// The host's identity, created once and never changed.
    pub host_id: Uuid,
    /// When the identity was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Operator-set labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Incremented by every write; lets readers and tests order states.
    pub generation: u64,
}

impl Document for HostState {
    const FILE_NAME: &'static str = "host.json";
    const SCHEMA_VERSION: u32 = 1;
}

impl HostState {
    /// A fresh identity for a host seen for the first time.
    pub fn new(host_id: Uuid, created_at: OffsetDateTime) -> Self {
        Self {
            schema_version: Self::SCHEMA_VERSION,
            host_id,
            created_at,
            labels: BTreeMap::new(),
            generation: 0,
        }
    }

    /// The next state with `labels`, one generation later.
    pub fn with_labels(&self, labels: BTreeMap<String, String>) -> Self {
        Self {
            labels,
            generation: self.generation + 1,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{DocumentError, decode, encode};

    fn sample() -> HostState {
        HostState::new(Uuid::nil(), OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn round_trip() {
        let state = sample().with_labels([("rack".into(), "r1".into())].into());
        let back: HostState = decode(&encode(&state)).unwrap();
        assert_eq!(back, state);
        assert_eq!(back.generation, 1);
    }

    #[test]
    fn newer_schema_is_refused() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["schema_version"] = 2.into();
        let err = decode::<HostState>(value.to_string().as_bytes()).unwrap_err();
        assert!(
            matches!(
                err,
                DocumentError::TooNew {
                    found: 2,
                    current: 1,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn older_unknown_schema_is_refused() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["schema_version"] = 0.into();
        let err = decode::<HostState>(value.to_string().as_bytes()).unwrap_err();
        assert!(
            matches!(err, DocumentError::UnsupportedVersion { .. }),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for bytes in [
            &b""[..],
            b"{",
            b"[]",
            b"{\"schema_version\":\"1\"}",
            b"\xff\xfe",
        ] {
            assert!(decode::<HostState>(bytes).is_err());
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["surprise"] = true.into();
        assert!(matches!(
            decode::<HostState>(value.to_string().as_bytes()),
            Err(DocumentError::Malformed { .. })
        ));
    }
}
