//! Reading a unit's newest journal lines through libsystemd's sd-journal
//! (the library journalctl itself uses).

use crate::agent::AgentError;
use lqx_api::{JournalLine, JournalLines};
use time::OffsetDateTime;

/// Lines returned when the query does not say.
pub const DEFAULT_LINES: u32 = 200;
/// Most lines one query returns.
pub const MAX_LINES: u32 = 1000;

/// Checks a unit name: what systemd accepts, no path tricks.
pub fn check_unit(unit: &str) -> Result<(), AgentError> {
    let ok = !unit.is_empty()
        && unit.len() <= 256
        && unit.contains('.')
        && unit
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":-_.\\@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AgentError::Invalid(format!(
            "\"{unit}\" is not a unit name (e.g. lqxd.service)"
        )))
    }
}

/// The newest `lines` entries of `unit`, oldest first.
pub fn read(unit: &str, lines: u32) -> Result<JournalLines, AgentError> {
    let journal_error =
        |e: std::io::Error| AgentError::Unavailable(format!("cannot read the journal: {e}"));
    let mut journal = systemd::journal::OpenOptions::default()
        .system(true)
        .local_only(true)
        .open()
        .map_err(journal_error)?;
    journal
        .match_add("_SYSTEMD_UNIT", unit)
        .map_err(journal_error)?;
    journal.seek_tail().map_err(journal_error)?;
    let mut out = vec![];
    while out.len() < lines as usize {
        let Some(record) = journal.previous_entry().map_err(journal_error)? else {
            break;
        };
        let at = journal
            .timestamp()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| OffsetDateTime::from_unix_timestamp_nanos(d.as_nanos() as i128).ok())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        out.push(JournalLine {
            at,
            priority: record
                .get("PRIORITY")
                .and_then(|p| p.parse().ok())
                .unwrap_or(6),
            message: record.get("MESSAGE").cloned().unwrap_or_default(),
        });
    }
    out.reverse();
    Ok(JournalLines {
        unit: unit.to_owned(),
        lines: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names() {
        for good in [
            "lqxd.service",
            "lqx-console@tty1.service",
            "sys-subsystem-net-devices-eth0.device",
        ] {
            assert!(check_unit(good).is_ok(), "{good}");
        }
        for bad in ["", "lqxd", "../x.service", "a b.service", "x.service\n"] {
            assert!(check_unit(bad).is_err(), "{bad:?}");
        }
    }
}
