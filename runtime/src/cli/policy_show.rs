//! `tug policy show [PROFILE|FILE] [--json]`: every setting of a policy as tug applies it (after the
//! defaults of the keys a file leaves out), one line each, with what it means.
//!
//! The settings are not listed by hand: the loaded [`Policy`] is serialized and walked, and each key found
//! gets its explanation from [`explanations`]. A key the policy gains without an explanation fails the
//! unit test `every_setting_is_explained`, so the listing cannot drift from the policy's struct.

use std::{collections::BTreeMap, process::ExitCode};

use clap::Subcommand;
use serde_json::{json, Value};

use super::check::emit;
use crate::policy::{operations::FUNCTIONS, Access, Area, Op, Policy};

/// `tug policy …`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print the effective policy (every setting, after defaults) with a line of explanation per setting.
    Show(ShowArgs),
}

/// `tug policy show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A built-in profile (untrusted, ci, trusted) or a policy file (TOML).
    #[arg(default_value = "untrusted", value_name = "PROFILE|FILE")]
    pub policy: String,
    /// Print a JSON list of {key, value, explanation} instead of lines.
    #[arg(long)]
    pub json: bool,
}

/// One setting: its dotted key (`containers.memory`), its value, and what it means.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    /// `section.key`, or `key` at the top level.
    pub key: String,
    /// The value as tug applies it (`null`: not set, no limit).
    pub value: Value,
    /// What the setting means, for this value.
    pub explanation: String,
}

/// How one setting is explained: from its value, and the whole policy (`unrestricted` lifts rules).
type Explain = Box<dyn Fn(&Value, &Policy) -> String>;

/// The areas, in [`Area`] order, read from the operation table (every area has operations).
fn areas() -> Vec<Area> {
    let mut out: Vec<Area> = Op::ALL.into_iter().map(Op::area).collect();
    out.sort();
    out.dedup();
    out
}

/// What an area covers (an exhaustive match: a new area does not compile without its words).
fn area_words(area: Area) -> &'static str {
    match area {
        Area::System => "ping, version, info, events, data usage, registry login",
        Area::Containers => "containers",
        Area::Exec => "exec instances in containers",
        Area::Images => "images (list, inspect, pull, push, tag, remove, save, load, import)",
        Area::Build => "image builds and the build cache",
        Area::Distribution => "registry manifests read through the daemon",
        Area::Plugins => "managed Docker plugins (host-level daemons)",
        Area::Networks => "networks",
        Area::Volumes => "volumes",
        Area::Swarm => "the swarm itself and its nodes",
        Area::Services => "swarm services and their tasks",
        Area::Secrets => "swarm secrets",
        Area::Configs => "swarm configs",
        Area::Registry => "registries reached by tug itself, without a daemon",
    }
}

/// `operations.<area>`: what the access grants, counted from the operation table.
fn explain_area(area: Area, value: &Value) -> String {
    let count = |access: Access| {
        FUNCTIONS
            .iter()
            .filter(|f| f.op.area() == area && f.op.access() == access)
            .count()
    };
    let (reads, writes) = (count(Access::Read), count(Access::Write));
    let words = area_words(area);
    let n = |n: usize| match n {
        1 => "1 function".to_owned(),
        n => format!("{n} functions"),
    };
    match value.as_str() {
        Some("none") => format!("{words}: none of its {} may be called", n(reads + writes)),
        Some("read") if writes == 0 => format!("{words}: all its {} (all reads)", n(reads)),
        Some("read") => format!(
            "{words}: its {} that read (inspect, list, streams); its {} that write denied",
            n(reads),
            n(writes)
        ),
        _ => format!("{words}: all its {}, as the other rules allow", n(reads + writes)),
    }
}

fn is_empty(v: &Value) -> bool {
    v.as_array().is_some_and(Vec::is_empty)
}

fn list(v: &Value) -> String {
    v.as_array()
        .map(|a| a.iter().map(short).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

fn short(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => toml_value(other),
    }
}

/// A sentence for a ceiling that may be unset.
fn ceiling(v: &Value, set: &str, unset: &str) -> String {
    if v.is_null() {
        unset.to_owned()
    } else {
        set.to_owned()
    }
}

/// A quota: `u32::MAX` is no quota.
fn quota(v: &Value, what: &str) -> String {
    if v.as_u64() == Some(u32::MAX as u64) {
        format!("no quota on {what}")
    } else {
        format!("the most {what} one run may own at once")
    }
}

/// Every setting with its explanation, in the order of a policy file.
pub fn explanations() -> Vec<(String, Explain)> {
    fn e(f: impl Fn(&Value, &Policy) -> String + 'static) -> Explain {
        Box::new(f)
    }
    let mut out: Vec<(String, Explain)> = vec![
        (
            "name".into(),
            e(|_, _| "the policy's name, in tug's messages and the audit log".into()),
        ),
        (
            "unrestricted".into(),
            e(|v, _| {
                if v.as_bool() == Some(true) {
                    "every rule but canonical bodies and the audit is lifted: the plugin can do what the \
                     Docker socket can"
                        .into()
                } else {
                    "every rule of docs/policy.md applies".into()
                }
            }),
        ),
    ];
    for area in areas() {
        out.push((
            format!("operations.{}", area.key()),
            e(move |v, _| explain_area(area, v)),
        ));
    }
    let more: Vec<(&str, Explain)> = vec![
        (
            "images.allow",
            e(|v, _| {
                if is_empty(v) {
                    "no image may be used but those the run makes".into()
                } else {
                    "images containers may be created from, and that may be pulled, pushed or tagged (glob \
                     patterns); the run's own images besides"
                        .into()
                }
            }),
        ),
        (
            "registries.allow",
            e(|v, _| {
                if is_empty(v) {
                    "no registry may be reached".into()
                } else {
                    "registries images may be pulled from or pushed to (glob patterns)".into()
                }
            }),
        ),
        (
            "containers.binds",
            e(|v, _| {
                if is_empty(v) {
                    "no host path may be bind-mounted".into()
                } else {
                    format!(
                        "host paths a container may bind-mount, and what is below them: {}",
                        list(v)
                    )
                }
            }),
        ),
        (
            "containers.networks",
            e(|_, _| "networks a container may join besides the ones the run creates".into()),
        ),
        (
            "containers.memory",
            e(|v, _| {
                ceiling(
                    v,
                    "memory ceiling forced on every container (swap equal to it: none beyond)",
                    "no memory ceiling on containers",
                )
            }),
        ),
        (
            "containers.cpus",
            e(|v, _| {
                ceiling(
                    v,
                    "CPUs a container may use at most",
                    "no CPU ceiling on containers",
                )
            }),
        ),
        (
            "containers.pids",
            e(|v, _| {
                ceiling(
                    v,
                    "processes a container may run at most",
                    "no process ceiling on containers",
                )
            }),
        ),
        (
            "containers.cap_add",
            e(|v, _| {
                if is_empty(v) {
                    "containers may add no capability".into()
                } else {
                    format!("capabilities a container may add: {}", list(v))
                }
            }),
        ),
        (
            "containers.fixed_host_ports",
            e(|v, _| {
                if v.as_bool() == Some(true) {
                    "a published port may name its host port".into()
                } else {
                    "a published port gets a host port the daemon picks (it may not name one)".into()
                }
            }),
        ),
        (
            "containers.ports",
            e(|v, _| {
                ceiling(
                    v,
                    "published ports per container at most (each is a proxy process on the host)",
                    "no limit on published ports",
                )
            }),
        ),
        (
            "containers.log_size",
            e(|v, _| {
                ceiling(
                    v,
                    "the largest log file of a container on the host's disk (max-size)",
                    "no ceiling on a container's log files",
                )
            }),
        ),
        (
            "containers.log_files",
            e(|v, _| {
                ceiling(
                    v,
                    "the most log files a container keeps (max-file)",
                    "no ceiling on the number of a container's log files",
                )
            }),
        ),
        (
            "containers.disk",
            e(|v, _| {
                ceiling(
                    v,
                    "a container's writable layer at most, where the storage driver can bound it",
                    "no ceiling on a container's writable layer",
                )
            }),
        ),
        (
            "quota.containers",
            e(|v, _| quota(v, "containers (builds in flight and service tasks count)")),
        ),
        ("quota.volumes", e(|v, _| quota(v, "volumes"))),
        ("quota.networks", e(|v, _| quota(v, "networks"))),
        (
            "quota.execs",
            e(|v, _| {
                if v.as_u64() == Some(u32::MAX as u64) {
                    "no quota on exec instances".into()
                } else {
                    "the most exec instances one container may hold (the engine keeps each until the \
                     container goes)"
                        .into()
                }
            }),
        ),
        (
            "visibility.all",
            e(|v, _| {
                if v.as_bool() == Some(true) {
                    "lists, events and prunes see every object of the engine".into()
                } else {
                    "lists, events and prunes see only the run's own objects".into()
                }
            }),
        ),
        (
            "engines",
            e(|v, _| {
                if is_empty(v) {
                    "the policy gives no engine besides the run's default; --engine NAME=URL and --context \
                     give more"
                        .into()
                } else {
                    "engines the run is given, besides its default".into()
                }
            }),
        ),
        (
            "wasm.memory",
            e(|v, _| {
                ceiling(
                    v,
                    "the plugin's linear memory, summed over its memories",
                    "no limit on the plugin's memory",
                )
            }),
        ),
        (
            "wasm.cpu_time",
            e(|v, _| {
                ceiling(
                    v,
                    "seconds of CPU the plugin's wasm may use",
                    "no limit on the plugin's CPU time",
                )
            }),
        ),
        (
            "wasm.wall_time",
            e(|v, _| {
                ceiling(
                    v,
                    "seconds the whole run may take, host calls included (`tug run --timeout` replaces it)",
                    "no limit on the run's wall-clock time but `tug run --timeout`",
                )
            }),
        ),
        (
            "wasm.handles",
            e(|v, _| {
                ceiling(
                    v,
                    "handles the plugin may hold open at once",
                    "no limit on open handles",
                )
            }),
        ),
        (
            "preopens",
            e(|v, _| {
                if is_empty(v) {
                    "the plugin sees no host directory (`tug run --dir` may add one)".into()
                } else {
                    "host directories the plugin sees, where it sees them (read-only unless read_only = false)"
                        .into()
                }
            }),
        ),
        (
            "registry.layer_dirs",
            e(|v, _| {
                if is_empty(v) {
                    "no host directory may become an image layer".into()
                } else {
                    "host directories whose contents may become image layers".into()
                }
            }),
        ),
        (
            "registry.staging",
            e(|_, _| "bytes of new layers a run may stage on the host's disk in all".into()),
        ),
        (
            "env",
            e(|v, _| {
                if is_empty(v) {
                    "no host environment variable is passed to the plugin".into()
                } else {
                    "host environment variables passed to the plugin".into()
                }
            }),
        ),
        (
            "require_engine",
            e(|v, _| {
                if v.as_bool() == Some(false) {
                    "the plugin starts even when the engine does not answer".into()
                } else {
                    "`tug run` does not start the plugin when the engine does not answer /_ping".into()
                }
            }),
        ),
    ];
    out.extend(more.into_iter().map(|(k, f)| (k.to_owned(), f)));
    out
}

/// The rules an unrestricted policy lifts (by key prefix).
const LIFTED: &[&str] = &[
    "images.",
    "registries.",
    "containers.",
    "quota.",
    "engines",
    "registry.layer_dirs",
];

/// The policy's settings as dotted keys: sections are walked, lists and unset values are leaves.
pub fn flatten(policy: &Policy) -> BTreeMap<String, Value> {
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
        match v {
            // Each engine of `[engines]` is one setting: its entry, without what it leaves unset.
            Value::Object(map) if prefix == "engines" && !map.is_empty() => {
                for (name, entry) in map {
                    let mut entry = entry.clone();
                    if let Value::Object(fields) = &mut entry {
                        fields.retain(|_, v| !(v.is_null() || v.as_array().is_some_and(Vec::is_empty)));
                    }
                    out.insert(format!("engines.{name}"), entry);
                }
            }
            Value::Object(map) if prefix == "engines" => {
                out.insert(prefix.to_owned(), Value::Array(Vec::new()));
                let _ = map;
            }
            Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            leaf => {
                out.insert(prefix.to_owned(), leaf.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    let value = serde_json::to_value(policy).unwrap_or(Value::Null);
    walk("", &value, &mut out);
    out
}

/// Every setting of the policy with its explanation, in the order of a policy file; a key without an
/// explanation (none: see the tests) comes last, saying so.
pub fn settings(policy: &Policy) -> Vec<Setting> {
    let mut values = flatten(policy);
    let mut out = Vec::new();
    for (key, explain) in explanations() {
        let Some(value) = values.remove(&key) else {
            continue;
        };
        let mut explanation = explain(&value, policy);
        if policy.unrestricted && LIFTED.iter().any(|p| key.starts_with(p)) {
            explanation.push_str(" (not applied: the policy is unrestricted)");
        }
        out.push(Setting {
            key,
            value,
            explanation,
        });
    }
    out.extend(values.into_iter().map(|(key, value)| {
        let explanation = match key.strip_prefix("engines.") {
            Some(name) => engine_explanation(name, &value),
            None => "(no explanation)".into(),
        };
        Setting {
            key,
            value,
            explanation,
        }
    }));
    out
}

/// What an `[engines.NAME]` entry gives the run.
fn engine_explanation(name: &str, entry: &Value) -> String {
    let where_ = match (entry.get("url"), entry.get("context")) {
        (Some(url), _) => format!("the run is given engine {name} at {}", toml_value(url)),
        (None, Some(ctx)) => format!(
            "the run is given engine {name} from docker context {}",
            toml_value(ctx)
        ),
        (None, None) => format!("engine {name} may be given by --engine {name}=URL or --context"),
    };
    let over = match entry.get("policy") {
        Some(Value::Object(o)) if !o.is_empty() => format!(
            "; its calls are held to this policy with {} laid over it",
            toml_value(&Value::Object(o.clone()))
        ),
        _ => "; its calls are held to this policy".into(),
    };
    format!("{where_}{over} (the plugin opens it with engines.open(\"{name}\"))")
}

/// A value as a policy file writes it; `unset` for none.
fn toml_value(v: &Value) -> String {
    match v {
        Value::Null => "unset".into(),
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(toml_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| format!("{k} = {}", toml_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// `tug policy …`.
pub fn run(command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Show(args) => show(args),
    }
}

fn show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let policy = Policy::load(&args.policy).map_err(|e| anyhow::anyhow!("{e}"))?;
    let settings = settings(&policy);
    if args.json {
        let list: Vec<Value> = settings
            .iter()
            .map(|s| json!({ "key": s.key, "value": s.value, "explanation": s.explanation }))
            .collect();
        emit(&format!("{}\n", serde_json::to_string_pretty(&list)?));
        return Ok(ExitCode::SUCCESS);
    }
    let lines: Vec<(String, &str)> = settings
        .iter()
        .map(|s| {
            (
                format!("{} = {}", s.key, toml_value(&s.value)),
                s.explanation.as_str(),
            )
        })
        .collect();
    let width = lines
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0)
        .min(48);
    let mut out = format!("# policy {} (after defaults)\n", policy.name);
    for (line, why) in lines {
        out.push_str(&format!("{line:<width$}  — {why}\n"));
    }
    emit(&out);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::config::PROFILES;

    /// A policy that sets every optional key, so that every key the struct has is serialized.
    const FULL: &str = r#"
name = "full"
engines = ["other"]
env = ["HOME"]
require_engine = false
[[preopens]]
host = "/tmp"
guest = "/data"
read_only = false
[containers]
memory = "1GiB"
cpus = 1.5
pids = 10
ports = 2
log_size = "1MiB"
log_files = 2
disk = "1GiB"
binds = ["/tmp"]
cap_add = ["NET_ADMIN"]
[wasm]
memory = "64MiB"
cpu_time = 5
wall_time = 10
handles = 5
[registry]
layer_dirs = ["/tmp"]
"#;

    #[test]
    fn every_setting_is_explained() {
        let explained: Vec<String> = explanations().into_iter().map(|(k, _)| k).collect();
        let mut policies: Vec<Policy> = PROFILES
            .iter()
            .map(|(n, _)| Policy::profile(n).unwrap())
            .collect();
        policies.push(Policy::parse(FULL).unwrap());
        for policy in &policies {
            let keys: Vec<String> = flatten(policy).into_keys().collect();
            for key in keys.iter().filter(|k| !k.starts_with("engines.")) {
                assert!(
                    explained.contains(key),
                    "policy setting {key} has no explanation in cli/policy_show.rs"
                );
            }
            for s in settings(policy) {
                assert!(!s.explanation.contains("no explanation"), "{}", s.key);
            }
            if policy.name == "full" {
                // The full policy has every key: none explained is stale (`engines` is explained for
                // a policy without engines; this one has an engine, `engines.other`).
                assert!(keys.iter().any(|k| k == "engines.other"));
                for key in explained.iter().filter(|k| *k != "engines") {
                    assert!(keys.contains(key), "{key} is explained but not a setting");
                }
            }
        }
    }

    #[test]
    fn untrusted_says_what_it_denies() {
        let s = settings(&Policy::profile("untrusted").unwrap());
        let find = |k: &str| s.iter().find(|s| s.key == k).unwrap().clone();
        assert_eq!(s[0].key, "name");
        assert_eq!(find("operations.build").value, json!("none"));
        assert!(find("operations.build").explanation.contains("none of its"));
        assert!(find("operations.images").explanation.contains("denied"));
        assert_eq!(find("containers.memory").value, json!("512MiB"));
        assert_eq!(find("wasm.cpu_time").value, json!(60.0));
        assert!(find("containers.binds").explanation.contains("no host path"));
        // Every area is listed.
        assert_eq!(
            s.iter().filter(|s| s.key.starts_with("operations.")).count(),
            areas().len()
        );
        let trusted = settings(&Policy::profile("trusted").unwrap());
        let binds = trusted.iter().find(|s| s.key == "containers.binds").unwrap();
        assert!(
            binds.explanation.contains("unrestricted"),
            "{}",
            binds.explanation
        );
        assert_eq!(toml_value(&json!(null)), "unset");
        assert_eq!(
            toml_value(&json!([{"guest": "/d", "host": "/h"}])),
            r#"[{ guest = "/d", host = "/h" }]"#
        );
    }
}
