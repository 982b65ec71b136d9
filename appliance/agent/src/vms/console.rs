//! The consoles of VMs as WebSocket streams of bytes: the VNC display
//! (RFB, as noVNC speaks it over the `binary` subprotocol) and the serial
//! console. On the VM's host the WebSocket is piped to QEMU's VNC port on
//! loopback or to the serial socket; on any other host it is relayed to
//! the VM's host over mutual TLS.

use super::VmService;
use super::build::SERIAL_SOCKET;
use crate::agent::AgentError;
use axum::extract::ws::{Message, WebSocket};
use futures::{SinkExt as _, StreamExt as _};
use lqx_core::vm::VmRecord;
use lqx_libvirt::DomainName;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio_tungstenite::tungstenite;

/// Which console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsoleKind {
    /// The display, over VNC.
    Vnc,
    /// The serial console.
    Serial,
}

impl ConsoleKind {
    /// The route's last path segment.
    pub fn segment(self) -> &'static str {
        match self {
            ConsoleKind::Vnc => "console",
            ConsoleKind::Serial => "serial",
        }
    }
}

/// A console's byte stream on this host.
pub enum Local {
    /// QEMU's VNC server.
    Vnc(tokio::net::TcpStream),
    /// QEMU's serial socket.
    Serial(tokio::net::UnixStream),
}

impl VmService {
    /// Connects to a console of a VM of this host.
    pub async fn open_console(
        &self,
        record: &VmRecord,
        kind: ConsoleKind,
    ) -> Result<Local, AgentError> {
        let not_running = || {
            AgentError::Conflict(format!(
                "VM {} is not running: it has no console now",
                record.spec.name
            ))
        };
        match kind {
            ConsoleKind::Vnc => {
                let name = DomainName::new(record.spec.name.clone());
                let port = self
                    .hypervisor()?
                    .run(move |l| l.vnc_port(&name))
                    .await?
                    .ok_or_else(not_running)?;
                let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .map_err(|e| AgentError::Unavailable(format!("VNC of the VM: {e}")))?;
                Ok(Local::Vnc(stream))
            }
            ConsoleKind::Serial => {
                let path = self.vm_dir(record.id).join(SERIAL_SOCKET);
                let stream = tokio::net::UnixStream::connect(&path)
                    .await
                    .map_err(|_| not_running())?;
                Ok(Local::Serial(stream))
            }
        }
    }
}

/// Pipes the WebSocket to a local console until either side ends.
pub async fn pipe(socket: WebSocket, local: Local) {
    match local {
        Local::Vnc(stream) => pipe_stream(socket, stream).await,
        Local::Serial(stream) => pipe_stream(socket, stream).await,
    }
}

async fn pipe_stream<S: AsyncRead + AsyncWrite + Unpin>(socket: WebSocket, stream: S) {
    let (mut to_client, mut from_client) = socket.split();
    let (mut read, mut write) = tokio::io::split(stream);
    let upstream = async {
        while let Some(Ok(message)) = from_client.next().await {
            let bytes = match message {
                Message::Binary(b) => b.to_vec(),
                Message::Text(t) => t.as_str().as_bytes().to_vec(),
                Message::Close(_) => break,
                Message::Ping(_) | Message::Pong(_) => continue,
            };
            if write.write_all(&bytes).await.is_err() {
                break;
            }
        }
    };
    let downstream = async {
        let mut buf = vec![0u8; 16 << 10];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let frame = Message::Binary(buf[..n].to_vec().into());
                    if to_client.send(frame).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to_client.send(Message::Close(None)).await;
    };
    tokio::select! {
        () = upstream => {}
        () = downstream => {}
    }
}

/// A WebSocket to another host's API.
pub type Remote =
    tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

/// Opens the console of a VM of another member: a WebSocket to its API
/// over mutual TLS with this host's certificate.
pub async fn dial(
    tls: Arc<rustls::ClientConfig>,
    address: SocketAddr,
    path: &str,
    headers: &[(&'static str, String)],
) -> Result<Remote, AgentError> {
    let unreachable =
        |why: String| AgentError::Unavailable(format!("the VM's host at {address}: {why}"));
    let tcp = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::net::TcpStream::connect(address),
    )
    .await
    .map_err(|_| unreachable("no answer to a connection within 5 s".into()))?
    .map_err(|e| unreachable(e.to_string()))?;
    let name = rustls::pki_types::ServerName::IpAddress(address.ip().into());
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .map_err(|e| unreachable(format!("TLS: {e}")))?;
    let mut request = tungstenite::client::IntoClientRequest::into_client_request(format!(
        "ws://{address}{path}"
    ))
    .map_err(|e| unreachable(e.to_string()))?;
    for (name, value) in headers {
        let value = value
            .parse()
            .map_err(|_| unreachable(format!("bad header {name}")))?;
        request
            .headers_mut()
            .insert(tungstenite::http::HeaderName::from_static(name), value);
    }
    let (socket, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .map_err(|e| unreachable(format!("WebSocket: {e}")))?;
    Ok(socket)
}

/// Relays frames between a client's WebSocket and another host's.
pub async fn relay(socket: WebSocket, remote: Remote) {
    let (mut to_client, mut from_client) = socket.split();
    let (mut to_remote, mut from_remote) = remote.split();
    let upstream = async {
        while let Some(Ok(message)) = from_client.next().await {
            let message = match message {
                Message::Binary(b) => tungstenite::Message::Binary(b.to_vec().into()),
                Message::Text(t) => tungstenite::Message::Text(t.as_str().into()),
                Message::Close(_) => break,
                Message::Ping(_) | Message::Pong(_) => continue,
            };
            if to_remote.send(message).await.is_err() {
                break;
            }
        }
        let _ = to_remote.close().await;
    };
    let downstream = async {
        while let Some(Ok(message)) = from_remote.next().await {
            let message = match message {
                tungstenite::Message::Binary(b) => Message::Binary(b.to_vec().into()),
                tungstenite::Message::Text(t) => Message::Text(t.as_str().into()),
                tungstenite::Message::Close(_) => break,
                _ => continue,
            };
            if to_client.send(message).await.is_err() {
                break;
            }
        }
        let _ = to_client.send(Message::Close(None)).await;
    };
    tokio::select! {
        () = upstream => {}
        () = downstream => {}
    }
}
