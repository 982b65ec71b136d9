//! `lqx-console`: the LimiQuantix console for the host's tty1 and serial
//! line. A client of the agent's local API only: it never edits system
//! files itself.

use clap::Parser;
use std::path::PathBuf;

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

    /// Seconds without a key press after which the console locks.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(10..=86400))]
    lock_after: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(lqx_console::runtime::run(
        lqx_client::Client::unix(args.socket),
        lqx_console::app::Settings {
            refresh: time::Duration::seconds(i64::try_from(args.refresh)?),
            lock_after: time::Duration::seconds(i64::try_from(args.lock_after)?),
        },
    ))
}
