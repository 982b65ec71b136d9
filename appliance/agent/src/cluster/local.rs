//! This host's etcd member: its directory, certificate files,
//! configuration and process.

use super::{ClusterService, MEMBER_READY};
use crate::agent::AgentError;
use lqx_core::pki_state::StoredAuthority;
use lqx_etcd::member::PEER_COMMON_NAME;
use lqx_etcd::{Bootstrap, ClientTls, ClusterStore as _, EtcdStore, MemberConfig, MemberProcess};
use lqx_etcd::{EtcdError, TlsFiles};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use time::OffsetDateTime;

impl ClusterService {
    /// `STATE/etcd`: the member's data, certificates and log.
    pub(super) fn etcd_dir(&self) -> PathBuf {
        self.store.path().join("etcd")
    }

    pub(super) fn data_dir(&self) -> PathBuf {
        self.etcd_dir().join("data")
    }

    fn tls_files(&self) -> TlsFiles {
        let dir = self.etcd_dir().join("tls");
        TlsFiles {
            ca: dir.join("ca.crt"),
            cert: dir.join("etcd.crt"),
            key: dir.join("etcd.key"),
        }
    }

    pub(super) fn member_config(&self, ip: IpAddr, bootstrap: Bootstrap) -> MemberConfig {
        MemberConfig {
            name: self.host_id.to_string(),
            data_dir: self.data_dir(),
            address: ip,
            client_port: self.options.client_port,
            peer_port: self.options.peer_port,
            tls: self.tls_files(),
            bootstrap,
        }
    }

    /// The member's certificate (and this host's client certificate for
    /// the store), issued by the cluster authority for the host's address.
    pub(super) fn issue_etcd(
        &self,
        authority: &StoredAuthority,
        ip: IpAddr,
    ) -> Result<lqx_pki::Identity, AgentError> {
        let authority =
            lqx_pki::Authority::from_pem(&authority.name, &authority.cert_pem, &authority.key_pem)
                .map_err(|e| AgentError::Unavailable(format!("the cluster authority: {e}")))?;
        let subject = lqx_pki::Subject {
            common_name: PEER_COMMON_NAME.into(),
            role: lqx_pki::Role::Host,
            dns_names: vec![],
            addresses: vec![ip],
        };
        authority
            .issue(&subject, OffsetDateTime::now_utc())
            .map(|issued| issued.identity)
            .map_err(|e| AgentError::Unavailable(format!("the etcd certificate: {e}")))
    }

    /// Writes the files etcd reads: the authority, its certificate, its key
    /// (0600), each atomically.
    pub(super) fn write_tls(
        &self,
        ca_pem: &str,
        identity: &lqx_pki::Identity,
    ) -> Result<(), AgentError> {
        let files = self.tls_files();
        let dir = files.ca.parent().map(PathBuf::from).unwrap_or_default();
        lqx_store::atomic::private_dir(&dir).map_err(|e| {
            AgentError::Unavailable(format!("cannot create {}: {e}", dir.display()))
        })?;
        for (path, contents, mode) in [
            (&files.key, &identity.key_pem, 0o600),
            (&files.cert, &identity.cert_pem, 0o644),
            (&files.ca, &ca_pem.to_owned(), 0o644),
        ] {
            lqx_store::atomic::write_file(path, contents.as_bytes(), mode).map_err(|e| {
                AgentError::Unavailable(format!("cannot write {}: {e}", path.display()))
            })?;
        }
        Ok(())
    }

    /// Starts etcd with `config`, its log in `STATE/etcd/etcd.log`.
    pub(super) fn spawn_member(&self, config: &MemberConfig) -> Result<MemberProcess, AgentError> {
        MemberProcess::spawn(
            &self.options.etcd_bin,
            config,
            &self.etcd_dir().join("etcd.log"),
        )
        .map_err(etcd_error)
    }

    /// A client of the store at `endpoints` with the member's certificate.
    pub(super) async fn connect(
        &self,
        endpoints: &[String],
        ca_pem: &str,
        identity: &lqx_pki::Identity,
    ) -> Result<EtcdStore, AgentError> {
        let tls = ClientTls {
            ca_pem: ca_pem.to_owned(),
            cert_pem: identity.cert_pem.clone(),
            key_pem: identity.key_pem.clone(),
        };
        EtcdStore::connect(endpoints, &tls, self.options.timeout)
            .await
            .map_err(etcd_error)
    }
}

/// Waits until `store` answers a linearizable read, or fails with why
/// the member exited if it does first.
pub(super) async fn wait_serving(
    store: &EtcdStore,
    member: &mut MemberProcess,
) -> Result<(), AgentError> {
    tokio::select! {
        ready = store.wait_ready(MEMBER_READY) => ready.map_err(etcd_error),
        exited = wait_exit(member) => Err(AgentError::Unavailable(exited)),
    }
}

/// Promotes the learner `id` once it has caught up with the leader,
/// retrying until [`MEMBER_READY`] has passed or the member exits.
pub(super) async fn promote(
    store: &EtcdStore,
    member: &mut MemberProcess,
    id: u64,
) -> Result<(), AgentError> {
    let start = tokio::time::Instant::now();
    loop {
        if let Some(exited) = member.exited() {
            return Err(AgentError::Unavailable(exited));
        }
        match store.promote_member(id).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_unavailable() && start.elapsed() < MEMBER_READY => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return Err(etcd_error(e)),
        }
    }
}

/// Runs `op` until it succeeds, fails for good, or [`MEMBER_READY`] has
/// passed: right after a member is removed the others may need an
/// election before they serve writes again. Only for idempotent writes.
pub(super) async fn settle<T, F, Fut>(mut op: F) -> Result<T, EtcdError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, EtcdError>>,
{
    let start = tokio::time::Instant::now();
    loop {
        match op().await {
            Err(e) if e.is_unavailable() && start.elapsed() < MEMBER_READY => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            done => return done,
        }
    }
}

pub(super) async fn wait_exit(member: &mut MemberProcess) -> String {
    loop {
        if let Some(exited) = member.exited() {
            return exited;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(super) fn remove_dir(dir: &Path) -> Result<(), AgentError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(AgentError::Unavailable(format!(
            "cannot remove {}: {e}",
            dir.display()
        ))),
    }
}

pub(super) fn etcd_error(e: EtcdError) -> AgentError {
    AgentError::Cluster(e)
}
