//! A session with a database served by one or more servers: connects to
//! the first that answers, reconnects with backoff when the connection
//! drops, and for a clustered (RAFT) database stays with the member that
//! is the leader, as the `_Server` database reports it (ovsdb-server(7)).
//! Monitors opened through the session start over on every new
//! connection.

use crate::client::{Client, ClientError, Monitor, TlsSettings};
use crate::datum::Datum;
use crate::remote::Remote;
use crate::replica::{Replica, column};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Timing of a session.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// How long one connection attempt may take.
    pub connect_timeout: Duration,
    /// First wait after a failed round over every remote.
    pub backoff_min: Duration,
    /// Longest wait between rounds.
    pub backoff_max: Duration,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
        }
    }
}

/// The session; dropping every clone stops it.
#[derive(Clone, Debug)]
pub struct Session {
    db: String,
    current: watch::Receiver<Option<Client>>,
    _task: Arc<AbortOnDrop>,
}

#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Session {
    /// Starts connecting to `db` on `remotes`.
    pub fn start(
        remotes: Vec<Remote>,
        db: &str,
        tls: Option<TlsSettings>,
        options: SessionOptions,
    ) -> Self {
        let (tx, current) = watch::channel(None);
        let task = tokio::spawn(maintain(remotes, db.to_owned(), tls, options, tx));
        Self {
            db: db.to_owned(),
            current,
            _task: Arc::new(AbortOnDrop(task)),
        }
    }

    /// The database's name.
    pub fn db(&self) -> &str {
        &self.db
    }

    /// The current connection, waiting up to `timeout` for one.
    pub async fn client(&self, timeout: Duration) -> Result<Client, ClientError> {
        let mut current = self.current.clone();
        let wait = current.wait_for(|c| c.as_ref().is_some_and(|c| !c.is_closed()));
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(client)) => Ok(client.clone().expect("checked by wait_for")),
            Ok(Err(_)) => Err(ClientError::Disconnected),
            Err(_) => Err(ClientError::ConnectTimeout(format!(
                "any server of {} (waited {timeout:?})",
                self.db
            ))),
        }
    }

    /// Runs a transaction on the current connection. Not retried on a
    /// lost connection: whether it committed is then unknown.
    pub async fn transact(
        &self,
        operations: Vec<serde_json::Value>,
        timeout: Duration,
    ) -> Result<Vec<serde_json::Value>, ClientError> {
        let client = self.client(timeout).await?;
        match tokio::time::timeout(timeout, client.transact(&self.db, operations)).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::ConnectTimeout(format!(
                "{} (transaction took over {timeout:?})",
                client.remote()
            ))),
        }
    }

    /// Monitors `tables` (name and columns, empty for all) on every
    /// connection this session makes.
    pub fn monitor(&self, tables: &[(&str, &[&str])]) -> SessionMonitor {
        let tables: Vec<(String, Vec<String>)> = tables
            .iter()
            .map(|(t, cs)| {
                (
                    (*t).to_owned(),
                    cs.iter().map(|c| (*c).to_owned()).collect(),
                )
            })
            .collect();
        let (tx, current) = watch::channel(None);
        let mut clients = self.current.clone();
        let db = self.db.clone();
        let task = tokio::spawn(async move {
            loop {
                let client = clients.borrow_and_update().clone();
                if let Some(client) = client.filter(|c| !c.is_closed()) {
                    match open_monitor(&client, &db, &tables).await {
                        Ok(monitor) => {
                            let _ = tx.send(Some(monitor));
                        }
                        Err(error) => {
                            tracing::warn!(%error, db, "cannot monitor; waiting for a new connection");
                        }
                    }
                }
                if clients.changed().await.is_err() {
                    return;
                }
            }
        });
        SessionMonitor {
            current,
            _task: Arc::new(AbortOnDrop(task)),
        }
    }
}

async fn open_monitor(
    client: &Client,
    db: &str,
    tables: &[(String, Vec<String>)],
) -> Result<Monitor, ClientError> {
    let schema = Arc::new(client.get_schema(db).await?);
    let columns: Vec<Vec<&str>> = tables
        .iter()
        .map(|(_, cs)| cs.iter().map(String::as_str).collect())
        .collect();
    let spec: Vec<(&str, &[&str])> = tables
        .iter()
        .zip(&columns)
        .map(|((t, _), cs)| (t.as_str(), cs.as_slice()))
        .collect();
    client.monitor(db, schema, &spec).await
}

/// A monitor that follows the session across reconnections.
#[derive(Clone, Debug)]
pub struct SessionMonitor {
    current: watch::Receiver<Option<Monitor>>,
    _task: Arc<AbortOnDrop>,
}

impl SessionMonitor {
    /// Reads the latest replica (`None` before the first connection).
    pub fn read<T>(&self, f: impl FnOnce(&Replica) -> T) -> Option<T> {
        self.current.borrow().as_ref().map(|m| m.read(f))
    }

    /// Waits until `ready` holds for the latest replica, or `timeout`.
    pub async fn wait_for(&self, timeout: Duration, ready: impl Fn(&Replica) -> bool) -> bool {
        let until = tokio::time::Instant::now() + timeout;
        let mut current = self.current.clone();
        loop {
            let monitor = current.borrow_and_update().clone();
            let step = until.min(tokio::time::Instant::now() + Duration::from_millis(200));
            if let Some(monitor) = monitor {
                let left = step.saturating_duration_since(tokio::time::Instant::now());
                if monitor.wait_for(left, &ready).await {
                    return true;
                }
            } else {
                let _ = tokio::time::timeout_at(step, current.changed()).await;
            }
            if tokio::time::Instant::now() >= until {
                return false;
            }
        }
    }
}

/// The session's task: keeps `current` connected to a usable server.
async fn maintain(
    remotes: Vec<Remote>,
    db: String,
    tls: Option<TlsSettings>,
    options: SessionOptions,
    current: watch::Sender<Option<Client>>,
) {
    let mut backoff = options.backoff_min;
    let mut next = 0;
    loop {
        let mut connected = false;
        for _ in 0..remotes.len() {
            let remote = &remotes[next % remotes.len()];
            next += 1;
            let client = match Client::connect(remote, tls.as_ref(), options.connect_timeout).await
            {
                Ok(client) => client,
                Err(error) => {
                    tracing::debug!(%error, "OVSDB connect failed");
                    continue;
                }
            };
            match usable(&client, &db).await {
                Ok(Some(server)) => {
                    connected = true;
                    backoff = options.backoff_min;
                    tracing::info!(remote = %remote, db, "OVSDB session connected");
                    let _ = current.send(Some(client.clone()));
                    // Stay until the connection drops or, for a cluster
                    // member, it stops being the connected leader.
                    tokio::select! {
                        () = client.closed() => {}
                        () = lost_leadership(server, &db) => {
                            tracing::info!(remote = %remote, db, "no longer the leader; moving on");
                        }
                    }
                    let _ = current.send(None);
                }
                Ok(None) => tracing::debug!(remote = %remote, db, "not the leader"),
                Err(error) => tracing::debug!(%error, remote = %remote, "OVSDB server unusable"),
            }
        }
        if !connected {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(options.backoff_max);
        }
    }
}

/// Whether `client`'s server serves `db` as we need it: a standalone
/// database, or a cluster member that is connected and the leader. Returns
/// the `_Server` monitor to watch leadership with (`None` inside means
/// no cluster to watch).
async fn usable(client: &Client, db: &str) -> Result<Option<Option<Monitor>>, ClientError> {
    let dbs = client.list_dbs().await?;
    if !dbs.iter().any(|d| d == db) {
        return Err(ClientError::Protocol(format!(
            "the server has no database {db}"
        )));
    }
    if !dbs.iter().any(|d| d == "_Server") {
        return Ok(Some(None));
    }
    let schema = Arc::new(client.get_schema("_Server").await?);
    let monitor = client
        .monitor(
            "_Server",
            schema,
            &[("Database", &["name", "model", "connected", "leader"])],
        )
        .await?;
    match monitor.read(|r| server_state(r, db)) {
        Some((false, _)) => Ok(Some(None)),
        Some((true, true)) => Ok(Some(Some(monitor))),
        Some((true, false)) => Ok(None),
        None => Err(ClientError::Protocol(format!("_Server does not list {db}"))),
    }
}

/// `(clustered, connected leader)` for `db` in a `_Server` replica.
fn server_state(replica: &Replica, db: &str) -> Option<(bool, bool)> {
    replica
        .rows("Database")
        .map(|(_, row)| row)
        .find(|row| column(row, "name").as_str() == Some(db))
        .map(|row| {
            let clustered = column(row, "model").as_str() == Some("clustered");
            let yes = |c| column(row, c) == &Datum::scalar(true);
            (clustered, yes("leader") && yes("connected"))
        })
}

async fn lost_leadership(server: Option<Monitor>, db: &str) {
    match server {
        None => std::future::pending().await,
        Some(monitor) => loop {
            if monitor
                .wait_for(Duration::from_secs(3600), |r| {
                    !matches!(server_state(r, db), Some((true, true)))
                })
                .await
            {
                return;
            }
        },
    }
}
