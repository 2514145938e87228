//! Rust: `cargo build --release --target wasm32-wasip2` in the crate's directory, cargo's messages passed
//! through, the package's one binary taken from cargo's own account of what it built.
//!
//! Intermediate artifacts go to a build directory shared by every crate `tug build` builds
//! (`rust-build/` in the compile cache's directory, through cargo's `build.build-dir`, unless
//! `CARGO_BUILD_BUILD_DIR` says otherwise), so the SDK and its dependencies are compiled once per machine
//! rather than once per plugin; the final `.wasm` stays in the crate's own target directory.
//!
//! The Rust SDK (`sdk/rust`) and the WIT it binds (`wit/`) are carried in this binary and written out once
//! per content to `rust-sdk/HASH/` in the compile cache's directory, with a standalone `Cargo.toml`
//! (the workspace's settings resolved): the crates `tug new` makes depend on it by path, and
//! [`lockfile`] pins their dependencies at the versions tug's own workspace was built with.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{BufRead, BufReader, IsTerminal, Write as _},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};
use toml::{Table, Value};

use super::{embedded, embedded_under, write_embedded};

/// The embedded files the SDK directory holds, besides its generated manifest.
const EMBEDDED: &[&str] = &["wit/", "sdk/rust/src/"];

/// The target a plugin is built for.
const TARGET: &str = "wasm32-wasip2";

/// The SDK's package name.
pub(crate) const SDK_PACKAGE: &str = "tug-sdk";

/// One embedded file's contents.
fn embedded_file(path: &str) -> anyhow::Result<&'static str> {
    embedded::EMBEDDED
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
        .with_context(|| format!("{path} is not embedded in this tug"))
}

/// Builds the crate in `dir` and returns the path of its binary's `.wasm` (in the crate's target
/// directory). `shown` is how messages name the directory.
pub(super) fn build(dir: &Path, shown: &str) -> anyhow::Result<PathBuf> {
    let manifest = dir.join("Cargo.toml");
    ensure_sdk(&manifest, shown)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    check_target(dir, shown)?;
    let terminal = std::io::stderr().is_terminal();
    let mut command = Command::new(&cargo);
    command
        .current_dir(dir)
        .args(["build", "--release", "--target", TARGET])
        .arg(if terminal {
            "--message-format=json-diagnostic-rendered-ansi"
        } else {
            "--message-format=json"
        })
        .arg(if terminal {
            "--color=always"
        } else {
            "--color=never"
        })
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if std::env::var_os("CARGO_BUILD_BUILD_DIR").is_none() {
        if let Some(cache) = crate::host::cache::CompileCache::default_dir() {
            command.env("CARGO_BUILD_BUILD_DIR", cache.join("rust-build"));
        }
    }
    let mut child = command.spawn().with_context(|| {
        format!(
            "build {shown}: cannot run {} (install Rust with rustup)",
            Path::new(&cargo).display()
        )
    })?;
    // cargo's own lines (`Compiling …`, `error: unclosed array` and its `--> Cargo.toml:14:10`) pass
    // through as they come; the last error among them, with its place, is kept for the summary.
    let stderr = child.stderr.take().expect("piped");
    let relay = std::thread::spawn(move || {
        let mut last_error: Option<(String, Option<String>)> = None;
        let mut out = std::io::stderr();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(out, "{line}");
            let plain = strip_ansi(&line);
            if plain.starts_with("error") {
                let text = plain.trim_start_matches("error: ").to_owned();
                last_error = Some((text, None));
            } else if let (Some((_, place @ None)), Some(at)) =
                (&mut last_error, plain.trim_start().strip_prefix("--> "))
            {
                *place = Some(at.trim().to_owned());
            }
        }
        last_error
    });
    let canonical_manifest = std::fs::canonicalize(&manifest).unwrap_or(manifest.clone());
    let mut messages = Messages::default();
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let Ok(line) = line else { break };
        messages.read(&line, &canonical_manifest, dir, shown);
    }
    let status = child.wait().context("waiting for cargo")?;
    let last_error = relay.join().unwrap_or(None);
    if !status.success() {
        let why = messages
            .first_error
            .map(|e| match messages.errors {
                0 | 1 => e,
                2 => format!("{e} (and 1 more error)"),
                n => format!("{e} (and {} more errors)", n - 1),
            })
            .or(last_error.map(|(text, place)| match place {
                // Relative to the crate's directory (where cargo runs): named from here.
                Some(at) if Path::new(&at).is_relative() => {
                    format!("{}: {text}", Path::new(shown).join(at).display())
                }
                Some(at) => format!("{at}: {text}"),
                None => text,
            }))
            .unwrap_or_else(|| status.to_string());
        bail!("build {shown}: cargo build --release --target {TARGET} failed: {why}");
    }
    match messages.binaries.len() {
        1 => Ok(messages.binaries.pop_first().expect("one").1),
        0 => bail!(
            "build {shown}: cargo built no binary of {} (a plugin is a package with a `fn main()` in \
             src/main.rs; a workspace's root is not one)",
            manifest.display()
        ),
        _ => bail!(
            "build {shown}: {} has several binaries ({}); tug build builds a package with one",
            manifest.display(),
            messages.binaries.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    }
}

/// What cargo's JSON messages said: the package's binaries, and its first error.
#[derive(Default)]
struct Messages {
    binaries: BTreeMap<String, PathBuf>,
    first_error: Option<String>,
    errors: usize,
}

impl Messages {
    /// Reads one line of cargo's standard output: prints the compiler's diagnostics as cargo would, keeps
    /// the first error (`FILE:LINE:COL: message`, the file as seen from where tug runs) and the binaries
    /// built from `manifest`.
    fn read(&mut self, line: &str, manifest: &Path, dir: &Path, shown: &str) {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            // Not a message: cargo would have shown it.
            eprintln!("{line}");
            return;
        };
        match message["reason"].as_str() {
            Some("compiler-message") => {
                let diagnostic = &message["message"];
                if let Some(rendered) = diagnostic["rendered"].as_str() {
                    eprint!("{rendered}");
                }
                if diagnostic["level"].as_str() != Some("error") {
                    return;
                }
                self.errors += 1;
                if self.first_error.is_some() {
                    return;
                }
                let text = diagnostic["message"].as_str().unwrap_or("an error");
                let code = diagnostic["code"]["code"]
                    .as_str()
                    .map(|c| format!("[{c}]"))
                    .unwrap_or_default();
                let primary = diagnostic["spans"]
                    .as_array()
                    .and_then(|spans| spans.iter().find(|s| s["is_primary"].as_bool() == Some(true)));
                let place = primary.map(|span| {
                    let file = span["file_name"].as_str().unwrap_or("?");
                    // Relative to the package's directory (cargo runs rustc there): name it from here.
                    let file = if Path::new(file).is_relative() && dir.join(file).exists() {
                        Path::new(shown).join(file).display().to_string()
                    } else {
                        file.to_owned()
                    };
                    format!("{file}:{}:{}: ", span["line_start"], span["column_start"])
                });
                self.first_error = Some(format!("{}error{code}: {text}", place.unwrap_or_default()));
            }
            Some("compiler-artifact") => {
                let ours = message["manifest_path"]
                    .as_str()
                    .is_some_and(|m| Path::new(m) == manifest);
                let bin = message["target"]["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "bin"));
                if let (true, true, Some(exe)) = (ours, bin, message["executable"].as_str()) {
                    let name = message["target"]["name"].as_str().unwrap_or("?").to_owned();
                    self.binaries.insert(name, PathBuf::from(exe));
                }
            }
            _ => {}
        }
    }
}

/// `line` without its terminal colour codes.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters… final byte in @–~.
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Stops early, with the fix, when the toolchain that would build `dir` lacks the wasm32-wasip2 target
/// (cargo's own error is a screen of `can't find crate for std`).
fn check_target(dir: &Path, shown: &str) -> anyhow::Result<()> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = Command::new(&rustc)
        .current_dir(dir)
        .args(["--print", "sysroot"])
        .output()
    else {
        // No rustc to ask: cargo says what is missing.
        return Ok(());
    };
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if out.status.success() && !sysroot.join("lib/rustlib").join(TARGET).is_dir() {
        bail!(
            "build {shown}: the Rust target {TARGET} is not installed in {}: run `rustup target add \
             {TARGET}` (or scripts/setup)",
            sysroot.display()
        );
    }
    Ok(())
}

/// When the crate's `tug-sdk` dependency is a path that does not exist: writes this tug's SDK there if it
/// is this tug's SDK directory (a cleared cache), else says how to point it at this tug's.
fn ensure_sdk(manifest: &Path, shown: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("build {shown}: reading {}", manifest.display()))?;
    let Ok(table) = text.parse::<Table>() else {
        // cargo reports a manifest it cannot parse, with the line.
        return Ok(());
    };
    let Some(path) = table
        .get("dependencies")
        .and_then(|d| d.get(SDK_PACKAGE))
        .and_then(|d| d.get("path"))
        .and_then(Value::as_str)
    else {
        return Ok(());
    };
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let path = dir.join(path);
    if path.is_dir() {
        return Ok(());
    }
    let Some(root) = sdk_root() else {
        return Ok(());
    };
    if std::path::absolute(&path).ok().as_deref() == Some(root.join("sdk/rust").as_path()) {
        sdk_dir()?;
        return Ok(());
    }
    bail!(
        "build {shown}: {}: the {SDK_PACKAGE} path {} does not exist (another tug's SDK, or a cleared \
         cache); point it at this tug's, {}",
        manifest.display(),
        path.display(),
        root.join("sdk/rust").display()
    )
}

/// The content hash of the SDK directory: its embedded files and its generated manifest.
fn sdk_hash(manifest: &str) -> String {
    let mut h = Sha256::new();
    let mut part = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part(b"tug rust-sdk 1");
    part(manifest.as_bytes());
    for (path, text) in embedded_under(EMBEDDED) {
        part(path.as_bytes());
        part(text.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Where this tug's SDK directory is (`rust-sdk/HASH` in the compile cache's directory), written or not;
/// `None` without a cache directory.
fn sdk_root() -> Option<PathBuf> {
    let manifest = sdk_manifest().ok()?;
    let cache = crate::host::cache::CompileCache::default_dir()?;
    let root = std::path::absolute(cache.join("rust-sdk")).ok()?;
    Some(root.join(&sdk_hash(&manifest)[..16]))
}

/// The SDK written out (once per content: a directory that is complete when it exists, written aside and
/// renamed): the path of its package, `rust-sdk/HASH/sdk/rust`, for a crate's `Cargo.toml`.
pub(crate) fn sdk_dir() -> anyhow::Result<PathBuf> {
    let manifest = sdk_manifest()?;
    let dir = sdk_root()
        .context("no cache directory for the Rust SDK: set TUG_CACHE_DIR (or XDG_CACHE_HOME, or HOME)")?;
    let package = dir.join("sdk/rust");
    if dir.is_dir() {
        return Ok(package);
    }
    let root = dir.parent().expect("rust-sdk/HASH");
    std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
    let aside = tempfile::tempdir_in(root).with_context(|| format!("writing into {}", root.display()))?;
    write_embedded(aside.path(), EMBEDDED).with_context(|| format!("writing into {}", root.display()))?;
    std::fs::write(aside.path().join("sdk/rust/Cargo.toml"), &manifest)
        .with_context(|| format!("writing into {}", root.display()))?;
    match std::fs::rename(aside.path(), &dir) {
        Ok(()) => {
            // Renamed: nothing left for the guard to remove.
            let _ = aside.keep();
        }
        // Another tug put the same content there first.
        Err(_) if dir.is_dir() => {}
        Err(e) => return Err(e).with_context(|| format!("writing {}", dir.display())),
    }
    Ok(package)
}

/// The SDK's `Cargo.toml` on its own: what it takes from the workspace (`edition.workspace = true`,
/// `serde.workspace = true`) written out, its dev-dependencies (tests and fixtures, not carried) left out.
fn sdk_manifest() -> anyhow::Result<String> {
    let member: Table = embedded_file("sdk/rust/Cargo.toml")?
        .parse()
        .context("the embedded sdk/rust/Cargo.toml")?;
    let workspace: Table = embedded_file("Cargo.toml")?
        .parse()
        .context("the embedded workspace Cargo.toml")?;
    let shared = workspace.get("workspace").and_then(Value::as_table);
    let shared_package = shared.and_then(|w| w.get("package")).and_then(Value::as_table);
    let shared_deps = shared
        .and_then(|w| w.get("dependencies"))
        .and_then(Value::as_table);
    let mut out = String::from(
        "# Written by tug from the copy of its Rust SDK (sdk/rust in tug's repository) that it carries.\n",
    );
    // `[package]` first, its name and version first, as people write manifests.
    let mut sections: Vec<(&String, &Value)> = member.iter().collect();
    sections.sort_by_key(|(s, _)| ["package", "lib"].iter().position(|p| p == s).unwrap_or(2));
    for (section, value) in sections {
        let Some(table) = value.as_table() else {
            bail!("the embedded sdk/rust/Cargo.toml: `{section}` is not a table");
        };
        let mut resolved = Table::new();
        match section.as_str() {
            "dev-dependencies" => continue,
            "package" => {
                for (key, value) in table {
                    let value = if inherits(value) {
                        shared_package
                            .and_then(|p| p.get(key))
                            .cloned()
                            .with_context(|| format!("the workspace has no package.{key} for tug-sdk"))?
                    } else {
                        value.clone()
                    };
                    resolved.insert(key.clone(), value);
                }
                resolved.insert("publish".into(), Value::Boolean(false));
            }
            "dependencies" | "build-dependencies" => {
                for (name, dep) in table {
                    let dep = if inherits(dep) {
                        let base = shared_deps
                            .and_then(|d| d.get(name))
                            .with_context(|| format!("the workspace has no dependency {name} for tug-sdk"))?;
                        inherit_dependency(base, dep)
                    } else {
                        dep.clone()
                    };
                    resolved.insert(name.clone(), dep);
                }
            }
            _ => resolved = table.clone(),
        }
        out.push_str(&format!("\n[{section}]\n"));
        let mut keys: Vec<(&String, &Value)> = resolved.iter().collect();
        keys.sort_by_key(|(k, _)| ["name", "version"].iter().position(|p| p == k).unwrap_or(2));
        for (key, value) in keys {
            out.push_str(&format!("{} = {}\n", toml_key(key), toml_value(value)));
        }
    }
    Ok(out)
}

/// `x.workspace = true`.
fn inherits(value: &Value) -> bool {
    value.get("workspace").and_then(Value::as_bool) == Some(true)
}

/// A member's `{ workspace = true, features = […], optional = … }` over the workspace's entry: the
/// features added to the workspace's, the rest the member's.
fn inherit_dependency(base: &Value, member: &Value) -> Value {
    let mut dep = match base {
        Value::String(version) => {
            let mut t = Table::new();
            t.insert("version".into(), Value::String(version.clone()));
            t
        }
        Value::Table(t) => t.clone(),
        other => return other.clone(),
    };
    if let Some(member) = member.as_table() {
        for (key, value) in member {
            match key.as_str() {
                "workspace" => {}
                "features" => {
                    let mut features: Vec<Value> = dep
                        .get("features")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    for f in value.as_array().into_iter().flatten() {
                        if !features.contains(f) {
                            features.push(f.clone());
                        }
                    }
                    dep.insert("features".into(), Value::Array(features));
                }
                _ => {
                    dep.insert(key.clone(), value.clone());
                }
            }
        }
    }
    if dep.len() == 1 {
        if let Some(Value::String(version)) = dep.get("version") {
            return Value::String(version.clone());
        }
    }
    Value::Table(dep)
}

/// A key as TOML writes it: bare when it can be.
fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        key.to_owned()
    } else {
        toml_string(key)
    }
}

/// A string as a TOML basic string (JSON's escapes are TOML's).
pub(crate) fn toml_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string")
}

/// A value on one line: tables inline.
fn toml_value(value: &Value) -> String {
    match value {
        Value::String(s) => toml_string(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(toml_value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Table(t) => {
            let items: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{} = {}", toml_key(k), toml_value(v)))
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// One `[[package]]` entry of the workspace's lockfile: its name, version, what it depends on (as the
/// lockfile names them), and its text as it is there.
struct Locked {
    name: String,
    version: String,
    dependencies: Vec<String>,
    text: String,
}

/// The entries of the embedded workspace lockfile, and its header (`version = 4`).
fn workspace_lock() -> anyhow::Result<(String, Vec<Locked>)> {
    let text = embedded_file("Cargo.lock")?;
    let mut blocks = text.split("\n[[package]]\n");
    let header = blocks.next().unwrap_or_default().trim_end().to_owned();
    let mut entries = Vec::new();
    for block in blocks {
        let table: Table = block.parse().context("the embedded Cargo.lock")?;
        let field = |k: &str| {
            table
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        entries.push(Locked {
            name: field("name"),
            version: field("version"),
            dependencies: table
                .get("dependencies")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str().map(str::to_owned))
                .collect(),
            text: block.trim_end().to_owned(),
        });
    }
    Ok((header, entries))
}

/// The index of the entry a lockfile dependency (`serde`, `syn 2.0.1`, `syn 2.0.1 (registry+…)`) names.
fn find(entries: &[Locked], dependency: &str) -> Option<usize> {
    let mut words = dependency.split(' ');
    let name = words.next()?;
    let version = words.next();
    // An unqualified name is unique in a lockfile.
    entries
        .iter()
        .position(|e| e.name == name && version.is_none_or(|v| v == e.version))
}

/// The SDK's entry and everything it depends on, transitively, in the workspace's lockfile.
fn sdk_closure(entries: &[Locked]) -> anyhow::Result<BTreeSet<usize>> {
    let start = entries
        .iter()
        .position(|e| e.name == SDK_PACKAGE)
        .context("the embedded Cargo.lock has no tug-sdk")?;
    let mut seen = BTreeSet::from([start]);
    let mut todo = vec![start];
    while let Some(i) = todo.pop() {
        for dep in &entries[i].dependencies {
            let j = find(entries, dep).with_context(|| {
                format!(
                    "the embedded Cargo.lock: {} depends on {dep}, not listed",
                    entries[i].name
                )
            })?;
            if seen.insert(j) {
                todo.push(j);
            }
        }
    }
    Ok(seen)
}

/// The names of the packages a crate that depends on the SDK has in its lockfile (a crate of the same
/// name would make the lockfile ambiguous).
pub(crate) fn sdk_crates() -> anyhow::Result<BTreeSet<String>> {
    let (_, entries) = workspace_lock()?;
    Ok(sdk_closure(&entries)?
        .into_iter()
        .map(|i| entries[i].name.clone())
        .collect())
}

/// `Cargo.lock` for a new crate `package` (version 0.1.0) that depends on the SDK alone: the SDK and its
/// dependencies at the versions of tug's own lockfile, so cargo resolves to crates the machine that
/// built tug already has.
pub(crate) fn lockfile(package: &str) -> anyhow::Result<String> {
    let (header, entries) = workspace_lock()?;
    let keep = sdk_closure(&entries)?;
    let own = format!(
        "name = {}\nversion = \"0.1.0\"\ndependencies = [\n {},\n]",
        toml_string(package),
        toml_string(SDK_PACKAGE)
    );
    let mut blocks: Vec<(&str, &str)> = keep
        .iter()
        .map(|&i| (entries[i].name.as_str(), entries[i].text.as_str()))
        .collect();
    blocks.push((package, &own));
    // Cargo's order: by name (then version, as the workspace's lockfile already has them).
    blocks.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = format!("{header}\n");
    for (_, text) in blocks {
        out.push_str("\n[[package]]\n");
        out.push_str(text);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_manifest_stands_alone() {
        let manifest = sdk_manifest().unwrap();
        let table: Table = manifest.parse().unwrap();
        assert_eq!(table["package"]["name"].as_str(), Some("tug-sdk"));
        assert!(table["package"]["edition"].as_str().is_some(), "{manifest}");
        assert!(!manifest.contains("workspace"), "{manifest}");
        assert!(table.get("dev-dependencies").is_none());
        let deps = table["dependencies"].as_table().unwrap();
        assert!(deps.contains_key("wit-bindgen"), "{manifest}");
        // serde's `derive`, from the workspace's entry.
        let features = deps["serde"]["features"].as_array().unwrap();
        assert!(
            features.iter().any(|f| f.as_str() == Some("derive")),
            "{manifest}"
        );
    }

    #[test]
    fn a_new_crate_s_lockfile_pins_the_sdk_s_dependencies() {
        let lock = lockfile("demo").unwrap();
        let table: Table = lock.parse().unwrap();
        let packages = table["package"].as_array().unwrap();
        let names: Vec<&str> = packages.iter().map(|p| p["name"].as_str().unwrap()).collect();
        for name in ["demo", "tug-sdk", "wit-bindgen", "serde", "tar"] {
            assert!(names.contains(&name), "{name} missing: {names:?}");
        }
        // Nothing of tug's own runtime.
        for name in ["tug", "wasmtime", "hyper"] {
            assert!(!names.contains(&name), "{name} pinned: {names:?}");
        }
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert!(sdk_crates().unwrap().contains("serde_json"));
    }

    #[test]
    fn errors_lose_their_colours() {
        assert_eq!(
            strip_ansi("\u{1b}[1m\u{1b}[91merror\u{1b}[0m: could not compile"),
            "error: could not compile"
        );
    }
}
