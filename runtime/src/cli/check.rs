//! `tug check PLUGIN.wasm [--policy PROFILE|FILE] [--json]`: what a plugin can reach, read from its
//! imports before anything runs, and what the policy grants of it.
//!
//! Each `tug:engine/<interface>` import is mapped to the operations of the functions it imports, from the
//! operation table (`policy::operations::FUNCTIONS`, generated from `wit/operations.tsv`), and each
//! operation is put to the policy as a run's gate would put it ([`Gate::allow`]); the verdicts are
//! summed up by policy area (granted, read-only, denied). WASI imports are mapped to the host resources
//! behind them (preopened directories, environment variables, sockets, …) and what the policy gives of
//! each. Whether tug provides the imports at all is decided exactly as `tug run` decides it
//! ([`PluginHost::load`]: the same linker, the same message), so the two cannot disagree.
//!
//! Exit codes: 0 when tug provides every import — even when the policy denies some of what the plugin
//! can reach (the report says so); 125 when it does not (the import is named), when the file is missing
//! or not a WebAssembly component, is not a WASI command, or the policy cannot be read.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
};

use serde_json::{json, Value};
use wasmtime::component::{types::ComponentItem, Component};

use crate::{
    host::{
        cache::{read_with_id, CompileCache},
        PluginHost,
    },
    policy::{operations::Function, Access, Area, Gate, Op, Policy},
};

/// The package of tug's own interfaces.
const TUG_PACKAGE: &str = "tug:engine/";

/// `tug check …`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The plugin: a `.wasm` WebAssembly component.
    #[arg(value_name = "PLUGIN.wasm")]
    pub plugin: PathBuf,
    /// The policy to check against: a built-in profile (untrusted, ci, trusted) or a TOML file.
    #[arg(long, default_value = "untrusted", value_name = "PROFILE|FILE")]
    pub policy: String,
    /// Print one JSON document on stdout instead of the tables.
    #[arg(long)]
    pub json: bool,
}

/// How much of an area a plugin can use, against what the policy grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Everything the plugin can call in the area is granted.
    Granted,
    /// The policy grants reads only: the plugin's writes are denied.
    ReadOnly,
    /// Nothing the plugin can call in the area is granted.
    Denied,
}

impl Verdict {
    /// The verdict of an area the plugin needs `need` access to, under a grant of `granted`.
    pub fn of(need: Access, granted: Access) -> Self {
        if granted >= need {
            Verdict::Granted
        } else if granted == Access::Read {
            Verdict::ReadOnly
        } else {
            Verdict::Denied
        }
    }

    fn word(self) -> &'static str {
        match self {
            Verdict::Granted => "granted",
            Verdict::ReadOnly => "read-only",
            Verdict::Denied => "denied",
        }
    }
}

fn access_word(a: Access) -> &'static str {
    match a {
        Access::None => "none",
        Access::Read => "read",
        Access::Write => "write",
    }
}

/// A host resource behind WASI imports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Resource {
    Files,
    Environment,
    Network,
    Stdin,
    Output,
    Clocks,
    Random,
    Streams,
    Exit,
    /// A WASI interface with no policy setting (e.g. `wasi:http`): provided or not, nothing to grant.
    Unknown,
}

impl Resource {
    /// The resource behind a WASI import (`wasi:cli/environment@0.2.6`).
    fn of(import: &str) -> Self {
        let bare = import.split('@').next().unwrap_or(import);
        let (package, interface) = bare.split_once('/').unwrap_or((bare, ""));
        match (package, interface) {
            ("wasi:filesystem", _) => Resource::Files,
            ("wasi:cli", "environment") => Resource::Environment,
            ("wasi:cli", "stdin") | ("wasi:cli", "terminal-stdin") => Resource::Stdin,
            ("wasi:cli", "stdout" | "stderr" | "terminal-stdout" | "terminal-stderr" | "terminal-input")
            | ("wasi:cli", "terminal-output") => Resource::Output,
            ("wasi:cli", "exit") => Resource::Exit,
            ("wasi:sockets", _) => Resource::Network,
            ("wasi:clocks", _) => Resource::Clocks,
            ("wasi:random", _) => Resource::Random,
            ("wasi:io", _) => Resource::Streams,
            _ => Resource::Unknown,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Resource::Files => "files",
            Resource::Environment => "environment",
            Resource::Network => "network",
            Resource::Stdin => "stdin",
            Resource::Output => "output",
            Resource::Clocks => "clocks",
            Resource::Random => "random",
            Resource::Streams => "streams",
            Resource::Exit => "exit",
            Resource::Unknown => "other",
        }
    }

    /// What the policy gives of the resource: whether anything is granted, and a sentence.
    fn grant(self, policy: &Policy) -> (bool, String) {
        match self {
            Resource::Files if policy.preopens.is_empty() => (
                false,
                "none granted: the plugin sees no host directory ([[preopens]] or `tug run --dir` grant one)"
                    .into(),
            ),
            Resource::Files => {
                let dirs: Vec<String> = policy
                    .preopens
                    .iter()
                    .map(|p| {
                        let how = if p.read_only { "read-only" } else { "read-write" };
                        format!("{} as {} ({how})", p.host.display(), p.guest)
                    })
                    .collect();
                (true, format!("preopened: {}", dirs.join(", ")))
            }
            Resource::Environment if policy.env.is_empty() => (
                false,
                "no host variable is passed through (policy env = []); only what `tug run --env` and \
                 `--secret` set"
                    .into(),
            ),
            Resource::Environment => (
                true,
                format!("host variables passed through: {}", policy.env.join(", ")),
            ),
            Resource::Network => (
                false,
                "none: no socket address is permitted and no name is resolved (engines are reached only \
                 through tug)"
                    .into(),
            ),
            Resource::Stdin => (true, "empty".into()),
            Resource::Output => (
                true,
                "forwarded to tug's stdout and stderr, secrets masked".into(),
            ),
            Resource::Clocks | Resource::Random | Resource::Streams | Resource::Exit => {
                (true, "always available".into())
            }
            Resource::Unknown => (false, "no policy setting".into()),
        }
    }
}

/// Whether tug provides an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provided {
    /// Yes (the plugin links).
    Yes,
    /// No: the linker's reason.
    No(String),
    /// Not known: the linker stops at the first import it lacks.
    Unchecked,
}

/// A function a plugin imports from a `tug:engine` interface.
#[derive(Clone, Debug)]
pub struct Reach {
    /// `interface.function` or `interface.resource.method`, as in the operation table.
    pub function: String,
    /// Its operation, when the table lists it (otherwise it works on a handle a permitted call opened).
    pub op: Option<Op>,
    /// Why the policy refuses it, when it does.
    pub denial: Option<String>,
}

/// One import of the plugin.
#[derive(Clone, Debug)]
pub struct Import {
    /// Its name, e.g. `tug:engine/images@0.1.0`.
    pub name: String,
    /// Whether tug provides it.
    pub provided: Provided,
    /// For a `tug:engine` interface: the functions it imports.
    pub functions: Vec<Reach>,
}

impl Import {
    /// The interface name of a `tug:engine` import (`images`), if it is one.
    pub fn tug_interface(&self) -> Option<&str> {
        let rest = self.name.strip_prefix(TUG_PACKAGE)?;
        Some(rest.split('@').next().unwrap_or(rest))
    }

    fn is_wasi(&self) -> bool {
        self.name.starts_with("wasi:")
    }
}

/// One policy area the plugin can reach.
#[derive(Clone, Debug)]
pub struct AreaReach {
    /// The area.
    pub area: Area,
    /// The most access its functions need.
    pub needs: Access,
    /// What the policy grants.
    pub granted: Access,
    /// The plugin's functions in the area (table names).
    pub functions: Vec<String>,
    /// Those the policy refuses.
    pub denied: Vec<String>,
}

impl AreaReach {
    /// Granted, read-only or denied.
    pub fn verdict(&self) -> Verdict {
        Verdict::of(self.needs, self.granted)
    }
}

/// A host resource the plugin can reach, and what the policy gives of it.
#[derive(Clone, Debug)]
pub struct HostGrant {
    /// What it is: `files`, `environment`, `network`, …, `other engines (engines.open)`.
    pub what: String,
    /// The imports that reach it (for a host grant of tug's functions: the function).
    pub imports: Vec<String>,
    /// Whether the policy gives any of it.
    pub granted: bool,
    /// What the policy gives, as a sentence.
    pub detail: String,
}

/// What `tug check` found.
#[derive(Debug)]
pub struct Report {
    /// The plugin file.
    pub plugin: PathBuf,
    /// The policy's name.
    pub policy: String,
    /// The imports, in the component's order.
    pub imports: Vec<Import>,
    /// The areas reached, in [`Area`] order.
    pub areas: Vec<AreaReach>,
    /// The host resources it can reach: those of its WASI imports, then host grants its functions use.
    pub host: Vec<HostGrant>,
    /// Why `tug run` would not start the plugin, if it would not.
    pub error: Option<String>,
}

/// The table names of the functions an instance import exports: `[method]engine.api-version` is
/// `engines.engine.api-version`, `[static]image.pull` is `registry.image.pull`.
fn function_names(component: &Component, engine: &wasmtime::Engine, import: &str) -> Vec<String> {
    let ty = component.component_type();
    let Some(ext) = ty.get_import(engine, import) else {
        return Vec::new();
    };
    let ComponentItem::ComponentInstance(instance) = ext.ty else {
        return Vec::new();
    };
    let Some(interface) = import
        .strip_prefix(TUG_PACKAGE)
        .map(|r| r.split('@').next().unwrap_or(r))
    else {
        return Vec::new();
    };
    instance
        .exports(engine)
        .filter(|(_, e)| matches!(e.ty, ComponentItem::ComponentFunc(_)))
        .map(|(name, _)| {
            let bare = ["[method]", "[static]", "[constructor]"]
                .iter()
                .find_map(|p| name.strip_prefix(p))
                .unwrap_or(name);
            format!("{interface}.{bare}")
        })
        .collect()
}

/// Builds the report of a compiled plugin under a policy; `error` is the loader's, if it refused it.
pub fn analyze(
    plugin: &Path,
    component: &Component,
    engine: &wasmtime::Engine,
    policy: Policy,
    error: Option<String>,
) -> Report {
    let gate = Gate::new(Arc::new(policy), "check".into(), Vec::new());
    let policy = &gate.policy;
    let names: Vec<String> = component
        .component_type()
        .imports(engine)
        .map(|(n, _)| n.to_owned())
        .collect();
    // The linker stops at the first import it cannot provide: that one is named in its message, and
    // the others are not known to link (a plugin that is no WASI command linked all of them).
    let unlinked = error
        .as_deref()
        .filter(|e| e.contains("imports something tug does not provide"));
    let missing = unlinked.and_then(|e| names.iter().position(|n| e.contains(&format!("`{n}`"))));
    let mut imports = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let provided = match (unlinked, missing) {
            (None, _) => Provided::Yes,
            (Some(why), Some(at)) if at == i => Provided::No(why.to_owned()),
            (Some(_), _) => Provided::Unchecked,
        };
        let functions = function_names(component, engine, name)
            .into_iter()
            .map(|function| {
                let op = Function::named(&function).map(|f| f.op);
                let denial = op.and_then(|op| gate.allow(op).err()).map(|d| d.to_string());
                Reach { function, op, denial }
            })
            .collect();
        imports.push(Import {
            name: name.clone(),
            provided,
            functions,
        });
    }
    let mut by_area: BTreeMap<Area, AreaReach> = BTreeMap::new();
    for reach in imports.iter().flat_map(|i| &i.functions) {
        let Some(op) = reach.op else { continue };
        let entry = by_area.entry(op.area()).or_insert_with(|| AreaReach {
            area: op.area(),
            needs: Access::None,
            granted: policy.operations.get(op.area()),
            functions: Vec::new(),
            denied: Vec::new(),
        });
        entry.needs = entry.needs.max(op.access());
        entry.functions.push(reach.function.clone());
        if reach.denial.is_some() {
            entry.denied.push(reach.function.clone());
        }
    }
    let imported: BTreeSet<&str> = imports
        .iter()
        .flat_map(|i| i.functions.iter().map(|f| f.function.as_str()))
        .collect();
    let mut host = Vec::new();
    let mut resources: BTreeMap<Resource, Vec<String>> = BTreeMap::new();
    for i in imports.iter().filter(|i| i.is_wasi()) {
        resources
            .entry(Resource::of(&i.name))
            .or_default()
            .push(i.name.clone());
    }
    for (r, imports) in resources {
        let (granted, detail) = r.grant(policy);
        host.push(HostGrant {
            what: r.name().to_owned(),
            imports,
            granted,
            detail,
        });
    }
    if imported.contains("engines.open") {
        // Every engine the run is given is granted: by the command line (`--engine NAME=URL`,
        // `--context`) or the policy's `[engines]` table.
        let named: Vec<&str> = policy.engines.keys().map(String::as_str).collect();
        let detail = if named.is_empty() {
            "those `tug run` is given by --engine NAME=URL or --context (the policy's [engines] names none)"
                .to_owned()
        } else {
            format!(
                "those `tug run` is given by --engine NAME=URL or --context, and the policy's [engines]: {}",
                named.join(", ")
            )
        };
        let granted = true;
        host.push(HostGrant {
            what: "other engines".into(),
            imports: vec!["engines.open".into()],
            granted,
            detail,
        });
    }
    if imported.contains("registry.image.add-layer-dir") {
        let dirs = &policy.registry.layer_dirs;
        let (granted, detail) = if policy.unrestricted {
            (true, "any host directory (unrestricted)".to_owned())
        } else if dirs.is_empty() {
            (false, "none (policy registry.layer_dirs = [])".to_owned())
        } else {
            let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            (true, format!("below {}", shown.join(", ")))
        };
        host.push(HostGrant {
            what: "layer dirs".into(),
            imports: vec!["registry.image.add-layer-dir".into()],
            granted,
            detail,
        });
    }
    Report {
        plugin: plugin.to_owned(),
        policy: policy.name.clone(),
        imports,
        areas: by_area.into_values().collect(),
        host,
        error,
    }
}

impl Report {
    /// Whether the policy refuses some of what the plugin can reach in the Engine API.
    pub fn denies_something(&self) -> bool {
        self.areas.iter().any(|a| a.verdict() != Verdict::Granted)
    }

    fn missing(&self) -> Option<&Import> {
        self.imports
            .iter()
            .find(|i| matches!(i.provided, Provided::No(_)))
    }

    /// The one-line verdict.
    pub fn summary(&self) -> String {
        let n = self.imports.len();
        if let Some(missing) = self.missing() {
            return format!(
                "tug does not provide the import {} of plugin {}: `tug run` would refuse to start it",
                missing.name,
                self.plugin.display()
            );
        }
        if let Some(e) = &self.error {
            return e.clone();
        }
        let denied: Vec<String> = self
            .areas
            .iter()
            .filter(|a| a.verdict() != Verdict::Granted)
            .map(|a| format!("{} {}", a.area.key(), a.verdict().word()))
            .collect();
        if denied.is_empty() {
            format!(
                "tug provides all {n} imports; policy {} grants every Engine API area the plugin can reach",
                self.policy
            )
        } else {
            format!(
                "tug provides all {n} imports; policy {} does NOT grant all the plugin can reach ({}): \
                 those calls will be refused when it runs",
                self.policy,
                denied.join(", ")
            )
        }
    }

    /// The report as tables.
    pub fn text(&self) -> String {
        let mut out = format!(
            "plugin {}, policy {}\n{}\n",
            self.plugin.display(),
            self.policy,
            self.summary()
        );
        if !self.areas.is_empty() {
            out.push_str("\nEngine API areas it can reach (its tug:engine imports):\n");
            out.push_str(&format!(
                "  {:<13} {:<6} {:<8} {:<10} {}\n",
                "AREA", "NEEDS", "GRANTED", "VERDICT", "DENIED FUNCTIONS"
            ));
            for a in &self.areas {
                let denied = if a.denied.is_empty() {
                    "-".to_owned()
                } else {
                    a.denied.join(", ")
                };
                out.push_str(&format!(
                    "  {:<13} {:<6} {:<8} {:<10} {denied}\n",
                    a.area.key(),
                    access_word(a.needs),
                    access_word(a.granted),
                    a.verdict().word(),
                ));
            }
        }
        if !self.host.is_empty() {
            out.push_str(
                "\nHost resources it can reach (its WASI imports, and host grants of its functions):\n",
            );
            for h in &self.host {
                let what = if h.what == Resource::Unknown.name() {
                    format!("{} ({})", h.what, h.imports.join(", "))
                } else {
                    h.what.clone()
                };
                out.push_str(&format!("  {what:<13} {}\n", h.detail));
            }
        }
        if self.imports.is_empty() {
            out.push_str("\nImports: none\n");
        } else {
            out.push_str("\nImports:\n");
        }
        for i in &self.imports {
            out.push_str(&format!("  {:<44} {}\n", i.name, i.describe()));
        }
        out
    }

    /// The report as one JSON document.
    pub fn json(&self) -> Value {
        let imports: Vec<Value> = self
            .imports
            .iter()
            .map(|i| {
                let (provided, reason) = match &i.provided {
                    Provided::Yes => (json!(true), Value::Null),
                    Provided::No(why) => (json!(false), json!(why)),
                    Provided::Unchecked => (Value::Null, Value::Null),
                };
                let functions: Vec<Value> = i
                    .functions
                    .iter()
                    .map(|f| {
                        json!({
                            "function": f.function,
                            "operation": f.op.map(Op::id),
                            "area": f.op.map(|o| o.area().key()),
                            "access": f.op.map(|o| access_word(o.access())),
                            "granted": f.op.map(|_| f.denial.is_none()),
                            "denial": f.denial,
                        })
                    })
                    .collect();
                json!({
                    "name": i.name,
                    "provided": provided,
                    "reason": reason,
                    "functions": functions,
                })
            })
            .collect();
        let areas: Vec<Value> = self
            .areas
            .iter()
            .map(|a| {
                json!({
                    "area": a.area.key(),
                    "needs": access_word(a.needs),
                    "granted": access_word(a.granted),
                    "verdict": a.verdict().word(),
                    "functions": a.functions,
                    "denied": a.denied,
                })
            })
            .collect();
        let host: Vec<Value> = self
            .host
            .iter()
            .map(|h| {
                json!({
                    "resource": h.what,
                    "imports": h.imports,
                    "granted": h.granted,
                    "detail": h.detail,
                })
            })
            .collect();
        json!({
            "plugin": self.plugin.display().to_string(),
            "policy": self.policy,
            "provided": self.missing().is_none(),
            "runnable": self.error.is_none(),
            "error": self.error,
            "summary": self.summary(),
            "denies": self.denies_something(),
            "areas": areas,
            "host": host,
            "imports": imports,
        })
    }
}

impl Import {
    /// What the import gives the plugin, in a few words.
    fn describe(&self) -> String {
        match (&self.provided, self.tug_interface()) {
            (Provided::No(_), _) => "NOT PROVIDED by tug".to_owned(),
            (Provided::Unchecked, _) => "not checked (tug stops at the first import it lacks)".to_owned(),
            (Provided::Yes, Some(_)) => {
                let ops: Vec<Op> = self.functions.iter().filter_map(|f| f.op).collect();
                let mut areas: Vec<&str> = ops.iter().map(|o| o.area().key()).collect();
                areas.sort_unstable();
                areas.dedup();
                let handles = self.functions.len() - ops.len();
                let mut parts = Vec::new();
                let n = |n: usize| match n {
                    1 => "1 function".to_owned(),
                    n => format!("{n} functions"),
                };
                if !ops.is_empty() {
                    parts.push(format!("{} in {}", n(ops.len()), areas.join(", ")));
                }
                if handles > 0 {
                    parts.push(format!("{} with no policy area (handles, engines)", n(handles)));
                }
                if parts.is_empty() {
                    "types only".to_owned()
                } else {
                    parts.join("; ")
                }
            }
            (Provided::Yes, None) if self.is_wasi() => Resource::of(&self.name).name().to_owned(),
            (Provided::Yes, None) => "provided".to_owned(),
        }
    }
}

/// Writes a command's output to stdout; a reader that went away (`tug check … | head`) is not an
/// error of tug's.
pub(crate) fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// The component of a plugin file: from the compile cache `load` just filled, else compiled here.
fn component_of(host: &PluginHost, path: &Path) -> Option<Component> {
    let cache = host.cache();
    if let Some(c) = cache.and_then(|c| c.get_by_file(host.engine(), path)) {
        return Some(c);
    }
    let (bytes, _) = read_with_id(path).ok()?;
    let key = CompileCache::key(host.engine(), &bytes);
    if let Some(c) = cache.and_then(|c| c.get(host.engine(), &key)) {
        return Some(c);
    }
    Component::from_binary(host.engine(), &bytes).ok()
}

/// `tug check`: prints the report; exit code 0 when tug provides every import, else 125.
pub fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let policy = Policy::load(&args.policy).map_err(|e| anyhow::anyhow!("--policy: {e}"))?;
    let host = PluginHost::new()?;
    // The same decision, and the same message, as `tug run`'s.
    let loaded = host.load(&args.plugin).map(|_| ());
    let Some(component) = component_of(&host, &args.plugin) else {
        // Not a component at all (or no such file): the loader's message says which.
        loaded?;
        anyhow::bail!("plugin {}: cannot read its imports", args.plugin.display());
    };
    let error = loaded.err().map(|e| format!("{e:#}").replace('\n', " "));
    let report = analyze(&args.plugin, &component, host.engine(), policy, error);
    if args.json {
        emit(&format!("{}\n", serde_json::to_string_pretty(&report.json())?));
    } else {
        emit(&report.text());
    }
    Ok(match &report.error {
        None => ExitCode::SUCCESS,
        Some(e) => {
            eprintln!("tug: {e}");
            ExitCode::from(125)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(Verdict::of(Access::Write, Access::Write), Verdict::Granted);
        assert_eq!(Verdict::of(Access::Read, Access::Write), Verdict::Granted);
        assert_eq!(Verdict::of(Access::Write, Access::Read), Verdict::ReadOnly);
        assert_eq!(Verdict::of(Access::Write, Access::None), Verdict::Denied);
        assert_eq!(Verdict::of(Access::Read, Access::None), Verdict::Denied);
    }

    #[test]
    fn wasi_imports_map_to_resources() {
        assert_eq!(Resource::of("wasi:filesystem/preopens@0.2.6"), Resource::Files);
        assert_eq!(Resource::of("wasi:cli/environment@0.2.12"), Resource::Environment);
        assert_eq!(Resource::of("wasi:sockets/tcp@0.2.0"), Resource::Network);
        assert_eq!(Resource::of("wasi:http/types@0.2.0"), Resource::Unknown);
        let untrusted = Policy::profile("untrusted").unwrap();
        assert!(!Resource::Files.grant(&untrusted).0);
        assert!(!Resource::Network.grant(&untrusted).0);
        let mut p = untrusted.clone();
        p.env = vec!["HOME".into()];
        let (granted, text) = Resource::Environment.grant(&p);
        assert!(granted && text.contains("HOME"), "{text}");
    }

    /// Every function of the operation table is found by the name `tug check` derives from an import's
    /// export (`interface.function`, `interface.resource.method`).
    #[test]
    fn table_names_are_interface_dot_function() {
        for f in crate::policy::operations::FUNCTIONS {
            let (interface, rest) = f.name.split_once('.').unwrap();
            assert!(!interface.is_empty() && !rest.is_empty(), "{}", f.name);
            assert_eq!(
                Function::named(&format!("{interface}.{rest}")).map(|g| g.name),
                Some(f.name)
            );
        }
    }
}
