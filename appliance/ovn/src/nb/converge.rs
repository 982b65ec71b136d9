//! Converging northbound rows: given every row LimiQuantix wants (each
//! named by a key in its `external_ids`) and a replica of the database,
//! the one transaction that makes the database match. Rows are found by
//! key, never by what a previous run remembered, so a restart, a lost
//! connection or a transaction of unknown outcome never duplicates or
//! orphans a row: the next plan sees what is there.

use lqx_ovsdb::ops::{self, Condition};
use lqx_ovsdb::{Atom, Datum, Replica, column};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// The `external_ids` key naming the cluster that owns a row.
pub const OWNER: &str = "lqx-owner";
/// The `external_ids` key naming the row within its owner's.
pub const KEY: &str = "lqx-id";

/// A managed table: its name, whether rows live without a reference
/// (root tables; others are garbage-collected once unreferenced) and the
/// columns LimiQuantix sets.
#[derive(Clone, Copy, Debug)]
pub struct ManagedTable {
    /// The table.
    pub name: &'static str,
    /// Whether it is a root table.
    pub root: bool,
    /// The columns monitored: those written (besides `external_ids`) and
    /// those read back (a port's `up`).
    pub columns: &'static [&'static str],
}

/// A reference to another desired row.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowRef {
    /// Its table.
    pub table: &'static str,
    /// Its key.
    pub key: String,
}

/// A column's desired value.
#[derive(Clone, Debug, PartialEq)]
pub enum Want {
    /// A value.
    Datum(Datum),
    /// A set of references to other desired rows.
    Refs(Vec<RowRef>),
}

/// A row as wanted.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredRow {
    /// Its table.
    pub table: &'static str,
    /// Its key (unique within the table).
    pub key: String,
    /// Its columns; `external_ids` gets the owner and key added.
    pub columns: BTreeMap<&'static str, Want>,
}

impl DesiredRow {
    /// A row with no columns yet.
    pub fn new(table: &'static str, key: impl Into<String>) -> Self {
        Self {
            table,
            key: key.into(),
            columns: BTreeMap::new(),
        }
    }

    /// Sets a column to a value.
    pub fn set(mut self, column: &'static str, value: Datum) -> Self {
        self.columns.insert(column, Want::Datum(value));
        self
    }

    /// Sets a column to references.
    pub fn refs(mut self, column: &'static str, refs: Vec<RowRef>) -> Self {
        self.columns.insert(column, Want::Refs(refs));
        self
    }

    /// A reference to this row.
    pub fn reference(&self) -> RowRef {
        RowRef {
            table: self.table,
            key: self.key.clone(),
        }
    }
}

/// What a plan does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanCounts {
    /// Rows inserted.
    pub inserts: usize,
    /// Rows updated.
    pub updates: usize,
    /// Root rows deleted (non-root rows go with their references).
    pub deletes: usize,
}

impl PlanCounts {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A transaction and what it does.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Its operations, in order.
    pub operations: Vec<Value>,
    /// What they do.
    pub counts: PlanCounts,
}

/// The `(table, key)` of each row `owner` owns in `replica`, with its id.
/// A key found twice (which only a foreign writer can cause) keeps the
/// first; the others are deleted as undesired.
/// Owned rows by `(table, key)`, and owned rows to delete whatever the
/// plan (duplicates, rows without a key).
type Owned = (
    HashMap<(&'static str, String), Uuid>,
    Vec<(&'static str, Uuid)>,
);

fn owned(replica: &Replica, tables: &[ManagedTable], owner: &str) -> Owned {
    let mut found = HashMap::new();
    let mut extra = Vec::new();
    for table in tables {
        for (uuid, row) in replica.rows(table.name) {
            let ids = column(row, "external_ids");
            if ids.get(OWNER) != Some(owner) {
                continue;
            }
            let Some(key) = ids.get(KEY) else {
                extra.push((table.name, *uuid));
                continue;
            };
            if found.insert((table.name, key.to_owned()), *uuid).is_some() {
                extra.push((table.name, *uuid));
            }
        }
    }
    (found, extra)
}

fn named(index: usize) -> String {
    format!("row{index}")
}

/// The transaction that makes `replica` hold exactly `desired` among the
/// rows `owner` owns in `tables`. Inserts come in the order of `tables`
/// (so list referenced tables before referring ones) and each is guarded
/// by a `wait` that fails the transaction if another writer inserted the
/// row meanwhile.
pub fn plan(
    replica: &Replica,
    tables: &[ManagedTable],
    desired: &[DesiredRow],
    owner: &str,
) -> Plan {
    let (existing, extra) = owned(replica, tables, owner);
    let mut plan = Plan::default();
    // Where each desired row is: its row id, or the name of its insert.
    let mut names: HashMap<(&'static str, &str), Atom> = HashMap::new();
    for (index, row) in desired.iter().enumerate() {
        let atom = match existing.get(&(row.table, row.key.clone())) {
            Some(uuid) => Atom::Uuid(*uuid),
            None => Atom::NamedUuid(named(index)),
        };
        names.insert((row.table, row.key.as_str()), atom);
    }
    let resolve = |row: &DesiredRow| -> BTreeMap<&'static str, Datum> {
        let mut columns: BTreeMap<&'static str, Datum> = row
            .columns
            .iter()
            .map(|(name, value)| {
                let datum = match value {
                    Want::Datum(d) => d.clone(),
                    Want::Refs(refs) => Datum::set(
                        refs.iter()
                            .filter_map(|r| names.get(&(r.table, r.key.as_str())).cloned()),
                    ),
                };
                (*name, datum)
            })
            .collect();
        let mut ids: Vec<(Atom, Atom)> = match columns.remove("external_ids") {
            Some(d) => d.pairs().to_vec(),
            None => Vec::new(),
        };
        ids.push((Atom::from(OWNER), Atom::from(owner)));
        ids.push((Atom::from(KEY), Atom::from(row.key.as_str())));
        columns.insert("external_ids", Datum::map(ids));
        columns
    };
    let mut kept = std::collections::HashSet::new();
    for table in tables {
        for (index, row) in desired.iter().enumerate() {
            if row.table != table.name {
                continue;
            }
            let columns = resolve(row);
            match existing.get(&(row.table, row.key.clone())) {
                Some(uuid) => {
                    kept.insert((row.table, *uuid));
                    let current = replica.row(row.table, uuid);
                    let changed: Vec<(&str, Datum)> = columns
                        .into_iter()
                        .filter(|(name, want)| current.is_none_or(|r| column(r, name) != want))
                        .collect();
                    if !changed.is_empty() {
                        plan.operations.push(ops::update(
                            row.table,
                            &[Condition::uuid(*uuid)],
                            changed,
                        ));
                        plan.counts.updates += 1;
                    }
                }
                None => {
                    plan.operations.push(json!({
                        "op": "wait",
                        "table": row.table,
                        "timeout": 0,
                        "where": [["external_ids", "includes",
                            Datum::string_map([(OWNER, owner), (KEY, row.key.as_str())]).to_json()]],
                        "columns": ["external_ids"],
                        "until": "==",
                        "rows": [],
                    }));
                    plan.operations
                        .push(ops::insert(row.table, columns, Some(&named(index))));
                    plan.counts.inserts += 1;
                }
            }
        }
    }
    let root: HashMap<&str, bool> = tables.iter().map(|t| (t.name, t.root)).collect();
    let undesired = existing
        .into_iter()
        .map(|((table, _), uuid)| (table, uuid))
        .filter(|(table, uuid)| !kept.contains(&(*table, *uuid)))
        .chain(extra);
    let mut deletes: Vec<(&str, Uuid)> = undesired
        .filter(|(table, _)| root.get(table).copied().unwrap_or(false))
        .collect();
    deletes.sort();
    for (table, uuid) in deletes {
        plan.operations
            .push(ops::delete(table, &[Condition::uuid(uuid)]));
        plan.counts.deletes += 1;
    }
    plan
}

#[cfg(test)]
mod tests;
