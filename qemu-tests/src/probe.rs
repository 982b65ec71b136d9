//! Reports of the guest's test probe (`overlays/.../lqx/test-probe`).

use std::collections::BTreeMap;

/// One probe report.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// `key: value` lines (`lqxd`, `failed`, `usr`, ...).
    pub fields: BTreeMap<String, String>,
    /// The text on tty1 (from `/dev/vcs1`).
    pub tty1: String,
    /// `lqx host show --json`, parsed.
    pub host: Option<serde_json::Value>,
}

impl Report {
    /// Parses the first complete report in `text`.
    pub fn parse(text: &str) -> Option<Self> {
        let start = text.find("=== PROBE BEGIN")?;
        let rest = &text[start..];
        let end = rest.find("=== PROBE END")?;
        let body = &rest[..end];
        let mut report = Report::default();
        let mut in_tty = false;
        for line in body.lines().skip(1) {
            if let Some(json) = line.strip_prefix("host: ") {
                in_tty = false;
                report.host = serde_json::from_str(json).ok();
            } else if line == "tty1:" {
                in_tty = true;
            } else if in_tty {
                report.tty1.push_str(line);
                report.tty1.push('\n');
            } else if let Some((k, v)) = line.split_once(": ") {
                report.fields.insert(k.to_owned(), v.trim().to_owned());
            } else if let Some(k) = line.strip_suffix(':') {
                report.fields.insert(k.to_owned(), String::new());
            }
        }
        Some(report)
    }

    /// A field's value, empty when absent.
    pub fn field(&self, key: &str) -> &str {
        self.fields.get(key).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_report() {
        let text = "noise\n=== PROBE BEGIN\nlqxd: active\nfailed: \nusr: /dev/mapper/usr erofs ro\ntty1:\n LimiQuantix  hv\n Hostname lqx\n\nhost: {\"host_id\":\"x\"}\n=== PROBE END\n";
        let r = Report::parse(text).unwrap();
        assert_eq!(r.field("lqxd"), "active");
        assert_eq!(r.field("failed"), "");
        assert!(r.tty1.contains("Hostname lqx"));
        assert_eq!(r.host.unwrap()["host_id"], "x");
        assert!(Report::parse("=== PROBE BEGIN\nlqxd: a\n").is_none());
        // The tail of a report cut off at the mark is skipped.
        let cut = "d: active\n=== PROBE END\n=== PROBE BEGIN\nlqxd: failed\n=== PROBE END\n";
        assert_eq!(Report::parse(cut).unwrap().field("lqxd"), "failed");
        assert!(Report::parse("d: active\n=== PROBE END\n=== PROBE BEGIN\nlqxd: x\n").is_none());
    }
}
