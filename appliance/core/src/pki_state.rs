//! `pki.json`: this host's certificate authority and the certificate its
//! remote API presents, and when that certificate must be reissued.

use crate::document::Document;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use time::{Duration, OffsetDateTime};

/// Reissue a host certificate this long before it expires.
pub const RENEW_BEFORE: Duration = Duration::days(30);

/// The persisted PKI of this host. Holds private keys: 0600 like every
/// state file, and its `Debug` hides them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PkiState {
    /// Always [`PkiState::SCHEMA_VERSION`] once read.
    pub schema_version: u32,
    /// The authority that signs this host's and its admins' certificates.
    pub authority: StoredAuthority,
    /// The certificate the remote API presents.
    pub host: StoredHostCertificate,
}

/// An authority as stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredAuthority {
    /// The name it was generated with (its certificate's common name).
    pub name: String,
    /// Its certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM.
    pub key_pem: String,
}

/// The host's certificate as stored, with what it was issued for.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredHostCertificate {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM.
    pub key_pem: String,
    /// DNS names it is valid for.
    pub dns_names: Vec<String>,
    /// Addresses it is valid for.
    pub addresses: Vec<IpAddr>,
    /// When it expires.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

impl std::fmt::Debug for PkiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PkiState")
            .field("authority", &self.authority.name)
            .field("host_names", &self.host.dns_names)
            .field("host_addresses", &self.host.addresses)
            .field("host_not_after", &self.host.not_after)
            .finish_non_exhaustive()
    }
}

impl Document for PkiState {
    const FILE_NAME: &'static str = "pki.json";
    const SCHEMA_VERSION: u32 = 1;
}

impl StoredHostCertificate {
    /// Whether the certificate should be replaced: it expires within
    /// [`RENEW_BEFORE`], or the host's names or addresses are no longer
    /// the ones it names (order does not matter).
    pub fn needs_reissue(
        &self,
        dns_names: &[String],
        addresses: &[IpAddr],
        now: OffsetDateTime,
    ) -> bool {
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v.dedup();
            v
        };
        let sorted_ips = |mut v: Vec<IpAddr>| {
            v.sort();
            v.dedup();
            v
        };
        self.not_after - now < RENEW_BEFORE
            || sorted(self.dns_names.clone()) != sorted(dns_names.to_vec())
            || sorted_ips(self.addresses.clone()) != sorted_ips(addresses.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(not_after: OffsetDateTime) -> StoredHostCertificate {
        StoredHostCertificate {
            cert_pem: String::new(),
            key_pem: "secret".into(),
            dns_names: vec!["hv1".into(), "id".into()],
            addresses: vec!["10.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
            not_after,
        }
    }

    #[test]
    fn reissue_when_expiring_or_renamed_or_readdressed() {
        let now = OffsetDateTime::now_utc();
        let c = cert(now + Duration::days(200));
        let names = ["id".to_owned(), "hv1".to_owned()];
        let ips: Vec<IpAddr> = vec!["::1".parse().unwrap(), "10.0.0.1".parse().unwrap()];
        assert!(!c.needs_reissue(&names, &ips, now), "same set, other order");
        assert!(c.needs_reissue(&names, &ips, now + Duration::days(180)));
        assert!(c.needs_reissue(&["id".into(), "hv2".into()], &ips, now));
        assert!(c.needs_reissue(&names, &ips[..1], now));
    }

    #[test]
    fn debug_hides_keys() {
        let state = PkiState {
            schema_version: 1,
            authority: StoredAuthority {
                name: "ca".into(),
                cert_pem: String::new(),
                key_pem: "secret".into(),
            },
            host: cert(OffsetDateTime::now_utc()),
        };
        assert!(!format!("{state:?}").contains("secret"));
    }
}
