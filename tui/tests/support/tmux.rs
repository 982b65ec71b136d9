//! The real `lqx-console` binary inside a private tmux server: keys in
//! with `send-keys`, the screen out with `capture-pane`. Shared by the
//! tmux test and the benchmark (which reads the console's RSS).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Whether tmux can be run here.
pub fn available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A tmux server of our own (its own socket), running one session.
pub struct Tmux {
    socket: PathBuf,
}

const SESSION: &str = "lqx";

impl Tmux {
    /// Starts `command` in a detached `width`x`height` session on a
    /// server listening on `socket`.
    pub fn start(socket: &Path, width: u16, height: u16, command: &str) -> Self {
        let tmux = Self {
            socket: socket.to_owned(),
        };
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-s",
            SESSION,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            command,
        ]);
        assert!(out.status.success(), "tmux new-session: {out:?}");
        // Keep the pane after the program exits, to read why it did.
        tmux.run(&["set-option", "-t", SESSION, "remain-on-exit", "on"]);
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", SESSION, "-l", text]);
    }

    /// Sends named keys (`Enter`, `Tab`, `BTab`, `Escape`, `Down`, ...).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend(keys);
        self.run(&args);
    }

    /// The screen's text.
    pub fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", SESSION]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until every one of `texts` is on the screen; panics with
    /// the screen after `timeout`.
    pub fn wait_for(&self, texts: &[&str], timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if texts.iter().all(|t| screen.contains(t)) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited {timeout:?} for {texts:?}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The pid of the program in the pane.
    pub fn pane_pid(&self) -> u32 {
        let out = self.run(&["display-message", "-p", "-t", SESSION, "#{pane_pid}"]);
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("pane pid")
    }

    /// Whether the program in the pane has exited.
    pub fn exited(&self) -> bool {
        let out = self.run(&["display-message", "-p", "-t", SESSION, "#{pane_dead}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }
}

impl Drop for Tmux {
    /// Stops our own server only (it has its own socket).
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

/// The shell command running the console against `socket`; `exec` so
/// that the pane's pid is the console's.
pub fn console_command(agent_socket: &Path, extra: &str) -> String {
    format!(
        "exec {} --socket {} {extra}",
        env!("CARGO_BIN_EXE_lqx-console"),
        agent_socket.display()
    )
}
