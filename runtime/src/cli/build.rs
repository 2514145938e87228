//! `tug build SCRIPT.py -o PLUGIN.wasm`: turns a plain Python script into a tug plugin with
//! componentize-py, tug's WIT and the Python SDK (both carried in this binary), the pinned packages the
//! setup script installed (docker-py and its dependencies), and `--requirements` for more; then
//! precompiles the component into the compile cache. A build of unchanged inputs is a cache hit.
//!
//! The toolchain lives in `$TUG_TOOLS_DIR`, else `$XDG_DATA_HOME/tug/tools`, else
//! `~/.local/share/tug/tools` (what `scripts/setup` fills): `componentize-py/` (the package, pinned by
//! `sdk/python/toolchain.txt`) and `python-site/` (pure-Python wheels, pinned by
//! `sdk/python/requirements.txt`). The host's `python3` (or `$TUG_PYTHON`) runs componentize-py.

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode},
    time::Instant,
};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

use crate::host::{cache::CompileCache, PluginHost};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// `tug build …`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The plugin's source: a Python script (`.py`) whose top-level statements run at `tug run` time.
    pub source: PathBuf,
    /// The component to write (default: the source with `.wasm`).
    #[arg(short, long, value_name = "PLUGIN.wasm")]
    pub output: Option<PathBuf>,
    /// A pip requirements file of extra pure-Python packages to bundle.
    #[arg(long, value_name = "FILE")]
    pub requirements: Option<PathBuf>,
    /// Build even if an identical build is cached.
    #[arg(long)]
    pub no_cache: bool,
}

/// Where the guest toolchains are.
pub fn tools_dir() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("TUG_TOOLS_DIR")
        .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("tug").join("tools")))
        .or_else(|| var("HOME").map(|d| d.join(".local/share/tug/tools")))
}

/// Builds the plugin; see the module documentation.
pub fn build(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let source = &args.source;
    let shown = source.display();
    if source.extension().is_none_or(|e| e != "py") {
        bail!(
            "build {shown}: not a Python script (.py); Rust plugins build with cargo --target wasm32-wasip2"
        );
    }
    // Read once: what is hashed is what is built.
    let script = std::fs::read_to_string(source).with_context(|| format!("build {shown}"))?;
    let file_name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "script.py".to_owned());
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| source.with_extension("wasm"));
    let tools = tools_dir().context("no tools directory: set TUG_TOOLS_DIR, XDG_DATA_HOME or HOME")?;
    // Absolute: the tools are used from a build directory of their own.
    let tools =
        std::path::absolute(&tools).with_context(|| format!("tools directory {}", tools.display()))?;
    let componentize = tools.join("componentize-py");
    let site = tools.join("python-site");
    for (dir, what) in [
        (&componentize, "componentize-py"),
        (&site, "the pinned Python packages"),
    ] {
        if !dir.is_dir() {
            bail!(
                "build {shown}: {what} not installed in {}: run scripts/setup (or set TUG_TOOLS_DIR)",
                dir.display()
            );
        }
    }
    // The modules next to the script that it imports: hashed and bundled like the script.
    let local = local_modules(&componentize, source).with_context(|| format!("build {shown}"))?;
    let requirements = match &args.requirements {
        Some(r) => {
            Some(std::fs::read_to_string(r).with_context(|| format!("--requirements {}", r.display()))?)
        }
        None => None,
    };

    // The key of this build: every input, each with its length (so no two sets of inputs run together).
    let mut h = Sha256::new();
    let mut part = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part(b"tug build 3");
    part(file_name.as_bytes());
    part(script.as_bytes());
    part(requirements.as_deref().unwrap_or("").as_bytes());
    for (rel, bytes) in &local {
        part(rel.as_bytes());
        part(bytes);
    }
    for (path, text) in embedded::EMBEDDED {
        part(path.as_bytes());
        part(text.as_bytes());
    }
    for dir in [&componentize, &site] {
        let mut names: Vec<String> = std::fs::read_dir(dir)?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".dist-info"))
            .collect();
        names.sort();
        part(names.join(",").as_bytes());
    }
    let key = hex::encode(h.finalize());
    let cached = CompileCache::default_dir().map(|d| d.join("builds").join(format!("{key}.wasm")));

    let started = Instant::now();
    let hit = !args.no_cache && cached.as_ref().is_some_and(|c| c.is_file());
    if hit {
        let c = cached.as_ref().expect("checked");
        copy_into_place(c, &output)?;
    } else {
        let input = Script {
            shown: &shown.to_string(),
            file_name: &file_name,
            text: &script,
            local: &local,
        };
        let built = componentize_script(&input, &componentize, &site, requirements.is_some(), &args)?;
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

/// Runs the host Python with `PYTHONPATH` = the componentize-py package.
fn python(componentize: &Path) -> Command {
    let python = std::env::var_os("TUG_PYTHON").unwrap_or_else(|| "python3".into());
    let mut c = Command::new(python);
    c.env("PYTHONPATH", componentize)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    c
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

/// The script being built: how messages show it, its file name, and the text that was hashed, with the
/// modules next to it that it imports (path relative to its directory, contents).
struct Script<'a> {
    shown: &'a str,
    file_name: &'a str,
    text: &'a str,
    local: &'a [(String, Vec<u8>)],
}

/// The modules in the script's directory that it imports, directly or through each other
/// (`prepare.py --local`), each read once: what is hashed is what is bundled.
fn local_modules(componentize: &Path, source: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let dir = match source.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let prepare = embedded::EMBEDDED
        .iter()
        .find(|(p, _)| *p == "sdk/python/tug_build/prepare.py")
        .map(|(_, text)| *text)
        .context("prepare.py is not embedded")?;
    let scan = tempfile::tempdir().context("a scratch directory")?;
    let prepare_path = scan.path().join("prepare.py");
    std::fs::write(&prepare_path, prepare)?;
    let out = python(componentize)
        .arg(&prepare_path)
        .arg("--local")
        .arg(source)
        .arg(&dir)
        .output()
        .context("running python3 (set TUG_PYTHON to another interpreter)")?;
    if !out.status.success() {
        bail!("{}", last_words(&out.stderr));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|rel| {
            let bytes = std::fs::read(dir.join(rel)).with_context(|| format!("reading {rel}"))?;
            Ok((rel.to_owned(), bytes))
        })
        .collect()
}

fn componentize_script(
    script: &Script<'_>,
    componentize: &Path,
    site: &Path,
    has_requirements: bool,
    args: &BuildArgs,
) -> anyhow::Result<tempfile::TempPath> {
    let shown = script.shown;
    // Removed when this returns, however it returns.
    let work_dir = tempfile::tempdir().context("a build directory")?;
    let work = work_dir.path().to_owned();
    let write = |rel: &str, text: &str| -> anyhow::Result<()> {
        let path = work.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
        Ok(())
    };
    for (path, text) in embedded::EMBEDDED {
        write(path, text)?;
    }
    let app = work.join("app");
    std::fs::create_dir_all(&app)?;
    for (rel, bytes) in script.local {
        let path = app.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
    }
    // Syntax and imports, with the host's Python: one line naming file and line on a syntax error.
    let copy = work.join("script.py");
    std::fs::write(&copy, script.text)?;
    let prepared = python(componentize)
        .arg(work.join("sdk/python/tug_build/prepare.py"))
        .arg(&copy)
        .arg(script.file_name)
        .arg(&app)
        .output()
        .context("running python3 (set TUG_PYTHON to another interpreter)")?;
    if !prepared.status.success() {
        bail!("build {shown}: {}", last_words(&prepared.stderr));
    }
    let mut paths = vec![app.clone(), work.join("sdk/python"), site.to_owned()];
    if has_requirements {
        let req = work.join("requirements");
        let requirements = args.requirements.as_ref().expect("has requirements");
        let pip = python(componentize)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
            ])
            .arg(&req)
            .args([
                "--only-binary=:all:",
                "--platform",
                "any",
                "--python-version",
                "3.14",
                "--implementation",
                "py",
                "--abi",
                "none",
                "-r",
            ])
            .arg(requirements)
            .output()
            .context("running pip")?;
        if !pip.status.success() {
            bail!(
                "build {shown}: --requirements {}: {} (only pure-Python wheels can be bundled)",
                requirements.display(),
                last_words(&pip.stderr)
            );
        }
        paths.push(req);
    }
    let out = work.join("plugin.wasm");
    let mut c = python(componentize);
    c.current_dir(&work)
        .args(["-c", "import sys; from componentize_py import script; sys.argv[0] = 'componentize-py'; sys.exit(script())"])
        .args(["-d", "wit", "-w", "tug:engine/plugin", "componentize"]);
    for p in &paths {
        c.arg("-p").arg(p);
    }
    c.args(["tug_entry", "-o"]).arg(&out);
    let run = c.output().context("running componentize-py")?;
    if !run.status.success() || !out.is_file() {
        bail!("build {shown}: {}", last_words(&run.stderr));
    }
    // The work directory goes; the component is copied out first (and goes when the caller drops it).
    let kept = tempfile::NamedTempFile::new()?.into_temp_path();
    std::fs::copy(&out, &kept)?;
    Ok(kept)
}
