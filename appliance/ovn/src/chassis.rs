//! The chassis settings in the local Open_vSwitch database, and their
//! effect in the southbound database.

use crate::validate::Validated;
use lqx_api::{ChassisConfig, ChassisStatus};
use lqx_ovsdb::datum::{Atom, Datum};
use lqx_ovsdb::ops::{self, Condition, Mutation};
use lqx_ovsdb::tables::{self, Table as _};
use lqx_ovsdb::{Client, ClientError, Monitor, Remote, Replica, TlsSettings};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// The `external_ids` keys of a registration.
pub const KEYS: [&str; 7] = [
    "system-id",
    "hostname",
    "ovn-remote",
    "ovn-encap-type",
    "ovn-encap-ip",
    "ovn-bridge",
    "ovn-bridge-mappings",
];
/// The integration bridge VM ports are plugged into.
pub const INTEGRATION_BRIDGE: &str = "br-int";
const OVS_DB: &str = "Open_vSwitch";
const SB_DB: &str = "OVN_Southbound";

/// Errors of registration.
#[derive(Debug, Error)]
pub enum OvnError {
    /// No southbound server answered; nothing was written.
    #[error(
        "the southbound database ({remotes}) did not answer within {timeout:?}; nothing was changed"
    )]
    SbUnreachable {
        /// The remotes tried.
        remotes: String,
        /// The time allowed per remote.
        timeout: Duration,
        /// The last failure.
        #[source]
        source: ClientError,
    },
    /// The local Open_vSwitch database failed.
    #[error("the local Open_vSwitch database ({remote})")]
    Ovs {
        /// Its remote.
        remote: String,
        /// Why.
        #[source]
        source: ClientError,
    },
    /// The southbound database failed mid-way.
    #[error("the southbound database")]
    Sb(#[source] ClientError),
    /// ovn-controller did not register within the time; the previous
    /// settings were restored.
    #[error(
        "ovn-controller did not register chassis {system_id} with encap {encap} within {timeout:?} \
         (is ovn-controller running?); the previous settings were restored"
    )]
    NotSeen {
        /// The chassis name.
        system_id: String,
        /// The tunnel endpoint expected.
        encap: String,
        /// The time allowed.
        timeout: Duration,
    },
}

/// What to register.
#[derive(Clone, Debug)]
pub struct Registration<'a> {
    /// The chassis name (the host id).
    pub system_id: &'a str,
    /// The host's name, for `Chassis.hostname`.
    pub hostname: &'a str,
    /// The checked request.
    pub validated: &'a Validated,
    /// For an `ssl:` southbound database: how this process and
    /// ovn-controller reach it.
    pub tls: Option<&'a ChassisTls>,
}

/// TLS to the southbound database, for this process and for
/// ovn-controller (which reads files: the local `SSL` row names them).
#[derive(Clone, Debug)]
pub struct ChassisTls {
    /// This process's client configuration.
    pub settings: TlsSettings,
    /// The host's private key, PEM (a file only root reads).
    pub private_key: PathBuf,
    /// The host's certificate, PEM.
    pub certificate: PathBuf,
    /// The authority of the southbound database's certificate, PEM.
    pub ca_cert: PathBuf,
}

/// The chassis settings of one host, written to its Open_vSwitch database.
#[derive(Clone, Debug)]
pub struct OvsChassis {
    ovs: Remote,
    timeout: Duration,
}

impl OvsChassis {
    /// Uses the Open_vSwitch database at `ovs`; `timeout` bounds each
    /// connection attempt and call.
    pub fn new(ovs: Remote, timeout: Duration) -> Self {
        Self { ovs, timeout }
    }

    /// The local database's remote.
    pub fn ovs_remote(&self) -> &Remote {
        &self.ovs
    }

    async fn ovs_client(&self) -> Result<Client, OvnError> {
        Client::connect(&self.ovs, None, self.timeout)
            .await
            .map_err(|source| self.ovs_err(source))
    }

    fn ovs_err(&self, source: ClientError) -> OvnError {
        OvnError::Ovs {
            remote: self.ovs.to_string(),
            source,
        }
    }

    /// The first southbound server that answers and serves the database.
    async fn sb_client(
        &self,
        remotes: &[Remote],
        tls: Option<&TlsSettings>,
    ) -> Result<Client, OvnError> {
        let mut last = ClientError::Disconnected;
        for remote in remotes {
            match Client::connect(remote, tls, self.timeout).await {
                Ok(client) => match tokio::time::timeout(self.timeout, client.list_dbs()).await {
                    Ok(Ok(dbs)) if dbs.iter().any(|d| d == SB_DB) => return Ok(client),
                    Ok(Ok(_)) => {
                        last = ClientError::Protocol(format!("{remote} serves no {SB_DB}"));
                    }
                    Ok(Err(e)) => last = e,
                    Err(_) => last = ClientError::ConnectTimeout(remote.to_string()),
                },
                Err(e) => last = e,
            }
        }
        Err(OvnError::SbUnreachable {
            remotes: lqx_ovsdb::remote::join(remotes),
            timeout: self.timeout,
            source: last,
        })
    }

    /// Writes the settings, creates the integration bridge if missing, and
    /// waits up to `wait` for ovn-controller's `Chassis` and `Encap` rows.
    /// The southbound database is checked first: if it does not answer,
    /// nothing is written. If the rows do not come, the previous settings
    /// are put back.
    pub async fn register(
        &self,
        registration: &Registration<'_>,
        wait: Duration,
    ) -> Result<(), OvnError> {
        let request = &registration.validated.request;
        let sb = self
            .sb_client(
                &registration.validated.sb_remotes,
                registration.tls.map(|t| &t.settings),
            )
            .await?;
        let ovs = self.ovs_client().await?;
        let previous = self.current_ids(&ovs).await?;
        let mut desired: Vec<(&str, String)> = vec![
            ("system-id", registration.system_id.to_owned()),
            ("hostname", registration.hostname.to_owned()),
            ("ovn-remote", request.sb_remote.clone()),
            ("ovn-encap-type", request.encap_type.as_str().to_owned()),
            ("ovn-encap-ip", request.encap_ip.to_string()),
            ("ovn-bridge", INTEGRATION_BRIDGE.to_owned()),
        ];
        if !request.bridge_mappings.is_empty() {
            desired.push(("ovn-bridge-mappings", request.bridge_mappings.join(",")));
        }
        self.write_ssl(&ovs, registration.tls).await?;
        self.write_ids(&ovs, &desired).await?;
        self.ensure_bridge(&ovs).await?;

        let encap = (
            request.encap_type.as_str().to_owned(),
            request.encap_ip.to_string(),
        );
        let seen = match sb_monitor(&sb).await {
            Ok(monitor) => {
                monitor
                    .wait_for(wait, |r| {
                        chassis_encaps(r, registration.system_id).contains(&encap)
                    })
                    .await
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot monitor the southbound database");
                false
            }
        };
        if seen {
            return Ok(());
        }
        let restore: Vec<(&str, String)> = previous
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        self.write_ids(&ovs, &restore).await?;
        Err(OvnError::NotSeen {
            system_id: registration.system_id.to_owned(),
            encap: format!("{} {}", encap.0, encap.1),
            timeout: wait,
        })
    }

    /// Removes the settings and the southbound rows of `system_id`. The
    /// southbound database must answer first; otherwise nothing changes.
    pub async fn unregister(
        &self,
        system_id: &str,
        sb_remotes: &[Remote],
        tls: Option<&TlsSettings>,
    ) -> Result<(), OvnError> {
        let sb = self.sb_client(sb_remotes, tls).await?;
        let ovs = self.ovs_client().await?;
        self.write_ids(&ovs, &[]).await?;
        self.write_ssl(&ovs, None).await?;
        let schema = Arc::new(sb.get_schema(SB_DB).await.map_err(OvnError::Sb)?);
        let mut operations = vec![ops::delete(
            "Chassis",
            &[Condition::eq("name", &Datum::scalar(system_id))],
        )];
        if schema.tables.contains_key("Chassis_Private") {
            operations.push(ops::delete(
                "Chassis_Private",
                &[Condition::eq("name", &Datum::scalar(system_id))],
            ));
        }
        // ovn-controller may write the rows once more before it notices its
        // settings are gone: delete until they stay gone.
        let monitor = sb_monitor(&sb).await.map_err(OvnError::Sb)?;
        for _ in 0..10 {
            sb.transact(SB_DB, operations.clone())
                .await
                .map_err(OvnError::Sb)?;
            let back = monitor
                .wait_for(Duration::from_secs(1), |r| {
                    chassis_row(r, system_id).is_some()
                })
                .await;
            if !back {
                return Ok(());
            }
        }
        Err(OvnError::Sb(ClientError::Protocol(format!(
            "chassis {system_id} keeps coming back; is another ovn-controller using this name?"
        ))))
    }

    /// What the databases say about `config` now.
    pub async fn observe(
        &self,
        config: Option<&ChassisConfig>,
        sb_remotes: &[Remote],
        tls: Option<&TlsSettings>,
    ) -> ChassisStatus {
        let mut status = ChassisStatus {
            config: config.cloned(),
            ovs_configured: false,
            sb_reachable: false,
            chassis_present: false,
            encaps: vec![],
            controller_connected: false,
            problem: None,
        };
        let Some(config) = config else {
            return status;
        };
        match self.ovs_client().await {
            Ok(ovs) => match self.current_ids(&ovs).await {
                Ok(ids) => {
                    status.ovs_configured = ids
                        .iter()
                        .any(|(k, v)| k == "system-id" && *v == config.system_id)
                        && ids
                            .iter()
                            .any(|(k, v)| k == "ovn-remote" && *v == config.request.sb_remote);
                }
                Err(e) => status.problem = Some(error_chain(&e)),
            },
            Err(e) => status.problem = Some(error_chain(&e)),
        }
        match self.sb_client(sb_remotes, tls).await {
            Ok(sb) => {
                status.sb_reachable = true;
                match sb_monitor(&sb).await {
                    Ok(monitor) => monitor.read(|r| {
                        status.chassis_present = chassis_row(r, &config.system_id).is_some();
                        status.encaps = chassis_encaps(r, &config.system_id)
                            .into_iter()
                            .map(|(t, ip)| format!("{t} {ip}"))
                            .collect();
                        status.controller_connected = tables::rows::<tables::ChassisPrivate>(r)
                            .iter()
                            .any(|p| p.name == config.system_id);
                    }),
                    Err(e) => status.problem = Some(e.to_string()),
                }
            }
            Err(e) => {
                status.problem.get_or_insert(error_chain(&e));
            }
        }
        status
    }

    /// The registration keys present on the Open_vSwitch row now.
    async fn current_ids(&self, ovs: &Client) -> Result<Vec<(String, String)>, OvnError> {
        let result = ovs
            .transact(OVS_DB, vec![ops::select(OVS_DB, &[], &["external_ids"])])
            .await
            .map_err(|e| self.ovs_err(e))?;
        let rows = result[0]["rows"].as_array().cloned().unwrap_or_default();
        let Some(row) = rows.first() else {
            return Err(self.ovs_err(ClientError::Protocol(
                "the Open_vSwitch table has no row (is the database initialised?)".into(),
            )));
        };
        let ids = Datum::from_json(&row["external_ids"])
            .map_err(|e| self.ovs_err(ClientError::Protocol(e.to_string())))?;
        Ok(ids
            .pairs()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
            .filter(|(k, _)| KEYS.contains(&k.as_str()))
            .collect())
    }

    /// Replaces every registration key by `values` in one transaction.
    async fn write_ids(&self, ovs: &Client, values: &[(&str, String)]) -> Result<(), OvnError> {
        let keys = Datum::set(KEYS.iter().map(|k| Atom::from(*k)));
        let mut mutations = vec![Mutation::delete("external_ids", &keys)];
        if !values.is_empty() {
            mutations.push(Mutation::insert(
                "external_ids",
                &Datum::map(
                    values
                        .iter()
                        .map(|(k, v)| (Atom::from(*k), Atom::from(v.as_str()))),
                ),
            ));
        }
        ovs.transact(
            OVS_DB,
            vec![
                ops::comment("lqxd: OVN chassis settings"),
                ops::mutate(OVS_DB, &[], &mutations),
            ],
        )
        .await
        .map_err(|e| self.ovs_err(e))?;
        Ok(())
    }

    /// Points the `Open_vSwitch` row's `ssl` at a new `SSL` row naming
    /// `tls`'s files, or at none. (An `SSL` row nothing references is
    /// garbage-collected by the server.)
    async fn write_ssl(&self, ovs: &Client, tls: Option<&ChassisTls>) -> Result<(), OvnError> {
        let mut operations = Vec::new();
        let ssl = match tls {
            Some(tls) => {
                let path = |p: &PathBuf| Datum::scalar(p.display().to_string().as_str());
                operations.push(ops::insert(
                    "SSL",
                    [
                        ("private_key", path(&tls.private_key)),
                        ("certificate", path(&tls.certificate)),
                        ("ca_cert", path(&tls.ca_cert)),
                    ],
                    Some("ssl"),
                ));
                Datum::set([Atom::NamedUuid("ssl".into())])
            }
            None => Datum::empty(),
        };
        operations.push(ops::update(OVS_DB, &[], [("ssl", ssl)]));
        ovs.transact(OVS_DB, operations)
            .await
            .map_err(|e| self.ovs_err(e))?;
        Ok(())
    }

    /// Creates br-int (with its internal port, secure fail mode and no
    /// in-band control, as ovn-controller would) unless it exists.
    async fn ensure_bridge(&self, ovs: &Client) -> Result<(), OvnError> {
        let name = Datum::scalar(INTEGRATION_BRIDGE);
        let found = ovs
            .transact(
                OVS_DB,
                vec![ops::select(
                    "Bridge",
                    &[Condition::eq("name", &name)],
                    &["name"],
                )],
            )
            .await
            .map_err(|e| self.ovs_err(e))?;
        if found[0]["rows"].as_array().is_some_and(|r| !r.is_empty()) {
            return Ok(());
        }
        ovs.transact(
            OVS_DB,
            vec![
                // Fails the transaction if another client created it
                // meanwhile, instead of making a second one.
                serde_json::json!({"op": "wait", "table": "Bridge", "timeout": 0,
                    "where": [["name", "==", INTEGRATION_BRIDGE]], "columns": ["name"],
                    "until": "==", "rows": []}),
                ops::insert(
                    "Interface",
                    [("name", name.clone()), ("type", Datum::scalar("internal"))],
                    Some("iface"),
                ),
                ops::insert(
                    "Port",
                    [
                        ("name", name.clone()),
                        ("interfaces", Datum::set([Atom::NamedUuid("iface".into())])),
                    ],
                    Some("port"),
                ),
                ops::insert(
                    "Bridge",
                    [
                        ("name", name),
                        ("ports", Datum::set([Atom::NamedUuid("port".into())])),
                        ("fail_mode", Datum::scalar("secure")),
                        (
                            "other_config",
                            Datum::string_map([("disable-in-band", "true")]),
                        ),
                    ],
                    Some("bridge"),
                ),
                ops::mutate(
                    OVS_DB,
                    &[],
                    &[Mutation::insert(
                        "bridges",
                        &Datum::set([Atom::NamedUuid("bridge".into())]),
                    )],
                ),
            ],
        )
        .await
        .map_err(|e| self.ovs_err(e))?;
        Ok(())
    }
}

async fn sb_monitor(sb: &Client) -> Result<Monitor, ClientError> {
    let schema = Arc::new(sb.get_schema(SB_DB).await?);
    let mut tables: Vec<(&str, &[&str])> = vec![
        (tables::Chassis::NAME, tables::Chassis::COLUMNS),
        (tables::Encap::NAME, tables::Encap::COLUMNS),
    ];
    if schema.tables.contains_key(tables::ChassisPrivate::NAME) {
        tables.push((
            tables::ChassisPrivate::NAME,
            tables::ChassisPrivate::COLUMNS,
        ));
    }
    sb.monitor(SB_DB, schema, &tables).await
}

fn chassis_row(r: &Replica, system_id: &str) -> Option<tables::Chassis> {
    tables::rows::<tables::Chassis>(r)
        .into_iter()
        .find(|c| c.name == system_id)
}

/// `(type, ip)` of the encaps the chassis row of `system_id` lists.
fn chassis_encaps(r: &Replica, system_id: &str) -> Vec<(String, String)> {
    let Some(chassis) = chassis_row(r, system_id) else {
        return vec![];
    };
    tables::rows::<tables::Encap>(r)
        .into_iter()
        .filter(|e| chassis.encaps.contains(&e.uuid))
        .map(|e| (e.kind, e.ip))
        .collect()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
