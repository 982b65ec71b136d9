//! The real `lqx-console` binary in an 80x24 tmux session against a real
//! lqxd: set the password, see the status with the host id, switch
//! screens, lock, quit; and a Ceph join that takes the agent's whole
//! connect timeout while the console keeps answering keys.

mod support;

use lqx_test_support::AgentFixture;
use std::time::Duration;
use support::tmux::{Tmux, available, console_command};

const WAIT: Duration = Duration::from_secs(20);
const PASSWORD: &str = "violet-kettle-orbit-47";

#[tokio::test]
async fn real_binary_in_tmux() {
    if !available() {
        eprintln!("SKIPPED: tmux is not installed (cargo xtask test installs it)");
        return;
    }
    let agent = AgentFixture::start().await;
    let host_id = agent.client().host().await.unwrap().host_id.to_string();
    let tmux = Tmux::start(
        &agent.dir().join("tmux.sock"),
        80,
        24,
        &console_command(&agent.socket(), ""),
    );

    // First boot: the password form, with the host's identity above it.
    tmux.wait_for(&["Set the admin password", "Host ID", &host_id], WAIT);
    tmux.type_text("short");
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["At least 10 characters"], WAIT);
    tmux.keys(&["Up"]);
    for _ in 0..5 {
        tmux.keys(&["BSpace"]);
    }
    tmux.type_text(PASSWORD);
    tmux.keys(&["Enter"]);
    tmux.type_text(PASSWORD);
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for(&["[unlocked]", "Host ID", &host_id, "not configured"], WAIT);
    assert!(!screen.contains(PASSWORD), "the password is never shown");
    assert!(agent.client().auth().await.unwrap().password_set);

    // Screens by Tab and Shift-Tab.
    tmux.keys(&["Tab"]);
    tmux.wait_for(&["LINK", "ADDRESSING", "A Apply"], WAIT);
    tmux.keys(&["Tab"]);
    tmux.wait_for(&["Hostname, DNS and NTP", "Save and apply"], WAIT);
    tmux.keys(&["BTab", "BTab"]);
    tmux.wait_for(&["Management", "API"], WAIT);

    // Lock: the network screen now asks for the password.
    tmux.keys(&["l"]);
    tmux.wait_for(&["[locked]"], WAIT);
    tmux.keys(&["Tab"]);
    tmux.wait_for(&["Network (locked)", "Enter the admin password"], WAIT);
    tmux.type_text("wrong password here");
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["! wrong password"], WAIT);
    tmux.type_text(PASSWORD);
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["[unlocked]", "LINK"], WAIT);

    tmux.keys(&["Escape", "q"]);
    let deadline = std::time::Instant::now() + WAIT;
    while !tmux.exited() {
        assert!(std::time::Instant::now() < deadline, "{}", tmux.screen());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sets the first password on a fresh agent's console.
fn first_password(tmux: &Tmux) {
    tmux.wait_for(&["Set the admin password"], WAIT);
    tmux.type_text(PASSWORD);
    tmux.keys(&["Enter"]);
    tmux.type_text(PASSWORD);
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["[unlocked]"], WAIT);
}

#[tokio::test]
async fn ceph_join_keeps_the_console_responsive() {
    if !available() {
        eprintln!("SKIPPED: tmux is not installed (cargo xtask test installs it)");
        return;
    }
    // Long enough to switch screens and back while the agent waits.
    let agent = AgentFixture::start_with(
        lqx_test_support::workspace_bin("lqxd"),
        &["--ceph-timeout", "5"],
    )
    .await;
    // A port nothing listens on: the agent waits its whole timeout.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let tmux = Tmux::start(
        &agent.dir().join("tmux.sock"),
        80,
        24,
        &console_command(&agent.socket(), ""),
    );
    first_password(&tmux);
    tmux.keys(&["BTab", "BTab", "BTab"]);
    tmux.wait_for(&["Ceph storage", "Not joined"], WAIT);

    const KEY: &str = "AQBzSk5nAAAAABAAGJ2UxtMqK6IjkGUoJ9DAHQ==";
    tmux.type_text(&format!("127.0.0.1:{port}"));
    tmux.keys(&["Enter"]);
    tmux.type_text("client.lqx");
    tmux.keys(&["Enter"]);
    tmux.type_text(KEY);
    tmux.keys(&["Enter", "Enter"]);
    tmux.wait_for(
        &["Joining: waiting for the monitors to accept client.lqx"],
        WAIT,
    );

    // Another screen and back while the join is under way; the seconds
    // go on counting.
    tmux.keys(&["Tab"]);
    tmux.wait_for(&["OVN chassis"], WAIT);
    tmux.keys(&["BTab"]);
    tmux.wait_for(&["accept client.lqx... 2 s"], WAIT);

    let screen = tmux.wait_for(&["no monitor of", "answered within 5s"], WAIT);
    assert!(!screen.contains(KEY), "the key is never shown");
    let status = agent.client().ceph().await.unwrap();
    assert!(status.config.is_none(), "{status:?}");
}
