//! Benchmark of VM creation: `POST /v1/vms` (check, place, reserve the
//! name and write the record in etcd, write the seed ISO, define, start,
//! report) through the API client against a release `lqxd` on
//! 127.0.0.97, next to `virsh define` + `virsh start` of the same domain
//! XML, and the same two calls made in-process through lqx-libvirt, all
//! against one private libvirtd (TCG) in the same run. Each round deletes
//! what it made.
//!
//! Run with `cargo xtask bench`, or `cargo build --release --workspace
//! --bins && cargo bench -p lqx --bench vms`. Prints figures; asserts only
//! that every call succeeds.

use lqx_api::{CloudInit, VmCreate, VmDeleteQuery, VmSpec};
use lqx_libvirt::{DomainName, Libvirt, domain};
use lqx_test_support::bench::report;
use lqx_test_support::cluster::ClusterHost;
use lqx_test_support::libvirt::LibvirtdFixture;
use std::time::{Duration, Instant};

const ROUNDS: usize = 20;

fn spec(name: &str) -> VmSpec {
    VmSpec {
        name: name.into(),
        vcpus: 1,
        memory_mib: 64,
        disks: vec![],
        cdrom: None,
        nics: vec![],
        cloud_init: Some(CloudInit {
            user_data: "#cloud-config\nhostname: bench\n".into(),
            meta_data: None,
            network_config: None,
        }),
        boot: vec![],
        firmware: lqx_api::Firmware::Bios,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let libvirtd = LibvirtdFixture::start();
    let uri = libvirtd.uri();
    let host =
        ClusterHost::start_with("127.0.0.97", &["--libvirt-uri", &uri, "--vm-accel", "tcg"]).await;
    host.init(&["--name", "bench"]);
    let client = host.agent.client().with_timeout(Duration::from_secs(60));
    let remove = VmDeleteQuery {
        force: true,
        disks: false,
    };
    // A first VM warms libvirt's capabilities and the agent's connection.
    client
        .create_vm(&VmCreate {
            spec: spec("warm"),
            host: None,
            start: true,
        })
        .await
        .expect("create");
    client.delete_vm("warm", remove).await.expect("delete");
    // virsh gets the XML lqxd would render for the same VM, with a seed of
    // the same size.
    let dir = tempfile::tempdir().unwrap();
    let seed = lqx_cloudinit::seed_iso(
        b"#cloud-config\nhostname: bench\n",
        b"instance-id: bench\nlocal-hostname: bench\n",
        None,
    )
    .unwrap();
    let other_xml = |n: usize| {
        let name = format!("raw-{n}");
        let seed_path = dir.path().join(format!("{name}.iso"));
        std::fs::write(&seed_path, &seed).unwrap();
        let xml = domain::domain_xml(&domain::DomainSpec {
            id: uuid::Uuid::new_v4(),
            name: name.clone(),
            vcpus: 1,
            memory_mib: 64,
            firmware: domain::Firmware::Bios,
            accel: domain::Accel::Tcg,
            disks: vec![],
            cdrom: None,
            seed: Some(seed_path),
            nics: vec![],
            boot: vec![],
            serial_socket: dir.path().join(format!("{name}.sock")),
            nvram: None,
        })
        .unwrap();
        let path = dir.path().join(format!("{name}.xml"));
        std::fs::write(&path, xml).unwrap();
        (name, path)
    };

    let mut api = Vec::with_capacity(ROUNDS);
    let mut virsh = Vec::with_capacity(ROUNDS);
    let mut in_process = Vec::with_capacity(ROUNDS);
    let libvirt = Libvirt::open(&uri).expect("libvirt");
    for n in 0..ROUNDS {
        let name = format!("api-{n}");
        let t = Instant::now();
        client
            .create_vm(&VmCreate {
                spec: spec(&name),
                host: None,
                start: true,
            })
            .await
            .expect("create");
        api.push(t.elapsed());
        client.delete_vm(&name, remove).await.expect("delete");

        let (name, path) = other_xml(n);
        let t = Instant::now();
        libvirtd.virsh(&["define", path.to_str().unwrap()]);
        libvirtd.virsh(&["start", &name]);
        virsh.push(t.elapsed());
        libvirtd.virsh(&["destroy", &name]);
        libvirtd.virsh(&["undefine", &name]);

        let xml = std::fs::read_to_string(&path).unwrap();
        let t = Instant::now();
        let defined = libvirt.define_domain(&xml).expect("define");
        libvirt.start(&defined).expect("start");
        in_process.push(t.elapsed());
        libvirt.destroy(&DomainName::new(name.clone())).unwrap();
        libvirt.undefine_vm(&defined).unwrap();
    }
    println!("create and start a 64 MiB TCG VM with a cloud-init seed ({ROUNDS} rounds):");
    let a = report(
        "  API POST /v1/vms (checks, etcd record, seed ISO, define, start)",
        &mut api,
    );
    let v = report("  virsh define + virsh start, same XML", &mut virsh);
    let l = report(
        "  define + start through lqx-libvirt, in process",
        &mut in_process,
    );
    println!(
        "  overhead ratio, API / virsh: {:.2}; API / in-process libvirt: {:.2}",
        a.as_secs_f64() / v.as_secs_f64(),
        a.as_secs_f64() / l.as_secs_f64()
    );
}
