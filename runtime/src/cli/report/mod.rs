//! `tug run`'s report of a run, for people and for CI: progress bars on a terminal (`progress.rs`), one
//! JSON event per line with `--json` (`events.rs`), a summary — a table on stderr with `--summary`,
//! Markdown in `$GITHUB_STEP_SUMMARY` and annotations under GitHub Actions (`summary.rs`) — and the exit
//! codes that tell a plugin's failure, a denial, a limit, an unreachable engine and a bad invocation
//! apart ([`Outcome`]).
//!
//! The report is an [`Observer`] of the run: the host tells it each call as it ends and taps the streams
//! worth showing progress of. Every string it writes is masked with the run's secrets.

pub mod events;
pub mod progress;
pub mod summary;

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Instant,
};

use self::events::Object;
use crate::{
    host::observe::{Observer, StreamTap},
    policy::{
        audit::{AuditEntry, Decision, Masker},
        cleanup::CleanupReport,
        operations::Op,
    },
};

/// Where `--json` events go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonTo {
    /// tug's stderr, one event per line (tug's own messages become `message` events).
    Stderr,
    /// A file, created or truncated (mode 0600).
    File(PathBuf),
}

/// What `tug run` reports and how.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    /// `--json [FILE]`.
    pub json: Option<JsonTo>,
    /// `--summary`: the run's summary as a short table on stderr.
    pub summary: bool,
    /// Under GitHub Actions (`GITHUB_ACTIONS=true`): annotations, and the Markdown summary appended to
    /// this file (`$GITHUB_STEP_SUMMARY`) when it is set.
    pub github: Option<Option<PathBuf>>,
    /// `--quiet`: no progress bars, no summary table, no notes; errors still.
    pub quiet: bool,
}

impl ReportOptions {
    /// The options of `tug run`'s flags and the environment (`GITHUB_ACTIONS`, `GITHUB_STEP_SUMMARY`).
    pub fn from_env(json: Option<JsonTo>, summary: bool, quiet: bool) -> Self {
        let github = (std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true")).then(|| {
            std::env::var_os("GITHUB_STEP_SUMMARY")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        ReportOptions {
            json,
            summary,
            github,
            quiet,
        }
    }
}

/// How a run ended, as `tug run`'s exit code says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The plugin exited with this code and no call was denied before a failure (0: success).
    Exited(u8),
    /// The plugin failed (exited non-zero) after the policy denied at least one of its calls: 77.
    Denied,
    /// A limit of the policy (memory, CPU time, handles) was hit: 137.
    Limit,
    /// The wall-clock limit passed: 124.
    Timeout,
    /// The plugin trapped: 134.
    Trapped,
    /// SIGINT or SIGTERM: 130.
    Interrupted,
    /// The engine could not be reached before the plugin started: 69.
    Unreachable,
    /// tug could not run the plugin (a bad flag or policy, not a component, a missing import): 125.
    Invalid,
}

impl Outcome {
    /// The exit code.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Exited(c) => c,
            Outcome::Denied => 77,
            Outcome::Limit => 137,
            Outcome::Timeout => 124,
            Outcome::Trapped => 134,
            Outcome::Interrupted => 130,
            Outcome::Unreachable => 69,
            Outcome::Invalid => 125,
        }
    }

    /// Its name in the `exit` event and the summary.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Exited(0) => "success",
            Outcome::Exited(_) => "plugin-failed",
            Outcome::Denied => "denied",
            Outcome::Limit => "limit",
            Outcome::Timeout => "timeout",
            Outcome::Trapped => "trapped",
            Outcome::Interrupted => "interrupted",
            Outcome::Unreachable => "engine-unreachable",
            Outcome::Invalid => "invalid",
        }
    }
}

/// Calls of one area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AreaCount {
    /// Allowed and answered without an error.
    pub ok: u64,
    /// Allowed, and the engine (or registry) answered with an error, or the run ended first.
    pub failed: u64,
    /// Denied by the policy.
    pub denied: u64,
}

/// Objects of one kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjectCount {
    /// Made by the plugin's calls.
    pub created: u64,
    /// Removed by the plugin's calls.
    pub removed: u64,
    /// Removed by tug's cleanup at the end of the run.
    pub cleaned: u64,
    /// Left behind: the cleanup could not remove them (the next run sweeps them).
    pub left: u64,
}

/// One denial, as the summary lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenialLine {
    /// The operation, e.g. `ContainerCreate`.
    pub operation: String,
    /// The rule, e.g. `containers.binds`.
    pub rule: String,
    /// The field, e.g. `HostConfig.Binds[0]`.
    pub field: Option<String>,
    /// Why.
    pub reason: String,
}

/// How many denials the summary keeps (it counts them all).
const KEPT_DENIALS: usize = 50;

/// What the report counted.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Calls by area (`containers`, `images`…).
    pub areas: BTreeMap<&'static str, AreaCount>,
    /// Objects by kind (`container`, `image`…).
    pub objects: BTreeMap<&'static str, ObjectCount>,
    /// The first denials.
    pub denials: Vec<DenialLine>,
    /// All calls.
    pub calls: u64,
    /// All denials.
    pub denied: u64,
}

/// Whether a call of `op` that succeeded made or removed an object, and its kind.
pub fn object_change(op: Op) -> Option<(bool, &'static str)> {
    let id = op.id();
    let kind = [
        ("Container", "container"),
        ("Network", "network"),
        ("Volume", "volume"),
        ("Image", "image"),
        ("Service", "service"),
        ("Secret", "secret"),
        ("Config", "config"),
        ("Plugin", "plugin"),
    ]
    .into_iter()
    .find(|(prefix, _)| {
        id.strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
    })?
    .1;
    let made = if id.ends_with("Create") {
        true
    } else if id.ends_with("Delete") {
        false
    } else if matches!(
        op,
        Op::ImageBuild | Op::ImageCommit | Op::ImageLoad | Op::ImageTag
    ) {
        true
    } else {
        return None;
    };
    Some((made, kind))
}

/// The report of one run. See the module documentation.
pub struct Report {
    plugin: String,
    run: String,
    masker: Masker,
    tally: Mutex<Tally>,
    events: Option<events::Writer>,
    progress: Option<progress::Progress>,
    options: ReportOptions,
    started: Instant,
}

impl Report {
    /// A report for run `run` of `plugin`; events and bars as `options` say. Fails when the `--json`
    /// file cannot be written.
    pub fn new(plugin: &str, run: &str, masker: Masker, options: ReportOptions) -> anyhow::Result<Arc<Self>> {
        let events = match &options.json {
            Some(to) => Some(events::Writer::open(to, masker.clone())?),
            None => None,
        };
        let stderr_tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let bars = stderr_tty && !options.quiet && options.json != Some(JsonTo::Stderr);
        let progress = bars.then(|| progress::Progress::new(masker.clone()));
        Ok(Arc::new(Report {
            plugin: plugin.to_owned(),
            run: run.to_owned(),
            masker,
            tally: Mutex::new(Tally::default()),
            events,
            progress,
            options,
            started: Instant::now(),
        }))
    }

    /// Whether tug's own lines go out as `message` events (`--json` to stderr) rather than as text.
    pub fn json_on_stderr(&self) -> bool {
        self.options.json == Some(JsonTo::Stderr)
    }

    /// Says one of tug's own lines: as text on stderr, or as a `message` event when `--json` writes
    /// events there. `level` is `error`, `warning` or `note`; notes are left out with `--quiet`.
    pub fn say(&self, level: &'static str, text: &str) {
        if level == "note" && self.options.quiet {
            return;
        }
        match &self.events {
            Some(w) if self.json_on_stderr() => w.message(level, text),
            _ => crate::host::output::say(&self.masker.mask(text)),
        }
    }

    /// The run started.
    pub fn start(&self, policy: &str, engine: &str) {
        if let Some(w) = &self.events {
            w.start(&self.run, &self.plugin, policy, engine);
        }
    }

    /// The run's cleanup of `engine` (its name) removed (and failed to remove) what `report` says.
    pub fn cleanup(&self, engine: &str, report: &CleanupReport) {
        let mut tally = self.tally.lock().unwrap_or_else(|p| p.into_inner());
        for r in &report.removed {
            let kind = kind_name(&r.kind.to_string());
            tally.objects.entry(kind).or_default().cleaned += 1;
            if let Some(w) = &self.events {
                w.object(Object {
                    action: "removed",
                    kind,
                    id: Some(&r.id),
                    by: "cleanup",
                    engine: Some(engine),
                    error: None,
                });
            }
        }
        for f in &report.failed {
            let kind = kind_name(&f.kind.to_string());
            if f.id.is_some() {
                tally.objects.entry(kind).or_default().left += 1;
            }
            if let Some(w) = &self.events {
                w.object(Object {
                    action: "left",
                    kind,
                    id: f.id.as_deref(),
                    by: "cleanup",
                    engine: Some(engine),
                    error: Some(&f.error),
                });
            }
        }
    }

    /// A limit ended the run (`limit` names it: `memory`, `cpu_time`, `handles`, `wall_time`).
    pub fn limit(&self, limit: &str, message: &str) {
        if let Some(w) = &self.events {
            w.limit(limit, message);
        }
    }

    /// How many calls the policy denied so far, and the first of them.
    pub fn denials(&self) -> (u64, Option<DenialLine>) {
        let tally = self.tally.lock().unwrap_or_else(|p| p.into_inner());
        (tally.denied, tally.denials.first().cloned())
    }

    /// The run ended: the `exit` event, the GitHub annotations and step summary, the `--summary` table.
    /// `plugin_code` is the plugin's own exit code, when it exited; `message` what tug said about the end.
    pub fn finish(&self, outcome: Outcome, plugin_code: Option<i32>, message: Option<&str>) {
        if let Some(p) = &self.progress {
            p.finish();
        }
        let tally = self.tally.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let elapsed = self.started.elapsed();
        if let Some(w) = &self.events {
            w.exit(outcome, plugin_code, elapsed, &tally, message);
        }
        let run = summary::RunSummary {
            plugin: &self.plugin,
            run: &self.run,
            outcome,
            plugin_code,
            elapsed,
            tally: &tally,
            message,
            masker: &self.masker,
        };
        if let Some(step_summary) = &self.options.github {
            // Annotations are lines GitHub reads as they are, even when `--json` writes events on stderr.
            for line in run.annotations() {
                crate::host::output::say(&line);
            }
            if let Some(path) = step_summary {
                if let Err(e) = summary::append(path, &run.markdown()) {
                    self.say(
                        "warning",
                        &format!("tug: cannot append the run summary to {}: {e}", path.display()),
                    );
                }
            }
        }
        if self.options.summary && !self.options.quiet {
            for line in run.table().lines() {
                self.say("note", line);
            }
        }
    }
}

/// The `'static` name of a kind of object the cleanup reports.
fn kind_name(kind: &str) -> &'static str {
    [
        "container",
        "network",
        "volume",
        "image",
        "service",
        "secret",
        "config",
        "plugin",
    ]
    .into_iter()
    .find(|k| *k == kind)
    .unwrap_or("object")
}

impl Observer for Report {
    fn call(&self, entry: &AuditEntry<'_>) {
        let op = Op::from_id(entry.operation);
        let area = op.map_or("other", |op| op.area().key());
        {
            let mut tally = self.tally.lock().unwrap_or_else(|p| p.into_inner());
            tally.calls += 1;
            let count = tally.areas.entry(area).or_default();
            match entry.decision {
                Decision::Deny { .. } => count.denied += 1,
                Decision::Allow if entry.error.is_some() => count.failed += 1,
                Decision::Allow => count.ok += 1,
            }
            if let Decision::Deny { rule, field, reason } = entry.decision {
                tally.denied += 1;
                if tally.denials.len() < KEPT_DENIALS {
                    tally.denials.push(DenialLine {
                        operation: entry.operation.to_owned(),
                        rule: self.masker.mask(rule).into_owned(),
                        field: field.map(|f| self.masker.mask(f).into_owned()),
                        reason: self.masker.mask(reason).into_owned(),
                    });
                }
            }
            if let (Decision::Allow, None, Some((made, kind))) =
                (entry.decision, entry.error, op.and_then(object_change))
            {
                let count = tally.objects.entry(kind).or_default();
                if made {
                    count.created += 1;
                } else {
                    count.removed += 1;
                }
                if let Some(w) = &self.events {
                    let action = if made { "created" } else { "removed" };
                    w.object(Object {
                        action,
                        kind,
                        id: entry.target,
                        by: "plugin",
                        engine: entry.engine,
                        error: None,
                    });
                }
            }
        }
        if let Some(w) = &self.events {
            w.call(entry);
        }
        if let (true, Decision::Deny { rule, field, reason }) =
            (self.options.github.is_some(), entry.decision)
        {
            // Masked before it is escaped: an escaped secret would no longer match.
            let m = |s: &str| self.masker.mask(s).into_owned();
            let line = summary::denial_annotation(
                &m(&self.plugin),
                entry.operation,
                &m(rule),
                field.map(m).as_deref(),
                &m(reason),
            );
            crate::host::output::say(&line);
        }
    }

    fn stream(&self, op: Op, target: Option<&str>) -> Option<Box<dyn StreamTap>> {
        let target = target.map(|t| self.masker.mask(t).into_owned());
        self.progress.as_ref()?.tap(op, target.as_deref())
    }
}
