//! `cargo xtask run`: the appliance's programs on this machine.
//!
//! Builds `lqxd` and `lqx-console`, starts `lqxd` on a private state
//! directory and socket, and runs the console in this terminal. Quitting
//! the console (q) stops the agent.

use crate::shell::{cargo, target_dir};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn run() -> Result<(), String> {
    crate::image::setup_host()?;
    crate::packages::ensure(crate::packages::BUILD)?;
    // The same build as the tests, so neither invalidates the other.
    cargo(&["build", "--workspace", "--bins"])?;
    let bin = target_dir().join("debug");
    let dir = std::env::temp_dir().join(format!("lqx-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let socket = dir.join("lqxd.sock");
    let log = std::fs::File::create(dir.join("lqxd.log")).map_err(|e| e.to_string())?;
    let mut agent = Command::new(bin.join("lqxd"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--socket")
        .arg(&socket)
        .args(["--mode", "standalone"])
        .stdin(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start lqxd: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        if Instant::now() > deadline || agent.try_wait().ok().flatten().is_some() {
            let _ = agent.kill();
            return Err(format!(
                "lqxd did not start; see {}",
                dir.join("lqxd.log").display()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let console = Command::new(bin.join("lqx-console"))
        .arg("--socket")
        .arg(&socket)
        .status();
    let _ = agent.kill();
    let _ = agent.wait();
    eprintln!("agent log and state: {}", dir.display());
    match console {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("lqx-console exited with {status}")),
        Err(e) => Err(format!("cannot start lqx-console: {e}")),
    }
}
