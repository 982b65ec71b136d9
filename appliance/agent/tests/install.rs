//! The installer writes the system image onto a real block device (a
//! loop device), verifies it, and refuses bad choices without writing.

use lqx_api::{ErrorCode, InstallPhase, InstallRequest};
use lqx_client::ClientError;
use lqx_test_support::{AgentFixture, LoopDisk};
use std::process::Command;
use std::time::{Duration, Instant};

fn request(disk: &str, confirm: &str) -> InstallRequest {
    InstallRequest {
        disk: disk.into(),
        confirm: confirm.into(),
    }
}

fn refused(result: Result<lqx_api::InstallProgress, ClientError>) -> (ErrorCode, String) {
    match result {
        Err(ClientError::Api { code, message, .. }) => (code, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn install_onto_a_loop_device() {
    let work = tempfile::tempdir().unwrap();
    let image = work.path().join("lqx.raw");
    let mut data: Vec<u8> = (0..(24u32 << 20)).map(|i| (i % 253) as u8 ^ 0x5a).collect();
    // A zero run, as the image's free ESP space has: zeroed by the device.
    data[(8 << 20)..(16 << 20)].fill(0);
    std::fs::write(&image, &data).unwrap();
    let big = LoopDisk::new(&work.path().join("big.img"), 9 << 30);
    let small = LoopDisk::new(&work.path().join("small.img"), 1 << 30);

    let agent = AgentFixture::start_installer(&image).await;
    let client = agent.client();

    let info = client.install_info().await.unwrap();
    assert!(info.available);
    assert_eq!(info.image_bytes, Some(data.len() as u64));
    let find = |name: &str| info.disks.iter().find(|d| d.name == name).cloned().unwrap();
    assert!(find(&big.name()).eligible, "{:?}", find(&big.name()));
    let small_disk = find(&small.name());
    assert!(!small_disk.eligible);
    assert!(small_disk.reason.unwrap().contains("too small"));

    // Bad choices: nothing written.
    let (code, msg) = refused(client.install(&request(&big.name(), "vda")).await);
    assert_eq!(code, ErrorCode::InvalidValue);
    assert!(msg.contains("does not match"), "{msg}");
    let (code, _) = refused(client.install(&request(&small.name(), &small.name())).await);
    assert_eq!(code, ErrorCode::InvalidValue);
    let (code, _) = refused(client.install(&request("nosuchdisk", "nosuchdisk")).await);
    assert_eq!(code, ErrorCode::InvalidValue);
    assert!(
        big.head(1 << 20).iter().all(|b| *b == 0),
        "refused install wrote nothing"
    );
    assert!(small.head(1 << 20).iter().all(|b| *b == 0));

    // Old contents everywhere the image goes: the zero run must be zeroed,
    // not skipped.
    {
        use std::io::Write;
        let mut dev = std::fs::OpenOptions::new()
            .write(true)
            .open(big.dev())
            .unwrap();
        dev.write_all(&vec![0xffu8; data.len()]).unwrap();
        dev.sync_all().unwrap();
    }

    // The real thing.
    let started = client
        .install(&request(&big.name(), &big.name()))
        .await
        .unwrap();
    assert_eq!(started.phase, InstallPhase::Writing);
    let deadline = Instant::now() + Duration::from_secs(120);
    let progress = loop {
        let p = client.install_info().await.unwrap().progress;
        if matches!(p.phase, InstallPhase::Done | InstallPhase::Failed) {
            break p;
        }
        assert!(Instant::now() < deadline, "install did not finish: {p:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        progress.phase,
        InstallPhase::Done,
        "{:?}\n{}",
        progress.message,
        agent.log()
    );
    assert_eq!(progress.bytes_done, data.len() as u64);
    assert_eq!(big.head(data.len()), data, "disk holds the image");
    let cmp = Command::new("cmp")
        .args(["-n", &data.len().to_string()])
        .arg(&image)
        .arg(big.dev())
        .status()
        .unwrap();
    assert!(cmp.success(), "cmp agrees");
}

#[tokio::test]
async fn without_an_image_installation_is_unavailable() {
    let agent = AgentFixture::start().await;
    let info = agent.client().install_info().await.unwrap();
    assert!(!info.available);
    let (code, msg) = refused(agent.client().install(&request("vda", "vda")).await);
    assert_eq!(code, ErrorCode::Conflict);
    assert!(msg.contains("live ISO"), "{msg}");
}
