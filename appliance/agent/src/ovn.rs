//! This host as an OVN chassis: registration confirmed in the southbound
//! database before it is persisted, status, removal, and re-applying the
//! persisted registration at start.

use crate::agent::{AgentError, persist};
use crate::remote::RemoteTls;
use lqx_api::{ChassisConfig, ChassisRequest, ChassisStatus};
use lqx_core::document::Document as _;
use lqx_core::ovn_state::OvnState;
use lqx_ovn::{ChassisTls, OvnError, OvsChassis, Registration};
use lqx_ovsdb::TlsSettings;
use lqx_store::StateDir;
use lqx_systemd::ServiceManager;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Mutex;

/// Units the appliance runs for a chassis.
const UNITS: [&str; 2] = ["openvswitch-switch.service", "ovn-controller.service"];
/// Between attempts to re-apply the registration at start.
const RESUME_RETRY: Duration = Duration::from_secs(10);
/// Under the state directory: the files ovn-controller reads for TLS to
/// the southbound database.
const TLS_DIR: &str = "ovn-tls";

/// This host's client configuration for OVSDB servers whose certificates
/// `ca_cert` signed, presenting the host's certificate in force.
pub(crate) fn ovsdb_tls(remote: &RemoteTls, ca_cert: &str) -> Result<TlsSettings, AgentError> {
    let config = lqx_pki::tls::foreign_client_config(ca_cert, &remote.host_identity())
        .map_err(|e| AgentError::Invalid(format!("ca_cert: {}", crate::api::error::chain(&e))))?;
    Ok(TlsSettings { config })
}

/// The chassis registration service.
pub struct OvnService {
    store: Arc<StateDir>,
    chassis: OvsChassis,
    manager: Option<Arc<dyn ServiceManager>>,
    wait: Duration,
    allow_unix: bool,
    // The host's certificate, for ssl: southbound databases.
    remote: OnceLock<Arc<RemoteTls>>,
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
            remote: OnceLock::new(),
            state: Mutex::new(state),
        })
    }

    /// Hands the service the host's certificates (for `ssl:` southbound
    /// databases), and from then on copies each new one to
    /// ovn-controller's files (it reads them again when they change).
    pub fn set_remote(self: &Arc<Self>, remote: Arc<RemoteTls>) {
        let mut issued = remote.issued();
        if self.remote.set(remote).is_ok() {
            let service = Arc::clone(self);
            tokio::spawn(async move {
                while issued.changed().await.is_ok() {
                    let config = service.state.lock().await.chassis.clone();
                    if let Some(config) = config
                        && let Err(error) = service.chassis_tls(&config.request)
                    {
                        tracing::warn!(
                            error = %crate::api::error::chain(&error),
                            "cannot give ovn-controller the new host certificate"
                        );
                    }
                }
            });
        }
    }

    fn remote_tls(&self) -> Result<&Arc<RemoteTls>, AgentError> {
        self.remote.get().ok_or_else(|| {
            AgentError::Unavailable(
                "the host's certificates are not loaded (the remote API is not served)".into(),
            )
        })
    }

    /// This process's TLS settings for `request`'s southbound database.
    fn client_tls(&self, request: &ChassisRequest) -> Result<Option<TlsSettings>, AgentError> {
        request
            .ca_cert
            .as_deref()
            .map(|ca| ovsdb_tls(self.remote_tls()?, ca))
            .transpose()
    }

    /// TLS for `request`'s southbound database, for this process and
    /// ovn-controller: the files it reads are (re)written with the host's
    /// certificate in force, the key readable by root only.
    fn chassis_tls(&self, request: &ChassisRequest) -> Result<Option<ChassisTls>, AgentError> {
        let Some(ca) = request.ca_cert.as_deref() else {
            return Ok(None);
        };
        let remote = self.remote_tls()?;
        let settings = ovsdb_tls(remote, ca)?;
        let identity = remote.host_identity();
        let dir = self.store.path().join(TLS_DIR);
        let failed = |path: &std::path::Path| {
            let path = path.to_owned();
            move |source| AgentError::Store(lqx_store::StoreError::Write { path, source })
        };
        lqx_store::atomic::private_dir(&dir).map_err(failed(&dir))?;
        let tls = ChassisTls {
            settings,
            private_key: dir.join("host.key"),
            certificate: dir.join("host.crt"),
            ca_cert: dir.join("sb-ca.crt"),
        };
        for (path, text, mode) in [
            (&tls.private_key, identity.key_pem.as_str(), 0o600),
            (&tls.certificate, identity.cert_pem.as_str(), 0o644),
            (&tls.ca_cert, ca, 0o644),
        ] {
            lqx_store::atomic::write_file(path, text.as_bytes(), mode).map_err(failed(path))?;
        }
        Ok(Some(tls))
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
        let tls = self.chassis_tls(&validated.request)?;
        self.start_units().await?;
        self.chassis
            .register(
                &Registration {
                    system_id,
                    hostname,
                    validated: &validated,
                    tls: tls.as_ref(),
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
            .observe(
                state.chassis.as_ref(),
                &validated.sb_remotes,
                tls.as_ref().map(|t| &t.settings),
            )
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
        let tls = match config.as_ref().map(|c| self.client_tls(&c.request)) {
            Some(Err(e)) => {
                let mut status = self.chassis.observe(config.as_ref(), &[], None).await;
                status.problem = Some(crate::api::error::chain(&e));
                return status;
            }
            Some(Ok(tls)) => tls,
            None => None,
        };
        self.chassis
            .observe(config.as_ref(), &remotes, tls.as_ref())
            .await
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
        let tls = self.client_tls(&config.request)?;
        self.chassis
            .unregister(&config.system_id, &remotes, tls.as_ref())
            .await?;
        let next = OvnState {
            schema_version: OvnState::SCHEMA_VERSION,
            chassis: None,
        };
        persist(&self.store, &next).await?;
        *state = next;
        tracing::info!(system_id = config.system_id, "unregistered the OVN chassis");
        Ok(self.chassis.observe(None, &[], None).await)
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
                // Rewritten: the host's certificate may have been renewed.
                let tls = self.chassis_tls(&config.request)?;
                self.start_units().await?;
                self.chassis
                    .register(
                        &Registration {
                            system_id: &config.system_id,
                            hostname: &hostname,
                            validated: &validated,
                            tls: tls.as_ref(),
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
