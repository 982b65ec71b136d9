//! A certificate authority and the certificates it issues.

use crate::PkiError;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use ring::rand::SecureRandom as _;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use std::fmt;
use std::net::IpAddr;
use time::{Duration, OffsetDateTime};

/// How long an authority's certificate is valid. Long: replacing it means
/// reissuing every host and admin certificate.
pub const AUTHORITY_VALIDITY: Duration = Duration::days(3650);
/// How long host and admin certificates are valid; hosts renew their own.
pub const LEAF_VALIDITY: Duration = Duration::days(365);
/// How far back certificates are dated, for peers whose clocks lag.
const BACKDATE: Duration = Duration::hours(1);
const ORGANIZATION: &str = "LimiQuantix";

/// A certificate and its private key, both PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    /// The certificate.
    pub cert_pem: String,
    /// The private key (PKCS#8).
    pub key_pem: String,
}

/// A certificate just issued, with its expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    /// The certificate and its key.
    pub identity: Identity,
    /// When the certificate stops being valid.
    pub not_after: OffsetDateTime,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// What a certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A host: serves the API and calls other hosts' APIs.
    Host,
    /// An administrator (or a program acting for one): calls the API.
    Admin,
}

/// Whom a certificate names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// The certificate's common name: a host id, or an admin's name.
    pub common_name: String,
    /// What the certificate may be used for.
    pub role: Role,
    /// DNS names the certificate is valid for (hosts only).
    pub dns_names: Vec<String>,
    /// Addresses the certificate is valid for (hosts only).
    pub addresses: Vec<IpAddr>,
}

/// A certificate authority: its certificate and signing key.
pub struct Authority {
    name: String,
    cert_pem: String,
    key: KeyPair,
    issuer_params: CertificateParams,
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authority")
            .field("name", &self.name)
            .field("fingerprint", &fingerprint(&self.cert_pem).ok())
            .finish_non_exhaustive()
    }
}

impl Authority {
    /// Creates a new authority named `name`, valid from `now` for
    /// [`AUTHORITY_VALIDITY`].
    pub fn generate(name: &str, now: OffsetDateTime) -> Result<Self, PkiError> {
        let key = KeyPair::generate().map_err(generate("the authority's key"))?;
        let mut params = authority_params(name);
        params.not_before = now - BACKDATE;
        params.not_after = now + AUTHORITY_VALIDITY;
        params.serial_number = Some(serial()?);
        let cert = params
            .self_signed(&key)
            .map_err(generate("the authority's certificate"))?;
        Ok(Self {
            name: name.to_owned(),
            cert_pem: cert.pem(),
            key,
            issuer_params: authority_params(name),
        })
    }

    /// Reloads an authority written by [`Authority::generate`]; `name` is
    /// the name it was generated with.
    pub fn from_pem(name: &str, cert_pem: &str, key_pem: &str) -> Result<Self, PkiError> {
        // Parsed once so that a damaged file is reported now, not at the
        // first handshake.
        fingerprint(cert_pem)?;
        let key = KeyPair::from_pem(key_pem).map_err(|source| PkiError::Generate {
            what: "the authority's key from its PEM",
            source,
        })?;
        Ok(Self {
            name: name.to_owned(),
            cert_pem: cert_pem.to_owned(),
            key,
            issuer_params: authority_params(name),
        })
    }

    /// The authority's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The authority's certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The authority's private key, PEM. A secret: store it 0600.
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// Issues a certificate for `subject`, valid from `now` for
    /// [`LEAF_VALIDITY`], with a fresh key.
    pub fn issue(&self, subject: &Subject, now: OffsetDateTime) -> Result<Issued, PkiError> {
        let key = KeyPair::generate().map_err(generate("a certificate key"))?;
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(&subject.common_name);
        params.not_before = now - BACKDATE;
        params.not_after = now + LEAF_VALIDITY;
        params.serial_number = Some(serial()?);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        params.extended_key_usages = match subject.role {
            Role::Host => vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
            Role::Admin => vec![ExtendedKeyUsagePurpose::ClientAuth],
        };
        if subject.role == Role::Host {
            for name in &subject.dns_names {
                let name = name
                    .clone()
                    .try_into()
                    .map_err(generate("a certificate's DNS name"))?;
                params.subject_alt_names.push(SanType::DnsName(name));
            }
            params.subject_alt_names.extend(
                subject
                    .addresses
                    .iter()
                    .map(|address| SanType::IpAddress(*address)),
            );
        }
        let issuer = Issuer::from_params(&self.issuer_params, &self.key);
        let cert = params
            .signed_by(&key, &issuer)
            .map_err(generate("a certificate"))?;
        Ok(Issued {
            identity: Identity {
                cert_pem: cert.pem(),
                key_pem: key.serialize_pem(),
            },
            not_after: params.not_after,
        })
    }
}

/// The SHA-256 fingerprint of a PEM certificate's DER, lowercase hex: what
/// an operator compares, and what a joining host pins.
pub fn fingerprint(cert_pem: &str) -> Result<String, PkiError> {
    let der =
        CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|source| PkiError::Pem {
            what: "the certificate",
            source,
        })?;
    Ok(fingerprint_der(&der))
}

/// The SHA-256 fingerprint of a DER certificate, lowercase hex.
pub fn fingerprint_der(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The parameters that identify an authority as an issuer. Rebuilt from
/// the name alone, so that the issuer fields of new certificates match
/// the stored authority certificate without parsing it.
fn authority_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(name);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, ORGANIZATION);
    dn.push(DnType::CommonName, common_name);
    dn
}

/// A random positive 128-bit serial number.
fn serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PkiError::Generate {
            what: "a serial number",
            source: rcgen::Error::RingUnspecified,
        })?;
    bytes[0] &= 0x7f;
    Ok(SerialNumber::from_slice(&bytes))
}

fn generate(what: &'static str) -> impl FnOnce(rcgen::Error) -> PkiError {
    move |source| PkiError::Generate { what, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Subject {
        Subject {
            common_name: "5f0c0f64-3c1e-4d43-9a0e-0c8b1d3d1f7a".into(),
            role: Role::Host,
            dns_names: vec!["hv1".into()],
            addresses: vec!["10.0.2.15".parse().unwrap()],
        }
    }

    #[test]
    fn reloaded_authority_issues_like_the_original() {
        let now = OffsetDateTime::now_utc();
        let ca = Authority::generate("lqx test", now).unwrap();
        let again = Authority::from_pem("lqx test", ca.cert_pem(), &ca.key_pem()).unwrap();
        assert_eq!(again.cert_pem(), ca.cert_pem());
        let issued = again.issue(&host(), now).unwrap();
        assert!(
            issued
                .identity
                .cert_pem
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        assert!(issued.identity.key_pem.contains("PRIVATE KEY"));
        assert_eq!(issued.not_after, now + LEAF_VALIDITY);
    }

    #[test]
    fn fingerprint_is_sha256_hex_of_the_der() {
        let ca = Authority::generate("lqx test", OffsetDateTime::now_utc()).unwrap();
        let fp = fingerprint(ca.cert_pem()).unwrap();
        assert_eq!(fp.len(), 64);
        assert!(
            fp.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let other = Authority::generate("lqx test", OffsetDateTime::now_utc()).unwrap();
        assert_ne!(fingerprint(other.cert_pem()).unwrap(), fp);
    }

    #[test]
    fn damaged_pem_is_refused() {
        let ca = Authority::generate("lqx test", OffsetDateTime::now_utc()).unwrap();
        let err = Authority::from_pem("lqx test", "not pem", &ca.key_pem()).unwrap_err();
        assert!(matches!(err, PkiError::Pem { .. }), "{err}");
        let err = Authority::from_pem("lqx test", ca.cert_pem(), "garbage").unwrap_err();
        assert!(matches!(err, PkiError::Generate { .. }), "{err}");
    }

    #[test]
    fn debug_never_shows_keys() {
        let ca = Authority::generate("lqx test", OffsetDateTime::now_utc()).unwrap();
        let issued = ca.issue(&host(), OffsetDateTime::now_utc()).unwrap();
        assert!(!format!("{issued:?}").contains("PRIVATE"));
        assert!(!format!("{ca:?}").contains("PRIVATE"));
    }
}
