//! The northbound writer: sessions with the central databases, a replica
//! of the managed northbound tables and of the southbound chassis, and
//! the converge step the agent runs whenever the cluster's networks
//! change.

use super::converge::{self, PlanCounts};
use super::model;
use lqx_core::vnet::VnetState;
use lqx_ovsdb::tables::{self, Table as _};
use lqx_ovsdb::{
    ClientError, Remote, Session, SessionMonitor, SessionOptions, TlsSettings, column,
};
use std::time::Duration;

const NB_DB: &str = "OVN_Northbound";
const SB_DB: &str = "OVN_Southbound";

/// Why a converge step failed.
#[derive(Debug, thiserror::Error)]
pub enum NbError {
    /// No southbound server answered: without its chassis list, routers'
    /// gateways could not be scheduled, so nothing is written.
    #[error("the OVN southbound database did not answer within {0:?}")]
    SouthboundUnavailable(Duration),
    /// Routers have gateways but the southbound database lists no chassis
    /// to schedule them on.
    #[error("the OVN southbound database lists no chassis to host router gateways")]
    NoChassis,
    /// No northbound server answered.
    #[error("the OVN northbound database did not answer within {0:?}")]
    Unavailable(Duration),
    /// The transaction failed (another writer raced, or the server
    /// refused it).
    #[error("the northbound transaction failed")]
    Transaction(#[source] ClientError),
    /// The transaction committed but the replica did not show the result.
    #[error("the northbound database did not show the change within {0:?}")]
    NotSeen(Duration),
}

/// Sessions with the central databases.
pub struct NbWriter {
    owner: String,
    nb: Session,
    nb_rows: SessionMonitor,
    // The chassis, for gateway scheduling.
    sb_chassis: SessionMonitor,
    _sb: Session,
}

impl NbWriter {
    /// Starts sessions with the northbound and southbound databases
    /// (`tls` for `ssl:` remotes); rows are written as owned by `owner`
    /// (the cluster's id).
    pub fn start(
        nb: Vec<Remote>,
        sb: Vec<Remote>,
        owner: String,
        tls: Option<TlsSettings>,
    ) -> Self {
        let nb = Session::start(nb, NB_DB, tls.clone(), SessionOptions::default());
        let tables: Vec<(&str, &[&str])> =
            model::TABLES.iter().map(|t| (t.name, t.columns)).collect();
        // external_ids is monitored too: the monitor wants every column
        // the plan compares.
        let with_ids: Vec<Vec<&str>> = model::TABLES
            .iter()
            .map(|t| {
                let mut c = t.columns.to_vec();
                c.push("external_ids");
                c
            })
            .collect();
        let tables: Vec<(&str, &[&str])> = tables
            .iter()
            .zip(&with_ids)
            .map(|((t, _), c)| (*t, c.as_slice()))
            .collect();
        let nb_rows = nb.monitor(&tables);
        let sb = Session::start(sb, SB_DB, tls, SessionOptions::default());
        let sb_chassis = sb.monitor(&[(tables::Chassis::NAME, tables::Chassis::COLUMNS)]);
        Self {
            owner,
            nb,
            nb_rows,
            sb_chassis,
            _sb: sb,
        }
    }

    /// The chassis the southbound database lists, by name.
    pub fn chassis(&self) -> Vec<String> {
        self.gateway_candidates()
            .into_iter()
            .map(|c| c.name)
            .collect()
    }

    /// The chassis with the provider networks each has a bridge for, for
    /// gateway scheduling.
    pub fn gateway_candidates(&self) -> Vec<model::GatewayCandidate> {
        let mut all = self
            .sb_chassis
            .read(|r| {
                tables::rows::<tables::Chassis>(r)
                    .into_iter()
                    .map(|c| model::GatewayCandidate {
                        name: c.name,
                        physnets: c.physnets,
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// Whether the logical switch port `name` is up (bound on a chassis),
    /// as far as the replica knows.
    pub fn port_up(&self, name: &str) -> Option<bool> {
        self.nb_rows.read(|r| {
            r.rows("Logical_Switch_Port")
                .find(|(_, row)| column(row, "name").as_str() == Some(name))
                .map(|(_, row)| {
                    column(row, "up")
                        .as_atom()
                        .is_some_and(|a| *a == lqx_ovsdb::Atom::Boolean(true))
                })
        })?
    }

    /// Makes the northbound database hold `state`'s rows, and waits until
    /// its replica shows them.
    pub async fn converge(
        &self,
        state: &VnetState,
        timeout: Duration,
    ) -> Result<PlanCounts, NbError> {
        if !self.nb_rows.wait_for(timeout, |_| true).await {
            return Err(NbError::Unavailable(timeout));
        }
        if !self.sb_chassis.wait_for(timeout, |_| true).await {
            return Err(NbError::SouthboundUnavailable(timeout));
        }
        let chassis = self.gateway_candidates();
        // A replica just opened may not list the chassis yet; writing then
        // would unschedule every gateway.
        if chassis.is_empty() && state.routers.values().any(|r| r.gateway.is_some()) {
            return Err(NbError::NoChassis);
        }
        let desired = model::desired_rows(state, &chassis);
        let plan = self
            .nb_rows
            .read(|r| converge::plan(r, model::TABLES, &desired, &self.owner))
            .ok_or(NbError::Unavailable(timeout))?;
        if plan.counts.is_empty() {
            return Ok(plan.counts);
        }
        let mut operations = vec![lqx_ovsdb::ops::comment("lqxd: converge virtual networks")];
        operations.extend(plan.operations);
        self.nb
            .transact(operations, timeout)
            .await
            .map_err(NbError::Transaction)?;
        let seen = self
            .nb_rows
            .wait_for(timeout, |r| {
                converge::plan(r, model::TABLES, &desired, &self.owner)
                    .counts
                    .is_empty()
            })
            .await;
        if seen {
            Ok(plan.counts)
        } else {
            Err(NbError::NotSeen(timeout))
        }
    }
}
