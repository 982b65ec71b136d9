//! `cargo xtask`: the project's task runner.
//!
//! - `cargo xtask test`: installs what the tests need (Debian packages),
//!   then format check, clippy, build, and every test.
//! - `cargo xtask run`: builds the appliance image and boots it in QEMU.
//! - `cargo xtask run-local`: runs the appliance's programs on this machine.
//! - `cargo xtask image`: builds the image and ISO.
//! - `cargo xtask bench`: prints the benchmark figures.
//! - `cargo xtask openapi`: regenerates docs/openapi.json.

mod disk;
mod image;
mod packages;
mod run;
mod shell;

use shell::{cargo, root};
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <test|run|run-local|image|bench|bench-image|openapi|setup>

  test       install what the tests need, then fmt check, clippy, build, every test,
             the appliance image and the QEMU tests that boot it
  run        build the appliance image and boot it in QEMU, console in this terminal
  run-local  build lqxd and the console and run them on this machine
  image      build the appliance image and ISO only
  bench      print the agent's, the console's, the OVSDB client's, the volume, the cluster,
             the VM, the virtual network and the port-up benchmark figures
  bench-image  print build time, sizes and boot time of the image next to stock trixie
  openapi  regenerate docs/openapi.json from the code
  setup    only install the Debian packages the tests need";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("run") => image::build().and_then(|()| image::boot()),
        Some("run-local") => run::run(),
        Some("image") => image::build(),
        Some("bench") => bench(),
        Some("bench-image") => image::bench(),
        Some("openapi") => openapi(),
        Some("setup") => image::setup_host()
            .and_then(|()| packages::ensure(packages::BUILD))
            .and_then(|()| packages::ensure(packages::TEST)),
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
    // QEMU first, from where the host's qemu-utils came: the test packages
    // (libvirt) would otherwise pull a mismatched one.
    image::setup_host()?;
    packages::ensure(packages::BUILD)?;
    packages::ensure(packages::TEST)?;
    // Debug builds of every test binary, then a release build and the image.
    disk::ensure_room("the test builds", 10);
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
        cargo(&[
            "nextest",
            "run",
            "--workspace",
            "--exclude",
            "lqx-qemu-tests",
            "--no-fail-fast",
        ])?;
    } else {
        cargo(&[
            "test",
            "--workspace",
            "--exclude",
            "lqx-qemu-tests",
            "--no-fail-fast",
        ])?;
    }
    // Then the appliance itself, booted.
    disk::ensure_room("the image build", 6);
    image::build()?;
    image::test()
}

fn bench() -> Result<(), String> {
    image::setup_host()?;
    packages::ensure(packages::BUILD)?;
    packages::ensure(packages::TEST)?;
    cargo(&["bench", "-p", "lqxd", "--bench", "host_api"])?;
    // After the agent's: that run leaves a release lqxd for the console's
    // RSS measurement to talk to.
    cargo(&["bench", "-p", "lqx-console", "--bench", "render"])?;
    cargo(&["bench", "-p", "lqx-ovsdb", "--bench", "nb_inserts"])?;
    cargo(&["bench", "-p", "lqx", "--bench", "volumes"])?;
    // Its hosts run `lqx` too, as the tests do.
    cargo(&["build", "--release", "--workspace", "--bins"])?;
    cargo(&["bench", "-p", "lqx", "--bench", "cluster"])?;
    cargo(&["bench", "-p", "lqx", "--bench", "vms"])?;
    cargo(&["bench", "-p", "lqx", "--bench", "vnet"])?;
    cargo(&["bench", "-p", "lqx", "--bench", "port_up"])
}

fn openapi() -> Result<(), String> {
    let out = shell::cargo_output(&["run", "--quiet", "-p", "lqxd", "--", "--print-openapi"])?;
    let path = root().join("docs/openapi.json");
    std::fs::write(&path, out).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}
