//! The host's certificates: which authority it trusts, the certificate
//! its API presents, and the admin bundle in `STATE_DIR/admin`.

use super::RemoteError;
use lqx_api::{AddressScope, HostFacts};
use lqx_core::document::Document as _;
use lqx_core::pki_state::{PkiState, StoredAuthority, StoredHostCertificate};
use lqx_pki::{Authority, Role, Subject, bundle};
use lqx_store::StateDir;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

/// The admin bundle's directory under the state directory.
pub const ADMIN_DIR: &str = "admin";

/// Which authority [`prepare`] makes the host's.
#[derive(Clone)]
pub enum AuthorityChoice {
    /// The one in `pki.json`, created on first start.
    Keep,
    /// The cluster's (joining, and every start of a member): replaces the
    /// host's own when it differs.
    Use(StoredAuthority),
    /// A new one (leaving a cluster: its admins no longer reach the host).
    Fresh,
}

impl std::fmt::Debug for AuthorityChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Keep => f.write_str("Keep"),
            Self::Use(a) => write!(f, "Use({})", a.name),
            Self::Fresh => f.write_str("Fresh"),
        }
    }
}

/// What [`prepare`] set up.
pub struct Prepared {
    /// The server configurations.
    pub server: ServerTls,
    /// The host identity as a client of other hosts (forwarded requests).
    pub client: Arc<rustls::ClientConfig>,
    /// The authority's fingerprint.
    pub fingerprint: String,
    /// Where the admin bundle is.
    pub admin_dir: PathBuf,
    /// The host certificate in force and what it was issued for.
    pub host: StoredHostCertificate,
}

/// The TLS server configurations of the API's port.
#[derive(Clone)]
pub struct ServerTls {
    /// The API: a client certificate of the authority is required.
    pub api: Arc<rustls::ServerConfig>,
    /// The join channel (ALPN `lqx-join/1`): no client certificate, the
    /// authority's certificate sent for the joiner to pin.
    pub join: Arc<rustls::ServerConfig>,
}

/// The names and addresses a host certificate carries: the hostname, the
/// host id, localhost, every global address, loopback, and `extra` (the
/// `--address` the listener binds to).
pub fn host_subject(host_id: Uuid, facts: &HostFacts, extra: Option<IpAddr>) -> Subject {
    let mut dns_names = vec![host_id.to_string(), "localhost".to_owned()];
    if !facts.hostname.is_empty() && facts.hostname != "localhost" {
        dns_names.push(facts.hostname.clone());
    }
    let mut addresses: Vec<IpAddr> = facts
        .interfaces
        .iter()
        .flat_map(|i| i.addresses.iter())
        .filter(|a| a.scope == AddressScope::Global)
        .map(|a| a.address)
        .chain([
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ])
        .chain(extra)
        .collect();
    dns_names.sort();
    dns_names.dedup();
    addresses.sort();
    addresses.dedup();
    Subject {
        common_name: host_id.to_string(),
        role: Role::Host,
        dns_names,
        addresses,
    }
}

fn load_authority(stored: &StoredAuthority) -> Result<Authority, RemoteError> {
    Ok(Authority::from_pem(
        &stored.name,
        &stored.cert_pem,
        &stored.key_pem,
    )?)
}

fn generate_authority(subject: &Subject, now: OffsetDateTime) -> Result<Authority, RemoteError> {
    let name = format!("LimiQuantix authority {}", subject.common_name);
    let authority = Authority::generate(&name, now)?;
    tracing::info!(
        fingerprint = %lqx_pki::fingerprint(authority.cert_pem())?,
        "created a certificate authority"
    );
    Ok(authority)
}

/// Makes `choice` the host's authority (creating one on first start),
/// reissues the host certificate when the authority changed or
/// [`StoredHostCertificate::needs_reissue`] says so, and writes the admin
/// bundle when it is missing or from another authority. Blocking: key
/// generation and fsyncs. `pki.json` is written before the bundle, so a
/// crash leaves a bundle that the next start replaces.
pub fn prepare(
    store: &StateDir,
    subject: &Subject,
    now: OffsetDateTime,
    choice: AuthorityChoice,
) -> Result<Prepared, RemoteError> {
    let current = store.load::<PkiState>()?;
    let (authority, keep) = match (choice, &current) {
        (AuthorityChoice::Keep, Some(state)) => (load_authority(&state.authority)?, true),
        (AuthorityChoice::Keep, None) | (AuthorityChoice::Fresh, _) => {
            (generate_authority(subject, now)?, false)
        }
        (AuthorityChoice::Use(wanted), state) => {
            let same = state
                .as_ref()
                .is_some_and(|s| s.authority.cert_pem == wanted.cert_pem);
            if !same {
                tracing::info!(authority = %wanted.name, "taking the cluster's authority");
            }
            (load_authority(&wanted)?, same)
        }
    };
    let state = match current {
        Some(state)
            if keep
                && !state
                    .host
                    .needs_reissue(&subject.dns_names, &subject.addresses, now) =>
        {
            state
        }
        _ => issue_host(store, &authority, subject, now)?,
    };
    let admin_dir = store.path().join(ADMIN_DIR);
    write_admin_bundle(&authority, &admin_dir, now)?;
    let host = lqx_pki::Identity {
        cert_pem: state.host.cert_pem.clone(),
        key_pem: state.host.key_pem.clone(),
    };
    Ok(Prepared {
        server: ServerTls {
            api: lqx_pki::tls::server_config(authority.cert_pem(), &host)?,
            join: lqx_pki::tls::join_server_config(authority.cert_pem(), &host)?,
        },
        client: lqx_pki::tls::client_config(authority.cert_pem(), &host)?,
        fingerprint: lqx_pki::fingerprint(authority.cert_pem())?,
        admin_dir,
        host: state.host,
    })
}

/// Replaces the authority with a new one while the remote API is not
/// served, for the names and addresses the host certificate has now.
pub fn forget_authority(store: &StateDir, host_id: Uuid) -> Result<(), RemoteError> {
    let Some(current) = store.load::<PkiState>()? else {
        return Ok(());
    };
    let subject = Subject {
        common_name: host_id.to_string(),
        role: Role::Host,
        dns_names: current.host.dns_names,
        addresses: current.host.addresses,
    };
    prepare(
        store,
        &subject,
        OffsetDateTime::now_utc(),
        AuthorityChoice::Fresh,
    )
    .map(drop)
}

/// Issues and persists a new host certificate for `subject`.
fn issue_host(
    store: &StateDir,
    authority: &Authority,
    subject: &Subject,
    now: OffsetDateTime,
) -> Result<PkiState, RemoteError> {
    let issued = authority.issue(subject, now)?;
    let next = PkiState {
        schema_version: PkiState::SCHEMA_VERSION,
        authority: StoredAuthority {
            name: authority.name().to_owned(),
            cert_pem: authority.cert_pem().to_owned(),
            key_pem: authority.key_pem(),
        },
        host: StoredHostCertificate {
            cert_pem: issued.identity.cert_pem,
            key_pem: issued.identity.key_pem,
            dns_names: subject.dns_names.clone(),
            addresses: subject.addresses.clone(),
            not_after: issued.not_after,
        },
    };
    store.save(&next)?;
    tracing::info!(
        names = ?next.host.dns_names,
        addresses = ?next.host.addresses,
        not_after = %next.host.not_after,
        "issued the host certificate"
    );
    Ok(next)
}

/// Writes `dir/{ca.crt,client.crt,client.key}` unless the bundle there
/// already belongs to `authority`. The key is written first, each file
/// atomically, so that a reader sees either bundle's files or a missing
/// one, and a crash midway is repaired at the next start.
fn write_admin_bundle(
    authority: &Authority,
    dir: &Path,
    now: OffsetDateTime,
) -> Result<(), RemoteError> {
    let current = lqx_pki::Bundle::read(dir).is_ok_and(|b| b.authority_pem == authority.cert_pem());
    if current {
        return Ok(());
    }
    let write_err = |path: PathBuf| move |source| RemoteError::Write { path, source };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(write_err(dir.to_owned()))?;
    let issued = authority.issue(
        &Subject {
            common_name: "admin".into(),
            role: Role::Admin,
            dns_names: vec![],
            addresses: vec![],
        },
        now,
    )?;
    // The key first, then the certificates: a bundle whose ca.crt matches
    // is complete.
    for (name, contents, mode) in [
        (bundle::KEY_FILE, &issued.identity.key_pem, 0o600),
        (bundle::CERT_FILE, &issued.identity.cert_pem, 0o644),
        (bundle::CA_FILE, &authority.cert_pem().to_owned(), 0o644),
    ] {
        let path = dir.join(name);
        lqx_store::atomic::write_file(&path, contents.as_bytes(), mode).map_err(write_err(path))?;
    }
    tracing::info!(dir = %dir.display(), "wrote the admin bundle");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(addresses: &[&str]) -> Subject {
        Subject {
            common_name: "5f0c0f64-3c1e-4d43-9a0e-0c8b1d3d1f7a".into(),
            role: Role::Host,
            dns_names: vec!["hv1".into()],
            addresses: addresses.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn reissued_only_when_the_host_changed_and_the_authority_stays() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateDir::open(dir.path()).unwrap();
        let now = OffsetDateTime::now_utc();
        let keep = || AuthorityChoice::Keep;
        let first = prepare(&store, &subject(&["10.0.0.1"]), now, keep()).unwrap();
        let bundle = std::fs::read(first.admin_dir.join("client.crt")).unwrap();
        let same = prepare(&store, &subject(&["10.0.0.1"]), now, keep()).unwrap();
        assert_eq!(same.host.cert_pem, first.host.cert_pem, "kept");
        // A new address (a network apply, a DHCP lease).
        let moved = prepare(&store, &subject(&["10.0.0.2"]), now, keep()).unwrap();
        assert_ne!(moved.host.cert_pem, first.host.cert_pem, "reissued");
        let state = store.load::<PkiState>().unwrap().unwrap();
        assert!(state.host == moved.host, "persisted");
        assert_eq!(
            moved.host.addresses,
            vec!["10.0.0.2".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(moved.fingerprint, first.fingerprint, "same authority");
        assert_eq!(
            std::fs::read(moved.admin_dir.join("client.crt")).unwrap(),
            bundle,
            "the admin bundle is untouched"
        );
        // Near expiry.
        let later = now + time::Duration::days(340);
        let renewed = prepare(&store, &subject(&["10.0.0.2"]), later, keep()).unwrap();
        assert_ne!(renewed.host.cert_pem, moved.host.cert_pem, "renewed");
    }

    #[test]
    fn a_cluster_authority_replaces_the_own_and_a_fresh_one_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateDir::open(dir.path()).unwrap();
        let now = OffsetDateTime::now_utc();
        let s = subject(&["10.0.0.1"]);
        let own = prepare(&store, &s, now, AuthorityChoice::Keep).unwrap();
        let cluster = Authority::generate("cluster", now).unwrap();
        let stored = StoredAuthority {
            name: cluster.name().into(),
            cert_pem: cluster.cert_pem().into(),
            key_pem: cluster.key_pem(),
        };
        let joined = prepare(&store, &s, now, AuthorityChoice::Use(stored.clone())).unwrap();
        assert_eq!(
            joined.fingerprint,
            lqx_pki::fingerprint(cluster.cert_pem()).unwrap()
        );
        assert_ne!(joined.host.cert_pem, own.host.cert_pem, "reissued by it");
        let bundle = lqx_pki::Bundle::read(&joined.admin_dir).unwrap();
        assert_eq!(bundle.authority_pem, cluster.cert_pem(), "a new bundle");
        // Every later start of a member asks for the same: nothing moves.
        let again = prepare(&store, &s, now, AuthorityChoice::Use(stored)).unwrap();
        assert_eq!(again.host.cert_pem, joined.host.cert_pem);
        let left = prepare(&store, &s, now, AuthorityChoice::Fresh).unwrap();
        assert_ne!(left.fingerprint, joined.fingerprint);
        assert_ne!(left.fingerprint, own.fingerprint);
        let state = store.load::<PkiState>().unwrap().unwrap();
        assert_eq!(
            lqx_pki::fingerprint(&state.authority.cert_pem).unwrap(),
            left.fingerprint
        );
    }
}
