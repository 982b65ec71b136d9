//! The client against a real `ovsdb-server` serving an Open_vSwitch
//! database; `ovs-vsctl` checks results and makes changes independently.

use lqx_ovsdb::datum::{Atom, Datum};
use lqx_ovsdb::ops::{self, Condition, Mutation};
use lqx_ovsdb::replica::column;
use lqx_ovsdb::{Client, ClientError, Remote, Session, SessionOptions};
use lqx_test_support::ovsdb::{OvsdbFixture, VSWITCH_SCHEMA};
use std::sync::Arc;
use std::time::Duration;

const DB: &str = "Open_vSwitch";
const WAIT: Duration = Duration::from_secs(10);

async fn connect(remote: &str) -> Client {
    Client::connect(&remote.parse::<Remote>().unwrap(), None, WAIT)
        .await
        .unwrap()
}

/// The root row every Open_vSwitch database has (ovs-vsctl init).
async fn init(client: &Client) {
    client
        .transact(DB, vec![ops::insert(DB, [], None)])
        .await
        .unwrap();
}

#[tokio::test]
async fn transactions_and_a_monitor_agree_with_ovs_vsctl() {
    let fixture = OvsdbFixture::start(VSWITCH_SCHEMA);
    let client = connect(&fixture.server.unix_remote()).await;
    assert!(client.list_dbs().await.unwrap().contains(&DB.to_owned()));
    let schema = Arc::new(client.get_schema(DB).await.unwrap());
    init(&client).await;
    let monitor = client
        .monitor(
            DB,
            schema,
            &[(DB, &["external_ids", "bridges"]), ("Bridge", &["name"])],
        )
        .await
        .unwrap();
    assert_eq!(monitor.read(|r| r.rows(DB).count()), 1, "initial contents");

    // Our writes, read back by ovs-vsctl.
    let results = client
        .transact(
            DB,
            vec![
                ops::mutate(
                    DB,
                    &[],
                    &[Mutation::insert(
                        "external_ids",
                        &Datum::string_map([("system-id", "hv1"), ("ovn-encap-ip", "127.0.0.1")]),
                    )],
                ),
                ops::insert("Bridge", [("name", Datum::scalar("br-int"))], Some("br")),
                ops::mutate(
                    DB,
                    &[],
                    &[Mutation::insert(
                        "bridges",
                        &Datum::set([Atom::NamedUuid("br".into())]),
                    )],
                ),
            ],
        )
        .await
        .unwrap();
    assert_eq!(results[0]["count"], 1);
    let bridge_uuid = results[1]["uuid"][1].as_str().unwrap().to_owned();
    assert_eq!(
        fixture.vsctl(&["get", DB, ".", "external_ids:system-id"]),
        "hv1"
    );
    assert_eq!(fixture.vsctl(&["list-br"]), "br-int");
    assert_eq!(
        fixture.vsctl(&["get", "Bridge", "br-int", "_uuid"]),
        bridge_uuid
    );
    assert!(
        monitor
            .wait_for(WAIT, |r| {
                r.rows(DB).any(|(_, row)| {
                    column(row, "external_ids").get("system-id") == Some("hv1")
                        && column(row, "bridges").atoms().len() == 1
                }) && r
                    .rows("Bridge")
                    .any(|(_, row)| column(row, "name").as_str() == Some("br-int"))
            })
            .await
    );

    // Another client's writes reach the replica: a key changed, one
    // removed, a bridge deleted.
    fixture.vsctl(&["set", DB, ".", "external_ids:system-id=hv2"]);
    fixture.vsctl(&["remove", DB, ".", "external_ids", "ovn-encap-ip"]);
    fixture.vsctl(&["del-br", "br-int"]);
    assert!(
        monitor
            .wait_for(WAIT, |r| {
                r.rows(DB).any(|(_, row)| {
                    let ids = column(row, "external_ids");
                    ids.get("system-id") == Some("hv2")
                        && ids.get("ovn-encap-ip").is_none()
                        && column(row, "bridges").atoms().is_empty()
                }) && r.rows("Bridge").count() == 0
            })
            .await,
        "{:?}",
        monitor.read(|r| r.rows(DB).map(|(_, row)| row.clone()).collect::<Vec<_>>())
    );
}

#[tokio::test]
async fn a_failed_operation_commits_nothing_and_says_where() {
    let fixture = OvsdbFixture::start(VSWITCH_SCHEMA);
    let client = connect(&fixture.server.tcp_remote()).await;
    init(&client).await;
    // A reference to a row that does not exist fails at commit, after
    // both operations succeeded as operations; the first is undone too.
    let err = client
        .transact(
            DB,
            vec![
                ops::mutate(
                    DB,
                    &[],
                    &[Mutation::insert(
                        "external_ids",
                        &Datum::string_map([("half", "done")]),
                    )],
                ),
                ops::mutate(
                    DB,
                    &[],
                    &[Mutation::insert(
                        "bridges",
                        &Datum::set([Atom::Uuid(uuid::Uuid::from_u128(42))]),
                    )],
                ),
            ],
        )
        .await
        .unwrap_err();
    match &err {
        ClientError::Transaction { index, error, .. } => {
            assert_eq!(
                (*index, error.as_str()),
                (2, "referential integrity violation"),
                "{err}"
            );
        }
        other => panic!("{other}"),
    }
    assert_eq!(fixture.vsctl(&["get", DB, ".", "external_ids"]), "{}");
    // An operation on a column the table lacks fails at its own index.
    let err = client
        .transact(
            DB,
            vec![
                ops::comment("lqx test"),
                ops::select("Bridge", &[Condition::eq("nope", &Datum::scalar(1))], &[]),
            ],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::Transaction { index: 1, .. }),
        "{err}"
    );
    assert_eq!(fixture.vsctl(&["list-br"]), "");
    // The connection is still good.
    client.echo().await.unwrap();
}

#[tokio::test]
async fn idle_connection_answers_the_servers_echo() {
    let fixture = OvsdbFixture::start(VSWITCH_SCHEMA);
    // The server probes idle TCP clients every 5 s and drops those that
    // do not answer within another 5.
    let client = connect(&fixture.server.tcp_remote()).await;
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert!(!client.is_closed());
    assert!(
        client.echoes_answered() >= 1,
        "the server probed and was answered"
    );
    client.echo().await.unwrap();
}

#[tokio::test]
async fn session_reconnects_and_starts_its_monitor_over() {
    let mut fixture = OvsdbFixture::start(VSWITCH_SCHEMA);
    let remotes = lqx_ovsdb::remote::parse_list(&fixture.server.tcp_remote()).unwrap();
    let session = Session::start(remotes, DB, None, SessionOptions::default());
    session
        .transact(vec![ops::insert(DB, [], None)], WAIT)
        .await
        .unwrap();
    let monitor = session.monitor(&[(DB, &["external_ids"])]);
    assert!(monitor.wait_for(WAIT, |r| r.rows(DB).count() == 1).await);

    fixture.server.restart();
    // A change made while the session was away.
    fixture.vsctl(&["set", DB, ".", "external_ids:after=restart"]);
    assert!(
        monitor
            .wait_for(Duration::from_secs(20), |r| r.rows(DB).any(
                |(_, row)| column(row, "external_ids").get("after") == Some("restart")
            ))
            .await,
        "the monitor came back with the new contents"
    );
    session
        .transact(
            vec![ops::mutate(
                DB,
                &[],
                &[Mutation::insert(
                    "external_ids",
                    &Datum::string_map([("again", "yes")]),
                )],
            )],
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(
        fixture.vsctl(&["get", DB, ".", "external_ids:again"]),
        "yes"
    );
}

#[tokio::test]
async fn ssl_remote_with_certificates() {
    // Certificates from the project's own PKI: ovsdb-server presents a
    // host certificate and requires a client certificate from the CA.
    let now = time::OffsetDateTime::now_utc();
    let ca = lqx_pki::Authority::generate("ovsdb test", now).unwrap();
    let subject = |role, name: &str| lqx_pki::Subject {
        common_name: name.into(),
        role,
        dns_names: vec![],
        addresses: vec!["127.0.0.1".parse().unwrap()],
    };
    let server = ca
        .issue(&subject(lqx_pki::Role::Host, "ovsdb"), now)
        .unwrap()
        .identity;
    let client = ca
        .issue(&subject(lqx_pki::Role::Admin, "lqxd"), now)
        .unwrap()
        .identity;
    let (fixture, ssl_port) = OvsdbFixture::start_ssl(
        VSWITCH_SCHEMA,
        &server.key_pem,
        &server.cert_pem,
        ca.cert_pem(),
    );
    let remote: Remote = format!("ssl:127.0.0.1:{ssl_port}").parse().unwrap();
    // Without TLS settings the client says so instead of trying.
    let err = Client::connect(&remote, None, WAIT).await.unwrap_err();
    assert!(matches!(err, ClientError::NoTls(_)), "{err}");
    let tls = lqx_ovsdb::TlsSettings {
        config: lqx_pki::tls::client_config(ca.cert_pem(), &client).unwrap(),
    };
    let start = std::time::Instant::now();
    let client = loop {
        // ovsdb-server opens its SSL listener just after the Unix socket.
        match Client::connect(&remote, Some(&tls), WAIT).await {
            Ok(client) => break client,
            Err(e) if start.elapsed() < WAIT => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{e}"),
        }
    };
    init(&client).await;
    client
        .transact(
            DB,
            vec![ops::mutate(
                DB,
                &[],
                &[Mutation::insert(
                    "external_ids",
                    &Datum::string_map([("over", "ssl")]),
                )],
            )],
        )
        .await
        .unwrap();
    assert_eq!(fixture.vsctl(&["get", DB, ".", "external_ids:over"]), "ssl");

    // A client certificate from another CA is refused by the server.
    let stranger = lqx_pki::Authority::generate("stranger", now).unwrap();
    let foreign = stranger
        .issue(&subject(lqx_pki::Role::Admin, "x"), now)
        .unwrap()
        .identity;
    let tls = lqx_ovsdb::TlsSettings {
        config: lqx_pki::tls::client_config(ca.cert_pem(), &foreign).unwrap(),
    };
    let refused = match Client::connect(&remote, Some(&tls), WAIT).await {
        Err(_) => true,
        Ok(client) => client.echo().await.is_err(),
    };
    assert!(refused, "a foreign client certificate was accepted");
}
