//! This host in a cluster of hosts: creating the cluster (the host's
//! authority becomes the cluster's, its etcd member the first voter),
//! join tokens, the heartbeat that keeps the host `ready` in the member
//! list, and bringing the member back after a restart.

use crate::agent::{AgentError, persist};
use lqx_api::{
    ClusterConfig, ClusterInitRequest, ClusterStatus, EtcdRole, Member, MemberVersions,
    TokenCreated, TokenRequest,
};
use lqx_core::cluster::{self, ClusterState, Heartbeat, HostRecord, TokenRecord};
use lqx_core::cluster_token::{ID_BYTES, JoinToken, SECRET_BYTES, hex};
use lqx_core::document::Document as _;
use lqx_core::pki_state::PkiState;
use lqx_etcd::member::PEER_COMMON_NAME;
use lqx_etcd::{
    Bootstrap, ClientTls, ClusterStore as _, EtcdError, EtcdStore, MemberConfig, MemberProcess,
    TlsFiles,
};
use lqx_store::StateDir;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Mutex;
use uuid::Uuid;

/// A heartbeat's lease: a host is unreachable this long after its last.
const HEARTBEAT_TTL: Duration = Duration::from_secs(6);
/// Between heartbeats.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// How long a new member may take to serve.
const MEMBER_READY: Duration = Duration::from_secs(30);

/// How the host's etcd member runs.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// The etcd binary.
    pub etcd_bin: PathBuf,
    /// etcd's client port.
    pub client_port: u16,
    /// etcd's peer port.
    pub peer_port: u16,
    /// Bounds every cluster store request.
    pub timeout: Duration,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            etcd_bin: "etcd".into(),
            client_port: lqx_etcd::member::DEFAULT_CLIENT_PORT,
            peer_port: lqx_etcd::member::DEFAULT_PEER_PORT,
            timeout: Duration::from_secs(5),
        }
    }
}

/// What runs while the host is a member.
struct Running {
    member: Option<MemberProcess>,
    store: EtcdStore,
    heartbeat: tokio::task::AbortHandle,
}

struct Inner {
    state: ClusterState,
    running: Option<Running>,
}

/// The cluster service.
pub struct ClusterService {
    store: Arc<StateDir>,
    host_id: Uuid,
    options: ClusterOptions,
    // Held across every change, so inits, joins and leaves do not
    // interleave.
    inner: Mutex<Inner>,
}

/// Where the host's API answers and under which name, for records and
/// tokens.
#[derive(Clone, Debug)]
pub struct HostAddress {
    /// The address the cluster reaches this host on.
    pub ip: IpAddr,
    /// The remote API's port.
    pub api_port: u16,
    /// The hostname.
    pub hostname: String,
}

impl ClusterService {
    /// Loads `cluster.json`; [`ClusterService::resume`] restarts the member.
    pub fn open(
        store: Arc<StateDir>,
        host_id: Uuid,
        options: ClusterOptions,
    ) -> Result<Self, AgentError> {
        let state = store
            .load::<ClusterState>()
            .map_err(AgentError::Store)?
            .unwrap_or_default();
        Ok(Self {
            store,
            host_id,
            options,
            inner: Mutex::new(Inner {
                state,
                running: None,
            }),
        })
    }

    fn etcd_dir(&self) -> PathBuf {
        self.store.path().join("etcd")
    }

    fn tls_files(&self) -> TlsFiles {
        let dir = self.etcd_dir().join("tls");
        TlsFiles {
            ca: dir.join("ca.crt"),
            cert: dir.join("etcd.crt"),
            key: dir.join("etcd.key"),
        }
    }

    fn member_config(&self, ip: IpAddr, bootstrap: Bootstrap) -> MemberConfig {
        MemberConfig {
            name: self.host_id.to_string(),
            data_dir: self.etcd_dir().join("data"),
            address: ip,
            client_port: self.options.client_port,
            peer_port: self.options.peer_port,
            tls: self.tls_files(),
            bootstrap,
        }
    }

    /// The cluster membership and whether the store answers.
    pub async fn status(&self) -> ClusterStatus {
        // The store is asked without the lock: a slow or unreachable
        // cluster must not hold up inits, tokens or other readers.
        let (config, store) = {
            let inner = self.inner.lock().await;
            let store = inner.running.as_ref().map(|r| r.store.clone());
            (inner.state.config.clone(), store)
        };
        let (reachable, error) = match (&config, store) {
            (None, _) => (false, None),
            (Some(_), None) => (false, Some("the cluster store is not running".into())),
            (Some(_), Some(store)) => match store.members().await {
                Ok(_) => (true, None),
                Err(e) => (false, Some(crate::api::error::chain(&e))),
            },
        };
        ClusterStatus {
            cluster: config,
            store_reachable: reachable,
            store_error: error,
        }
    }

    /// Creates a cluster with this host as its first member: the host's
    /// authority becomes the cluster's, its etcd member starts as the only
    /// voter, and the host registers. Nothing is persisted unless all of
    /// that worked; a failure stops the member and removes its data.
    pub async fn init(
        &self,
        request: &ClusterInitRequest,
        host: &HostAddress,
    ) -> Result<ClusterStatus, AgentError> {
        let name = request
            .name
            .clone()
            .unwrap_or_else(|| cluster::DEFAULT_NAME.into());
        let voters = request.voters.unwrap_or(cluster::DEFAULT_VOTERS);
        let problems: Vec<String> = [cluster::check_name(&name), cluster::check_voters(voters)]
            .into_iter()
            .filter_map(Result::err)
            .collect();
        if !problems.is_empty() {
            return Err(AgentError::Invalid(problems.join("; ")));
        }
        let mut inner = self.inner.lock().await;
        if let Some(config) = &inner.state.config {
            return Err(AgentError::Conflict(format!(
                "this host is already a member of cluster {}",
                config.name
            )));
        }
        let pki = self
            .store
            .load::<PkiState>()
            .map_err(AgentError::Store)?
            .ok_or_else(|| {
                AgentError::Unavailable(
                    "the host has no certificate authority yet (the remote API is not served)"
                        .into(),
                )
            })?;
        let id = Uuid::new_v4();
        let etcd_identity = self.issue_etcd(&pki, host.ip)?;
        self.write_tls(&pki.authority.cert_pem, &etcd_identity)?;
        let data = self.etcd_dir().join("data");
        // A data directory left by an earlier failed attempt would make
        // etcd ignore the bootstrap flags.
        remove_dir(&data)?;
        let config = self.member_config(
            host.ip,
            Bootstrap::New {
                token: id.to_string(),
            },
        );
        let started = self
            .start_and_register(&config, &pki, &etcd_identity, host, EtcdRole::Voter)
            .await;
        let (member, store) = match started {
            Ok(running) => running,
            Err(e) => {
                let _ = remove_dir(&data);
                return Err(e);
            }
        };
        let fingerprint = lqx_pki::fingerprint(&pki.authority.cert_pem)
            .map_err(|e| AgentError::Unavailable(format!("the authority: {e}")))?;
        let next = ClusterState {
            schema_version: ClusterState::SCHEMA_VERSION,
            config: Some(ClusterConfig {
                id,
                name,
                fingerprint,
                role: EtcdRole::Voter,
                voters,
                endpoints: vec![config.client_url()],
                joined_at: OffsetDateTime::now_utc(),
            }),
            etcd_cert_pem: Some(etcd_identity.cert_pem.clone()),
            etcd_key_pem: Some(etcd_identity.key_pem.clone()),
        };
        if let Err(e) = persist(&self.store, &next).await {
            member.stop().await;
            let _ = remove_dir(&data);
            return Err(e);
        }
        tracing::info!(cluster = %id, "created the cluster");
        inner.state = next;
        inner.running = Some(self.run(Some(member), store));
        drop(inner);
        Ok(self.status().await)
    }

    /// Starts the member, waits until it serves, and writes this host's
    /// record. On failure the member is stopped.
    async fn start_and_register(
        &self,
        config: &MemberConfig,
        pki: &PkiState,
        etcd: &lqx_pki::Identity,
        host: &HostAddress,
        role: EtcdRole,
    ) -> Result<(MemberProcess, EtcdStore), AgentError> {
        let mut member = MemberProcess::spawn(
            &self.options.etcd_bin,
            config,
            &self.etcd_dir().join("etcd.log"),
        )
        .map_err(etcd_error)?;
        let result = async {
            let store = self
                .connect(&[config.client_url()], &pki.authority.cert_pem, etcd)
                .await?;
            let ready = tokio::select! {
                ready = store.wait_ready(MEMBER_READY) => ready.map_err(etcd_error),
                exited = wait_exit(&mut member) => Err(AgentError::Unavailable(exited)),
            };
            ready?;
            let etcd_version = store.version().await.map_err(etcd_error)?;
            let record = HostRecord {
                id: self.host_id,
                hostname: host.hostname.clone(),
                address: SocketAddr::new(host.ip, host.api_port).to_string(),
                etcd_role: role,
                etcd_member: None,
                versions: MemberVersions {
                    agent: env!("CARGO_PKG_VERSION").into(),
                    etcd: Some(etcd_version),
                },
                registered_at: OffsetDateTime::now_utc(),
            };
            store
                .put(&cluster::host_key(self.host_id), to_json(&record), None)
                .await
                .map_err(etcd_error)?;
            Ok(store)
        }
        .await;
        match result {
            Ok(store) => Ok((member, store)),
            Err(e) => {
                member.stop().await;
                Err(e)
            }
        }
    }

    async fn connect(
        &self,
        endpoints: &[String],
        ca_pem: &str,
        identity: &lqx_pki::Identity,
    ) -> Result<EtcdStore, AgentError> {
        let tls = ClientTls {
            ca_pem: ca_pem.to_owned(),
            cert_pem: identity.cert_pem.clone(),
            key_pem: identity.key_pem.clone(),
        };
        EtcdStore::connect(endpoints, &tls, self.options.timeout)
            .await
            .map_err(etcd_error)
    }

    fn issue_etcd(&self, pki: &PkiState, ip: IpAddr) -> Result<lqx_pki::Identity, AgentError> {
        let authority = lqx_pki::Authority::from_pem(
            &pki.authority.name,
            &pki.authority.cert_pem,
            &pki.authority.key_pem,
        )
        .map_err(|e| AgentError::Unavailable(format!("the authority: {e}")))?;
        let subject = lqx_pki::Subject {
            common_name: PEER_COMMON_NAME.into(),
            role: lqx_pki::Role::Host,
            dns_names: vec![],
            addresses: vec![ip],
        };
        authority
            .issue(&subject, OffsetDateTime::now_utc())
            .map(|issued| issued.identity)
            .map_err(|e| AgentError::Unavailable(format!("the etcd certificate: {e}")))
    }

    /// Writes the files etcd reads: the authority, its certificate, its key
    /// (0600), each atomically.
    fn write_tls(&self, ca_pem: &str, identity: &lqx_pki::Identity) -> Result<(), AgentError> {
        let files = self.tls_files();
        let dir = files.ca.parent().map(PathBuf::from).unwrap_or_default();
        lqx_store::atomic::private_dir(&dir).map_err(|e| {
            AgentError::Unavailable(format!("cannot create {}: {e}", dir.display()))
        })?;
        for (path, contents, mode) in [
            (&files.key, &identity.key_pem, 0o600),
            (&files.cert, &identity.cert_pem, 0o644),
            (&files.ca, &ca_pem.to_owned(), 0o644),
        ] {
            lqx_store::atomic::write_file(path, contents.as_bytes(), mode).map_err(|e| {
                AgentError::Unavailable(format!("cannot write {}: {e}", path.display()))
            })?;
        }
        Ok(())
    }

    /// Starts the heartbeat on `store`.
    fn run(&self, member: Option<MemberProcess>, store: EtcdStore) -> Running {
        let heartbeat = tokio::spawn(heartbeat(store.clone(), self.host_id)).abort_handle();
        Running {
            member,
            store,
            heartbeat,
        }
    }

    /// After a restart: starts the member again from its data directory
    /// and the heartbeat. Does not wait for the cluster: a member that
    /// cannot reach quorum yet keeps trying, and the member list tells.
    pub async fn resume(&self) {
        let mut inner = self.inner.lock().await;
        let (Some(config), Some(cert), Some(key)) = (
            inner.state.config.clone(),
            inner.state.etcd_cert_pem.clone(),
            inner.state.etcd_key_pem.clone(),
        ) else {
            return;
        };
        let identity = lqx_pki::Identity {
            cert_pem: cert,
            key_pem: key,
        };
        let result = async {
            let pki = self
                .store
                .load::<PkiState>()
                .map_err(AgentError::Store)?
                .ok_or_else(|| AgentError::Unavailable("pki.json is missing".into()))?;
            let member = match config.role {
                EtcdRole::Voter => {
                    let ip = own_ip(&config.endpoints)?;
                    self.write_tls(&pki.authority.cert_pem, &identity)?;
                    Some(
                        MemberProcess::spawn(
                            &self.options.etcd_bin,
                            &self.member_config(ip, Bootstrap::Restart),
                            &self.etcd_dir().join("etcd.log"),
                        )
                        .map_err(etcd_error)?,
                    )
                }
                EtcdRole::Client => None,
            };
            let store = self
                .connect(&config.endpoints, &pki.authority.cert_pem, &identity)
                .await?;
            Ok::<_, AgentError>((member, store))
        }
        .await;
        match result {
            Ok((member, store)) => {
                tracing::info!(cluster = %config.id, "rejoined the cluster store");
                inner.running = Some(self.run(member, store));
            }
            Err(error) => {
                tracing::error!(error = %crate::api::error::chain(&error), "cannot resume the cluster membership");
            }
        }
    }

    fn running_store(inner: &Inner) -> Result<EtcdStore, AgentError> {
        match (&inner.state.config, &inner.running) {
            (None, _) => Err(AgentError::Conflict(
                "this host is not a member of a cluster".into(),
            )),
            (Some(_), None) => Err(AgentError::Unavailable(
                "the cluster store is not running on this host".into(),
            )),
            (Some(_), Some(running)) => Ok(running.store.clone()),
        }
    }

    /// The cluster's hosts with their state.
    pub async fn members(&self) -> Result<Vec<Member>, AgentError> {
        let store = Self::running_store(&*self.inner.lock().await)?;
        // One read of every record: hosts and heartbeats from the same
        // revision, so a host is never listed against another moment's
        // heartbeats.
        let entries = store.list(cluster::ROOT).await.map_err(etcd_error)?;
        let mut hosts: Vec<HostRecord> = Vec::new();
        let mut alive = BTreeMap::new();
        let mut seen = BTreeMap::new();
        for entry in &entries {
            let Some(rest) = entry.key.strip_prefix(cluster::ROOT) else {
                continue;
            };
            let beat = |id: &str| {
                let id = id.parse::<Uuid>().ok()?;
                let beat: Heartbeat = serde_json::from_slice(&entry.value).ok()?;
                Some((id, beat))
            };
            match rest.split_once('/') {
                Some(("hosts", _)) => hosts.extend(serde_json::from_slice(&entry.value).ok()),
                Some(("alive", id)) => alive.extend(beat(id)),
                Some(("seen", id)) => seen.extend(beat(id)),
                _ => {}
            }
        }
        Ok(cluster::members(&hosts, &alive, &seen))
    }

    /// A single-use join token valid for the requested time, for joins
    /// through `addresses`.
    pub async fn create_token(
        &self,
        request: &TokenRequest,
        addresses: Vec<SocketAddr>,
    ) -> Result<TokenCreated, AgentError> {
        let ttl = request.ttl_seconds.unwrap_or(cluster::DEFAULT_TOKEN_TTL);
        cluster::check_token_ttl(ttl).map_err(AgentError::Invalid)?;
        let (store, fingerprint) = {
            let inner = self.inner.lock().await;
            let store = Self::running_store(&inner)?;
            let fingerprint = inner
                .state
                .config
                .as_ref()
                .map(|c| c.fingerprint.clone())
                .unwrap_or_default();
            (store, fingerprint)
        };
        let mut random = [0u8; ID_BYTES + SECRET_BYTES];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random)
            .map_err(|_| AgentError::Unavailable("no randomness for the token".into()))?;
        let token = JoinToken::new(addresses, &fingerprint, &random);
        let expires_at = OffsetDateTime::now_utc() + time::Duration::seconds(ttl as i64);
        let record = TokenRecord {
            secret_sha256: hex(
                ring::digest::digest(&ring::digest::SHA256, &random[ID_BYTES..]).as_ref(),
            ),
            expires_at,
            created_by: self.host_id,
        };
        let lease = store
            .grant(Duration::from_secs(ttl))
            .await
            .map_err(etcd_error)?;
        let created = store
            .create(
                &cluster::token_key(&token.id),
                to_json(&record),
                Some(lease),
            )
            .await
            .map_err(etcd_error)?;
        if !created {
            // 64 random bits colliding: refuse rather than overwrite.
            return Err(AgentError::Conflict("token id collision; try again".into()));
        }
        Ok(TokenCreated {
            token: token.encode(),
            id: token.id,
            fingerprint,
            expires_at,
        })
    }

    /// Stops the member and the heartbeat (the agent is stopping).
    pub async fn shutdown(&self) {
        if let Some(running) = self.inner.lock().await.running.take() {
            running.heartbeat.abort();
            if let Some(member) = running.member {
                member.stop().await;
            }
        }
    }
}

/// The address this host's member was configured with: a voter's own
/// endpoint comes first.
fn own_ip(endpoints: &[String]) -> Result<IpAddr, AgentError> {
    endpoints
        .first()
        .and_then(|url| url.strip_prefix("https://"))
        .and_then(|hostport| hostport.parse::<SocketAddr>().ok())
        .map(|a| a.ip())
        .ok_or_else(|| AgentError::Unavailable("cluster.json names no etcd endpoint".into()))
}

/// Heartbeats until aborted: a lease of [`HEARTBEAT_TTL`] carrying the
/// live key, renewed every [`HEARTBEAT_EVERY`], and the last heartbeat
/// kept. A lost lease (the store was unreachable too long) starts a new
/// one, and a new `up_since`.
async fn heartbeat(store: EtcdStore, host_id: Uuid) {
    let alive = cluster::alive_key(host_id);
    let seen = cluster::seen_key(host_id);
    let mut lease = None;
    let mut up_since = OffsetDateTime::now_utc();
    let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
    loop {
        tick.tick().await;
        let renewed = match lease {
            Some(id) => store.keep_alive(id).await.unwrap_or(false),
            None => false,
        };
        if !renewed {
            match store.grant(HEARTBEAT_TTL).await {
                Ok(id) => {
                    lease = Some(id);
                    up_since = OffsetDateTime::now_utc();
                }
                Err(error) => {
                    tracing::debug!(%error, "heartbeat: no lease");
                    lease = None;
                    continue;
                }
            }
        }
        let beat = Heartbeat {
            at: OffsetDateTime::now_utc(),
            up_since,
        };
        let written = async {
            store.put(&alive, to_json(&beat), lease).await?;
            store.put(&seen, to_json(&beat), None).await
        }
        .await;
        if let Err(error) = written {
            tracing::debug!(%error, "heartbeat not written");
            if matches!(error, EtcdError::NoLease) {
                lease = None;
            }
        }
    }
}

async fn wait_exit(member: &mut MemberProcess) -> String {
    loop {
        if let Some(exited) = member.exited() {
            return exited;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn remove_dir(dir: &std::path::Path) -> Result<(), AgentError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(AgentError::Unavailable(format!(
            "cannot remove {}: {e}",
            dir.display()
        ))),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

fn etcd_error(e: EtcdError) -> AgentError {
    AgentError::Cluster(e)
}
