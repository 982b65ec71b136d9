//! Versioned documents: every file the agent persists carries a
//! `schema_version`, and reading one checks it before anything else.

use serde::{Serialize, de::DeserializeOwned};
use thiserror::Error;

/// A document the agent persists as one JSON file in its state directory.
pub trait Document: Serialize + DeserializeOwned {
    /// File name inside the state directory.
    const FILE_NAME: &'static str;
    /// Schema version this build writes.
    const SCHEMA_VERSION: u32;

    /// Turns a document written with an older `version` into the current
    /// form. The default knows no older versions.
    fn upgrade(version: u32, _value: serde_json::Value) -> Result<Self, DocumentError> {
        Err(DocumentError::UnsupportedVersion {
            file: Self::FILE_NAME,
            found: version,
            current: Self::SCHEMA_VERSION,
        })
    }
}

/// Why a persisted document could not be read.
#[derive(Debug, Error)]
pub enum DocumentError {
    /// Not JSON, or no object with a numeric `schema_version`.
    #[error("{file} is not a valid state document")]
    Malformed {
        /// The file.
        file: &'static str,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The `schema_version` field is missing or not a number.
    #[error("{file} has no schema_version")]
    NoVersion {
        /// The file.
        file: &'static str,
    },
    /// Written by a newer agent; refusing rather than losing its fields.
    #[error(
        "{file} has schema version {found}, newer than this agent's {current}; \
         run a newer lqxd or restore an older state directory"
    )]
    TooNew {
        /// The file.
        file: &'static str,
        /// Version found.
        found: u32,
        /// Version this build writes.
        current: u32,
    },
    /// An old version this build cannot read.
    #[error("{file} has schema version {found}, which this agent (version {current}) cannot read")]
    UnsupportedVersion {
        /// The file.
        file: &'static str,
        /// Version found.
        found: u32,
        /// Version this build writes.
        current: u32,
    },
}

/// Decodes a document, checking its schema version first and upgrading
/// older versions.
pub fn decode<D: Document>(bytes: &[u8]) -> Result<D, DocumentError> {
    let malformed = |source| DocumentError::Malformed {
        file: D::FILE_NAME,
        source,
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(malformed)?;
    let version = value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or(DocumentError::NoVersion { file: D::FILE_NAME })?;
    match version.cmp(&D::SCHEMA_VERSION) {
        std::cmp::Ordering::Equal => serde_json::from_value(value).map_err(malformed),
        std::cmp::Ordering::Greater => Err(DocumentError::TooNew {
            file: D::FILE_NAME,
            found: version,
            current: D::SCHEMA_VERSION,
        }),
        std::cmp::Ordering::Less => D::upgrade(version, value),
    }
}

/// Encodes a document as pretty JSON with a trailing newline, so that an
/// operator can read it with `cat`.
pub fn encode<D: Document>(doc: &D) -> Vec<u8> {
    // Serializing plain structs of strings, numbers and maps cannot fail.
    let mut bytes = serde_json::to_vec_pretty(doc).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
