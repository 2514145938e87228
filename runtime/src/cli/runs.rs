//! `tug runs` lists the runs that own objects on the engine (live and orphaned alike), and `tug sweep`
//! removes what orphaned runs left, on demand, by the decision of the start-up sweep
//! (`policy/leftovers.rs`): only objects of runs recorded on this host as unfinished whose tug is gone —
//! never a live run's, a `--keep` run's, another host's, or what merely carries a finished run's labels.
//!
//! Both act on every engine the command is given (`tug --engine b=URL --context c sweep`: the default
//! engine, b and c), one after the other; with more than one, each line and JSON entry names its engine.
//!
//! Exit codes: 0 when done (also when there was nothing to sweep); 1 when a list or a removal failed
//! (each failure is named); 69 when an engine cannot be reached (the others are still listed or swept);
//! 125 for a bad invocation, including a `--run` that names a run the sweep may not touch (the message
//! says why: live, kept, …).

use std::{process::ExitCode, time::Duration};

use serde_json::{json, Map, Value};

use super::check::emit;
use crate::{
    engine::Client,
    policy::{
        audit::rfc3339,
        cleanup::{liveness_supported, Failure, Kind, LABEL_RUN},
        leftovers::{find_orphans, list_runs, RunObjects, RunState},
        run_records::state_dir,
    },
};

/// How long the engine has to answer `/_ping` before tug says it cannot be reached.
const PING_BUDGET: Duration = Duration::from_secs(10);

/// `tug runs`.
#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    /// Print one JSON list instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `tug sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Sweep only this run (its 16-hex-digit id, as `tug runs` lists it); refused unless it is orphaned.
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    /// List what would be removed, and remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON object instead of lines.
    #[arg(long)]
    pub json: bool,
}

/// An engine of the command: its name (`default`, or the name `--engine NAME=URL` gave) and its client.
pub struct Target {
    /// The engine's name.
    pub name: String,
    /// Its client.
    pub client: Client,
}

impl Target {
    /// The engine as messages name it: `engine default (unix:///var/run/docker.sock)`.
    fn label(&self) -> String {
        format!("engine {} ({})", self.name, self.client.config().endpoint)
    }
}

/// The worse of two exit codes: 69 (an engine cannot be reached) over 1 (a failure) over 0.
fn worse(a: ExitCode, b: ExitCode) -> ExitCode {
    let rank = |c: ExitCode| {
        if c == ExitCode::from(69) {
            2
        } else if c == ExitCode::SUCCESS {
            0
        } else {
            1
        }
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// Pings the engine; `Some(69)` (said on stderr) when it cannot be reached.
async fn unreachable(target: &Target) -> Option<ExitCode> {
    let why = match tokio::time::timeout(PING_BUDGET, target.client.ping()).await {
        Ok(Ok(_)) => return None,
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer to /_ping within {PING_BUDGET:?}"),
    };
    eprintln!("tug: {} cannot be reached: {why}", target.label());
    Some(ExitCode::from(69))
}

/// Says what could not be listed or removed (on `on`, when the command has several engines); exit
/// code 1 when anything was.
fn failures(failed: &[Failure], on: Option<&str>) -> ExitCode {
    let on = on.map(|l| format!(" on {l}")).unwrap_or_default();
    for f in failed {
        match &f.id {
            Some(id) => eprintln!("tug: removing {} {id}{on}: {}", f.kind, f.error),
            None => eprintln!("tug: listing {}{on}: {}", f.kind.plural(), f.error),
        }
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `2 containers, 1 network`.
fn counts(run: &RunObjects) -> String {
    run.counts()
        .into_iter()
        .map(|(k, n)| match n {
            1 => format!("1 {k}"),
            n => format!("{n} {}", k.plural()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A start time to the second, in UTC.
fn when(run: &RunObjects) -> Option<String> {
    let t = rfc3339(run.started()?);
    Some(format!("{}Z", &t[..19]))
}

fn run_json(run: &RunObjects) -> Value {
    let mut objects = Map::new();
    for kind in Kind::ALL {
        let ids: Vec<&str> = run
            .objects
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| id.as_str())
            .collect();
        if !ids.is_empty() {
            objects.insert(kind.plural().to_owned(), json!(ids));
        }
    }
    json!({
        "run": run.run_id,
        "plugin": run.plugin,
        "owner": run.owner,
        "pid": run.pid(),
        "host": run.host,
        "started": when(run),
        "state": run.state.word(),
        "objects": objects,
    })
}

/// `tug runs`: the runs that own objects on each engine.
pub async fn runs(targets: Vec<Target>, args: RunsArgs) -> anyhow::Result<ExitCode> {
    let several = targets.len() > 1;
    let mut code = ExitCode::SUCCESS;
    let mut out = String::new();
    let mut all_json: Vec<Value> = Vec::new();
    for target in &targets {
        if let Some(c) = unreachable(target).await {
            code = worse(code, c);
            continue;
        }
        let listing = list_runs(&target.client).await;
        if args.json {
            all_json.extend(listing.runs.iter().map(|r| {
                let mut v = run_json(r);
                v["engine"] = json!(target.name);
                v
            }));
        } else if listing.runs.is_empty() {
            out.push_str(&format!("no tug run owns objects on {}\n", target.label()));
        } else {
            if several {
                out.push_str(&format!("{}:\n", target.label()));
            }
            out.push_str(&format!(
                "{:<16}  {:<14}  {:>8}  {:<16}  {:<20}  {:<10}  OBJECTS\n",
                "RUN", "PLUGIN", "PID", "HOST", "STARTED", "STATE"
            ));
            for run in &listing.runs {
                let pid = run.pid().map(|p| p.to_string());
                out.push_str(&format!(
                    "{:<16}  {:<14}  {:>8}  {:<16}  {:<20}  {:<10}  {}\n",
                    run.run_id,
                    run.plugin.as_deref().unwrap_or("?"),
                    pid.as_deref().unwrap_or("?"),
                    run.host.as_deref().unwrap_or("?"),
                    when(run).as_deref().unwrap_or("?"),
                    run.state.word(),
                    counts(run)
                ));
            }
        }
        let label = target.label();
        code = worse(code, failures(&listing.failed, several.then_some(label.as_str())));
    }
    if args.json {
        out = format!("{}\n", serde_json::to_string_pretty(&all_json)?);
    }
    emit(&out);
    Ok(code)
}

/// Why `tug sweep --run` refuses a run that is not orphaned.
fn refusal(run: &RunObjects) -> String {
    let id = &run.run_id;
    match run.state {
        RunState::Live => format!(
            "run {id} is live: its tug (pid {}) is still running on this host and removes what the run \
             made when it ends (`kill {0}` ends it, and its cleanup runs)",
            run.pid().map_or("?".into(), |p| p.to_string())
        ),
        RunState::Kept => format!(
            "run {id} was started with --keep: tug never removes its objects (remove them with docker: \
             label {LABEL_RUN}={id})"
        ),
        RunState::Finished => format!(
            "run {id} is not recorded as unfinished in {}: its tug is gone, but what carries its labels is \
             not a leftover (an image it pushed, pulled back) and is not swept (remove it with docker: \
             label {LABEL_RUN}={id})",
            state_dir().join("runs").display()
        ),
        RunState::OtherHost => format!(
            "run {id} belongs to a tug on host {}: only a tug on that host can tell whether it is live",
            run.host.as_deref().unwrap_or("?")
        ),
        RunState::Unknown => format!(
            "run {id}'s objects do not say which tug owns them (tug.owner-pid, tug.host): tug does not \
             remove what it cannot account for"
        ),
        RunState::Orphaned => format!("run {id} is orphaned"),
    }
}

fn is_run_id(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What a sweep removed (or would): kind, id, run, engine name.
type Swept = Vec<(Kind, String, String, String)>;

/// `tug sweep`: removes what orphaned runs left on each engine (or lists it, with `--dry-run`).
pub async fn sweep(targets: Vec<Target>, args: SweepArgs) -> anyhow::Result<ExitCode> {
    if let Some(id) = &args.run {
        if !is_run_id(id) {
            anyhow::bail!("--run {id}: not a run id (16 hex digits, as `tug runs` lists them)");
        }
    }
    if !liveness_supported() {
        anyhow::bail!(
            "cannot read /proc/self/stat: tug cannot tell a live run from a dead one here, so it sweeps \
             nothing"
        );
    }
    let several = targets.len() > 1;
    let mut code = ExitCode::SUCCESS;
    let (mut done, mut failed): (Swept, Vec<(Failure, String)>) = (Vec::new(), Vec::new());
    // With --run: whether any engine holds the run or its record; refused at once if one says it may not
    // be swept.
    let mut known = false;
    for target in &targets {
        if let Some(c) = unreachable(target).await {
            code = worse(code, c);
            continue;
        }
        let client = &target.client;
        let mut orphans = find_orphans(client).await;
        if let Some(id) = &args.run {
            let listing = list_runs(client).await;
            match listing.runs.iter().find(|r| &r.run_id == id) {
                Some(run) if run.state != RunState::Orphaned => anyhow::bail!("{}", refusal(run)),
                None if !orphans.dead.contains(id) => {
                    let label = target.label();
                    code = worse(code, failures(&listing.failed, several.then_some(&label)));
                    continue;
                }
                _ => known = true,
            }
            orphans = orphans.only(id);
        }
        let found: Vec<(Kind, String, String)> = orphans
            .list()
            .into_iter()
            .map(|(k, id, run)| (k, id.to_owned(), run.to_owned()))
            .collect();
        let report = if args.dry_run {
            orphans.report
        } else {
            orphans.remove(client).await
        };
        let here: Vec<(Kind, String, String)> = if args.dry_run {
            found
        } else {
            report
                .removed
                .iter()
                .map(|r| (r.kind, r.id.clone(), r.run.clone()))
                .collect()
        };
        done.extend(
            here.into_iter()
                .map(|(k, id, run)| (k, id, run, target.name.clone())),
        );
        let label = target.label();
        code = worse(code, failures(&report.failed, several.then_some(&label)));
        failed.extend(report.failed.into_iter().map(|f| (f, target.name.clone())));
    }
    if let (Some(id), false) = (&args.run, known) {
        if code == ExitCode::SUCCESS {
            let on: Vec<String> = targets.iter().map(Target::label).collect();
            anyhow::bail!(
                "run {id} owns no objects on {} and is not recorded as unfinished on this host \
                 (`tug runs` lists the runs that own objects)",
                on.join(", ")
            );
        }
        return Ok(code);
    }
    print_sweep(&args, &done, &failed, several);
    Ok(code)
}

fn print_sweep(args: &SweepArgs, done: &Swept, failed: &[(Failure, String)], several: bool) {
    if args.json {
        let objects: Vec<Value> = done
            .iter()
            .map(|(k, id, run, engine)| {
                json!({ "kind": k.to_string(), "id": id, "run": run, "engine": engine })
            })
            .collect();
        let failed: Vec<Value> = failed
            .iter()
            .map(|(f, engine)| {
                json!({ "kind": f.kind.to_string(), "id": f.id, "error": f.error, "engine": engine })
            })
            .collect();
        let out = json!({ "dry_run": args.dry_run, "objects": objects, "failed": failed });
        emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&out).unwrap_or_default()
        ));
        return;
    }
    let verb = if args.dry_run { "would remove" } else { "removed" };
    let mut out = String::new();
    for (kind, id, run, engine) in done {
        let on = if several {
            format!(" on engine {engine}")
        } else {
            String::new()
        };
        out.push_str(&format!("{verb} {kind} {id} (run {run}){on}\n"));
    }
    if done.is_empty() && failed.is_empty() {
        let whose = match &args.run {
            Some(id) => format!("run {id} left nothing"),
            None => "no run recorded on this host as unfinished has lost its tug".to_owned(),
        };
        out.push_str(&format!("nothing to sweep: {whose}\n"));
    }
    emit(&out);
}
