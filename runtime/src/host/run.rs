//! Loading and running plugins: one wasmtime engine per process, one `Store` per run, clear errors for
//! every way a plugin can fail to start or finish.

use std::{
    collections::BTreeMap,
    future::Future,
    path::{Path, PathBuf},
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use anyhow::{bail, Context};
use wasmtime::{
    component::{Component, Linker, ResourceTable, ResourceTableError},
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store,
};
use wasmtime_wasi::{
    p2::{bindings::CommandPre, pipe::MemoryOutputPipe},
    FsPerms, I32Exit, WasiCtxBuilder,
};

use super::{
    cache::{read_with_id, CompileCache, FileId, Source},
    linker,
    output::{Forward, Target},
    state::HostState,
};
use crate::policy::limits::{CpuBudget, LimitExceeded, MemoryLimiter};

/// How often running wasm is interrupted to let the host check its deadline.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// What a run may use, beyond the engines.
#[derive(Clone, Debug)]
pub struct RunLimits {
    /// Linear memory, summed over all of the plugin's memories.
    pub memory_bytes: Option<u64>,
    /// Time spent running the plugin (wasm and the synchronous part of host calls, not waits).
    pub cpu_time: Option<Duration>,
    /// Wall-clock time for the whole run, host calls included.
    pub wall_time: Option<Duration>,
    /// Open handles (resources) at once.
    pub handles: Option<u32>,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            memory_bytes: Some(1 << 30),
            cpu_time: None,
            wall_time: None,
            handles: Some(10_000),
        }
    }
}

impl RunLimits {
    /// The limits of a policy's `[wasm]` section.
    pub fn from_policy(wasm: &crate::policy::config::Wasm) -> Self {
        RunLimits {
            memory_bytes: wasm.memory.map(|b| b.0),
            cpu_time: wasm.cpu(),
            wall_time: wasm.wall(),
            handles: wasm.handles,
        }
    }
}

/// One plugin run.
pub struct RunRequest {
    /// The plugin's name (its file stem), used in messages and as the output prefix.
    pub name: String,
    /// Arguments after argv[0].
    pub args: Vec<String>,
    /// Environment variables passed in (none by default).
    pub env: Vec<(String, String)>,
    /// The engines the run may reach, by name (`default` is the one `tug run` was given), each with
    /// the gate its calls pass.
    pub engines: BTreeMap<String, super::call::RunEngine>,
    /// Limits.
    pub limits: RunLimits,
    /// The run's own gate (its policy and the labels it stamps on what the run creates): the calls
    /// that reach no engine pass it (an engine's calls pass the engine's gate).
    pub gate: Arc<crate::policy::Gate>,
    /// Who is told about each call and watched stream: the audit log (`--audit`), `tug run`'s report.
    pub observers: Vec<Arc<dyn super::observe::Observer>>,
    /// Secrets masked in the plugin's forwarded output.
    pub masker: crate::policy::audit::Masker,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The plugin finished with this exit code (0 for `Ok` from `run`, 1 for `Err`).
    Exited(i32),
    /// The plugin trapped; the message names it and carries the wasm backtrace.
    Trapped(String),
    /// The plugin exceeded a limit of its policy (memory, CPU time, handles); the message names it.
    LimitExceeded(String),
    /// The run hit its wall-clock limit; every pending host call was cancelled.
    TimedOut(Duration),
    /// The run was interrupted (a signal): the plugin was stopped where it was, as by a timeout.
    Interrupted,
}

/// What ends a run early from outside (a signal): when it completes, the plugin is stopped.
pub type Interrupt = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A loaded plugin, ready to be run (pre-instantiated: imports resolved and type-checked once).
pub struct Plugin {
    /// Where it came from.
    pub path: PathBuf,
    /// Whether it was compiled now or mapped from the compile cache.
    pub source: Source,
    pre: CommandPre<HostState>,
}

/// Which compile cache a [`PluginHost`] uses.
#[derive(Clone, Debug, Default)]
pub enum CacheMode {
    /// None: every load compiles.
    Off,
    /// The default directory ([`CompileCache::default_dir`]); none if it cannot be used.
    #[default]
    Default,
    /// This directory (an error if it cannot be used).
    Dir(PathBuf),
}

/// How a [`PluginHost`] is set up.
#[derive(Clone, Debug, Default)]
pub struct HostOptions {
    /// The compile cache.
    pub cache: CacheMode,
    /// Use wasmtime's pooling allocator, sized for this many plugin instances at once (memories, tables
    /// and instances are then taken from pre-reserved slots instead of being mapped per instance).
    pub pooling: Option<u32>,
}

/// The process-wide plugin host: the wasmtime engine (with an epoch ticker), the linker and the compile
/// cache.
pub struct PluginHost {
    engine: Engine,
    linker: Linker<HostState>,
    cache: Option<CompileCache>,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for PluginHost {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl PluginHost {
    /// Configures wasmtime (component model, epoch interruption, backtraces) and links WASI and tug; uses
    /// the default compile cache when it can.
    pub fn new() -> anyhow::Result<Self> {
        Self::with_options(HostOptions::default())
    }

    /// Like [`PluginHost::new`], with a choice of compile cache and instance allocator.
    pub fn with_options(options: HostOptions) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.wasm_component_model(true).epoch_interruption(true);
        if let Some(n) = options.pooling {
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling(n)));
        }
        let cache = match options.cache {
            CacheMode::Off => None,
            CacheMode::Default => CompileCache::open_default()
                .map_err(|e| tracing::debug!("no compile cache: {e:#}"))
                .ok(),
            CacheMode::Dir(dir) => Some(CompileCache::open(dir)?),
        };
        let engine = Engine::new(&config).map_err(|e| anyhow::anyhow!("configuring wasmtime: {e:?}"))?;
        let mut linker = Linker::new(&engine);
        linker::add_to_linker(&mut linker)
            .map_err(|e| anyhow::anyhow!("linking the host interfaces: {e:?}"))?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let (e, stop) = (engine.clone(), ticker_stop.clone());
        std::thread::Builder::new()
            .name("tug-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    e.increment_epoch();
                }
            })
            .context("starting the epoch ticker")?;
        Ok(PluginHost {
            engine,
            linker,
            cache,
            ticker_stop,
        })
    }

    /// The wasmtime engine (for the compile cache's keys, and measurements).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The compile cache in use, if any.
    pub fn cache(&self) -> Option<&CompileCache> {
        self.cache.as_ref()
    }

    /// Reads a plugin file and checks that it is a component; returns its bytes and, when it did not
    /// change while it was read, its identity.
    fn read(path: &Path) -> anyhow::Result<(Vec<u8>, Option<FileId>)> {
        let name = path.display();
        let (bytes, id) = match read_with_id(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!("plugin {name}: no such file"),
            Err(e) => bail!("plugin {name}: cannot read it: {e}"),
        };
        if wasmparser::Parser::is_core_wasm(&bytes) {
            bail!(
                "plugin {name} is a core WebAssembly module, not a component: build it for wasm32-wasip2 \
                 (or wrap it with `wasm-tools component new`)"
            );
        }
        if !wasmparser::Parser::is_component(&bytes) {
            bail!("plugin {name} is not a WebAssembly component (no component header)");
        }
        Ok((bytes, id))
    }

    /// The component of a file: mapped from the cache (found by the file's identity without reading it
    /// when the cache remembers it), else compiled (and cached, when there is a cache).
    fn component(&self, path: &Path) -> anyhow::Result<(Component, Source)> {
        if let Some(c) = self
            .cache
            .as_ref()
            .and_then(|c| c.get_by_file(&self.engine, path))
        {
            return Ok((c, Source::Cached));
        }
        let (bytes, id) = Self::read(path)?;
        let invalid = |e: wasmtime::Error| {
            anyhow::anyhow!(
                "plugin {} is not a valid WebAssembly component: {e}",
                path.display()
            )
        };
        match &self.cache {
            Some(cache) => cache
                .load_or_compile(&self.engine, &bytes, id.as_ref())
                .map_err(invalid),
            None => Component::from_binary(&self.engine, &bytes)
                .map(|c| (c, Source::Compiled))
                .map_err(invalid),
        }
    }

    /// `tug compile`: compiles a plugin into the compile cache (unless it is there already) and returns
    /// the artifact's path and whether it was compiled now. The plugin must link like [`PluginHost::load`]
    /// requires.
    pub fn compile(&self, path: &Path) -> anyhow::Result<(PathBuf, Source)> {
        let Some(cache) = &self.cache else {
            bail!("no compile cache to compile into");
        };
        let plugin = self.load(path)?;
        let key = match cache.key_of_file(&self.engine, path) {
            Some(key) => key,
            None => CompileCache::key(&self.engine, &Self::read(path)?.0),
        };
        let artifact = cache.path(&key);
        if !artifact.is_file() {
            bail!(
                "plugin {}: the compiled artifact could not be written to {}",
                path.display(),
                artifact.display()
            );
        }
        Ok((artifact, plugin.source))
    }

    /// Loads a plugin file: it must exist, be a WebAssembly component, and import nothing tug does not
    /// provide. Uses the compile cache when there is one.
    pub fn load(&self, path: &Path) -> anyhow::Result<Plugin> {
        let name = path.display();
        let (component, source) = self.component(path)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| anyhow::anyhow!("plugin {name} imports something tug does not provide: {e}"))?;
        let pre = CommandPre::new(pre).map_err(|e| {
            anyhow::anyhow!("plugin {name} is not a WASI command (no wasi:cli/run export): {e}")
        })?;
        Ok(Plugin {
            path: path.to_owned(),
            source,
            pre,
        })
    }

    /// Runs a plugin to the end in a fresh `Store`. When the run ends, however it ends, the store is
    /// dropped and with it every handle and connection the plugin held.
    pub async fn run(&self, plugin: &Plugin, req: RunRequest) -> anyhow::Result<Outcome> {
        self.run_with(plugin, req, None, None).await
    }

    /// Like [`PluginHost::run`], stopped early ([`Outcome::Interrupted`]) when `interrupt` completes. The
    /// plugin and everything it held are gone when this returns, so nothing it started can still be
    /// sending requests (but see [`crate::engine::InFlight`] for requests already sent).
    pub async fn run_until(
        &self,
        plugin: &Plugin,
        req: RunRequest,
        interrupt: Interrupt,
    ) -> anyhow::Result<Outcome> {
        self.run_with(plugin, req, None, Some(interrupt)).await
    }

    /// Like [`PluginHost::run`], with the plugin's stdout captured (up to `capacity` bytes) and returned
    /// instead of forwarded.
    pub async fn run_captured(
        &self,
        plugin: &Plugin,
        req: RunRequest,
        capacity: usize,
    ) -> anyhow::Result<(Outcome, Vec<u8>)> {
        let pipe = MemoryOutputPipe::new(capacity);
        let outcome = self.run_with(plugin, req, Some(pipe.clone()), None).await?;
        Ok((outcome, pipe.contents().to_vec()))
    }

    /// Runs the plugin in a task of its own on the runtime's workers, not in the caller's task: a caller
    /// in `block_on` (as `tug run` is) polls outside the workers that drive the sockets, and every
    /// readiness event would then wake another thread — a few microseconds per log line. Dropping the
    /// returned future aborts the task (and so drops the store and every handle).
    async fn run_with(
        &self,
        plugin: &Plugin,
        req: RunRequest,
        stdout: Option<MemoryOutputPipe>,
        interrupt: Option<Interrupt>,
    ) -> anyhow::Result<Outcome> {
        struct AbortOnDrop(tokio::task::AbortHandle);
        impl Drop for AbortOnDrop {
            fn drop(&mut self) {
                self.0.abort();
            }
        }
        let task = tokio::spawn(run_store(
            self.engine.clone(),
            plugin.pre.clone(),
            req,
            stdout,
            interrupt,
        ));
        let _abort = AbortOnDrop(task.abort_handle());
        match task.await {
            Ok(outcome) => outcome,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => bail!("the run was cancelled: {e}"),
        }
    }
}

/// One run in its own `Store` (see [`PluginHost::run`]).
async fn run_store(
    engine: Engine,
    pre: CommandPre<HostState>,
    req: RunRequest,
    stdout: Option<MemoryOutputPipe>,
    interrupt: Option<Interrupt>,
) -> anyhow::Result<Outcome> {
    let mut argv = vec![req.name.clone()];
    argv.extend(req.args.iter().cloned());
    let mut wasi = WasiCtxBuilder::new();
    wasi.args(&argv).envs(&req.env);
    match stdout {
        Some(pipe) => wasi.stdout(pipe),
        None => wasi.stdout(Forward::new(Target::Stdout, &req.name, req.masker.stream())),
    };
    wasi.stderr(Forward::new(Target::Stderr, &req.name, req.masker.stream()));
    // Host directories the policy preopens (none by default): the plugin's whole filesystem.
    for p in &req.gate.policy.preopens {
        let perms = if p.read_only {
            FsPerms::ReadOnly
        } else {
            FsPerms::ReadWrite
        };
        wasi.preopened_dir(&p.host, &p.guest, perms).map_err(|e| {
            anyhow::anyhow!(
                "policy {}: preopening {} as {}: {e}",
                req.gate.policy.name,
                p.host.display(),
                p.guest
            )
        })?;
    }
    let mut table = ResourceTable::new();
    if let Some(h) = req.limits.handles {
        table.set_max_capacity(h as usize);
    }
    let state = HostState {
        wasi: wasi.build(),
        table,
        engines: super::call::Engines::new(req.engines),
        limiter: MemoryLimiter::new(req.limits.memory_bytes),
        plugin: req.name.as_str().into(),
        gate: req.gate,
        observers: req.observers.into(),
        registry: Default::default(),
        staging: Default::default(),
    };
    let mut store = Store::new(&engine, state);
    store.limiter(|s| &mut s.limiter);
    // Every tick, running wasm is charged to the CPU budget and yields to the executor, so the wall
    // deadline can fire even in a loop.
    let cpu = CpuBudget::new(req.limits.cpu_time, EPOCH_TICK);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(cpu.deadline_callback());

    let name = req.name;
    let run = cpu.measure(async {
        let command = pre.instantiate_async(&mut store).await?;
        command.wasi_cli_run().call_run(&mut store).await
    });
    let timed = async {
        match req.limits.wall_time {
            Some(limit) => tokio::time::timeout(limit, run).await.map_err(|_| limit),
            None => Ok(run.await),
        }
    };
    let interrupted = async {
        match interrupt {
            Some(i) => i.await,
            None => std::future::pending().await,
        }
    };
    // The plugin's future (and with it every host call it was in) is dropped here, before the store.
    let result = tokio::select! {
        r = timed => r,
        () = interrupted => return Ok(Outcome::Interrupted),
    };
    let result = match result {
        Ok(r) => r,
        Err(limit) => return Ok(Outcome::TimedOut(limit)),
    };
    let memory = store.data().limiter.exceeded();
    Ok(match result {
        Ok(Ok(())) => Outcome::Exited(0),
        Err(e) if e.downcast_ref::<I32Exit>().is_some_and(|x| x.0 == 0) => Outcome::Exited(0),
        // A refused allocation usually ends in a trap or an error exit: the limit is the real cause.
        _ if memory.is_some() => {
            Outcome::LimitExceeded(format!("plugin {name} {}", memory.expect("checked")))
        }
        Ok(Err(())) => Outcome::Exited(1),
        Err(e) => {
            if let Some(exit) = e.downcast_ref::<I32Exit>() {
                Outcome::Exited(exit.0)
            } else if let Some(limit) = e.downcast_ref::<LimitExceeded>() {
                Outcome::LimitExceeded(format!("plugin {name} {limit}"))
            } else if let Some(ResourceTableError::Full) = e.downcast_ref::<ResourceTableError>() {
                let limit = LimitExceeded::Handles {
                    limit: req.limits.handles.unwrap_or(u32::MAX),
                };
                Outcome::LimitExceeded(format!("plugin {name} {limit}"))
            } else {
                Outcome::Trapped(format!("plugin {name} trapped: {e:?}"))
            }
        }
    })
}

/// The pooling allocator's limits for `n` plugin instances at once: each Rust component has a few core
/// instances, memories and tables (the program and its WASI shims).
fn pooling(n: u32) -> PoolingAllocationConfig {
    let mut p = PoolingAllocationConfig::default();
    p.total_component_instances(n)
        .total_core_instances(n.saturating_mul(8))
        .total_memories(n.saturating_mul(2))
        .total_tables(n.saturating_mul(4))
        .total_stacks(n)
        .max_memories_per_component(4)
        .max_tables_per_component(8)
        .max_core_instances_per_component(16);
    p
}
