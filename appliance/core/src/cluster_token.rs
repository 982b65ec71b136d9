//! Join tokens: what an operator carries from a cluster member to a new
//! host.
//!
//! A token names where to reach the cluster (API addresses), what to
//! trust there (the SHA-256 fingerprint of the cluster authority's
//! certificate, pinned by the joining host before it sends anything) and
//! a random secret that proves the holder was given the token. The
//! cluster keeps only the secret's hash, with the token's id and expiry.
//! Text form: `lqx1.` followed by the unpadded base64url of a small JSON
//! object, so it survives copy and paste, shells and QR codes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use thiserror::Error;

/// The text form's prefix (and version).
pub const PREFIX: &str = "lqx1.";
/// Bytes of randomness in a secret.
pub const SECRET_BYTES: usize = 32;
/// Bytes of randomness in an id.
pub const ID_BYTES: usize = 8;

/// A decoded token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinToken {
    /// Where members answer joins (`IP:PORT`).
    pub addresses: Vec<SocketAddr>,
    /// SHA-256 of the cluster authority's certificate (DER), lowercase hex.
    pub fingerprint: String,
    /// The token's id: the key its record is stored under (hex).
    pub id: String,
    /// The secret, base64url.
    pub secret: String,
}

// The secret stays out of logs.
impl fmt::Debug for JoinToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinToken")
            .field("addresses", &self.addresses)
            .field("fingerprint", &self.fingerprint)
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Why a text is not a token.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TokenError {
    /// It does not start with [`PREFIX`].
    #[error("not a LimiQuantix join token (it should start with {PREFIX})")]
    Prefix,
    /// Its body is not base64url JSON of the right shape.
    #[error("the join token is damaged (was it copied whole?)")]
    Damaged,
    /// It names no address.
    #[error("the join token names no address to join")]
    NoAddress,
    /// The fingerprint is not 64 lowercase hex digits.
    #[error("the join token's fingerprint is not a SHA-256 fingerprint")]
    Fingerprint,
    /// The id or secret has the wrong length or alphabet.
    #[error("the join token's id or secret is damaged")]
    Secret,
}

impl JoinToken {
    /// A token for `addresses` and `fingerprint` from `random` bytes
    /// ([`ID_BYTES`] + [`SECRET_BYTES`] of them, from a CSPRNG).
    pub fn new(
        addresses: Vec<SocketAddr>,
        fingerprint: &str,
        random: &[u8; ID_BYTES + SECRET_BYTES],
    ) -> Self {
        let (id, secret) = random.split_at(ID_BYTES);
        Self {
            addresses,
            fingerprint: fingerprint.to_owned(),
            id: hex(id),
            secret: URL_SAFE_NO_PAD.encode(secret),
        }
    }

    /// The text form.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }

    /// Parses and checks the text form; surrounding whitespace is ignored.
    pub fn decode(text: &str) -> Result<Self, TokenError> {
        let body = text.trim().strip_prefix(PREFIX).ok_or(TokenError::Prefix)?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Damaged)?;
        let token: Self = serde_json::from_slice(&json).map_err(|_| TokenError::Damaged)?;
        if token.addresses.is_empty() {
            return Err(TokenError::NoAddress);
        }
        if !is_fingerprint(&token.fingerprint) {
            return Err(TokenError::Fingerprint);
        }
        let secret_ok = URL_SAFE_NO_PAD
            .decode(&token.secret)
            .is_ok_and(|s| s.len() == SECRET_BYTES);
        let id_ok = token.id.len() == 2 * ID_BYTES && is_lower_hex(&token.id);
        if !secret_ok || !id_ok {
            return Err(TokenError::Secret);
        }
        Ok(token)
    }
}

/// Whether `text` is a SHA-256 fingerprint as [`JoinToken`] carries it.
pub fn is_fingerprint(text: &str) -> bool {
    text.len() == 64 && is_lower_hex(text)
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> JoinToken {
        let mut random = [0u8; ID_BYTES + SECRET_BYTES];
        for (i, b) in random.iter_mut().enumerate() {
            *b = u8::try_from(i).unwrap().wrapping_mul(37);
        }
        JoinToken::new(
            vec![
                "192.0.2.10:8443".parse().unwrap(),
                "[2001:db8::1]:8443".parse().unwrap(),
            ],
            &"ab".repeat(32),
            &random,
        )
    }

    #[test]
    fn round_trip_through_text() {
        let t = token();
        let text = t.encode();
        assert!(text.starts_with(PREFIX));
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        );
        assert_eq!(JoinToken::decode(&format!("  {text}\n")).unwrap(), t);
    }

    #[test]
    fn damaged_tokens_say_how() {
        let text = token().encode();
        assert_eq!(JoinToken::decode("hello"), Err(TokenError::Prefix));
        assert_eq!(
            JoinToken::decode(&text[..text.len() - 7]),
            Err(TokenError::Damaged)
        );
        let with = |f: &dyn Fn(&mut JoinToken)| {
            let mut t = token();
            f(&mut t);
            JoinToken::decode(&t.encode())
        };
        assert_eq!(with(&|t| t.addresses.clear()), Err(TokenError::NoAddress));
        assert_eq!(
            with(&|t| t.fingerprint = "AB".repeat(32)),
            Err(TokenError::Fingerprint)
        );
        assert_eq!(
            with(&|t| t.secret.pop().map(drop).unwrap_or(())),
            Err(TokenError::Secret)
        );
        assert_eq!(with(&|t| t.id = "xyz".into()), Err(TokenError::Secret));
    }

    #[test]
    fn debug_hides_the_secret() {
        let t = token();
        assert!(!format!("{t:?}").contains(&t.secret));
    }

    #[test]
    fn equality_in_constant_time() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
