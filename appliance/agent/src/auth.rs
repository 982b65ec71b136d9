//! The admin password: Argon2id-hashed in `auth.json`, strength-checked
//! with zxcvbn, and verified with a growing delay after failures so it
//! cannot be guessed quickly through the console.

use crate::agent::AgentError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use lqx_api::{AuthStatus, SetPasswordRequest};
use lqx_core::secrets::AuthState;
use lqx_store::StateDir;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 10;
/// Longest password accepted (hashing cost must stay bounded).
pub const MAX_LENGTH: usize = 256;

/// Failures allowed before each further attempt must wait.
const FREE_FAILURES: u32 = 3;
/// Longest wait between attempts.
const MAX_DELAY: Duration = Duration::from_secs(300);

fn hasher() -> Argon2<'static> {
    // OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Why a password is not strong enough, or `None` if it is.
pub fn weakness(password: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Some(format!("use at least {MIN_LENGTH} characters"));
    }
    if chars > MAX_LENGTH {
        return Some(format!("use at most {MAX_LENGTH} characters"));
    }
    if password.chars().any(char::is_control) {
        return Some("control characters are not allowed".into());
    }
    let entropy = zxcvbn::zxcvbn(password, &["limiquantix", "lqx", "admin", "root"]);
    if (entropy.score() as u8) >= 3 {
        return None;
    }
    let mut why = "too easy to guess".to_owned();
    if let Some(feedback) = entropy.feedback() {
        if let Some(warning) = feedback.warning() {
            why = format!("{why}: {warning}");
        }
        if let Some(hint) = feedback.suggestions().first() {
            why = format!("{why} ({hint})");
        }
    }
    Some(why)
}

/// Consecutive failures and the wait they impose.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
    not_before: Option<Instant>,
}

impl Backoff {
    fn wait(&self, now: Instant) -> Option<Duration> {
        self.not_before.filter(|t| *t > now).map(|t| t - now)
    }

    fn failed(&mut self, now: Instant) {
        self.failures += 1;
        if self.failures >= FREE_FAILURES {
            let exponent = (self.failures - FREE_FAILURES).min(16);
            let delay = Duration::from_secs(1u64 << exponent).min(MAX_DELAY);
            self.not_before = Some(now + delay);
        }
    }

    fn succeeded(&mut self) {
        *self = Self::default();
    }
}

/// The admin password of this host.
pub struct AuthService {
    store: Arc<StateDir>,
    state: Mutex<Option<AuthState>>,
    backoff: Mutex<Backoff>,
}

impl AuthService {
    /// Loads `auth.json`.
    pub fn open(store: Arc<StateDir>) -> Result<Self, AgentError> {
        let state = store.load::<AuthState>().map_err(AgentError::Store)?;
        Ok(Self {
            store,
            state: Mutex::new(state),
            backoff: Mutex::new(Backoff::default()),
        })
    }

    /// `GET /v1/auth`.
    pub async fn status(&self) -> AuthStatus {
        let state = self.state.lock().await;
        AuthStatus {
            password_set: state.is_some(),
            changed_at: state.as_ref().map(|s| s.changed_at),
        }
    }

    /// Whether a password has been set.
    pub async fn is_set(&self) -> bool {
        self.state.lock().await.is_some()
    }

    /// `POST /v1/auth/verify`: `Ok` if `password` is the admin password.
    pub async fn verify(&self, password: &str) -> Result<(), AgentError> {
        let Some(hash) = self
            .state
            .lock()
            .await
            .as_ref()
            .map(|s| s.password_hash.clone())
        else {
            return Err(AgentError::Conflict("no admin password is set yet".into()));
        };
        let mut backoff = self.backoff.lock().await;
        if let Some(wait) = backoff.wait(Instant::now()) {
            return Err(AgentError::TooMany(format!(
                "too many wrong passwords: try again in {} s",
                wait.as_secs().max(1)
            )));
        }
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|parsed| {
                hasher()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .map_err(AgentError::Task)?;
        if ok {
            backoff.succeeded();
            Ok(())
        } else {
            backoff.failed(Instant::now());
            tracing::warn!(failures = backoff.failures, "wrong admin password");
            Err(AgentError::Unauthorized("wrong password".into()))
        }
    }

    /// `PUT /v1/auth/password`: the first one freely, later ones with the
    /// current password.
    pub async fn set(&self, request: &SetPasswordRequest) -> Result<(), AgentError> {
        if self.is_set().await {
            let Some(current) = &request.current else {
                return Err(AgentError::Conflict(
                    "a password is set: give the current one to change it".into(),
                ));
            };
            self.verify(current).await?;
        }
        if let Some(why) = weakness(&request.new) {
            return Err(AgentError::Invalid(format!("password rejected: {why}")));
        }
        let new = request.new.clone();
        let hash = tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            hasher()
                .hash_password(new.as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await
        .map_err(AgentError::Task)?
        .map_err(|e| AgentError::Invalid(format!("cannot hash the password: {e}")))?;
        let next = AuthState {
            schema_version: 1,
            password_hash: hash,
            changed_at: OffsetDateTime::now_utc(),
        };
        let mut state = self.state.lock().await;
        // Two consoles (tty1 and serial) may both offer the first-boot
        // form: the first to finish hashing wins, the other is refused
        // rather than silently replacing it.
        if state.is_some() && request.current.is_none() {
            return Err(AgentError::Conflict(
                "a password was set meanwhile (on another console?): unlock with it".into(),
            ));
        }
        crate::agent::persist(&self.store, &next).await?;
        *state = Some(next);
        tracing::info!("admin password set");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_say_why() {
        assert!(weakness("short").unwrap().contains("at least 10"));
        assert!(weakness("password123").unwrap().contains("too easy"));
        assert!(weakness("aaaaaaaaaaaa").is_some());
        assert!(weakness("limiquantix1").is_some());
        assert_eq!(weakness("correct horse battery staple"), None);
        assert_eq!(weakness("Tq7#vLp2!mZx"), None);
    }

    #[test]
    fn backoff_grows_after_free_failures_and_resets() {
        let t = Instant::now();
        let mut b = Backoff::default();
        for _ in 0..FREE_FAILURES - 1 {
            b.failed(t);
            assert_eq!(b.wait(t), None);
        }
        b.failed(t);
        assert_eq!(b.wait(t), Some(Duration::from_secs(1)));
        b.failed(t);
        assert_eq!(b.wait(t), Some(Duration::from_secs(2)));
        for _ in 0..20 {
            b.failed(t);
        }
        assert_eq!(b.wait(t), Some(MAX_DELAY));
        b.succeeded();
        assert_eq!(b.wait(t), None);
    }

    #[tokio::test]
    async fn set_verify_change() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(StateDir::open(dir.path()).unwrap());
        let auth = AuthService::open(Arc::clone(&store)).unwrap();
        assert!(matches!(
            auth.verify("x").await,
            Err(AgentError::Conflict(_))
        ));
        let first = SetPasswordRequest {
            current: None,
            new: "correct horse battery staple".into(),
        };
        auth.set(&first).await.unwrap();
        let text = std::fs::read_to_string(dir.path().join("auth.json")).unwrap();
        assert!(text.contains("$argon2id$") && !text.contains("horse"));
        auth.verify("correct horse battery staple").await.unwrap();
        assert!(matches!(
            auth.verify("nope").await,
            Err(AgentError::Unauthorized(_))
        ));
        assert!(matches!(
            auth.set(&first).await,
            Err(AgentError::Conflict(_))
        ));
        let change = SetPasswordRequest {
            current: Some("correct horse battery staple".into()),
            new: "weak".into(),
        };
        assert!(matches!(
            auth.set(&change).await,
            Err(AgentError::Invalid(_))
        ));
        auth.verify("correct horse battery staple").await.unwrap();
        // A fresh service reads the persisted hash.
        let again = AuthService::open(store).unwrap();
        again.verify("correct horse battery staple").await.unwrap();
    }

    #[tokio::test]
    async fn two_first_passwords_at_once_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(StateDir::open(dir.path()).unwrap());
        let auth = Arc::new(AuthService::open(store).unwrap());
        let request = |new: &str| SetPasswordRequest {
            current: None,
            new: new.into(),
        };
        let (first, second) = (
            request("Tractor-Meadow-4711"),
            request("Harbour-Lantern-2093"),
        );
        let (a, b) = tokio::join!(auth.set(&first), auth.set(&second));
        assert!(a.is_ok() != b.is_ok(), "exactly one wins: {a:?} {b:?}");
        let loser = a.err().or(b.err()).unwrap();
        assert!(matches!(loser, AgentError::Conflict(_)), "{loser}");
        let winner = if auth.verify("Tractor-Meadow-4711").await.is_ok() {
            "Tractor-Meadow-4711"
        } else {
            "Harbour-Lantern-2093"
        };
        auth.verify(winner).await.unwrap();
    }
}
