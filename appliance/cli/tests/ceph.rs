//! `lqx ceph` and `lqx volume` against a real `lqxd`, a real Ceph cluster
//! (the project's fixture: mon, mgr and memstore OSD, cephx) and a real
//! libvirtd: every join failure changes nothing, a join stores the key as
//! a libvirt secret that QEMU can use, the whole volume lifecycle is
//! checked with the `rbd` CLI, the membership survives `kill -9`, and
//! leaving removes the secret.

use lqx_api::{CephStatus, ErrorBody, Volume, VolumeSummary};
use lqx_libvirt::{Libvirt, RbdDisk};
use lqx_test_support::ceph::CephFixture;
use lqx_test_support::libvirt::{LibvirtdFixture, tiny_domain_xml};
use lqx_test_support::ovsdb::free_port;
use lqx_test_support::{AgentFixture, assert_ok, assert_refused, run_lqx, text, workspace_bin};
use std::process::Output;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "current_thread")]
async fn join_manage_volumes_restart_leave() {
    let ceph = CephFixture::start();
    let libvirtd = LibvirtdFixture::start();
    ceph.create_rbd_pool("vms");
    ceph.create_rbd_pool("other");
    let key = ceph.create_rbd_client("lqx", &["vms"]);
    let mon = ceph.mon_v2().to_string();
    let uri = libvirtd.uri();
    let mut agent = AgentFixture::start_with(
        workspace_bin("lqxd"),
        &["--libvirt-uri", &uri, "--ceph-timeout", "3"],
    )
    .await;
    let socket = agent.socket();
    let lqx = |args: &[&str]| run_lqx(&socket, args);
    let state = agent.state_dir().join("ceph.json");

    assert!(assert_ok(lqx(&["ceph", "status"])).contains("Not a client"));
    assert_refused(
        lqx(&["volume", "list", "vms"]),
        "has not joined a Ceph cluster",
    );

    // Every failure: a clear message, and nothing kept.
    let keyring = agent.dir().join("lqx.keyring");
    std::fs::write(&keyring, format!("[client.lqx]\n\tkey = {key}\n")).unwrap();
    let join = |mon: &str, extra: &[&str]| {
        let mut args = vec!["ceph", "join", "--mon", mon, "--name", "client.lqx"];
        args.extend_from_slice(extra);
        lqx(&args)
    };
    assert_refused(join("mon.example", &["--key", &key]), "mons: ");
    assert_refused(
        join(&mon, &["--key", "bm90IGEga2V5"]),
        "key: not a cephx key",
    );
    assert_refused(
        lqx(&[
            "ceph", "join", "--mon", &mon, "--name", "lqx", "--key", &key,
        ]),
        "name: ",
    );
    let t = Instant::now();
    let dead = format!("127.0.0.1:{}", free_port());
    assert_refused(join(&dead, &["--key", &key]), "answered within 3s");
    assert!(t.elapsed() < Duration::from_secs(12), "{:?}", t.elapsed());
    let other_key = ceph.create_rbd_client("other", &["vms"]);
    assert_refused(join(&mon, &["--key", &other_key]), "authentication failed");
    assert_refused(
        join(
            &mon,
            &[
                "--keyring",
                keyring.to_str().unwrap(),
                "--fsid",
                "00000000-0000-4000-8000-000000000000",
            ],
        ),
        "refused: the cluster's fsid is",
    );
    assert!(!state.exists(), "a failed join persisted something");
    assert!(
        libvirtd.secret_uuids().is_empty(),
        "a failed join left a secret"
    );
    assert!(assert_ok(lqx(&["ceph", "status"])).contains("Not a client"));

    // Join, with the keyring and the right fsid.
    let out = assert_ok(join(
        &mon,
        &[
            "--keyring",
            keyring.to_str().unwrap(),
            "--fsid",
            ceph.fsid(),
        ],
    ));
    assert!(out.contains(ceph.fsid()), "{out}");
    let status: CephStatus =
        serde_json::from_str(&assert_ok(lqx(&["--json", "ceph", "status"]))).unwrap();
    let config = status.config.clone().unwrap();
    let cluster = status.cluster.clone().expect("cluster state");
    assert_eq!(config.fsid.to_string(), ceph.fsid());
    assert_eq!(config.mons, [format!("v2:{mon}")]);
    assert!(cluster.health.starts_with("HEALTH_"));
    assert_eq!(cluster.mons[0].v2.as_deref(), Some(mon.as_str()));
    let pool = |name: &str| {
        cluster
            .pools
            .iter()
            .find(|p| p.name == name)
            .unwrap()
            .clone()
    };
    assert!(pool("vms").rbd_readable);
    assert!(!pool("other").rbd_readable);
    let human = assert_ok(lqx(&["ceph", "status"]));
    assert!(human.contains("no access"), "{human}");
    // The key: 0600 in the state, never in the log, in libvirt as a secret.
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&state).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!agent.log().contains(&key), "the key was logged");
    let secret = config.libvirt_secret.expect("a libvirt secret");
    assert_eq!(libvirtd.secret_uuids(), [secret.to_string()]);
    let stored = libvirtd.secret_value(secret);
    assert_eq!(stored.trim(), key);

    // Joining the same cluster again replaces the key (rotation), with the
    // key on standard input; the libvirt secret keeps its UUID.
    let rotated = ceph.rotate_key("client.lqx");
    let mut child = std::process::Command::new(workspace_bin("lqx"))
        .arg("--socket")
        .arg(&socket)
        .args([
            "ceph",
            "join",
            "--mon",
            &mon,
            "--name",
            "client.lqx",
            "--key",
            "-",
        ])
        .env_remove("LQX_SOCKET")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    writeln!(child.stdin.take().unwrap(), "{rotated}").unwrap();
    assert_ok(child.wait_with_output().unwrap());
    let status: CephStatus =
        serde_json::from_str(&assert_ok(lqx(&["--json", "ceph", "status"]))).unwrap();
    assert_eq!(status.config.unwrap().libvirt_secret, Some(secret));
    assert_eq!(libvirtd.secret_uuids(), [secret.to_string()]);
    let stored = libvirtd.secret_value(secret);
    assert_eq!(stored.trim(), rotated);

    volume_lifecycle(&ceph, &lqx);

    // The membership and connection come back after kill -9.
    agent.kill9();
    agent.spawn_unready();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = lqx(&["--json", "volume", "list", "vms"]);
        if out.status.success() {
            let list: Vec<VolumeSummary> = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(list.len(), 1);
            break;
        }
        assert!(Instant::now() < deadline, "{}", text(&out.stderr));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // QEMU opens a volume with the secret the agent stored.
    let lv = Libvirt::open(&uri).unwrap();
    let disk = RbdDisk {
        pool: "vms".into(),
        image: "vm1".into(),
        monitors: vec![ceph.mon_v2()],
        user: "lqx".into(),
        secret_uuid: secret,
        target_dev: "vda".into(),
    };
    disk.validate().unwrap();
    let domain = lv
        .define_domain(&tiny_domain_xml("lqx-ceph-cli", &disk.to_xml()))
        .unwrap();
    lv.start(&domain)
        .unwrap_or_else(|e| panic!("{e:?}\n{}", libvirtd.domain_log("lqx-ceph-cli")));
    assert!(ceph.rbd(&["status", "vms/vm1"]).contains("watcher="));
    // In use: deleting is refused while QEMU has it open.
    assert_refused(lqx(&["volume", "delete", "vms/vm1"]), "in use");
    lv.destroy(&domain).unwrap();
    lv.undefine(&domain).unwrap();

    // Leave: secret and membership gone; volumes no longer reachable here.
    assert!(assert_ok(lqx(&["ceph", "leave"])).contains("Not a client"));
    assert!(libvirtd.secret_uuids().is_empty());
    assert_refused(
        lqx(&["volume", "list", "vms"]),
        "has not joined a Ceph cluster",
    );
    assert_refused(lqx(&["ceph", "leave"]), "has not joined");
    let body: ErrorBody =
        serde_json::from_slice(&lqx(&["--json", "volume", "list", "vms"]).stdout).unwrap();
    assert_eq!(body.error.code, lqx_api::ErrorCode::Conflict);
}

fn volume_lifecycle(ceph: &CephFixture, lqx: &dyn Fn(&[&str]) -> Output) {
    let show = |spec: &str| -> Volume {
        serde_json::from_str(&assert_ok(lqx(&["--json", "volume", "show", spec]))).unwrap()
    };
    // Bad input never reaches the cluster.
    assert_refused(
        lqx(&["volume", "create", "vms/a", "--size", "10 apples"]),
        "--size",
    );
    assert_refused(
        lqx(&["volume", "create", "vms", "--size", "1GiB"]),
        "not POOL/NAME",
    );
    assert_refused(
        lqx(&["volume", "create", "vms/a@s", "--size", "1GiB"]),
        "without @SNAP",
    );
    assert_refused(
        lqx(&["volume", "create", "other/x", "--size", "16MiB"]),
        "client.lqx has no permission",
    );
    assert_refused(
        lqx(&["volume", "create", "nopool/x", "--size", "16MiB"]),
        "pool nopool does not exist",
    );
    assert_eq!(ceph.rbd(&["ls", "vms"]), "");

    let out = assert_ok(lqx(&["volume", "create", "vms/golden", "--size", "64MiB"]));
    assert!(out.contains("64 MiB"), "{out}");
    let cli: serde_json::Value =
        serde_json::from_str(&ceph.rbd(&["info", "vms/golden", "--format", "json"])).unwrap();
    assert_eq!(cli["size"], 64u64 << 20);
    assert_eq!(cli["id"], show("vms/golden").id.as_str());
    assert_refused(
        lqx(&["volume", "create", "vms/golden", "--size", "1MiB"]),
        "already exists",
    );

    assert_ok(lqx(&["volume", "resize", "vms/golden", "--size", "128MiB"]));
    assert!(ceph.rbd(&["info", "vms/golden"]).contains("128 MiB"));
    assert_refused(
        lqx(&["volume", "resize", "vms/golden", "--size", "32MiB"]),
        "allow_shrink",
    );
    assert!(ceph.rbd(&["info", "vms/golden"]).contains("128 MiB"));
    assert_ok(lqx(&[
        "volume",
        "resize",
        "vms/golden",
        "--size",
        "96MiB",
        "--allow-shrink",
    ]));
    assert!(ceph.rbd(&["info", "vms/golden"]).contains("96 MiB"));

    assert_ok(lqx(&["volume", "snapshot", "create", "vms/golden@base"]));
    assert!(ceph.rbd(&["snap", "ls", "vms/golden"]).contains("base"));
    assert_ok(lqx(&["volume", "clone", "vms/golden@base", "vms/vm1"]));
    assert!(
        ceph.rbd(&["info", "vms/vm1"])
            .contains("parent: vms/golden@base")
    );
    assert!(
        ceph.rbd(&["children", "vms/golden@base"])
            .contains("vms/vm1")
    );
    let snaps = assert_ok(lqx(&["volume", "snapshot", "list", "vms/golden"]));
    assert!(
        snaps.contains("yes") && snaps.contains("vms/vm1"),
        "{snaps}"
    );
    let list = assert_ok(lqx(&["volume", "list", "vms"]));
    assert!(list.contains("vms/golden@base"), "{list}");

    // Refusals leave everything in place.
    assert_refused(
        lqx(&["volume", "snapshot", "delete", "vms/golden@base"]),
        "has clones",
    );
    assert_refused(lqx(&["volume", "delete", "vms/golden"]), "has snapshots");
    assert_refused(
        lqx(&["volume", "delete", "vms/golden", "--snapshots"]),
        "has clones",
    );
    assert!(ceph.rbd(&["snap", "ls", "vms/golden"]).contains("base"));
    assert!(ceph.rbd(&["info", "vms/vm1"]).contains("parent:"));

    // Asked for: the clone is flattened and keeps its data.
    assert_ok(lqx(&[
        "volume",
        "delete",
        "vms/golden",
        "--snapshots",
        "--flatten-clones",
    ]));
    assert_eq!(ceph.rbd(&["ls", "vms"]), "vm1");
    assert!(!ceph.rbd(&["info", "vms/vm1"]).contains("parent:"));
    assert_ok(lqx(&["volume", "snapshot", "create", "vms/vm1@s1"]));
    assert_ok(lqx(&["volume", "snapshot", "delete", "vms/vm1@s1"]));
    assert_eq!(ceph.rbd(&["snap", "ls", "vms/vm1"]), "");
    assert_refused(lqx(&["volume", "show", "vms/golden"]), "does not exist");
}
