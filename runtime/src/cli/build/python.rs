//! `tug build SCRIPT.py -o PLUGIN.wasm`: turns a plain Python script into a tug plugin with
//! componentize-py, tug's WIT and the Python SDK (both carried in this binary), the pinned packages the
//! setup script installed (docker-py and its dependencies), and `--requirements` for more; then
//! precompiles the component into the compile cache. A build of unchanged inputs is a cache hit.
//!
//! The toolchain lives in `$TUG_TOOLS_DIR`, else `$XDG_DATA_HOME/tug/tools`, else
//! `~/.local/share/tug/tools` (what `scripts/setup` fills): `componentize-py/` (the package, pinned by
//! `sdk/python/toolchain.txt`) and `python-site/` (pure-Python wheels, pinned by
//! `sdk/python/requirements.txt`). The host's `python3` (or `$TUG_PYTHON`) runs componentize-py.

//! Python: componentize-py, tug's WIT and the Python SDK, the pinned packages the setup script installed
//! (docker-py and its dependencies), and `--requirements` for more.
//!
//! In the tools directory: `componentize-py/` (the package, pinned by `sdk/python/toolchain.txt`) and
//! `python-site/` (pure-Python wheels, pinned by `sdk/python/requirements.txt`). The host's `python3` (or
//! `$TUG_PYTHON`) runs componentize-py.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

use super::{embedded, embedded_under, last_words, tools, BuildArgs, Prepared};

/// What `tug build` writes out and hashes for a Python build.
const EMBEDDED: &[&str] = &["wit/", "sdk/python/"];

/// Reads and hashes a Python build's inputs.
pub(super) fn prepare(args: &BuildArgs) -> anyhow::Result<Prepared> {
    let source = &args.source;
    let shown = source.display().to_string();
    // Read once: what is hashed is what is built.
    let script = std::fs::read_to_string(source).with_context(|| format!("build {shown}"))?;
    let file_name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "script.py".to_owned());
    let tools = tools()?;
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
    for (path, text) in embedded_under(EMBEDDED) {
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
    let requirements_path = args.requirements.clone();
    Ok(Prepared {
        key,
        make: Box::new(move || {
            let input = Script {
                shown: &shown,
                file_name: &file_name,
                text: &script,
                local: &local,
            };
            componentize_script(&input, &componentize, &site, requirements_path.as_deref())
        }),
    })
}

/// Runs the host Python with `PYTHONPATH` = the componentize-py package.
fn python(componentize: &Path) -> Command {
    let python = std::env::var_os("TUG_PYTHON").unwrap_or_else(|| "python3".into());
    let mut c = Command::new(python);
    c.env("PYTHONPATH", componentize)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    c
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
    requirements: Option<&Path>,
) -> anyhow::Result<tempfile::TempPath> {
    let shown = script.shown;
    // Removed when this returns, however it returns.
    let work_dir = tempfile::tempdir().context("a build directory")?;
    let work = work_dir.path().to_owned();
    super::write_embedded(&work, EMBEDDED)?;
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
    if let Some(requirements) = requirements {
        let req = work.join("requirements");
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
