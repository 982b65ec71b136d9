//! The operations the agent needs from the cluster store, as a trait so
//! that cluster logic can be unit-tested on [`crate::FakeStore`].

use crate::error::EtcdError;
use futures::future::BoxFuture;
use std::time::Duration;

/// An etcd lease id.
pub type LeaseId = i64;

/// A key and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Vec<u8>,
}

/// A member of the etcd cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberInfo {
    /// etcd's member id.
    pub id: u64,
    /// Its name; empty until an added member has started.
    pub name: String,
    /// The URLs it is reached on by peers.
    pub peer_urls: Vec<String>,
    /// The URLs clients reach it on; empty until started.
    pub client_urls: Vec<String>,
    /// Whether it is a learner (not voting).
    pub learner: bool,
}

/// One key to write, attached to `lease` when given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Put {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Vec<u8>,
    /// The lease it goes with.
    pub lease: Option<LeaseId>,
}

/// The result of adding a member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Added {
    /// The new member's id.
    pub id: u64,
    /// Every member after the change, the new one included.
    pub members: Vec<MemberInfo>,
}

/// The cluster store: a consistent key-value store with leases and a
/// membership. Every operation either completes or fails within the
/// store's timeout.
pub trait ClusterStore: Send + Sync {
    /// The value of `key`.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, EtcdError>>;
    /// Every key under `prefix`, in key order.
    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<Entry>, EtcdError>>;
    /// Sets `key`, attached to `lease` when given (it then goes with it).
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        lease: Option<LeaseId>,
    ) -> BoxFuture<'a, Result<(), EtcdError>>;
    /// Sets `key` only if it does not exist; whether it did not.
    fn create<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        lease: Option<LeaseId>,
    ) -> BoxFuture<'a, Result<bool, EtcdError>>;
    /// Deletes `key` only if its value is still `expected`; whether it did.
    /// Of two callers racing, exactly one wins.
    fn delete_if<'a>(
        &'a self,
        key: &'a str,
        expected: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, EtcdError>>;
    /// Sets `key` to `value` only if its value is still `expected` (none:
    /// only if it does not exist); whether it did. Of two callers that
    /// read the same value, exactly one replaces it.
    fn replace<'a>(
        &'a self,
        key: &'a str,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, EtcdError>>;
    /// Deletes `key`; whether it existed.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, EtcdError>>;
    /// Writes every one of `puts` in one transaction, only if `guard`
    /// exists; whether it did. A key that must not outlive another (a
    /// heartbeat of a host record) is written this way.
    fn put_if_exists<'a>(
        &'a self,
        guard: &'a str,
        puts: Vec<Put>,
    ) -> BoxFuture<'a, Result<bool, EtcdError>>;
    /// Writes every one of `puts` in one transaction only if none of their
    /// keys exists; whether they did not.
    fn create_many(&self, puts: Vec<Put>) -> BoxFuture<'_, Result<bool, EtcdError>>;
    /// Deletes every one of `keys` in one transaction.
    fn delete_many(&self, keys: Vec<String>) -> BoxFuture<'_, Result<(), EtcdError>>;
    /// Grants a lease of `ttl`.
    fn grant(&self, ttl: Duration) -> BoxFuture<'_, Result<LeaseId, EtcdError>>;
    /// Renews `lease`; `false` when it has already expired.
    fn keep_alive(&self, lease: LeaseId) -> BoxFuture<'_, Result<bool, EtcdError>>;
    /// Revokes `lease`, deleting its keys.
    fn revoke(&self, lease: LeaseId) -> BoxFuture<'_, Result<(), EtcdError>>;
    /// The etcd members.
    fn members(&self) -> BoxFuture<'_, Result<Vec<MemberInfo>, EtcdError>>;
    /// Adds a member that will be reached on `peer_url`: a learner (which
    /// replicates but does not vote, so quorum is unchanged until it is
    /// promoted) or a voter.
    fn add_member<'a>(
        &'a self,
        peer_url: &'a str,
        learner: bool,
    ) -> BoxFuture<'a, Result<Added, EtcdError>>;
    /// Makes a learner a voter; [`EtcdError::LearnerBehind`] until it has
    /// caught up with the leader.
    fn promote_member(&self, id: u64) -> BoxFuture<'_, Result<(), EtcdError>>;
    /// Removes a member.
    fn remove_member(&self, id: u64) -> BoxFuture<'_, Result<(), EtcdError>>;
    /// The version of the member that answers.
    fn version(&self) -> BoxFuture<'_, Result<String, EtcdError>>;
}
