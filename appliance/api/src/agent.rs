//! Facts about the agent process itself.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Whether the agent manages the host it runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentMode {
    /// Running as the appliance's agent: systemd is PID 1 and the
    /// appliance's units are installed; the agent manages units and host
    /// networking.
    Appliance,
    /// Running on some other machine (a developer's, a test): the agent
    /// manages no systemd units and no host networking.
    Standalone,
}

/// `GET /v1/agent`: the agent's version, mode and where it keeps things.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentInfo {
    /// Version of the `lqxd` binary.
    pub version: String,
    /// Management mode in force.
    pub mode: AgentMode,
    /// Process id of the agent.
    pub pid: u32,
    /// Directory holding the agent's persistent state.
    pub state_dir: String,
    /// Path of the local API socket.
    pub socket: String,
    /// The host address every network listener of the agent binds to,
    /// when one was given.
    #[schema(value_type = Option<String>)]
    pub address: Option<IpAddr>,
    /// When this agent process started (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: OffsetDateTime,
    /// The remote API (HTTPS, mutual TLS), when this agent serves one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_api: Option<RemoteApiInfo>,
}

/// Where the remote API listens and whom it trusts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteApiInfo {
    /// The socket address it listens on (`[::]:8443`: every address).
    pub listen: String,
    /// SHA-256 fingerprint (hex) of the certificate authority whose
    /// client certificates it accepts and which signed its own.
    pub authority_fingerprint: String,
    /// Directory holding the admin bundle on this host (`ca.crt`,
    /// `client.crt`, `client.key`), readable by root only.
    pub admin_bundle: String,
}
