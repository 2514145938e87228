//! `tug build SOURCE -o PLUGIN.wasm`: turns a plain script into a tug plugin, with the guest toolchain of
//! its language, tug's WIT and that language's SDK (both carried in this binary); then precompiles the
//! component into the compile cache. A build of unchanged inputs is a cache hit (`builds/KEY.wasm` in the
//! compile cache's directory), so the output is the same file as the first build's.
//!
//! - `.py`: componentize-py with the pinned packages the setup script installed (docker-py and its
//!   dependencies) and `--requirements` for more ([`python`]).
//! - `.js`, `.mjs`, `.ts`, `.mts`: esbuild (which strips TypeScript and bundles the script with what it
//!   imports, `dockerode` being tug's SDK) and componentize-js ([`js`]); TypeScript is type-checked
//!   first with the toolchain's `tsc`.
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

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// `tug build …`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The plugin's source: a Python script (`.py`), or a JavaScript (`.js`, `.mjs`) or TypeScript
    /// (`.ts`, `.mts`) module; its top-level code runs at `tug run` time.
    pub source: PathBuf,
    /// The component to write (default: the source with `.wasm`).
    #[arg(short, long, value_name = "PLUGIN.wasm")]
    pub output: Option<PathBuf>,
    /// Python only: a pip requirements file of extra pure-Python packages to bundle.
    #[arg(long, value_name = "FILE")]
    pub requirements: Option<PathBuf>,
    /// Build even if an identical build is cached.
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

/// Builds the plugin; see the module documentation.
pub fn build(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let source = &args.source;
    let shown = source.display();
    let ext = source
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    let started = Instant::now();
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
             source; Rust plugins build with cargo --target wasm32-wasip2"
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
    // Precompiled, so the first `tug run` maps native code instead of compiling (the build stands if not).
    let precompiled = PluginHost::new().and_then(|host| match host.cache() {
        Some(_) => host.compile(&output).map(|_| ()),
        None => Ok(()),
    });
    if let Err(e) = precompiled {
        eprintln!(
            "tug: warning: {} was built but not precompiled: {e:#}",
            output.display()
        );
    }
    let size = std::fs::metadata(&output).map(|m| m.len()).unwrap_or(0);
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
