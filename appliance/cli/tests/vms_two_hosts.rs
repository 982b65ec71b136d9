//! VMs across two hosts: two `lqxd`s on 127.0.0.93–94 in one cluster,
//! each with its own private libvirtd. Through the first host's socket a
//! VM is placed on the second (by name), another on whichever host has a
//! bridge it needs; every operation on them is carried out by their
//! host, wherever it is asked; the second host's VNC display answers
//! through the first host's console WebSocket; the list is the same from
//! both hosts; each libvirtd holds only its own VMs.

use futures::StreamExt as _;
use lqx_api::{Vm, VmList, VmState};
use lqx_test_support::cluster::{ClusterHost, wait_for};
use lqx_test_support::libvirt::LibvirtdFixture;
use lqx_test_support::{assert_ok, assert_refused, text};
use std::process::Command;

/// A Linux bridge made by the test, deleted when dropped.
struct Bridge(&'static str);

impl Bridge {
    fn create(name: &'static str) -> Self {
        let _ = Command::new("ip").args(["link", "del", name]).output();
        let out = Command::new("ip")
            .args(["link", "add", name, "type", "bridge"])
            .output()
            .unwrap();
        assert!(out.status.success(), "ip link add: {}", text(&out.stderr));
        let out = Command::new("ip")
            .args(["link", "set", name, "up"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ip link set up: {}",
            text(&out.stderr)
        );
        Self(name)
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", self.0]).output();
    }
}

fn names(libvirtd: &LibvirtdFixture) -> Vec<String> {
    libvirtd
        .virsh(&["list", "--all", "--name"])
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vms_placed_and_driven_across_two_hosts() {
    let libvirtd1 = LibvirtdFixture::start();
    let libvirtd2 = LibvirtdFixture::start();
    let (uri1, uri2) = (libvirtd1.uri(), libvirtd2.uri());
    let h1 =
        ClusterHost::start_with("127.0.0.93", &["--libvirt-uri", &uri1, "--vm-accel", "tcg"]).await;
    let h2 =
        ClusterHost::start_with("127.0.0.94", &["--libvirt-uri", &uri2, "--vm-accel", "tcg"]).await;
    h1.init(&["--name", "pair"]);
    h2.join(&h1.token());
    h1.wait_members(&[&h1, &h2], &[]);

    // Named: on the second host, asked through the first.
    let on2: Vm = h1.json(&[
        "--host", &h2.id, "vm", "create", "on-two", "--memory", "64MiB",
    ]);
    assert_eq!(on2.host.to_string(), h2.id);
    assert_eq!(names(&libvirtd2), ["on-two"]);
    assert!(names(&libvirtd1).is_empty());
    assert_eq!(libvirtd2.virsh(&["domstate", "on-two"]), "running");

    // By need: a bridge both hosts have only after the test makes it
    // (the hosts share this machine's network); a bridge no host has
    // is refused with each host's reason.
    assert_refused(
        h2.lqx(&[
            "vm",
            "create",
            "bridged",
            "--memory",
            "64MiB",
            "--nic",
            "bridge=lqxt-nope",
        ]),
        "no bridge lqxt-nope",
    );
    let _bridge = Bridge::create("lqxt-br0");
    let bridged = wait_for(|| {
        let out = h2.lqx(&[
            "--json",
            "vm",
            "create",
            "bridged",
            "--memory",
            "64MiB",
            "--nic",
            "bridge=lqxt-br0",
            "--no-start",
        ]);
        serde_json::from_slice::<Vm>(&out.stdout).ok()
    })
    .expect("placed once the hosts report the bridge");
    let bridged_host = if bridged.host.to_string() == h1.id {
        &libvirtd1
    } else {
        &libvirtd2
    };
    let xml = bridged_host.virsh(&["dumpxml", "bridged"]);
    assert!(xml.contains("lqxt-br0"), "{xml}");

    // The list is the cluster's, from either host.
    for h in [&h1, &h2] {
        let list: VmList = h.json(&["vm", "list"]);
        let mut listed: Vec<&str> = list.vms.iter().map(|v| v.spec.name.as_str()).collect();
        listed.sort();
        assert_eq!(listed, ["bridged", "on-two"]);
    }

    // Operations through the first host act on the second's libvirtd.
    assert_ok(h1.lqx(&["vm", "stop", "on-two"]));
    assert_eq!(libvirtd2.virsh(&["domstate", "on-two"]), "shut off");
    assert_ok(h1.lqx(&["vm", "start", "on-two"]));
    assert_eq!(libvirtd2.virsh(&["domstate", "on-two"]), "running");
    let running = wait_for(|| {
        let vm: Vm = h1.json(&["vm", "show", "on-two"]);
        (vm.status.as_ref().map(|s| s.state) == Some(VmState::Running)).then_some(vm)
    })
    .expect("reported running");
    assert!(running.status.unwrap().vnc_port.is_some());

    // Its display, relayed by the first host from the second.
    let mut vnc = h1
        .agent
        .client()
        .websocket("/v1/vms/on-two/console")
        .await
        .unwrap();
    let greeting = tokio::time::timeout(std::time::Duration::from_secs(10), vnc.next())
        .await
        .expect("a frame within 10 s")
        .expect("a frame")
        .expect("no error");
    assert!(greeting.into_data().starts_with(b"RFB 003.0"));
    drop(vnc);

    // Deleted through the first host, from the second's libvirtd.
    assert_ok(h1.lqx(&["vm", "delete", "on-two", "--force"]));
    assert_ok(h1.lqx(&["vm", "delete", "bridged"]));
    assert!(names(&libvirtd1).is_empty() && names(&libvirtd2).is_empty());
    let list: VmList = h2.json(&["vm", "list"]);
    assert!(list.vms.is_empty(), "{list:?}");
}
