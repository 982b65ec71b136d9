//! Editing one user's password field in `/etc/shadow` text. Pure: the
//! caller reads and writes the file.

use thiserror::Error;

/// The shadow text cannot take the change.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ShadowError {
    /// The user has no line.
    #[error("no shadow entry for {0}")]
    NoSuchUser(String),
    /// The hash would break the file's format.
    #[error("the hash contains ':' or a line break")]
    BadHash,
}

/// `text` with `user`'s password field replaced by `field` (a crypt(3)
/// hash, or a locked marker such as `!`). Other lines are kept byte for
/// byte.
pub fn set_field(text: &str, user: &str, field: &str) -> Result<String, ShadowError> {
    if field.contains([':', '\n', '\r']) {
        return Err(ShadowError::BadHash);
    }
    let mut found = false;
    let mut out = String::with_capacity(text.len() + field.len());
    for line in text.split_inclusive('\n') {
        let mut parts = line.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(name), Some(_), Some(rest)) if name == user && !found => {
                found = true;
                out.push_str(&format!("{name}:{field}:{rest}"));
            }
            _ => out.push_str(line),
        }
    }
    if found {
        Ok(out)
    } else {
        Err(ShadowError::NoSuchUser(user.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHADOW: &str = "root:*:20000:0:99999:7:::\ndaemon:*:20000:0:99999:7:::\n";

    #[test]
    fn replaces_only_the_users_field() {
        let out = set_field(SHADOW, "root", "$6$salt$hash").unwrap();
        assert_eq!(
            out,
            "root:$6$salt$hash:20000:0:99999:7:::\ndaemon:*:20000:0:99999:7:::\n"
        );
        assert_eq!(
            set_field(&out, "root", "!").unwrap().lines().next(),
            Some("root:!:20000:0:99999:7:::")
        );
        assert_eq!(
            set_field(SHADOW, "nobody", "!"),
            Err(ShadowError::NoSuchUser("nobody".into()))
        );
        assert_eq!(set_field(SHADOW, "root", "a:b"), Err(ShadowError::BadHash));
    }
}
