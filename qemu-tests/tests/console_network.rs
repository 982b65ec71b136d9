//! The operator's first minutes, on the booted appliance, with keys on the
//! serial console only: set the admin password, give the management NIC a
//! static address and confirm it. The guest then has that address (static,
//! not DHCP), and the remote API answers on it: from inside through
//! `lqx --remote https://10.0.2.15:8443`, and from outside through a port
//! forward to that address, for the admin bundle's holder only. The
//! console on tty1 follows: it leaves its password form and locks.

use base64::Engine as _;
use lqx_api::{ApplyResult, Ipv4Config, NetworkStatus};
use lqx_qemu_tests::{Drive, Machine, MachineConfig, Report, fresh_dir, image_dir, overlay};
use std::time::Duration;

const BOOT: Duration = Duration::from_secs(900);
const STEP: Duration = Duration::from_secs(60);
const PASSWORD: &str = "Tractor-Meadow-4711";
const TAB: &[u8] = b"\t";
const BACKTAB: &[u8] = b"\x1b[Z";
const ENTER: &[u8] = b"\r";
const ESC: &[u8] = b"\x1b";
const DOWN: &[u8] = b"\x1b[B";
const RIGHT: &[u8] = b"\x1b[C";

/// Sends keys, then waits for `expect` on the serial terminal.
async fn keys(m: &Machine, bytes: &[u8], expect: &str) {
    m.serial.send(bytes).await.unwrap();
    m.serial.wait_for_screen(expect, STEP).await.unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn network(report: &Report) -> Option<NetworkStatus> {
    serde_json::from_str(report.field("network")).ok()
}

fn static_address(report: &Report, nic: &str, address: &str) -> bool {
    report.host.as_ref().is_some_and(|h| {
        h["interfaces"].as_array().is_some_and(|interfaces| {
            interfaces.iter().any(|i| {
                i["name"] == nic
                    && i["addresses"].as_array().is_some_and(|a| {
                        a.iter()
                            .any(|a| a["address"] == address && a["dynamic"] == false)
                    })
            })
        })
    })
}

fn bundle_file(report: &Report, name: &str) -> String {
    let encoded = report.field(&format!("bundle-{name}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap_or_else(|e| panic!("bundle-{name} in the report: {e}"));
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn static_management_address_set_by_console_keys_and_api_answers_on_it() {
    let dir = fresh_dir(env!("CARGO_TARGET_TMPDIR"), "console-network");
    let disk = dir.join("disk.qcow2");
    overlay(&image_dir().join("lqx.raw"), &disk, 8 << 30).unwrap();
    let port = free_port();
    let config = MachineConfig {
        drives: vec![Drive::Disk(disk)],
        cmdline_extra: Some("lqx.test-probe lqx.test-bundle lqx.test-remote=10.0.2.15".into()),
        probe: true,
        forwards: vec![(port, 8443)],
        ..MachineConfig::default()
    };
    let mut m = Machine::start(&config, &dir.join("machine")).await.unwrap();

    // First boot: nothing can be changed before the password is set.
    m.serial
        .wait_for_screen("This host has no admin password yet", BOOT)
        .await
        .unwrap();
    m.serial.send(PASSWORD.as_bytes()).await.unwrap();
    keys(&m, ENTER, "Again").await;
    m.serial.send(PASSWORD.as_bytes()).await.unwrap();
    keys(&m, ENTER, "[unlocked]").await;

    // Network: the management NIC, DHCP from the image's default, made
    // static on the same subnet.
    keys(&m, TAB, "ADDRESSING").await;
    keys(&m, b"", "enp0s8").await;
    keys(&m, ENTER, "Network: enp0s8").await;
    keys(&m, RIGHT, "static").await;
    m.serial.send(DOWN).await.unwrap();
    keys(&m, b"10.0.2.15/24", "10.0.2.15/24").await;
    m.serial.send(ENTER).await.unwrap();
    keys(&m, b"10.0.2.2", "10.0.2.2").await;
    // Esc alone: followed at once by another byte it would read as Alt.
    keys(&m, ESC, "10.0.2.15/24 via 10.0.2.2").await;
    keys(&m, b"a", "confirm within").await;
    m.screenshot("console-network-pending").await.unwrap();
    m.serial.send(b"c").await.unwrap();

    let report = m
        .report_where("the static address confirmed", BOOT, |r| {
            network(r)
                .and_then(|n| n.last_outcome)
                .is_some_and(|o| o.result == ApplyResult::Confirmed)
                && static_address(r, "enp0s8", "10.0.2.15")
                && r.field("remote").contains("host_id")
        })
        .await
        .unwrap();
    let status = network(&report).unwrap();
    let applied = status.applied.expect("applied config");
    let mgmt = applied
        .links
        .iter()
        .find(|l| l.name == applied.management)
        .unwrap();
    assert_eq!(applied.management, "enp0s8");
    assert_eq!(
        mgmt.ipv4,
        Ipv4Config::Static {
            addresses: vec!["10.0.2.15/24".into()],
            gateway: Some("10.0.2.2".into()),
        }
    );
    let host_id = report.host.as_ref().unwrap()["host_id"].clone();
    let remote: serde_json::Value = serde_json::from_str(report.field("remote")).unwrap();
    assert_eq!(
        remote["host_id"], host_id,
        "the API on 10.0.2.15 is this host's"
    );
    assert_eq!(report.field("failed"), "");

    // From outside, through the forward to 10.0.2.15:8443.
    let bundle = lqx_pki::Bundle {
        authority_pem: bundle_file(&report, "ca.crt"),
        client: lqx_pki::Identity {
            cert_pem: bundle_file(&report, "client.crt"),
            key_pem: bundle_file(&report, "client.key"),
        },
    };
    let url = format!("https://127.0.0.1:{port}");
    let client = lqx_client::Client::https(&url, bundle.client_config().unwrap()).unwrap();
    let host = client.host().await.unwrap();
    assert_eq!(serde_json::to_value(host.host_id).unwrap(), host_id);
    assert_eq!(
        host.agent
            .remote_api
            .as_ref()
            .map(|r| r.authority_fingerprint.clone()),
        Some(lqx_pki::fingerprint(&bundle.authority_pem).unwrap())
    );

    // A certificate of another authority is refused at the handshake.
    let now = time::OffsetDateTime::now_utc();
    let stranger = lqx_pki::Authority::generate("stranger", now).unwrap();
    let stranger_admin = stranger
        .issue(
            &lqx_pki::Subject {
                common_name: "admin".into(),
                role: lqx_pki::Role::Admin,
                dns_names: vec![],
                addresses: vec![],
            },
            now,
        )
        .unwrap()
        .identity;
    let tls = lqx_pki::tls::client_config(&bundle.authority_pem, &stranger_admin).unwrap();
    let err = lqx_client::Client::https(&url, tls)
        .unwrap()
        .host()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            lqx_client::ClientError::Tls { .. } | lqx_client::ClientError::Transport(_)
        ),
        "{err}"
    );

    // The console on tty1 left its own first-boot form by itself: the
    // password is the host's, not the serial console's.
    m.report_where("tty1 locked", Duration::from_secs(120), |r| {
        r.tty1.contains("[locked]")
    })
    .await
    .unwrap();

    // The status screen shows where the API answers.
    keys(&m, BACKTAB, "https://10.0.2.15:8443 (mutual TLS)").await;
    m.screenshot("console-network-status").await.unwrap();
    m.power_off(Duration::from_secs(120)).await.unwrap();
}
