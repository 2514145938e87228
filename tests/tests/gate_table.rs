//! The gate, tried function by function from `wit/operations.tsv`: the `probe` plugin calls every WIT
//! function of the table against the real daemon, through a recording proxy.
//!
//! - Under a policy that grants nothing, each must be refused by its area's rule (`operations.<area>`),
//!   with an audit line saying so, and nothing of the run may reach the daemon but the start-up sweep's
//!   and the cleanup's label-filtered lists (no lookup of a name, no create: checked in the requests the
//!   proxy saw, and in `docker events`).
//! - Under each area's grant alone, that area's functions pass the area check, and every other function
//!   is refused by its own area's rule.
//! - Under `ci`, 1 MiB strings as every name, id and body and filter value: every call is answered, tug
//!   does not crash.
//!
//! A function added to the WIT and the table but not to the gate fails the first test; one not added to
//! the table fails `coverage.rs`.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tug::engine::{Client, EngineConfig, Request};
use tug_e2e::{plugin, proxy::Proxy, tug_run, workspace_root};

/// The areas of the policy, as `[operations]` keys.
const AREAS: &[&str] = &[
    "system",
    "containers",
    "exec",
    "images",
    "build",
    "distribution",
    "plugins",
    "networks",
    "volumes",
    "swarm",
    "services",
    "secrets",
    "configs",
    "registry",
];

/// A row of the table: (operationId, function, area).
struct Row {
    op: String,
    function: String,
    area: String,
}

fn rows() -> Vec<Row> {
    std::fs::read_to_string(workspace_root().join("wit/operations.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Row {
                op: c[0].into(),
                function: c[1].into(),
                area: c[2].into(),
            }
        })
        .collect()
}

/// A policy granting `write` to the areas given and nothing else.
fn policy(dir: &std::path::Path, name: &str, granted: &[&str]) -> std::path::PathBuf {
    let mut text = format!("name = \"{name}\"\n[operations]\n");
    for area in AREAS {
        let access = if granted.contains(area) { "write" } else { "none" };
        text.push_str(&format!("{area} = \"{access}\"\n"));
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the probe on every function of the table; returns each function's outcome and the run.
fn probe(wasm: &std::path::Path, extra: &[String], big: bool) -> (BTreeMap<String, String>, tug_e2e::Run) {
    let name = wasm.file_stem().unwrap().to_string_lossy().into_owned();
    let mut args = vec![wasm.display().to_string()];
    args.extend(extra.iter().cloned());
    args.push("--".into());
    if big {
        args.push("--big".into());
    }
    args.extend(rows().into_iter().map(|r| r.function));
    let run = tug_run(&args);
    run.assert_success();
    let outcomes: BTreeMap<String, String> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("[{name}] fn ")))
        .filter_map(|l| l.split_once(": "))
        .map(|(f, o)| (f.to_owned(), o.to_owned()))
        .collect();
    assert_eq!(
        outcomes.len(),
        rows().len(),
        "one outcome per function of the table\n{}",
        run.report()
    );
    (outcomes, run)
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A copy of the probe under a name of its own (its `tug.plugin` label tells its objects and events).
fn named_probe(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let wasm = dir.join(format!("{name}.wasm"));
    std::fs::copy(plugin("probe"), &wasm).unwrap();
    wasm
}

/// The requests a run may send under a policy that grants nothing: the version negotiation, and the
/// label-filtered lists of the start-up sweep and the cleanup.
fn sweep_or_cleanup(request: &str) -> bool {
    let Some(target) = request
        .strip_prefix("GET ")
        .or_else(|| request.strip_prefix("HEAD "))
    else {
        return false;
    };
    let path = target.split('?').next().unwrap_or_default();
    let path = match path.strip_prefix("/v1.") {
        Some(rest) => &rest[rest.find('/').unwrap_or(rest.len())..],
        None => path,
    };
    match path {
        "/_ping" | "/version" => true,
        "/containers/json" | "/networks" | "/volumes" | "/images/json" | "/services" | "/secrets"
        | "/configs" => target.contains("tug.run") || target.contains("tug.image.run"),
        _ => false,
    }
}

#[test]
fn deny_all_refuses_every_function_before_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("probe-deny-{}", std::process::id());
    let wasm = named_probe(dir.path(), &name);
    let policy = policy(dir.path(), "deny-all", &[]);
    let audit = dir.path().join("audit.jsonl");
    let proxy = Proxy::start(std::path::Path::new("/var/run/docker.sock"));
    let since = now();
    let (outcomes, run) = probe(
        &wasm,
        &[
            "--policy".into(),
            policy.display().to_string(),
            "--engine".into(),
            proxy.url(),
            "--audit".into(),
            audit.display().to_string(),
        ],
        false,
    );

    let mut wrong = Vec::new();
    for row in rows() {
        let got = &outcomes[&row.function];
        let want = if row.function == "engines.engine.api-version" {
            // A string, not a result: empty when refused (the audit line below says why).
            "ok ".to_owned()
        } else {
            format!("denied operations.{} -", row.area)
        };
        if *got != want && !(want == "ok " && got == "ok") {
            wrong.push(format!("{}: wanted `{want}`, got `{got}`", row.function));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} functions not refused:\n{}\n{}",
        wrong.len(),
        wrong.join("\n"),
        run.report()
    );

    // One audit line per call, each a denial by the area's rule.
    let lines: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut per_op: BTreeMap<String, usize> = BTreeMap::new();
    for row in rows() {
        *per_op.entry(row.op.clone()).or_default() += 1;
    }
    let mut audited: BTreeMap<String, usize> = BTreeMap::new();
    for l in &lines {
        let op = l["operation"].as_str().unwrap().to_owned();
        let area = rows().into_iter().find(|r| r.op == op).unwrap().area;
        assert_eq!(l["decision"], "deny", "{l}");
        assert_eq!(l["rule"], format!("operations.{area}"), "{l}");
        *audited.entry(op).or_default() += 1;
    }
    assert_eq!(audited, per_op, "audit lines per operation");

    // Nothing but the sweep's and the cleanup's lists reached the daemon.
    let requests = proxy.requests();
    let leaked: Vec<&String> = requests.iter().filter(|r| !sweep_or_cleanup(r)).collect();
    assert!(
        leaked.is_empty(),
        "requests that reached the daemon: {leaked:?}\nall: {requests:?}"
    );
    assert!(!requests.is_empty(), "the proxy saw the run's own sweep");

    // And the daemon's events show nothing of the run.
    let c = Client::new(EngineConfig::from_env().unwrap()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let filters = json!({ "label": [format!("tug.plugin={name}")] }).to_string();
    let mut events = rt
        .block_on(
            c.json_stream(
                Request::get("/events")
                    .query("since", since)
                    .query("until", now() + 1)
                    .query("filters", filters),
            ),
        )
        .unwrap();
    let mut seen = Vec::new();
    while let Some(e) = rt.block_on(events.next_document()).unwrap() {
        seen.push(String::from_utf8_lossy(&e).into_owned());
    }
    assert!(seen.is_empty(), "events of the run: {seen:?}");
}

#[test]
fn each_area_grants_its_own_functions_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut wrong = Vec::new();
    for area in AREAS {
        let name = format!("probe-grant-{area}-{}", std::process::id());
        let wasm = named_probe(dir.path(), &name);
        let policy = policy(dir.path(), &format!("grant-{area}"), &[area]);
        let (outcomes, _) = probe(&wasm, &["--policy".into(), policy.display().to_string()], false);
        for row in rows() {
            let got = &outcomes[&row.function];
            let area_denied = got.starts_with("denied operations.");
            if row.area == *area && area_denied {
                wrong.push(format!(
                    "{area}: {} refused by its own grant: {got}",
                    row.function
                ));
            }
            if row.area != *area && *got != format!("denied operations.{} -", row.area) {
                if row.function == "engines.engine.api-version" && got == "ok " {
                    continue;
                }
                wrong.push(format!("{area}: {} ({}) passed: {got}", row.function, row.area));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every string a plugin gives, a megabyte long: names, ids, references, filter values, bodies nested a
/// million deep. The gate answers each call (refused, not found, invalid), without recursion that could
/// overflow the stack it runs on, and the run ends normally.
#[test]
fn megabyte_strings_everywhere_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("probe-big-{}", std::process::id());
    let wasm = named_probe(dir.path(), &name);
    let (outcomes, run) = probe(&wasm, &["--policy".into(), "ci".into()], true);
    assert!(
        !run.stderr.contains("trapped") && !run.stderr.contains("overflow"),
        "{}",
        run.report()
    );
    let odd: Vec<(&String, &String)> = outcomes.iter().filter(|(_, o)| o.as_str() == "unknown").collect();
    assert!(odd.is_empty(), "{odd:?}");
}
