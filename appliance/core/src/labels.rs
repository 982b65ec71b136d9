//! Host labels: what is valid and how a patch applies.

use lqx_api::LabelsPatch;
use std::collections::BTreeMap;
use thiserror::Error;

/// Most labels a host may carry.
pub const MAX_LABELS: usize = 64;
/// Longest key, in bytes.
pub const MAX_KEY_LEN: usize = 63;
/// Longest value, in bytes.
pub const MAX_VALUE_LEN: usize = 253;

/// Why a label or a patch was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LabelError {
    /// The key is empty, too long or has characters outside `[a-z0-9._-]`,
    /// or does not start and end with a letter or digit.
    #[error(
        "invalid label key {key:?}: use 1-{MAX_KEY_LEN} characters from a-z, 0-9, '.', '_', '-', \
         starting and ending with a letter or digit"
    )]
    InvalidKey {
        /// The refused key.
        key: String,
    },
    /// The value is too long or contains control characters.
    #[error(
        "invalid value for label {key:?}: at most {MAX_VALUE_LEN} bytes, no control characters"
    )]
    InvalidValue {
        /// The key whose value was refused.
        key: String,
    },
    /// The same key is both set and removed.
    #[error("label {key:?} is both set and removed in one request")]
    SetAndRemoved {
        /// The key.
        key: String,
    },
    /// Applying the patch would exceed [`MAX_LABELS`].
    #[error("a host can carry at most {MAX_LABELS} labels; this change would leave {count}")]
    TooMany {
        /// How many labels the host would have.
        count: usize,
    },
}

/// Checks one key.
pub fn validate_key(key: &str) -> Result<(), LabelError> {
    let bytes = key.as_bytes();
    let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let inner_ok = |b: u8| edge_ok(b) || matches!(b, b'.' | b'_' | b'-');
    let valid = !bytes.is_empty()
        && bytes.len() <= MAX_KEY_LEN
        && edge_ok(bytes[0])
        && edge_ok(bytes[bytes.len() - 1])
        && bytes.iter().all(|&b| inner_ok(b));
    if valid {
        Ok(())
    } else {
        Err(LabelError::InvalidKey { key: key.into() })
    }
}

/// Checks one value.
pub fn validate_value(key: &str, value: &str) -> Result<(), LabelError> {
    if value.len() > MAX_VALUE_LEN || value.chars().any(char::is_control) {
        return Err(LabelError::InvalidValue { key: key.into() });
    }
    Ok(())
}

/// Returns the labels after `patch`, or why the patch is refused; the
/// input is never modified, so a refused patch changes nothing.
pub fn apply_patch(
    current: &BTreeMap<String, String>,
    patch: &LabelsPatch,
) -> Result<BTreeMap<String, String>, LabelError> {
    for (key, value) in &patch.set {
        validate_key(key)?;
        validate_value(key, value)?;
    }
    for key in &patch.remove {
        validate_key(key)?;
        if patch.set.contains_key(key) {
            return Err(LabelError::SetAndRemoved { key: key.clone() });
        }
    }
    let mut next = current.clone();
    for key in &patch.remove {
        next.remove(key);
    }
    next.extend(patch.set.iter().map(|(k, v)| (k.clone(), v.clone())));
    if next.len() > MAX_LABELS {
        return Err(LabelError::TooMany { count: next.len() });
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn patch(set: &[(&str, &str)], remove: &[&str]) -> LabelsPatch {
        LabelsPatch {
            set: set
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            remove: remove.iter().map(|k| k.to_string()).collect(),
        }
    }

    #[test]
    fn keys() {
        for good in ["rack", "r12", "zone.a", "a_b-c", "x"] {
            assert_eq!(validate_key(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "Rack",
            "-a",
            "a-",
            ".a",
            "a b",
            "a/b",
            "é",
            &"a".repeat(64),
        ] {
            assert!(validate_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn values() {
        assert_eq!(validate_value("k", "row 3, slot 7"), Ok(()));
        assert_eq!(validate_value("k", ""), Ok(()));
        assert!(validate_value("k", "a\nb").is_err());
        assert!(validate_value("k", &"v".repeat(254)).is_err());
    }

    #[test]
    fn set_and_remove_apply_together() {
        let current =
            apply_patch(&BTreeMap::new(), &patch(&[("a", "1"), ("b", "2")], &[])).unwrap();
        let next = apply_patch(&current, &patch(&[("c", "3")], &["a", "absent"])).unwrap();
        assert_eq!(
            next.into_iter().collect::<Vec<_>>(),
            vec![("b".into(), "2".into()), ("c".into(), "3".into())]
        );
    }

    #[test]
    fn refused_patch_names_the_problem() {
        let err = apply_patch(&BTreeMap::new(), &patch(&[("ok", "1"), ("Bad", "2")], &[]));
        assert_eq!(err, Err(LabelError::InvalidKey { key: "Bad".into() }));
        let err = apply_patch(&BTreeMap::new(), &patch(&[("a", "1")], &["a"]));
        assert_eq!(err, Err(LabelError::SetAndRemoved { key: "a".into() }));
    }

    #[test]
    fn limit_on_count() {
        let many: Vec<(String, String)> = (0..=MAX_LABELS)
            .map(|i| (format!("k{i}"), String::new()))
            .collect();
        let p = LabelsPatch {
            set: many.into_iter().collect(),
            remove: vec![],
        };
        assert_eq!(
            apply_patch(&BTreeMap::new(), &p),
            Err(LabelError::TooMany {
                count: MAX_LABELS + 1
            })
        );
    }

    proptest! {
        #[test]
        fn accepted_results_are_always_valid(
            set in proptest::collection::btree_map("[a-zA-Z0-9._ -]{0,8}", "[ -~\n]{0,8}", 0..8),
            remove in proptest::collection::vec("[a-z0-9._-]{0,6}", 0..4),
        ) {
            let p = LabelsPatch { set, remove };
            if let Ok(next) = apply_patch(&BTreeMap::new(), &p) {
                for (k, v) in &next {
                    prop_assert!(validate_key(k).is_ok());
                    prop_assert!(validate_value(k, v).is_ok());
                }
                prop_assert!(next.len() <= MAX_LABELS);
            }
        }
    }
}
