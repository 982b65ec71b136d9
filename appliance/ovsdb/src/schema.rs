//! What the client needs of a database schema (RFC 7047 §3.2): its tables,
//! their columns, and each column's [`ColumnKind`].

use crate::datum::ColumnKind;
use serde_json::Value;
use std::collections::BTreeMap;
use thiserror::Error;

/// A schema that could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid schema: {0}")]
pub struct SchemaError(pub String);

/// A database schema, as `get_schema` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema {
    /// The database's name.
    pub name: String,
    /// Its version (`x.y.z`).
    pub version: String,
    /// Tables by name: column names to kinds.
    pub tables: BTreeMap<String, BTreeMap<String, ColumnKind>>,
}

impl Schema {
    /// Reads a schema's JSON.
    pub fn from_json(value: &Value) -> Result<Self, SchemaError> {
        let field = |key: &str| {
            value
                .get(key)
                .ok_or_else(|| SchemaError(format!("no \"{key}\"")))
        };
        let name = field("name")?
            .as_str()
            .ok_or_else(|| SchemaError("\"name\" is not a string".into()))?
            .to_owned();
        let version = value
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let mut tables = BTreeMap::new();
        for (table, spec) in field("tables")?
            .as_object()
            .ok_or_else(|| SchemaError("\"tables\" is not an object".into()))?
        {
            let columns = spec
                .get("columns")
                .and_then(Value::as_object)
                .ok_or_else(|| SchemaError(format!("table {table} has no columns")))?;
            let mut kinds = BTreeMap::new();
            for (column, spec) in columns {
                let kind =
                    column_kind(spec.get("type").ok_or_else(|| {
                        SchemaError(format!("column {table}.{column} has no type"))
                    })?)
                    .map_err(|why| SchemaError(format!("column {table}.{column}: {why}")))?;
                kinds.insert(column.clone(), kind);
            }
            tables.insert(table.clone(), kinds);
        }
        Ok(Self {
            name,
            version,
            tables,
        })
    }

    /// The kind of `table.column`; `_uuid` and `_version` are scalars.
    pub fn kind(&self, table: &str, column: &str) -> Option<ColumnKind> {
        if column == "_uuid" || column == "_version" {
            return Some(ColumnKind::Scalar);
        }
        self.tables.get(table)?.get(column).copied()
    }
}

fn column_kind(ty: &Value) -> Result<ColumnKind, String> {
    match ty {
        Value::String(_) => Ok(ColumnKind::Scalar),
        Value::Object(spec) => {
            if spec.contains_key("value") {
                return Ok(ColumnKind::Map);
            }
            let bound = |key: &str| match spec.get(key) {
                None => Ok(1),
                Some(Value::Number(n)) => n.as_u64().ok_or_else(|| format!("bad {key}")),
                Some(Value::String(s)) if s == "unlimited" && key == "max" => Ok(u64::MAX),
                Some(other) => Err(format!("bad {key} {other}")),
            };
            // ovsdb-server diffs only composite columns (`max` > 1);
            // an optional one's diff is its new value.
            bound("min")?;
            if bound("max")? == 1 {
                Ok(ColumnKind::Scalar)
            } else {
                Ok(ColumnKind::Set)
            }
        }
        other => Err(format!("bad type {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_from_types() {
        let schema = Schema::from_json(&json!({
            "name": "Open_vSwitch",
            "version": "8.3.0",
            "tables": {"Open_vSwitch": {"columns": {
                "external_ids": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
                "bridges": {"type": {"key": {"type": "uuid", "refTable": "Bridge"}, "min": 0, "max": "unlimited"}},
                "db_version": {"type": {"key": "string", "min": 0, "max": 1}},
                "next_cfg": {"type": "integer"},
                "cur_cfg": {"type": {"key": "integer"}}
            }}}
        }))
        .unwrap();
        assert_eq!(schema.name, "Open_vSwitch");
        let kind = |c| schema.kind("Open_vSwitch", c);
        assert_eq!(kind("external_ids"), Some(ColumnKind::Map));
        assert_eq!(kind("bridges"), Some(ColumnKind::Set));
        assert_eq!(kind("db_version"), Some(ColumnKind::Scalar));
        assert_eq!(kind("next_cfg"), Some(ColumnKind::Scalar));
        assert_eq!(kind("cur_cfg"), Some(ColumnKind::Scalar));
        assert_eq!(kind("_uuid"), Some(ColumnKind::Scalar));
        assert_eq!(kind("nope"), None);
    }

    #[test]
    fn broken_schemas_are_refused() {
        assert!(Schema::from_json(&json!({"tables": {}})).is_err());
        assert!(Schema::from_json(&json!({"name": "x", "tables": {"T": {}}})).is_err());
        assert!(
            Schema::from_json(&json!({"name": "x", "tables": {"T": {"columns": {"c": {"type": {"key": "string", "max": -1}}}}}}))
                .is_err()
        );
    }
}
