//! TLS to OVN's central databases: their servers present certificates of
//! an authority of their own and trust the cluster's, whose host
//! certificates `lqxd` and ovn-controller present. The networks reach the
//! northbound database over `ssl:`, the host registers as a chassis over
//! `ssl:` (ovn-controller reading the files lqxd wrote, through the local
//! `SSL` row), and a central whose certificate another authority signed
//! gets nothing.

use lqx_api::{ChassisStatus, Network, OvnCentral, VnetSync};
use lqx_test_support::cluster::{ClusterHost, wait_for};
use lqx_test_support::ovn::{OvnCentral as Central, OvnHost, nbctl};
use lqx_test_support::{assert_ok, assert_refused};
use std::path::Path;

const ADDRESS: &str = "127.0.0.104";

/// A fresh authority and a certificate of it for a database server on
/// 127.0.0.1: (authority PEM, server key PEM, server certificate PEM).
fn server_pki(name: &str) -> (String, String, String) {
    let now = time::OffsetDateTime::now_utc();
    let ca = lqx_pki::Authority::generate(name, now).unwrap();
    let server = ca
        .issue(
            &lqx_pki::Subject {
                common_name: format!("{name} ovsdb"),
                role: lqx_pki::Role::Host,
                dns_names: vec![],
                addresses: vec!["127.0.0.1".parse().unwrap()],
            },
            now,
        )
        .unwrap()
        .identity;
    (ca.cert_pem().to_owned(), server.key_pem, server.cert_pem)
}

/// `lqx ovn central` setting the remotes, with an authority's file.
fn central_args<'a>(nb: &'a str, sb: &'a str, ca: Option<&'a str>) -> Vec<&'a str> {
    let mut args = vec!["ovn", "central", "--nb-remote", nb, "--sb-remote", sb];
    if let Some(ca) = ca {
        args.extend(["--ca-cert", ca]);
    }
    args
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "current_thread")]
async fn networks_and_chassis_reach_a_central_over_tls() {
    let ovs = OvnHost::start();
    let ovs_db = ovs.ovs.server.unix_remote();
    let mut host = ClusterHost::start_chassis(ADDRESS, 18104, &ovs_db).await;
    host.init(&[]);
    // The central trusts the cluster's authority (the admin bundle's).
    let cluster_ca = std::fs::read_to_string(host.bundle().join("ca.crt")).unwrap();
    let (central_ca, key, cert) = server_pki("central");
    let (central, nb_ssl, sb_ssl) = Central::start_ssl(&key, &cert, &cluster_ca);
    let nb = central.nb.server.unix_remote();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = write(dir.path(), "central-ca.pem", &central_ca);

    // ssl: without the authority, or an authority for tcp:, is refused.
    assert_refused(
        host.lqx(&central_args(&nb_ssl, &sb_ssl, None)),
        "ssl: remotes need ca_cert",
    );
    assert_refused(
        host.lqx(&central_args(
            &central.nb.server.tcp_remote(),
            &central.sb.server.tcp_remote(),
            Some(&ca_file),
        )),
        "only for ssl: remotes",
    );
    let junk = write(
        dir.path(),
        "junk.pem",
        "-----BEGIN CERTIFICATE-----\nnot base64\n",
    );
    assert_refused(
        host.lqx(&central_args(&nb_ssl, &sb_ssl, Some(&junk))),
        "ca_cert",
    );
    assert_refused(host.lqx(&["ovn", "central"]), "no OVN central");

    let set: OvnCentral = host.json(&central_args(&nb_ssl, &sb_ssl, Some(&ca_file)));
    assert_eq!(set.ca_cert.as_deref(), Some(central_ca.as_str()));
    host.json::<Network>(&["network", "create", "blue", "--subnet", "10.0.0.0/24"]);
    let mut last = None;
    wait_for(|| {
        let sync: VnetSync = host.json(&["ovn", "sync"]);
        last = Some(sync.clone());
        (sync.generation > 0 && sync.applied == sync.generation && sync.error.is_none())
            .then_some(())
    })
    .unwrap_or_else(|| panic!("not written over TLS: {last:?}\n{}", host.agent.log()));
    assert!(nbctl(&nb, &["ls-list"]).contains("lqx-blue"));

    // The chassis, over TLS too: the southbound database's authority is
    // the central's, taken from the cluster's settings.
    let status: ChassisStatus = host.json(&["ovn", "register", "--encap-ip", "127.0.0.1"]);
    assert!(status.chassis_present && status.sb_reachable, "{status:?}");
    let ssl = ovs.ovs.vsctl(&["get-ssl"]);
    assert!(
        ssl.contains("host.key") && ssl.contains("sb-ca.crt"),
        "the local SSL row: {ssl}"
    );
    let key_mode = std::fs::metadata(
        ssl.lines()
            .find_map(|l| l.strip_prefix("Private key: "))
            .expect("a private key"),
    )
    .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
    .unwrap();
    assert_eq!(key_mode, 0o600);
    let status: ChassisStatus = host.json(&["ovn", "status"]);
    assert!(status.controller_connected, "{status:?}");
    assert_ok(host.lqx(&["ovn", "unregister"]));
    assert_eq!(ovs.ovs.vsctl(&["get-ssl"]), "", "the SSL row goes too");

    // A central whose certificate another authority signed: the writer
    // reports the failure and writes nothing.
    let (_, key, cert) = server_pki("impostor");
    let (impostor, nb_bad, sb_bad) = Central::start_ssl(&key, &cert, &cluster_ca);
    host.json::<OvnCentral>(&central_args(&nb_bad, &sb_bad, Some(&ca_file)));
    host.json::<Network>(&["network", "create", "green", "--subnet", "10.1.0.0/24"]);
    wait_for(|| {
        let sync: VnetSync = host.json(&["ovn", "sync"]);
        last = Some(sync.clone());
        (sync.applied < sync.generation && sync.error.is_some()).then_some(())
    })
    .unwrap_or_else(|| panic!("no error reported: {last:?}"));
    let bad_nb = impostor.nb.server.unix_remote();
    assert!(!nbctl(&bad_nb, &["ls-list"]).contains("lqx-"));

    // A new host certificate (leaving the cluster gives the host a fresh
    // authority) is copied to ovn-controller's files at once.
    let status: ChassisStatus = host.json(&[
        "ovn",
        "register",
        "--encap-ip",
        "127.0.0.1",
        "--sb-remote",
        &sb_ssl,
        "--ca-cert",
        &ca_file,
    ]);
    assert!(status.chassis_present, "{status:?}");
    let cert_file = ovs
        .ovs
        .vsctl(&["get-ssl"])
        .lines()
        .find_map(|l| l.strip_prefix("Certificate: ").map(str::to_owned))
        .expect("a certificate file");
    let before = std::fs::read_to_string(&cert_file).unwrap();
    assert_ok(host.lqx(&["cluster", "leave", "--force"]));
    wait_for(|| (std::fs::read_to_string(&cert_file).unwrap() != before).then_some(()))
        .expect("the new host certificate was not copied for ovn-controller");
    host.agent.stop();
}
