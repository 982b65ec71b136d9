//! A chassis request checked against this host, before anything is
//! written.

use lqx_api::ChassisRequest;
use lqx_ovsdb::Remote;
use std::net::IpAddr;

/// A request that passed [`validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validated {
    /// The southbound remotes.
    pub sb_remotes: Vec<Remote>,
    /// The request, normalised (remotes and mappings re-joined).
    pub request: ChassisRequest,
}

/// Checks `request`: remotes parse (TCP or SSL; Unix sockets only when
/// `allow_unix`, for tests on one machine), the encapsulation address is
/// one of `host_addresses`, and bridge mappings are `PHYSNET:BRIDGE` with
/// distinct physical networks. Returns every problem, one per line.
pub fn validate(
    request: &ChassisRequest,
    host_addresses: &[IpAddr],
    allow_unix: bool,
) -> Result<Validated, String> {
    let mut problems = vec![];
    let sb_remotes = match lqx_ovsdb::remote::parse_list(&request.sb_remote) {
        Ok(remotes) => {
            if !allow_unix && remotes.iter().any(|r| matches!(r, Remote::Unix(_))) {
                problems.push("sb_remote: use tcp:IP:PORT or ssl:IP:PORT".to_owned());
            }
            remotes
        }
        Err(e) => {
            problems.push(format!("sb_remote: {e}"));
            vec![]
        }
    };
    if let Some(problem) = ca_problem("sb_remote", &sb_remotes, request.ca_cert.as_deref()) {
        problems.push(problem);
    }
    let ip = request.encap_ip;
    if ip.is_unspecified() || ip.is_multicast() || !host_addresses.contains(&ip) {
        problems.push(format!("encap_ip: {ip} is not an address of this host"));
    }
    let mut physnets: Vec<&str> = vec![];
    for mapping in &request.bridge_mappings {
        match mapping.split_once(':') {
            Some((physnet, bridge)) if name_ok(physnet) && name_ok(bridge) => {
                if physnets.contains(&physnet) {
                    problems.push(format!("bridge_mappings: {physnet} is mapped twice"));
                }
                physnets.push(physnet);
            }
            _ => problems.push(format!(
                "bridge_mappings: {mapping:?} is not PHYSNET:BRIDGE (letters, digits, -, _, .)"
            )),
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    Ok(Validated {
        request: ChassisRequest {
            sb_remote: lqx_ovsdb::remote::join(&sb_remotes),
            ..request.clone()
        },
        sb_remotes,
    })
}

/// What is wrong with giving `ca_cert` for `remotes` (`what`): `ssl:`
/// remotes need one, others take none. (Whether it is a certificate is
/// for whoever builds the TLS configuration to say.)
pub fn ca_problem(what: &str, remotes: &[Remote], ca_cert: Option<&str>) -> Option<String> {
    let ssl = remotes.iter().any(|r| matches!(r, Remote::Ssl(_)));
    match (ssl, ca_cert) {
        (true, None) => Some(format!(
            "{what}: ssl: remotes need ca_cert, the authority of the servers' certificates"
        )),
        (false, Some(_)) => Some(format!(
            "ca_cert: only for ssl: remotes, and {what} has none"
        )),
        _ => None,
    }
}

fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lqx_api::EncapType;

    fn request(sb: &str, ip: &str, mappings: &[&str]) -> ChassisRequest {
        ChassisRequest {
            sb_remote: sb.into(),
            encap_ip: ip.parse().unwrap(),
            encap_type: EncapType::Geneve,
            bridge_mappings: mappings.iter().map(|m| (*m).to_owned()).collect(),
            ca_cert: None,
        }
    }

    #[test]
    fn good_requests_are_normalised() {
        let host = ["10.0.0.5".parse().unwrap()];
        let v = validate(
            &request(
                "tcp:10.0.0.1:6642, tcp:10.0.0.2:6642",
                "10.0.0.5",
                &["physnet:br-ex"],
            ),
            &host,
            false,
        )
        .unwrap();
        assert_eq!(v.request.sb_remote, "tcp:10.0.0.1:6642,tcp:10.0.0.2:6642");
        assert_eq!(v.sb_remotes.len(), 2);
    }

    #[test]
    fn every_problem_is_reported() {
        let host = ["10.0.0.5".parse().unwrap()];
        let err = validate(
            &request("10.0.0.1:6642", "10.0.0.9", &["physnet", "a:b", "a:c"]),
            &host,
            false,
        )
        .unwrap_err();
        assert!(err.contains("sb_remote:"), "{err}");
        assert!(
            err.contains("10.0.0.9 is not an address of this host"),
            "{err}"
        );
        assert!(err.contains("\"physnet\" is not PHYSNET:BRIDGE"), "{err}");
        assert!(err.contains("a is mapped twice"), "{err}");
        let err =
            validate(&request("unix:/tmp/sb.sock", "10.0.0.5", &[]), &host, false).unwrap_err();
        assert!(err.contains("use tcp:"), "{err}");
        assert!(validate(&request("unix:/tmp/sb.sock", "10.0.0.5", &[]), &host, true).is_ok());
    }

    #[test]
    fn ssl_needs_an_authority_and_only_ssl_takes_one() {
        let host = ["10.0.0.5".parse().unwrap()];
        let ssl = request("ssl:10.0.0.1:6642", "10.0.0.5", &[]);
        let err = validate(&ssl, &host, false).unwrap_err();
        assert!(err.contains("need ca_cert"), "{err}");
        let with_ca = ChassisRequest {
            ca_cert: Some("PEM".into()),
            ..ssl
        };
        assert!(validate(&with_ca, &host, false).is_ok());
        let tcp_with_ca = ChassisRequest {
            sb_remote: "tcp:10.0.0.1:6642".into(),
            ..with_ca
        };
        let err = validate(&tcp_with_ca, &host, false).unwrap_err();
        assert!(err.contains("only for ssl:"), "{err}");
    }
}
