//! Journal lines of a unit, for the console's diagnostics screen.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

/// Query of `GET /v1/host/journal`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JournalQuery {
    /// Unit whose lines to read; default lqxd.service.
    pub unit: Option<String>,
    /// How many of the newest lines, 1–1000; default 200.
    pub lines: Option<u32>,
}

/// Answer of `GET /v1/host/journal`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JournalLines {
    /// The unit read.
    pub unit: String,
    /// Lines, oldest first.
    pub lines: Vec<JournalLine>,
}

/// One journal entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JournalLine {
    /// When it was logged.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// syslog priority, 0 (emerg) – 7 (debug).
    pub priority: u8,
    /// The message.
    pub message: String,
}
