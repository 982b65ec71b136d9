//! The traits between the agent and a Ceph cluster.

use crate::error::CephError;
use lqx_api::{CephClusterInfo, Volume, VolumeDeleteQuery, VolumeSummary};
use lqx_core::ceph::{MonAddr, VolumeSpec};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How to connect.
#[derive(Clone)]
pub struct ConnectParams {
    /// The monitors.
    pub mons: Vec<MonAddr>,
    /// `client.ID`.
    pub name: String,
    /// Its cephx key, base64.
    pub key: String,
    /// How long to wait for a monitor; also bounds every later operation.
    pub timeout: Duration,
    /// Where the client's ceph.conf and keyring are written while
    /// connecting (a private directory; they are removed after).
    pub scratch: PathBuf,
}

// Keeps the key out of logs.
impl std::fmt::Debug for ConnectParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectParams")
            .field("mons", &self.mons)
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Opens connections to clusters.
pub trait CephBackend: Send + Sync {
    /// Connects and authenticates; returns once a monitor accepted the
    /// client, or fails within `params.timeout` (plus a little).
    fn connect(&self, params: &ConnectParams) -> Result<Arc<dyn CephCluster>, CephError>;
}

/// A connection to a cluster as one client. Every method blocks; the agent
/// calls them off its async threads.
pub trait CephCluster: Send + Sync {
    /// fsid, health, monitor map and the pools this client can see.
    fn info(&self) -> Result<CephClusterInfo, CephError>;
    /// The volumes of `pool`.
    fn list(&self, pool: &str) -> Result<Vec<VolumeSummary>, CephError>;
    /// One volume with its snapshots and their clones.
    fn volume(&self, pool: &str, name: &str) -> Result<Volume, CephError>;
    /// Creates a volume.
    fn create(&self, pool: &str, name: &str, size_bytes: u64) -> Result<Volume, CephError>;
    /// Resizes a volume; a smaller size only with `allow_shrink`.
    fn resize(
        &self,
        pool: &str,
        name: &str,
        size_bytes: u64,
        allow_shrink: bool,
    ) -> Result<Volume, CephError>;
    /// Takes a snapshot.
    fn snapshot_create(&self, pool: &str, name: &str, snap: &str) -> Result<Volume, CephError>;
    /// Deletes a snapshot (unprotecting it); refused while it has clones.
    fn snapshot_delete(&self, pool: &str, name: &str, snap: &str) -> Result<Volume, CephError>;
    /// Clones `source` (with its snapshot) into `target`, protecting the
    /// snapshot first when it is not.
    fn clone_volume(&self, source: &VolumeSpec, target: &VolumeSpec) -> Result<Volume, CephError>;
    /// Deletes a volume; see [`VolumeDeleteQuery`] for what else goes.
    fn delete(&self, pool: &str, name: &str, how: VolumeDeleteQuery) -> Result<(), CephError>;
}
