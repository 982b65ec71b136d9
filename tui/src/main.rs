//! `lqx-console`: the LimiQuantix console for the host's tty1 and serial
//! line. A client of the agent's local API only: it never edits system
//! files itself.

use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// The LimiQuantix host console.
#[derive(Debug, Parser)]
#[command(name = "lqx-console", version, about)]
struct Args {
    /// The local agent's API socket.
    #[arg(long, env = lqx_client::SOCKET_ENV, default_value = lqx_client::DEFAULT_SOCKET)]
    socket: PathBuf,

    /// Seconds between refreshes of the status screen.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    refresh: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(lqx_console::runtime::run(
        lqx_client::Client::unix(args.socket),
        Duration::from_secs(args.refresh),
    ))
}
