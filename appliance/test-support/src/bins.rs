use std::path::PathBuf;

/// Path of a binary of this workspace, built in the same target directory
/// and profile as the running test (`target/<profile>/<name>`).
///
/// Cargo builds every binary of the workspace before running
/// `cargo test --workspace`; a test run for a single package should build
/// them first (`cargo build --workspace --bins`), which `cargo xtask test`
/// does.
///
/// # Panics
/// When the binary does not exist, with a message saying how to build it.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("path of the running test");
    // target/<profile>/deps/<test>-<hash>  →  target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binary inside target/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; run `cargo build --workspace --bins` first",
        path.display()
    );
    path
}

/// Runs the built `lqx` against the agent at `socket` (never the one
/// `LQX_SOCKET` of the test's environment names) and returns its output.
pub fn run_lqx(socket: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(workspace_bin("lqx"))
        .arg("--socket")
        .arg(socket)
        .args(args)
        .env_remove("LQX_SOCKET")
        .output()
        .expect("run lqx")
}

/// A command's output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts that the command succeeded; its standard output.
pub fn assert_ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Asserts that the command failed with a message containing `expect`.
pub fn assert_refused(out: std::process::Output, expect: &str) {
    assert!(!out.status.success(), "succeeded: {}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains(expect), "expected {expect:?} in: {err}");
}
