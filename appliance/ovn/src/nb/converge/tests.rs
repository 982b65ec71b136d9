use super::*;
use lqx_ovsdb::Schema;
use std::sync::Arc;

const TABLES: &[ManagedTable] = &[
    ManagedTable {
        name: "Port",
        root: false,
        columns: &["name"],
    },
    ManagedTable {
        name: "Switch",
        root: true,
        columns: &["name", "ports"],
    },
];

fn replica(rows: Value) -> Replica {
    let schema = Schema::from_json(&json!({
        "name": "T", "version": "1",
        "tables": {
            "Switch": {"columns": {
                "name": {"type": "string"},
                "ports": {"type": {"key": {"type": "uuid", "refTable": "Port"}, "min": 0, "max": "unlimited"}},
                "external_ids": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}}}},
            "Port": {"columns": {
                "name": {"type": "string"},
                "external_ids": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}}}}
        }
    }))
    .unwrap();
    let mut r = Replica::new(Arc::new(schema));
    r.apply(&rows).unwrap();
    r
}

fn ids(owner: &str, key: &str) -> Value {
    json!(["map", [[OWNER, owner], [KEY, key]]])
}

fn desired() -> Vec<DesiredRow> {
    let port = DesiredRow::new("Port", "p1").set("name", Datum::scalar("p1"));
    let switch = DesiredRow::new("Switch", "s1")
        .set("name", Datum::scalar("s1"))
        .refs("ports", vec![port.reference()]);
    vec![switch, port]
}

const P1: &str = "00000000-0000-0000-0000-000000000001";
const S1: &str = "00000000-0000-0000-0000-000000000002";

#[test]
fn an_empty_database_gets_guarded_inserts_children_first() {
    let plan = plan(&replica(json!({})), TABLES, &desired(), "c1");
    assert_eq!(plan.counts.inserts, 2);
    let kinds: Vec<(&str, &str)> = plan
        .operations
        .iter()
        .map(|o| (o["op"].as_str().unwrap(), o["table"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("wait", "Port"),
            ("insert", "Port"),
            ("wait", "Switch"),
            ("insert", "Switch")
        ]
    );
    // The switch refers to the port by the port insert's name.
    let port_name = plan.operations[1]["uuid-name"].as_str().unwrap();
    assert_eq!(
        plan.operations[3]["row"]["ports"],
        json!(["named-uuid", port_name])
    );
    assert_eq!(
        plan.operations[3]["row"]["external_ids"],
        json!(["map", [[KEY, "s1"], [OWNER, "c1"]]])
    );
}

#[test]
fn a_matching_database_needs_nothing_and_a_change_one_update() {
    let mut rows = json!({
        "Port": {P1: {"initial": {"name": "p1", "external_ids": ids("c1", "p1")}}},
        "Switch": {S1: {"initial": {"name": "s1", "ports": ["uuid", P1], "external_ids": ids("c1", "s1")}}},
    });
    assert!(
        plan(&replica(rows.clone()), TABLES, &desired(), "c1")
            .counts
            .is_empty()
    );
    rows["Switch"][S1]["initial"]["name"] = json!("old");
    let p = plan(&replica(rows), TABLES, &desired(), "c1");
    assert_eq!(
        p.counts,
        PlanCounts {
            inserts: 0,
            updates: 1,
            deletes: 0
        }
    );
    assert_eq!(p.operations[0]["row"], json!({"name": "s1"}));
}

#[test]
fn undesired_rows_go_and_foreign_ones_stay() {
    let rows = json!({
        "Switch": {
            S1: {"initial": {"name": "s1", "external_ids": ids("c1", "gone")}},
            "00000000-0000-0000-0000-000000000003": {"initial": {"name": "theirs", "external_ids": ids("c2", "s1")}},
            "00000000-0000-0000-0000-000000000004": {"initial": {"name": "manual"}},
        },
    });
    let p = plan(&replica(rows), TABLES, &[], "c1");
    assert_eq!(
        p.counts,
        PlanCounts {
            inserts: 0,
            updates: 0,
            deletes: 1
        }
    );
    assert_eq!(
        p.operations[0]["where"],
        json!([["_uuid", "==", ["uuid", S1]]])
    );
}

#[test]
fn a_duplicate_keeps_one() {
    let rows = json!({
        "Switch": {
            S1: {"initial": {"name": "s1", "external_ids": ids("c1", "s1")}},
            "00000000-0000-0000-0000-000000000005": {"initial": {"name": "s1", "external_ids": ids("c1", "s1")}},
        },
    });
    let want = vec![DesiredRow::new("Switch", "s1").set("name", Datum::scalar("s1"))];
    let p = plan(&replica(rows), TABLES, &want, "c1");
    assert_eq!(
        p.counts,
        PlanCounts {
            inserts: 0,
            updates: 0,
            deletes: 1
        }
    );
}
