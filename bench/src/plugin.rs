//! The bench plugin (`plugins/bench`), built for wasm32-wasip2 and run in-process through tug's library,
//! as `tug run` runs plugins: one `PluginHost`, one `Store` per run, under the `trusted` policy (so that
//! the plugin may read the harness's fixtures).

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
};

use anyhow::{bail, Context};
use tug::{
    engine::Client,
    host::{HostOptions, Outcome, Plugin, PluginHost, RunLimits, RunRequest, DEFAULT_ENGINE},
    policy::{audit::Masker, cleanup::RunIdentity, Gate, Policy},
};

/// Builds the bench plugin (release, into `target/bench-plugins`, a target directory of its own so that
/// the build does not wait for the lock `cargo run` holds) and returns the `.wasm` path.
pub fn build(root: &Path) -> anyhow::Result<PathBuf> {
    build_example(root, "plugin-bench", "bench")
}

/// Builds the example plugin `package` (binary `bin`) as [`build`] builds the bench plugin, and returns
/// the `.wasm` path.
pub fn build_example(root: &Path, package: &str, bin: &str) -> anyhow::Result<PathBuf> {
    let target = root.join("target").join("bench-plugins");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--release", "--target", "wasm32-wasip2", "-p", package])
        .arg("--target-dir")
        .arg(&target)
        // As a plugin would be shipped: no debug sections (the workspace's release profile keeps line
        // tables, which triple the component's size).
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true")
        .status()
        .with_context(|| format!("running cargo to build {package}"))?;
    if !status.success() {
        bail!("building {package} failed: {status}");
    }
    Ok(target
        .join("wasm32-wasip2")
        .join("release")
        .join(format!("{bin}.wasm")))
}

/// A host with the bench plugin loaded.
pub struct Runner {
    /// The host.
    pub host: PluginHost,
    /// The loaded plugin.
    pub plugin: Plugin,
    client: Client,
    policy: Arc<Policy>,
}

impl Runner {
    /// A host set up with `options`, the plugin at `path` loaded, runs going to `client`.
    pub fn new(path: &Path, options: HostOptions, client: Client) -> anyhow::Result<Self> {
        let host = PluginHost::with_options(options)?;
        let plugin = host.load(path)?;
        let policy = Arc::new(Policy::load("trusted").map_err(anyhow::Error::msg)?);
        Ok(Runner {
            host,
            plugin,
            client,
            policy,
        })
    }

    /// The client runs go to.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A run request for `args` (a fresh run identity, the trusted policy, no audit).
    pub fn request(&self, args: &[String]) -> RunRequest {
        let identity = RunIdentity::new("bench", false);
        let gate = Arc::new(Gate::new(
            self.policy.clone(),
            identity.run_id.clone(),
            identity.labels(),
        ));
        RunRequest {
            name: "bench".into(),
            args: args.to_vec(),
            env: Vec::new(),
            engines: [(
                DEFAULT_ENGINE.to_owned(),
                tug::host::RunEngine::new(self.client.clone(), gate.clone()),
            )]
            .into_iter()
            .collect(),
            limits: RunLimits::from_policy(&self.policy.wasm),
            gate,
            observers: Vec::new(),
            masker: Masker::new(Vec::<String>::new()),
        }
    }

    /// Runs the plugin with `args` and returns its stdout; an error unless it exits with 0.
    pub async fn run(&self, args: &[&str]) -> anyhow::Result<String> {
        run_on(&self.host, &self.plugin, self.request(&own(args))).await
    }
}

/// Runs `plugin` on `host` and returns its stdout; an error unless it exits with 0.
pub async fn run_on(host: &PluginHost, plugin: &Plugin, req: RunRequest) -> anyhow::Result<String> {
    let args = req.args.join(" ");
    let (outcome, out) = host.run_captured(plugin, req, 64 << 20).await?;
    let out = String::from_utf8_lossy(&out).into_owned();
    if outcome != Outcome::Exited(0) {
        bail!("bench plugin `{args}`: {outcome:?}\n{out}");
    }
    Ok(out)
}

/// Owned arguments.
pub fn own(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// The comma-separated numbers after `ns ` in a plugin's output.
pub fn ns_list(out: &str) -> anyhow::Result<Vec<u64>> {
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("ns "))
        .with_context(|| format!("no `ns` line in {out:?}"))?;
    line.split(',')
        .map(|n| n.parse().context("a number of ns"))
        .collect()
}

/// `bytes B frames F ns T` of a stream mode: (bytes, frames, seconds).
pub fn stream_result(out: &str) -> anyhow::Result<(u64, u64, f64)> {
    let line = out
        .lines()
        .find(|l| l.starts_with("bytes "))
        .with_context(|| format!("no `bytes` line in {out:?}"))?;
    let f: Vec<&str> = line.split_whitespace().collect();
    let num = |i: usize| -> anyhow::Result<u64> {
        f.get(i)
            .with_context(|| format!("short line {line:?}"))?
            .parse()
            .context("a number")
    };
    Ok((num(1)?, num(3)?, num(5)? as f64 / 1e9))
}
