//! `tug run`: one plugin run, in three phases that each end on time whatever the engine or the terminal
//! does — the start (reach the engine, sweep what killed runs left), the run, and the cleanup.
//!
//! | phase | budget | a signal |
//! |---|---|---|
//! | start: `/_ping`, then the sweep | [`START_BUDGET`] each (the ping also at most `--timeout`) | ends tug (130), nothing started |
//! | the plugin | `--timeout` (or the policy's `wall_time`) | stops the plugin (130); cleanup follows |
//! | cleanup: wait for requests in flight, remove the run's objects | `--grace` (default [`DEFAULT_GRACE`]) | skips the cleanup (a second one, if one stopped the plugin) |
//!
//! What a cleanup could not remove stays labelled with the run id and recorded as unfinished: the next
//! `tug run` on this host sweeps it.

use std::{
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use tokio::sync::watch;

use super::{
    engines::EngineArgs,
    report::{JsonTo, Outcome, Report, ReportOptions},
};
use crate::{
    engine::{Client, InFlight},
    host::{Outcome as HostOutcome, RunEngine, RunLimits, RunRequest, DEFAULT_ENGINE},
    policy::{audit::Masker, cleanup, run_records::RunRecord, units::Seconds},
};

/// One of tug's own lines, through the run's report (text on stderr, queued after the plugin's output
/// so a reader that does not read cannot hold tug on its last words; or a `message` event): `say!(report,
/// level, format…)`.
macro_rules! say {
    ($report:expr, $level:literal, $($t:tt)*) => {
        $report.say($level, &format!($($t)*))
    };
}

/// How long tug waits for a stalled reader of its stderr before it exits anyway.
const LAST_WORDS: Duration = Duration::from_secs(1);

/// How long each start-up step (reaching the engine, the sweep) may take.
pub const START_BUDGET: Duration = Duration::from_secs(10);
/// How long the cleanup may take after the plugin stopped, unless `--grace` says otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);
/// How long tug waits for a stalled reader of its output after a run that was stopped.
const STOPPED_DRAIN: Duration = Duration::from_millis(500);

/// `tug run …`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The plugin: a `.wasm` WebAssembly component.
    pub plugin: std::path::PathBuf,
    /// Wall-clock limit for the plugin, in seconds (host calls included); the start-up checks and the
    /// cleanup have budgets of their own.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub timeout: Option<Seconds>,
    /// How long the cleanup after the plugin may take, in seconds (waiting for requests still on their
    /// way, then removing what the run made); what is left then is swept by the next run.
    #[arg(long, value_name = "SECONDS", value_parser = seconds, default_value = "30")]
    pub grace: Seconds,
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
    /// A host directory for the plugin, added to the policy's `preopens`: HOST:GUEST, read-only, or
    /// HOST:GUEST:rw, read-write (e.g. `--dir ./project:/project --dir ./out:/out:rw`).
    #[arg(long = "dir", value_name = "HOST:GUEST[:rw]")]
    pub dirs: Vec<String>,
    /// Neither use nor fill the compile cache: compile the plugin now.
    #[arg(long)]
    pub no_cache: bool,
    /// One JSON event per line (run start, each call with its decision, objects made and removed,
    /// limits, exit; see docs/cli.md) to FILE, or to stderr without FILE — where tug's own messages
    /// become events too and progress bars are off.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "-")]
    pub json: Option<std::path::PathBuf>,
    /// At the end, a short table on stderr: calls by area, denials, objects made and removed.
    #[arg(long)]
    pub summary: bool,
    /// No progress bars, no summary table, no notes: only errors (and the plugin's own output).
    #[arg(long, short)]
    pub quiet: bool,
    /// Arguments for the plugin (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,
}

/// A `--dir HOST:GUEST[:rw]`: the host directory (which must exist; made absolute) and where the plugin
/// sees it, read-only unless `:rw`.
fn preopen(spec: &str) -> anyhow::Result<crate::policy::config::Preopen> {
    let (rest, read_only) = match spec.strip_suffix(":rw") {
        Some(rest) => (rest, false),
        None => (spec.strip_suffix(":ro").unwrap_or(spec), true),
    };
    let Some((host, guest)) = rest.rsplit_once(':') else {
        bail!("--dir {spec}: expected HOST:GUEST or HOST:GUEST:rw");
    };
    if host.is_empty() || !guest.starts_with('/') {
        bail!("--dir {spec}: expected a host directory and an absolute path for the plugin (HOST:/GUEST)");
    }
    let host = std::fs::canonicalize(host)
        .map_err(|e| anyhow::anyhow!("--dir {spec}: the host directory {host}: {e}"))?;
    if !host.is_dir() {
        bail!("--dir {spec}: {} is not a directory", host.display());
    }
    Ok(crate::policy::config::Preopen {
        host,
        guest: guest.to_owned(),
        read_only,
    })
}

fn seconds(s: &str) -> Result<Seconds, String> {
    s.parse()
}

/// `KEY=VALUE` of a flag: a key that names an environment variable, and a value (for a secret, one that
/// is not empty; a secret's text never appears in a message).
fn key_value<'a>(flag: &str, kv: &'a str, secret: bool) -> anyhow::Result<(&'a str, &'a str)> {
    let Some((k, v)) = kv.split_once('=') else {
        if secret {
            bail!("{flag}: expected KEY=VALUE (no `=` in it; not shown, it may be the secret)");
        }
        bail!("{flag} {kv:?}: expected KEY=VALUE");
    };
    env_key(flag, k)?;
    if secret && v.is_empty() {
        bail!("{flag} {k}=: the secret is empty (there would be nothing to mask)");
    }
    if v.contains('\0') {
        bail!("{flag} {k}: the value holds a NUL byte");
    }
    Ok((k, v))
}

fn env_key(flag: &str, k: &str) -> anyhow::Result<()> {
    if k.is_empty() {
        bail!("{flag}: the variable's name is empty");
    }
    if k.contains('\0') || k.contains('=') {
        bail!("{flag} {k:?}: not a variable name");
    }
    Ok(())
}

/// SIGINT and SIGTERM, counted from the moment `tug run` starts (so no phase dies by a signal unheard,
/// and none misses one that came before it began).
struct Signals(watch::Receiver<u32>);

impl Signals {
    fn install() -> anyhow::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut int = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
        let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        let (tx, rx) = watch::channel(0u32);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                tx.send_modify(|n| *n += 1);
            }
        });
        Ok(Signals(rx))
    }

    /// How many signals came so far.
    fn count(&self) -> u32 {
        *self.0.borrow()
    }

    /// Completes once `n` signals in all have come (at once, if they have).
    fn reached(&self, n: u32) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        let mut rx = self.0.clone();
        Box::pin(async move {
            if rx.wait_for(|c| *c >= n).await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

/// How the cleanup ended.
enum Cleanup {
    /// Everything the run made is gone (or it made nothing, or `--keep`).
    Done,
    /// Some of it is left (the message says what).
    Left,
}

/// Runs a plugin: see the module documentation. tug's last words wait at most [`LAST_WORDS`] for a
/// stalled reader.
pub async fn run_plugin(engines: EngineArgs, args: RunArgs) -> anyhow::Result<ExitCode> {
    let name = args
        .plugin
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".to_owned());
    let identity = cleanup::RunIdentity::new(&name, args.keep);
    let (env, masker) = environment(&args)?;
    let json = args.json.as_ref().map(|p| match p.as_os_str() == "-" {
        true => JsonTo::Stderr,
        false => JsonTo::File(p.clone()),
    });
    let options = ReportOptions::from_env(json, args.summary, args.quiet);
    let report = Report::new(&name, &identity.run_id, masker.clone(), options)?;
    let end = match phases(engines, args, &report, identity, env, masker).await {
        Ok(end) => end,
        Err(e) => {
            let message = format!("tug: plugin {name}: {e:#}");
            report.say("error", &message);
            End {
                outcome: Outcome::Invalid,
                plugin_code: None,
                message: Some(message),
            }
        }
    };
    report.finish(end.outcome, end.plugin_code, end.message.as_deref());
    crate::host::output::drain(Some(LAST_WORDS)).await;
    Ok(ExitCode::from(end.outcome.code()))
}

/// How a run ended: its outcome (the exit code), the plugin's own code, and what tug said about it.
struct End {
    outcome: Outcome,
    plugin_code: Option<i32>,
    message: Option<String>,
}

impl End {
    fn said(report: &Report, outcome: Outcome, level: &'static str, message: String) -> End {
        report.say(level, &message);
        End {
            outcome,
            plugin_code: None,
            message: Some(message),
        }
    }
}

/// The plugin's environment (`--env`, the policy's pass-through is added later, `--secret`,
/// `--secret-env`) and the masker of its secrets.
fn environment(args: &RunArgs) -> anyhow::Result<(Vec<(String, String)>, Masker)> {
    let mut env = Vec::new();
    for kv in &args.env {
        let (k, v) = key_value("--env", kv, false)?;
        env.push((k.to_owned(), v.to_owned()));
    }
    let mut secrets = Vec::new();
    for kv in &args.secrets {
        let (k, v) = key_value("--secret", kv, true)?;
        env.push((k.to_owned(), v.to_owned()));
        secrets.push(v.to_owned());
    }
    for key in &args.secret_env {
        env_key("--secret-env", key)?;
        let v = std::env::var(key)
            .with_context(|| format!("--secret-env {key}: not set in tug's environment"))?;
        if v.is_empty() {
            bail!("--secret-env {key}: empty in tug's environment (there would be nothing to mask)");
        }
        env.push((key.clone(), v.clone()));
        secrets.push(v);
    }
    Ok((env, Masker::new(&secrets)))
}

async fn phases(
    engine_args: EngineArgs,
    args: RunArgs,
    report: &Arc<Report>,
    identity: cleanup::RunIdentity,
    mut env: Vec<(String, String)>,
    masker: Masker,
) -> anyhow::Result<End> {
    let signals = Signals::install()?;
    let mut policy =
        crate::policy::Policy::load(&args.policy).map_err(|e| anyhow::anyhow!("--policy: {e}"))?;
    for dir in &args.dirs {
        policy.preopens.push(preopen(dir)?);
    }
    let host = crate::host::PluginHost::with_options(crate::host::HostOptions {
        cache: if args.no_cache {
            crate::host::CacheMode::Off
        } else {
            crate::host::CacheMode::Default
        },
        ..Default::default()
    })?;
    let plugin = host.load(&args.plugin)?;
    let name = identity.plugin.clone();
    // Host variables the policy passes through.
    for key in &policy.env {
        if let Ok(v) = std::env::var(key) {
            env.push((key.clone(), v));
        }
    }
    let mut observers: Vec<Arc<dyn crate::host::observe::Observer>> = vec![report.clone()];
    if let Some(path) = &args.audit {
        observers.push(Arc::new(
            crate::policy::audit::AuditLog::open(path, masker.clone())
                .with_context(|| format!("--audit {}", path.display()))?,
        ));
    }
    let (wall_time, wall_source) = match args.timeout {
        Some(s) => (Some(s.0), "--timeout".to_owned()),
        None => (
            policy.wasm.wall(),
            format!("policy {} [wasm] wall_time", policy.name),
        ),
    };
    let grace = args.grace.0;
    let set = engine_args.resolve(Some(&policy))?;
    for name in &set.missing {
        say!(
            report,
            "warning",
            "tug: policy {} names engine {name}, but neither its [engines.{name}] nor a flag \
             (--engine {name}=URL, --context) says where it is: plugin {name} cannot open it",
            policy.name
        );
    }
    let mut engines = Vec::new();
    for (engine_name, (config, _)) in set.engines {
        let client = Client::new(config)
            .with_context(|| format!("engine {engine_name}"))?
            .named(&engine_name);
        engines.push(Engine::new(engine_name, client));
    }
    // The default engine first: it decides whether the plugin starts.
    engines.sort_by_key(|e| e.name != DEFAULT_ENGINE);
    let all = describe(&engines);

    // Start: the engines must answer before the plugin starts (the default one unless the policy lets
    // the plugin do without; another that does not answer is named, and its calls fail).
    let ping_budget = wall_time.map_or(START_BUDGET, |w| w.min(START_BUDGET));
    let pings = futures_util::future::join_all(engines.iter().map(|e| async move {
        match tokio::time::timeout(ping_budget, e.client.ping()).await {
            Ok(Ok(_)) => None,
            Ok(Err(err)) => Some(err.to_string()),
            Err(_) => Some(format!("no answer to /_ping within {ping_budget:?}")),
        }
    }));
    let pinged = tokio::select! {
        r = pings => r,
        () = signals.reached(1) => {
            return Ok(End::said(report, Outcome::Interrupted, "error", format!(
                "tug: interrupted while reaching {all}; plugin {name} was not started"
            )));
        }
    };
    for (e, why) in engines.iter_mut().zip(pinged) {
        e.unreachable = why;
    }
    for e in &engines {
        let Some(why) = &e.unreachable else { continue };
        let engine = &e.label;
        if e.name != DEFAULT_ENGINE {
            say!(
                report,
                "warning",
                "tug: {engine} cannot be reached: {why}; plugin {name}'s calls on it will fail"
            );
        } else if policy.require_engine {
            return Ok(End::said(
                report,
                Outcome::Unreachable,
                "error",
                format!("tug: {engine} cannot be reached: {why}; plugin {name} was not started"),
            ));
        } else {
            say!(
                report,
                "warning",
                "tug: {engine} cannot be reached: {why}; policy {} lets plugin {name} start without it",
                policy.name
            );
        }
    }

    // Recorded before the run makes anything: if tug is killed, a later tug sweeps what it made.
    let endpoints: Vec<String> = engines
        .iter()
        .map(|e| e.client.config().endpoint.to_string())
        .collect();
    let record = RunRecord::begin(&identity, &endpoints);
    // Runs whose tug was killed (SIGKILL) left objects behind: remove them first, on every engine.
    let sweeps = futures_util::future::join_all(engines.iter().filter(|e| e.unreachable.is_none()).map(
        |e| async move {
            (
                e,
                tokio::time::timeout(START_BUDGET, cleanup::sweep_orphans(&e.client)).await,
            )
        },
    ));
    tokio::select! {
        swept = sweeps => for (e, r) in swept {
            let engine = &e.label;
            match r {
                Ok(swept) if !swept.removed.is_empty() || !swept.failed.is_empty() => {
                    say!(report, "note", "tug: swept what earlier runs left behind on {engine}: {swept}");
                }
                Ok(_) => {}
                Err(_) => say!(
                    report,
                    "warning",
                    "tug: the sweep of what earlier runs left on {engine} did not finish within \
                     {START_BUDGET:?}; a later run sweeps the rest"
                ),
            }
        },
        () = signals.reached(1) => {
            record.finish();
            return Ok(End::said(report, Outcome::Interrupted, "error", format!(
                "tug: interrupted during the start-up sweep of {all}; plugin {name} was not started"
            )));
        }
    }

    // The run: every changing request of the plugin is counted, per engine, so the cleanup can wait for
    // it; each engine's calls pass a gate of its own (its policy, its objects, its quotas).
    report.start(&policy.name, &all);
    let limits = RunLimits {
        wall_time,
        ..RunLimits::from_policy(&policy.wasm)
    };
    let policy = Arc::new(policy);
    for e in &mut engines {
        e.gate = Some(Arc::new(crate::policy::Gate::new(
            policy.for_engine(&e.name),
            identity.run_id.clone(),
            identity.labels(),
        )));
    }
    let gate = engines[0].gate().clone();
    let request = RunRequest {
        name: name.clone(),
        args: args.args,
        env,
        engines: engines
            .iter()
            .map(|e| {
                let client = e.client.tracked(e.in_flight.clone());
                (e.name.clone(), RunEngine::new(client, e.gate().clone()))
            })
            .collect(),
        limits,
        gate,
        observers,
        masker,
    };
    let started = Instant::now();
    let outcome = host.run_until(&plugin, request, signals.reached(1)).await;
    // From here, one more signal than stopped the plugin (if one did) ends the waiting.
    let more = signals.count() + 1;

    // What the plugin wrote reaches the reader, unless it does not read.
    let drain_limit = match &outcome {
        Ok(HostOutcome::TimedOut(_) | HostOutcome::Interrupted) => Some(STOPPED_DRAIN),
        _ => wall_time.map(|w| w.saturating_sub(started.elapsed()).max(STOPPED_DRAIN)),
    };
    tokio::select! {
        _ = crate::host::output::drain(drain_limit) => {}
        () = signals.reached(more) => {}
    }

    let cleaned = if identity.keep {
        record.finish();
        Cleanup::Done
    } else {
        // Every engine's cleanup at once, each within the grace period; the run's record is finished
        // only when every engine is clean.
        let cleanups = futures_util::future::join_all(engines.iter().map(|e| {
            let who = Who {
                plugin: &name,
                name: &e.name,
                engine: &e.label,
                report,
            };
            clean_up(
                &e.client,
                e.gate(),
                &e.in_flight,
                grace,
                signals.reached(more),
                who,
            )
        }))
        .await;
        if cleanups.iter().all(|c| matches!(c, Cleanup::Done)) {
            record.finish();
            Cleanup::Done
        } else {
            // What is left waits on its own engines only: a clean engine is crossed off the record.
            for (e, c) in engines.iter().zip(&cleanups) {
                if matches!(c, Cleanup::Done) {
                    record.clean_on(&e.client.config().endpoint.to_string());
                }
            }
            Cleanup::Left
        }
    };

    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => {
            return Ok(End::said(
                report,
                Outcome::Invalid,
                "error",
                format!("tug: plugin {name}: {e:#}"),
            ));
        }
    };
    Ok(match outcome {
        HostOutcome::Exited(code) => {
            let code = code.clamp(0, 255) as u8;
            let (denied, first) = report.denials();
            if let (true, Some(d)) = (code != 0, first) {
                // A run whose plugin failed after the policy refused it something.
                let field = d.field.map(|f| format!(", field {f}")).unwrap_or_default();
                let message = format!(
                    "tug: plugin {name} failed (exit {code}) after the policy denied {denied} call(s); \
                     the first: {} (rule {}{field}): {}",
                    d.operation, d.rule, d.reason
                );
                let mut end = End::said(report, Outcome::Denied, "error", message);
                end.plugin_code = Some(code.into());
                end
            } else {
                End {
                    outcome: Outcome::Exited(code),
                    plugin_code: Some(code.into()),
                    message: None,
                }
            }
        }
        HostOutcome::Interrupted => {
            let message = match cleaned {
                Cleanup::Done if identity.keep => {
                    format!("tug: plugin {name} interrupted; what it created was kept (--keep)")
                }
                Cleanup::Done => format!("tug: plugin {name} interrupted; what it created was removed"),
                Cleanup::Left => format!("tug: plugin {name} interrupted"),
            };
            End::said(report, Outcome::Interrupted, "error", message)
        }
        HostOutcome::LimitExceeded(message) => {
            // The limit is named after the plugin's name, which may hold any word.
            let what = message
                .strip_prefix(&format!("plugin {name} "))
                .unwrap_or(&message);
            report.limit(limit_of(what), &message);
            End::said(report, Outcome::Limit, "error", format!("tug: {message}"))
        }
        HostOutcome::Trapped(message) => {
            End::said(report, Outcome::Trapped, "error", format!("tug: {message}"))
        }
        HostOutcome::TimedOut(limit) => {
            let message = format!(
                "plugin {name} ran out of time: the wall-clock limit of {limit:?} passed ({wall_source})"
            );
            report.limit("wall_time", &message);
            End::said(report, Outcome::Timeout, "error", format!("tug: {message}"))
        }
    })
}

/// Which limit a limit message names (`memory`, `cpu_time`, `handles`), for the `limit` event.
fn limit_of(message: &str) -> &'static str {
    let m = message.to_ascii_lowercase();
    if m.contains("memory") {
        "memory"
    } else if m.contains("cpu") {
        "cpu_time"
    } else if m.contains("handle") {
        "handles"
    } else {
        "limit"
    }
}

/// One engine of a run, as `tug run` keeps it: its client, whether it answered at the start, the count
/// of the run's changing requests to it, and its gate.
struct Engine {
    name: String,
    /// `engine NAME (URL)`, for messages.
    label: String,
    client: Client,
    /// Why it did not answer `/_ping` at the start, if it did not.
    unreachable: Option<String>,
    in_flight: InFlight,
    gate: Option<Arc<crate::policy::Gate>>,
}

impl Engine {
    fn new(name: String, client: Client) -> Self {
        Engine {
            label: format!("engine {name} ({})", client.config().endpoint),
            name,
            client,
            unreachable: None,
            in_flight: InFlight::new(),
            gate: None,
        }
    }

    /// Its gate (made once the engines answered).
    fn gate(&self) -> &Arc<crate::policy::Gate> {
        self.gate.as_ref().expect("the gates are made before the run")
    }
}

/// The engines of a run for a message: `engine default (unix://…)`, or `engines default (…), b (…)`.
fn describe(engines: &[Engine]) -> String {
    match engines {
        [one] => one.label.clone(),
        many => format!(
            "engines {}",
            many.iter()
                .map(|e| format!("{} ({})", e.name, e.client.config().endpoint))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Who a cleanup's messages name.
struct Who<'a> {
    plugin: &'a str,
    /// The engine's name.
    name: &'a str,
    /// `engine NAME (URL)`.
    engine: &'a str,
    report: &'a Report,
}

/// Removes what the run made, within `grace`: first waits for the run's requests still on their way (a
/// create the plugin no longer waits for still makes its object), then removes by label, then takes off
/// names the run gave images it did not make. A signal skips what is left of it.
async fn clean_up(
    client: &Client,
    gate: &crate::policy::Gate,
    in_flight: &InFlight,
    grace: Duration,
    skip: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    who: Who<'_>,
) -> Cleanup {
    let Who {
        plugin: name,
        name: engine_name,
        engine,
        report: run_report,
    } = who;
    let run = &gate.run_id;
    let left = format!(
        "what is left of run {run} keeps its label tug.run={run}, and the next tug run on this host removes it"
    );
    if in_flight.ever() == 0 && gate.cleanup_names().is_empty() {
        // The run sent nothing to this engine that could have made anything.
        return Cleanup::Done;
    }
    let work = async {
        // Half the budget at most for answers still on their way: the removals get the rest, whatever a
        // slow request (a stop with a long timeout) does.
        let settled = in_flight.idle(grace / 2).await;
        let mut report = cleanup::remove_run(client, run).await;
        let names = cleanup::remove_names(client, &gate.cleanup_names()).await;
        report.removed.extend(names.removed);
        report.failed.extend(names.failed);
        (settled, report)
    };
    let work = async {
        let (settled, report) = work.await;
        run_report.cleanup(engine_name, &report);
        (settled, report)
    };
    tokio::select! {
        r = tokio::time::timeout(grace, work) => match r {
            Ok((true, report)) if report.failed.is_empty() => Cleanup::Done,
            Ok((settled, report)) => {
                let waiting = if settled { String::new() } else {
                    format!("{} request(s) still unanswered; ", in_flight.now())
                };
                say!(run_report, "warning", "tug: cleanup after plugin {name} on {engine}: {waiting}{report}; {left}");
                Cleanup::Left
            }
            Err(_) => {
                let waiting = match in_flight.now() {
                    0 => String::new(),
                    n => format!(" ({n} request(s) still unanswered)"),
                };
                say!(
                    run_report,
                    "warning",
                    "tug: cleanup after plugin {name} did not finish within {grace:?} (--grace): {engine} is \
                     slow or does not answer{waiting}; {left}"
                );
                Cleanup::Left
            }
        },
        () = skip => {
            say!(run_report, "warning", "tug: interrupted again: cleanup after plugin {name} on {engine} skipped; {left}");
            Cleanup::Left
        }
    }
}

#[cfg(test)]
mod tests {
    use super::preopen;

    #[test]
    fn dir_flags_are_read_only_unless_rw_and_name_what_is_wrong() {
        let tmp = std::env::temp_dir();
        let host = std::fs::canonicalize(&tmp).unwrap();
        let p = preopen(&format!("{}:/in", tmp.display())).unwrap();
        assert_eq!(
            (p.host.as_path(), p.guest.as_str(), p.read_only),
            (host.as_path(), "/in", true)
        );
        let p = preopen(&format!("{}:/out:rw", tmp.display())).unwrap();
        assert_eq!((p.guest.as_str(), p.read_only), ("/out", false));
        let p = preopen(&format!("{}:/in:ro", tmp.display())).unwrap();
        assert!(p.read_only);
        for (spec, says) in [
            ("nocolon".to_owned(), "expected HOST:GUEST"),
            (format!("{}:relative", tmp.display()), "absolute path"),
            ("/no/such/dir/for/tug:/in".to_owned(), "/no/such/dir/for/tug"),
        ] {
            let err = preopen(&spec).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("--dir {spec}")) && err.contains(says),
                "{err}"
            );
        }
    }
}
