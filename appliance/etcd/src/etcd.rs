//! [`ClusterStore`] on a real etcd cluster, over its gRPC API with mutual
//! TLS.

use crate::error::EtcdError;
use crate::store::{Added, ClusterStore, Entry, LeaseId, MemberInfo, Put};
use etcd_client::{
    Certificate, Client, Compare, CompareOp, ConnectOptions, DeleteOptions, GetOptions, Identity,
    MemberAddOptions, PutOptions, TlsOptions, Txn, TxnOp,
};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The certificates a client presents and trusts, PEM.
#[derive(Clone)]
pub struct ClientTls {
    /// The cluster authority's certificate.
    pub ca_pem: String,
    /// The client's certificate.
    pub cert_pem: String,
    /// Its private key.
    pub key_pem: String,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls").finish_non_exhaustive()
    }
}

/// A client of an etcd cluster: one connection per member, tried in
/// order from the one that answered last, moving on only when a member
/// cannot be connected to (nothing was sent, so any request may be
/// retried). Clones share the connections and the order.
#[derive(Clone)]
pub struct EtcdStore {
    members: Arc<RwLock<Vec<(String, Client)>>>,
    preferred: Arc<AtomicUsize>,
    options: ConnectOptions,
    timeout: Duration,
}

impl std::fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore")
            .field("endpoints", &self.endpoints())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// How long connecting to one member may take before the next is tried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether `error` says the member could not be reached at all, so the
/// request was never sent.
fn unreached(error: &etcd_client::Error) -> bool {
    match error {
        etcd_client::Error::TransportError(_) | etcd_client::Error::IoError(_) => true,
        etcd_client::Error::GRpcStatus(status) => {
            // 14: UNAVAILABLE (grpc/status.proto).
            status.code() as i32 == 14 && status.message().contains("connect error")
        }
        _ => false,
    }
}

impl EtcdStore {
    /// A client of the members at `endpoints` (`https://IP:PORT`), tried
    /// in that order. Does not wait for any of them: requests fail with
    /// [`EtcdError::TimedOut`] or [`EtcdError::Unavailable`] after
    /// `timeout` while none answers.
    pub async fn connect(
        endpoints: &[String],
        tls: &ClientTls,
        timeout: Duration,
    ) -> Result<Self, EtcdError> {
        let tls_options = TlsOptions::new()
            .ca_certificate(Certificate::from_pem(&tls.ca_pem))
            .identity(Identity::from_pem(&tls.cert_pem, &tls.key_pem));
        let options = ConnectOptions::new()
            .with_tls(tls_options)
            .with_connect_timeout(timeout.min(CONNECT_TIMEOUT))
            .with_timeout(timeout)
            .with_keep_alive(Duration::from_secs(5), timeout)
            // Reads from a member cut off from the majority would be stale.
            .with_require_leader(true);
        let store = Self {
            members: Arc::new(RwLock::new(Vec::new())),
            preferred: Arc::new(AtomicUsize::new(0)),
            options,
            timeout,
        };
        store.update_endpoints(endpoints).await?;
        Ok(store)
    }

    /// The endpoints, in the order they are tried from the start.
    pub fn endpoints(&self) -> Vec<String> {
        self.members
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(url, _)| url.clone())
            .collect()
    }

    /// Waits until the cluster answers a linearizable read (which needs a
    /// leader and quorum), up to `limit`.
    pub async fn wait_ready(&self, limit: Duration) -> Result<(), EtcdError> {
        let start = tokio::time::Instant::now();
        loop {
            match self.get("/lqx/ready-probe").await {
                Ok(_) => return Ok(()),
                Err(e) if start.elapsed() >= limit => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Moves the client to `endpoints`, tried in that order from the
    /// next request on (connections to members kept are reused). Every
    /// clone follows.
    pub async fn update_endpoints(&self, endpoints: &[String]) -> Result<(), EtcdError> {
        if endpoints.is_empty() {
            return Err(EtcdError::Tls(etcd_client::Error::InvalidArgs(
                "no endpoint for the cluster store".into(),
            )));
        }
        let current: Vec<(String, Client)> = self
            .members
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut next = Vec::with_capacity(endpoints.len());
        for url in endpoints {
            let client = match current.iter().find(|(u, _)| u == url) {
                Some((_, client)) => client.clone(),
                None => Client::connect([url], Some(self.options.clone()))
                    .await
                    .map_err(EtcdError::Tls)?,
            };
            next.push((url.clone(), client));
        }
        *self.members.write().unwrap_or_else(|e| e.into_inner()) = next;
        self.preferred.store(0, Ordering::Relaxed);
        Ok(())
    }

    /// Runs `call` on the members' clients in turn until one is reached,
    /// bounded as a whole by the timeout.
    fn call<'a, T, F, Fut>(
        &'a self,
        what: &'static str,
        call: F,
    ) -> BoxFuture<'a, Result<T, EtcdError>>
    where
        T: Send + 'a,
        F: Fn(Client) -> Fut + Send + Sync + 'a,
        Fut: Future<Output = Result<T, etcd_client::Error>> + Send + 'a,
    {
        let members = self
            .members
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let preferred = self.preferred.load(Ordering::Relaxed);
        let timeout = self.timeout;
        async move {
            let deadline = tokio::time::Instant::now() + timeout;
            let mut unreached_error = None;
            for turn in 0..members.len() {
                let index = (preferred + turn) % members.len();
                let client = members[index].1.clone();
                match tokio::time::timeout_at(deadline, call(client)).await {
                    Ok(Ok(value)) => {
                        self.preferred.store(index, Ordering::Relaxed);
                        return Ok(value);
                    }
                    Ok(Err(e)) if unreached(&e) => unreached_error = Some(e),
                    Ok(Err(e)) => return Err(EtcdError::classify(what, e)),
                    Err(_) => return Err(EtcdError::TimedOut { what }),
                }
            }
            Err(match unreached_error {
                Some(e) => EtcdError::classify(what, e),
                None => EtcdError::TimedOut { what },
            })
        }
        .boxed()
    }
}

fn member_info(m: &etcd_client::Member) -> MemberInfo {
    MemberInfo {
        id: m.id(),
        name: m.name().to_owned(),
        peer_urls: m.peer_urls().to_vec(),
        client_urls: m.client_urls().to_vec(),
        learner: m.is_learner(),
    }
}

fn put_options(lease: Option<LeaseId>) -> Option<PutOptions> {
    lease.map(|id| PutOptions::new().with_lease(id))
}

impl ClusterStore for EtcdStore {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, EtcdError>> {
        self.call("read a key", move |mut c| async move {
            let mut response = c.get(key, None).await?;
            Ok(response
                .take_kvs()
                .into_iter()
                .next()
                .map(|kv| kv.into_key_value().1))
        })
    }

    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<Entry>, EtcdError>> {
        self.call("list keys", move |mut c| async move {
            let mut response = c.get(prefix, Some(GetOptions::new().with_prefix())).await?;
            Ok(response
                .take_kvs()
                .into_iter()
                .map(|kv| {
                    let (key, value) = kv.into_key_value();
                    Entry {
                        key: String::from_utf8_lossy(&key).into_owned(),
                        value,
                    }
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
        self.call("write a key", move |mut c| {
            let value = value.clone();
            async move { c.put(key, value, put_options(lease)).await.map(|_| ()) }
        })
    }

    fn create<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        lease: Option<LeaseId>,
    ) -> BoxFuture<'a, Result<bool, EtcdError>> {
        self.call("create a key", move |mut c| {
            let txn = Txn::new()
                .when([Compare::version(key, CompareOp::Equal, 0)])
                .and_then([TxnOp::put(key, value.clone(), put_options(lease))]);
            async move { Ok(c.txn(txn).await?.succeeded()) }
        })
    }

    fn delete_if<'a>(
        &'a self,
        key: &'a str,
        expected: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, EtcdError>> {
        self.call("consume a key", move |mut c| {
            let txn = Txn::new()
                .when([Compare::value(key, CompareOp::Equal, expected.clone())])
                .and_then([TxnOp::delete(key, None::<DeleteOptions>)]);
            async move { Ok(c.txn(txn).await?.succeeded()) }
        })
    }

    fn replace<'a>(
        &'a self,
        key: &'a str,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, EtcdError>> {
        self.call("replace a key", move |mut c| {
            let compare = match &expected {
                Some(old) => Compare::value(key, CompareOp::Equal, old.clone()),
                None => Compare::version(key, CompareOp::Equal, 0),
            };
            let txn = Txn::new()
                .when([compare])
                .and_then([TxnOp::put(key, value.clone(), None)]);
            async move { Ok(c.txn(txn).await?.succeeded()) }
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, EtcdError>> {
        self.call("delete a key", move |mut c| async move {
            Ok(c.delete(key, None).await?.deleted() > 0)
        })
    }

    fn put_if_exists<'a>(
        &'a self,
        guard: &'a str,
        puts: Vec<Put>,
    ) -> BoxFuture<'a, Result<bool, EtcdError>> {
        self.call("write keys", move |mut c| {
            let ops: Vec<TxnOp> = puts
                .iter()
                .map(|p| TxnOp::put(p.key.clone(), p.value.clone(), put_options(p.lease)))
                .collect();
            let txn = Txn::new()
                .when([Compare::version(guard, CompareOp::Greater, 0)])
                .and_then(ops);
            async move { Ok(c.txn(txn).await?.succeeded()) }
        })
    }

    fn create_many(&self, puts: Vec<Put>) -> BoxFuture<'_, Result<bool, EtcdError>> {
        self.call("create keys", move |mut c| {
            let absent: Vec<Compare> = puts
                .iter()
                .map(|p| Compare::version(p.key.clone(), CompareOp::Equal, 0))
                .collect();
            let ops: Vec<TxnOp> = puts
                .iter()
                .map(|p| TxnOp::put(p.key.clone(), p.value.clone(), put_options(p.lease)))
                .collect();
            let txn = Txn::new().when(absent).and_then(ops);
            async move { Ok(c.txn(txn).await?.succeeded()) }
        })
    }

    fn delete_many(&self, keys: Vec<String>) -> BoxFuture<'_, Result<(), EtcdError>> {
        self.call("delete keys", move |mut c| {
            let ops: Vec<TxnOp> = keys
                .iter()
                .map(|k| TxnOp::delete(k.clone(), None::<DeleteOptions>))
                .collect();
            async move { c.txn(Txn::new().and_then(ops)).await.map(|_| ()) }
        })
    }

    fn grant(&self, ttl: Duration) -> BoxFuture<'_, Result<LeaseId, EtcdError>> {
        let seconds = i64::try_from(ttl.as_secs().max(1)).unwrap_or(i64::MAX);
        self.call("grant a lease", move |mut c| async move {
            Ok(c.lease_grant(seconds, None).await?.id())
        })
    }

    fn keep_alive(&self, lease: LeaseId) -> BoxFuture<'_, Result<bool, EtcdError>> {
        self.call("renew a lease", move |mut c| async move {
            let renewed = async {
                let (mut keeper, mut stream) = c.lease_keep_alive(lease).await?;
                keeper.keep_alive().await?;
                Ok(matches!(stream.message().await?, Some(r) if r.ttl() > 0))
            };
            // etcd answers an expired lease with a TTL of zero, which the
            // client reports as this error.
            match renewed.await {
                Err(etcd_client::Error::LeaseKeepAliveError(_)) => Ok(false),
                other => other,
            }
        })
    }

    fn revoke(&self, lease: LeaseId) -> BoxFuture<'_, Result<(), EtcdError>> {
        self.call("revoke a lease", move |mut c| async move {
            c.lease_revoke(lease).await.map(|_| ())
        })
    }

    fn members(&self) -> BoxFuture<'_, Result<Vec<MemberInfo>, EtcdError>> {
        self.call("list members", |mut c| async move {
            Ok(c.member_list()
                .await?
                .members()
                .iter()
                .map(member_info)
                .collect())
        })
    }

    fn add_member<'a>(
        &'a self,
        peer_url: &'a str,
        learner: bool,
    ) -> BoxFuture<'a, Result<Added, EtcdError>> {
        self.call("add a member", move |mut c| async move {
            let options = learner.then(|| MemberAddOptions::new().with_is_learner());
            let response = c.member_add([peer_url], options).await?;
            let id = response.member().map(|m| m.id()).unwrap_or_default();
            Ok(Added {
                id,
                members: response.member_list().iter().map(member_info).collect(),
            })
        })
    }

    fn remove_member(&self, id: u64) -> BoxFuture<'_, Result<(), EtcdError>> {
        self.call("remove a member", move |mut c| async move {
            c.member_remove(id).await.map(|_| ())
        })
    }

    fn promote_member(&self, id: u64) -> BoxFuture<'_, Result<(), EtcdError>> {
        self.call("promote a member", move |mut c| async move {
            c.member_promote(id).await.map(|_| ())
        })
    }

    fn version(&self) -> BoxFuture<'_, Result<String, EtcdError>> {
        self.call("read the member's version", |mut c| async move {
            Ok(c.status().await?.version().to_owned())
        })
    }
}
