//! Why NoCloud data was refused or the seed could not be written.

use std::fmt;
use std::path::PathBuf;

use crate::{MAX_DOCUMENT_BYTES, MAX_TOTAL_BYTES};

/// One of the NoCloud documents, named as the file on the seed ISO (which is
/// also how cloud-init's own documentation names them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Document {
    /// `user-data`.
    UserData,
    /// `meta-data`.
    MetaData,
    /// `network-config`.
    NetworkConfig,
}

impl Document {
    /// The file's name on the seed ISO.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::UserData => "user-data",
            Self::MetaData => "meta-data",
            Self::NetworkConfig => "network-config",
        }
    }
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}

/// Why NoCloud data was refused, or why its seed ISO could not be made or
/// written.
#[derive(Debug, thiserror::Error)]
pub enum CloudInitError {
    /// One document is larger than [`MAX_DOCUMENT_BYTES`].
    #[error(
        "{document} is {size} bytes; a document may have at most {MAX_DOCUMENT_BYTES} bytes \
         (64 KiB) on the seed ISO"
    )]
    DocumentTooLarge {
        /// The document.
        document: Document,
        /// Its size in bytes.
        size: usize,
    },
    /// The documents together are larger than [`MAX_TOTAL_BYTES`].
    #[error(
        "user-data, meta-data and network-config are {size} bytes together; the seed ISO takes \
         at most {MAX_TOTAL_BYTES} bytes (128 KiB)"
    )]
    TotalTooLarge {
        /// Their total size in bytes.
        size: usize,
    },
    /// user-data does not start with a header cloud-init acts on; cloud-init
    /// would ignore it silently, so the VM would boot unconfigured.
    #[error(
        "user-data has no header cloud-init recognises{}: start it with `#cloud-config` \
         (YAML), `#!` (a script) or `Content-Type: multipart/` (a MIME archive), optionally \
         after a `## template: jinja` line",
        found_suffix(.found)
    )]
    UserDataHeader {
        /// The first line when it looks like a mistyped header (it starts
        /// with `#`), shortened; other first lines are not repeated, as they
        /// may hold secrets.
        found: Option<String>,
    },
    /// A YAML document does not parse.
    // The parser's error is not kept as a source: its message repeats the
    // position, which this one already gives in the operator's terms.
    #[error("{document} is not valid YAML: {reason} at line {line}, column {column}")]
    Yaml {
        /// The document.
        document: Document,
        /// The line of the error, from 1.
        line: usize,
        /// The column of the error, from 1.
        column: usize,
        /// The parser's reason.
        reason: String,
    },
    /// A YAML document parses, but not to a mapping.
    #[error("{document} must be a YAML mapping (`key: value` lines), not {found}")]
    NotMapping {
        /// The document.
        document: Document,
        /// What it is instead, e.g. "a list".
        found: &'static str,
    },
    /// A text holds several YAML documents (`---` separators); cloud-init
    /// reads each of these files as one.
    #[error("{document} holds {count} YAML documents; cloud-init reads exactly one")]
    MultipleDocuments {
        /// The document.
        document: Document,
        /// How many it holds.
        count: usize,
    },
    /// network-config has no version cloud-init knows.
    #[error(
        "network-config must have `version: 1` or `version: 2` at the top level or under \
         `network:`; {found}"
    )]
    NetworkConfigVersion {
        /// What was found instead.
        found: String,
    },
    /// The ISO writer failed.
    #[error("cannot build the seed ISO")]
    Iso(#[source] hadris_iso::write::IsoCreationError),
    /// The seed ISO could not be written to its file.
    #[error("cannot write the seed ISO {}", path.display())]
    Write {
        /// The file that was to be written.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn found_suffix(found: &Option<String>) -> String {
    match found {
        Some(line) => format!(" (it starts with {line:?})"),
        None => String::new(),
    }
}
