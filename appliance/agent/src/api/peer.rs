//! Who is on the other end of a connection, and whether they may use the
//! API: on the local socket, root and the agent's own user; on the remote
//! listener, whoever completed the mutual-TLS handshake.

use super::error::ApiError;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::IncomingStream;
use lqx_api::ErrorCode;
use std::net::SocketAddr;
use tokio::net::UnixListener;

/// A caller of the remote API, put in each request's extensions by the
/// remote listener after the TLS handshake verified its certificate.
/// Clients cannot set extensions, so its presence proves the handshake.
#[derive(Clone, Debug)]
pub struct RemoteClient {
    /// The client's socket address.
    pub addr: SocketAddr,
    /// SHA-256 fingerprint of the client's certificate.
    pub certificate: String,
}

/// Who made a request, as audit trails name them.
#[derive(Clone, Debug)]
pub enum Caller {
    /// A process on this host, through the local socket.
    Local(Peer),
    /// A certificate holder, through the remote API.
    Remote(RemoteClient),
}

impl std::fmt::Display for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Caller::Local(Peer {
                uid: Some(uid),
                pid: Some(pid),
            }) => write!(f, "uid {uid} pid {pid}"),
            Caller::Local(Peer {
                uid: Some(uid),
                pid: None,
            }) => write!(f, "uid {uid}"),
            Caller::Local(_) => f.write_str("unknown peer"),
            Caller::Remote(client) => write!(
                f,
                "remote {} certificate {}",
                client.addr,
                &client.certificate[..client.certificate.len().min(16)]
            ),
        }
    }
}

/// The peer's credentials as the kernel reported them at connect time
/// (`SO_PEERCRED`); `None` when the kernel would not say.
#[derive(Clone, Copy, Debug)]
pub struct Peer {
    /// The peer's user id.
    pub uid: Option<u32>,
    /// The peer's process id.
    pub pid: Option<i32>,
}

impl Connected<IncomingStream<'_, UnixListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, UnixListener>) -> Self {
        match stream.io().peer_cred() {
            Ok(cred) => Self {
                uid: Some(cred.uid()),
                pid: cred.pid(),
            },
            Err(_) => Self {
                uid: None,
                pid: None,
            },
        }
    }
}

/// Who may use the local API: root, and the user the agent runs as (the
/// socket's owner).
#[derive(Clone, Copy, Debug)]
pub struct PeerPolicy {
    /// The agent's own user id.
    pub owner_uid: u32,
}

impl PeerPolicy {
    /// Policy for this process.
    pub fn for_this_process() -> Self {
        Self {
            owner_uid: nix::unistd::getuid().as_raw(),
        }
    }

    /// Whether a peer with `uid` may call the API.
    pub fn allows(&self, uid: Option<u32>) -> bool {
        matches!(uid, Some(uid) if uid == 0 || uid == self.owner_uid)
    }
}

/// Middleware refusing callers the policy does not allow, and naming the
/// allowed ones ([`Caller`]) for handlers. Requests without connection
/// info (served in-process by tests) carry none and are refused too: the
/// check fails closed.
pub async fn check(
    axum::extract::State(policy): axum::extract::State<PeerPolicy>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let Some(remote) = request.extensions().get::<RemoteClient>().cloned() {
        if request.method() != axum::http::Method::GET {
            let forwarded_by = request
                .headers()
                .get(lqx_api::FORWARDED_BY_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info!(
                client = %remote.addr,
                certificate = %remote.certificate,
                forwarded_by,
                method = %request.method(),
                path = request.uri().path(),
                "remote API call"
            );
        }
        request.extensions_mut().insert(Caller::Remote(remote));
        return Ok(next.run(request).await);
    }
    let peer = request.extensions().get::<ConnectInfo<Peer>>().map(|c| c.0);
    let uid = peer.and_then(|p| p.uid);
    if let (true, Some(peer)) = (policy.allows(uid), peer) {
        request.extensions_mut().insert(Caller::Local(peer));
        return Ok(next.run(request).await);
    }
    tracing::warn!(?uid, pid = ?peer.and_then(|p| p.pid), "refused API caller");
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::Forbidden,
        "the local API is for root and the agent's own user only",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        let policy = PeerPolicy { owner_uid: 1000 };
        assert!(policy.allows(Some(0)));
        assert!(policy.allows(Some(1000)));
        assert!(!policy.allows(Some(1001)));
        assert!(!policy.allows(None));
    }
}
