//! `cargo xtask`: the project's task runner.
//!
//! - `cargo xtask test`: installs what the tests need (Debian packages),
//!   then format check, clippy, build, and every test.
//! - `cargo xtask run`: builds and runs the appliance's programs locally.
//! - `cargo xtask bench`: prints the benchmark figures.
//! - `cargo xtask openapi`: regenerates docs/openapi.json.

mod packages;
mod run;
mod shell;

use shell::{cargo, root};
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <test|run|bench|openapi|setup>

  test     install test dependencies, then fmt check, clippy, build and every test
  run      build lqxd and the console, start them locally (console in this terminal)
  bench    build in release mode and print benchmark figures
  openapi  regenerate docs/openapi.json from the code
  setup    only install the Debian packages the tests need";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("run") => run::run(),
        Some("bench") => bench(),
        Some("openapi") => openapi(),
        Some("setup") => packages::ensure(packages::TEST),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn test() -> Result<(), String> {
    packages::ensure(packages::TEST)?;
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    // Integration tests start the workspace's binaries; build them all first.
    cargo(&["build", "--workspace", "--bins"])?;
    if shell::has_nextest() {
        // nextest does not run doctests; run them first so that nextest's
        // summary is the run's closing line.
        cargo(&["test", "--workspace", "--doc"])?;
        cargo(&["nextest", "run", "--workspace", "--no-fail-fast"])
    } else {
        cargo(&["test", "--workspace", "--no-fail-fast"])
    }
}

fn bench() -> Result<(), String> {
    packages::ensure(packages::TEST)?;
    cargo(&["bench", "-p", "lqxd", "--bench", "host_api"])
}

fn openapi() -> Result<(), String> {
    let out = shell::cargo_output(&["run", "--quiet", "-p", "lqxd", "--", "--print-openapi"])?;
    let path = root().join("docs/openapi.json");
    std::fs::write(&path, out).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}
