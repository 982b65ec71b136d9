//! The remote API: the local socket's routes over HTTPS with mutual TLS,
//! for holders of a certificate signed by this host's authority.
//!
//! On first start the agent creates its authority and an admin bundle in
//! `STATE_DIR/admin` (root only). The host certificate is reissued, at
//! start and every minute after, when the hostname or addresses changed
//! or expiry nears; new connections get the new one.

use crate::api::peer::RemoteClient;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use lqx_api::{AddressScope, HostFacts};
use lqx_core::document::Document as _;
use lqx_core::pki_state::{PkiState, StoredAuthority, StoredHostCertificate};
use lqx_pki::{Authority, Role, Subject, bundle};
use lqx_store::StateDir;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tower::ServiceExt as _;
use uuid::Uuid;

/// The remote API's port unless `--api-port` says otherwise.
pub const DEFAULT_PORT: u16 = 8443;
/// The admin bundle's directory under the state directory.
pub const ADMIN_DIR: &str = "admin";
/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A client that has not sent a request's headers by then is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once; more are closed at accept.
const MAX_CONNECTIONS: usize = 256;

/// Errors of setting up the remote API.
#[derive(Debug, Error)]
pub enum RemoteError {
    /// Generating or loading keys and certificates failed.
    #[error("certificate authority")]
    Pki(#[from] lqx_pki::PkiError),
    /// The PKI document could not be read or written.
    #[error("PKI state")]
    Store(#[from] lqx_store::StoreError),
    /// A file of the admin bundle could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What [`prepare`] set up.
pub struct Prepared {
    /// The TLS server configuration.
    pub server: Arc<rustls::ServerConfig>,
    /// The authority's fingerprint.
    pub fingerprint: String,
    /// Where the admin bundle is.
    pub admin_dir: PathBuf,
    /// The host certificate in force and what it was issued for.
    pub host: StoredHostCertificate,
}

/// The names and addresses a host certificate carries: the hostname, the
/// host id, localhost, every global address, loopback, and `extra` (the
/// `--address` the listener binds to).
pub fn host_subject(host_id: Uuid, facts: &HostFacts, extra: Option<IpAddr>) -> Subject {
    let mut dns_names = vec![host_id.to_string(), "localhost".to_owned()];
    if !facts.hostname.is_empty() && facts.hostname != "localhost" {
        dns_names.push(facts.hostname.clone());
    }
    let mut addresses: Vec<IpAddr> = facts
        .interfaces
        .iter()
        .flat_map(|i| i.addresses.iter())
        .filter(|a| a.scope == AddressScope::Global)
        .map(|a| a.address)
        .chain([
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ])
        .chain(extra)
        .collect();
    dns_names.sort();
    dns_names.dedup();
    addresses.sort();
    addresses.dedup();
    Subject {
        common_name: host_id.to_string(),
        role: Role::Host,
        dns_names,
        addresses,
    }
}

/// Loads this host's authority (creating it on first start), reissues the
/// host certificate when [`StoredHostCertificate::needs_reissue`] says
/// so, and writes the admin bundle when it is missing or from another
/// authority. Blocking: key generation and fsyncs.
pub fn prepare(
    store: &StateDir,
    subject: &Subject,
    now: OffsetDateTime,
) -> Result<Prepared, RemoteError> {
    let (authority, state) = match store.load::<PkiState>()? {
        Some(state) => (
            Authority::from_pem(
                &state.authority.name,
                &state.authority.cert_pem,
                &state.authority.key_pem,
            )?,
            Some(state),
        ),
        None => {
            let name = format!("LimiQuantix authority {}", subject.common_name);
            let authority = Authority::generate(&name, now)?;
            tracing::info!(
                fingerprint = %lqx_pki::fingerprint(authority.cert_pem())?,
                "created the certificate authority"
            );
            (authority, None)
        }
    };
    let state = match state {
        Some(state)
            if !state
                .host
                .needs_reissue(&subject.dns_names, &subject.addresses, now) =>
        {
            state
        }
        _ => issue_host(store, &authority, subject, now)?,
    };
    let admin_dir = store.path().join(ADMIN_DIR);
    write_admin_bundle(&authority, &admin_dir, now)?;
    let host = lqx_pki::Identity {
        cert_pem: state.host.cert_pem.clone(),
        key_pem: state.host.key_pem.clone(),
    };
    Ok(Prepared {
        server: lqx_pki::tls::server_config(authority.cert_pem(), &host)?,
        fingerprint: lqx_pki::fingerprint(authority.cert_pem())?,
        admin_dir,
        host: state.host,
    })
}

/// Issues and persists a new host certificate for `subject`.
fn issue_host(
    store: &StateDir,
    authority: &Authority,
    subject: &Subject,
    now: OffsetDateTime,
) -> Result<PkiState, RemoteError> {
    let issued = authority.issue(subject, now)?;
    let next = PkiState {
        schema_version: PkiState::SCHEMA_VERSION,
        authority: StoredAuthority {
            name: authority.name().to_owned(),
            cert_pem: authority.cert_pem().to_owned(),
            key_pem: authority.key_pem(),
        },
        host: StoredHostCertificate {
            cert_pem: issued.identity.cert_pem,
            key_pem: issued.identity.key_pem,
            dns_names: subject.dns_names.clone(),
            addresses: subject.addresses.clone(),
            not_after: issued.not_after,
        },
    };
    store.save(&next)?;
    tracing::info!(
        names = ?next.host.dns_names,
        addresses = ?next.host.addresses,
        not_after = %next.host.not_after,
        "issued the host certificate"
    );
    Ok(next)
}

/// Writes `dir/{ca.crt,client.crt,client.key}` unless the bundle there
/// already belongs to `authority`. The key is written last, each file
/// atomically, so that a reader sees either bundle's files or a missing
/// one, and a crash midway is repaired at the next start.
fn write_admin_bundle(
    authority: &Authority,
    dir: &Path,
    now: OffsetDateTime,
) -> Result<(), RemoteError> {
    let current = lqx_pki::Bundle::read(dir).is_ok_and(|b| b.authority_pem == authority.cert_pem());
    if current {
        return Ok(());
    }
    let write_err = |path: PathBuf| move |source| RemoteError::Write { path, source };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(write_err(dir.to_owned()))?;
    let issued = authority.issue(
        &Subject {
            common_name: "admin".into(),
            role: Role::Admin,
            dns_names: vec![],
            addresses: vec![],
        },
        now,
    )?;
    // The key first, then the certificates: a bundle whose ca.crt matches
    // is complete.
    for (name, contents, mode) in [
        (bundle::KEY_FILE, &issued.identity.key_pem, 0o600),
        (bundle::CERT_FILE, &issued.identity.cert_pem, 0o644),
        (bundle::CA_FILE, &authority.cert_pem().to_owned(), 0o644),
    ] {
        let path = dir.join(name);
        lqx_store::atomic::write_file(&path, contents.as_bytes(), mode).map_err(write_err(path))?;
    }
    tracing::info!(dir = %dir.display(), "wrote the admin bundle");
    Ok(())
}

/// Binds the remote API's socket: `address:port`, or every address
/// (IPv6 and IPv4, or IPv4 alone where IPv6 is off).
pub async fn bind(address: Option<IpAddr>, port: u16) -> Result<TcpListener, RemoteError> {
    let candidates: Vec<SocketAddr> = match address {
        Some(ip) => vec![SocketAddr::new(ip, port)],
        None => vec![
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
        ],
    };
    let mut last = None;
    for addr in candidates {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Ok(listener),
            Err(source) => last = Some(RemoteError::Bind { addr, source }),
        }
    }
    Err(last.unwrap_or_else(|| unreachable!("at least one candidate address")))
}

/// The server configuration in force; replaced when the host
/// certificate is reissued, read at each accepted connection.
pub type CurrentTls = Arc<std::sync::RwLock<Arc<rustls::ServerConfig>>>;

/// How often the host certificate is checked against the host's names,
/// addresses and the calendar.
pub const RENEW_CHECK: Duration = Duration::from_secs(60);

/// Reissues the host certificate when the host's names or addresses
/// change (a network apply, a DHCP lease) or it nears expiry, and swaps
/// it in for new connections. `host` is the certificate in force; the
/// state directory is touched only when it must change. Runs until the
/// agent stops.
pub async fn renew(
    store: Arc<StateDir>,
    subject: impl Fn() -> futures::future::BoxFuture<'static, Option<Subject>>,
    mut host: StoredHostCertificate,
    current: CurrentTls,
) {
    let mut tick = tokio::time::interval(RENEW_CHECK);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(subject) = subject().await else {
            continue;
        };
        let now = OffsetDateTime::now_utc();
        if !host.needs_reissue(&subject.dns_names, &subject.addresses, now) {
            continue;
        }
        let store = Arc::clone(&store);
        let prepared = tokio::task::spawn_blocking(move || prepare(&store, &subject, now)).await;
        match prepared {
            Ok(Ok(prepared)) => {
                host = prepared.host;
                *current.write().unwrap_or_else(|e| e.into_inner()) = prepared.server;
            }
            Ok(Err(error)) => {
                tracing::warn!(error = %crate::api::error::chain(&error), "cannot renew the host certificate");
            }
            Err(error) => tracing::warn!(%error, "certificate renewal task failed"),
        }
    }
}

/// Serves `router` on `listener`, for as long as the task runs (the
/// agent's exit ends it; the local socket's graceful shutdown is the one
/// that matters). Each connection uses the configuration `tls` holds
/// when it is accepted.
pub async fn serve(listener: TcpListener, tls: CurrentTls, router: Router) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (tcp, addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of descriptors, mostly: wait rather than spin.
                tracing::warn!(%error, "remote API: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(client = %addr, "remote API: too many connections; closing");
            continue;
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(
            &tls.read().unwrap_or_else(|e| e.into_inner()),
        ));
        let router = router.clone();
        tokio::spawn(async move {
            connection(tcp, addr, acceptor, router).await;
            drop(slot);
        });
    }
}

async fn connection(
    tcp: tokio::net::TcpStream,
    addr: SocketAddr,
    acceptor: tokio_rustls::TlsAcceptor,
    router: Router,
) {
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            tracing::info!(client = %addr, %error, "remote API: TLS handshake refused");
            return;
        }
        Err(_) => {
            tracing::info!(client = %addr, "remote API: TLS handshake timed out");
            return;
        }
    };
    let Some(certificate) = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|cert| lqx_pki::fingerprint_der(cert))
    else {
        // The verifier requires a certificate; this is unreachable unless
        // the configuration changes.
        tracing::warn!(client = %addr, "remote API: client without a certificate");
        return;
    };
    let client = RemoteClient { addr, certificate };
    let service = router.map_request(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(client.clone());
        request
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
        .await;
    if let Err(error) = served {
        tracing::debug!(client = %addr, %error, "remote API: connection ended with an error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(addresses: &[&str]) -> Subject {
        Subject {
            common_name: "5f0c0f64-3c1e-4d43-9a0e-0c8b1d3d1f7a".into(),
            role: Role::Host,
            dns_names: vec!["hv1".into()],
            addresses: addresses.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn reissued_only_when_the_host_changed_and_the_authority_stays() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateDir::open(dir.path()).unwrap();
        let now = OffsetDateTime::now_utc();
        let first = prepare(&store, &subject(&["10.0.0.1"]), now).unwrap();
        let bundle = std::fs::read(first.admin_dir.join("client.crt")).unwrap();
        let same = prepare(&store, &subject(&["10.0.0.1"]), now).unwrap();
        assert_eq!(same.host.cert_pem, first.host.cert_pem, "kept");
        // A new address (a network apply, a DHCP lease).
        let moved = prepare(&store, &subject(&["10.0.0.2"]), now).unwrap();
        assert_ne!(moved.host.cert_pem, first.host.cert_pem, "reissued");
        let state = store.load::<PkiState>().unwrap().unwrap();
        assert!(state.host == moved.host, "persisted");
        assert_eq!(
            moved.host.addresses,
            vec!["10.0.0.2".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(moved.fingerprint, first.fingerprint, "same authority");
        assert_eq!(
            std::fs::read(moved.admin_dir.join("client.crt")).unwrap(),
            bundle,
            "the admin bundle is untouched"
        );
        // Near expiry.
        let later = now + time::Duration::days(340);
        let renewed = prepare(&store, &subject(&["10.0.0.2"]), later).unwrap();
        assert_ne!(renewed.host.cert_pem, moved.host.cert_pem, "renewed");
    }
}
