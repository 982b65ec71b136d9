//! Console benchmark: frame render time of the busiest screens at 80x24
//! and 200x60, and the RSS of the real binary running under tmux against
//! a real lqxd. Prints figures; asserts nothing.
//!
//! Run with `cargo xtask bench` (or `cargo bench -p lqx-console --bench
//! render`).

#[path = "../tests/support/tmux.rs"]
mod tmux;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lqx_console::app::{App, Screen};
use lqx_console::event::{Event, NetworkOp};
use lqx_console::view::{self, sample};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Frames timed per screen and size.
const FRAMES: usize = 2000;

fn key(app: &mut App, code: KeyCode) {
    let now = app.now;
    app.handle(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)), now);
}

/// An unlocked console with everything loaded and an apply pending (the
/// banner is drawn on every screen).
fn loaded() -> App {
    let now = sample::sample_now();
    let mut app = App::default();
    app.handle(Event::Host(Ok(Box::new(sample::sample_host()))), now);
    let mut install = sample::sample_install();
    install.available = false;
    app.handle(Event::Install(Ok(Box::new(install))), now);
    app.handle(
        Event::Auth(Ok(lqx_api::AuthStatus {
            password_set: true,
            changed_at: None,
        })),
        now,
    );
    app.unlocked = true;
    app.last_input = now;
    app.handle(
        Event::Network(NetworkOp::Fetch, Ok(Box::new(sample::sample_pending()))),
        now,
    );
    app.handle(Event::Diagnostics(Ok(sample::sample_diagnostics())), now);
    app.handle(Event::Journal(Ok(sample::sample_journal(200))), now);
    app.handle(
        Event::Ssh(lqx_console::event::SshOp::Fetch, Ok(sample::sample_ssh())),
        now,
    );
    app
}

fn screens() -> Vec<(&'static str, App)> {
    let mut status = loaded();
    status.screen = Screen::Status;
    let mut network = loaded();
    network.screen = Screen::Network;
    let mut edit = loaded();
    edit.screen = Screen::Network;
    key(&mut edit, KeyCode::Enter);
    let mut diagnostics = loaded();
    diagnostics.screen = Screen::Diagnostics;
    let mut ssh = loaded();
    ssh.screen = Screen::Ssh;
    vec![
        ("status", status),
        ("network list", network),
        ("network edit", edit),
        ("diagnostics (200 journal lines)", diagnostics),
        ("ssh", ssh),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn render_times() {
    println!("frame render time (view::draw into a TestBackend, {FRAMES} frames)");
    println!(
        "{:<34} {:>8} {:>10} {:>10}",
        "screen", "size", "median", "p99"
    );
    for (width, height) in [(80u16, 24u16), (200, 60)] {
        for (name, app) in screens() {
            let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
            let mut times = Vec::with_capacity(FRAMES);
            for _ in 0..FRAMES {
                let start = Instant::now();
                terminal.draw(|f| view::draw(f, &app)).unwrap();
                times.push(start.elapsed());
            }
            times.sort();
            println!(
                "{name:<34} {:>8} {:>10.1?} {:>10.1?}",
                format!("{width}x{height}"),
                percentile(&times, 0.5),
                percentile(&times, 0.99)
            );
        }
    }
}

/// `lqxd` of this build profile, else the debug one (the agent's speed
/// does not matter for the console's memory).
fn lqxd() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile = exe.parent()?.parent()?;
    [profile.join("lqxd"), profile.parent()?.join("debug/lqxd")]
        .into_iter()
        .find(|p| p.exists())
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn rss() {
    if !tmux::available() {
        println!("console RSS: SKIPPED (tmux is not installed)");
        return;
    }
    let Some(lqxd) = lqxd() else {
        println!("console RSS: SKIPPED (lqxd is not built; cargo build -p lqxd)");
        return;
    };
    let agent = lqx_test_support::AgentFixture::start_with(lqxd.clone(), &[]).await;
    let password = "violet-kettle-orbit-47";
    agent
        .client()
        .set_password(&lqx_api::SetPasswordRequest {
            current: None,
            new: password.into(),
        })
        .await
        .expect("set the password");
    let tmux = tmux::Tmux::start(
        &agent.dir().join("tmux.sock"),
        80,
        24,
        &tmux::console_command(&agent.socket(), ""),
    );
    let wait = Duration::from_secs(20);
    tmux.wait_for(&["Host ID", "[locked]"], wait);
    std::thread::sleep(Duration::from_secs(2));
    let pid = tmux.pane_pid();
    let idle = rss_kib(pid);
    // Unlock and visit every screen once (diagnostics reads a journal).
    tmux.keys(&["Tab"]);
    tmux.wait_for(&["Enter the admin password"], wait);
    tmux.type_text(password);
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["[unlocked]"], wait);
    for _ in 0..Screen::ALL.len() {
        tmux.keys(&["Tab"]);
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_secs(2));
    let visited = rss_kib(pid);
    let mib = |k: Option<u64>| k.map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    println!(
        "console RSS (80x24 under tmux, lqxd {}): idle on Status {}, after visiting every screen {}",
        lqxd.display(),
        mib(idle),
        mib(visited)
    );
}

fn main() {
    // `cargo bench` passes --bench; a filter is not supported.
    render_times();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(rss());
}
