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
    // A bad invocation exits 125 (as `docker run` does), not clap's 2; help and version exit 0.
    let cli = match tug::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    ExitCode::SUCCESS
                }
                _ => {
                    // One line: clap's first, which names the flag and the value.
                    let text = e.render().to_string();
                    let first = text.lines().next().unwrap_or("bad arguments");
                    eprintln!("tug: {}", first.trim_start_matches("error: "));
                    ExitCode::from(125)
                }
            };
        }
    };
    let rt = match tug::cli::runtime() {
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
