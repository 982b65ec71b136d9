//! The joining host's side of a join: ask a member named in the token
//! (pinning the cluster authority by the token's fingerprint), start the
//! etcd member as a learner and promote it, or become a client of the
//! store, register, and only then persist the membership and take the
//! cluster's authority.

use super::local::{etcd_error, promote, remove_dir, wait_serving};
use super::{ClusterService, HostAddress, MEMBER_READY};
use crate::agent::{AgentError, persist};
use crate::remote::AuthorityChoice;
use lqx_api::{
    ClusterConfig, ClusterStatus, EtcdRole, JoinRequest, PeerJoinRequest, PeerJoinResponse, PeerUrl,
};
use lqx_client::ClientError;
use lqx_core::cluster::{self, ClusterState};
use lqx_core::cluster_token::JoinToken;
use lqx_core::document::Document as _;
use lqx_core::pki_state::StoredAuthority;
use lqx_etcd::member::https_url;
use lqx_etcd::{Bootstrap, ClusterStore as _, EtcdStore, MemberProcess};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// How long a member may take to answer a join (it may wait for another
/// host's join to finish first).
const JOIN_CALL: Duration = Duration::from_secs(90);

/// What a joined host runs: its member (voters), its store client and
/// the endpoints that client uses.
type Started = (Option<MemberProcess>, EtcdStore, Vec<String>);

impl ClusterService {
    /// Joins the cluster `request.token` names. Nothing is persisted
    /// unless every step worked; a failure stops the member, removes its
    /// data and takes this host back out of the store. The token is used
    /// up either way once a member accepted it.
    pub async fn join(
        self: &Arc<Self>,
        request: &JoinRequest,
        host: &HostAddress,
    ) -> Result<ClusterStatus, AgentError> {
        let token =
            JoinToken::decode(&request.token).map_err(|e| AgentError::Invalid(e.to_string()))?;
        let remote = Arc::clone(self.remote()?);
        let mut inner = self.inner.lock().await;
        Self::refuse_if_member(&inner.state)?;
        let ask = PeerJoinRequest {
            token_id: token.id.clone(),
            secret: token.secret.clone(),
            host_id: self.host_id,
            hostname: host.hostname.clone(),
            api_address: std::net::SocketAddr::new(host.ip, host.api_port).to_string(),
            etcd_peer_url: https_url(host.ip, self.options.peer_port),
        };
        let answer = ask_to_join(&token, &ask).await?;
        let fingerprint = lqx_pki::fingerprint(&answer.authority.cert_pem).ok();
        if fingerprint.as_deref() != Some(token.fingerprint.as_str()) {
            return Err(AgentError::Unavailable(
                "the member answered with an authority other than the token's".into(),
            ));
        }
        let authority = StoredAuthority {
            name: answer.authority.name.clone(),
            cert_pem: answer.authority.cert_pem.clone(),
            key_pem: answer.authority.key_pem.clone(),
        };
        let identity = self.issue_etcd(&authority, host.ip)?;
        self.write_tls(&authority.cert_pem, &identity)?;
        remove_dir(&self.data_dir())?;
        let (member, store, endpoints) = match self
            .start_joined(&answer, &authority, &identity, host)
            .await
        {
            Ok(started) => started,
            Err(e) => {
                self.undo_join(&answer, &authority, &identity).await;
                return Err(e);
            }
        };
        let next = ClusterState {
            schema_version: ClusterState::SCHEMA_VERSION,
            config: Some(ClusterConfig {
                id: answer.cluster_id,
                name: answer.name.clone(),
                fingerprint: token.fingerprint.clone(),
                role: answer.role,
                voters: answer.voters,
                endpoints: endpoints.clone(),
                joined_at: OffsetDateTime::now_utc(),
            }),
            etcd_cert_pem: Some(identity.cert_pem.clone()),
            etcd_key_pem: Some(identity.key_pem.clone()),
            authority: Some(authority.clone()),
            leaving: false,
        };
        if let Err(e) = persist(&self.store, &next).await {
            if let Some(member) = member {
                member.stop().await;
            }
            self.undo_join(&answer, &authority, &identity).await;
            return Err(e);
        }
        // cluster.json is the commit point: if this fails, the next start
        // takes the cluster's authority from it.
        if let Err(error) = remote.switch(AuthorityChoice::Use(authority)).await {
            tracing::error!(error = %crate::api::error::chain(&error), "cannot take the cluster's authority yet");
        }
        tracing::info!(cluster = %answer.cluster_id, role = ?answer.role, "joined the cluster");
        inner.state = next;
        inner.running = Some(self.run(answer.cluster_id, member, store, endpoints));
        drop(inner);
        Ok(self.status().await)
    }

    /// Starts what the answer asks for and registers the host.
    async fn start_joined(
        &self,
        answer: &PeerJoinResponse,
        authority: &StoredAuthority,
        identity: &lqx_pki::Identity,
        host: &HostAddress,
    ) -> Result<Started, AgentError> {
        if answer.endpoints.is_empty() {
            return Err(AgentError::Unavailable(
                "the member named no endpoint of the cluster store".into(),
            ));
        }
        let others = answer.endpoints.clone();
        match (answer.role, answer.member_id) {
            (EtcdRole::Client, _) => {
                let store = self.connect(&others, &authority.cert_pem, identity).await?;
                store.wait_ready(MEMBER_READY).await.map_err(etcd_error)?;
                self.register(&store, host, EtcdRole::Client, None).await?;
                Ok((None, store, others))
            }
            (EtcdRole::Voter, None) => Err(AgentError::Unavailable(
                "the member made this host a voter without an etcd member id".into(),
            )),
            (EtcdRole::Voter, Some(id)) => {
                let (member, store, endpoints) = self
                    .start_voter(id, &answer.peers, &others, authority, identity, host)
                    .await?;
                Ok((Some(member), store, endpoints))
            }
        }
    }

    /// Starts this host's member as the learner `id` of the cluster whose
    /// members are `peers`, promotes it through the voters at `others`
    /// once it has caught up, and registers the host as a voter. Answers
    /// the member, a store client using it first, and that client's
    /// endpoints. On failure the member is stopped.
    pub(super) async fn start_voter(
        &self,
        id: u64,
        peers: &[PeerUrl],
        others: &[String],
        authority: &StoredAuthority,
        identity: &lqx_pki::Identity,
        host: &HostAddress,
    ) -> Result<(MemberProcess, EtcdStore, Vec<String>), AgentError> {
        let peers = peers
            .iter()
            .map(|p| (p.name.clone(), p.url.clone()))
            .collect();
        let config = self.member_config(host.ip, Bootstrap::Existing { peers });
        let mut member = self.spawn_member(&config)?;
        let serving = async {
            // A learner answers no client requests: promote it through the
            // others, then use it too.
            let store = self.connect(others, &authority.cert_pem, identity).await?;
            promote(&store, &mut member, id).await?;
            let own = config.client_url();
            let mut endpoints = vec![own.clone()];
            endpoints.extend(others.iter().filter(|e| **e != own).cloned());
            store
                .update_endpoints(&endpoints)
                .await
                .map_err(etcd_error)?;
            wait_serving(&store, &mut member).await?;
            self.register(&store, host, EtcdRole::Voter, Some(id))
                .await?;
            let _ = store.delete(&cluster::joining_key(id)).await;
            Ok::<_, AgentError>((store, endpoints))
        }
        .await;
        match serving {
            Ok((store, endpoints)) => Ok((member, store, endpoints)),
            Err(e) => {
                member.stop().await;
                Err(e)
            }
        }
    }

    /// Takes this host back out of the store after a failed join, as far
    /// as the store answers, and removes the member's data.
    async fn undo_join(
        &self,
        answer: &PeerJoinResponse,
        authority: &StoredAuthority,
        identity: &lqx_pki::Identity,
    ) {
        if let Ok(store) = self
            .connect(&answer.endpoints, &authority.cert_pem, identity)
            .await
        {
            let _ = store.delete_many(cluster::host_keys(self.host_id)).await;
            if let Some(id) = answer.member_id {
                let _ = store.remove_member(id).await;
                let _ = store.delete(&cluster::joining_key(id)).await;
            }
        }
        let _ = remove_dir(&self.etcd_dir());
    }
}

/// Sends the join request to the token's addresses in turn, over the
/// join channel pinned to the token's fingerprint, until one answers.
async fn ask_to_join(
    token: &JoinToken,
    request: &PeerJoinRequest,
) -> Result<PeerJoinResponse, AgentError> {
    let tls = lqx_pki::tls::join_client_config(&token.fingerprint);
    let mut last: Option<AgentError> = None;
    for address in &token.addresses {
        let url = format!("https://{address}");
        let client = lqx_client::Client::https(&url, Arc::clone(&tls))
            .map_err(|e| AgentError::Invalid(e.to_string()))?
            .with_timeout(JOIN_CALL);
        let answer = client
            .call::<_, PeerJoinResponse>(hyper::Method::POST, crate::api::join::PATH, Some(request))
            .await;
        let error = match answer {
            Ok(answer) => return Ok(answer),
            Err(ClientError::Api {
                status, message, ..
            }) => {
                // The member decided: asking another would burn nothing
                // more but cannot change the answer.
                return Err(match status {
                    403 | 422 => AgentError::Invalid(format!("{address} refused: {message}")),
                    409 => AgentError::Conflict(format!("{address}: {message}")),
                    _ => AgentError::Unavailable(format!("{address}: {message}")),
                });
            }
            Err(e @ ClientError::Tls { .. }) => AgentError::Invalid(format!(
                "{address} does not hold the authority the token names (fingerprint {}…): the \
                 token is damaged or not from that cluster ({})",
                &token.fingerprint[..16],
                crate::api::error::chain(&e)
            )),
            Err(e) => {
                AgentError::Unavailable(format!("{address}: {}", crate::api::error::chain(&e)))
            }
        };
        tracing::warn!(%address, error = %error, "join: no answer");
        last = Some(error);
    }
    Err(last.unwrap_or_else(|| AgentError::Invalid("the join token names no address".into())))
}
