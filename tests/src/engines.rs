//! Helpers of the tests of named engines (`tests/engines.rs`, `engines_remote.rs`, the Python and
//! JavaScript SDKs' `open(NAME)`): a policy file with an `[engines]` table, the rows of `fleet`'s table,
//! a run's id from its `--json` events, a daemon's containers of a run.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::{dockerd::Dockerd, tug_run, workspace_root};

/// Arguments for [`tug_run`] from strings.
pub fn args(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

/// A policy file in `dir`: built-in profile `profile` renamed `name`, with `extra` appended (an
/// `[engines]` table). Its path.
pub fn policy_file(dir: &Path, profile: &str, name: &str, extra: &str) -> String {
    let file = workspace_root().join(format!("runtime/src/policy/profiles/{profile}.toml"));
    let base = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let text = base.replacen(&format!("name = \"{profile}\""), &format!("name = \"{name}\""), 1);
    let path = dir.join("policy.toml");
    std::fs::write(&path, format!("{text}\n{extra}")).unwrap();
    path.display().to_string()
}

/// The `n`th row (from 0) of engine `engine` in `fleet`'s table.
pub fn fleet_row<'a>(stdout: &'a str, engine: &str, n: usize) -> &'a str {
    stdout
        .lines()
        .map(|l| l.strip_prefix("[fleet] ").unwrap_or(l))
        .filter(|l| !l.starts_with('[') && l.split_whitespace().next() == Some(engine))
        .nth(n)
        .unwrap_or_else(|| panic!("no row {n} for engine {engine} in:\n{stdout}"))
}

/// The run id of a run from its `--json` events file.
pub fn run_id(events: &Path) -> String {
    std::fs::read_to_string(events)
        .expect("the events file")
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "start")
        .and_then(|e| e["run"].as_str().map(str::to_owned))
        .expect("a start event with the run id")
}

/// The containers (running or not) labelled with run `run` on the engine at `host` (a URL).
pub fn containers_of(host: &str, run: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args([
            "-H",
            host,
            "ps",
            "-aq",
            "--filter",
            &format!("label=tug.run={run}"),
        ])
        .output()
        .expect("docker ps");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Runs `wasm -- engine NAME` (a script plugin that prints `engine NAME: DATA-ROOT` of the engine it
/// opened by name, then `engines: NAMES` of the run) for the default engine and for a daemon of the
/// test's own given as `b`, under
/// `trusted` (`info` unredacted): each reaches the daemon tug was told.
pub fn assert_opens_named_engines(wasm: &Path) {
    let d = Dockerd::start().unwrap();
    let plugin = wasm.display().to_string();
    let b = format!("b={}", d.url());
    let own_root = d.dir().join("data").display().to_string();
    let run = tug_run(args(&[
        "--policy", "trusted", "--engine", &b, &plugin, "--", "engine", "b",
    ]));
    run.assert_success()
        .assert_stdout_line(&format!("engine b: {own_root}"))
        .assert_stdout_line("engines: default, b");
    let run = tug_run(args(&[
        "--policy", "trusted", "--engine", &b, &plugin, "--", "engine", "default",
    ]));
    run.assert_success();
    assert!(
        !run.stdout.contains(&own_root) && run.stdout.contains("engine default: /"),
        "{}",
        run.report()
    );
}
