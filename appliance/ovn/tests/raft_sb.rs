//! Chassis registration against a 3-member RAFT southbound database whose
//! leader is killed: ovn-controller and lqx-ovn both carry on with the
//! survivors.

use lqx_api::{ChassisConfig, ChassisRequest, EncapType};
use lqx_ovn::{OvsChassis, Registration, validate};
use lqx_test_support::ovn::OvnHost;
use lqx_test_support::ovsdb::{OVN_SB_SCHEMA, OvsdbCluster};
use std::time::{Duration, Instant};

const SYSTEM_ID: &str = "6f1d3c7e-0000-4000-8000-000000000002";
const SB: &str = "OVN_Southbound";

#[tokio::test]
async fn registration_survives_the_sb_leader_dying() {
    let mut cluster = OvsdbCluster::start(OVN_SB_SCHEMA, 3);
    let host = OvnHost::start();
    let chassis = OvsChassis::new(
        host.ovs.server.unix_remote().parse().unwrap(),
        Duration::from_secs(3),
    );
    let request = ChassisRequest {
        sb_remote: cluster.tcp_remotes(),
        encap_ip: "127.0.0.1".parse().unwrap(),
        encap_type: EncapType::Geneve,
        bridge_mappings: vec![],
        ca_cert: None,
    };
    let validated = validate(&request, &["127.0.0.1".parse().unwrap()], false).unwrap();
    chassis
        .register(
            &Registration {
                system_id: SYSTEM_ID,
                hostname: "hv-raft",
                validated: &validated,
                tls: None,
            },
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    let config = ChassisConfig {
        request: validated.request.clone(),
        system_id: SYSTEM_ID.into(),
        registered_at: time::OffsetDateTime::now_utc(),
    };

    let leader = cluster
        .members
        .iter()
        .position(|m| m.raft_role(SB).as_deref() == Some("leader"))
        .expect("a leader");
    cluster.members[leader].kill();
    // The survivors elect a leader; the chassis row is still there, read
    // through whichever member answers first.
    let start = Instant::now();
    loop {
        let status = chassis
            .observe(Some(&config), &validated.sb_remotes, None)
            .await;
        if status.sb_reachable && status.chassis_present {
            assert_eq!(status.encaps, vec!["geneve 127.0.0.1"]);
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{status:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Writes go through too: unregistering deletes the row on the cluster.
    chassis
        .unregister(SYSTEM_ID, &validated.sb_remotes, None)
        .await
        .unwrap();
    let status = chassis
        .observe(Some(&config), &validated.sb_remotes, None)
        .await;
    assert!(!status.chassis_present, "{status:?}");
}
