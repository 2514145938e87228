//! `tug build [SOURCE] -o PLUGIN.wasm`: turns a plain script, or a directory (a Rust crate, or a script
//! project as `tug new` makes them), into a tug plugin, with the guest toolchain of its language, tug's
//! WIT and that language's SDK (both carried in this binary); then precompiles the component into the
//! compile cache. A script build of unchanged inputs is a cache hit (`builds/KEY.wasm` in the compile
//! cache's directory), so the output is the same file as the first build's; a Rust build is cargo's, which
//! rebuilds what changed.
//!
//! - `.py`: componentize-py with the pinned packages the setup script installed (docker-py and its
//!   dependencies) and `--requirements` for more ([`python`]).
//! - `.js`, `.mjs`, `.ts`, `.mts`: esbuild (which strips TypeScript and bundles the script with what it
//!   imports, `dockerode` being tug's SDK) and componentize-js ([`js`]); TypeScript is type-checked
//!   first with the toolchain's `tsc`.
//! - a directory with a `Cargo.toml` (or that file): `cargo build --release --target wasm32-wasip2`
//!   ([`rust`]).
//!
//! A directory is built by the rule of [`detect`]: `Cargo.toml` → Rust; else `app.py`, `main.py` →
//! Python; else `package.json`'s `main`, or `index`, `app`, `main` with `.ts`, `.mts`, `.js`, `.mjs` →
//! JavaScript or TypeScript. Its plugin is `DIR.wasm` beside it (`NAME.wasm` inside it when DIR is `.`).
//!
//! The toolchains live in `$TUG_TOOLS_DIR`, else `$XDG_DATA_HOME/tug/tools`, else
//! `~/.local/share/tug/tools` (what `scripts/setup` fills). Every failure is one line that names the
//! source, and the file and line at fault when the toolchain says them.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::Instant,
};

use anyhow::{bail, Context};

use crate::host::{cache::CompileCache, PluginHost};

mod js;
mod python;
pub(crate) mod rust;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// `tug build …`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The plugin's source: a Python script (`.py`), or a JavaScript (`.js`, `.mjs`) or TypeScript
    /// (`.ts`, `.mts`) module, whose top-level code runs at `tug run` time; or a directory: a Rust crate
    /// (`Cargo.toml`), or one holding `app.py`/`main.py`, or `package.json`'s `main`, `index.js`,
    /// `app.js`… (as `tug new` makes them).
    #[arg(default_value = ".")]
    pub source: PathBuf,
    /// The component to write (default: the source with `.wasm`; for a directory `DIR.wasm` beside it,
    /// or `NAME.wasm` inside it when DIR is `.`).
    #[arg(short, long, value_name = "PLUGIN.wasm")]
    pub output: Option<PathBuf>,
    /// Python only: a pip requirements file of extra pure-Python packages to bundle.
    #[arg(long, value_name = "FILE")]
    pub requirements: Option<PathBuf>,
    /// Build even if an identical build is cached (scripts; a Rust build is cargo's, which rebuilds what
    /// changed).
    #[arg(long)]
    pub no_cache: bool,
    /// TypeScript only: skip the type check (`tsc --noEmit`, strict, against the SDK's declarations).
    #[arg(long)]
    pub no_typecheck: bool,
}

/// Where the guest toolchains are.
pub fn tools_dir() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("TUG_TOOLS_DIR")
        .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("tug").join("tools")))
        .or_else(|| var("HOME").map(|d| d.join(".local/share/tug/tools")))
}

/// The tools directory as an absolute path (the tools run from build directories of their own).
fn tools() -> anyhow::Result<PathBuf> {
    let tools = tools_dir().context("no tools directory: set TUG_TOOLS_DIR, XDG_DATA_HOME or HOME")?;
    std::path::absolute(&tools).with_context(|| format!("tools directory {}", tools.display()))
}

/// A build whose inputs are read and hashed: `key` names it in the build cache, `make` produces the
/// component (a temporary file, removed when dropped).
struct Prepared {
    key: String,
    make: Box<dyn FnOnce() -> anyhow::Result<tempfile::TempPath>>,
}

/// What a directory (or a `Cargo.toml`) holds to build.
enum Found {
    /// A script: built as if named on the command line.
    Script(PathBuf),
    /// A Rust crate: its directory.
    Crate(PathBuf),
}

/// Which plugin a directory holds (the rule of the module documentation): a Rust crate, else a Python
/// script, else a JavaScript or TypeScript module; a directory with both a Python and a JavaScript entry
/// is ambiguous.
fn detect(dir: &Path) -> anyhow::Result<Found> {
    let shown = dir.display();
    if dir.join("Cargo.toml").is_file() {
        return Ok(Found::Crate(dir.to_owned()));
    }
    let python = ["app.py", "main.py"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file());
    let package = dir.join("package.json");
    let main = if package.is_file() {
        let text = std::fs::read_to_string(&package)
            .with_context(|| format!("build {shown}: reading {}", package.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("build {shown}: {} is not JSON", package.display()))?;
        match json.get("main") {
            Some(serde_json::Value::String(main)) => {
                let path = dir.join(main);
                if !path.is_file() {
                    bail!(
                        "build {shown}: {} says \"main\": {main:?}, which is not a file",
                        package.display()
                    );
                }
                Some(path)
            }
            _ => None,
        }
    } else {
        None
    };
    let js = main.or_else(|| {
        ["index", "app", "main"]
            .iter()
            .flat_map(|stem| ["ts", "mts", "js", "mjs"].map(|ext| dir.join(format!("{stem}.{ext}"))))
            .find(|p| p.is_file())
    });
    match (python, js) {
        (Some(py), Some(js)) => bail!(
            "build {shown}: both {} and {} could be the plugin; name the one to build (tug build {})",
            py.display(),
            js.display(),
            py.display()
        ),
        (Some(script), None) | (None, Some(script)) => Ok(Found::Script(script)),
        (None, None) => bail!(
            "build {shown}: no plugin here: a Rust crate has a Cargo.toml, a Python one an app.py or \
             main.py, a JavaScript one a package.json \"main\" or an index.js, app.js, main.js (or .ts, \
             .mts, .mjs); `tug new` makes one"
        ),
    }
}

/// The plugin a directory makes by default: `DIR.wasm` beside it, or `NAME.wasm` inside it when it is
/// named without a name of its own (`.`, `..`).
fn default_output(dir: &Path) -> anyhow::Result<PathBuf> {
    let ends_in_name = matches!(
        dir.components().next_back(),
        Some(std::path::Component::Normal(_))
    );
    if ends_in_name {
        let name = dir.file_name().expect("a normal last component");
        return Ok(dir.with_file_name(format!("{}.wasm", name.to_string_lossy())));
    }
    let real = std::fs::canonicalize(dir).with_context(|| format!("build {}", dir.display()))?;
    match real.file_name() {
        Some(name) => Ok(dir.join(format!("{}.wasm", name.to_string_lossy()))),
        None => bail!("build {}: name the plugin to write with -o", dir.display()),
    }
}

/// Builds the plugin; see the module documentation.
pub fn build(mut args: BuildArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let given = args.source.clone();
    let named_manifest = given.file_name().is_some_and(|n| n == "Cargo.toml") && given.is_file();
    if given.is_dir() || named_manifest {
        let dir = if named_manifest {
            match given.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
                _ => PathBuf::from("."),
            }
        } else {
            given.clone()
        };
        let found = detect(&dir)?;
        if args.output.is_none() {
            args.output = Some(default_output(&dir)?);
        }
        match found {
            Found::Script(script) => args.source = script,
            Found::Crate(dir) => {
                if let Some(r) = &args.requirements {
                    bail!(
                        "build {}: --requirements {} is for Python scripts; a Rust crate's dependencies \
                         are in its Cargo.toml",
                        given.display(),
                        r.display()
                    );
                }
                let output = args.output.clone().expect("set above");
                let built = rust::build(&dir, &dir.display().to_string())?;
                copy_into_place(&built, &output)?;
                return finish(&output, started, false);
            }
        }
    }
    let source = &args.source;
    let shown = source.display();
    let ext = source
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prepared = match ext.as_str() {
        "py" => python::prepare(&args)?,
        "js" | "mjs" | "ts" | "mts" => {
            if let Some(r) = &args.requirements {
                bail!(
                    "build {shown}: --requirements {} is for Python scripts; a JavaScript plugin \
                     imports its npm packages from a node_modules directory beside it",
                    r.display()
                );
            }
            js::prepare(&args)?
        }
        _ => bail!(
            "build {shown}: not a Python (.py), JavaScript (.js, .mjs) or TypeScript (.ts, .mts) \
             source, nor a directory (a Rust crate's, or one `tug new` made)"
        ),
    };
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| source.with_extension("wasm"));
    let cached = CompileCache::default_dir().map(|d| d.join("builds").join(format!("{}.wasm", prepared.key)));
    let hit = !args.no_cache && cached.as_ref().is_some_and(|c| c.is_file());
    if hit {
        let c = cached.as_ref().expect("checked");
        copy_into_place(c, &output)?;
    } else {
        let built = (prepared.make)()?;
        if let Some(c) = &cached {
            if let Some(parent) = c.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let _ = copy_into_place(&built, c);
        }
        copy_into_place(&built, &output)?;
    }
    finish(&output, started, hit)
}

/// Precompiles the plugin written at `output` and says so; `hit` when the build cache answered.
fn finish(output: &Path, started: Instant, hit: bool) -> anyhow::Result<ExitCode> {
    // Precompiled, so the first `tug run` maps native code instead of compiling (the build stands if not).
    let precompiled = PluginHost::new().and_then(|host| match host.cache() {
        Some(_) => host.compile(output).map(|_| ()),
        None => Ok(()),
    });
    if let Err(e) = precompiled {
        eprintln!(
            "tug: warning: {} was built but not precompiled: {e:#}",
            output.display()
        );
    }
    let size = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "tug: built {} ({:.1} MB) in {:.1} s{}",
        output.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        if hit { " (cached build)" } else { "" }
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `to` from `from` through a temporary file in `to`'s directory: never half a file.
fn copy_into_place(from: &Path, to: &Path) -> anyhow::Result<()> {
    let dir = match to.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let tmp =
        tempfile::NamedTempFile::new_in(&dir).with_context(|| format!("writing into {}", dir.display()))?;
    std::fs::copy(from, tmp.path()).with_context(|| format!("writing {}", to.display()))?;
    tmp.persist(to)
        .map_err(|e| anyhow::anyhow!("writing {}: {}", to.display(), e.error))?;
    Ok(())
}

/// Writes the embedded files whose repository path starts with one of `prefixes` under `dir`.
fn write_embedded(dir: &Path, prefixes: &[&str]) -> anyhow::Result<()> {
    for (path, text) in embedded::EMBEDDED {
        if !prefixes.iter().any(|p| path.starts_with(p)) {
            continue;
        }
        let dest = dir.join(path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&dest, text)?;
    }
    Ok(())
}

/// The embedded files under `prefixes`, as (path, contents), for hashing.
fn embedded_under<'a>(prefixes: &'a [&str]) -> impl Iterator<Item = (&'static str, &'static str)> + 'a {
    embedded::EMBEDDED
        .iter()
        .copied()
        .filter(move |(path, _)| prefixes.iter().any(|p| path.starts_with(p)))
}

/// The last line of a tool's error output worth showing (its own summary, or the exception).
fn last_words(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    // componentize-py prints the snapshot's traceback; the exception line is what names the cause.
    lines
        .iter()
        .rev()
        .find(|l| l.contains("Error:") || l.contains("error:"))
        .or(lines.last())
        .map(|l| l.to_string())
        .unwrap_or_else(|| "no message".to_owned())
}
