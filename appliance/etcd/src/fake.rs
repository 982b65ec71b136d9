//! An in-memory [`ClusterStore`] for unit tests of cluster logic: the same
//! create/delete-if semantics, leases that expire by the clock (or on
//! demand), members, and an outage switch.

use crate::error::EtcdError;
use crate::store::{Added, ClusterStore, Entry, LeaseId, MemberInfo, Put};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    keys: BTreeMap<String, (Vec<u8>, Option<LeaseId>)>,
    leases: BTreeMap<LeaseId, (Duration, Instant)>,
    members: Vec<MemberInfo>,
    next_id: u64,
    unavailable: bool,
}

impl State {
    fn expire(&mut self) {
        let now = Instant::now();
        let dead: Vec<LeaseId> = self
            .leases
            .iter()
            .filter(|(_, (_, deadline))| *deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in dead {
            self.drop_lease(id);
        }
    }

    fn drop_lease(&mut self, id: LeaseId) {
        self.leases.remove(&id);
        self.keys.retain(|_, (_, lease)| *lease != Some(id));
    }
}

/// The version the fake reports.
pub const VERSION: &str = "0.0.0-fake";

/// The fake store.
#[derive(Default)]
pub struct FakeStore {
    state: Mutex<State>,
}

impl FakeStore {
    /// An empty store with no members.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every operation fail as an unreachable cluster's would, or
    /// work again.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.state.lock().unwrap().unavailable = unavailable;
    }

    /// Records that the member `id` started as `name`, serving clients on
    /// `client_url` (a real member names itself when it starts).
    pub fn start_member(&self, id: u64, name: &str, client_url: &str) {
        let mut state = self.state.lock().unwrap();
        if let Some(m) = state.members.iter_mut().find(|m| m.id == id) {
            m.name = name.to_owned();
            m.client_urls = vec![client_url.to_owned()];
        }
    }

    /// Expires `lease` now, as if its holder had stopped renewing it.
    pub fn expire(&self, lease: LeaseId) {
        self.state.lock().unwrap().drop_lease(lease);
    }

    fn with<'a, T: Send + 'a>(
        &'a self,
        what: &'static str,
        f: impl FnOnce(&mut State) -> Result<T, EtcdError> + Send + 'a,
    ) -> BoxFuture<'a, Result<T, EtcdError>> {
        async move {
            let mut state = self.state.lock().unwrap();
            if state.unavailable {
                return Err(EtcdError::TimedOut { what });
            }
            state.expire();
            f(&mut state)
        }
        .boxed()
    }
}

fn check_lease(state: &State, lease: Option<LeaseId>) -> Result<(), EtcdError> {
    match lease {
        Some(id) if !state.leases.contains_key(&id) => Err(EtcdError::NoLease),
        _ => Ok(()),
    }
}

impl ClusterStore for FakeStore {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, EtcdError>> {
        self.with("read a key", move |s| {
            Ok(s.keys.get(key).map(|(v, _)| v.clone()))
        })
    }

    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<Entry>, EtcdError>> {
        self.with("list keys", move |s| {
            Ok(s.keys
                .range(prefix.to_owned()..)
                .take_while(|(k, _)| k.starts_with(prefix))
                .map(|(k, (v, _))| Entry {
                    key: k.clone(),
                    value: v.clone(),
                })
                .collect())
        })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        lease: Option<LeaseId>,
    ) -> BoxFuture<'a, Result<(), EtcdError>> {
        self.with("write a key", move |s| {
            check_lease(s, lease)?;
            s.keys.insert(key.to_owned(), (value, lease));
            Ok(())
        })
    }

    fn create<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        lease: Option<LeaseId>,
    ) -> BoxFuture<'a, Result<bool, EtcdError>> {
        self.with("create a key", move |s| {
            check_lease(s, lease)?;
            if s.keys.contains_key(key) {
                return Ok(false);
            }
            s.keys.insert(key.to_owned(), (value, lease));
            Ok(true)
        })
    }

    fn delete_if<'a>(
        &'a self,
        key: &'a str,
        expected: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, EtcdError>> {
        self.with("consume a key", move |s| {
            if s.keys.get(key).is_some_and(|(v, _)| *v == expected) {
                s.keys.remove(key);
                return Ok(true);
            }
            Ok(false)
        })
    }

    fn replace<'a>(
        &'a self,
        key: &'a str,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, EtcdError>> {
        self.with("replace a key", move |s| {
            if s.keys.get(key).map(|(v, _)| v.clone()) != expected {
                return Ok(false);
            }
            s.keys.insert(key.to_owned(), (value, None));
            Ok(true)
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, EtcdError>> {
        self.with("delete a key", move |s| Ok(s.keys.remove(key).is_some()))
    }

    fn put_if_exists<'a>(
        &'a self,
        guard: &'a str,
        puts: Vec<Put>,
    ) -> BoxFuture<'a, Result<bool, EtcdError>> {
        self.with("write keys", move |s| {
            if !s.keys.contains_key(guard) {
                return Ok(false);
            }
            for p in &puts {
                check_lease(s, p.lease)?;
            }
            for p in puts {
                s.keys.insert(p.key, (p.value, p.lease));
            }
            Ok(true)
        })
    }

    fn create_many(&self, puts: Vec<Put>) -> BoxFuture<'_, Result<bool, EtcdError>> {
        self.with("create keys", move |s| {
            if puts.iter().any(|p| s.keys.contains_key(&p.key)) {
                return Ok(false);
            }
            for p in &puts {
                check_lease(s, p.lease)?;
            }
            for p in puts {
                s.keys.insert(p.key, (p.value, p.lease));
            }
            Ok(true)
        })
    }

    fn delete_many(&self, keys: Vec<String>) -> BoxFuture<'_, Result<(), EtcdError>> {
        self.with("delete keys", move |s| {
            for key in keys {
                s.keys.remove(&key);
            }
            Ok(())
        })
    }

    fn grant(&self, ttl: Duration) -> BoxFuture<'_, Result<LeaseId, EtcdError>> {
        self.with("grant a lease", move |s| {
            s.next_id += 1;
            let id = LeaseId::try_from(s.next_id).unwrap_or(LeaseId::MAX);
            s.leases.insert(id, (ttl, Instant::now() + ttl));
            Ok(id)
        })
    }

    fn keep_alive(&self, lease: LeaseId) -> BoxFuture<'_, Result<bool, EtcdError>> {
        self.with("renew a lease", move |s| {
            Ok(match s.leases.get_mut(&lease) {
                Some((ttl, deadline)) => {
                    *deadline = Instant::now() + *ttl;
                    true
                }
                None => false,
            })
        })
    }

    fn revoke(&self, lease: LeaseId) -> BoxFuture<'_, Result<(), EtcdError>> {
        self.with("revoke a lease", move |s| {
            s.drop_lease(lease);
            Ok(())
        })
    }

    fn members(&self) -> BoxFuture<'_, Result<Vec<MemberInfo>, EtcdError>> {
        self.with("list members", |s| Ok(s.members.clone()))
    }

    fn add_member<'a>(
        &'a self,
        peer_url: &'a str,
        learner: bool,
    ) -> BoxFuture<'a, Result<Added, EtcdError>> {
        self.with("add a member", move |s| {
            // etcd's own limit: one learner at a time.
            if learner && s.members.iter().any(|m| m.learner) {
                return Err(EtcdError::TooManyLearners(etcd_client::Error::InvalidArgs(
                    "too many learner members in cluster".into(),
                )));
            }
            s.next_id += 1;
            let id = s.next_id;
            s.members.push(MemberInfo {
                id,
                name: String::new(),
                peer_urls: vec![peer_url.to_owned()],
                client_urls: vec![],
                learner,
            });
            Ok(Added {
                id,
                members: s.members.clone(),
            })
        })
    }

    fn remove_member(&self, id: u64) -> BoxFuture<'_, Result<(), EtcdError>> {
        self.with("remove a member", move |s| {
            let before = s.members.len();
            s.members.retain(|m| m.id != id);
            if s.members.len() == before {
                return Err(EtcdError::NoMember(format!("{id:x}")));
            }
            Ok(())
        })
    }

    fn promote_member(&self, id: u64) -> BoxFuture<'_, Result<(), EtcdError>> {
        self.with("promote a member", move |s| {
            match s.members.iter_mut().find(|m| m.id == id) {
                Some(m) => {
                    m.learner = false;
                    Ok(())
                }
                None => Err(EtcdError::NoMember(format!("{id:x}"))),
            }
        })
    }

    fn version(&self) -> BoxFuture<'_, Result<String, EtcdError>> {
        self.with("read the member's version", |_| Ok(VERSION.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn create_and_delete_if_decide_races() {
        let store = FakeStore::new();
        assert!(store.create("/t/a", b"1".to_vec(), None).await.unwrap());
        assert!(!store.create("/t/a", b"2".to_vec(), None).await.unwrap());
        assert!(!store.delete_if("/t/a", b"2".to_vec()).await.unwrap());
        assert!(store.delete_if("/t/a", b"1".to_vec()).await.unwrap());
        assert!(!store.delete_if("/t/a", b"1".to_vec()).await.unwrap());
    }

    #[tokio::test]
    async fn keys_go_with_their_lease() {
        let store = FakeStore::new();
        let lease = store.grant(Duration::from_secs(60)).await.unwrap();
        store
            .put("/t/alive", b"x".to_vec(), Some(lease))
            .await
            .unwrap();
        store.put("/t/kept", b"y".to_vec(), None).await.unwrap();
        assert!(store.keep_alive(lease).await.unwrap());
        store.expire(lease);
        assert_eq!(store.get("/t/alive").await.unwrap(), None);
        assert_eq!(store.list("/t/").await.unwrap().len(), 1);
        assert!(!store.keep_alive(lease).await.unwrap());
        let err = store.put("/t/x", vec![], Some(lease)).await.unwrap_err();
        assert!(matches!(err, EtcdError::NoLease), "{err}");
    }

    #[tokio::test]
    async fn an_outage_fails_everything() {
        let store = FakeStore::new();
        store.set_unavailable(true);
        assert!(store.get("/x").await.unwrap_err().is_unavailable());
        store.set_unavailable(false);
        assert_eq!(store.get("/x").await.unwrap(), None);
    }
}
