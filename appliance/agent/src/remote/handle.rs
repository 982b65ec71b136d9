//! The remote API's certificates in force, swapped when the host joins or
//! leaves a cluster or its certificate is reissued.

use super::RemoteError;
use super::certs::{AuthorityChoice, Prepared, ServerTls, prepare};
use lqx_core::pki_state::StoredHostCertificate;
use lqx_pki::{Role, Subject};
use lqx_store::StateDir;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use time::OffsetDateTime;

/// How often the host certificate is checked against the host's names,
/// addresses and the calendar.
pub const RENEW_CHECK: Duration = Duration::from_secs(60);

struct Current {
    server: ServerTls,
    client: Arc<rustls::ClientConfig>,
    fingerprint: String,
    host: StoredHostCertificate,
}

/// The remote API's TLS state. New connections take the configurations
/// in force when they are accepted; open ones keep theirs.
pub struct RemoteTls {
    store: Arc<StateDir>,
    host_id: String,
    listen: SocketAddr,
    admin_dir: PathBuf,
    current: RwLock<Current>,
    // Serialises changes: a renewal must not undo a join's switch.
    changing: tokio::sync::Mutex<()>,
    // Counts host certificates issued, for whoever copies it elsewhere.
    issued: tokio::sync::watch::Sender<u64>,
}

impl RemoteTls {
    /// The state [`prepare`] set up, served on `listen`.
    pub fn new(
        store: Arc<StateDir>,
        host_id: String,
        prepared: Prepared,
        listen: SocketAddr,
    ) -> Self {
        Self {
            store,
            host_id,
            listen,
            admin_dir: prepared.admin_dir,
            current: RwLock::new(Current {
                server: prepared.server,
                client: prepared.client,
                fingerprint: prepared.fingerprint,
                host: prepared.host,
            }),
            changing: tokio::sync::Mutex::new(()),
            issued: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Changes whenever a new host certificate is in force (a renewal, a
    /// join or a leave).
    pub fn issued(&self) -> tokio::sync::watch::Receiver<u64> {
        self.issued.subscribe()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Current> {
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The server configurations for a new connection.
    pub fn server(&self) -> ServerTls {
        self.read().server.clone()
    }

    /// This host as a client of other hosts of its authority.
    pub fn client(&self) -> Arc<rustls::ClientConfig> {
        Arc::clone(&self.read().client)
    }

    /// The host's certificate and key in force (presented to servers of
    /// other authorities that trust this one: OVN's central databases).
    pub fn host_identity(&self) -> lqx_pki::Identity {
        let current = self.read();
        lqx_pki::Identity {
            cert_pem: current.host.cert_pem.clone(),
            key_pem: current.host.key_pem.clone(),
        }
    }

    /// The fingerprint of the authority in force.
    pub fn fingerprint(&self) -> String {
        self.read().fingerprint.clone()
    }

    /// Where the API listens.
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    /// Where the admin bundle is.
    pub fn admin_dir(&self) -> &PathBuf {
        &self.admin_dir
    }

    async fn apply(
        &self,
        subject: Subject,
        choice: AuthorityChoice,
    ) -> Result<String, RemoteError> {
        let store = Arc::clone(&self.store);
        let prepared = tokio::task::spawn_blocking(move || {
            prepare(&store, &subject, OffsetDateTime::now_utc(), choice)
        })
        .await
        .map_err(|e| RemoteError::Task(e.to_string()))??;
        let fingerprint = prepared.fingerprint.clone();
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Current {
            server: prepared.server,
            client: prepared.client,
            fingerprint: prepared.fingerprint,
            host: prepared.host,
        };
        self.issued.send_modify(|n| *n += 1);
        Ok(fingerprint)
    }

    /// Makes `choice` the host's authority, reissuing the host
    /// certificate (for the names and addresses it has now) and the admin
    /// bundle; returns the new fingerprint.
    pub async fn switch(&self, choice: AuthorityChoice) -> Result<String, RemoteError> {
        let _changing = self.changing.lock().await;
        let subject = {
            let current = self.read();
            Subject {
                common_name: self.host_id.clone(),
                role: Role::Host,
                dns_names: current.host.dns_names.clone(),
                addresses: current.host.addresses.clone(),
            }
        };
        self.apply(subject, choice).await
    }

    /// Reissues the host certificate if `subject` (the host now) differs
    /// from what it names or it nears expiry; whether it did.
    pub async fn renew(&self, subject: Subject) -> Result<bool, RemoteError> {
        let _changing = self.changing.lock().await;
        let due = self.read().host.needs_reissue(
            &subject.dns_names,
            &subject.addresses,
            OffsetDateTime::now_utc(),
        );
        if due {
            self.apply(subject, AuthorityChoice::Keep).await?;
        }
        Ok(due)
    }
}

/// Reissues the host certificate when the host's names or addresses
/// change (a network apply, a DHCP lease) or it nears expiry. Runs until
/// the agent stops.
pub async fn renew_loop(
    tls: Arc<RemoteTls>,
    subject: impl Fn() -> futures::future::BoxFuture<'static, Option<Subject>>,
) {
    let mut tick = tokio::time::interval(RENEW_CHECK);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(subject) = subject().await else {
            continue;
        };
        if let Err(error) = tls.renew(subject).await {
            tracing::warn!(error = %crate::api::error::chain(&error), "cannot renew the host certificate");
        }
    }
}
