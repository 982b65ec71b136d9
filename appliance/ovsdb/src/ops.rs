//! Transaction operations (RFC 7047 §5.2), built as JSON.

use crate::datum::Datum;
use serde_json::{Value, json};

/// A `where` condition: `[column, function, value]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition(Value);

impl Condition {
    /// `column == value`.
    pub fn eq(column: &str, value: &Datum) -> Self {
        Self(json!([column, "==", value.to_json()]))
    }

    /// `column includes value` (for sets and maps).
    pub fn includes(column: &str, value: &Datum) -> Self {
        Self(json!([column, "includes", value.to_json()]))
    }

    /// The row with id `uuid`.
    pub fn uuid(uuid: uuid::Uuid) -> Self {
        Self(json!(["_uuid", "==", ["uuid", uuid.to_string()]]))
    }
}

fn conditions(conditions: &[Condition]) -> Value {
    Value::Array(conditions.iter().map(|c| c.0.clone()).collect())
}

fn row<'a>(columns: impl IntoIterator<Item = (&'a str, Datum)>) -> Value {
    Value::Object(
        columns
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_json()))
            .collect(),
    )
}

/// `insert`; `uuid_name` lets later operations of the same transaction
/// refer to the row as `["named-uuid", name]`.
pub fn insert<'a>(
    table: &str,
    columns: impl IntoIterator<Item = (&'a str, Datum)>,
    uuid_name: Option<&str>,
) -> Value {
    let mut op = json!({"op": "insert", "table": table, "row": row(columns)});
    if let Some(name) = uuid_name {
        op["uuid-name"] = json!(name);
    }
    op
}

/// `update`: sets `columns` on the rows matching `where_`.
pub fn update<'a>(
    table: &str,
    where_: &[Condition],
    columns: impl IntoIterator<Item = (&'a str, Datum)>,
) -> Value {
    json!({"op": "update", "table": table, "where": conditions(where_), "row": row(columns)})
}

/// A mutation of one column: `[column, mutator, value]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Mutation(Value);

impl Mutation {
    /// Adds elements to a set or pairs to a map (existing keys kept).
    pub fn insert(column: &str, value: &Datum) -> Self {
        Self(json!([column, "insert", value.to_json()]))
    }

    /// Removes elements from a set, or keys (given as a set) or pairs
    /// from a map.
    pub fn delete(column: &str, value: &Datum) -> Self {
        Self(json!([column, "delete", value.to_json()]))
    }
}

/// `mutate`.
pub fn mutate(table: &str, where_: &[Condition], mutations: &[Mutation]) -> Value {
    json!({
        "op": "mutate",
        "table": table,
        "where": conditions(where_),
        "mutations": mutations.iter().map(|m| m.0.clone()).collect::<Vec<_>>()
    })
}

/// `delete`.
pub fn delete(table: &str, where_: &[Condition]) -> Value {
    json!({"op": "delete", "table": table, "where": conditions(where_)})
}

/// `select` of `columns` (all when empty).
pub fn select(table: &str, where_: &[Condition], columns: &[&str]) -> Value {
    let mut op = json!({"op": "select", "table": table, "where": conditions(where_)});
    if !columns.is_empty() {
        op["columns"] = json!(columns);
    }
    op
}

/// `comment`: shows in the server's log of the transaction.
pub fn comment(text: &str) -> Value {
    json!({"op": "comment", "comment": text})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datum::Atom;

    #[test]
    fn operations_encode_as_rfc7047() {
        let op = insert(
            "Bridge",
            [
                ("name", Datum::scalar("br-int")),
                ("ports", Datum::set([Atom::NamedUuid("p".into())])),
            ],
            Some("br"),
        );
        assert_eq!(
            op,
            json!({"op": "insert", "table": "Bridge", "uuid-name": "br",
                   "row": {"name": "br-int", "ports": ["named-uuid", "p"]}})
        );
        let op = mutate(
            "Open_vSwitch",
            &[],
            &[Mutation::insert(
                "external_ids",
                &Datum::string_map([("system-id", "hv1")]),
            )],
        );
        assert_eq!(
            op["mutations"],
            json!([["external_ids", "insert", ["map", [["system-id", "hv1"]]]]])
        );
        let id = uuid::Uuid::from_u128(7);
        assert_eq!(
            delete("Bridge", &[Condition::uuid(id)])["where"],
            json!([["_uuid", "==", ["uuid", id.to_string()]]])
        );
        assert_eq!(select("Bridge", &[], &["name"])["columns"], json!(["name"]));
    }
}
