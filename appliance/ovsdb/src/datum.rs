//! OVSDB values (RFC 7047 §5.1): atoms, sets and maps, and their JSON.
//!
//! A column's value is always a [`Datum`]: a set of atoms (a scalar is a
//! set of one, an optional value a set of zero or one) or a map. The JSON
//! form is unambiguous without the schema, so decoding needs none.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use thiserror::Error;
use uuid::Uuid;

/// Errors decoding OVSDB JSON.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("not an OVSDB value: {0}")]
pub struct DatumError(pub String);

/// One value of a column's base type.
#[derive(Clone, Debug, PartialEq)]
pub enum Atom {
    /// `integer`.
    Integer(i64),
    /// `real`.
    Real(f64),
    /// `boolean`.
    Boolean(bool),
    /// `string`.
    String(String),
    /// `uuid`: a row's id.
    Uuid(Uuid),
    /// A row inserted earlier in the same transaction, by its `uuid-name`.
    NamedUuid(String),
}

impl Eq for Atom {}

impl Atom {
    /// The atom's JSON.
    pub fn to_json(&self) -> Value {
        match self {
            Atom::Integer(i) => json!(i),
            Atom::Real(r) => json!(r),
            Atom::Boolean(b) => json!(b),
            Atom::String(s) => json!(s),
            Atom::Uuid(u) => json!(["uuid", u.to_string()]),
            Atom::NamedUuid(n) => json!(["named-uuid", n]),
        }
    }

    /// Decodes an atom.
    pub fn from_json(value: &Value) -> Result<Self, DatumError> {
        let bad = || DatumError(value.to_string());
        Ok(match value {
            Value::Bool(b) => Atom::Boolean(*b),
            Value::String(s) => Atom::String(s.clone()),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Atom::Integer(i),
                None => Atom::Real(n.as_f64().ok_or_else(bad)?),
            },
            Value::Array(pair) => match (pair.first().and_then(Value::as_str), pair.get(1)) {
                (Some("uuid"), Some(Value::String(u))) if pair.len() == 2 => {
                    Atom::Uuid(u.parse().map_err(|_| bad())?)
                }
                (Some("named-uuid"), Some(Value::String(n))) if pair.len() == 2 => {
                    Atom::NamedUuid(n.clone())
                }
                _ => return Err(bad()),
            },
            _ => return Err(bad()),
        })
    }

    /// The string, if this is a string atom.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Atom::String(s) => Some(s),
            _ => None,
        }
    }

    /// The uuid, if this is a uuid atom.
    pub fn as_uuid(&self) -> Option<Uuid> {
        match self {
            Atom::Uuid(u) => Some(*u),
            _ => None,
        }
    }

    /// Orders atoms of the same type, so sets and maps compare regardless
    /// of the order the server sent them in.
    fn sort_key(&self) -> (u8, String) {
        match self {
            Atom::Integer(i) => (0, format!("{:020}", i128::from(*i) - i128::from(i64::MIN))),
            Atom::Real(r) => (1, format!("{r:e}")),
            Atom::Boolean(b) => (2, b.to_string()),
            Atom::String(s) => (3, s.clone()),
            Atom::Uuid(u) => (4, u.to_string()),
            Atom::NamedUuid(n) => (5, n.clone()),
        }
    }
}

impl From<&str> for Atom {
    fn from(s: &str) -> Self {
        Atom::String(s.to_owned())
    }
}

impl From<String> for Atom {
    fn from(s: String) -> Self {
        Atom::String(s)
    }
}

impl From<i64> for Atom {
    fn from(i: i64) -> Self {
        Atom::Integer(i)
    }
}

impl From<bool> for Atom {
    fn from(b: bool) -> Self {
        Atom::Boolean(b)
    }
}

impl From<Uuid> for Atom {
    fn from(u: Uuid) -> Self {
        Atom::Uuid(u)
    }
}

/// A column's value: a set (scalars are sets of one) or a map. Elements
/// are kept sorted and unique, so equal data compare equal; the empty set
/// and the empty map are equal too (the server sends either for an empty
/// map column).
#[derive(Clone, Debug, Eq)]
pub enum Datum {
    /// A set of atoms.
    Set(Vec<Atom>),
    /// A map of atoms to atoms.
    Map(Vec<(Atom, Atom)>),
}

impl PartialEq for Datum {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Datum::Set(a), Datum::Set(b)) => a == b,
            (Datum::Map(a), Datum::Map(b)) => a == b,
            (Datum::Set(a), Datum::Map(b)) | (Datum::Map(b), Datum::Set(a)) => {
                a.is_empty() && b.is_empty()
            }
        }
    }
}

impl Datum {
    /// A set, sorted and deduplicated.
    pub fn set(atoms: impl IntoIterator<Item = Atom>) -> Self {
        let mut atoms: Vec<Atom> = atoms.into_iter().collect();
        atoms.sort_by_key(Atom::sort_key);
        atoms.dedup();
        Datum::Set(atoms)
    }

    /// A set of one.
    pub fn scalar(atom: impl Into<Atom>) -> Self {
        Datum::Set(vec![atom.into()])
    }

    /// The empty set: an unset optional column.
    pub fn empty() -> Self {
        Datum::Set(vec![])
    }

    /// A map, sorted by key, the last value winning for repeated keys.
    pub fn map(pairs: impl IntoIterator<Item = (Atom, Atom)>) -> Self {
        let mut by_key: BTreeMap<(u8, String), (Atom, Atom)> = BTreeMap::new();
        for (k, v) in pairs {
            by_key.insert(k.sort_key(), (k, v));
        }
        Datum::Map(by_key.into_values().collect())
    }

    /// A string-to-string map, as `external_ids` and `other_config` are.
    pub fn string_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Datum::map(
            pairs
                .into_iter()
                .map(|(k, v)| (Atom::from(k), Atom::from(v))),
        )
    }

    /// The datum's JSON.
    pub fn to_json(&self) -> Value {
        match self {
            Datum::Set(atoms) if atoms.len() == 1 => atoms[0].to_json(),
            Datum::Set(atoms) => {
                json!(["set", atoms.iter().map(Atom::to_json).collect::<Vec<_>>()])
            }
            Datum::Map(pairs) => json!([
                "map",
                pairs
                    .iter()
                    .map(|(k, v)| json!([k.to_json(), v.to_json()]))
                    .collect::<Vec<_>>()
            ]),
        }
    }

    /// Decodes a datum.
    pub fn from_json(value: &Value) -> Result<Self, DatumError> {
        let tagged = value
            .as_array()
            .filter(|a| a.len() == 2)
            .and_then(|a| Some((a[0].as_str()?, &a[1])));
        match tagged {
            Some(("set", Value::Array(items))) => Ok(Datum::set(
                items
                    .iter()
                    .map(Atom::from_json)
                    .collect::<Result<Vec<_>, _>>()?,
            )),
            Some(("map", Value::Array(pairs))) => {
                let pairs = pairs
                    .iter()
                    .map(|pair| match pair.as_array().map(Vec::as_slice) {
                        Some([k, v]) => Ok((Atom::from_json(k)?, Atom::from_json(v)?)),
                        _ => Err(DatumError(pair.to_string())),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Datum::map(pairs))
            }
            _ => Ok(Datum::Set(vec![Atom::from_json(value)?])),
        }
    }

    /// The single atom of a scalar.
    pub fn as_atom(&self) -> Option<&Atom> {
        match self {
            Datum::Set(atoms) if atoms.len() == 1 => atoms.first(),
            _ => None,
        }
    }

    /// The string of a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        self.as_atom().and_then(Atom::as_str)
    }

    /// The elements of a set (empty for a map).
    pub fn atoms(&self) -> &[Atom] {
        match self {
            Datum::Set(atoms) => atoms,
            Datum::Map(_) => &[],
        }
    }

    /// The pairs of a map (empty for a set, including the empty set the
    /// server may send for an empty map).
    pub fn pairs(&self) -> &[(Atom, Atom)] {
        match self {
            Datum::Map(pairs) => pairs,
            Datum::Set(_) => &[],
        }
    }

    /// A string map's value for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs()
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .and_then(|(_, v)| v.as_str())
    }

    /// Applies an `update2` "modify" diff for a column of `kind`
    /// (ovsdb-server(7)): a scalar is replaced; a set toggles each listed
    /// element; a map deletes a listed key whose value is the same and
    /// inserts or updates the others.
    pub fn apply_diff(&self, diff: &Datum, kind: ColumnKind) -> Datum {
        match kind {
            ColumnKind::Scalar => diff.clone(),
            ColumnKind::Map => {
                let mut pairs = self.pairs().to_vec();
                for (k, v) in diff.pairs() {
                    match pairs.iter().position(|(ok, _)| ok == k) {
                        Some(i) if &pairs[i].1 == v => {
                            pairs.remove(i);
                        }
                        Some(i) => pairs[i].1 = v.clone(),
                        None => pairs.push((k.clone(), v.clone())),
                    }
                }
                Datum::map(pairs)
            }
            ColumnKind::Set => {
                let mut atoms = self.atoms().to_vec();
                for atom in diff.atoms() {
                    match atoms.iter().position(|a| a == atom) {
                        Some(i) => {
                            atoms.remove(i);
                        }
                        None => atoms.push(atom.clone()),
                    }
                }
                Datum::set(atoms)
            }
        }
    }
}

/// How a column's values combine, from its schema type; what an update2
/// diff means depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// At most one atom (`max` = 1, no value type): a scalar, or an
    /// optional value. ovsdb-server sends the new value in a diff, not a
    /// toggle: an optional `false` turned `true` comes as `true`.
    Scalar,
    /// Sets that may hold more than one atom (`max` > 1).
    Set,
    /// Key-value pairs.
    Map,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(text: &str) -> Datum {
        let value: Value = serde_json::from_str(text).unwrap();
        let datum = Datum::from_json(&value).unwrap();
        assert_eq!(Datum::from_json(&datum.to_json()).unwrap(), datum, "{text}");
        datum
    }

    #[test]
    fn atoms_sets_maps_and_uuids() {
        assert_eq!(roundtrip("42"), Datum::scalar(42));
        assert_eq!(roundtrip("true"), Datum::scalar(true));
        assert_eq!(roundtrip("1.5").as_atom(), Some(&Atom::Real(1.5)));
        assert_eq!(roundtrip(r#"["set",[]]"#), Datum::empty());
        assert_eq!(
            roundtrip(r#"["set",["b","a","b"]]"#),
            Datum::set([Atom::from("a"), Atom::from("b")])
        );
        let u = "36bb6b5e-9bd0-4a6d-9ec4-7b2a7f6a8f11";
        assert_eq!(
            roundtrip(&format!(r#"["uuid","{u}"]"#)).as_atom(),
            Some(&Atom::Uuid(u.parse().unwrap()))
        );
        assert_eq!(
            roundtrip(r#"["named-uuid","row1"]"#).as_atom(),
            Some(&Atom::NamedUuid("row1".into()))
        );
        let m = roundtrip(r#"["map",[["system-id","hv1"],["ovn-encap-ip","10.0.0.1"]]]"#);
        assert_eq!(m.get("system-id"), Some("hv1"));
        assert_eq!(
            m,
            Datum::string_map([("ovn-encap-ip", "10.0.0.1"), ("system-id", "hv1")])
        );
        // A set of one is encoded as the bare atom.
        assert_eq!(Datum::set([Atom::from("x")]).to_json(), json!("x"));
    }

    #[test]
    fn malformed_values_are_refused() {
        for text in [
            r#"["uuid","not-a-uuid"]"#,
            r#"["map",[["k"]]]"#,
            r#"["set",[{"a":1}]]"#,
            "null",
            r#"{"a":1}"#,
            r#"["bogus",1]"#,
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            assert!(Datum::from_json(&value).is_err(), "{text}");
        }
    }

    #[test]
    fn diffs_toggle_sets_and_patch_maps() {
        let set = Datum::set([Atom::from(1), Atom::from(2)]);
        assert_eq!(
            set.apply_diff(&Datum::set([Atom::from(2), Atom::from(3)]), ColumnKind::Set),
            Datum::set([Atom::from(1), Atom::from(3)])
        );
        // One element added to a one-element set, or the last one removed.
        assert_eq!(
            Datum::scalar(1).apply_diff(&Datum::scalar(2), ColumnKind::Set),
            Datum::set([Atom::from(1), Atom::from(2)])
        );
        assert_eq!(
            Datum::scalar(1).apply_diff(&Datum::scalar(1), ColumnKind::Set),
            Datum::empty()
        );
        let map = Datum::string_map([("a", "1"), ("b", "2")]);
        let diff = Datum::string_map([("a", "1"), ("b", "9"), ("c", "3")]);
        assert_eq!(
            map.apply_diff(&diff, ColumnKind::Map),
            Datum::string_map([("b", "9"), ("c", "3")])
        );
        // The server sends an empty map as an empty set.
        assert_eq!(
            Datum::empty().apply_diff(&Datum::string_map([("k", "v")]), ColumnKind::Map),
            Datum::string_map([("k", "v")])
        );
        assert_eq!(
            Datum::scalar("old").apply_diff(&Datum::scalar("new"), ColumnKind::Scalar),
            Datum::scalar("new")
        );
    }
}
