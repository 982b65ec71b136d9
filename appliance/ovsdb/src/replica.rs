//! A local copy of monitored tables, kept current by `update2`
//! notifications (ovsdb-server(7), "monitor_cond").

use crate::datum::{ColumnKind, Datum, DatumError};
use crate::schema::Schema;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use thiserror::Error;
use uuid::Uuid;

/// A row: column name to value. Columns at their default value may be
/// absent (the server leaves them out of inserts); read them with
/// [`column`].
pub type Row = BTreeMap<String, Datum>;

/// A column's value, the empty set when the row leaves it out.
pub fn column<'a>(row: &'a Row, name: &str) -> &'a Datum {
    static EMPTY: Datum = Datum::Set(Vec::new());
    row.get(name).unwrap_or(&EMPTY)
}

/// An update the replica cannot apply; the replica is then stale and the
/// client starts the monitor over.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ReplicaError {
    /// The update is not shaped like `table-updates2`.
    #[error("malformed update: {0}")]
    Malformed(String),
    /// A value in it is not an OVSDB value.
    #[error(transparent)]
    Datum(#[from] DatumError),
    /// It names a table or column the schema does not have.
    #[error("update for unknown column {0}")]
    UnknownColumn(String),
    /// It modifies or deletes a row the replica does not hold.
    #[error("update for unknown row {table} {uuid}")]
    UnknownRow {
        /// The table.
        table: String,
        /// The row.
        uuid: Uuid,
    },
}

/// The monitored tables of one database.
#[derive(Clone, Debug)]
pub struct Replica {
    schema: Arc<Schema>,
    tables: BTreeMap<String, BTreeMap<Uuid, Row>>,
}

impl Replica {
    /// An empty replica of a database with `schema`.
    pub fn new(schema: Arc<Schema>) -> Self {
        Self {
            schema,
            tables: BTreeMap::new(),
        }
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The rows of `table`.
    pub fn rows(&self, table: &str) -> impl Iterator<Item = (&Uuid, &Row)> {
        self.tables.get(table).into_iter().flatten()
    }

    /// One row.
    pub fn row(&self, table: &str, uuid: &Uuid) -> Option<&Row> {
        self.tables.get(table)?.get(uuid)
    }

    /// Forgets every row (before a new monitor's initial contents).
    pub fn clear(&mut self) {
        self.tables.clear();
    }

    /// Applies a `table-updates2` object, all or nothing: on an error the
    /// replica is unchanged.
    pub fn apply(&mut self, updates: &Value) -> Result<(), ReplicaError> {
        let mut next = self.tables.clone();
        let tables = updates
            .as_object()
            .ok_or_else(|| ReplicaError::Malformed(updates.to_string()))?;
        for (table, rows) in tables {
            let rows = rows
                .as_object()
                .ok_or_else(|| ReplicaError::Malformed(format!("{table}: {rows}")))?;
            let current = next.entry(table.clone()).or_default();
            for (uuid, update) in rows {
                let uuid: Uuid = uuid
                    .parse()
                    .map_err(|_| ReplicaError::Malformed(format!("row id {uuid}")))?;
                let (op, body) = update
                    .as_object()
                    .filter(|o| o.len() == 1)
                    .and_then(|o| o.iter().next())
                    .ok_or_else(|| ReplicaError::Malformed(update.to_string()))?;
                match op.as_str() {
                    "initial" | "insert" => {
                        current.insert(uuid, self.decode_row(table, body)?);
                    }
                    "delete" => {
                        current
                            .remove(&uuid)
                            .ok_or_else(|| ReplicaError::UnknownRow {
                                table: table.clone(),
                                uuid,
                            })?;
                    }
                    "modify" => {
                        let diff = self.decode_row(table, body)?;
                        let row =
                            current
                                .get_mut(&uuid)
                                .ok_or_else(|| ReplicaError::UnknownRow {
                                    table: table.clone(),
                                    uuid,
                                })?;
                        for (name, change) in diff {
                            let kind = self.kind(table, &name)?;
                            let value = column(row, &name).apply_diff(&change, kind);
                            row.insert(name, value);
                        }
                    }
                    other => return Err(ReplicaError::Malformed(format!("operation {other}"))),
                }
            }
        }
        self.tables = next;
        Ok(())
    }

    fn kind(&self, table: &str, column: &str) -> Result<ColumnKind, ReplicaError> {
        self.schema
            .kind(table, column)
            .ok_or_else(|| ReplicaError::UnknownColumn(format!("{table}.{column}")))
    }

    fn decode_row(&self, table: &str, body: &Value) -> Result<Row, ReplicaError> {
        let columns = body
            .as_object()
            .ok_or_else(|| ReplicaError::Malformed(format!("{table} row {body}")))?;
        let mut row = Row::new();
        for (name, value) in columns {
            self.kind(table, name)?;
            row.insert(name.clone(), Datum::from_json(value)?);
        }
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datum::Atom;
    use proptest::prelude::*;
    use serde_json::{Map, json};

    fn schema() -> Arc<Schema> {
        Arc::new(
            Schema::from_json(&json!({
                "name": "T",
                "tables": {"T": {"columns": {
                    "n": {"type": "integer"},
                    "s": {"type": {"key": "integer", "min": 0, "max": "unlimited"}},
                    "o": {"type": {"key": "string", "min": 0, "max": 1}},
                    "m": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}}
                }}}
            }))
            .unwrap(),
        )
    }

    /// A row as the test models it: every column present.
    #[derive(Clone, Debug, PartialEq)]
    struct Model {
        n: i64,
        s: Vec<i64>,
        o: Option<String>,
        m: BTreeMap<String, String>,
    }

    impl Model {
        fn datum(&self, column: &str) -> Datum {
            match column {
                "n" => Datum::scalar(self.n),
                "s" => Datum::set(self.s.iter().map(|i| Atom::from(*i))),
                "o" => Datum::set(self.o.iter().map(|o| Atom::from(o.as_str()))),
                _ => Datum::map(
                    self.m
                        .iter()
                        .map(|(k, v)| (Atom::from(k.as_str()), Atom::from(v.as_str()))),
                ),
            }
        }

        /// What the server sends for an insert: columns at their default
        /// left out.
        fn insert(&self) -> Value {
            let mut row = Map::new();
            for c in ["n", "s", "o", "m"] {
                let d = self.datum(c);
                let default = if c == "n" {
                    Datum::scalar(0)
                } else {
                    Datum::empty()
                };
                if d != default && d != Datum::Map(vec![]) {
                    row.insert(c.into(), d.to_json());
                }
            }
            Value::Object(row)
        }

        /// The server's diff from `self` to `new`: changed columns only.
        fn diff(&self, new: &Model) -> Value {
            let mut row = Map::new();
            if self.n != new.n {
                row.insert("n".into(), json!(new.n));
            }
            let toggle = |a: Vec<Atom>, b: Vec<Atom>| -> Vec<Atom> {
                a.iter()
                    .filter(|x| !b.contains(x))
                    .chain(b.iter().filter(|x| !a.contains(x)))
                    .cloned()
                    .collect()
            };
            let t = toggle(
                self.datum("s").atoms().to_vec(),
                new.datum("s").atoms().to_vec(),
            );
            if !t.is_empty() {
                row.insert("s".into(), Datum::set(t).to_json());
            }
            // An optional column (`max` 1) is not diffed: its new value
            // comes, an empty set when cleared.
            if self.o != new.o {
                row.insert("o".into(), new.datum("o").to_json());
            }
            let mut pairs = vec![];
            for (k, v) in &self.m {
                match new.m.get(k) {
                    None => pairs.push((k.clone(), v.clone())),
                    Some(nv) if nv != v => pairs.push((k.clone(), nv.clone())),
                    _ => {}
                }
            }
            for (k, v) in &new.m {
                if !self.m.contains_key(k) {
                    pairs.push((k.clone(), v.clone()));
                }
            }
            if !pairs.is_empty() {
                row.insert(
                    "m".into(),
                    Datum::map(
                        pairs
                            .into_iter()
                            .map(|(k, v)| (Atom::from(k), Atom::from(v))),
                    )
                    .to_json(),
                );
            }
            Value::Object(row)
        }
    }

    fn model() -> impl Strategy<Value = Model> {
        (
            -3i64..3,
            proptest::collection::vec(0i64..5, 0..4),
            proptest::option::of("[ab]"),
            proptest::collection::btree_map("[abc]", "[xy]", 0..3),
        )
            .prop_map(|(n, mut s, o, m)| {
                s.sort_unstable();
                s.dedup();
                Model { n, s, o, m }
            })
    }

    fn uuid(i: usize) -> Uuid {
        Uuid::from_u128(i as u128 + 1)
    }

    fn updates(old: &BTreeMap<usize, Model>, new: &BTreeMap<usize, Model>, initial: bool) -> Value {
        let mut rows = Map::new();
        for (id, row) in new {
            let update = match old.get(id) {
                None if initial => json!({"initial": row.insert()}),
                None => json!({"insert": row.insert()}),
                Some(prev) if prev != row => json!({"modify": prev.diff(row)}),
                Some(_) => continue,
            };
            rows.insert(uuid(*id).to_string(), update);
        }
        for id in old.keys().filter(|id| !new.contains_key(id)) {
            rows.insert(uuid(*id).to_string(), json!({"delete": null}));
        }
        json!({ "T": rows })
    }

    proptest! {
        /// Whatever sequence of table states the server goes through, the
        /// replica fed its update2 diffs holds the latest state.
        #[test]
        fn replica_follows_any_history(
            states in proptest::collection::vec(
                proptest::collection::btree_map(0usize..5, model(), 0..5),
                1..6,
            )
        ) {
            let mut replica = Replica::new(schema());
            let mut previous = BTreeMap::new();
            for (i, state) in states.iter().enumerate() {
                replica.apply(&updates(&previous, state, i == 0)).unwrap();
                prop_assert_eq!(replica.rows("T").count(), state.len());
                for (id, model) in state {
                    let row = replica.row("T", &uuid(*id)).unwrap();
                    for c in ["s", "o", "m"] {
                        prop_assert_eq!(column(row, c), &model.datum(c), "column {}", c);
                    }
                    let n = row.get("n").cloned().unwrap_or(Datum::scalar(0));
                    prop_assert_eq!(n, model.datum("n"));
                }
                previous = state.clone();
            }
        }
    }

    #[test]
    fn bad_updates_leave_the_replica_as_it_was() {
        let mut replica = Replica::new(schema());
        let id = uuid(1).to_string();
        replica
            .apply(&json!({"T": {id.clone(): {"insert": {"n": 1}}}}))
            .unwrap();
        for bad in [
            json!({"T": {id.clone(): {"modify": {"nope": 1}}, uuid(2).to_string(): {"insert": {}}}}),
            json!({"T": {uuid(9).to_string(): {"delete": null}}}),
            json!({"T": {"not-a-uuid": {"insert": {}}}}),
            json!({"T": {id.clone(): {"upsert": {}}}}),
            json!([1]),
        ] {
            assert!(replica.apply(&bad).is_err(), "{bad}");
            assert_eq!(replica.rows("T").count(), 1);
            assert_eq!(replica.row("T", &uuid(1)).unwrap()["n"], Datum::scalar(1));
        }
    }
}
