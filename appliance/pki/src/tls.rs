//! rustls configurations of the mutual-TLS API.
//!
//! Both sides trust exactly one authority. The server requires a client
//! certificate it signed. The client checks that the server's certificate
//! chains to that authority and is a host certificate, but not the name it
//! dialled: hosts are reached by addresses an operator changes through the
//! network configuration, and a certificate of this private authority
//! names a host of this cluster whatever address it answers on (the
//! trust an operator places by pinning the authority's fingerprint, as
//! Incus and Talos clients do). Clients that check names (curl with
//! `--cacert`) still can: host certificates carry the hostname, host id
//! and the addresses the host had when it was issued.

use crate::{Identity, PkiError};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::{ParsedCertificate, WebPkiClientVerifier};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use rustls_pki_types::pem::PemObject as _;
use std::sync::Arc;

/// ALPN protocol of the API: HTTP/1.1 only.
const ALPN: &[u8] = b"http/1.1";

/// ALPN protocol of the join channel: HTTP/1.1 carrying only the join
/// request, on the API's port. A client asking for it is served by
/// [`join_server_config`] (no client certificate, the authority's
/// certificate in the chain) and reaches nothing but the join handler.
pub const JOIN_ALPN: &[u8] = b"lqx-join/1";

/// What rustls refused, naming `what`.
fn refused(what: &'static str) -> impl FnOnce(rustls::Error) -> PkiError {
    move |source| PkiError::Tls { what, source }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(authority_pem: &str) -> Result<Arc<RootCertStore>, PkiError> {
    let der = CertificateDer::from_pem_slice(authority_pem.as_bytes()).map_err(|source| {
        PkiError::Pem {
            what: "the authority's certificate",
            source,
        }
    })?;
    let mut roots = RootCertStore::empty();
    roots
        .add(der)
        .map_err(refused("the authority's certificate"))?;
    Ok(Arc::new(roots))
}

fn chain_and_key(
    identity: &Identity,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), PkiError> {
    let cert = CertificateDer::from_pem_slice(identity.cert_pem.as_bytes()).map_err(|source| {
        PkiError::Pem {
            what: "the certificate",
            source,
        }
    })?;
    let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).map_err(|source| {
        PkiError::Pem {
            what: "the private key",
            source,
        }
    })?;
    Ok((vec![cert], key))
}

/// The API server's configuration: presents `host`, requires a client
/// certificate signed by the authority.
pub fn server_config(authority_pem: &str, host: &Identity) -> Result<Arc<ServerConfig>, PkiError> {
    let provider = provider();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(roots(authority_pem)?, provider.clone())
            .build()
            .map_err(|e| PkiError::Verifier(Box::new(e)))?;
    let (chain, key) = chain_and_key(host)?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(refused("the default protocol versions"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(refused("the host certificate"))?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok(Arc::new(config))
}

/// An API client's configuration: presents `client`, trusts servers with a
/// host certificate of the authority (see the module's notes on names).
pub fn client_config(
    authority_pem: &str,
    client: &Identity,
) -> Result<Arc<ClientConfig>, PkiError> {
    let provider = provider();
    let verifier = PinnedServer {
        trust: Trust::Authority(roots(authority_pem)?),
        algorithms: provider.signature_verification_algorithms,
    };
    let (chain, key) = chain_and_key(client)?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(refused("the default protocol versions"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(chain, key)
        .map_err(refused("the client certificate"))?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok(Arc::new(config))
}

/// A client configuration for a server of another authority (OVN's
/// central databases): presents `client` (this host's certificate, which
/// the server trusts through the cluster's authority) and checks the
/// server's certificate the usual way, chain to `server_ca_pem` and the
/// name or address dialled. No ALPN: OVSDB speaks JSON-RPC over the bare
/// stream.
pub fn foreign_client_config(
    server_ca_pem: &str,
    client: &Identity,
) -> Result<Arc<ClientConfig>, PkiError> {
    let provider = provider();
    let (chain, key) = chain_and_key(client)?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(refused("the default protocol versions"))?
        .with_root_certificates(roots(server_ca_pem)?)
        .with_client_auth_cert(chain, key)
        .map_err(refused("the client certificate"))?;
    // ovsdb-server (OpenSSL, client certificates required, no session id
    // context set) answers a resumed session with an internal_error
    // alert: every connection after the first would fail.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

/// The join channel's server configuration: presents `host` followed by
/// the authority's certificate, so that a joining host which knows only
/// the authority's fingerprint can check the chain; asks for no client
/// certificate (the joining host proves a token's secret instead).
pub fn join_server_config(
    authority_pem: &str,
    host: &Identity,
) -> Result<Arc<ServerConfig>, PkiError> {
    let (mut chain, key) = chain_and_key(host)?;
    chain.push(
        CertificateDer::from_pem_slice(authority_pem.as_bytes()).map_err(|source| {
            PkiError::Pem {
                what: "the authority's certificate",
                source,
            }
        })?,
    );
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(refused("the default protocol versions"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(refused("the host certificate"))?;
    config.alpn_protocols = vec![JOIN_ALPN.to_vec()];
    Ok(Arc::new(config))
}

/// A joining host's configuration: trusts a server whose chain holds a
/// certificate with SHA-256 `fingerprint` (lowercase hex) that signed the
/// server's own, valid for server use; presents no certificate.
pub fn join_client_config(fingerprint: &str) -> Arc<ClientConfig> {
    let provider = provider();
    let verifier = PinnedServer {
        trust: Trust::Fingerprint(fingerprint.to_ascii_lowercase()),
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| unreachable!("ring supports the default versions"))
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![JOIN_ALPN.to_vec()];
    Arc::new(config)
}

/// What a client trusts a server's certificate by.
#[derive(Debug)]
enum Trust {
    /// The authority it holds.
    Authority(Arc<RootCertStore>),
    /// The certificate, among those the server sends, with this SHA-256
    /// fingerprint (lowercase hex): a joining host knows only that.
    Fingerprint(String),
}

/// Verifies a server certificate's chain, validity and server-auth usage
/// against one pinned authority, without the name check.
#[derive(Debug)]
struct PinnedServer {
    trust: Trust,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedServer {
    fn roots(
        &self,
        intermediates: &[CertificateDer<'_>],
    ) -> Result<Arc<RootCertStore>, rustls::Error> {
        match &self.trust {
            Trust::Authority(roots) => Ok(Arc::clone(roots)),
            Trust::Fingerprint(fingerprint) => {
                let pinned = intermediates
                    .iter()
                    .find(|c| crate::fingerprint_der(c) == *fingerprint)
                    .ok_or_else(|| {
                        rustls::Error::General(format!(
                            "the server's authority is not the one with fingerprint {fingerprint}"
                        ))
                    })?;
                let mut roots = RootCertStore::empty();
                roots.add(pinned.clone().into_owned())?;
                Ok(Arc::new(roots))
            }
        }
    }
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let roots = self.roots(intermediates)?;
        // The pinned certificate is the anchor, not a link of the chain.
        let intermediates = match self.trust {
            Trust::Authority(_) => intermediates,
            Trust::Fingerprint(_) => &[],
        };
        let cert = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &roots,
            intermediates,
            now,
            self.algorithms.all,
        )?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Authority, Role, Subject};
    use time::OffsetDateTime;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    fn subject(role: Role) -> Subject {
        Subject {
            common_name: format!("{role:?}"),
            role,
            dns_names: vec!["hv1".into()],
            addresses: vec!["127.0.0.1".parse().unwrap()],
        }
    }

    /// Runs one handshake and a byte exchange over an in-memory pipe.
    async fn handshake(
        server: Arc<ServerConfig>,
        client: Arc<ClientConfig>,
        name: &str,
    ) -> Result<(), String> {
        let (a, b) = tokio::io::duplex(1 << 16);
        let acceptor = tokio_rustls::TlsAcceptor::from(server);
        let connector = tokio_rustls::TlsConnector::from(client);
        let name = ServerName::try_from(name.to_owned()).unwrap();
        let serve = tokio::spawn(async move {
            let mut stream = acceptor.accept(a).await.map_err(|e| e.to_string())?;
            let mut byte = [0u8; 1];
            stream
                .read_exact(&mut byte)
                .await
                .map_err(|e| e.to_string())?;
            stream.write_all(&byte).await.map_err(|e| e.to_string())?;
            stream.flush().await.map_err(|e| e.to_string())
        });
        let client = async {
            let mut stream = connector
                .connect(name, b)
                .await
                .map_err(|e| e.to_string())?;
            stream.write_all(b"x").await.map_err(|e| e.to_string())?;
            let mut byte = [0u8; 1];
            stream
                .read_exact(&mut byte)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(())
        };
        let client = client.await;
        let server = serve.await.unwrap();
        client.and(server)
    }

    #[tokio::test]
    async fn admin_reaches_host_at_any_name() {
        let now = OffsetDateTime::now_utc();
        let ca = Authority::generate("lqx test", now).unwrap();
        let host = ca.issue(&subject(Role::Host), now).unwrap().identity;
        let admin = ca.issue(&subject(Role::Admin), now).unwrap().identity;
        let server = server_config(ca.cert_pem(), &host).unwrap();
        let client = client_config(ca.cert_pem(), &admin).unwrap();
        handshake(server.clone(), client.clone(), "hv1")
            .await
            .unwrap();
        // An address the certificate does not name: still the pinned
        // authority's host.
        handshake(server, client, "192.0.2.9").await.unwrap();
    }

    #[tokio::test]
    async fn client_of_another_authority_is_refused() {
        let now = OffsetDateTime::now_utc();
        let ca = Authority::generate("lqx test", now).unwrap();
        let other = Authority::generate("lqx test", now).unwrap();
        let host = ca.issue(&subject(Role::Host), now).unwrap().identity;
        let stranger = other.issue(&subject(Role::Admin), now).unwrap().identity;
        // The stranger trusts the right authority but holds another's
        // certificate.
        let client = client_config(ca.cert_pem(), &stranger).unwrap();
        let err = handshake(server_config(ca.cert_pem(), &host).unwrap(), client, "hv1")
            .await
            .unwrap_err();
        assert!(!err.is_empty());
    }

    #[tokio::test]
    async fn server_of_another_authority_is_refused() {
        let now = OffsetDateTime::now_utc();
        let ca = Authority::generate("lqx test", now).unwrap();
        let other = Authority::generate("lqx test", now).unwrap();
        let impostor = other.issue(&subject(Role::Host), now).unwrap().identity;
        let admin = ca.issue(&subject(Role::Admin), now).unwrap().identity;
        let err = handshake(
            server_config(other.cert_pem(), &impostor).unwrap(),
            client_config(ca.cert_pem(), &admin).unwrap(),
            "hv1",
        )
        .await
        .unwrap_err();
        assert!(
            err.contains("UnknownIssuer") || err.contains("certificate"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn admin_certificate_cannot_serve() {
        // An admin's certificate lacks server-auth usage: a stolen admin
        // bundle cannot impersonate a host.
        let now = OffsetDateTime::now_utc();
        let ca = Authority::generate("lqx test", now).unwrap();
        let admin = ca.issue(&subject(Role::Admin), now).unwrap().identity;
        let err = handshake(
            server_config(ca.cert_pem(), &admin).unwrap(),
            client_config(ca.cert_pem(), &admin).unwrap(),
            "hv1",
        )
        .await
        .unwrap_err();
        assert!(!err.is_empty());
    }

    #[tokio::test]
    async fn joiner_pins_the_authority_by_fingerprint() {
        let now = OffsetDateTime::now_utc();
        let ca = Authority::generate("lqx test", now).unwrap();
        let host = ca.issue(&subject(Role::Host), now).unwrap().identity;
        let server = join_server_config(ca.cert_pem(), &host).unwrap();
        let pin = crate::fingerprint(ca.cert_pem()).unwrap();
        handshake(server.clone(), join_client_config(&pin), "192.0.2.9")
            .await
            .unwrap();
        // Another authority's fingerprint: refused before anything is sent.
        let other = Authority::generate("lqx test", now).unwrap();
        let wrong = crate::fingerprint(other.cert_pem()).unwrap();
        let err = handshake(server, join_client_config(&wrong), "hv1")
            .await
            .unwrap_err();
        assert!(err.contains("fingerprint"), "{err}");
        // An impostor sending the pinned authority's certificate in its
        // chain but signed by its own key.
        let impostor = other.issue(&subject(Role::Host), now).unwrap().identity;
        let forged = join_server_config(ca.cert_pem(), &impostor).unwrap();
        let err = handshake(forged, join_client_config(&pin), "hv1")
            .await
            .unwrap_err();
        assert!(!err.is_empty());
        // An admin certificate of the right authority cannot serve joins.
        let admin = ca.issue(&subject(Role::Admin), now).unwrap().identity;
        let err = handshake(
            join_server_config(ca.cert_pem(), &admin).unwrap(),
            join_client_config(&pin),
            "hv1",
        )
        .await
        .unwrap_err();
        assert!(!err.is_empty());
    }

    #[tokio::test]
    async fn the_api_refuses_the_join_protocol() {
        // A joining client (no certificate) against the API's own
        // configuration: no shared protocol, and no certificate either.
        let now = OffsetDateTime::now_utc();
        let ca = Authority::generate("lqx test", now).unwrap();
        let host = ca.issue(&subject(Role::Host), now).unwrap().identity;
        let pin = crate::fingerprint(ca.cert_pem()).unwrap();
        let err = handshake(
            server_config(ca.cert_pem(), &host).unwrap(),
            join_client_config(&pin),
            "hv1",
        )
        .await
        .unwrap_err();
        assert!(!err.is_empty());
    }

    #[tokio::test]
    async fn expired_host_certificate_is_refused() {
        let long_ago = OffsetDateTime::now_utc() - time::Duration::days(800);
        let ca = Authority::generate("lqx test", long_ago).unwrap();
        let host = ca.issue(&subject(Role::Host), long_ago).unwrap().identity;
        let admin = ca
            .issue(&subject(Role::Admin), OffsetDateTime::now_utc())
            .unwrap()
            .identity;
        let err = handshake(
            server_config(ca.cert_pem(), &host).unwrap(),
            client_config(ca.cert_pem(), &admin).unwrap(),
            "hv1",
        )
        .await
        .unwrap_err();
        assert!(err.to_lowercase().contains("expired"), "{err}");
    }
}
