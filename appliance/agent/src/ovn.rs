//! This host as an OVN chassis: registration confirmed in the southbound
//! database before it is persisted, status, removal, and re-applying the
//! persisted registration at start.

use crate::agent::{AgentError, persist};
use lqx_api::{ChassisConfig, ChassisRequest, ChassisStatus};
use lqx_core::document::Document as _;
use lqx_core::ovn_state::OvnState;
use lqx_ovn::{OvnError, OvsChassis, Registration};
use lqx_store::StateDir;
use lqx_systemd::ServiceManager;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Mutex;

/// Units the appliance runs for a chassis.
const UNITS: [&str; 2] = ["openvswitch-switch.service", "ovn-controller.service"];
/// Between attempts to re-apply the registration at start.
const RESUME_RETRY: Duration = Duration::from_secs(10);

/// The chassis registration service.
pub struct OvnService {
    store: Arc<StateDir>,
    chassis: OvsChassis,
    manager: Option<Arc<dyn ServiceManager>>,
    wait: Duration,
    allow_unix: bool,
    // Held across validate-register-persist, so registrations do not
    // interleave.
    state: Mutex<OvnState>,
}

impl From<OvnError> for AgentError {
    fn from(e: OvnError) -> Self {
        AgentError::Ovn(e)
    }
}

impl OvnService {
    /// Loads `ovn.json`. `manager` is given in the appliance, where the
    /// OVS and ovn-controller units are started before registering;
    /// `allow_unix` lets tests give `unix:` southbound remotes.
    pub fn open(
        store: Arc<StateDir>,
        chassis: OvsChassis,
        manager: Option<Arc<dyn ServiceManager>>,
        wait: Duration,
        allow_unix: bool,
    ) -> Result<Self, AgentError> {
        let state = store
            .load::<OvnState>()
            .map_err(AgentError::Store)?
            .unwrap_or_default();
        Ok(Self {
            store,
            chassis,
            manager,
            wait,
            allow_unix,
            state: Mutex::new(state),
        })
    }

    /// Registers this host: validates against `host_addresses`, starts the
    /// units (appliance), writes the settings, waits for the southbound
    /// rows, and only then persists.
    pub async fn register(
        &self,
        request: &ChassisRequest,
        system_id: &str,
        hostname: &str,
        host_addresses: &[IpAddr],
    ) -> Result<ChassisStatus, AgentError> {
        let validated = lqx_ovn::validate(request, host_addresses, self.allow_unix)
            .map_err(AgentError::Invalid)?;
        let mut state = self.state.lock().await;
        self.start_units().await?;
        self.chassis
            .register(
                &Registration {
                    system_id,
                    hostname,
                    validated: &validated,
                },
                self.wait,
            )
            .await?;
        let next = OvnState {
            schema_version: OvnState::SCHEMA_VERSION,
            chassis: Some(ChassisConfig {
                request: validated.request.clone(),
                system_id: system_id.to_owned(),
                registered_at: OffsetDateTime::now_utc(),
            }),
        };
        persist(&self.store, &next).await?;
        *state = next;
        tracing::info!(system_id, sb = %validated.request.sb_remote, "registered as an OVN chassis");
        Ok(self
            .chassis
            .observe(state.chassis.as_ref(), &validated.sb_remotes)
            .await)
    }

    /// Whether this host is registered as a chassis (what placement needs
    /// to know; whether ovn-controller is connected right now is
    /// [`OvnService::status`]'s to say).
    pub async fn registered(&self) -> bool {
        self.state.lock().await.chassis.is_some()
    }

    /// The registration and what the databases say about it.
    pub async fn status(&self) -> ChassisStatus {
        let config = self.state.lock().await.chassis.clone();
        let remotes = config
            .as_ref()
            .and_then(|c| lqx_ovsdb::remote::parse_list(&c.request.sb_remote).ok())
            .unwrap_or_default();
        self.chassis.observe(config.as_ref(), &remotes).await
    }

    /// Removes the registration (settings and southbound rows).
    pub async fn unregister(&self) -> Result<ChassisStatus, AgentError> {
        let mut state = self.state.lock().await;
        let Some(config) = state.chassis.clone() else {
            return Err(AgentError::Conflict(
                "this host is not registered as a chassis".into(),
            ));
        };
        let remotes = lqx_ovsdb::remote::parse_list(&config.request.sb_remote)
            .map_err(|e| AgentError::Invalid(e.to_string()))?;
        self.chassis.unregister(&config.system_id, &remotes).await?;
        let next = OvnState {
            schema_version: OvnState::SCHEMA_VERSION,
            chassis: None,
        };
        persist(&self.store, &next).await?;
        *state = next;
        tracing::info!(system_id = config.system_id, "unregistered the OVN chassis");
        Ok(self.chassis.observe(None, &[]).await)
    }

    /// Re-applies the persisted registration, retrying until it holds
    /// (the southbound database may come up after this host).
    pub async fn resume(self: Arc<Self>, hostname: String) {
        let Some(config) = self.state.lock().await.chassis.clone() else {
            return;
        };
        loop {
            let attempt = async {
                // Checked against the host's addresses at registration; at
                // boot the encap address may not be up yet, so it is taken
                // as given and only the remotes are parsed again.
                let validated =
                    lqx_ovn::validate(&config.request, &[config.request.encap_ip], true)
                        .map_err(AgentError::Invalid)?;
                self.start_units().await?;
                self.chassis
                    .register(
                        &Registration {
                            system_id: &config.system_id,
                            hostname: &hostname,
                            validated: &validated,
                        },
                        self.wait,
                    )
                    .await
                    .map_err(AgentError::from)
            };
            match attempt.await {
                Ok(()) => {
                    tracing::info!(
                        system_id = config.system_id,
                        "OVN chassis settings re-applied"
                    );
                    return;
                }
                Err(error) => {
                    tracing::warn!(
                        error = %crate::api::error::chain(&error),
                        "cannot re-apply the OVN chassis settings; retrying"
                    );
                    tokio::time::sleep(RESUME_RETRY).await;
                }
            }
        }
    }

    async fn start_units(&self) -> Result<(), AgentError> {
        if let Some(manager) = &self.manager {
            for unit in UNITS {
                manager
                    .start_unit(unit)
                    .await
                    .map_err(AgentError::Systemd)?;
            }
        }
        Ok(())
    }
}
