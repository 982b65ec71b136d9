//! Time-limited SSH: enabled with the admin password for 5–120 minutes,
//! then turned off by the agent itself (also after a restart), every
//! change audited. While enabled, root logs in with the admin password;
//! otherwise root's password is locked.

use crate::agent::{AgentError, persist};
use crate::auth::AuthService;
use lqx_api::{AuditEvent, SshStatus};
use lqx_core::secrets::SshState;
use lqx_store::StateDir;
use lqx_systemd::ServiceManager;
use std::path::PathBuf;
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::Mutex;

/// Accepted window lengths, in minutes.
pub const MINUTES: std::ops::RangeInclusive<u32> = 5..=120;
const UNIT: &str = "ssh.service";
/// Marker of a locked password in /etc/shadow.
const LOCKED: &str = "!";

/// SSH on this host.
pub struct SshService {
    store: Arc<StateDir>,
    manager: Arc<dyn ServiceManager>,
    auth: Arc<AuthService>,
    /// /etc/shadow on the appliance; `None` for agents that must not touch
    /// the host (standalone), which refuse to enable SSH.
    shadow: Option<PathBuf>,
    state: Mutex<SshState>,
}

impl SshService {
    /// Loads `ssh.json`.
    pub fn open(
        store: Arc<StateDir>,
        manager: Arc<dyn ServiceManager>,
        auth: Arc<AuthService>,
        shadow: Option<PathBuf>,
    ) -> Result<Self, AgentError> {
        let state = store
            .load::<SshState>()
            .map_err(AgentError::Store)?
            .unwrap_or_default();
        Ok(Self {
            store,
            manager,
            auth,
            shadow,
            state: Mutex::new(state),
        })
    }

    /// After a start: a window that ended while the agent was down is
    /// closed now; one still open gets its timer back.
    pub async fn resume(self: &Arc<Self>) {
        let until = self.state.lock().await.until;
        match until {
            Some(until) if until <= OffsetDateTime::now_utc() => {
                if let Err(error) = self.disable("lqxd (window ended)").await {
                    tracing::error!(%error, "cannot close an expired SSH window");
                }
            }
            Some(until) => {
                tokio::spawn(Arc::clone(self).expire(until));
            }
            None => {}
        }
    }

    /// `GET /v1/host/ssh`.
    pub async fn status(&self) -> SshStatus {
        self.status_of(&*self.state.lock().await)
    }

    /// `POST /v1/host/ssh`.
    pub async fn enable(
        self: &Arc<Self>,
        minutes: u32,
        password: &str,
        actor: &str,
    ) -> Result<SshStatus, AgentError> {
        let Some(shadow) = self.shadow.clone() else {
            return Err(AgentError::Conflict(
                "SSH can only be enabled on the appliance".into(),
            ));
        };
        if !MINUTES.contains(&minutes) {
            return Err(AgentError::Invalid(format!(
                "SSH can be enabled for {}–{} minutes, not {minutes}",
                MINUTES.start(),
                MINUTES.end()
            )));
        }
        self.auth.verify(password).await?;
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || {
            let params = sha_crypt::Sha512Params::new(100_000)
                .map_err(|e| AgentError::Invalid(format!("{e:?}")))?;
            sha_crypt::sha512_simple(&password, &params)
                .map_err(|e| AgentError::Invalid(format!("cannot hash: {e:?}")))
        })
        .await
        .map_err(AgentError::Task)??;
        let mut state = self.state.lock().await;
        set_root_password(&shadow, &hash).await?;
        if let Err(error) = self.manager.start_unit(UNIT).await {
            set_root_password(&shadow, LOCKED).await?;
            return Err(AgentError::Systemd(error));
        }
        let until = OffsetDateTime::now_utc() + time::Duration::minutes(i64::from(minutes));
        let next = state.with_event(
            Some(until),
            AuditEvent {
                at: OffsetDateTime::now_utc(),
                action: format!("ssh enabled for {minutes} minutes"),
                actor: actor.to_owned(),
            },
        );
        persist(&self.store, &next).await?;
        *state = next;
        tracing::warn!(minutes, actor, "SSH enabled");
        tokio::spawn(Arc::clone(self).expire(until));
        Ok(self.status_of(&state))
    }

    /// `DELETE /v1/host/ssh`, and the end of a window.
    pub async fn disable(&self, actor: &str) -> Result<SshStatus, AgentError> {
        let mut state = self.state.lock().await;
        if let Some(shadow) = &self.shadow {
            self.manager
                .stop_unit(UNIT)
                .await
                .map_err(AgentError::Systemd)?;
            set_root_password(shadow, LOCKED).await?;
        }
        let action = if state.until.is_some() {
            "ssh disabled"
        } else {
            "ssh disable requested (was off)"
        };
        let next = state.with_event(
            None,
            AuditEvent {
                at: OffsetDateTime::now_utc(),
                action: action.into(),
                actor: actor.to_owned(),
            },
        );
        persist(&self.store, &next).await?;
        *state = next;
        tracing::warn!(actor, "SSH disabled");
        Ok(self.status_of(&state))
    }

    fn status_of(&self, state: &SshState) -> SshStatus {
        SshStatus {
            enabled: state.until.is_some(),
            until: state.until,
            audit: state.audit.clone(),
        }
    }

    async fn expire(self: Arc<Self>, until: OffsetDateTime) {
        let left = (until - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
        tokio::time::sleep(left.unsigned_abs()).await;
        // A later enable moved the window: its own timer closes it.
        if self.state.lock().await.until != Some(until) {
            return;
        }
        if let Err(error) = self.disable("lqxd (window ended)").await {
            tracing::error!(%error, "cannot close the SSH window");
        }
    }
}

/// Rewrites root's password field in `shadow` atomically, keeping the
/// file's mode and group.
async fn set_root_password(shadow: &std::path::Path, field: &str) -> Result<(), AgentError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let shadow = shadow.to_path_buf();
    let field = field.to_owned();
    tokio::task::spawn_blocking(move || {
        let io = |e: std::io::Error| {
            AgentError::Unavailable(format!("cannot update {}: {e}", shadow.display()))
        };
        let text = std::fs::read_to_string(&shadow).map_err(io)?;
        let meta = std::fs::metadata(&shadow).map_err(io)?;
        let next = lqx_core::shadow::set_field(&text, "root", &field)
            .map_err(|e| AgentError::Unavailable(e.to_string()))?;
        lqx_store::atomic::write_file(&shadow, next.as_bytes(), meta.permissions().mode() & 0o777)
            .map_err(io)?;
        nix::unistd::chown(&shadow, Some(meta.uid().into()), Some(meta.gid().into()))
            .map_err(|e| io(e.into()))
    })
    .await
    .map_err(AgentError::Task)?
}

#[cfg(test)]
mod tests {
    use super::*;
    use lqx_api::SetPasswordRequest;
    use lqx_systemd::FakeManager;

    const PASSWORD: &str = "correct horse battery staple";

    async fn service(
        shadow: Option<PathBuf>,
    ) -> (Arc<SshService>, Arc<FakeManager>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(StateDir::open(&dir.path().join("state")).unwrap());
        let auth = Arc::new(AuthService::open(Arc::clone(&store)).unwrap());
        auth.set(&SetPasswordRequest {
            current: None,
            new: PASSWORD.into(),
        })
        .await
        .unwrap();
        let manager = Arc::new(FakeManager::default());
        let ssh = SshService::open(store, manager.clone(), auth, shadow).unwrap();
        (Arc::new(ssh), manager, dir)
    }

    #[tokio::test]
    async fn enable_sets_root_password_and_disable_locks_it() {
        let dir = tempfile::tempdir().unwrap();
        let shadow = dir.path().join("shadow");
        std::fs::write(&shadow, "root:*:20000:0:99999:7:::\nbin:*:1::::::\n").unwrap();
        let (ssh, manager, _state) = service(Some(shadow.clone())).await;
        assert!(matches!(
            ssh.enable(4, PASSWORD, "t").await,
            Err(AgentError::Invalid(_))
        ));
        assert!(matches!(
            ssh.enable(121, PASSWORD, "t").await,
            Err(AgentError::Invalid(_))
        ));
        assert!(matches!(
            ssh.enable(5, "wrong", "t").await,
            Err(AgentError::Unauthorized(_))
        ));
        assert!(manager.jobs().is_empty(), "nothing done on refusals");

        let status = ssh.enable(15, PASSWORD, "uid 0").await.unwrap();
        assert!(status.enabled);
        let left = status.until.unwrap() - OffsetDateTime::now_utc();
        assert!(left > time::Duration::minutes(14) && left <= time::Duration::minutes(15));
        let text = std::fs::read_to_string(&shadow).unwrap();
        assert!(text.starts_with("root:$6$rounds=100000$"), "{text}");
        assert!(text.ends_with("bin:*:1::::::\n"));
        assert_eq!(manager.jobs(), ["start ssh.service"]);

        let status = ssh.disable("uid 0").await.unwrap();
        assert!(!status.enabled);
        assert!(
            std::fs::read_to_string(&shadow)
                .unwrap()
                .starts_with("root:!:")
        );
        assert_eq!(manager.jobs(), ["start ssh.service", "stop ssh.service"]);
        let actions: Vec<_> = status.audit.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["ssh enabled for 15 minutes", "ssh disabled"]);
    }

    #[tokio::test]
    async fn standalone_agents_refuse() {
        let (ssh, manager, _state) = service(None).await;
        assert!(matches!(
            ssh.enable(10, PASSWORD, "t").await,
            Err(AgentError::Conflict(_))
        ));
        assert!(manager.jobs().is_empty());
    }

    #[tokio::test]
    async fn an_expired_window_is_closed_on_resume() {
        let dir = tempfile::tempdir().unwrap();
        let shadow = dir.path().join("shadow");
        std::fs::write(&shadow, "root:$6$x$y:1::::::\n").unwrap();
        let (ssh, manager, _state) = service(Some(shadow.clone())).await;
        {
            let mut state = ssh.state.lock().await;
            state.until = Some(OffsetDateTime::now_utc() - time::Duration::seconds(1));
        }
        ssh.resume().await;
        assert_eq!(manager.jobs(), ["stop ssh.service"]);
        assert!(
            std::fs::read_to_string(&shadow)
                .unwrap()
                .starts_with("root:!:")
        );
        assert!(!ssh.status().await.enabled);
    }
}
