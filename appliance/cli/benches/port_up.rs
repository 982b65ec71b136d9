//! Benchmark of the time for a VM's port to come up: a release `lqxd`
//! registered as a chassis, with one real OVN central, its libvirtd, OVS
//! (the userspace datapath, as in the datapath test) and ovn-controller,
//! all in a network namespace of their own on 10.254.105.1 (the VMs' taps
//! are made there, not on this machine). Each round creates and starts a VM with one NIC on a virtual
//! network through the API and watches the northbound database (an OVSDB
//! monitor, no polling) until the port is `up`: the writer puts the port
//! there, libvirt plugs the tap into br-int with the port's id,
//! ovn-controller claims it, northd marks it up. Next to it, OVN alone:
//! a port already in the northbound database, an interface added with
//! `ovs-vsctl` carrying its id (what libvirt runs), until `up`.
//!
//! Run with `cargo xtask bench`, or `cargo build --release --workspace
//! --bins && cargo bench -p lqx --bench port_up`. Prints figures; asserts
//! only that every call succeeds and every port comes up.

use lqx_api::{
    NetworkCreate, OvnCentral as Central, PortCreate, VmCreate, VmDeleteQuery, VmNic, VmSpec,
};
use lqx_ovsdb::{Atom, Session, SessionMonitor, SessionOptions, column};
use lqx_test_support::bench::report;
use lqx_test_support::netns::NetNs;
use lqx_test_support::ovn::OvnCentral;
use lqx_test_support::vm_host::VmHost;
use std::process::Command;
use std::time::{Duration, Instant};

const ROUNDS: usize = 20;
const PATIENCE: Duration = Duration::from_secs(30);

/// Waits until the switch port of the port named `name` (LimiQuantix's
/// name, in its `external_ids`) is in the northbound database, and up if
/// `up`; the moment it saw that.
async fn wait_port(nb: &SessionMonitor, name: &str, up: bool) -> Instant {
    let seen = nb
        .wait_for(PATIENCE, |r| {
            r.rows("Logical_Switch_Port").any(|(_, row)| {
                let ours = column(row, "external_ids")
                    .pairs()
                    .iter()
                    .any(|(k, v)| k.as_str() == Some("lqx-port") && v.as_str() == Some(name));
                ours && (!up || column(row, "up").as_atom() == Some(&Atom::Boolean(true)))
            })
        })
        .await;
    assert!(
        seen,
        "port {name} not {}",
        if up { "up" } else { "written" }
    );
    Instant::now()
}

fn spec(name: &str) -> VmSpec {
    VmSpec {
        name: name.into(),
        vcpus: 1,
        memory_mib: 64,
        disks: vec![],
        cdrom: None,
        nics: vec![VmNic::on_network("bench")],
        cloud_init: None,
        boot: vec![],
        firmware: lqx_api::Firmware::Bios,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let address: std::net::Ipv4Addr = "10.254.105.1".parse().unwrap();
    let ns = NetNs::create(address);
    let central = OvnCentral::start_in(ns.exec_prefix(), address.into());
    // Kept whole until the end: dropping it stops libvirtd.
    let vm_host = VmHost::start(ns.exec_prefix(), &address.to_string()).await;
    let (ovn, host) = (&vm_host.ovn, &vm_host.host);
    let ovs_db = ovn.ovs.server.unix_remote();
    host.init(&["--name", "bench"]);
    let client = host.agent.client().with_timeout(Duration::from_secs(60));
    client
        .set_ovn_central(&Central {
            nb_remote: central.nb.server.tcp_remote(),
            sb_remote: central.sb.server.tcp_remote(),
            ca_cert: None,
        })
        .await
        .expect("central");
    let registered = host.lqx(&["ovn", "register", "--encap-ip", &address.to_string()]);
    assert!(registered.status.success(), "{registered:?}");
    client
        .create_network(&NetworkCreate {
            name: "bench".into(),
            subnet: Some("10.65.0.0/24".into()),
            subnet6: None,
            gateway: None,
            gateway6: None,
            dhcp: true,
            dns: vec![],
            mtu: None,
            physnet: None,
            vlan: None,
        })
        .await
        .expect("network");
    let session = Session::start(
        lqx_ovsdb::remote::parse_list(&central.nb.server.unix_remote()).expect("remote"),
        "OVN_Northbound",
        None,
        SessionOptions::default(),
    );
    let nb = session.monitor(&[("Logical_Switch_Port", &["name", "up", "external_ids"])]);
    let remove = VmDeleteQuery {
        force: true,
        disks: false,
    };

    // Through the API: a VM with a NIC on the network, created and
    // started, until its port is up. The first round warms libvirt and
    // the agent's connections and is not counted.
    // The port is watched while the call runs: it may come up before the
    // call returns.
    let (mut created, mut up_from_request) = (vec![], vec![]);
    for round in 0..=ROUNDS {
        let name = format!("vm{round}");
        let asked = Instant::now();
        let create = async {
            client
                .create_vm(&VmCreate {
                    spec: spec(&name),
                    host: None,
                    start: true,
                })
                .await
                .expect("create");
            Instant::now()
        };
        let nic = format!("{name}-nic0");
        let (returned, up) = tokio::join!(create, wait_port(&nb, &nic, true));
        if round > 0 {
            created.push(returned - asked);
            up_from_request.push(up - asked);
        }
        client.delete_vm(&name, remove).await.expect("delete");
    }

    // OVN alone: the port already written, an interface plugged with its
    // id as libvirt plugs one (`ovs-vsctl` waiting for vswitchd).
    let mut plugged = vec![];
    for round in 0..=ROUNDS {
        let port = client
            .create_port(&PortCreate {
                name: Some(format!("raw{round}")),
                network: "bench".into(),
                ip: None,
                mac: None,
                security_groups: vec![],
            })
            .await
            .expect("port");
        let lsp = port.id.to_string();
        wait_port(&nb, &port.name, false).await;
        // The device first (libvirt makes its tap before plugging it).
        let iface = format!("raw{round}");
        let made = Command::new("ip")
            .args(["-n", ns.name(), "link", "add", &iface, "type", "veth"])
            .args(["peer", "name", &format!("{iface}p")])
            .status()
            .expect("ip");
        assert!(made.success());
        let start = Instant::now();
        let out = Command::new("ovs-vsctl")
            .arg(format!("--db={ovs_db}"))
            .args([
                "--timeout=10",
                "add-port",
                "br-int",
                &iface,
                "--",
                "set",
                "Interface",
                &iface,
            ])
            .arg(format!("external_ids:iface-id={lsp}"))
            .output()
            .expect("ovs-vsctl");
        assert!(out.status.success(), "{out:?}");
        let up = wait_port(&nb, &port.name, true).await;
        if round > 0 {
            plugged.push(up - start);
        }
        ovn.vsctl(&["del-port", "br-int", &iface]);
        client.delete_port(&port.name).await.expect("delete port");
    }

    report(
        "API: POST /v1/vms (create, start; NIC on a network)",
        &mut created,
    );
    report(
        "API: ... its port up, from the request",
        &mut up_from_request,
    );
    report(
        "reference: ovs-vsctl add-port with iface-id, to up",
        &mut plugged,
    );
}
