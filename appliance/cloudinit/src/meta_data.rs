//! The meta-data a VM gets when its owner gives none.

use std::fmt::Write as _;

/// meta-data for a VM when the caller gives none: `instance-id: <id>` and
/// `local-hostname: <hostname>` (YAML, valid per [`validate`](crate::validate)).
///
/// Both values are written as double-quoted YAML strings, whatever they
/// hold: a plain scalar would turn a hostname like `123` or `yes` into a
/// number or a boolean, and a `#` or `: ` inside it into YAML syntax.
pub fn default_meta_data(instance_id: &str, hostname: &str) -> String {
    format!(
        "instance-id: {}\nlocal-hostname: {}\n",
        quoted(instance_id),
        quoted(hostname)
    )
}

/// `text` as a YAML double-quoted scalar.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            // YAML treats these as line breaks or a byte-order mark, and
            // control characters may not appear raw: escape them all.
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                // All of them lie in the Basic Multilingual Plane.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NoCloud, validate};
    use yaml_rust2::YamlLoader;

    fn round_trip(id: &str, hostname: &str) {
        let text = default_meta_data(id, hostname);
        validate(&NoCloud {
            user_data: "#cloud-config\n".to_owned(),
            meta_data: Some(text.clone()),
            network_config: None,
        })
        .unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let docs = YamlLoader::load_from_str(&text).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0]["instance-id"].as_str(), Some(id), "{text:?}");
        assert_eq!(
            docs[0]["local-hostname"].as_str(),
            Some(hostname),
            "{text:?}"
        );
        assert_eq!(docs[0].as_hash().map(|h| h.len()), Some(2));
    }

    #[test]
    fn plain_values() {
        assert_eq!(
            default_meta_data("0b5a7c1e-6f1d-4d8e-9a55-3c2a1f0e9b77", "web-1"),
            "instance-id: \"0b5a7c1e-6f1d-4d8e-9a55-3c2a1f0e9b77\"\nlocal-hostname: \"web-1\"\n"
        );
        round_trip("0b5a7c1e-6f1d-4d8e-9a55-3c2a1f0e9b77", "web-1");
    }

    #[test]
    fn values_yaml_would_misread() {
        for value in [
            "123",
            "yes",
            "null",
            "~",
            "",
            "0x1f",
            "1e3",
            "a: b",
            "# c",
            "- d",
            "[e]",
            "{f}",
            "'g'",
            "\"h\"",
            "back\\slash",
            "tab\there",
            "line\nbreak",
            "cr\rlf",
            "\u{2028}sep",
            "\u{feff}bom",
            "nul\0",
            "é ünïcode 名前",
            "🦀",
            "  padded  ",
            "&anchor",
            "*alias",
            "!tag",
            "%directive",
            "@at",
            "`tick`",
            "|",
            ">",
        ] {
            round_trip(value, value);
        }
    }
}
