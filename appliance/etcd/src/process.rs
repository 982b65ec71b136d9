//! The host's etcd member as a child process of the agent.
//!
//! etcd runs in the foreground as the agent's child and is killed with it
//! (`PR_SET_PDEATHSIG`), so a crashed or killed agent never leaves a member
//! behind that the restarted agent would fight for its ports and data
//! directory; the restarted agent starts it again from the data directory.

use crate::error::EtcdError;
use crate::member::MemberConfig;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::process::{Child, Command};

/// A running etcd member.
#[derive(Debug)]
pub struct MemberProcess {
    child: Child,
    log: PathBuf,
}

impl MemberProcess {
    /// Starts `bin` with `config`, its standard error appended to `log`.
    /// Returns once the process runs; [`crate::Store::wait_ready`] tells
    /// when it serves.
    pub fn spawn(bin: &Path, config: &MemberConfig, log: &Path) -> Result<Self, EtcdError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| EtcdError::Io {
            what: "create the data directory",
            source,
        })?;
        restrict(&config.data_dir)?;
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|source| EtcdError::Io {
                what: "open etcd's log",
                source,
            })?;
        let mut cmd = Command::new(bin);
        cmd.args(config.args())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true);
        // SAFETY: the closure runs between fork and exec; prctl is
        // async-signal-safe and touches no memory of the parent.
        #[allow(unsafe_code)]
        unsafe {
            cmd.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                    .map_err(std::io::Error::from)
            });
        }
        let child = cmd.spawn().map_err(|source| EtcdError::Spawn {
            bin: bin.to_owned(),
            source,
        })?;
        Ok(Self {
            child,
            log: log.to_owned(),
        })
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// `Some(description)` once the process has exited, with the end of
    /// its log.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!("etcd exited ({status}){}", log_tail(&self.log))),
            Ok(None) => None,
            Err(e) => Some(format!("etcd's status is unknown: {e}")),
        }
    }

    /// Kills the member and waits for it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The last lines of etcd's log, for error messages.
pub fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(5)..];
    if tail.is_empty() {
        String::new()
    } else {
        format!(": {}", tail.join(" | "))
    }
}

/// etcd refuses a data directory others can read (and warns); the
/// directory holds the whole cluster's state.
fn restrict(dir: &Path) -> Result<(), EtcdError> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|source| {
        EtcdError::Io {
            what: "restrict the data directory",
            source,
        }
    })
}
