//! Running the `attack` plugin: one `KIND ARG` pair per case, each case's outcome and what it showed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{plugin, tug_run, Run};

/// What a run of the attack plugin reported.
pub struct Attack {
    /// Each case's outcome, in order: `allowed`, `denied RULE FIELD` or `error …`.
    pub outcomes: Vec<String>,
    /// What cases showed (`show N: …`), by case number.
    pub shows: BTreeMap<usize, String>,
    /// The run.
    pub run: Run,
}

impl Attack {
    /// Panics, naming the case, unless there is one outcome per wanted one and each is the one wanted
    /// (`error` matches any error).
    pub fn expect(&self, wanted: &[(&str, &str)]) {
        let mut wrong = Vec::new();
        if wanted.len() != self.outcomes.len() {
            wrong.push(format!(
                "{} outcomes wanted, {} reported",
                wanted.len(),
                self.outcomes.len()
            ));
        }
        for (n, ((what, want), got)) in wanted.iter().zip(&self.outcomes).enumerate() {
            let ok = if *want == "error" {
                got.starts_with("error")
            } else {
                got == want
            };
            if !ok {
                wrong.push(format!("case {n} ({what}): wanted `{want}`, got `{got}`"));
            }
        }
        assert!(wrong.is_empty(), "{}\n{}", wrong.join("\n"), self.run.report());
    }

    /// What case `n` showed ("" if nothing).
    pub fn show(&self, n: usize) -> &str {
        self.shows.get(&n).map(String::as_str).unwrap_or_default()
    }
}

/// A client of the test engine (`DOCKER_HOST` or the default socket).
pub fn client() -> tug::engine::Client {
    tug::engine::Client::new(tug::engine::EngineConfig::from_env().unwrap()).unwrap()
}

/// A runtime for the tests' own engine calls (setting up and checking what a case did).
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

/// One case: the attack's kind and its argument.
pub fn case(kind: &str, arg: impl Into<String>) -> (String, String) {
    (kind.to_owned(), arg.into())
}

/// A copy of the attack plugin under a name of its own (its `tug.plugin` label).
pub fn named(dir: &Path, name: &str) -> PathBuf {
    let wasm = dir.join(format!("{name}.wasm"));
    std::fs::copy(plugin("attack"), &wasm).unwrap();
    wasm
}

/// Runs `wasm` (the attack plugin, or a named copy) with `tug run` options and the cases.
pub fn attack(wasm: &Path, options: &[String], cases: &[(String, String)]) -> Attack {
    let name = wasm.file_stem().unwrap().to_string_lossy().into_owned();
    let mut args = vec![wasm.display().to_string()];
    args.extend(options.iter().cloned());
    args.push("--".into());
    for (kind, arg) in cases {
        args.push(kind.clone());
        args.push(arg.clone());
    }
    let run = tug_run(&args);
    run.assert_success();
    let prefix = format!("[{name}] ");
    let mut outcomes = Vec::new();
    let mut shows = BTreeMap::new();
    for line in run.stdout.lines().filter_map(|l| l.strip_prefix(&prefix)) {
        if let Some(rest) = line.strip_prefix("case ") {
            if let Some((_, outcome)) = rest.split_once(": ") {
                outcomes.push(outcome.to_owned());
            }
        } else if let Some(rest) = line.strip_prefix("show ") {
            if let Some((n, shown)) = rest.split_once(": ") {
                shows.insert(n.parse().unwrap_or(usize::MAX), shown.to_owned());
            }
        }
    }
    assert_eq!(
        outcomes.len(),
        cases.len(),
        "one outcome per case\n{}",
        run.report()
    );
    Attack { outcomes, shows, run }
}

/// A policy file: `profile` with `replacements` made (each must apply), under `name`.
pub fn policy(dir: &Path, profile: &str, name: &str, replacements: &[(&str, &str)]) -> PathBuf {
    let file = crate::workspace_root().join(format!("runtime/src/policy/profiles/{profile}.toml"));
    let mut text = std::fs::read_to_string(file).expect("a built-in profile");
    text = text.replacen(&format!("name = \"{profile}\""), &format!("name = \"{name}\""), 1);
    for (from, to) in replacements {
        assert!(text.contains(from), "{profile} has no {from:?}");
        text = text.replacen(from, to, 1);
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}
