//! Chassis registration against a real OVN stack (northd, NB, SB, a
//! host's OVS with ovs-vswitchd and ovn-controller); `ovn-sbctl` and
//! `ovs-vsctl` check the results independently.

use lqx_api::{ChassisConfig, ChassisRequest, EncapType};
use lqx_ovn::{OvnError, OvsChassis, Registration, validate};
use lqx_test_support::ovn::{OvnCentral, OvnHost, sbctl};
use std::time::Duration;

const SYSTEM_ID: &str = "6f1d3c7e-0000-4000-8000-000000000001";
const WAIT: Duration = Duration::from_secs(20);

fn request(sb: &str) -> ChassisRequest {
    ChassisRequest {
        sb_remote: sb.into(),
        encap_ip: "127.0.0.1".parse().unwrap(),
        encap_type: EncapType::Geneve,
        bridge_mappings: vec!["physnet:br-ex".into()],
        ca_cert: None,
    }
}

#[tokio::test]
async fn register_observe_unregister_against_real_ovn() {
    let central = OvnCentral::start();
    let host = OvnHost::start();
    let sb = central.sb.server.tcp_remote();
    let chassis = OvsChassis::new(
        host.ovs.server.unix_remote().parse().unwrap(),
        Duration::from_secs(3),
    );
    let host_addresses = ["127.0.0.1".parse().unwrap()];
    let validated = validate(&request(&sb), &host_addresses, false).unwrap();
    let registration = Registration {
        system_id: SYSTEM_ID,
        hostname: "hv-test",
        validated: &validated,
        tls: None,
    };
    chassis.register(&registration, WAIT).await.unwrap();

    // Independently: the OVS row and the southbound rows.
    assert_eq!(
        host.vsctl(&["get", "Open_vSwitch", ".", "external_ids:system-id"]),
        format!("\"{SYSTEM_ID}\"")
    );
    assert_eq!(
        host.vsctl(&[
            "get",
            "Open_vSwitch",
            ".",
            "external_ids:ovn-bridge-mappings"
        ]),
        "\"physnet:br-ex\""
    );
    assert!(host.vsctl(&["list-br"]).contains("br-int"));
    let sb_unix = central.sb.server.unix_remote();
    assert_eq!(
        sbctl(
            &sb_unix,
            &[
                "--bare",
                "--columns=hostname",
                "find",
                "Chassis",
                &format!("name={SYSTEM_ID}")
            ]
        ),
        "hv-test"
    );
    assert_eq!(
        sbctl(
            &sb_unix,
            &[
                "--bare",
                "--columns=ip",
                "find",
                "Encap",
                &format!("chassis_name={SYSTEM_ID}")
            ]
        ),
        "127.0.0.1"
    );
    let config = ChassisConfig {
        request: validated.request.clone(),
        system_id: SYSTEM_ID.into(),
        registered_at: time::OffsetDateTime::now_utc(),
    };
    let status = chassis
        .observe(Some(&config), &validated.sb_remotes, None)
        .await;
    assert!(
        status.ovs_configured && status.sb_reachable && status.chassis_present,
        "{status:?}"
    );
    assert_eq!(status.encaps, vec!["geneve 127.0.0.1"]);

    // Registering again is idempotent; br-int is not duplicated.
    chassis.register(&registration, WAIT).await.unwrap();
    assert_eq!(host.vsctl(&["list-br"]).matches("br-int").count(), 1);

    chassis
        .unregister(SYSTEM_ID, &validated.sb_remotes, None)
        .await
        .unwrap();
    assert_eq!(
        sbctl(
            &sb_unix,
            &[
                "--bare",
                "--columns=name",
                "find",
                "Chassis",
                &format!("name={SYSTEM_ID}")
            ]
        ),
        ""
    );
    assert_eq!(
        host.vsctl(&["get", "Open_vSwitch", ".", "external_ids"]),
        "{}"
    );
    let status = chassis
        .observe(Some(&config), &validated.sb_remotes, None)
        .await;
    assert!(
        !status.chassis_present && !status.ovs_configured,
        "{status:?}"
    );
}

#[tokio::test]
async fn unreachable_sb_or_absent_controller_changes_nothing() {
    let central = OvnCentral::start();
    let mut host = OvnHost::start();
    let chassis = OvsChassis::new(
        host.ovs.server.unix_remote().parse().unwrap(),
        Duration::from_secs(2),
    );
    host.vsctl(&["set", "Open_vSwitch", ".", "external_ids:system-id=old-id"]);
    let host_addresses = ["127.0.0.1".parse().unwrap()];

    // Nothing listens on this port.
    let dead = format!("tcp:127.0.0.1:{}", lqx_test_support::ovsdb::free_port());
    let validated = validate(&request(&dead), &host_addresses, false).unwrap();
    let started = std::time::Instant::now();
    let err = chassis
        .register(
            &Registration {
                system_id: SYSTEM_ID,
                hostname: "hv-test",
                validated: &validated,
                tls: None,
            },
            WAIT,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, OvnError::SbUnreachable { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        host.vsctl(&["get", "Open_vSwitch", ".", "external_ids"]),
        "{system-id=old-id}"
    );

    // The SB answers, but no ovn-controller registers: undone.
    host.stop_controller();
    let validated = validate(
        &request(&central.sb.server.tcp_remote()),
        &host_addresses,
        false,
    )
    .unwrap();
    let err = chassis
        .register(
            &Registration {
                system_id: SYSTEM_ID,
                hostname: "hv-test",
                validated: &validated,
                tls: None,
            },
            Duration::from_secs(3),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, OvnError::NotSeen { .. }), "{err}");
    assert_eq!(
        host.vsctl(&["get", "Open_vSwitch", ".", "external_ids"]),
        "{system-id=old-id}"
    );
}
