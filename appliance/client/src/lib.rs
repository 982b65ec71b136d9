//! Client of the host agent's API.
//!
//! It speaks HTTP/1.1 over the agent's local Unix socket, or over HTTPS
//! with a client certificate to an agent's remote API. Errors separate the
//! cases an operator must tell apart: agent not running, socket not
//! accessible, host unreachable, TLS refused, the agent refusing the
//! request (with its code and message), and transport failures.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use lqx_api::{
    AgentInfo, ApplyRequest, AuthStatus, CephJoinRequest, CephStatus, ChassisRequest,
    ChassisStatus, CloneRequest, Diagnostics, ErrorBody, ErrorCode, HostInfo, InstallInfo,
    InstallProgress, InstallRequest, JournalLines, Labels, LabelsPatch, NetworkConfig,
    NetworkStatus, PowerAction, PowerRequest, SetPasswordRequest, SnapshotCreate, SshEnableRequest,
    SshStatus, VerifyRequest, Volume, VolumeCreate, VolumeDeleteQuery, VolumeResize, VolumeSummary,
};
use lqx_api::{
    ClusterInitRequest, ClusterStatus, JoinRequest, LeaveRequest, Member, TokenCreated,
    TokenRequest,
};
use lqx_api::{
    Pool, PoolCreate, PoolVolume, PoolVolumeCreate, PoolVolumeRef, PoolVolumeResize, ShutdownDone,
    ShutdownRequest, Vm, VmCreate, VmDeleteQuery, VmList,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

mod vnet;

/// Socket path used when none is given.
pub const DEFAULT_SOCKET: &str = "/run/lqx/lqxd.sock";
/// Environment variable naming the socket.
pub const SOCKET_ENV: &str = "LQX_SOCKET";
/// Port of the remote API when a URL names none.
pub const DEFAULT_PORT: u16 = 8443;
/// How long connecting to a remote API may take: a host that answers at
/// all answers a connection within milliseconds, and one that does not
/// (cut off, powered down) should be reported as such, not waited for.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Errors of an API call.
#[derive(Debug, Error)]
pub enum ClientError {
    /// Nothing listens on the socket.
    #[error(
        "lqxd is not running: nothing listens on {path} (start lqxd, or point --socket / \
         LQX_SOCKET at its socket)"
    )]
    NotRunning {
        /// The socket path.
        path: PathBuf,
        /// The connect error.
        #[source]
        source: io::Error,
    },
    /// The socket exists but this user may not use it.
    #[error(
        "permission denied on {path}: the agent's socket is for root and the agent's own user only"
    )]
    PermissionDenied {
        /// The socket path.
        path: PathBuf,
        /// The connect error.
        #[source]
        source: io::Error,
    },
    /// The remote host could not be reached.
    #[error("cannot reach {url}")]
    Unreachable {
        /// The URL.
        url: String,
        /// The connect error.
        #[source]
        source: io::Error,
    },
    /// The TLS handshake failed: the server is not a host of the pinned
    /// authority, or it refused this client's certificate.
    #[error(
        "TLS handshake with {url} failed (is it a host of this bundle's authority, and the \
         bundle's certificate still valid?)"
    )]
    Tls {
        /// The URL.
        url: String,
        /// The handshake error.
        #[source]
        source: io::Error,
    },
    /// The admin bundle could not be read or used.
    #[error("cannot use the admin bundle in {dir} (the agent writes it to STATE_DIR/admin)")]
    Bundle {
        /// The bundle's directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The remote URL is not one this client can use.
    #[error("bad remote URL {0}")]
    BadUrl(String),
    /// The agent answered with an error.
    #[error("{message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The agent's error code.
        code: ErrorCode,
        /// The agent's message.
        message: String,
    },
    /// The agent did not answer in time.
    #[error("lqxd did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection failed midway.
    #[error("connection to lqxd failed")]
    Transport(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The agent's answer was not what this client understands.
    #[error("unexpected answer from lqxd (HTTP {status}): {detail}")]
    Protocol {
        /// HTTP status.
        status: u16,
        /// What was wrong.
        detail: String,
    },
}

/// A client of one agent.
#[derive(Clone, Debug)]
pub struct Client {
    endpoint: Endpoint,
    timeout: Duration,
    headers: Vec<(String, String)>,
}

/// Where the agent is reached.
#[derive(Clone)]
enum Endpoint {
    Unix(PathBuf),
    Https {
        url: String,
        host: String,
        port: u16,
        tls: Arc<rustls::ClientConfig>,
    },
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "unix:{}", path.display()),
            Endpoint::Https { url, .. } => f.write_str(url),
        }
    }
}

/// Any byte stream hyper can run a connection over.
pub trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

impl Client {
    /// A client of the agent listening on `socket`.
    pub fn unix(socket: impl Into<PathBuf>) -> Self {
        Self {
            endpoint: Endpoint::Unix(socket.into()),
            timeout: Duration::from_secs(30),
            headers: Vec::new(),
        }
    }

    /// A client of the remote API at `url` (`https://HOST[:PORT]`, port
    /// 8443 when left out), presenting the certificate of `tls`.
    pub fn https(url: &str, tls: Arc<rustls::ClientConfig>) -> Result<Self, ClientError> {
        let (host, port) = parse_url(url)?;
        Ok(Self {
            endpoint: Endpoint::Https {
                url: url.trim_end_matches('/').to_owned(),
                host,
                port,
                tls,
            },
            timeout: Duration::from_secs(30),
            headers: Vec::new(),
        })
    }

    /// Sends `name: value` with every request (e.g.
    /// [`lqx_api::TARGET_HOST_HEADER`] to reach another member of the
    /// cluster through this host).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A client of the remote API at `url` with the admin bundle in `dir`
    /// (see [`lqx_pki::bundle`]).
    pub fn remote(url: &str, bundle_dir: &Path) -> Result<Self, ClientError> {
        // A mistyped URL is the likelier mistake; say so before the bundle.
        parse_url(url)?;
        let bundle_err = |source: Box<dyn std::error::Error + Send + Sync>| ClientError::Bundle {
            dir: bundle_dir.to_owned(),
            source,
        };
        let bundle = lqx_pki::Bundle::read(bundle_dir).map_err(|e| bundle_err(Box::new(e)))?;
        let tls = bundle
            .client_config()
            .map_err(|e| bundle_err(Box::new(e)))?;
        Self::https(url, tls)
    }

    /// Where this client reaches the agent: a socket path or a URL.
    pub fn target(&self) -> String {
        match &self.endpoint {
            Endpoint::Unix(path) => path.display().to_string(),
            Endpoint::Https { url, .. } => url.clone(),
        }
    }

    /// `GET /v1/host`.
    pub async fn host(&self) -> Result<HostInfo, ClientError> {
        self.call(Method::GET, "/v1/host", None::<&()>).await
    }

    /// `GET /v1/agent`.
    pub async fn agent(&self) -> Result<AgentInfo, ClientError> {
        self.call(Method::GET, "/v1/agent", None::<&()>).await
    }

    /// `PATCH /v1/host/labels`.
    pub async fn patch_labels(&self, patch: &LabelsPatch) -> Result<Labels, ClientError> {
        self.call(Method::PATCH, "/v1/host/labels", Some(patch))
            .await
    }

    /// `GET /v1/install`.
    pub async fn install_info(&self) -> Result<InstallInfo, ClientError> {
        self.call(Method::GET, "/v1/install", None::<&()>).await
    }

    /// `POST /v1/install`.
    pub async fn install(&self, request: &InstallRequest) -> Result<InstallProgress, ClientError> {
        self.call(Method::POST, "/v1/install", Some(request)).await
    }

    /// `POST /v1/host/power`.
    pub async fn power(&self, action: PowerAction) -> Result<(), ClientError> {
        self.call_empty(
            Method::POST,
            "/v1/host/power",
            Some(&PowerRequest { action }),
        )
        .await
    }

    /// `GET /v1/host/network`.
    pub async fn network(&self) -> Result<NetworkStatus, ClientError> {
        self.call(Method::GET, "/v1/host/network", None::<&()>)
            .await
    }

    /// `PUT /v1/host/network`: saves the desired configuration (not applied).
    pub async fn set_network(&self, config: &NetworkConfig) -> Result<NetworkStatus, ClientError> {
        self.call(Method::PUT, "/v1/host/network", Some(config))
            .await
    }

    /// `POST /v1/host/network/apply`.
    pub async fn apply_network(
        &self,
        request: &ApplyRequest,
    ) -> Result<NetworkStatus, ClientError> {
        self.call(Method::POST, "/v1/host/network/apply", Some(request))
            .await
    }

    /// `POST /v1/host/network/confirm`.
    pub async fn confirm_network(&self) -> Result<NetworkStatus, ClientError> {
        self.call(Method::POST, "/v1/host/network/confirm", None::<&()>)
            .await
    }

    /// `POST /v1/host/network/revert`.
    pub async fn revert_network(&self) -> Result<NetworkStatus, ClientError> {
        self.call(Method::POST, "/v1/host/network/revert", None::<&()>)
            .await
    }

    /// `GET /v1/ovn/chassis`.
    pub async fn ovn_chassis(&self) -> Result<ChassisStatus, ClientError> {
        self.call(Method::GET, "/v1/ovn/chassis", None::<&()>).await
    }

    /// `POST /v1/ovn/chassis`.
    pub async fn register_chassis(
        &self,
        request: &ChassisRequest,
    ) -> Result<ChassisStatus, ClientError> {
        self.call(Method::POST, "/v1/ovn/chassis", Some(request))
            .await
    }

    /// `DELETE /v1/ovn/chassis`.
    pub async fn unregister_chassis(&self) -> Result<ChassisStatus, ClientError> {
        self.call(Method::DELETE, "/v1/ovn/chassis", None::<&()>)
            .await
    }

    /// `GET /v1/ceph`.
    pub async fn ceph(&self) -> Result<CephStatus, ClientError> {
        self.call(Method::GET, "/v1/ceph", None::<&()>).await
    }

    /// `POST /v1/ceph`.
    pub async fn join_ceph(&self, request: &CephJoinRequest) -> Result<CephStatus, ClientError> {
        self.call(Method::POST, "/v1/ceph", Some(request)).await
    }

    /// `DELETE /v1/ceph`.
    pub async fn leave_ceph(&self) -> Result<CephStatus, ClientError> {
        self.call(Method::DELETE, "/v1/ceph", None::<&()>).await
    }

    /// `GET /v1/cluster`.
    pub async fn cluster(&self) -> Result<ClusterStatus, ClientError> {
        self.call(Method::GET, "/v1/cluster", None::<&()>).await
    }

    /// `POST /v1/cluster`.
    pub async fn init_cluster(
        &self,
        request: &ClusterInitRequest,
    ) -> Result<ClusterStatus, ClientError> {
        self.call(Method::POST, "/v1/cluster", Some(request)).await
    }

    /// `POST /v1/cluster/tokens`.
    pub async fn create_token(&self, request: &TokenRequest) -> Result<TokenCreated, ClientError> {
        self.call(Method::POST, "/v1/cluster/tokens", Some(request))
            .await
    }

    /// `POST /v1/cluster/join`.
    pub async fn join_cluster(&self, request: &JoinRequest) -> Result<ClusterStatus, ClientError> {
        self.call(Method::POST, "/v1/cluster/join", Some(request))
            .await
    }

    /// `POST /v1/cluster/leave`.
    pub async fn leave_cluster(
        &self,
        request: &LeaveRequest,
    ) -> Result<ClusterStatus, ClientError> {
        self.call(Method::POST, "/v1/cluster/leave", Some(request))
            .await
    }

    /// `DELETE /v1/cluster/members/{host}`: the members left.
    pub async fn remove_member(&self, host: &str, force: bool) -> Result<Vec<Member>, ClientError> {
        let path = format!("/v1/cluster/members/{}?force={force}", percent_encode(host));
        self.call(Method::DELETE, &path, None::<&()>).await
    }

    /// `GET /v1/cluster/members`.
    pub async fn members(&self) -> Result<Vec<Member>, ClientError> {
        self.call(Method::GET, "/v1/cluster/members", None::<&()>)
            .await
    }

    /// `GET /v1/vms`.
    pub async fn vms(&self) -> Result<VmList, ClientError> {
        self.call(Method::GET, "/v1/vms", None::<&()>).await
    }

    /// `POST /v1/vms`.
    pub async fn create_vm(&self, request: &VmCreate) -> Result<Vm, ClientError> {
        self.call(Method::POST, "/v1/vms", Some(request)).await
    }

    /// `GET /v1/vms/{vm}`.
    pub async fn vm(&self, vm: &str) -> Result<Vm, ClientError> {
        let path = format!("/v1/vms/{}", percent_encode(vm));
        self.call(Method::GET, &path, None::<&()>).await
    }

    /// `POST /v1/vms/{vm}/{action}` for `start`, `stop` and `reboot`.
    pub async fn vm_action(&self, vm: &str, action: &str) -> Result<Vm, ClientError> {
        let path = format!("/v1/vms/{}/{action}", percent_encode(vm));
        self.call(Method::POST, &path, None::<&()>).await
    }

    /// `POST /v1/vms/{vm}/shutdown`.
    pub async fn shutdown_vm(
        &self,
        vm: &str,
        request: &ShutdownRequest,
    ) -> Result<ShutdownDone, ClientError> {
        let path = format!("/v1/vms/{}/shutdown", percent_encode(vm));
        self.call(Method::POST, &path, Some(request)).await
    }

    /// `DELETE /v1/vms/{vm}`.
    pub async fn delete_vm(&self, vm: &str, how: VmDeleteQuery) -> Result<(), ClientError> {
        let path = format!(
            "/v1/vms/{}?force={}&disks={}",
            percent_encode(vm),
            how.force,
            how.disks
        );
        self.call_empty(Method::DELETE, &path, None::<&()>).await
    }

    /// `PUT /v1/vms/{vm}/cdrom`, or `DELETE` with `None`.
    pub async fn set_cdrom(
        &self,
        vm: &str,
        iso: Option<&PoolVolumeRef>,
    ) -> Result<Vm, ClientError> {
        let path = format!("/v1/vms/{}/cdrom", percent_encode(vm));
        match iso {
            Some(iso) => self.call(Method::PUT, &path, Some(iso)).await,
            None => self.call(Method::DELETE, &path, None::<&()>).await,
        }
    }

    /// `GET /v1/pools`.
    pub async fn pools(&self) -> Result<Vec<Pool>, ClientError> {
        self.call(Method::GET, "/v1/pools", None::<&()>).await
    }

    /// `POST /v1/pools`.
    pub async fn create_pool(&self, request: &PoolCreate) -> Result<Pool, ClientError> {
        self.call(Method::POST, "/v1/pools", Some(request)).await
    }

    /// `GET /v1/pools/{pool}`.
    pub async fn pool(&self, pool: &str) -> Result<Pool, ClientError> {
        let path = format!("/v1/pools/{}", percent_encode(pool));
        self.call(Method::GET, &path, None::<&()>).await
    }

    /// `DELETE /v1/pools/{pool}`.
    pub async fn delete_pool(&self, pool: &str) -> Result<(), ClientError> {
        let path = format!("/v1/pools/{}", percent_encode(pool));
        self.call_empty(Method::DELETE, &path, None::<&()>).await
    }

    /// `POST /v1/pools/{pool}/volumes`.
    pub async fn create_pool_volume(
        &self,
        pool: &str,
        request: &PoolVolumeCreate,
    ) -> Result<PoolVolume, ClientError> {
        let path = format!("/v1/pools/{}/volumes", percent_encode(pool));
        self.call(Method::POST, &path, Some(request)).await
    }

    /// `POST /v1/pools/{pool}/volumes/{volume}/resize`.
    pub async fn resize_pool_volume(
        &self,
        pool: &str,
        volume: &str,
        size_bytes: u64,
    ) -> Result<PoolVolume, ClientError> {
        let path = format!("{}/resize", pool_volume_path(pool, volume));
        self.call(Method::POST, &path, Some(&PoolVolumeResize { size_bytes }))
            .await
    }

    /// `DELETE /v1/pools/{pool}/volumes/{volume}`.
    pub async fn delete_pool_volume(&self, pool: &str, volume: &str) -> Result<(), ClientError> {
        self.call_empty(Method::DELETE, &pool_volume_path(pool, volume), None::<&()>)
            .await
    }

    /// `PUT /v1/pools/{pool}/volumes/{volume}/content`: uploads `file`,
    /// streamed. Not bounded by this client's timeout: it takes as long as
    /// the bytes take.
    pub async fn upload_pool_volume(
        &self,
        pool: &str,
        volume: &str,
        file: &Path,
    ) -> Result<PoolVolume, ClientError> {
        use futures::StreamExt as _;
        let opened = tokio::fs::File::open(file)
            .await
            .map_err(|e| ClientError::Protocol {
                status: 0,
                detail: format!("cannot read {}: {e}", file.display()),
            })?;
        let length = opened.metadata().await.map(|m| m.len()).unwrap_or(0);
        let chunks = futures::stream::unfold(opened, |mut file| async move {
            use tokio::io::AsyncReadExt as _;
            let mut buf = vec![0u8; 1 << 20];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(hyper::body::Frame::data(Bytes::from(buf))), file))
                }
                Err(e) => Some((Err(e), file)),
            }
        })
        .boxed();
        let body = http_body_util::StreamBody::new(chunks);
        let stream = self.connect().await?;
        let transport = |e: hyper::Error| ClientError::Transport(Box::new(e));
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(transport)?;
        let driver = tokio::spawn(connection);
        let mut request = Request::builder()
            .method(Method::PUT)
            .uri(format!("{}/content", pool_volume_path(pool, volume)))
            .header(hyper::header::HOST, "lqxd")
            .header(hyper::header::CONTENT_TYPE, "application/octet-stream")
            .header(hyper::header::CONTENT_LENGTH, length);
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request
            .body(body)
            .map_err(|e| ClientError::Transport(Box::new(e)))?;
        let response = sender.send_request(request).await.map_err(transport)?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(transport)?
            .to_bytes();
        driver.abort();
        decode(status, &bytes)
    }

    /// Opens a WebSocket on `path` (a VM's `console` or `serial`).
    pub async fn websocket(
        &self,
        path: &str,
    ) -> Result<tokio_tungstenite::WebSocketStream<Box<dyn Stream>>, ClientError> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        let stream = self.connect().await?;
        let mut request = format!("ws://lqxd{path}")
            .into_client_request()
            .map_err(|e| ClientError::Transport(Box::new(e)))?;
        for (name, value) in &self.headers {
            let (Ok(name), Ok(value)) = (
                hyper::header::HeaderName::from_bytes(name.as_bytes()),
                value.parse(),
            ) else {
                continue;
            };
            request.headers_mut().insert(name, value);
        }
        match tokio_tungstenite::client_async(request, stream).await {
            Ok((socket, _)) => Ok(socket),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let status = response.status();
                let body = response.body().clone().unwrap_or_default();
                Err(decode::<serde_json::Value>(status, &body).err().unwrap_or(
                    ClientError::Protocol {
                        status: status.as_u16(),
                        detail: "the agent refused the WebSocket".into(),
                    },
                ))
            }
            Err(e) => Err(ClientError::Transport(Box::new(e))),
        }
    }

    /// `GET /v1/volumes/{pool}`.
    pub async fn volumes(&self, pool: &str) -> Result<Vec<VolumeSummary>, ClientError> {
        let path = format!("/v1/volumes/{}", percent_encode(pool));
        self.call(Method::GET, &path, None::<&()>).await
    }

    /// `POST /v1/volumes/{pool}`.
    pub async fn create_volume(
        &self,
        pool: &str,
        request: &VolumeCreate,
    ) -> Result<Volume, ClientError> {
        let path = format!("/v1/volumes/{}", percent_encode(pool));
        self.call(Method::POST, &path, Some(request)).await
    }

    /// `GET /v1/volumes/{pool}/{name}`.
    pub async fn volume(&self, pool: &str, name: &str) -> Result<Volume, ClientError> {
        self.call(Method::GET, &volume_path(pool, name), None::<&()>)
            .await
    }

    /// `DELETE /v1/volumes/{pool}/{name}`.
    pub async fn delete_volume(
        &self,
        pool: &str,
        name: &str,
        how: VolumeDeleteQuery,
    ) -> Result<(), ClientError> {
        let path = format!(
            "{}?snapshots={}&flatten_clones={}",
            volume_path(pool, name),
            how.snapshots,
            how.flatten_clones
        );
        self.call_empty(Method::DELETE, &path, None::<&()>).await
    }

    /// `POST /v1/volumes/{pool}/{name}/resize`.
    pub async fn resize_volume(
        &self,
        pool: &str,
        name: &str,
        request: &VolumeResize,
    ) -> Result<Volume, ClientError> {
        let path = format!("{}/resize", volume_path(pool, name));
        self.call(Method::POST, &path, Some(request)).await
    }

    /// `POST /v1/volumes/{pool}/{name}/snapshots`.
    pub async fn create_snapshot(
        &self,
        pool: &str,
        name: &str,
        snapshot: &str,
    ) -> Result<Volume, ClientError> {
        let path = format!("{}/snapshots", volume_path(pool, name));
        let body = SnapshotCreate {
            name: snapshot.to_owned(),
        };
        self.call(Method::POST, &path, Some(&body)).await
    }

    /// `DELETE /v1/volumes/{pool}/{name}/snapshots/{snapshot}`.
    pub async fn delete_snapshot(
        &self,
        pool: &str,
        name: &str,
        snapshot: &str,
    ) -> Result<Volume, ClientError> {
        let path = format!(
            "{}/snapshots/{}",
            volume_path(pool, name),
            percent_encode(snapshot)
        );
        self.call(Method::DELETE, &path, None::<&()>).await
    }

    /// `POST /v1/volumes/{pool}/{name}/snapshots/{snapshot}/clone`.
    pub async fn clone_snapshot(
        &self,
        pool: &str,
        name: &str,
        snapshot: &str,
        target: &CloneRequest,
    ) -> Result<Volume, ClientError> {
        let path = format!(
            "{}/snapshots/{}/clone",
            volume_path(pool, name),
            percent_encode(snapshot)
        );
        self.call(Method::POST, &path, Some(target)).await
    }

    /// `GET /v1/host/diagnostics`.
    pub async fn diagnostics(&self) -> Result<Diagnostics, ClientError> {
        self.call(Method::GET, "/v1/host/diagnostics", None::<&()>)
            .await
    }

    /// `GET /v1/host/journal`: the newest `lines` lines of `unit`.
    pub async fn journal(&self, unit: &str, lines: u32) -> Result<JournalLines, ClientError> {
        let path = format!(
            "/v1/host/journal?unit={}&lines={lines}",
            percent_encode(unit)
        );
        self.call(Method::GET, &path, None::<&()>).await
    }

    /// `GET /v1/auth`.
    pub async fn auth(&self) -> Result<AuthStatus, ClientError> {
        self.call(Method::GET, "/v1/auth", None::<&()>).await
    }

    /// `PUT /v1/auth/password`.
    pub async fn set_password(&self, request: &SetPasswordRequest) -> Result<(), ClientError> {
        self.call_empty(Method::PUT, "/v1/auth/password", Some(request))
            .await
    }

    /// `POST /v1/auth/verify`: `Ok` when the password is right.
    pub async fn verify_password(&self, password: &str) -> Result<(), ClientError> {
        let request = VerifyRequest {
            password: password.into(),
        };
        self.call_empty(Method::POST, "/v1/auth/verify", Some(&request))
            .await
    }

    /// `GET /v1/host/ssh`.
    pub async fn ssh(&self) -> Result<SshStatus, ClientError> {
        self.call(Method::GET, "/v1/host/ssh", None::<&()>).await
    }

    /// `POST /v1/host/ssh`.
    pub async fn enable_ssh(&self, request: &SshEnableRequest) -> Result<SshStatus, ClientError> {
        self.call(Method::POST, "/v1/host/ssh", Some(request)).await
    }

    /// `DELETE /v1/host/ssh`.
    pub async fn disable_ssh(&self) -> Result<SshStatus, ClientError> {
        self.call(Method::DELETE, "/v1/host/ssh", None::<&()>).await
    }

    /// Calls a route that answers success without a body.
    pub async fn call_empty<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<(), ClientError> {
        let body = body.map(encode).transpose()?;
        let (status, bytes) = self.raw(method, path, body).await?;
        if status.is_success() {
            Ok(())
        } else {
            decode::<serde_json::Value>(status, &bytes).map(drop)
        }
    }

    /// Calls any route with a JSON body and decodes the JSON answer.
    pub async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let body = body.map(encode).transpose()?;
        let (status, bytes) = self.raw(method, path, body).await?;
        decode(status, &bytes)
    }

    /// Sends a request with a raw body; returns the status and raw answer.
    /// Exposed for tests that send what a well-behaved client never would.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        tokio::time::timeout(self.timeout, self.exchange(method, path, body))
            .await
            .map_err(|_| ClientError::Timeout(self.timeout))?
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        let stream = self.connect().await?;
        let transport = |e: hyper::Error| ClientError::Transport(Box::new(e));
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(transport)?;
        let driver = tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "lqxd");
        if body.is_some() {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| ClientError::Transport(Box::new(e)))?;
        let response = sender.send_request(request).await.map_err(transport)?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(transport)?
            .to_bytes();
        driver.abort();
        Ok((status, bytes))
    }

    async fn connect(&self) -> Result<Box<dyn Stream>, ClientError> {
        match &self.endpoint {
            Endpoint::Unix(path) => match tokio::net::UnixStream::connect(path).await {
                Ok(stream) => Ok(Box::new(stream)),
                Err(source) => Err(unix_connect_error(path, source)),
            },
            Endpoint::Https {
                url,
                host,
                port,
                tls,
            } => {
                let unreachable = |source| ClientError::Unreachable {
                    url: url.clone(),
                    source,
                };
                let connecting = tokio::net::TcpStream::connect((host.as_str(), *port));
                let tcp = tokio::time::timeout(CONNECT_TIMEOUT.min(self.timeout), connecting)
                    .await
                    .map_err(|_| {
                        unreachable(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("no answer to a connection within {CONNECT_TIMEOUT:?}"),
                        ))
                    })?
                    .map_err(unreachable)?;
                let name = rustls::pki_types::ServerName::try_from(host.clone())
                    .map_err(|e| ClientError::BadUrl(format!("{url}: {e}")))?;
                let stream = tokio_rustls::TlsConnector::from(Arc::clone(tls))
                    .connect(name, tcp)
                    .await
                    .map_err(|source| ClientError::Tls {
                        url: url.clone(),
                        source,
                    })?;
                Ok(Box::new(stream))
            }
        }
    }
}

/// Splits `https://HOST[:PORT][/]` (HOST may be `[IPv6]`).
fn parse_url(url: &str) -> Result<(String, u16), ClientError> {
    let bad = |why: &str| ClientError::BadUrl(format!("{url}: {why}"));
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| bad("the remote API is reached with https://HOST[:PORT]"))?;
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') || authority.contains('@') {
        return Err(bad("expected https://HOST[:PORT] with no path"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| bad("expected :PORT after ]"))?,
                ),
            ),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("the port must be 1–65535"))?,
        None => DEFAULT_PORT,
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    Ok((host.to_owned(), port))
}

fn unix_connect_error(path: &Path, source: io::Error) -> ClientError {
    let path = path.to_owned();
    match source.kind() {
        io::ErrorKind::PermissionDenied => ClientError::PermissionDenied { path, source },
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
            ClientError::NotRunning { path, source }
        }
        _ => ClientError::Transport(Box::new(source)),
    }
}

/// Decodes an answer: the expected type on success, the error envelope
/// otherwise.
fn encode<B: Serialize>(body: &B) -> Result<Vec<u8>, ClientError> {
    serde_json::to_vec(body).map_err(|e| ClientError::Protocol {
        status: 0,
        detail: format!("cannot encode request: {e}"),
    })
}

/// Escapes a query value: unit names are plain, but an operator can type
/// anything.
fn volume_path(pool: &str, name: &str) -> String {
    format!(
        "/v1/volumes/{}/{}",
        percent_encode(pool),
        percent_encode(name)
    )
}

fn pool_volume_path(pool: &str, volume: &str) -> String {
    format!(
        "/v1/pools/{}/volumes/{}",
        percent_encode(pool),
        percent_encode(volume)
    )
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'@' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decode<T: DeserializeOwned>(status: StatusCode, bytes: &[u8]) -> Result<T, ClientError> {
    if status.is_success() {
        return serde_json::from_slice(bytes).map_err(|e| ClientError::Protocol {
            status: status.as_u16(),
            detail: e.to_string(),
        });
    }
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => Err(ClientError::Api {
            status: status.as_u16(),
            code: body.error.code,
            message: body.error.message,
        }),
        Err(_) => Err(ClientError::Protocol {
            status: status.as_u16(),
            detail: String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn absent_socket_means_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let err = Client::unix(dir.path().join("nope.sock"))
            .host()
            .await
            .unwrap_err();
        assert!(matches!(err, ClientError::NotRunning { .. }), "{err}");
        assert!(err.to_string().contains("lqxd is not running"));
    }

    #[tokio::test]
    async fn stale_socket_means_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let err = Client::unix(&path).host().await.unwrap_err();
        assert!(matches!(err, ClientError::NotRunning { .. }), "{err}");
    }

    #[test]
    fn error_envelope_becomes_api_error() {
        let err = decode::<Labels>(
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"error":{"code":"invalid_value","message":"bad key"}}"#,
        )
        .unwrap_err();
        match err {
            ClientError::Api {
                status,
                code,
                message,
            } => {
                assert_eq!(
                    (status, code, message.as_str()),
                    (422, ErrorCode::InvalidValue, "bad key")
                );
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn remote_urls() {
        let ok = |url: &str| parse_url(url).unwrap();
        assert_eq!(ok("https://10.0.0.1"), ("10.0.0.1".into(), 8443));
        assert_eq!(ok("https://hv1:9443/"), ("hv1".into(), 9443));
        assert_eq!(ok("https://[fd00::1]:8443"), ("fd00::1".into(), 8443));
        assert_eq!(ok("https://[fd00::1]"), ("fd00::1".into(), 8443));
        for bad in [
            "http://hv1",
            "hv1:8443",
            "https://",
            "https://hv1:0",
            "https://hv1:port",
            "https://hv1/v1/host",
            "https://[fd00::1",
            "https://user@hv1",
        ] {
            let err = parse_url(bad).unwrap_err();
            assert!(matches!(err, ClientError::BadUrl(_)), "{bad}: {err}");
        }
    }

    #[test]
    fn non_json_error_is_protocol_error() {
        let err = decode::<Labels>(StatusCode::BAD_GATEWAY, b"<html>").unwrap_err();
        assert!(matches!(err, ClientError::Protocol { status: 502, .. }));
    }
}
