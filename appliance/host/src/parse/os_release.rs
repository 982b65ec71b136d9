use lqx_api::OsRelease;

/// Parses `os-release(5)`: `KEY=value` lines, values optionally quoted
/// with shell-style escapes.
pub fn os_release(text: &str) -> OsRelease {
    let mut out = OsRelease::default();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let value = Some(unquote(raw.trim()));
        match key.trim() {
            "ID" => out.id = value,
            "NAME" => out.name = value,
            "VERSION_ID" => out.version_id = value,
            "PRETTY_NAME" => out.pretty_name = value,
            "IMAGE_VERSION" => out.image_version = value,
            _ => {}
        }
    }
    out
}

fn unquote(raw: &str) -> String {
    let quoted = raw.len() >= 2
        && ((raw.starts_with('"') && raw.ends_with('"'))
            || (raw.starts_with('\'') && raw.ends_with('\'')));
    if !quoted {
        return raw.to_owned();
    }
    let inner = &raw[1..raw.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_trixie() {
        let text = r#"PRETTY_NAME="Debian GNU/Linux 13 (trixie)"
NAME="Debian GNU/Linux"
VERSION_ID="13"
ID=debian
# comment
IMAGE_VERSION='1.2 \"x\"'
"#;
        let os = os_release(text);
        assert_eq!(
            os.pretty_name.as_deref(),
            Some("Debian GNU/Linux 13 (trixie)")
        );
        assert_eq!(os.id.as_deref(), Some("debian"));
        assert_eq!(os.version_id.as_deref(), Some("13"));
        assert_eq!(os.image_version.as_deref(), Some("1.2 \"x\""));
    }

    #[test]
    fn empty_and_junk() {
        assert_eq!(os_release(""), OsRelease::default());
        assert_eq!(os_release("garbage\n=\n\"\n"), OsRelease::default());
    }
}
