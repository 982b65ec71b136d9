//! Under systemd, lqxd says READY=1 once its socket answers and pings the
//! watchdog. A datagram socket plays systemd's notify socket.

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn ready_then_watchdog_pings() {
    let dir = tempfile::tempdir().unwrap();
    let notify_path = dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let socket = dir.path().join("lqxd.sock");
    let mut child = Command::new(lqx_test_support::workspace_bin("lqxd"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg("--socket")
        .arg(&socket)
        .args(["--mode", "standalone"])
        .env("NOTIFY_SOCKET", &notify_path)
        // 400 ms: lqxd pings every 200 ms after a successful self-check.
        .env("WATCHDOG_USEC", "400000")
        .env_remove("WATCHDOG_PID")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let mut messages = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline
        && messages
            .iter()
            .filter(|m: &&String| m.contains("WATCHDOG=1"))
            .count()
            < 2
    {
        let n = notify.recv(&mut buf).unwrap();
        messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let _ = child.kill();
    let _ = child.wait();

    let ready = messages
        .iter()
        .position(|m| m.contains("READY=1"))
        .expect("READY=1 sent");
    assert!(messages[ready].contains("STATUS=host "), "{messages:?}");
    let first_ping = messages
        .iter()
        .position(|m| m.contains("WATCHDOG=1"))
        .expect("watchdog pinged");
    assert!(ready < first_ping, "ready before pings: {messages:?}");
    // READY comes only once the API answers.
    assert!(socket.exists());
}
