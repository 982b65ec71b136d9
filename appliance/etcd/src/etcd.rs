//! [`ClusterStore`] on a real etcd cluster, over its gRPC API with mutual
//! TLS.

use crate::error::EtcdError;
use crate::store::{Added, ClusterStore, Entry, LeaseId, MemberInfo};
use etcd_client::{
    Certificate, Client, Compare, CompareOp, ConnectOptions, DeleteOptions, GetOptions, Identity,
    PutOptions, TlsOptions, Txn, TxnOp,
};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use std::future::Future;
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

/// A client of an etcd cluster.
#[derive(Clone)]
pub struct EtcdStore {
    client: Client,
    timeout: Duration,
}

impl std::fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl EtcdStore {
    /// A client of the members at `endpoints` (`https://IP:PORT`). Does not
    /// wait for any of them: requests fail with [`EtcdError::TimedOut`] or
    /// [`EtcdError::Unavailable`] after `timeout` while none answers.
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
            .with_connect_timeout(timeout)
            .with_timeout(timeout)
            .with_keep_alive(Duration::from_secs(5), timeout)
            // Reads from a member cut off from the majority would be stale.
            .with_require_leader(true);
        let client = Client::connect(endpoints, Some(options))
            .await
            .map_err(EtcdError::Tls)?;
        Ok(Self { client, timeout })
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

    /// Runs `call` on a clone of the client, bounded by the timeout.
    fn call<'a, T, F, Fut>(
        &'a self,
        what: &'static str,
        call: F,
    ) -> BoxFuture<'a, Result<T, EtcdError>>
    where
        T: Send + 'a,
        F: FnOnce(Client) -> Fut + Send + 'a,
        Fut: Future<Output = Result<T, etcd_client::Error>> + Send + 'a,
    {
        let client = self.client.clone();
        let timeout = self.timeout;
        async move {
            match tokio::time::timeout(timeout, call(client)).await {
                Ok(result) => result.map_err(|e| EtcdError::classify(what, e)),
                Err(_) => Err(EtcdError::TimedOut { what }),
            }
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
        self.call("write a key", move |mut c| async move {
            c.put(key, value, put_options(lease)).await.map(|_| ())
        })
    }

    fn create<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        lease: Option<LeaseId>,
    ) -> BoxFuture<'a, Result<bool, EtcdError>> {
        self.call("create a key", move |mut c| async move {
            let txn = Txn::new()
                .when([Compare::version(key, CompareOp::Equal, 0)])
                .and_then([TxnOp::put(key, value, put_options(lease))]);
            Ok(c.txn(txn).await?.succeeded())
        })
    }

    fn delete_if<'a>(
        &'a self,
        key: &'a str,
        expected: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool, EtcdError>> {
        self.call("consume a key", move |mut c| async move {
            let txn = Txn::new()
                .when([Compare::value(key, CompareOp::Equal, expected)])
                .and_then([TxnOp::delete(key, None::<DeleteOptions>)]);
            Ok(c.txn(txn).await?.succeeded())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, EtcdError>> {
        self.call("delete a key", move |mut c| async move {
            Ok(c.delete(key, None).await?.deleted() > 0)
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

    fn add_member<'a>(&'a self, peer_url: &'a str) -> BoxFuture<'a, Result<Added, EtcdError>> {
        self.call("add a member", move |mut c| async move {
            let response = c.member_add([peer_url], None).await?;
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

    fn version(&self) -> BoxFuture<'_, Result<String, EtcdError>> {
        self.call("read the member's version", |mut c| async move {
            Ok(c.status().await?.version().to_owned())
        })
    }
}
