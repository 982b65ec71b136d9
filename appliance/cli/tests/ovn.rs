//! `lqx ovn` against a real `lqxd` and a real OVN stack (NB, SB, northd,
//! this host's OVS with a dummy-datapath vswitchd and ovn-controller):
//! bad input refused with nothing written, an unreachable southbound
//! database reported in bounded time, registration seen by `ovn-sbctl`, a
//! port bound to this chassis coming up, the registration kept across an
//! agent restart, and unregistration removing the chassis.

use lqx_api::{ChassisStatus, ErrorBody};
use lqx_test_support::ovn::{OvnCentral, OvnHost, sbctl};
use lqx_test_support::ovsdb::free_port;
use lqx_test_support::{AgentFixture, run_lqx, workspace_bin};
use std::process::Command;
use std::time::{Duration, Instant};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn nbctl(central: &OvnCentral, args: &[&str]) -> String {
    let out = Command::new("ovn-nbctl")
        .arg(format!("--db={}", central.nb.server.unix_remote()))
        .arg("--timeout=20")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ovn-nbctl {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn register_bind_restart_unregister() {
    let central = OvnCentral::start();
    let host = OvnHost::start();
    let ovs_db = host.ovs.server.unix_remote();
    let mut agent = AgentFixture::start_with(
        workspace_bin("lqxd"),
        &["--ovs-db", &ovs_db, "--ovn-wait", "20"],
    )
    .await;
    let socket = agent.socket();
    let host_id = agent.client().host().await.unwrap().host_id.to_string();
    let sb = central.sb.server.tcp_remote();
    let lqx = |args: &[&str]| run_lqx(&socket, args);

    let out = lqx(&["ovn", "status"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Not registered"));

    // Refused before anything is touched.
    for (args, expect) in [
        (
            vec!["--encap-ip", "192.0.2.99", "--sb-remote", sb.as_str()],
            "192.0.2.99 is not an address of this host",
        ),
        (
            vec!["--encap-ip", "127.0.0.1", "--sb-remote", "10.0.0.1:6642"],
            "bad OVSDB remote",
        ),
        (
            vec![
                "--encap-ip",
                "127.0.0.1",
                "--sb-remote",
                sb.as_str(),
                "--bridge-mappings",
                "nocolon",
            ],
            "is not PHYSNET:BRIDGE",
        ),
    ] {
        let mut full = vec!["ovn", "register"];
        full.extend(args);
        let out = lqx(&full);
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains(expect), "{}", text(&out.stderr));
    }
    let dead = format!("tcp:127.0.0.1:{}", free_port());
    let started = Instant::now();
    let out = lqx(&[
        "--json",
        "ovn",
        "register",
        "--encap-ip",
        "127.0.0.1",
        "--sb-remote",
        &dead,
    ]);
    assert!(!out.status.success());
    assert!(started.elapsed() < Duration::from_secs(15));
    let body: ErrorBody = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        body.error.message.contains("did not answer"),
        "{}",
        body.error.message
    );
    assert_eq!(
        host.vsctl(&["get", "Open_vSwitch", ".", "external_ids"]),
        "{}"
    );
    assert!(!agent.state_dir().join("ovn.json").exists());

    // Registered: the southbound database lists this host.
    let out = lqx(&[
        "ovn",
        "register",
        "--encap-ip",
        "127.0.0.1",
        "--sb-remote",
        &sb,
        "--bridge-mappings",
        "physnet:br-ex",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("In SB           yes"),
        "{}",
        text(&out.stdout)
    );
    let sb_unix = central.sb.server.unix_remote();
    let find_chassis = || {
        sbctl(
            &sb_unix,
            &[
                "--bare",
                "--columns=name",
                "find",
                "Chassis",
                &format!("name={host_id}"),
            ],
        )
    };
    assert_eq!(find_chassis(), host_id);

    // A port plugged into br-int with this iface-id binds here and is up.
    nbctl(&central, &["ls-add", "sw0"]);
    nbctl(&central, &["lsp-add", "sw0", "vm1-nic0"]);
    host.vsctl(&[
        "add-port",
        "br-int",
        "vm1-nic0",
        "--",
        "set",
        "Interface",
        "vm1-nic0",
        "type=dummy",
        "external_ids:iface-id=vm1-nic0",
    ]);
    let start = Instant::now();
    while nbctl(&central, &["lsp-get-up", "vm1-nic0"]) != "up" {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the port never came up"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let bound = sbctl(
        &sb_unix,
        &[
            "--bare",
            "--columns=chassis",
            "find",
            "Port_Binding",
            "logical_port=vm1-nic0",
        ],
    );
    let chassis_uuid = sbctl(
        &sb_unix,
        &[
            "--bare",
            "--columns=_uuid",
            "find",
            "Chassis",
            &format!("name={host_id}"),
        ],
    );
    assert_eq!(bound, chassis_uuid);

    // The agent restarts (SIGKILL); the registration is still there and
    // re-applied.
    agent.kill9();
    agent.start_again().await;
    let out = lqx(&["--json", "ovn", "status"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let status: ChassisStatus = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        status.chassis_present && status.ovs_configured,
        "{status:?}"
    );
    assert_eq!(status.encaps, vec!["geneve 127.0.0.1"]);
    assert_eq!(
        status.config.unwrap().request.bridge_mappings,
        vec!["physnet:br-ex"]
    );

    let out = lqx(&["ovn", "unregister"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(find_chassis(), "");
    let out = lqx(&["ovn", "unregister"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not registered"),
        "{}",
        text(&out.stderr)
    );

    // And registered again, by the restarted agent.
    let out = lqx(&[
        "ovn",
        "register",
        "--encap-ip",
        "127.0.0.1",
        "--sb-remote",
        &sb,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(find_chassis(), host_id);
}
