//! The host's libvirt daemon as the VM service reaches it: one cached
//! connection, opened (and, in the appliance, libvirtd started) on first
//! use and opened again after a failure, every call off the async runtime.

use crate::agent::AgentError;
use lqx_libvirt::{Libvirt, LibvirtError};
use lqx_systemd::ServiceManager;
use std::sync::{Arc, Mutex};

/// The daemon and how to reach it.
pub struct Hypervisor {
    uri: String,
    manager: Option<Arc<dyn ServiceManager>>,
    conn: Mutex<Option<Arc<Libvirt>>>,
}

impl Hypervisor {
    /// The daemon at `uri`; with `manager`, libvirtd.service is started
    /// before the first connection (the appliance).
    pub fn new(uri: String, manager: Option<Arc<dyn ServiceManager>>) -> Self {
        Self {
            uri,
            manager,
            conn: Mutex::new(None),
        }
    }

    /// The daemon's URI.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    async fn connection(&self) -> Result<Arc<Libvirt>, AgentError> {
        let cached = self.conn.lock().unwrap_or_else(|e| e.into_inner()).clone();
        // A restarted daemon leaves a dead connection behind.
        if let Some(conn) = cached
            && conn.is_alive()
        {
            return Ok(conn);
        }
        if let Some(manager) = &self.manager {
            manager
                .start_unit("libvirtd.service")
                .await
                .map_err(AgentError::Systemd)?;
        }
        let uri = self.uri.clone();
        let conn = tokio::task::spawn_blocking(move || Libvirt::open(&uri))
            .await
            .map_err(AgentError::Task)?
            .map_err(AgentError::Libvirt)?;
        let conn = Arc::new(conn);
        *self.conn.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&conn));
        Ok(conn)
    }

    /// Runs `call` on the connection in a blocking task.
    pub async fn run<T, F>(&self, call: F) -> Result<T, AgentError>
    where
        T: Send + 'static,
        F: FnOnce(&Libvirt) -> Result<T, LibvirtError> + Send + 'static,
    {
        let conn = self.connection().await?;
        tokio::task::spawn_blocking(move || call(&conn))
            .await
            .map_err(AgentError::Task)?
            .map_err(AgentError::Libvirt)
    }
}
