//! Real etcd members started by lqx-etcd itself, with certificates from
//! lqx-pki: a cluster grown from one member to three, a member killed and
//! restarted from its data directory, a member removed, and clients of a
//! foreign authority refused.

use lqx_etcd::member::{DEFAULT_CLIENT_PORT, DEFAULT_PEER_PORT, PEER_COMMON_NAME};
use lqx_etcd::{
    Bootstrap, ClientTls, ClusterStore, EtcdError, EtcdStore, MemberConfig, MemberProcess, Put,
    TlsFiles,
};
use lqx_pki::{Authority, Role, Subject};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use time::OffsetDateTime;

const TIMEOUT: Duration = Duration::from_secs(5);
const READY: Duration = Duration::from_secs(30);

/// A host's member: its address, files and configuration.
struct Host {
    name: String,
    address: IpAddr,
    dir: PathBuf,
    tls: TlsFiles,
}

impl Host {
    fn new(ca: &Authority, root: &Path, name: &str, address: &str) -> Self {
        let address: IpAddr = address.parse().unwrap();
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let issued = ca
            .issue(
                &Subject {
                    common_name: PEER_COMMON_NAME.into(),
                    role: Role::Host,
                    dns_names: vec![],
                    addresses: vec![address],
                },
                OffsetDateTime::now_utc(),
            )
            .unwrap();
        let tls = TlsFiles {
            ca: dir.join("ca.crt"),
            cert: dir.join("etcd.crt"),
            key: dir.join("etcd.key"),
        };
        std::fs::write(&tls.ca, ca.cert_pem()).unwrap();
        std::fs::write(&tls.cert, &issued.identity.cert_pem).unwrap();
        std::fs::write(&tls.key, &issued.identity.key_pem).unwrap();
        Self {
            name: name.into(),
            address,
            dir,
            tls,
        }
    }

    fn config(&self, bootstrap: Bootstrap) -> MemberConfig {
        MemberConfig {
            name: self.name.clone(),
            data_dir: self.dir.join("data"),
            address: self.address,
            client_port: DEFAULT_CLIENT_PORT,
            peer_port: DEFAULT_PEER_PORT,
            tls: self.tls.clone(),
            bootstrap,
        }
    }

    fn start(&self, bootstrap: Bootstrap) -> MemberProcess {
        MemberProcess::spawn(
            Path::new("etcd"),
            &self.config(bootstrap),
            &self.dir.join("etcd.log"),
        )
        .expect("etcd starts (install etcd-server)")
    }

    fn client_url(&self) -> String {
        self.config(Bootstrap::Restart).client_url()
    }

    fn peer_url(&self) -> String {
        self.config(Bootstrap::Restart).peer_url()
    }
}

fn client_tls(ca: &Authority, name: &str) -> ClientTls {
    let issued = ca
        .issue(
            &Subject {
                common_name: name.into(),
                role: Role::Admin,
                dns_names: vec![],
                addresses: vec![],
            },
            OffsetDateTime::now_utc(),
        )
        .unwrap();
    ClientTls {
        ca_pem: ca.cert_pem().into(),
        cert_pem: issued.identity.cert_pem,
        key_pem: issued.identity.key_pem,
    }
}

async fn store(endpoints: &[String], tls: &ClientTls) -> EtcdStore {
    EtcdStore::connect(endpoints, tls, TIMEOUT).await.unwrap()
}

/// Waits until every member has started (an added member has no name
/// until then).
async fn wait_started(store: &EtcdStore, count: usize) {
    let start = tokio::time::Instant::now();
    loop {
        if let Ok(members) = store.members().await
            && members.len() == count
            && members.iter().all(|m| !m.name.is_empty())
        {
            return;
        }
        assert!(start.elapsed() < READY, "members did not all start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Retries `put` until the cluster accepts it: after a member dies, the
/// survivors may need an election first.
async fn put_eventually(store: &EtcdStore, key: &str, value: &[u8]) {
    let start = tokio::time::Instant::now();
    loop {
        match store.put(key, value.to_vec(), None).await {
            Ok(()) => return,
            Err(e) if e.is_unavailable() && start.elapsed() < READY => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("put {key}: {e:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grow_lose_restart_and_shrink_a_cluster() {
    let root = tempfile::tempdir().unwrap();
    let ca = Authority::generate("etcd test", OffsetDateTime::now_utc()).unwrap();
    let admin = client_tls(&ca, "admin");
    let hosts: Vec<Host> = ["127.0.0.21", "127.0.0.22", "127.0.0.23"]
        .iter()
        .enumerate()
        .map(|(i, a)| Host::new(&ca, root.path(), &format!("h{i}"), a))
        .collect();

    // One member.
    let mut members = vec![Some(hosts[0].start(Bootstrap::New {
        token: "test-cluster".into(),
    }))];
    let first = store(&[hosts[0].client_url()], &admin).await;
    first.wait_ready(READY).await.unwrap();
    assert!(first.version().await.unwrap().starts_with("3."), "etcd 3.x");

    // Keys: create, delete-if, leases.
    assert!(first.create("/t/token", b"a".to_vec(), None).await.unwrap());
    assert!(!first.create("/t/token", b"b".to_vec(), None).await.unwrap());
    assert!(!first.delete_if("/t/token", b"b".to_vec()).await.unwrap());
    assert!(first.delete_if("/t/token", b"a".to_vec()).await.unwrap());
    // Replace: compare-and-swap on the value, or on absence.
    assert!(first.replace("/t/doc", None, b"1".to_vec()).await.unwrap());
    assert!(!first.replace("/t/doc", None, b"2".to_vec()).await.unwrap());
    assert!(
        !first
            .replace("/t/doc", Some(b"0".to_vec()), b"2".to_vec())
            .await
            .unwrap()
    );
    assert!(
        first
            .replace("/t/doc", Some(b"1".to_vec()), b"2".to_vec())
            .await
            .unwrap()
    );
    assert_eq!(first.get("/t/doc").await.unwrap(), Some(b"2".to_vec()));
    let lease = first.grant(Duration::from_secs(30)).await.unwrap();
    first
        .put("/t/alive/h0", b"1".to_vec(), Some(lease))
        .await
        .unwrap();
    assert!(first.keep_alive(lease).await.unwrap());
    first.revoke(lease).await.unwrap();
    assert_eq!(first.get("/t/alive/h0").await.unwrap(), None);
    assert!(!first.keep_alive(lease).await.unwrap());
    let err = first.put("/t/x", vec![], Some(lease)).await.unwrap_err();
    assert!(matches!(err, EtcdError::NoLease), "{err:?}");

    // Several keys at once, guarded by another key.
    let puts = |v: &[u8]| {
        vec![
            Put {
                key: "/t/g/a".into(),
                value: v.to_vec(),
                lease: None,
            },
            Put {
                key: "/t/g/b".into(),
                value: v.to_vec(),
                lease: None,
            },
        ]
    };
    assert!(!first.put_if_exists("/t/guard", puts(b"1")).await.unwrap());
    assert!(
        first.list("/t/g/").await.unwrap().is_empty(),
        "no guard, no write"
    );
    first.put("/t/guard", b"g".to_vec(), None).await.unwrap();
    assert!(first.put_if_exists("/t/guard", puts(b"2")).await.unwrap());
    assert_eq!(first.list("/t/g/").await.unwrap().len(), 2);
    first
        .delete_many(vec!["/t/g/a".into(), "/t/g/b".into(), "/t/guard".into()])
        .await
        .unwrap();
    assert!(first.list("/t/g").await.unwrap().is_empty());
    // Several keys created together, or none when one exists.
    assert!(first.create_many(puts(b"3")).await.unwrap());
    assert!(!first.create_many(puts(b"4")).await.unwrap());
    assert_eq!(
        first.get("/t/g/a").await.unwrap().as_deref(),
        Some(&b"3"[..])
    );
    first
        .delete_many(vec!["/t/g/a".into(), "/t/g/b".into()])
        .await
        .unwrap();

    // Grow to three: the second member as a learner promoted once it has
    // caught up, the third as a voter straight away.
    for (i, host) in hosts.iter().enumerate().skip(1) {
        let learner = i == 1;
        let added = first.add_member(&host.peer_url(), learner).await.unwrap();
        let peers = added
            .members
            .iter()
            .map(|m| {
                let name = if m.id == added.id {
                    host.name.clone()
                } else {
                    m.name.clone()
                };
                (name, m.peer_urls[0].clone())
            })
            .collect();
        if learner {
            // etcd takes one learner at a time: a second join waits.
            let err = first
                .add_member(&hosts[2].peer_url(), true)
                .await
                .unwrap_err();
            assert!(matches!(err, EtcdError::TooManyLearners(_)), "{err:?}");
        }
        members.push(Some(host.start(Bootstrap::Existing { peers })));
        wait_started(&first, members.len()).await;
        if learner {
            let start = tokio::time::Instant::now();
            loop {
                match first.promote_member(added.id).await {
                    Ok(()) => break,
                    Err(e) if e.is_unavailable() && start.elapsed() < READY => {
                        tokio::time::sleep(Duration::from_millis(100)).await
                    }
                    Err(e) => panic!("promote: {e:?}"),
                }
            }
            let members = first.members().await.unwrap();
            assert!(members.iter().all(|m| !m.learner), "{members:?}");
        }
    }
    let all: Vec<String> = hosts.iter().map(Host::client_url).collect();
    let cluster = store(&all, &admin).await;
    put_eventually(&cluster, "/t/three", b"3").await;

    // Kill the first member: the other two keep serving.
    members[0].take().unwrap().stop().await;
    let survivors = store(&all[1..], &admin).await;
    put_eventually(&survivors, "/t/while-down", b"2 of 3").await;
    assert_eq!(
        survivors.get("/t/three").await.unwrap().as_deref(),
        Some(&b"3"[..])
    );

    // It restarts from its data directory and catches up.
    members[0] = Some(hosts[0].start(Bootstrap::Restart));
    let restarted = store(&all[..1], &admin).await;
    restarted.wait_ready(READY).await.unwrap();
    let start = tokio::time::Instant::now();
    while restarted
        .get("/t/while-down")
        .await
        .ok()
        .flatten()
        .is_none()
    {
        assert!(
            start.elapsed() < READY,
            "the restarted member did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Remove the third member.
    let third = cluster
        .members()
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.name == hosts[2].name)
        .unwrap();
    cluster.remove_member(third.id).await.unwrap();
    // The removed member shuts itself down; ask the remaining two.
    let two = store(&all[..2], &admin).await;
    let names: Vec<String> = two
        .members()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names.len(), 2);
    assert!(!names.contains(&hosts[2].name), "{names:?}");

    // A client of another authority is refused at the handshake.
    let other = Authority::generate("other", OffsetDateTime::now_utc()).unwrap();
    let mut foreign = client_tls(&other, "admin");
    foreign.ca_pem = ca.cert_pem().into();
    let outsider = EtcdStore::connect(&all[..1], &foreign, Duration::from_secs(2))
        .await
        .unwrap();
    // Refused at the handshake: the alert, or with TLS 1.3 (the client's
    // certificate is checked after the client's side finished) just the
    // connection closing.
    let err = outsider.get("/t/three").await.unwrap_err();
    assert!(
        matches!(
            err,
            EtcdError::CertificateRefused { .. } | EtcdError::Unavailable { .. }
        ),
        "{err:?}"
    );
    // etcd may log the refusal a moment after the client saw it.
    let start = tokio::time::Instant::now();
    while !std::fs::read_to_string(hosts[0].dir.join("etcd.log"))
        .unwrap()
        .contains("rejected connection")
    {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "etcd logged the refusal ({err:?})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    for member in members.into_iter().flatten() {
        member.stop().await;
    }
}
