//! The `tug` command line: argument parsing and one function per subcommand.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::engine::{Client, EngineConfig, Request};

/// Sandboxed WebAssembly plugins that script Docker container workflows.
#[derive(Debug, Parser)]
#[command(name = "tug", version, about)]
pub struct Cli {
    /// The engine to use, as a DOCKER_HOST URL (unix://, tcp://, https://, ssh://); default: the
    /// environment (DOCKER_HOST, DOCKER_CONTEXT, ~/.docker) as docker-py's from_env reads it.
    #[arg(long, global = true, value_name = "URL")]
    pub engine: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Talk to the engine directly, without a plugin.
    #[command(subcommand)]
    Engine(EngineCommand),
}

/// `tug engine …`.
#[derive(Debug, Subcommand)]
pub enum EngineCommand {
    /// Ping the engine and print what its headers say.
    Ping,
    /// Print the engine's version, the API version tug negotiated, and a line of `info`.
    Version,
}

impl Cli {
    /// Runs the command; the exit code is the command's (a plugin's, for `run`).
    pub async fn run(self) -> anyhow::Result<ExitCode> {
        let client = self.client()?;
        match self.command {
            Command::Engine(EngineCommand::Ping) => {
                let ping = client.ping().await?;
                println!("{ping:?}");
            }
            Command::Engine(EngineCommand::Version) => {
                let version: Value = client.json(Request::get("/version")).await?;
                let info: Value = client.json(Request::get("/info")).await?;
                println!(
                    "engine {} at {}: Docker {} (API {}, speaking {}), {} {}",
                    info["Name"].as_str().unwrap_or("?"),
                    client.config().endpoint,
                    version["Version"].as_str().unwrap_or("?"),
                    version["ApiVersion"].as_str().unwrap_or("?"),
                    client.api_version().await?,
                    version["Os"].as_str().unwrap_or("?"),
                    version["Arch"].as_str().unwrap_or("?"),
                );
                println!(
                    "{} containers ({} running), {} images, storage driver {}, {} CPUs, {} MiB",
                    info["Containers"],
                    info["ContainersRunning"],
                    info["Images"],
                    info["Driver"].as_str().unwrap_or("?"),
                    info["NCPU"],
                    info["MemTotal"].as_u64().unwrap_or(0) >> 20,
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    }

    fn client(&self) -> anyhow::Result<Client> {
        let config = match &self.engine {
            Some(url) => EngineConfig::from_url(url).with_context(|| format!("--engine {url}"))?,
            None => EngineConfig::from_env()?,
        };
        Ok(Client::new(config)?)
    }
}
