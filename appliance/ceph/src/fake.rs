//! An in-memory cluster for unit tests of the agent's logic: volumes,
//! snapshots and clones with the same refusals as the real backend.

use crate::backend::{CephBackend, CephCluster, ConnectParams};
use crate::error::CephError;
use lqx_api::{
    CephClusterInfo, CephMon, CephPool, Snapshot, Volume, VolumeDeleteQuery, VolumeParent,
    VolumeSummary,
};
use lqx_core::ceph::VolumeSpec;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use uuid::Uuid;

/// A fake cluster with one fsid, one key and some pools.
pub struct FakeCeph {
    fsid: Uuid,
    name: String,
    key: String,
    reachable: Mutex<bool>,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// pool → name → volume.
    pools: BTreeMap<String, BTreeMap<String, Volume>>,
    next_id: u64,
}

impl FakeCeph {
    /// A cluster that accepts `name` with `key` and has `pools`.
    pub fn new(name: &str, key: &str, pools: &[&str]) -> Self {
        let state = State {
            pools: pools
                .iter()
                .map(|p| (p.to_string(), BTreeMap::new()))
                .collect(),
            next_id: 1,
        };
        Self {
            fsid: Uuid::new_v4(),
            name: name.into(),
            key: key.into(),
            reachable: Mutex::new(true),
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// Its fsid.
    pub fn fsid(&self) -> Uuid {
        self.fsid
    }

    /// Makes connecting time out (or work again).
    pub fn set_reachable(&self, reachable: bool) {
        *self.reachable.lock().unwrap() = reachable;
    }
}

impl CephBackend for FakeCeph {
    fn connect(&self, params: &ConnectParams) -> Result<Arc<dyn CephCluster>, CephError> {
        if !*self.reachable.lock().unwrap() {
            return Err(CephError::Unreachable {
                mons: "fake".into(),
                timeout: params.timeout,
            });
        }
        if params.name != self.name || params.key != self.key {
            return Err(CephError::AuthFailed {
                name: params.name.clone(),
            });
        }
        Ok(Arc::new(FakeCluster {
            fsid: self.fsid,
            state: Arc::clone(&self.state),
        }))
    }
}

struct FakeCluster {
    fsid: Uuid,
    state: Arc<Mutex<State>>,
}

impl State {
    fn pool(&mut self, pool: &str) -> Result<&mut BTreeMap<String, Volume>, CephError> {
        self.pools
            .get_mut(pool)
            .ok_or_else(|| CephError::NotFound(format!("pool {pool}")))
    }

    fn volume(&mut self, pool: &str, name: &str) -> Result<&mut Volume, CephError> {
        self.pool(pool)?
            .get_mut(name)
            .ok_or_else(|| CephError::NotFound(format!("{pool}/{name}")))
    }

    fn clones(&self, pool: &str, name: &str, snap: &str) -> Vec<String> {
        self.pools
            .iter()
            .flat_map(|(p, vols)| vols.values().map(move |v| (p, v)))
            .filter(|(_, v)| {
                v.parent.as_ref().is_some_and(|parent| {
                    parent.pool == pool && parent.name == name && parent.snapshot == snap
                })
            })
            .map(|(p, v)| format!("{p}/{}", v.name))
            .collect()
    }

    fn refreshed(&self, pool: &str, name: &str) -> Result<Volume, CephError> {
        let mut v = self
            .pools
            .get(pool)
            .and_then(|p| p.get(name))
            .cloned()
            .ok_or_else(|| CephError::NotFound(format!("{pool}/{name}")))?;
        for s in &mut v.snapshots {
            s.clones = self.clones(pool, name, &s.name);
        }
        Ok(v)
    }
}

impl CephCluster for FakeCluster {
    fn info(&self) -> Result<CephClusterInfo, CephError> {
        let state = self.state.lock().unwrap();
        Ok(CephClusterInfo {
            fsid: self.fsid,
            health: "HEALTH_OK".into(),
            checks: vec![],
            mons: vec![CephMon {
                name: "a".into(),
                rank: 0,
                v2: Some("192.0.2.1:3300".into()),
                v1: None,
            }],
            monmap_epoch: 1,
            pools: state
                .pools
                .keys()
                .enumerate()
                .map(|(i, p)| CephPool {
                    name: p.clone(),
                    id: i as i64 + 1,
                    applications: vec!["rbd".into()],
                    rbd_readable: true,
                })
                .collect(),
        })
    }

    fn list(&self, pool: &str) -> Result<Vec<VolumeSummary>, CephError> {
        let mut state = self.state.lock().unwrap();
        Ok(state
            .pool(pool)?
            .values()
            .map(|v| VolumeSummary {
                name: v.name.clone(),
                size_bytes: v.size_bytes,
                parent: v
                    .parent
                    .as_ref()
                    .map(|p| format!("{}/{}@{}", p.pool, p.name, p.snapshot)),
                snapshots: v.snapshots.len(),
            })
            .collect())
    }

    fn volume(&self, pool: &str, name: &str) -> Result<Volume, CephError> {
        self.state.lock().unwrap().refreshed(pool, name)
    }

    fn create(&self, pool: &str, name: &str, size_bytes: u64) -> Result<Volume, CephError> {
        let mut state = self.state.lock().unwrap();
        let id = state.next_id;
        state.next_id += 1;
        let vols = state.pool(pool)?;
        if vols.contains_key(name) {
            return Err(CephError::Exists(format!("{pool}/{name}")));
        }
        vols.insert(
            name.to_owned(),
            Volume {
                pool: pool.into(),
                name: name.into(),
                id: format!("{id:x}"),
                size_bytes,
                object_size_bytes: 4 << 20,
                features: vec!["layering".into()],
                parent: None,
                snapshots: vec![],
                created_at: OffsetDateTime::now_utc(),
            },
        );
        state.refreshed(pool, name)
    }

    fn resize(
        &self,
        pool: &str,
        name: &str,
        size_bytes: u64,
        allow_shrink: bool,
    ) -> Result<Volume, CephError> {
        let mut state = self.state.lock().unwrap();
        let v = state.volume(pool, name)?;
        if size_bytes < v.size_bytes && !allow_shrink {
            return Err(CephError::ShrinkRefused {
                volume: format!("{pool}/{name}"),
                current: v.size_bytes,
                requested: size_bytes,
            });
        }
        v.size_bytes = size_bytes;
        state.refreshed(pool, name)
    }

    fn snapshot_create(&self, pool: &str, name: &str, snap: &str) -> Result<Volume, CephError> {
        let mut state = self.state.lock().unwrap();
        let id = state.next_id;
        state.next_id += 1;
        let v = state.volume(pool, name)?;
        if v.snapshots.iter().any(|s| s.name == snap) {
            return Err(CephError::Exists(format!("{pool}/{name}@{snap}")));
        }
        let size_bytes = v.size_bytes;
        v.snapshots.push(Snapshot {
            name: snap.into(),
            id,
            size_bytes,
            protected: false,
            clones: vec![],
        });
        state.refreshed(pool, name)
    }

    fn snapshot_delete(&self, pool: &str, name: &str, snap: &str) -> Result<Volume, CephError> {
        let mut state = self.state.lock().unwrap();
        let clones = state.clones(pool, name, snap);
        let v = state.volume(pool, name)?;
        let Some(i) = v.snapshots.iter().position(|s| s.name == snap) else {
            return Err(CephError::NotFound(format!("{pool}/{name}@{snap}")));
        };
        if !clones.is_empty() {
            return Err(CephError::HasClones {
                snapshot: format!("{pool}/{name}@{snap}"),
                clones,
            });
        }
        v.snapshots.remove(i);
        state.refreshed(pool, name)
    }

    fn clone_volume(&self, source: &VolumeSpec, target: &VolumeSpec) -> Result<Volume, CephError> {
        let mut state = self.state.lock().unwrap();
        let snap = source.snapshot.clone().unwrap_or_default();
        let parent = state.volume(&source.pool, &source.name)?;
        let Some(s) = parent.snapshots.iter_mut().find(|s| s.name == snap) else {
            return Err(CephError::NotFound(source.to_string()));
        };
        s.protected = true;
        let size_bytes = s.size_bytes;
        if state.pool(&target.pool)?.contains_key(&target.name) {
            return Err(CephError::Exists(target.to_string()));
        }
        let id = state.next_id;
        state.next_id += 1;
        state.pool(&target.pool)?.insert(
            target.name.clone(),
            Volume {
                pool: target.pool.clone(),
                name: target.name.clone(),
                id: format!("{id:x}"),
                size_bytes,
                object_size_bytes: 4 << 20,
                features: vec!["layering".into()],
                parent: Some(VolumeParent {
                    pool: source.pool.clone(),
                    name: source.name.clone(),
                    snapshot: snap,
                }),
                snapshots: vec![],
                created_at: OffsetDateTime::now_utc(),
            },
        );
        state.refreshed(&target.pool, &target.name)
    }

    fn delete(&self, pool: &str, name: &str, how: VolumeDeleteQuery) -> Result<(), CephError> {
        let mut state = self.state.lock().unwrap();
        let v = state.refreshed(pool, name)?;
        if !v.snapshots.is_empty() && !how.snapshots {
            return Err(CephError::HasSnapshots {
                volume: format!("{pool}/{name}"),
                snapshots: v.snapshots.iter().map(|s| s.name.clone()).collect(),
            });
        }
        for s in &v.snapshots {
            if !s.clones.is_empty() && !how.flatten_clones {
                return Err(CephError::HasClones {
                    snapshot: format!("{pool}/{name}@{}", s.name),
                    clones: s.clones.clone(),
                });
            }
        }
        for s in &v.snapshots {
            for clone in &s.clones {
                if let Ok(spec) = VolumeSpec::parse(clone) {
                    state.volume(&spec.pool, &spec.name)?.parent = None;
                }
            }
        }
        state.pool(pool)?.remove(name);
        Ok(())
    }
}
