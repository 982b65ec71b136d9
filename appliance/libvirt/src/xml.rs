//! The one piece of XML writing the renderers share.

/// `text` made safe inside an attribute value (either quote) or element
/// content.
///
/// Every interpolated value goes through this, so a pool, image or user
/// name chosen by an API caller can never add attributes or elements to
/// what libvirt parses.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether `text` holds a character XML 1.0 cannot carry at all (the C0
/// controls other than tab and newlines); escaping cannot help those, so
/// they are refused before rendering.
pub(crate) fn has_forbidden_char(text: &str) -> bool {
    text.chars()
        .any(|c| c < '\u{20}' && !matches!(c, '\t' | '\n' | '\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_specials() {
        assert_eq!(escape(r#"a&b<c>d'e"f"#), "a&amp;b&lt;c&gt;d&apos;e&quot;f");
        assert_eq!(escape("plain-name_1.2"), "plain-name_1.2");
    }

    #[test]
    fn control_characters_are_forbidden() {
        assert!(has_forbidden_char("a\0b"));
        assert!(has_forbidden_char("a\u{1b}b"));
        assert!(!has_forbidden_char("tab\there"));
        assert!(!has_forbidden_char("ünïcode"));
    }
}
