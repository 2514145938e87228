//! The `tug` command line: argument parsing and one function per subcommand.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::engine::{Client, Request};

pub mod build;
pub mod check;
pub mod compile;
pub mod engines;
pub mod image;
pub mod new;
pub mod policy_show;
pub mod report;
pub mod run;
pub mod runs;

pub use run::RunArgs;

/// The async runtime `tug` runs on: one thread, on which the plugin's wasm, its host calls, the engine
/// connections they use and tug's own tasks take turns; blocking work (tar filters, hashing, files) goes
/// to tokio's blocking pool, compilation to wasmtime's threads.
///
/// One thread because a plugin's calls are a chain: the plugin waits on a stream, the connection's bytes
/// arrive, the plugin reads them. On tokio's multi-threaded runtime each link of that chain could wake
/// another thread: reading a 1 GiB archive cost 51 000 context switches and 1.6 CPU-s, against 24 000
/// and 1.1 CPU-s here (curl: 30 000 and 1.0 CPU-s). Concurrency is unchanged: the engines of a run, the
/// calls in flight and the cleanup still run at once, interleaved on the thread; a plugin that computes
/// yields at every epoch tick, so timers and signals are served while it spins.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}

/// Sandboxed WebAssembly plugins that script Docker container workflows.
#[derive(Debug, Parser)]
#[command(name = "tug", version, about)]
pub struct Cli {
    /// The engines: `--engine [NAME=]URL`, `--context [NAME=]CONTEXT`, and TLS material per engine.
    #[command(flatten)]
    pub engines: engines::EngineArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a plugin (a WASI 0.2 component) against the engine; tug exits with the plugin's exit code.
    ///
    /// Exit codes of tug itself: 125 when the plugin cannot be run (a bad flag or value, a bad policy, no
    /// such file, not a component, an import tug does not provide), 69 when the engine cannot be reached,
    /// 77 when the plugin failed (exited non-zero) after the policy denied it a call, 134 when the plugin
    /// traps, 124 when it runs out of time, 137 when it exceeds a memory, CPU or handle limit, 130 when
    /// tug is interrupted (SIGINT or SIGTERM); otherwise the plugin's own exit code.
    ///
    /// Output: progress bars on a terminal (pulls, pushes, builds, loads, archive transfers), never in
    /// the plugin's stdout; `--json` events; `--summary`; under GitHub Actions, annotations and the step
    /// summary. See docs/cli.md.
    ///
    /// Budgets: reaching the engine (/_ping) and the sweep of what killed runs left take at most 10 s each
    /// (the ping also at most --timeout); the plugin at most --timeout (or the policy's wall_time); the
    /// cleanup at most --grace (30 s), waiting first for requests still on their way. A signal in any
    /// phase is honoured: before the plugin starts, tug stops (130); during the run, the plugin stops and
    /// the cleanup runs; during the cleanup, a signal (a second one, if one stopped the plugin) skips it.
    /// What a cleanup leaves keeps the
    /// run's label and is swept by the next tug run on this host.
    Run(RunArgs),
    /// Talk to the engine directly, without a plugin.
    #[command(subcommand)]
    Engine(EngineCommand),
    /// Build a plugin from a Python script (componentize-py with tug's WIT and SDK, docker-py bundled), a
    /// JavaScript or TypeScript module (esbuild and componentize-js, tug's dockerode-shaped SDK as
    /// `dockerode`; TypeScript type-checked first) or a directory (a Rust crate: cargo build --release
    /// --target wasm32-wasip2; or a script project, as `tug new` makes them), and precompile it into the
    /// compile cache.
    Build(build::BuildArgs),
    /// Make a plugin skeleton in Rust, Python or JavaScript (a sample that runs a container and prints
    /// its output, and a README) that `tug build NAME` builds into NAME.wasm.
    New(new::NewArgs),
    /// Compile plugins ahead of time into the compile cache (`tug run` then maps them instead of
    /// compiling; it also caches what it compiles, unless --no-cache).
    Compile(compile::CompileArgs),
    /// Pull, save, edit and push images straight from and to registries, without a daemon.
    #[command(subcommand)]
    Image(image::ImageCommand),
    /// Read a plugin's imports before running it: what it can reach, and what the policy does not grant.
    ///
    /// The Engine API areas its tug:engine imports reach (each function's operation, from the operation
    /// table, put to the policy as the gate puts it: granted, read-only or denied) and the host resources
    /// of its WASI imports (preopens, environment, network, …). Exit code 0 when tug provides every import
    /// (even if the policy denies some of what the plugin can reach: it says so), 125 when it does not
    /// (naming the import), or the file is missing, not a component or not a WASI command.
    Check(check::CheckArgs),
    /// Show a policy: `tug policy show [PROFILE|FILE]` prints every effective setting, explained.
    #[command(subcommand)]
    Policy(policy_show::PolicyCommand),
    /// List the runs that own objects on the engines (every one given), live and orphaned.
    ///
    /// For each: run id, plugin, owner pid, host, when its tug started, its state (live, orphaned, kept,
    /// finished, other-host, unknown) and its objects by kind. Exit code 1 when a list failed, 69 when
    /// an engine cannot be reached.
    Runs(runs::RunsArgs),
    /// Remove what orphaned runs left on the engines (every one given), as the start-up sweep of `tug
    /// run` does; never a live run's.
    ///
    /// Orphans are the objects of runs recorded on this host as unfinished whose tug is gone (not
    /// `--keep` runs, not another host's, not what merely carries a finished run's labels). Exit code 1
    /// when a list or removal failed, 69 when an engine cannot be reached, 125 when --run names a run
    /// that may not be swept (the message says why).
    Sweep(runs::SweepArgs),
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
        if let Command::Compile(args) = self.command {
            return compile::compile(args);
        }
        if let Command::Build(args) = self.command {
            return build::build(args);
        }
        if let Command::New(args) = self.command {
            return new::new(args);
        }
        // Registry commands need no engine either.
        if let Command::Image(command) = self.command {
            return image::run(command).await;
        }
        // Nor do `check` and `policy`: they read files.
        if let Command::Check(args) = self.command {
            return check::check(args);
        }
        if let Command::Policy(command) = self.command {
            return policy_show::run(command);
        }
        if let Command::Run(args) = self.command {
            return run::run_plugin(self.engines, args).await;
        }
        if matches!(self.command, Command::Runs(_) | Command::Sweep(_)) {
            let targets = self.targets()?;
            return match self.command {
                Command::Runs(args) => runs::runs(targets, args).await,
                Command::Sweep(args) => runs::sweep(targets, args).await,
                _ => unreachable!("matched above"),
            };
        }
        let client = self.client()?;
        match self.command {
            Command::Compile(_) | Command::Build(_) | Command::New(_) => unreachable!("handled above"),
            Command::Image(_) => unreachable!("handled above"),
            Command::Check(_) | Command::Policy(_) => unreachable!("handled above"),
            Command::Runs(_) | Command::Sweep(_) => unreachable!("handled above"),
            Command::Run(_) => unreachable!("handled above"),
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

    /// Every engine the flags give (`default` first), for `runs` and `sweep`.
    fn targets(&self) -> anyhow::Result<Vec<runs::Target>> {
        let set = self.engines.resolve(None)?;
        let mut out = Vec::new();
        for (name, (config, _)) in set.engines {
            let client = Client::new(config).with_context(|| format!("engine {name}"))?;
            let target = runs::Target { name, client };
            if target.name == crate::host::DEFAULT_ENGINE {
                out.insert(0, target);
            } else {
                out.push(target);
            }
        }
        Ok(out)
    }

    /// The client of the default engine (the one `--engine URL` or the environment gives).
    fn client(&self) -> anyhow::Result<Client> {
        let set = self.engines.resolve(None)?;
        let config = set.default_config().clone();
        Client::new(config).context("the default engine")
    }
}
