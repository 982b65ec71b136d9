//! VMs on one host, for real: an `lqxd` on 127.0.0.91 in a cluster of its
//! own, running QEMU (TCG) through a private libvirtd from the project's
//! fixture, driven through `lqx` and checked with `virsh`. A VM with a
//! cloud-init seed and an ISO from a local pool is created and started;
//! its VNC display answers the RFB handshake through the console
//! WebSocket and its serial console opens; bad requests (invalid
//! cloud-init YAML, a missing volume, a taken name, too much memory)
//! define nothing; a shutdown that the guest ignores ends forced after its
//! timeout; lqxd killed and restarted adopts the running VM without
//! restarting it; a domain no VM owns is listed and left alone; deleting a
//! running VM needs force.

use futures::StreamExt as _;
use lqx_api::{ShutdownDone, ShutdownOutcome, Vm, VmList, VmState};
use lqx_test_support::cluster::{ClusterHost, wait_for};
use lqx_test_support::libvirt::{LibvirtdFixture, tiny_domain_xml};
use lqx_test_support::ovn::{OvnCentral, OvnHost};
use lqx_test_support::{assert_ok, assert_refused, text};
use std::path::Path;

fn domains(libvirtd: &LibvirtdFixture) -> Vec<String> {
    let mut names: Vec<String> = libvirtd
        .virsh(&["list", "--all", "--name"])
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

/// Waits until the VM reports `state` (the agent may be starting).
fn wait_state(host: &ClusterHost, vm: &str, state: VmState) -> Vm {
    let mut last = String::new();
    wait_for(|| {
        let out = host.lqx(&["--json", "vm", "show", vm]);
        last = text(&out.stdout) + &text(&out.stderr);
        let vm: Vm = serde_json::from_slice(&out.stdout).ok()?;
        (vm.status.as_ref().map(|s| s.state) == Some(state)).then_some(vm)
    })
    .unwrap_or_else(|| panic!("{vm} never {state:?}: {last}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vm_created_consoled_shut_down_adopted_and_deleted() {
    let libvirtd = LibvirtdFixture::start();
    let uri = libvirtd.uri();
    // OVN for the NICs on virtual networks: the host must be a chassis.
    let central = OvnCentral::start();
    let ovs = OvnHost::start();
    let ovs_db = ovs.ovs.server.unix_remote();
    let mut host = ClusterHost::start_with(
        "127.0.0.91",
        &[
            "--libvirt-uri",
            &uri,
            "--vm-accel",
            "tcg",
            "--ovs-db",
            &ovs_db,
        ],
    )
    .await;
    // VMs live in the cluster store.
    assert_refused(
        host.lqx(&["vm", "create", "early", "--memory", "64MiB"]),
        "create a cluster",
    );
    host.init(&["--name", "vms"]);
    let work = tempfile::tempdir().unwrap();

    // A local pool with an ISO uploaded into it.
    assert_ok(host.lqx(&["pool", "create", "isos"]));
    let iso = work.path().join("tools.iso");
    std::fs::write(
        &iso,
        lqx_cloudinit::seed_iso(b"#cloud-config\n", b"instance-id: x\n", None).unwrap(),
    )
    .unwrap();
    let uploaded = assert_ok(host.lqx(&[
        "pool",
        "volume",
        "upload",
        "isos/tools.iso",
        iso.to_str().unwrap(),
    ]));
    assert!(uploaded.contains("iso"), "{uploaded}");
    let user_data = work.path().join("user-data");
    std::fs::write(
        &user_data,
        "#cloud-config\nusers:\n  - name: ops\n    ssh_authorized_keys: [ssh-ed25519 AAAA test]\n",
    )
    .unwrap();
    let bad_data = work.path().join("bad-user-data");
    std::fs::write(&bad_data, "#cloud-config\nusers: [\n").unwrap();

    // Refusals that define nothing.
    let before = domains(&libvirtd);
    assert_refused(
        host.lqx(&[
            "vm",
            "create",
            "bad-yaml",
            "--memory",
            "64MiB",
            "--cloud-init-user-data",
            bad_data.to_str().unwrap(),
        ]),
        "user-data",
    );
    assert_refused(
        host.lqx(&[
            "vm",
            "create",
            "no-disk",
            "--memory",
            "64MiB",
            "--disk",
            "local:isos/missing.qcow2",
        ]),
        "missing.qcow2",
    );
    assert_refused(
        host.lqx(&["vm", "create", "huge", "--memory", "1000GiB"]),
        "MiB of memory free",
    );
    assert_refused(
        host.lqx(&["vm", "create", "Bad_Name", "--memory", "64MiB"]),
        "name \"Bad_Name\"",
    );
    assert_eq!(domains(&libvirtd), before, "nothing defined");
    let list: VmList = host.json(&["vm", "list"]);
    assert!(list.vms.is_empty(), "{list:?}");

    // The VM: cloud-init seed, an ISO in its CD-ROM drive, started.
    let created: Vm = host.json(&[
        "vm",
        "create",
        "web-1",
        "--cpus",
        "1",
        "--memory",
        "64MiB",
        "--cdrom",
        "isos/tools.iso",
        "--cloud-init-user-data",
        user_data.to_str().unwrap(),
    ]);
    assert_eq!(created.spec.name, "web-1");
    assert_eq!(libvirtd.virsh(&["domstate", "web-1"]), "running");
    let blocks = libvirtd.virsh(&["domblklist", "web-1"]);
    assert!(blocks.contains("tools.iso"), "{blocks}");
    let seed = blocks
        .lines()
        .find(|l| l.contains("seed.iso"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("no seed in {blocks}"))
        .to_owned();
    assert!(Path::new(&seed).exists());
    assert_refused(
        host.lqx(&["vm", "create", "web-1", "--memory", "64MiB"]),
        "already exists",
    );
    let running = wait_state(&host, "web-1", VmState::Running);
    assert!(running.status.unwrap().vnc_port.is_some());

    // The display through the console WebSocket: QEMU's RFB greeting.
    let client = host.agent.client();
    let mut vnc = client.websocket("/v1/vms/web-1/console").await.unwrap();
    let greeting = tokio::time::timeout(std::time::Duration::from_secs(10), vnc.next())
        .await
        .expect("a frame within 10 s")
        .expect("a frame")
        .expect("no error");
    assert!(
        greeting.into_data().starts_with(b"RFB 003.0"),
        "the RFB handshake"
    );
    drop(vnc);
    // The serial console opens, and `lqx vm console` attaches to it (and
    // leaves when its input ends); a stopped VM has none.
    client.websocket("/v1/vms/web-1/serial").await.unwrap();
    let attached = host.lqx(&["vm", "console", "web-1"]);
    assert!(attached.status.success(), "{}", text(&attached.stderr));
    assert!(
        text(&attached.stderr).contains("Connected to the serial console of web-1"),
        "{}",
        text(&attached.stderr)
    );

    // A guest that ignores ACPI (SeaBIOS with nothing to boot): forced
    // off after the timeout.
    let done: ShutdownDone = host.json(&["vm", "shutdown", "web-1", "--timeout", "2"]);
    assert_eq!(done.outcome, ShutdownOutcome::Forced);
    assert_eq!(libvirtd.virsh(&["domstate", "web-1"]), "shut off");
    let Err(err) = client.websocket("/v1/vms/web-1/serial").await else {
        panic!("a serial console on a stopped VM");
    };
    assert!(err.to_string().contains("not running"), "{err}");

    // Started again, then lqxd dies and comes back: the VM is adopted as
    // it runs, not restarted.
    assert_ok(host.lqx(&["vm", "start", "web-1"]));
    let id_before = libvirtd.virsh(&["domid", "web-1"]);
    host.agent.kill9();
    host.agent.start_again().await;
    let adopted = wait_state(&host, "web-1", VmState::Running);
    assert_eq!(
        libvirtd.virsh(&["domid", "web-1"]),
        id_before,
        "not restarted"
    );
    assert_eq!(adopted.power, lqx_api::PowerIntent::Running);

    // A domain someone else defined is listed and left alone.
    let xml = work.path().join("other.xml");
    std::fs::write(&xml, tiny_domain_xml("not-ours", "")).unwrap();
    libvirtd.virsh(&["define", xml.to_str().unwrap()]);
    let listed = wait_for(|| {
        let list: VmList = host.json(&["vm", "list"]);
        list.foreign
            .iter()
            .any(|d| d.name == "not-ours")
            .then_some(list)
    })
    .expect("the foreign domain listed");
    assert_eq!(listed.vms.len(), 1);
    assert!(domains(&libvirtd).contains(&"not-ours".to_owned()));

    // Deleting a running VM needs force; then it is gone everywhere.
    assert_refused(host.lqx(&["vm", "delete", "web-1"]), "is running");
    assert_ok(host.lqx(&["vm", "delete", "web-1", "--force"]));
    assert_eq!(domains(&libvirtd), ["not-ours"]);
    assert!(!Path::new(&seed).exists(), "its files are gone");
    let list: VmList = host.json(&["vm", "list"]);
    assert!(list.vms.is_empty());
    let out = host.lqx(&["vm", "show", "web-1"]);
    assert!(text(&out.stderr).contains("no VM"), "{}", text(&out.stderr));

    // NICs on a virtual network: a port each (address, MAC, groups), the
    // domain's interface on br-int with the port as its OVS iface-id; a
    // refused VM takes no port; a deleted one gives its ports back.
    assert_ok(host.lqx(&["network", "create", "blue", "--subnet", "10.7.0.0/29"]));
    assert_ok(host.lqx(&["security-group", "create", "web"]));
    let net_vm = |name: &str, nics: &[&str]| {
        let mut args = vec![
            "--json",
            "vm",
            "create",
            name,
            "--memory",
            "64MiB",
            "--no-start",
        ];
        for nic in nics {
            args.extend(["--nic", nic]);
        }
        host.lqx(&args)
    };
    // A host that is no OVN chassis takes no NIC on a virtual network (it
    // would never pass a packet); once registered it does.
    assert_refused(net_vm("n0", &["network=blue"]), "not an OVN chassis");
    assert_ok(host.lqx(&[
        "ovn",
        "register",
        "--sb-remote",
        &central.sb.server.tcp_remote(),
        "--encap-ip",
        "127.0.0.1",
    ]));
    assert_ok(net_vm("n0", &["network=blue"]));
    assert_ok(host.lqx(&["vm", "delete", "n0"]));
    assert_refused(net_vm("n0", &["network=nowhere"]), "no network \"nowhere\"");
    assert_refused(net_vm("n0", &["network=blue,ip=10.9.9.9"]), "outside");
    assert_refused(net_vm("n0", &["network=blue,security-group=nope"]), "nope");
    assert_refused(net_vm("n0", &["bridge=br0,ip=10.7.0.3"]), "need a network");
    let created: Vm = serde_json::from_str(&assert_ok(net_vm(
        "net-1",
        &[
            "network=blue,security-group=web",
            "network=blue,ip=10.7.0.6",
        ],
    )))
    .unwrap();
    let ports: Vec<lqx_api::Port> = host.json(&["port", "list"]);
    assert_eq!(ports.len(), 2, "{ports:?}");
    assert!(ports.iter().all(|p| p.vm == Some(created.id)));
    let first = ports.iter().find(|p| p.name == "net-1-nic0").unwrap();
    assert_eq!(first.ip, Some("10.7.0.2".parse().unwrap()));
    assert_eq!(first.security_groups, ["web"]);
    assert_eq!(created.spec.nics[0].port, Some(first.id.to_string()));
    assert_eq!(
        created.spec.nics[0].mac.as_deref(),
        Some(first.mac.as_str())
    );
    let xml = libvirtd.virsh(&["dumpxml", "net-1"]);
    assert!(xml.contains("<source bridge='br-int'/>"), "{xml}");
    assert!(xml.contains("<virtualport type='openvswitch'>"), "{xml}");
    assert!(
        xml.contains(&format!("interfaceid='{}'", first.id)),
        "{xml}"
    );
    // Three addresses are left in the /29: four NICs do not fit.
    let before = domains(&libvirtd);
    assert_refused(
        net_vm(
            "net-2",
            &[
                "network=blue",
                "network=blue",
                "network=blue",
                "network=blue",
            ],
        ),
        "full",
    );
    assert_eq!(domains(&libvirtd), before, "nothing defined");
    assert_eq!(host.json::<Vec<lqx_api::Port>>(&["port", "list"]).len(), 2);
    assert_refused(
        host.lqx(&["port", "delete", "net-1-nic0"]),
        "goes with the VM",
    );
    assert_ok(host.lqx(&["vm", "delete", "net-1"]));
    assert!(
        host.json::<Vec<lqx_api::Port>>(&["port", "list"])
            .is_empty()
    );
    assert_ok(host.lqx(&["network", "delete", "blue"]));
}
