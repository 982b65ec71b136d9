//! The real backend: librados and librbd through `lqx-rbd` (over the
//! `ceph` crate's librados declarations), each connection on a thread of
//! its own.

use crate::backend::{CephBackend, CephCluster, ConnectParams};
use crate::error::CephError;
use crate::{conf, status, volumes};
use lqx_api::{CephClusterInfo, CephPool, Volume, VolumeDeleteQuery, VolumeSummary};
use lqx_core::ceph::VolumeSpec;
use lqx_rbd::{ErrorKind, Rados, RbdError};
use serde_json::{Value, json};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Connects with librados.
#[derive(Clone, Copy, Debug, Default)]
pub struct RadosBackend;

/// Slack over librados' own timeouts before a caller stops waiting for a
/// connection's thread.
const GRACE: Duration = Duration::from_secs(5);

type Job = Box<dyn FnOnce(&Session) + Send>;

/// What a connection's thread owns.
pub(crate) struct Session {
    pub(crate) rados: Rados,
    /// `client.ID`, for messages.
    pub(crate) name: String,
}

/// A connection: a sender of jobs to the thread that owns the handles.
struct RadosCluster {
    jobs: Mutex<mpsc::Sender<Job>>,
    wait: Duration,
    mons: String,
}

impl CephBackend for RadosBackend {
    fn connect(&self, params: &ConnectParams) -> Result<Arc<dyn CephCluster>, CephError> {
        let scratch = tempfile::Builder::new()
            .prefix("connect-")
            .tempdir_in(&params.scratch)
            .map_err(CephError::Io)?;
        let keyring = scratch.path().join("keyring");
        let conf_path = scratch.path().join("ceph.conf");
        write_private(&keyring, &conf::keyring(&params.name, &params.key))?;
        write_private(
            &conf_path,
            &conf::render(&params.mons, &keyring, params.timeout),
        )?;
        let mons = params
            .mons
            .iter()
            .map(|m| m.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<(), CephError>>(1);
        let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
        let name = params.name.clone();
        let id = name.strip_prefix("client.").unwrap_or(&name).to_owned();
        let thread_conf = conf_path.clone();
        let (timeout, mons_msg) = (params.timeout, mons.clone());
        std::thread::Builder::new()
            .name("ceph-connection".into())
            .spawn(move || {
                let rados = match Rados::connect(&id, &thread_conf) {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = ready_tx.send(Err(connect_error(e, &name, &mons_msg, timeout)));
                        return;
                    }
                };
                let session = Session { rados, name };
                let _ = ready_tx.send(Ok(()));
                // Ends when the last sender (the connection) is dropped;
                // then the handle is shut down with the session.
                for job in jobs_rx {
                    job(&session);
                }
            })
            .map_err(CephError::Io)?;
        let outcome = ready_rx.recv_timeout(params.timeout + GRACE);
        // librados has read both files; the key is not left on disk here.
        drop(scratch);
        match outcome {
            Ok(Ok(())) => Ok(Arc::new(RadosCluster {
                jobs: Mutex::new(jobs_tx),
                wait: params.timeout.max(Duration::from_secs(30)) * 2 + GRACE,
                mons,
            })),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(CephError::Unreachable {
                mons,
                timeout: params.timeout,
            }),
        }
    }
}

fn write_private(path: &std::path::Path, text: &str) -> Result<(), CephError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(CephError::Io)
}

fn connect_error(e: RbdError, name: &str, mons: &str, timeout: Duration) -> CephError {
    match e.kind() {
        ErrorKind::TimedOut => CephError::Unreachable {
            mons: mons.to_owned(),
            timeout,
        },
        ErrorKind::PermissionDenied => CephError::AuthFailed {
            name: name.to_owned(),
        },
        _ => CephError::Rados {
            action: format!("connect to {mons} as {name}"),
            source: e,
        },
    }
}

impl RadosCluster {
    /// Runs `f` on the connection's thread and waits for its result.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Session) -> Result<T, CephError> + Send + 'static,
    ) -> Result<T, CephError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.jobs
            .lock()
            .map_err(|_| CephError::Stopped)?
            .send(Box::new(move |s| {
                let _ = tx.send(f(s));
            }))
            .map_err(|_| CephError::Stopped)?;
        match rx.recv_timeout(self.wait) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(CephError::TimedOut(format!(
                "an operation (monitors {}) within {}s",
                self.mons,
                self.wait.as_secs()
            ))),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(CephError::Stopped),
        }
    }
}

impl Session {
    /// Runs a monitor command and parses its JSON answer.
    pub(crate) fn mon(&self, cmd: Value) -> Result<Value, CephError> {
        let prefix = cmd["prefix"].as_str().unwrap_or("").to_owned();
        let reply = self.rados.mon_command(&cmd.to_string()).map_err(|source| {
            match source.error.kind() {
                ErrorKind::PermissionDenied => CephError::PermissionDenied {
                    name: self.name.clone(),
                    action: format!("run the monitor command {prefix:?}"),
                },
                ErrorKind::TimedOut => CephError::TimedOut(format!("monitor command {prefix:?}")),
                _ => CephError::Mon {
                    command: prefix.clone(),
                    source,
                },
            }
        })?;
        serde_json::from_slice(&reply.out).map_err(|e| CephError::Answer {
            command: prefix,
            detail: e.to_string(),
        })
    }

    fn info(&self) -> Result<CephClusterInfo, CephError> {
        fn answer<T>(command: &str, r: Result<T, String>) -> Result<T, CephError> {
            r.map_err(|detail| CephError::Answer {
                command: command.into(),
                detail,
            })
        }
        let st = answer(
            "status",
            status::parse_status(&self.mon(json!({"prefix": "status", "format": "json"}))?),
        )?;
        let (epoch, mons) = answer(
            "mon dump",
            status::parse_monmap(&self.mon(json!({"prefix": "mon dump", "format": "json"}))?),
        )?;
        let pools = answer(
            "osd pool ls",
            status::parse_pools(
                &self
                    .mon(json!({"prefix": "osd pool ls", "detail": "detail", "format": "json"}))?,
            ),
        )?;
        let pools = pools
            .into_iter()
            .map(|p| {
                let rbd_readable =
                    p.applications.iter().any(|a| a == "rbd") && volumes::readable(self, &p.name);
                CephPool {
                    name: p.name,
                    id: p.id,
                    applications: p.applications,
                    rbd_readable,
                }
            })
            .collect();
        Ok(CephClusterInfo {
            fsid: st.fsid,
            health: st.health,
            checks: st.checks,
            mons,
            monmap_epoch: epoch,
            pools,
        })
    }
}

impl CephCluster for RadosCluster {
    fn info(&self) -> Result<CephClusterInfo, CephError> {
        self.run(|s| s.info())
    }

    fn list(&self, pool: &str) -> Result<Vec<VolumeSummary>, CephError> {
        let pool = pool.to_owned();
        self.run(move |s| volumes::list(s, &pool))
    }

    fn volume(&self, pool: &str, name: &str) -> Result<Volume, CephError> {
        let (pool, name) = (pool.to_owned(), name.to_owned());
        self.run(move |s| volumes::show(s, &pool, &name))
    }

    fn create(&self, pool: &str, name: &str, size_bytes: u64) -> Result<Volume, CephError> {
        let (pool, name) = (pool.to_owned(), name.to_owned());
        self.run(move |s| volumes::create(s, &pool, &name, size_bytes))
    }

    fn resize(
        &self,
        pool: &str,
        name: &str,
        size_bytes: u64,
        allow_shrink: bool,
    ) -> Result<Volume, CephError> {
        let (pool, name) = (pool.to_owned(), name.to_owned());
        self.run(move |s| volumes::resize(s, &pool, &name, size_bytes, allow_shrink))
    }

    fn snapshot_create(&self, pool: &str, name: &str, snap: &str) -> Result<Volume, CephError> {
        let (pool, name, snap) = (pool.to_owned(), name.to_owned(), snap.to_owned());
        self.run(move |s| volumes::snapshot_create(s, &pool, &name, &snap))
    }

    fn snapshot_delete(&self, pool: &str, name: &str, snap: &str) -> Result<Volume, CephError> {
        let (pool, name, snap) = (pool.to_owned(), name.to_owned(), snap.to_owned());
        self.run(move |s| volumes::snapshot_delete(s, &pool, &name, &snap))
    }

    fn clone_volume(&self, source: &VolumeSpec, target: &VolumeSpec) -> Result<Volume, CephError> {
        let (source, target) = (source.clone(), target.clone());
        self.run(move |s| volumes::clone(s, &source, &target))
    }

    fn delete(&self, pool: &str, name: &str, how: VolumeDeleteQuery) -> Result<(), CephError> {
        let (pool, name) = (pool.to_owned(), name.to_owned());
        self.run(move |s| volumes::delete(s, &pool, &name, how))
    }
}
