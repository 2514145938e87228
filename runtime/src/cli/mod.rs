//! The `tug` command line: argument parsing and one function per subcommand.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::engine::{Client, EngineConfig, Request};

pub mod compile;
pub mod image;

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
    /// Run a plugin (a WASI 0.2 component) against the engine; tug exits with the plugin's exit code.
    ///
    /// Exit codes of tug itself: 125 when the plugin cannot be run (no such file, not a component, an
    /// import tug does not provide, no engine), 134 when the plugin traps, 124 when it runs out of time,
    /// 137 when it exceeds a memory, CPU or handle limit, 130 when tug is interrupted.
    Run(RunArgs),
    /// Talk to the engine directly, without a plugin.
    #[command(subcommand)]
    Engine(EngineCommand),
    /// Compile plugins ahead of time into the compile cache (`tug run` then maps them instead of
    /// compiling; it also caches what it compiles, unless --no-cache).
    Compile(compile::CompileArgs),
    /// Pull, save, edit and push images straight from and to registries, without a daemon.
    #[command(subcommand)]
    Image(image::ImageCommand),
}

/// `tug run …`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The plugin: a `.wasm` WebAssembly component.
    pub plugin: std::path::PathBuf,
    /// Wall-clock limit for the whole run, in seconds (host calls included).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// The policy: a built-in profile (`untrusted`, `ci`, `trusted`) or a TOML file. Default: untrusted.
    #[arg(long, value_name = "PROFILE|FILE", default_value = "untrusted")]
    pub policy: String,
    /// Keep what the run created (containers, networks, volumes, images) instead of removing it at exit.
    #[arg(long)]
    pub keep: bool,
    /// Write one JSON line per Engine API call the plugin makes to this file (appended; mode 0600).
    #[arg(long, value_name = "FILE")]
    pub audit: Option<std::path::PathBuf>,
    /// A secret for the plugin, as an environment variable; its value is masked (`***`) in the plugin's
    /// forwarded output and in the audit log.
    #[arg(long = "secret", value_name = "KEY=VALUE")]
    pub secrets: Vec<String>,
    /// Like --secret, with the value taken from tug's own environment variable KEY.
    #[arg(long = "secret-env", value_name = "KEY")]
    pub secret_env: Vec<String>,
    /// An environment variable to pass to the plugin (none are passed by default).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Neither use nor fill the compile cache: compile the plugin now.
    #[arg(long)]
    pub no_cache: bool,
    /// Arguments for the plugin (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,
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
        // Registry commands need no engine either.
        if let Command::Image(command) = self.command {
            return image::run(command).await;
        }
        let client = self.client()?;
        match self.command {
            Command::Compile(_) => unreachable!("handled above"),
            Command::Image(_) => unreachable!("handled above"),
            Command::Run(args) => return run_plugin(client, args).await,
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

async fn run_plugin(client: Client, args: RunArgs) -> anyhow::Result<ExitCode> {
    use crate::host::{Outcome, RunLimits, RunRequest, DEFAULT_ENGINE};
    use crate::policy::cleanup;

    let policy = crate::policy::Policy::load(&args.policy).map_err(|e| anyhow::anyhow!("--policy: {e}"))?;
    let host = crate::host::PluginHost::with_options(crate::host::HostOptions {
        cache: if args.no_cache {
            crate::host::CacheMode::Off
        } else {
            crate::host::CacheMode::Default
        },
        ..Default::default()
    })?;
    let plugin = match host.load(&args.plugin) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("tug: {e:#}");
            return Ok(ExitCode::from(125));
        }
    };
    let name = args
        .plugin
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".to_owned());
    let mut env = Vec::new();
    for kv in &args.env {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--env {kv:?}: expected KEY=VALUE"))?;
        env.push((k.to_owned(), v.to_owned()));
    }
    // Host variables the policy passes through.
    for key in &policy.env {
        if let Ok(v) = std::env::var(key) {
            env.push((key.clone(), v));
        }
    }
    let mut secrets = Vec::new();
    for kv in &args.secrets {
        let (k, v) = kv.split_once('=').with_context(|| {
            format!(
                "--secret {:?}: expected KEY=VALUE",
                kv.split('=').next().unwrap_or("")
            )
        })?;
        env.push((k.to_owned(), v.to_owned()));
        secrets.push(v.to_owned());
    }
    for key in &args.secret_env {
        let v = std::env::var(key)
            .with_context(|| format!("--secret-env {key}: not set in tug's environment"))?;
        env.push((key.clone(), v.clone()));
        secrets.push(v);
    }
    let masker = crate::policy::audit::Masker::new(&secrets);
    let audit = match &args.audit {
        Some(path) => Some(std::sync::Arc::new(
            crate::policy::audit::AuditLog::open(path, masker.clone())
                .with_context(|| format!("--audit {}", path.display()))?,
        )),
        None => None,
    };
    let wall_time = match args.timeout {
        Some(s) if s.is_finite() && s > 0.0 => Some(std::time::Duration::from_secs_f64(s)),
        Some(s) => anyhow::bail!("--timeout {s}: expected a positive number of seconds"),
        None => policy.wasm.wall(),
    };
    let identity = crate::policy::cleanup::RunIdentity::new(&name, args.keep);
    // Recorded before the run makes anything: if tug is killed, a later tug sweeps what it made.
    let record = crate::policy::run_records::RunRecord::begin(&identity);
    let limits = RunLimits {
        wall_time,
        ..RunLimits::from_policy(&policy.wasm)
    };
    let gate = std::sync::Arc::new(crate::policy::Gate::new(
        std::sync::Arc::new(policy),
        identity.run_id.clone(),
        identity.labels(),
    ));
    let request = RunRequest {
        name: name.clone(),
        args: args.args,
        env,
        engines: [(DEFAULT_ENGINE.to_owned(), client.clone())]
            .into_iter()
            .collect(),
        limits,
        gate: gate.clone(),
        audit,
        masker,
    };
    // Runs whose tug was killed (SIGKILL) left objects behind: remove them first.
    let swept = cleanup::sweep_orphans(&client).await;
    if !swept.removed.is_empty() || !swept.failed.is_empty() {
        eprintln!("tug: swept what earlier runs left behind: {swept}");
    }
    // Ctrl-C and SIGTERM end the run like a timeout: the cleanup below still runs.
    let interrupted = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    };
    let outcome = tokio::select! {
        outcome = host.run(&plugin, request) => Some(outcome),
        _ = interrupted => None,
    };
    if identity.keep {
        record.finish();
    } else {
        let mut report = cleanup::remove_run(&client, &identity.run_id).await;
        // Names the run gave images it did not make (tags, pulls) go too; images it made went above.
        let names = cleanup::remove_names(&client, &gate.made_images()).await;
        report.failed.extend(names.failed);
        if report.failed.is_empty() {
            record.finish();
        } else {
            // The record stays: a later tug sweeps what is left.
            eprintln!("tug: cleanup after plugin {name}: {report}");
        }
    }
    let Some(outcome) = outcome else {
        eprintln!("tug: plugin {name} interrupted; what it created was removed");
        return Ok(ExitCode::from(130));
    };
    Ok(match outcome? {
        Outcome::Exited(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Outcome::LimitExceeded(message) => {
            eprintln!("tug: {message}");
            ExitCode::from(137)
        }
        Outcome::Trapped(message) => {
            eprintln!("tug: {message}");
            ExitCode::from(134)
        }
        Outcome::TimedOut(limit) => {
            eprintln!(
                "tug: plugin {name} ran out of time: the wall-clock limit of {limit:?} passed (--timeout)"
            );
            ExitCode::from(124)
        }
    })
}
