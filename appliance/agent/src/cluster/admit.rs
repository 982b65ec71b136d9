//! A member admitting a joining host: the token checked and consumed,
//! the joiner's part decided, and on voters its etcd learner added. Runs
//! on any [`ClusterStore`], so it is unit-tested on the fake.

use crate::agent::AgentError;
use lqx_api::{EtcdRole, PeerJoinRequest, PeerUrl};
use lqx_core::cluster::{self, TokenRecord, TokenRefusal};
use lqx_etcd::{ClusterStore, EtcdError, LeaseId, MemberInfo};
use std::net::SocketAddr;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// The membership lock's lease: a member that dies holding it frees it.
const LOCK_TTL: Duration = Duration::from_secs(15);
/// How long to wait for the membership lock.
const LOCK_WAIT: Duration = Duration::from_secs(20);
/// How long a joining host has to promote its learner before another
/// join may remove it as abandoned.
pub const JOINING_TTL: Duration = Duration::from_secs(120);

/// What the joiner is told besides the cluster's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admission {
    /// Its part in the store.
    pub role: EtcdRole,
    /// On voters, the learner it was added as.
    pub member_id: Option<u64>,
    /// On voters, every member's name and peer URL.
    pub peers: Vec<PeerUrl>,
    /// Client URLs of the voters.
    pub endpoints: Vec<String>,
}

/// Held while the membership changes; see [`cluster::membership_lock_key`].
pub struct MembershipLock<'a> {
    store: &'a dyn ClusterStore,
    lease: LeaseId,
    holder: Vec<u8>,
}

impl<'a> MembershipLock<'a> {
    /// Takes the lock for `holder` (a host id), waiting up to
    /// [`LOCK_WAIT`] for another holder.
    pub async fn acquire(store: &'a dyn ClusterStore, holder: Uuid) -> Result<Self, AgentError> {
        let lease = store.grant(LOCK_TTL).await.map_err(AgentError::Cluster)?;
        let holder = holder.to_string().into_bytes();
        let start = tokio::time::Instant::now();
        loop {
            match store
                .create(&cluster::membership_lock_key(), holder.clone(), Some(lease))
                .await
            {
                Ok(true) => {
                    return Ok(Self {
                        store,
                        lease,
                        holder,
                    });
                }
                Ok(false) if start.elapsed() < LOCK_WAIT => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Ok(false) => {
                    let _ = store.revoke(lease).await;
                    return Err(AgentError::Unavailable(
                        "another membership change is under way; try again".into(),
                    ));
                }
                Err(e) => {
                    let _ = store.revoke(lease).await;
                    return Err(AgentError::Cluster(e));
                }
            }
        }
    }

    /// Releases the lock (its lease would, a little later).
    pub async fn release(self) {
        let _ = self
            .store
            .delete_if(&cluster::membership_lock_key(), self.holder)
            .await;
        let _ = self.store.revoke(self.lease).await;
    }
}

/// Checks what a joiner sends about itself.
fn check_request(request: &PeerJoinRequest) -> Result<(), AgentError> {
    let mut problems = Vec::new();
    if request.host_id.is_nil() {
        problems.push("host_id: the nil id".to_owned());
    }
    if request.hostname.is_empty()
        || request.hostname.len() > 253
        || request.hostname.chars().any(char::is_control)
    {
        problems.push(format!("hostname {:?}", request.hostname));
    }
    if request.api_address.parse::<SocketAddr>().is_err() {
        problems.push(format!("api_address {:?}", request.api_address));
    }
    let peer_ok = request
        .etcd_peer_url
        .strip_prefix("https://")
        .is_some_and(|a| a.parse::<SocketAddr>().is_ok());
    if !peer_ok {
        problems.push(format!("etcd_peer_url {:?}", request.etcd_peer_url));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AgentError::Invalid(format!(
            "bad join request: {}",
            problems.join("; ")
        )))
    }
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

fn refused(why: TokenRefusal) -> AgentError {
    AgentError::Refused(why.to_string())
}

/// Checks the token and consumes it. Only a token whose secret is right
/// is touched: a forged secret cannot burn another host's token.
async fn consume_token(
    store: &dyn ClusterStore,
    request: &PeerJoinRequest,
    now: OffsetDateTime,
) -> Result<(), AgentError> {
    if request.token_id.len() != 16 || !request.token_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(refused(TokenRefusal::Unknown));
    }
    let key = cluster::token_key(&request.token_id);
    let raw = store
        .get(&key)
        .await
        .map_err(AgentError::Cluster)?
        .ok_or_else(|| refused(TokenRefusal::Unknown))?;
    let record: TokenRecord =
        serde_json::from_slice(&raw).map_err(|_| refused(TokenRefusal::Unknown))?;
    match cluster::check_token(&record, &request.secret, now, sha256) {
        Ok(()) => {}
        Err(TokenRefusal::Expired) => {
            // Its lease would collect it too.
            let _ = store.delete_if(&key, raw).await;
            return Err(refused(TokenRefusal::Expired));
        }
        Err(why) => return Err(refused(why)),
    }
    let registered = store
        .get(&cluster::host_key(request.host_id))
        .await
        .map_err(AgentError::Cluster)?;
    if registered.is_some() {
        return Err(AgentError::Conflict(format!(
            "host {} is already a member of this cluster",
            request.host_id
        )));
    }
    if !store
        .delete_if(&key, raw)
        .await
        .map_err(AgentError::Cluster)?
    {
        return Err(refused(TokenRefusal::Used));
    }
    Ok(())
}

/// Client URLs of the voters that have started.
pub fn voter_endpoints(members: &[MemberInfo]) -> Vec<String> {
    let mut urls: Vec<String> = members
        .iter()
        .filter(|m| !m.learner)
        .flat_map(|m| m.client_urls.iter().cloned())
        .collect();
    urls.sort();
    urls.dedup();
    urls
}

/// Removes learners whose join was abandoned (their joining key lapsed)
/// and members that never started at the joiner's own peer URL (an
/// earlier attempt of the same host). Refuses if a running member uses
/// that URL.
async fn clear_leftovers(
    store: &dyn ClusterStore,
    peer_url: &str,
) -> Result<Vec<MemberInfo>, AgentError> {
    let members = store.members().await.map_err(AgentError::Cluster)?;
    let mut kept = Vec::new();
    for member in members {
        let at_url = member.peer_urls.iter().any(|u| u == peer_url);
        let abandoned = member.learner
            && store
                .get(&cluster::joining_key(member.id))
                .await
                .map_err(AgentError::Cluster)?
                .is_none();
        if at_url && !member.learner && !member.name.is_empty() {
            return Err(AgentError::Conflict(format!(
                "etcd member {} already uses {peer_url}",
                member.name
            )));
        }
        if at_url || abandoned {
            tracing::info!(member = %format!("{:x}", member.id), "removing an abandoned etcd member");
            match store.remove_member(member.id).await {
                Ok(()) | Err(EtcdError::NoMember(_)) => continue,
                Err(e) => return Err(AgentError::Cluster(e)),
            }
        }
        kept.push(member);
    }
    Ok(kept)
}

/// Decides the part of host `host_id` whose member would listen on
/// `peer_url` and, for a voter, adds its learner. Runs under the
/// membership lock.
pub async fn place(
    store: &dyn ClusterStore,
    host_id: Uuid,
    peer_url: &str,
    voters: u8,
) -> Result<Admission, AgentError> {
    let members = clear_leftovers(store, peer_url).await?;
    let role = cluster::role_for_joiner(members.len(), voters);
    if role == EtcdRole::Client {
        return Ok(Admission {
            role,
            member_id: None,
            peers: vec![],
            endpoints: voter_endpoints(&members),
        });
    }
    let added = store
        .add_member(peer_url, true)
        .await
        .map_err(AgentError::Cluster)?;
    let lease = store
        .grant(JOINING_TTL)
        .await
        .map_err(AgentError::Cluster)?;
    store
        .put(
            &cluster::joining_key(added.id),
            host_id.to_string().into_bytes(),
            Some(lease),
        )
        .await
        .map_err(AgentError::Cluster)?;
    let peers = added
        .members
        .iter()
        .filter_map(|m| {
            let name = if m.id == added.id {
                host_id.to_string()
            } else if m.name.is_empty() {
                format!("{:x}", m.id)
            } else {
                m.name.clone()
            };
            Some(PeerUrl {
                name,
                url: m.peer_urls.first()?.clone(),
            })
        })
        .collect();
    Ok(Admission {
        role,
        member_id: Some(added.id),
        peers,
        endpoints: voter_endpoints(&added.members),
    })
}

/// Admits `request` on behalf of member `me` into a cluster aiming for
/// `voters` voters. While another host's learner waits to be promoted
/// (etcd takes one at a time), a voter's join waits up to `patience`.
pub async fn admit(
    store: &dyn ClusterStore,
    me: Uuid,
    voters: u8,
    request: &PeerJoinRequest,
    now: OffsetDateTime,
    patience: Duration,
) -> Result<Admission, AgentError> {
    check_request(request)?;
    consume_token(store, request, now).await?;
    let start = tokio::time::Instant::now();
    loop {
        let lock = MembershipLock::acquire(store, me).await?;
        let placed = place(store, request.host_id, &request.etcd_peer_url, voters).await;
        lock.release().await;
        match placed {
            Err(AgentError::Cluster(EtcdError::TooManyLearners(_)))
                if start.elapsed() < patience =>
            {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(AgentError::Cluster(e @ EtcdError::TooManyLearners(_))) => {
                return Err(AgentError::Unavailable(format!(
                    "{e}: another host is still joining as a voter; try again with a new token"
                )));
            }
            placed => return placed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lqx_core::cluster_token::{ID_BYTES, JoinToken, SECRET_BYTES, hex};
    use lqx_etcd::FakeStore;

    const FIRST: &str = "https://10.0.0.1:2380";

    async fn store_with_first_member() -> FakeStore {
        let store = FakeStore::new();
        let added = store.add_member(FIRST, false).await.unwrap();
        store.start_member(added.id, "first", "https://10.0.0.1:2379");
        store
    }

    /// Issues a token as a member does; returns it.
    async fn token(store: &FakeStore, seed: u8, expires_at: OffsetDateTime) -> JoinToken {
        let random = [seed; ID_BYTES + SECRET_BYTES];
        let token = JoinToken::new(
            vec!["10.0.0.1:8443".parse().unwrap()],
            &"ab".repeat(32),
            &random,
        );
        let record = TokenRecord {
            secret_sha256: hex(&sha256(&random[ID_BYTES..])),
            expires_at,
            created_by: Uuid::from_u128(1),
        };
        store
            .put(
                &cluster::token_key(&token.id),
                serde_json::to_vec(&record).unwrap(),
                None,
            )
            .await
            .unwrap();
        token
    }

    fn request(token: &JoinToken, host: u128) -> PeerJoinRequest {
        PeerJoinRequest {
            token_id: token.id.clone(),
            secret: token.secret.clone(),
            host_id: Uuid::from_u128(host),
            hostname: format!("hv{host}"),
            api_address: format!("10.0.0.{host}:8443"),
            etcd_peer_url: format!("https://10.0.0.{host}:2380"),
        }
    }

    fn later() -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::hours(1)
    }

    /// Admits `request` now, through member 1 of a cluster aiming for 3
    /// voters, without waiting for another join.
    async fn admit_now(
        store: &FakeStore,
        request: &PeerJoinRequest,
    ) -> Result<Admission, AgentError> {
        admit(
            store,
            Uuid::from_u128(1),
            3,
            request,
            OffsetDateTime::now_utc(),
            Duration::ZERO,
        )
        .await
    }

    #[tokio::test]
    async fn voters_until_full_then_clients() {
        let store = store_with_first_member().await;
        let t2 = token(&store, 2, later()).await;
        let a2 = admit_now(&store, &request(&t2, 2)).await.unwrap();
        assert_eq!(a2.role, EtcdRole::Voter);
        assert_eq!(a2.endpoints, ["https://10.0.0.1:2379"]);
        assert_eq!(a2.peers.len(), 2);
        assert!(a2.peers.contains(&PeerUrl {
            name: Uuid::from_u128(2).to_string(),
            url: "https://10.0.0.2:2380".into(),
        }));
        // The second voter joins while the first learner is promoted.
        let id2 = a2.member_id.unwrap();
        store.start_member(
            id2,
            &Uuid::from_u128(2).to_string(),
            "https://10.0.0.2:2379",
        );
        store.promote_member(id2).await.unwrap();
        let t3 = token(&store, 3, later()).await;
        let a3 = admit_now(&store, &request(&t3, 3)).await.unwrap();
        assert_eq!(a3.role, EtcdRole::Voter);
        store.promote_member(a3.member_id.unwrap()).await.unwrap();
        // Three voters: the fourth host is a client.
        let t4 = token(&store, 4, later()).await;
        let a4 = admit_now(&store, &request(&t4, 4)).await.unwrap();
        assert_eq!(a4.role, EtcdRole::Client);
        assert_eq!(a4.member_id, None);
        assert_eq!(store.members().await.unwrap().len(), 3);
        // Nothing is left locked.
        assert_eq!(
            store.get(&cluster::membership_lock_key()).await.unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn tokens_are_single_use_and_forgeries_burn_nothing() {
        let store = store_with_first_member().await;
        let t = token(&store, 2, later()).await;
        let mut forged = request(&t, 2);
        forged.secret = token(&store, 9, later()).await.secret;
        let err = admit_now(&store, &forged).await.unwrap_err();
        assert!(err.to_string().contains("secret is wrong"), "{err}");
        assert_eq!(store.members().await.unwrap().len(), 1, "nothing added");
        // The real holder still joins; a second use is refused.
        admit_now(&store, &request(&t, 2)).await.unwrap();
        let err = admit_now(&store, &request(&t, 3)).await.unwrap_err();
        assert!(err.to_string().contains("unknown"), "{err}");
        assert_eq!(store.members().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn expired_tokens_are_refused_and_collected() {
        let store = store_with_first_member().await;
        let now = OffsetDateTime::now_utc();
        let t = token(&store, 2, now - time::Duration::seconds(1)).await;
        let err = admit_now(&store, &request(&t, 2)).await.unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
        assert_eq!(store.get(&cluster::token_key(&t.id)).await.unwrap(), None);
        assert_eq!(store.members().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_registered_host_is_refused_before_its_token_is_burnt() {
        let store = store_with_first_member().await;
        let t = token(&store, 2, later()).await;
        store
            .put(&cluster::host_key(Uuid::from_u128(2)), b"{}".to_vec(), None)
            .await
            .unwrap();
        let err = admit_now(&store, &request(&t, 2)).await.unwrap_err();
        assert!(matches!(err, AgentError::Conflict(_)), "{err}");
        assert!(
            store
                .get(&cluster::token_key(&t.id))
                .await
                .unwrap()
                .is_some()
        );
    }

    #[tokio::test]
    async fn abandoned_learners_are_removed_and_bad_requests_refused() {
        let store = store_with_first_member().await;
        // A learner whose joining key is gone: its host gave up.
        let stale = store
            .add_member("https://10.0.0.7:2380", true)
            .await
            .unwrap();
        let t = token(&store, 2, later()).await;
        let a = admit_now(&store, &request(&t, 2)).await.unwrap();
        assert_eq!(a.role, EtcdRole::Voter);
        let ids: Vec<u64> = store
            .members()
            .await
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect();
        assert!(!ids.contains(&stale.id), "{ids:?}");
        // A learner still joining holds up a second voter join; out of
        // patience, it is told so.
        let t3 = token(&store, 3, later()).await;
        let err = admit_now(&store, &request(&t3, 3)).await.unwrap_err();
        assert!(err.to_string().contains("try again"), "{err}");

        let t4 = token(&store, 4, later()).await;
        let mut bad = request(&t4, 4);
        bad.etcd_peer_url = "http://10.0.0.4:2380".into();
        bad.api_address = "hv4".into();
        let err = admit_now(&store, &bad).await.unwrap_err();
        assert!(matches!(err, AgentError::Invalid(_)), "{err}");
        assert!(err.to_string().contains("etcd_peer_url"), "{err}");
        assert!(
            store
                .get(&cluster::token_key(&t4.id))
                .await
                .unwrap()
                .is_some()
        );
    }
}
