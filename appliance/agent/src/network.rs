//! The safe-apply cycle of the host's network configuration: validate,
//! persist the pending apply, render and apply, watch the management
//! link, and restore the previous configuration unless the operator
//! confirms in time.

use crate::agent::{AgentError, persist};
use lqx_api::{ApplyResult, Check, NetworkConfig, NetworkStatus, PendingApply};
use lqx_core::network::{NicFacts, render, validate};
use lqx_core::network_state::{NetworkState, Pending, obsolete_links};
use lqx_host::HostProbe;
use lqx_network::{ApplyPlan, NetworkBackend, checks};
use lqx_store::StateDir;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Mutex;

/// Default confirmation timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Accepted confirmation timeouts, in seconds.
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 10..=3600;

/// Timing of the watch over a pending apply.
#[derive(Clone, Copy, Debug)]
pub struct WatchTiming {
    /// How often the management link is looked at.
    pub poll: Duration,
    /// How long the management link may have no address (DHCP takes a
    /// few seconds) before the apply counts as having lost it.
    pub lost_after: Duration,
}

impl Default for WatchTiming {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(2),
            lost_after: Duration::from_secs(30),
        }
    }
}

/// The network configuration of one host.
pub struct NetworkService {
    store: Arc<StateDir>,
    backend: Arc<dyn NetworkBackend>,
    probe: Arc<dyn HostProbe>,
    timing: WatchTiming,
    // Held across validate-persist-apply so applies, confirms and reverts
    // never interleave.
    state: Mutex<NetworkState>,
    checks: Mutex<Vec<Check>>,
}

impl NetworkService {
    /// Loads `network.json`.
    pub fn open(
        store: Arc<StateDir>,
        backend: Arc<dyn NetworkBackend>,
        probe: Arc<dyn HostProbe>,
        timing: WatchTiming,
    ) -> Result<Self, AgentError> {
        let state = store
            .load::<NetworkState>()
            .map_err(AgentError::Store)?
            .unwrap_or_default();
        Ok(Self {
            store,
            backend,
            probe,
            timing,
            state: Mutex::new(state),
            checks: Mutex::new(vec![]),
        })
    }

    /// Picks up an apply left pending by a previous run: past its deadline
    /// it is reverted now, otherwise it is watched again.
    pub async fn resume(self: &Arc<Self>) {
        let deadline = match &self.state.lock().await.pending {
            Some(p) => p.deadline,
            None => return,
        };
        if OffsetDateTime::now_utc() >= deadline {
            self.revert_pending(
                ApplyResult::RevertedTimeout,
                "not confirmed before the agent restarted past the deadline; previous configuration restored".into(),
            )
            .await;
        } else {
            tracing::warn!(%deadline, "resuming the watch over an unconfirmed network apply");
            tokio::spawn(Arc::clone(self).watch(deadline));
        }
    }

    /// `GET /v1/host/network`.
    pub async fn status(&self) -> NetworkStatus {
        let state = self.state.lock().await.clone();
        let checks = self.checks.lock().await.clone();
        self.status_of(&state, checks)
    }

    fn status_of(&self, state: &NetworkState, checks: Vec<Check>) -> NetworkStatus {
        NetworkStatus {
            desired: state.desired.clone(),
            applied: state.applied.clone(),
            pending: state.pending.as_ref().map(|p| PendingApply {
                config: p.config.clone(),
                applied_at: p.applied_at,
                deadline: p.deadline,
                checks,
            }),
            last_outcome: state.last_outcome.clone(),
            backend: self.backend.kind(),
        }
    }

    async fn nics(&self) -> Result<Vec<NicFacts>, AgentError> {
        let facts = self.probe.facts().await.map_err(AgentError::Probe)?;
        Ok(NicFacts::from_interfaces(&facts.interfaces))
    }

    /// `PUT /v1/host/network`: validates against this host's NICs and
    /// saves; nothing is applied.
    pub async fn put(&self, config: NetworkConfig) -> Result<NetworkStatus, AgentError> {
        let nics = self.nics().await?;
        validate(&config, Some(&nics)).map_err(AgentError::Network)?;
        let mut state = self.state.lock().await;
        let mut next = state.clone();
        next.desired = Some(config);
        persist(&self.store, &next).await?;
        *state = next;
        Ok(self.status_of(&state, self.checks.lock().await.clone()))
    }

    /// `POST /v1/host/network/apply`.
    pub async fn apply(self: &Arc<Self>, timeout: Duration) -> Result<NetworkStatus, AgentError> {
        let mut state = self.state.lock().await;
        if state.pending.is_some() {
            return Err(AgentError::Conflict(
                "an apply is waiting for confirmation: confirm or revert it first".into(),
            ));
        }
        let Some(config) = state.desired.clone() else {
            return Err(AgentError::Conflict(
                "no network configuration is saved: PUT /v1/host/network first".into(),
            ));
        };
        let facts = self.probe.facts().await.map_err(AgentError::Probe)?;
        let nics = NicFacts::from_interfaces(&facts.interfaces);
        validate(&config, Some(&nics)).map_err(AgentError::Network)?;
        let now = OffsetDateTime::now_utc();
        let deadline = now + timeout;
        let mut next = state.clone();
        next.pending = Some(Pending {
            config: config.clone(),
            previous: state.applied.clone(),
            previous_hostname: facts.hostname.clone(),
            applied_at: now,
            deadline,
        });
        // Persisted first: if the agent dies from here on, the next start
        // finds the pending apply and restores the previous configuration.
        persist(&self.store, &next).await?;
        *state = next;
        let plan = plan(Some(&config), state.applied.as_ref(), None);
        tracing::info!(management = %config.management, ?timeout, "applying network configuration");
        if let Err(error) = self.backend.apply(&plan).await {
            let message = format!(
                "applying failed ({}); previous configuration restored",
                crate::api::error::chain(&error)
            );
            self.restore(&mut state, ApplyResult::Failed, message).await;
            return Err(AgentError::NetworkApply(error));
        }
        self.checks.lock().await.clear();
        tokio::spawn(Arc::clone(self).watch(deadline));
        Ok(self.status_of(&state, vec![]))
    }

    /// `POST /v1/host/network/confirm`.
    pub async fn confirm(&self) -> Result<NetworkStatus, AgentError> {
        let mut state = self.state.lock().await;
        if state.pending.is_none() {
            return Err(AgentError::Conflict(
                "no apply is waiting for confirmation".into(),
            ));
        }
        let next = state.confirmed(OffsetDateTime::now_utc());
        persist(&self.store, &next).await?;
        *state = next;
        tracing::info!("network configuration confirmed");
        Ok(self.status_of(&state, self.checks.lock().await.clone()))
    }

    /// `POST /v1/host/network/revert`.
    pub async fn revert(&self) -> Result<NetworkStatus, AgentError> {
        let mut state = self.state.lock().await;
        if state.pending.is_none() {
            return Err(AgentError::Conflict(
                "no apply is waiting for confirmation".into(),
            ));
        }
        self.restore(
            &mut state,
            ApplyResult::RevertedByOperator,
            "reverted by the operator; previous configuration restored".into(),
        )
        .await;
        Ok(self.status_of(&state, vec![]))
    }

    async fn revert_pending(&self, result: ApplyResult, message: String) {
        let mut state = self.state.lock().await;
        if state.pending.is_some() {
            self.restore(&mut state, result, message).await;
        }
    }

    /// Puts the previous configuration back and records why. Restoring
    /// must not give up half-way: failures are logged and the state still
    /// leaves pending, since retrying the same restore cannot do better.
    async fn restore(&self, state: &mut NetworkState, result: ApplyResult, message: String) {
        let Some(pending) = state.pending.clone() else {
            return;
        };
        tracing::warn!(?result, %message, "restoring the previous network configuration");
        let hostname = pending
            .previous
            .is_none()
            .then(|| pending.previous_hostname.clone());
        let plan = plan(pending.previous.as_ref(), Some(&pending.config), hostname);
        let mut message = message;
        if let Err(error) = self.backend.apply(&plan).await {
            let detail = crate::api::error::chain(&error);
            tracing::error!(error = %detail, "restoring the previous network configuration failed");
            message = format!("{message}; but restoring reported: {detail}");
        }
        let next = state.reverted(OffsetDateTime::now_utc(), result, message);
        if let Err(error) = persist(&self.store, &next).await {
            tracing::error!(%error, "cannot persist the reverted network state");
        }
        *state = next;
        self.checks.lock().await.clear();
    }

    /// Watches the management link until the apply is confirmed, times
    /// out, or loses the management address.
    async fn watch(self: Arc<Self>, deadline: OffsetDateTime) {
        let mut last_addressed = tokio::time::Instant::now();
        let mut checked = false;
        loop {
            tokio::time::sleep(self.timing.poll).await;
            let management = {
                let state = self.state.lock().await;
                match &state.pending {
                    Some(p) if p.deadline == deadline => p.config.management.clone(),
                    _ => return,
                }
            };
            if OffsetDateTime::now_utc() >= deadline {
                self.revert_pending(
                    ApplyResult::RevertedTimeout,
                    "not confirmed in time; previous configuration restored".into(),
                )
                .await;
                return;
            }
            let Ok(facts) = self.probe.facts().await else {
                continue;
            };
            let addressed = facts.interfaces.iter().any(|i| {
                i.name == management
                    && i.addresses
                        .iter()
                        .any(|a| a.scope == lqx_api::AddressScope::Global)
            });
            if addressed {
                last_addressed = tokio::time::Instant::now();
                if !checked {
                    checked = true;
                    let results = checks::run(&facts, Some(&management)).await;
                    *self.checks.lock().await = results;
                }
            } else if last_addressed.elapsed() >= self.timing.lost_after {
                self.revert_pending(
                    ApplyResult::RevertedLostManagement,
                    format!(
                        "{management} had no address for {} s; previous configuration restored",
                        self.timing.lost_after.as_secs()
                    ),
                )
                .await;
                return;
            }
        }
    }

    /// The management link of the configuration in force, if any.
    pub async fn management(&self) -> Option<String> {
        let state = self.state.lock().await;
        state
            .pending
            .as_ref()
            .map(|p| p.config.management.clone())
            .or_else(|| state.applied.as_ref().map(|c| c.management.clone()))
    }
}

/// What applying `config` (in place of `old`) asks of the system.
fn plan(
    config: Option<&NetworkConfig>,
    old: Option<&NetworkConfig>,
    fallback_hostname: Option<String>,
) -> ApplyPlan {
    ApplyPlan {
        files: config.map(render).unwrap_or_default(),
        hostname: config.map(|c| c.hostname.clone()).or(fallback_hostname),
        remove_links: obsolete_links(old, config),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lqx_api::{AddressFamily, AddressScope, InterfaceAddress, LinkState, NetworkInterface};
    use lqx_core::network::samples::simple;
    use lqx_host::FakeProbe;
    use lqx_network::FakeBackend;

    fn nic(addressed: bool) -> NetworkInterface {
        NetworkInterface {
            name: "eno1".into(),
            index: 2,
            kind: None,
            mac: Some("52:54:00:00:00:01".into()),
            mtu: 1500,
            max_mtu: None,
            admin_up: true,
            link_state: LinkState::Up,
            carrier: Some(true),
            controller: None,
            addresses: if addressed {
                vec![InterfaceAddress {
                    address: "192.0.2.10".parse().unwrap(),
                    prefix_len: 24,
                    family: AddressFamily::Ipv4,
                    scope: AddressScope::Global,
                    dynamic: false,
                }]
            } else {
                vec![]
            },
        }
    }

    fn facts(addressed: bool) -> lqx_api::HostFacts {
        let mut facts = FakeProbe::sample("before");
        facts.interfaces.push(nic(addressed));
        facts
    }

    struct Fixture {
        service: Arc<NetworkService>,
        backend: Arc<FakeBackend>,
        probe: Arc<FakeProbe>,
        store: Arc<StateDir>,
        _dir: tempfile::TempDir,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(StateDir::open(dir.path()).unwrap());
        let backend = Arc::new(FakeBackend::default());
        let probe = Arc::new(FakeProbe::new(facts(true)));
        let timing = WatchTiming {
            poll: Duration::from_millis(20),
            lost_after: Duration::from_millis(200),
        };
        let service = Arc::new(
            NetworkService::open(Arc::clone(&store), backend.clone(), probe.clone(), timing)
                .unwrap(),
        );
        Fixture {
            service,
            backend,
            probe,
            store,
            _dir: dir,
        }
    }

    async fn wait_outcome(service: &NetworkService) -> ApplyResult {
        for _ in 0..200 {
            if let Some(outcome) = service.status().await.last_outcome {
                return outcome.result;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no outcome");
    }

    #[tokio::test]
    async fn invalid_configs_change_nothing() {
        let f = fixture();
        let mut config = simple();
        config.links[0].name = "eth9".into();
        let err = f.service.put(config).await.unwrap_err();
        assert!(matches!(err, AgentError::Network(_)));
        assert_eq!(f.service.status().await.desired, None);
        assert!(f.store.load::<NetworkState>().unwrap().is_none());
        assert!(matches!(
            f.service.apply(DEFAULT_TIMEOUT).await,
            Err(AgentError::Conflict(_))
        ));
        assert!(f.backend.plans().is_empty());
    }

    #[tokio::test]
    async fn apply_then_confirm_keeps_it() {
        let f = fixture();
        f.service.put(simple()).await.unwrap();
        let status = f.service.apply(Duration::from_secs(60)).await.unwrap();
        assert!(status.pending.is_some());
        assert!(matches!(
            f.service.apply(DEFAULT_TIMEOUT).await,
            Err(AgentError::Conflict(_))
        ));
        let plans = f.backend.plans();
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].hostname.as_deref(), Some("hv01"));
        assert!(
            plans[0]
                .files
                .iter()
                .any(|f| f.path == "network/10-lqx-eno1.network")
        );
        let status = f.service.confirm().await.unwrap();
        assert_eq!(status.applied, Some(simple()));
        assert_eq!(status.last_outcome.unwrap().result, ApplyResult::Confirmed);
        let saved = f.store.load::<NetworkState>().unwrap().unwrap();
        assert_eq!(saved.applied, Some(simple()));
        assert!(saved.pending.is_none());
    }

    #[tokio::test]
    async fn unconfirmed_apply_reverts_to_the_image_default_and_hostname() {
        let f = fixture();
        f.service.put(simple()).await.unwrap();
        f.service.apply(Duration::from_millis(300)).await.unwrap();
        assert_eq!(wait_outcome(&f.service).await, ApplyResult::RevertedTimeout);
        let plans = f.backend.plans();
        assert_eq!(plans.len(), 2);
        assert!(plans[1].files.is_empty(), "image default: no owned files");
        assert_eq!(plans[1].hostname.as_deref(), Some("before"));
        let status = f.service.status().await;
        assert_eq!(status.applied, None);
        assert!(status.pending.is_none());
        assert_eq!(
            status.desired,
            Some(simple()),
            "the saved config stays for another try"
        );
    }

    #[tokio::test]
    async fn losing_the_management_address_reverts_before_the_deadline() {
        let f = fixture();
        f.service.put(simple()).await.unwrap();
        f.probe.set(Ok(facts(false)));
        f.service.apply(Duration::from_secs(60)).await.unwrap();
        assert_eq!(
            wait_outcome(&f.service).await,
            ApplyResult::RevertedLostManagement
        );
    }

    #[tokio::test]
    async fn a_failed_apply_restores_and_reports() {
        let f = fixture();
        f.service.put(simple()).await.unwrap();
        f.backend.fail_next("networkd refused");
        let err = f.service.apply(DEFAULT_TIMEOUT).await.unwrap_err();
        assert!(matches!(err, AgentError::NetworkApply(_)));
        let status = f.service.status().await;
        assert!(status.pending.is_none());
        assert_eq!(status.last_outcome.unwrap().result, ApplyResult::Failed);
        assert_eq!(f.backend.plans().len(), 2, "apply, then restore");
    }

    #[tokio::test]
    async fn operator_revert_and_resume_after_a_crash() {
        let f = fixture();
        f.service.put(simple()).await.unwrap();
        f.service.apply(Duration::from_secs(60)).await.unwrap();
        let status = f.service.revert().await.unwrap();
        assert_eq!(
            status.last_outcome.unwrap().result,
            ApplyResult::RevertedByOperator
        );
        assert!(matches!(
            f.service.revert().await,
            Err(AgentError::Conflict(_))
        ));

        // A pending apply past its deadline in the persisted state, as a
        // crashed agent would leave it, is reverted when a new one starts.
        let mut state = f.store.load::<NetworkState>().unwrap().unwrap();
        state.pending = Some(Pending {
            config: simple(),
            previous: None,
            previous_hostname: "old".into(),
            applied_at: OffsetDateTime::now_utc() - time::Duration::minutes(5),
            deadline: OffsetDateTime::now_utc() - time::Duration::minutes(3),
        });
        state.last_outcome = None;
        f.store.save(&state).unwrap();
        let again = Arc::new(
            NetworkService::open(
                Arc::clone(&f.store),
                f.backend.clone(),
                f.probe.clone(),
                WatchTiming::default(),
            )
            .unwrap(),
        );
        again.resume().await;
        let status = again.status().await;
        assert!(status.pending.is_none());
        assert_eq!(
            status.last_outcome.unwrap().result,
            ApplyResult::RevertedTimeout
        );
        assert_eq!(
            f.backend.plans().last().unwrap().hostname.as_deref(),
            Some("old")
        );
    }
}
