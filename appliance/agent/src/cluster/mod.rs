//! This host in a cluster of hosts: creating the cluster (the host's
//! authority becomes the cluster's, its etcd member the first voter),
//! join tokens, admitting and joining hosts, leaving and removing them,
//! the heartbeat that keeps a host `ready` in the member list, and
//! bringing the membership back after a restart.
//!
//! - [`admit`]: a member's side of a join, on the store.
//! - `join`: the joining host's side.
//! - `depart`: leaving, removing another host, and a host finding out it
//!   was removed.
//! - `heartbeat`: the heartbeat and the periodic upkeep (endpoints, the
//!   member process).
//! - `local`: this host's etcd member, its files and process.
//! - `promote`: a client host taking a free voter's seat.

pub mod admit;
mod depart;
mod heartbeat;
mod join;
mod local;
mod promote;

use crate::agent::{AgentError, persist};
use crate::remote::RemoteTls;
use local::{etcd_error, remove_dir, wait_serving};
use lqx_api::{
    ClusterConfig, ClusterInitRequest, ClusterStatus, EtcdRole, Member, MemberVersions,
    PeerJoinRequest, PeerJoinResponse, TokenCreated, TokenRequest,
};
use lqx_core::cluster::{self, ClusterState, HostRecord, TokenRecord};
use lqx_core::cluster_token::{ID_BYTES, JoinToken, SECRET_BYTES, hex};
use lqx_core::document::Document as _;
use lqx_core::pki_state::{PkiState, StoredAuthority};
use lqx_etcd::{Bootstrap, ClusterStore as _, EtcdStore, MemberProcess};
use lqx_store::StateDir;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Mutex;
use uuid::Uuid;

/// How long a new member may take to serve.
const MEMBER_READY: Duration = Duration::from_secs(30);
/// How long a member waits for another host's voter join to finish
/// before admitting the next voter.
const ADMIT_PATIENCE: Duration = Duration::from_secs(40);

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
    /// The endpoints `store` is connected to.
    endpoints: Vec<String>,
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
    remote: OnceLock<Arc<RemoteTls>>,
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

/// Where a request for a member goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Located {
    /// This host.
    Here,
    /// Another member, at its API address.
    Member {
        /// Its id.
        id: Uuid,
        /// Its API address.
        address: SocketAddr,
    },
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
            remote: OnceLock::new(),
            inner: Mutex::new(Inner {
                state,
                running: None,
            }),
        })
    }

    /// Hands the service the remote API's certificates, which joining and
    /// leaving replace.
    pub fn set_remote(&self, remote: Arc<RemoteTls>) {
        let _ = self.remote.set(remote);
    }

    /// The remote API's certificates (the host's, for TLS to other
    /// services).
    pub fn host_tls(&self) -> Result<Arc<RemoteTls>, AgentError> {
        self.remote().cloned()
    }

    fn remote(&self) -> Result<&Arc<RemoteTls>, AgentError> {
        self.remote.get().ok_or_else(|| {
            AgentError::Unavailable("the remote API is not served on this host".into())
        })
    }

    /// The cluster authority this host must serve with, when it is a
    /// member (and not leaving).
    pub async fn authority(&self) -> Result<Option<StoredAuthority>, AgentError> {
        let inner = self.inner.lock().await;
        if inner.state.config.is_none() || inner.state.leaving {
            return Ok(None);
        }
        self.cluster_authority(&inner.state).map(Some)
    }

    /// The cluster's authority: recorded in `cluster.json`, or (documents
    /// of version 1, written by cluster creators) the host's own.
    fn cluster_authority(&self, state: &ClusterState) -> Result<StoredAuthority, AgentError> {
        if let Some(authority) = &state.authority {
            return Ok(authority.clone());
        }
        self.store
            .load::<PkiState>()
            .map_err(AgentError::Store)?
            .map(|pki| pki.authority)
            .ok_or_else(|| AgentError::Unavailable("pki.json is missing".into()))
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
        self: &Arc<Self>,
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
        Self::refuse_if_member(&inner.state)?;
        let authority = self
            .store
            .load::<PkiState>()
            .map_err(AgentError::Store)?
            .ok_or_else(|| {
                AgentError::Unavailable(
                    "the host has no certificate authority yet (the remote API is not served)"
                        .into(),
                )
            })?
            .authority;
        let id = Uuid::new_v4();
        let etcd_identity = self.issue_etcd(&authority, host.ip)?;
        self.write_tls(&authority.cert_pem, &etcd_identity)?;
        // A data directory left by an earlier failed attempt would make
        // etcd ignore the bootstrap flags.
        remove_dir(&self.data_dir())?;
        let config = self.member_config(
            host.ip,
            Bootstrap::New {
                token: id.to_string(),
            },
        );
        let started = async {
            let mut member = self.spawn_member(&config)?;
            let endpoints = vec![config.client_url()];
            let registered = async {
                let store = self
                    .connect(&endpoints, &authority.cert_pem, &etcd_identity)
                    .await?;
                wait_serving(&store, &mut member).await?;
                self.register(&store, host, EtcdRole::Voter, None).await?;
                Ok::<_, AgentError>(store)
            }
            .await;
            match registered {
                Ok(store) => Ok((member, store, endpoints)),
                Err(e) => {
                    member.stop().await;
                    Err(e)
                }
            }
        }
        .await;
        let (member, store, endpoints) = match started {
            Ok(running) => running,
            Err(e) => {
                let _ = remove_dir(&self.data_dir());
                return Err(e);
            }
        };
        let fingerprint = lqx_pki::fingerprint(&authority.cert_pem)
            .map_err(|e| AgentError::Unavailable(format!("the authority: {e}")))?;
        let next = ClusterState {
            schema_version: ClusterState::SCHEMA_VERSION,
            config: Some(ClusterConfig {
                id,
                name,
                fingerprint,
                role: EtcdRole::Voter,
                voters,
                endpoints: endpoints.clone(),
                joined_at: OffsetDateTime::now_utc(),
            }),
            etcd_cert_pem: Some(etcd_identity.cert_pem.clone()),
            etcd_key_pem: Some(etcd_identity.key_pem.clone()),
            authority: Some(authority),
            leaving: false,
        };
        if let Err(e) = persist(&self.store, &next).await {
            member.stop().await;
            let _ = remove_dir(&self.data_dir());
            return Err(e);
        }
        tracing::info!(cluster = %id, "created the cluster");
        inner.state = next;
        inner.running = Some(self.run(id, Some(member), store, endpoints));
        drop(inner);
        Ok(self.status().await)
    }

    fn refuse_if_member(state: &ClusterState) -> Result<(), AgentError> {
        match &state.config {
            Some(config) => Err(AgentError::Conflict(format!(
                "this host is already a member of cluster {}",
                config.name
            ))),
            None => Ok(()),
        }
    }

    /// Writes this host's record into the store.
    async fn register(
        &self,
        store: &EtcdStore,
        host: &HostAddress,
        role: EtcdRole,
        member: Option<u64>,
    ) -> Result<(), AgentError> {
        let etcd_version = match role {
            EtcdRole::Voter => Some(store.version().await.map_err(etcd_error)?),
            EtcdRole::Client => None,
        };
        let record = HostRecord {
            id: self.host_id,
            hostname: host.hostname.clone(),
            address: SocketAddr::new(host.ip, host.api_port).to_string(),
            etcd_role: role,
            etcd_member: member.map(|id| format!("{id:x}")),
            versions: MemberVersions {
                agent: env!("CARGO_PKG_VERSION").into(),
                etcd: etcd_version,
            },
            registered_at: OffsetDateTime::now_utc(),
        };
        store
            .put(&cluster::host_key(self.host_id), to_json(&record), None)
            .await
            .map_err(etcd_error)
    }

    /// Starts the heartbeat on `store`.
    fn run(
        self: &Arc<Self>,
        cluster_id: Uuid,
        member: Option<MemberProcess>,
        store: EtcdStore,
        endpoints: Vec<String>,
    ) -> Running {
        let heartbeat = tokio::spawn(heartbeat::heartbeat(
            Arc::downgrade(self),
            store.clone(),
            self.host_id,
            cluster_id,
        ))
        .abort_handle();
        Running {
            member,
            store,
            endpoints,
            heartbeat,
        }
    }

    /// After a restart: finishes a leave that was under way, or starts
    /// the member again from its data directory and the heartbeat. Does
    /// not wait for the cluster: a member that cannot reach quorum yet
    /// keeps trying, and the member list tells.
    pub async fn resume(self: &Arc<Self>) {
        let mut inner = self.inner.lock().await;
        if inner.state.leaving {
            if let Err(error) = self.finish_leave(&mut inner).await {
                tracing::error!(error = %crate::api::error::chain(&error), "cannot finish leaving the cluster");
            }
            return;
        }
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
            let authority = self.cluster_authority(&inner.state)?;
            let member = match config.role {
                EtcdRole::Voter => {
                    let ip = own_ip(&config.endpoints)?;
                    self.write_tls(&authority.cert_pem, &identity)?;
                    Some(self.spawn_member(&self.member_config(ip, Bootstrap::Restart))?)
                }
                EtcdRole::Client => None,
            };
            let store = self
                .connect(&config.endpoints, &authority.cert_pem, &identity)
                .await?;
            Ok::<_, AgentError>((member, store))
        }
        .await;
        match result {
            Ok((member, store)) => {
                tracing::info!(cluster = %config.id, "rejoined the cluster store");
                inner.running = Some(self.run(config.id, member, store, config.endpoints.clone()));
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

    /// The store and the membership, for requests that need both.
    async fn store_and_config(&self) -> Result<(EtcdStore, ClusterConfig), AgentError> {
        let inner = self.inner.lock().await;
        let store = Self::running_store(&inner)?;
        let config =
            inner.state.config.clone().ok_or_else(|| {
                AgentError::Conflict("this host is not a member of a cluster".into())
            })?;
        Ok((store, config))
    }

    /// Every host record, with the live and last heartbeats and the
    /// capacities, read at one revision so that a host is never judged by
    /// another moment's heartbeats.
    async fn records(store: &EtcdStore) -> Result<cluster::MembersView, AgentError> {
        let entries = store.list(cluster::MEMBERS).await.map_err(etcd_error)?;
        Ok(cluster::MembersView::from_entries(
            entries.iter().map(|e| (e.key.as_str(), e.value.as_slice())),
        ))
    }

    /// The members, heartbeats and capacities (placement reads them).
    pub async fn view(&self) -> Result<cluster::MembersView, AgentError> {
        let store = Self::running_store(&*self.inner.lock().await)?;
        Self::records(&store).await
    }

    /// The cluster store, when this host is a member and its client runs.
    pub async fn store(&self) -> Result<EtcdStore, AgentError> {
        Self::running_store(&*self.inner.lock().await)
    }

    /// The cluster's hosts with their state.
    pub async fn members(&self) -> Result<Vec<Member>, AgentError> {
        Ok(self.view().await?.members())
    }

    /// Where a request for the member `name` (id or hostname) goes;
    /// `None` when this host is in no cluster.
    pub async fn locate(&self, name: &str) -> Result<Option<Located>, AgentError> {
        let store = {
            let inner = self.inner.lock().await;
            if inner.state.config.is_none() {
                return Ok(None);
            }
            Self::running_store(&inner)?
        };
        let view = Self::records(&store).await?;
        let host = cluster::resolve_host(&view.hosts, name).map_err(AgentError::NotFound)?;
        if host.id == self.host_id {
            return Ok(Some(Located::Here));
        }
        let address = host.address.parse().map_err(|_| {
            AgentError::Unavailable(format!(
                "member {} has a bad address {:?}",
                host.id, host.address
            ))
        })?;
        Ok(Some(Located::Member {
            id: host.id,
            address,
        }))
    }

    /// A single-use join token valid for the requested time. It names
    /// this host's API address first, then every other ready member's,
    /// so the join works while this host is down.
    pub async fn create_token(
        &self,
        request: &TokenRequest,
        own: SocketAddr,
    ) -> Result<TokenCreated, AgentError> {
        let ttl = request.ttl_seconds.unwrap_or(cluster::DEFAULT_TOKEN_TTL);
        cluster::check_token_ttl(ttl).map_err(AgentError::Invalid)?;
        let (store, config) = self.store_and_config().await?;
        let mut addresses = vec![own];
        for member in self.members().await? {
            if member.state == lqx_api::MemberState::Ready
                && let Ok(address) = member.address.parse::<SocketAddr>()
                && !addresses.contains(&address)
            {
                addresses.push(address);
            }
        }
        let mut random = [0u8; ID_BYTES + SECRET_BYTES];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random)
            .map_err(|_| AgentError::Unavailable("no randomness for the token".into()))?;
        let token = JoinToken::new(addresses, &config.fingerprint, &random);
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
            fingerprint: config.fingerprint,
            expires_at,
        })
    }

    /// Admits a joining host that proved a token (the join channel).
    pub async fn admit(
        &self,
        request: &PeerJoinRequest,
        from: SocketAddr,
    ) -> Result<PeerJoinResponse, AgentError> {
        let (store, config, authority) = {
            let inner = self.inner.lock().await;
            let store = Self::running_store(&inner)?;
            let config = inner.state.config.clone().ok_or_else(|| {
                AgentError::Conflict("this host is not a member of a cluster".into())
            })?;
            (store, config, self.cluster_authority(&inner.state)?)
        };
        let admitted = admit::admit(
            &store,
            self.host_id,
            config.voters,
            request,
            OffsetDateTime::now_utc(),
            ADMIT_PATIENCE,
        )
        .await;
        match &admitted {
            Ok(a) => tracing::info!(
                joiner = %request.host_id, %from, token = %request.token_id, role = ?a.role,
                "admitted a host"
            ),
            Err(error) => tracing::warn!(
                joiner = %request.host_id, %from, token = %request.token_id,
                error = %crate::api::error::chain(error), "refused a join"
            ),
        }
        let admitted = admitted?;
        Ok(PeerJoinResponse {
            cluster_id: config.id,
            name: config.name,
            voters: config.voters,
            authority: lqx_api::AuthorityPem {
                name: authority.name,
                cert_pem: authority.cert_pem,
                key_pem: authority.key_pem,
            },
            role: admitted.role,
            member_id: admitted.member_id,
            peers: admitted.peers,
            endpoints: admitted.endpoints,
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

fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}
