//! Reading the monitors' JSON answers into the API's types.

use lqx_api::{CephHealthCheck, CephMon};
use serde_json::Value;
use uuid::Uuid;

/// What `status` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The cluster's fsid.
    pub fsid: Uuid,
    /// Overall health.
    pub health: String,
    /// The checks that are not OK, by code.
    pub checks: Vec<CephHealthCheck>,
}

/// Reads `{"prefix": "status"}`'s answer.
pub fn parse_status(v: &Value) -> Result<Status, String> {
    let fsid = v["fsid"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or("no fsid")?;
    let health = v["health"]["status"]
        .as_str()
        .ok_or("no health status")?
        .to_owned();
    let mut checks: Vec<CephHealthCheck> = v["health"]["checks"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(code, c)| CephHealthCheck {
                    code: code.clone(),
                    severity: c["severity"].as_str().unwrap_or("").to_owned(),
                    message: c["summary"]["message"].as_str().unwrap_or("").to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    checks.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(Status {
        fsid,
        health,
        checks,
    })
}

/// Reads `{"prefix": "mon dump"}`'s answer: the epoch and the monitors by
/// rank.
pub fn parse_monmap(v: &Value) -> Result<(u64, Vec<CephMon>), String> {
    let epoch = v["epoch"].as_u64().ok_or("no epoch")?;
    let mons = v["mons"].as_array().ok_or("no mons")?;
    let mut out: Vec<CephMon> = mons
        .iter()
        .map(|m| {
            let addr = |kind: &str| {
                m["public_addrs"]["addrvec"]
                    .as_array()
                    .and_then(|a| a.iter().find(|e| e["type"] == kind))
                    .and_then(|e| e["addr"].as_str())
                    .map(str::to_owned)
            };
            CephMon {
                name: m["name"].as_str().unwrap_or("").to_owned(),
                rank: m["rank"].as_i64().unwrap_or(-1),
                v2: addr("v2"),
                v1: addr("v1"),
            }
        })
        .collect();
    out.sort_by_key(|m| m.rank);
    Ok((epoch, out))
}

/// A pool from `{"prefix": "osd pool ls", "detail": "detail"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolEntry {
    /// Name.
    pub name: String,
    /// Id.
    pub id: i64,
    /// Applications enabled on it, sorted.
    pub applications: Vec<String>,
}

/// Reads the pool listing.
pub fn parse_pools(v: &Value) -> Result<Vec<PoolEntry>, String> {
    let pools = v.as_array().ok_or("not a list")?;
    pools
        .iter()
        .map(|p| {
            let name = p["pool_name"].as_str().ok_or("a pool without a name")?;
            let id = p["pool_id"]
                .as_i64()
                .or_else(|| p["pool"].as_i64())
                .ok_or("a pool without an id")?;
            let mut applications: Vec<String> = p["application_metadata"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            applications.sort();
            Ok(PoolEntry {
                name: name.to_owned(),
                id,
                applications,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_lists_checks_by_code() {
        let s = parse_status(&json!({
            "fsid": "8a4b1b4e-6f3a-4a51-9d0e-2f6c1b0d9e11",
            "health": {"status": "HEALTH_WARN", "checks": {
                "MGR_DOWN": {"severity": "HEALTH_WARN", "summary": {"message": "no active mgr", "count": 1}},
                "AUTH_X": {"severity": "HEALTH_ERR", "summary": {"message": "m"}}
            }}
        }))
        .unwrap();
        assert_eq!(s.health, "HEALTH_WARN");
        assert_eq!(s.checks[0].code, "AUTH_X");
        assert_eq!(s.checks[1].message, "no active mgr");
        assert!(parse_status(&json!({"health": {}})).is_err());
    }

    #[test]
    fn monmap_gives_both_addresses() {
        let (epoch, mons) = parse_monmap(&json!({"epoch": 3, "mons": [
            {"rank": 1, "name": "b", "public_addrs": {"addrvec": [{"type": "v1", "addr": "10.0.0.2:6789"}]}},
            {"rank": 0, "name": "a", "public_addrs": {"addrvec": [
                {"type": "v2", "addr": "10.0.0.1:3300"}, {"type": "v1", "addr": "10.0.0.1:6789"}]}}
        ]}))
        .unwrap();
        assert_eq!(epoch, 3);
        assert_eq!(mons[0].name, "a");
        assert_eq!(mons[0].v2.as_deref(), Some("10.0.0.1:3300"));
        assert_eq!(mons[1].v2, None);
        assert_eq!(mons[1].v1.as_deref(), Some("10.0.0.2:6789"));
    }

    #[test]
    fn pools_with_applications() {
        let pools = parse_pools(&json!([
            {"pool_name": "vms", "pool_id": 2, "application_metadata": {"rbd": {}}},
            {"pool_name": ".mgr", "pool": 1, "application_metadata": {"mgr": {}}}
        ]))
        .unwrap();
        assert_eq!(pools[0].applications, ["rbd"]);
        assert_eq!(pools[1].id, 1);
    }
}
