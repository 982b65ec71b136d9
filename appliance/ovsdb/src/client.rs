//! One connection to an OVSDB server: JSON-RPC requests matched to their
//! responses by id, `echo` answered, `update2` notifications applied to
//! monitor replicas, in the order the server sent them.

use crate::frame::{FrameError, Framer};
use crate::remote::Remote;
use crate::replica::{Replica, ReplicaError};
use crate::schema::{Schema, SchemaError};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::sync::{mpsc, oneshot, watch};

/// Errors of a connection and its calls.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The server could not be reached.
    #[error("cannot connect to {remote}")]
    Connect {
        /// The remote.
        remote: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Connecting took longer than allowed.
    #[error("connecting to {0} timed out")]
    ConnectTimeout(String),
    /// `ssl:` remotes need TLS settings this client was not given.
    #[error("{0} needs TLS certificates, which were not given")]
    NoTls(String),
    /// The connection was lost (or closed) before the answer came.
    #[error("connection to the OVSDB server lost")]
    Disconnected,
    /// The server answered a call with an error.
    #[error("OVSDB server refused {method}: {error}")]
    Rpc {
        /// The method called.
        method: String,
        /// The server's error.
        error: Value,
    },
    /// A transaction operation failed; nothing of the transaction was
    /// committed.
    #[error("transaction failed at operation {index}: {error}{}", details.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Transaction {
        /// The failed operation's index (the operation count for a
        /// commit-time failure).
        index: usize,
        /// The error's name (`constraint violation`, ...).
        error: String,
        /// Its details.
        details: Option<String>,
    },
    /// The server sent something that is not OVSDB.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A schema from the server could not be read.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// A monitor update could not be applied.
    #[error(transparent)]
    Replica(#[from] ReplicaError),
}

impl From<FrameError> for ClientError {
    fn from(e: FrameError) -> Self {
        ClientError::Protocol(e.to_string())
    }
}

/// How to reach `ssl:` remotes.
#[derive(Clone)]
pub struct TlsSettings {
    /// The client configuration (CA, client certificate).
    pub config: Arc<tokio_rustls::rustls::ClientConfig>,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsSettings")
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A monitored database: its replica and a counter bumped after every
/// applied update.
#[derive(Clone, Debug)]
pub struct Monitor {
    replica: Arc<RwLock<Replica>>,
    changed: watch::Receiver<u64>,
}

impl Monitor {
    /// Reads the replica.
    pub fn read<T>(&self, f: impl FnOnce(&Replica) -> T) -> T {
        let guard = self.replica.read().unwrap_or_else(|e| e.into_inner());
        f(&guard)
    }

    /// Waits until `ready` holds for the replica, or `timeout` passes
    /// (`false`), or the connection is gone (`false`).
    pub async fn wait_for(&self, timeout: Duration, ready: impl Fn(&Replica) -> bool) -> bool {
        let mut changed = self.changed.clone();
        let until = tokio::time::Instant::now() + timeout;
        loop {
            if self.read(&ready) {
                return true;
            }
            match tokio::time::timeout_at(until, changed.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return self.read(&ready),
            }
        }
    }

    /// The number of updates applied so far.
    pub fn version(&self) -> u64 {
        *self.changed.borrow()
    }
}

enum Pending {
    Call(oneshot::Sender<Result<Value, ClientError>>, String),
    Monitor {
        replica: Arc<RwLock<Replica>>,
        changed: watch::Sender<u64>,
        reply: oneshot::Sender<Result<(), ClientError>>,
    },
}

enum Command {
    Call {
        method: String,
        params: Value,
        reply: oneshot::Sender<Result<Value, ClientError>>,
    },
    Monitor {
        db: String,
        requests: Value,
        replica: Arc<RwLock<Replica>>,
        changed: watch::Sender<u64>,
        reply: oneshot::Sender<Result<(), ClientError>>,
    },
}

/// A connection to one OVSDB server. Cloning shares it; the connection
/// closes when the last clone is dropped or the server goes away.
#[derive(Clone, Debug)]
pub struct Client {
    commands: mpsc::Sender<Command>,
    closed: watch::Receiver<bool>,
    remote: String,
    echoes: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Call { method, .. } => write!(f, "Call({method})"),
            Command::Monitor { db, .. } => write!(f, "Monitor({db})"),
        }
    }
}

impl Client {
    /// Connects to `remote` within `timeout`.
    pub async fn connect(
        remote: &Remote,
        tls: Option<&TlsSettings>,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let name = remote.to_string();
        let connect = async {
            let connect_err = |source| ClientError::Connect {
                remote: name.clone(),
                source,
            };
            let stream: Box<dyn Stream> = match remote {
                Remote::Unix(path) => Box::new(
                    tokio::net::UnixStream::connect(path)
                        .await
                        .map_err(connect_err)?,
                ),
                Remote::Tcp(addr) => {
                    let tcp = tokio::net::TcpStream::connect(addr)
                        .await
                        .map_err(connect_err)?;
                    let _ = tcp.set_nodelay(true);
                    Box::new(tcp)
                }
                Remote::Ssl(addr) => {
                    let tls = tls.ok_or_else(|| ClientError::NoTls(name.clone()))?;
                    let tcp = tokio::net::TcpStream::connect(addr)
                        .await
                        .map_err(connect_err)?;
                    let _ = tcp.set_nodelay(true);
                    let server =
                        tokio_rustls::rustls::pki_types::ServerName::IpAddress(addr.ip().into());
                    Box::new(
                        tokio_rustls::TlsConnector::from(Arc::clone(&tls.config))
                            .connect(server, tcp)
                            .await
                            .map_err(connect_err)?,
                    )
                }
            };
            Ok::<_, ClientError>(stream)
        };
        let stream = tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| ClientError::ConnectTimeout(name.clone()))??;
        let (commands, receiver) = mpsc::channel(64);
        let (closed_tx, closed) = watch::channel(false);
        let echoes = Arc::new(std::sync::atomic::AtomicU64::new(0));
        tokio::spawn(run(
            stream,
            receiver,
            closed_tx,
            name.clone(),
            Arc::clone(&echoes),
        ));
        Ok(Self {
            commands,
            closed,
            remote: name,
            echoes,
        })
    }

    /// The remote this client is connected to.
    pub fn remote(&self) -> &str {
        &self.remote
    }

    /// How many of the server's `echo` probes this connection answered.
    pub fn echoes_answered(&self) -> u64 {
        self.echoes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether the connection is gone.
    pub fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// Resolves when the connection is gone.
    pub async fn closed(&self) {
        let mut closed = self.closed.clone();
        let _ = closed.wait_for(|c| *c).await;
    }

    /// Calls `method` with `params` and returns the result.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Call {
                method: method.to_owned(),
                params,
                reply,
            })
            .await
            .map_err(|_| ClientError::Disconnected)?;
        answer.await.map_err(|_| ClientError::Disconnected)?
    }

    /// `list_dbs`.
    pub async fn list_dbs(&self) -> Result<Vec<String>, ClientError> {
        let result = self.call("list_dbs", json!([])).await?;
        serde_json::from_value(result).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// `get_schema`.
    pub async fn get_schema(&self, db: &str) -> Result<Schema, ClientError> {
        Ok(Schema::from_json(
            &self.call("get_schema", json!([db])).await?,
        )?)
    }

    /// `echo`: a round trip.
    pub async fn echo(&self) -> Result<(), ClientError> {
        self.call("echo", json!(["lqx"])).await.map(drop)
    }

    /// `transact`: runs `operations` atomically and returns each one's
    /// result. A failed operation (or commit) is an error, with its index.
    pub async fn transact(
        &self,
        db: &str,
        operations: Vec<Value>,
    ) -> Result<Vec<Value>, ClientError> {
        let count = operations.len();
        let mut params = vec![json!(db)];
        params.extend(operations);
        let result = self.call("transact", Value::Array(params)).await?;
        let results = result
            .as_array()
            .ok_or_else(|| ClientError::Protocol(format!("transact result {result}")))?;
        for (index, r) in results.iter().enumerate() {
            if let Some(error) = r.get("error").and_then(Value::as_str) {
                return Err(ClientError::Transaction {
                    index,
                    error: error.to_owned(),
                    details: r.get("details").and_then(Value::as_str).map(str::to_owned),
                });
            }
        }
        if results.len() < count {
            return Err(ClientError::Protocol(format!(
                "{} results for {count} operations",
                results.len()
            )));
        }
        Ok(results[..count].to_vec())
    }

    /// `monitor_cond` of `tables` (name to the columns wanted; empty for
    /// all) in `db`: the replica holds their rows from when this returns,
    /// and follows every later change.
    pub async fn monitor(
        &self,
        db: &str,
        schema: Arc<Schema>,
        tables: &[(&str, &[&str])],
    ) -> Result<Monitor, ClientError> {
        let mut requests = serde_json::Map::new();
        for (table, columns) in tables {
            let request = if columns.is_empty() {
                json!([{}])
            } else {
                json!([{ "columns": columns }])
            };
            requests.insert((*table).to_owned(), request);
        }
        let replica = Arc::new(RwLock::new(Replica::new(schema)));
        let (changed, changed_rx) = watch::channel(0);
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Monitor {
                db: db.to_owned(),
                requests: Value::Object(requests),
                replica: Arc::clone(&replica),
                changed,
                reply,
            })
            .await
            .map_err(|_| ClientError::Disconnected)?;
        answer.await.map_err(|_| ClientError::Disconnected)??;
        Ok(Monitor {
            replica,
            changed: changed_rx,
        })
    }
}

/// The connection's task: owns the stream, the pending calls and the
/// monitors.
async fn run(
    stream: Box<dyn Stream>,
    mut commands: mpsc::Receiver<Command>,
    closed: watch::Sender<bool>,
    remote: String,
    echoes: Arc<std::sync::atomic::AtomicU64>,
) {
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut framer = Framer::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut next_id: u64 = 1;
    let mut pending: HashMap<u64, Pending> = HashMap::new();
    let mut monitors: HashMap<String, (Arc<RwLock<Replica>>, watch::Sender<u64>)> = HashMap::new();
    let reason: String = 'conn: loop {
        tokio::select! {
            command = commands.recv() => {
                let Some(command) = command else { break 'conn "closed by the client".into() };
                let id = next_id;
                next_id += 1;
                let (message, entry) = match command {
                    Command::Call { method, params, reply } => (
                        json!({"id": id, "method": method, "params": params}),
                        Pending::Call(reply, method),
                    ),
                    Command::Monitor { db, requests, replica, changed, reply } => {
                        let monitor_id = format!("lqx-{id}");
                        monitors.insert(monitor_id.clone(), (Arc::clone(&replica), changed.clone()));
                        (
                            json!({"id": id, "method": "monitor_cond", "params": [db, monitor_id, requests]}),
                            Pending::Monitor { replica, changed, reply },
                        )
                    }
                };
                pending.insert(id, entry);
                if let Err(e) = writer.write_all(message.to_string().as_bytes()).await {
                    break 'conn format!("write failed: {e}");
                }
            }
            read = reader.read(&mut buf) => {
                let n = match read {
                    Ok(0) => break 'conn "closed by the server".into(),
                    Ok(n) => n,
                    Err(e) => break 'conn format!("read failed: {e}"),
                };
                framer.push(&buf[..n]);
                loop {
                    let message = match framer.next_message() {
                        Ok(Some(m)) => m,
                        Ok(None) => break,
                        Err(e) => break 'conn e.to_string(),
                    };
                    let message: Value = match serde_json::from_slice(&message) {
                        Ok(v) => v,
                        Err(e) => break 'conn format!("invalid JSON: {e}"),
                    };
                    match handle(message, &mut pending, &monitors) {
                        Ok(Some(reply)) => {
                            echoes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if let Err(e) = writer.write_all(reply.to_string().as_bytes()).await {
                                break 'conn format!("write failed: {e}");
                            }
                        }
                        Ok(None) => {}
                        // A replica that missed an update is wrong from
                        // then on: drop the connection, so that whoever
                        // reconnects starts the monitor over.
                        Err(e) => break 'conn format!("monitor update not applied: {e}"),
                    }
                }
            }
        }
    };
    tracing::debug!(%remote, %reason, "OVSDB connection closed");
    let _ = closed.send(true);
    // Pending callers get Disconnected when their senders drop here.
    drop(pending);
    drop(monitors);
}

/// Handles one message from the server; returns the reply to send, if any.
fn handle(
    message: Value,
    pending: &mut HashMap<u64, Pending>,
    monitors: &HashMap<String, (Arc<RwLock<Replica>>, watch::Sender<u64>)>,
) -> Result<Option<Value>, ReplicaError> {
    match message.get("method").and_then(Value::as_str) {
        Some("echo") => {
            let id = message.get("id").cloned().unwrap_or(Value::Null);
            let params = message.get("params").cloned().unwrap_or(json!([]));
            return Ok(Some(json!({"id": id, "result": params, "error": null})));
        }
        Some("update2") => {
            let params = message.get("params").and_then(Value::as_array);
            let target = params
                .and_then(|p| p.first())
                .and_then(Value::as_str)
                .and_then(|id| monitors.get(id));
            match (target, params.and_then(|p| p.get(1))) {
                (Some((replica, changed)), Some(updates)) => {
                    apply(replica, changed, updates)?;
                }
                _ => tracing::warn!("update2 for an unknown monitor"),
            }
            return Ok(None);
        }
        Some(other) => {
            tracing::debug!(method = other, "ignored OVSDB notification");
            return Ok(None);
        }
        None => {}
    }
    let Some(entry) = message
        .get("id")
        .and_then(Value::as_u64)
        .and_then(|id| pending.remove(&id))
    else {
        return Ok(None);
    };
    let error = message.get("error").filter(|e| !e.is_null()).cloned();
    let result = message.get("result").cloned().unwrap_or(Value::Null);
    match entry {
        Pending::Call(reply, method) => {
            let _ = reply.send(match error {
                Some(error) => Err(ClientError::Rpc { method, error }),
                None => Ok(result),
            });
        }
        Pending::Monitor {
            replica,
            changed,
            reply,
        } => {
            let outcome = match error {
                Some(error) => Err(ClientError::Rpc {
                    method: "monitor_cond".into(),
                    error,
                }),
                None => apply(&replica, &changed, &result).map_err(ClientError::from),
            };
            let stale = match &outcome {
                Err(ClientError::Replica(e)) => Some(e.to_string()),
                _ => None,
            };
            let _ = reply.send(outcome);
            if let Some(why) = stale {
                return Err(ReplicaError::Malformed(why));
            }
        }
    }
    Ok(None)
}

fn apply(
    replica: &RwLock<Replica>,
    changed: &watch::Sender<u64>,
    updates: &Value,
) -> Result<(), ReplicaError> {
    let outcome = replica
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .apply(updates);
    match &outcome {
        Ok(()) => changed.send_modify(|v| *v += 1),
        Err(error) => tracing::warn!(%error, "OVSDB update not applied; the replica is stale"),
    }
    outcome
}
