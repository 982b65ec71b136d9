//! What the cluster refuses, against real agents on 127.0.0.45–47.
//!
//! - Every route of the API (every path and method of the committed
//!   OpenAPI document) on a member's HTTPS port is refused at the TLS
//!   handshake to a client without a certificate, with a certificate of
//!   another authority, and with an expired certificate of the cluster's
//!   own authority; the join channel on the same port reaches none of
//!   them.
//! - Join tokens that are reused, expired, carry a wrong fingerprint or
//!   a forged secret are refused, and leave the cluster (etcd's members,
//!   the member list, the tokens) and the joining host unchanged.

use hyper::Method;
use lqx_api::{ClusterStatus, HostInfo, Member};
use lqx_client::{Client, ClientError};
use lqx_core::cluster_token::{ID_BYTES, JoinToken, SECRET_BYTES, hex};
use lqx_core::pki_state::PkiState;
use lqx_pki::{Authority, Role, Subject};
use lqx_test_support::cluster::{ClusterHost, etcd_member_names};
use lqx_test_support::{assert_ok, assert_refused};
use std::sync::Arc;
use time::OffsetDateTime;

/// Every (method, path) of the API, path parameters filled in.
fn routes() -> Vec<(Method, String)> {
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/openapi.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let path = path
            .replace("{pool}", "rbd")
            .replace("{name}", "vol")
            .replace("{snapshot}", "snap")
            .replace("{host}", "some-host")
            .replace("{vm}", "some-vm")
            .replace("{volume}", "some-volume")
            .replace("{fip}", "192.0.2.9")
            .replace("{lb}", "some-lb")
            .replace("{network}", "some-net")
            .replace("{router}", "some-router")
            .replace("{group}", "some-group")
            .replace("{rule}", "00000000-0000-0000-0000-000000000001")
            .replace("{port}", "some-port");
        assert!(!path.contains('{'), "a path parameter left in {path}");
        for method in item.as_object().unwrap().keys() {
            routes.push((method.to_uppercase().parse().unwrap(), path.clone()));
        }
    }
    assert!(routes.len() > 30, "{routes:?}");
    routes
}

/// A client that trusts the cluster's authority (checking the name it
/// dials, as curl would) and presents no certificate.
fn without_certificate(authority_pem: &str) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let der = rustls::pki_types::pem::PemObject::from_pem_slice(authority_pem.as_bytes()).unwrap();
    roots.add(der).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

fn admin_subject() -> Subject {
    Subject {
        common_name: "admin".into(),
        role: Role::Admin,
        dns_names: vec![],
        addresses: vec![],
    }
}

/// The cluster authority, read from the creating host's state (the test
/// runs as root, like the agent).
fn cluster_authority(host: &ClusterHost) -> Authority {
    let raw = std::fs::read(host.agent.state_dir().join("pki.json")).unwrap();
    let pki: PkiState = lqx_core::document::decode(&raw).unwrap();
    Authority::from_pem(
        &pki.authority.name,
        &pki.authority.cert_pem,
        &pki.authority.key_pem,
    )
    .unwrap()
}

/// What the cluster looks like: etcd's members, the member list, the
/// stored tokens.
fn snapshot(h1: &ClusterHost) -> (Vec<String>, Vec<String>, String) {
    let members: Vec<Member> = h1.json(&["cluster", "members"]);
    let mut ids: Vec<String> = members.iter().map(|m| m.id.to_string()).collect();
    ids.sort();
    let tokens = assert_ok(h1.etcdctl(&["get", "--prefix", "/lqx/v1/tokens/"]));
    (etcd_member_names(&h1.bundle(), &h1.etcd_url()), ids, tokens)
}

/// The joining host's own view: its membership and its authority.
fn joiner_state(host: &ClusterHost) -> (Option<lqx_api::ClusterConfig>, String) {
    let status: ClusterStatus = host.json(&["cluster", "status"]);
    let info: HostInfo = host.json(&["host", "show"]);
    (
        status.cluster,
        info.agent.remote_api.unwrap().authority_fingerprint,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_certificates_and_tokens() {
    let h1 = ClusterHost::start("127.0.0.45").await;
    let h2 = ClusterHost::start("127.0.0.46").await;
    let h3 = ClusterHost::start("127.0.0.47").await;
    let config = h1.init(&["--name", "guarded"]).cluster.unwrap();
    let authority = cluster_authority(&h1);
    let now = OffsetDateTime::now_utc();

    // Certificates: none, another authority's, an expired one of ours.
    let other = Authority::generate("another", now).unwrap();
    let foreign = other.issue(&admin_subject(), now).unwrap().identity;
    let expired = authority
        .issue(&admin_subject(), now - time::Duration::days(800))
        .unwrap()
        .identity;
    let bad_clients = [
        ("no certificate", without_certificate(authority.cert_pem())),
        (
            "another authority's certificate",
            lqx_pki::tls::client_config(authority.cert_pem(), &foreign).unwrap(),
        ),
        (
            "an expired certificate",
            lqx_pki::tls::client_config(authority.cert_pem(), &expired).unwrap(),
        ),
    ];
    let good = lqx_pki::Bundle::read(&h1.bundle())
        .unwrap()
        .client_config()
        .unwrap();
    let joiner = lqx_pki::tls::join_client_config(&config.fingerprint);
    let routes = routes();
    for (method, path) in &routes {
        let body =
            matches!(*method, Method::POST | Method::PUT | Method::PATCH).then(|| b"{}".to_vec());
        for (what, tls) in &bad_clients {
            let client = Client::https(&h1.url(), Arc::clone(tls)).unwrap();
            match client.raw(method.clone(), path, body.clone()).await {
                // The handshake fails, or with TLS 1.3 the client learns
                // of the refusal when it reads: never an HTTP answer.
                Err(ClientError::Tls { .. } | ClientError::Transport(_)) => {}
                other => panic!("{method} {path} with {what}: {other:?}"),
            }
        }
        // The join channel answers, but only that it serves the join.
        let client = Client::https(&h1.url(), Arc::clone(&joiner)).unwrap();
        let (status, answer) = client
            .raw(method.clone(), path, body.clone())
            .await
            .unwrap();
        assert_eq!(status, 404, "{method} {path} on the join channel");
        assert!(
            String::from_utf8_lossy(&answer).contains("the join channel serves only POST /join"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    // The same route with the admin bundle: served.
    let admin = Client::https(&h1.url(), good).unwrap();
    assert_eq!(admin.host().await.unwrap().host_id.to_string(), h1.id);

    // Tokens. One is used by h2; its reuse by h3 is refused.
    let used = h1.token();
    h2.join(&used);
    h1.wait_members(&[&h1, &h2], &[]);
    let before = snapshot(&h1);
    let h3_before = joiner_state(&h3);
    let unchanged = |why: &str| {
        assert_eq!(snapshot(&h1), before, "the cluster changed after {why}");
        assert_eq!(joiner_state(&h3), h3_before, "h3 changed after {why}");
        assert!(
            !h3.agent.state_dir().join("etcd").exists(),
            "h3 kept etcd files after {why}"
        );
    };
    assert_refused(
        h3.lqx(&["cluster", "join", &used]),
        "unknown to the cluster",
    );
    unchanged("a reused token");

    // An expired one: a record whose expiry has passed, still in the
    // store (its lease would have collected it; this one has none).
    let mut random = [7u8; ID_BYTES + SECRET_BYTES];
    random[0] = 0xee;
    let stale = JoinToken::new(
        vec![format!("{}:8443", h1.address).parse().unwrap()],
        &config.fingerprint,
        &random,
    );
    let record = serde_json::json!({
        "secret_sha256": hex(ring::digest::digest(&ring::digest::SHA256, &random[ID_BYTES..]).as_ref()),
        "expires_at": "2026-01-01T00:00:00Z",
        "created_by": h1.id,
    });
    assert_ok(h1.etcdctl(&[
        "put",
        &format!("/lqx/v1/tokens/{}", stale.id),
        &record.to_string(),
    ]));
    let with_stale = snapshot(&h1);
    assert_refused(h3.lqx(&["cluster", "join", &stale.encode()]), "has expired");
    // The expired record is collected; nothing else moved.
    let after = snapshot(&h1);
    assert!(
        !after.2.contains(&stale.id),
        "the expired token was collected"
    );
    assert_eq!((&after.0, &after.1), (&with_stale.0, &with_stale.1));
    assert_eq!(joiner_state(&h3), h3_before);

    // A wrong fingerprint: h1 holds another authority than the token
    // names, so h3 refuses it before sending the secret.
    let real = h1.token();
    let before_real = snapshot(&h1);
    let mut wrong = JoinToken::decode(&real).unwrap();
    wrong.fingerprint = lqx_pki::fingerprint(other.cert_pem()).unwrap();
    assert_refused(
        h3.lqx(&["cluster", "join", &wrong.encode()]),
        "does not hold the authority the token names",
    );
    assert_eq!(snapshot(&h1), before_real, "the token was not even sent");

    // A forged secret for the real token's id.
    let mut forged = JoinToken::decode(&real).unwrap();
    forged.secret = JoinToken::new(vec![], "", &[9u8; ID_BYTES + SECRET_BYTES]).secret;
    assert_refused(
        h3.lqx(&["cluster", "join", &forged.encode()]),
        "secret is wrong",
    );
    assert_eq!(
        snapshot(&h1),
        before_real,
        "the real token survives a forgery"
    );
    assert_eq!(joiner_state(&h3), h3_before);

    // The real holder still joins with it.
    let joined = h3.join(&real).cluster.unwrap();
    assert_eq!(joined.id, config.id);
    h1.wait_members(&[&h1, &h2, &h3], &[]);
    let log = h1.agent.log() + &h3.agent.log();
    assert!(log.contains("refused a join"), "refusals are logged");
    for secret in [&forged.secret, &JoinToken::decode(&real).unwrap().secret] {
        assert!(!log.contains(secret.as_str()), "a secret was logged");
    }
}
