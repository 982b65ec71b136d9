//! The remote API: the local socket's routes over HTTPS with mutual TLS,
//! for holders of a certificate signed by this host's authority, and on
//! the same port the join channel (ALPN `lqx-join/1`), which serves only
//! the join request of a host holding a token.
//!
//! On first start the agent creates its authority and an admin bundle in
//! `STATE_DIR/admin` (root only). The host certificate is reissued, at
//! start and every minute after, when the hostname or addresses changed
//! or expiry nears; new connections get the new one. Joining a cluster
//! replaces the authority with the cluster's, leaving it with a new one.

mod certs;
mod handle;

pub use certs::{
    ADMIN_DIR, AuthorityChoice, Prepared, ServerTls, forget_authority, host_subject, prepare,
};
pub use handle::{RENEW_CHECK, RemoteTls, renew_loop};

use crate::api::peer::RemoteClient;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// The remote API's port unless `--api-port` says otherwise.
pub const DEFAULT_PORT: u16 = 8443;
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
    /// A blocking task died.
    #[error("certificate task failed: {0}")]
    Task(String),
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

/// The routers of the API's port.
#[derive(Clone)]
pub struct Routers {
    /// The API, for clients holding a certificate of the authority.
    pub api: Router,
    /// The join channel's, for hosts holding a join token.
    pub join: Router,
}

/// A caller of the join channel, put in each request's extensions.
#[derive(Clone, Copy, Debug)]
pub struct JoinClient {
    /// The joining host's socket address.
    pub addr: SocketAddr,
}

/// Serves `routers` on `listener`, for as long as the task runs (the
/// agent's exit ends it; the local socket's graceful shutdown is the one
/// that matters). Each connection uses the configurations `tls` holds
/// when it is accepted.
pub async fn serve(listener: TcpListener, tls: Arc<RemoteTls>, routers: Routers) {
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
        let configs = tls.server();
        let routers = routers.clone();
        tokio::spawn(async move {
            connection(tcp, addr, configs, routers).await;
            drop(slot);
        });
    }
}

/// Reads the client's hello, picks the join channel's configuration for
/// clients asking for its ALPN protocol and the API's for everyone else,
/// and completes the handshake.
async fn handshake(
    tcp: tokio::net::TcpStream,
    configs: ServerTls,
) -> Result<(tokio_rustls::server::TlsStream<tokio::net::TcpStream>, bool), std::io::Error> {
    let start =
        tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), tcp).await?;
    let join = start
        .client_hello()
        .alpn()
        .is_some_and(|mut protocols| protocols.any(|p| p == lqx_pki::tls::JOIN_ALPN));
    let config = if join { configs.join } else { configs.api };
    Ok((start.into_stream(config).await?, join))
}

async fn connection(
    tcp: tokio::net::TcpStream,
    addr: SocketAddr,
    configs: ServerTls,
    routers: Routers,
) {
    let (stream, join) =
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(tcp, configs)).await {
            Ok(Ok(done)) => done,
            Ok(Err(error)) => {
                tracing::info!(client = %addr, %error, "remote API: TLS handshake refused");
                return;
            }
            Err(_) => {
                tracing::info!(client = %addr, "remote API: TLS handshake timed out");
                return;
            }
        };
    let service = if join {
        let client = JoinClient { addr };
        routers
            .join
            .map_request(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(client);
                request
            })
            .boxed_clone()
    } else {
        let Some(certificate) = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(|cert| lqx_pki::fingerprint_der(cert))
        else {
            // The API's verifier requires a certificate; this is
            // unreachable unless the configuration changes.
            tracing::warn!(client = %addr, "remote API: client without a certificate");
            return;
        };
        let client = RemoteClient { addr, certificate };
        routers
            .api
            .map_request(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(client.clone());
                request
            })
            .boxed_clone()
    };
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
        // VM consoles are WebSockets.
        .with_upgrades()
        .await;
    if let Err(error) = served {
        tracing::debug!(client = %addr, %error, "remote API: connection ended with an error");
    }
}
