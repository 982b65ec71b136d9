//! `lqxd`, the LimiQuantix host agent.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = lqxd::args::Args::parse();
    if args.print_openapi {
        println!("{}", lqxd::api::openapi_json());
        return std::process::ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lqxd: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(lqxd::run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Logging may not be up yet (bad flags, locked state): stderr
            // reaches the operator and the journal either way.
            eprintln!("lqxd: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
