//! The `tug` command.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TUG_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = tug::cli::Cli::parse();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tug: cannot start the async runtime: {e}");
            return ExitCode::from(125);
        }
    };
    match rt.block_on(cli.run()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tug: {e:#}");
            ExitCode::from(125)
        }
    }
}
