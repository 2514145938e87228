//! JavaScript and TypeScript: esbuild bundles the module with everything it imports (TypeScript stripped,
//! `dockerode` and `tug-sdk` resolved to tug's SDK, npm packages from the `node_modules` beside it), and
//! componentize-js makes the component against tug's WIT.
//!
//! componentize-js runs a module's top-level code at build time (it snapshots the engine), so the bundle's
//! entry imports the script dynamically from the `run` export: its top-level code, with top-level
//! `await`, runs at `tug run` time, and the SDK's `runMain` reports its exit code and uncaught errors as
//! Node would. The build cache's key is the bundle itself (what componentize-js reads), the toolchain's
//! lockfile and the WIT.
//!
//! In the tools directory: `js/node_modules` (esbuild, componentize-js, jco; pinned by
//! `sdk/js/toolchain/package-lock.json`). The host's `node` (or `$TUG_NODE`) runs componentize-js.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

use super::{embedded_under, last_words, tools, write_embedded, BuildArgs, Prepared};

/// What `tug build` writes out (and hashes, with the bundle) for a JavaScript build.
const EMBEDDED: &[&str] = &["wit/", "sdk/js/"];

/// Bundles the script and hashes what componentize-js will read.
pub(super) fn prepare(args: &BuildArgs) -> anyhow::Result<Prepared> {
    let source = &args.source;
    let shown = source.display().to_string();
    let abs = std::fs::canonicalize(source).with_context(|| format!("build {shown}"))?;
    let dir = abs
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    let js = tools()?.join("js");
    let componentize = js.join("node_modules/@bytecodealliance/componentize-js/src/cli.js");
    let esbuild = esbuild(&js);
    if !componentize.is_file() || esbuild.is_none() {
        bail!(
            "build {shown}: the JavaScript toolchain is not installed in {}: run scripts/setup (or set \
             TUG_TOOLS_DIR)",
            js.display()
        );
    }
    let esbuild = esbuild.expect("checked");

    let typescript = matches!(abs.extension().and_then(|e| e.to_str()), Some("ts" | "mts"));
    if typescript && !args.no_typecheck {
        typecheck(&js, &abs, &dir).with_context(|| format!("build {shown}"))?;
    }

    // Removed when the build is over, however it ends (the closure below owns it).
    let work_dir = tempfile::tempdir().context("a build directory")?;
    let work = work_dir.path().to_owned();
    // The SDK and the WIT where the bundle can name them the same way every time (esbuild writes each
    // module's path into the bundle, which is the build's key).
    let stable = sdk_dir(&work)?;
    let sdk = stable.join("sdk/js");
    let script = serde_json::to_string(&abs.to_string_lossy()).expect("a string");
    let main = serde_json::to_string(&sdk.join("lib/main.js").to_string_lossy()).expect("a string");
    let entry = format!(
        "import {{ runMain }} from {main};\n\
         export const run = {{ async run() {{ await runMain(() => import({script})); }} }};\n"
    );
    let bundle = work.join("bundle.js");
    let alias = |name: &str| format!("--alias:{name}={}", sdk.join("index.js").display());
    // Run from the script's directory: esbuild names files relative to it in messages and stack traces.
    let mut child = Command::new(&esbuild)
        .current_dir(&dir)
        .args([
            "--bundle",
            "--sourcefile=tug-entry.js",
            "--format=esm",
            "--platform=neutral",
            "--main-fields=module,main",
            "--target=es2022",
            "--external:tug:*",
            "--external:wasi:*",
            "--log-level=error",
            "--color=false",
            "--sourcemap=external",
            "--sources-content=false",
        ])
        .arg(alias("dockerode"))
        .arg(alias("tug-sdk"))
        .arg(format!("--inject:{}", sdk.join("lib/globals.js").display()))
        .arg(format!("--outfile={}", bundle.display()))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("running {}", esbuild.display()))?;
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("piped");
        stdin.write_all(entry.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("build {shown}: {}", esbuild_error(&out.stderr));
    }
    // The map goes into the bundle, its sources named as the script's directory sees them (the SDK's as
    // `tug-sdk/…`), so that an uncaught error's stack names the script's own files and lines.
    let map = std::fs::read(work.join("bundle.js.map")).context("reading the source map")?;
    let map = script_map(&map, &work, &dir, &stable.join("sdk/js")).context("the source map")?;
    let mut text = std::fs::read(&bundle).context("reading the bundle")?;
    text.extend_from_slice(format!("\nglobalThis.__tugSourceMap = {map};\n").as_bytes());
    std::fs::write(&bundle, &text)?;

    // The key: the bundle, the toolchain and the WIT, each with its length.
    let mut h = Sha256::new();
    let mut part = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part(b"tug build js 1");
    part(&text);
    part(&std::fs::read(js.join("package-lock.json")).unwrap_or_default());
    for (path, text) in embedded_under(&["wit/"]) {
        part(path.as_bytes());
        part(text.as_bytes());
    }
    let key = hex::encode(h.finalize());
    Ok(Prepared {
        key,
        make: Box::new(move || {
            let _work_dir = work_dir;
            let out = work.join("plugin.wasm");
            let node = std::env::var_os("TUG_NODE").unwrap_or_else(|| "node".into());
            let run = Command::new(node)
                .current_dir(&work)
                .arg(&componentize)
                .arg(&bundle)
                .arg("--wit")
                .arg(stable.join("wit"))
                .args(["--world-name", "plugin", "-d", "http", "fetch-event", "-o"])
                .arg(&out)
                .output()
                .context("running node (set TUG_NODE to another one)")?;
            if !run.status.success() || !out.is_file() {
                bail!("build {shown}: componentize-js: {}", last_words(&run.stderr));
            }
            let kept = tempfile::NamedTempFile::new()?.into_temp_path();
            std::fs::copy(&out, &kept)?;
            Ok(kept)
        }),
    })
}

/// esbuild's source map (`bundle.js.map` in `work`) as the JSON the SDK reads: `sources` named relative to
/// the script's directory `dir` (`app.ts`, `lib/util.ts`, `node_modules/x/index.js`), the SDK's files as
/// `tug-sdk/…` and the entry as `tug-entry.js`; `mappings` as they are.
fn script_map(map: &[u8], work: &Path, dir: &Path, sdk: &Path) -> anyhow::Result<String> {
    let map: serde_json::Value = serde_json::from_slice(map)?;
    let sources: Vec<String> = map["sources"]
        .as_array()
        .context("no sources")?
        .iter()
        .map(|s| {
            let s = s.as_str().unwrap_or_default();
            if s.contains("tug-entry.js") || s.starts_with('<') {
                return "tug-entry.js".to_owned();
            }
            let abs = lexical(&work.join(s));
            if let Ok(rel) = abs.strip_prefix(sdk) {
                format!("tug-sdk/{}", rel.display())
            } else if let Ok(rel) = abs.strip_prefix(dir) {
                rel.display().to_string()
            } else {
                abs.display().to_string()
            }
        })
        .collect();
    Ok(serde_json::json!({
        "sources": sources,
        "mappings": map["mappings"].as_str().context("no mappings")?,
    })
    .to_string())
}

/// `path` with its `.` and `..` resolved without the filesystem.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The SDK and the WIT written out once per content, under the compile cache's `js-sdk/HASH/` (else
/// under `work`): a directory that is complete when it exists (written aside, then renamed).
fn sdk_dir(work: &Path) -> anyhow::Result<PathBuf> {
    let mut h = Sha256::new();
    for (path, text) in embedded_under(EMBEDDED) {
        h.update((path.len() as u64).to_le_bytes());
        h.update(path.as_bytes());
        h.update((text.len() as u64).to_le_bytes());
        h.update(text.as_bytes());
    }
    let hash = hex::encode(h.finalize());
    let Some(root) = crate::host::cache::CompileCache::default_dir().map(|d| d.join("js-sdk")) else {
        write_embedded(work, EMBEDDED)?;
        return Ok(work.to_owned());
    };
    let dir = root.join(&hash[..16]);
    if dir.is_dir() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let aside = tempfile::tempdir_in(&root).with_context(|| format!("writing into {}", root.display()))?;
    write_embedded(aside.path(), EMBEDDED)?;
    match std::fs::rename(aside.path(), &dir) {
        Ok(()) => {
            // Renamed: nothing left for the guard to remove.
            let _ = aside.keep();
        }
        // Another build put the same content there first.
        Err(_) if dir.is_dir() => {}
        Err(e) => return Err(e).with_context(|| format!("writing {}", dir.display())),
    }
    Ok(dir)
}

/// `tsc --noEmit` of the script, strict, with `dockerode` and `tug-sdk` typed by the SDK's declarations
/// (written out as the build writes the SDK); the first error as one line `FILE:LINE:COL: TSnnnn message`.
fn typecheck(js: &Path, script: &Path, dir: &Path) -> anyhow::Result<()> {
    let tsc = js.join("node_modules/typescript/bin/tsc");
    if !tsc.is_file() {
        bail!(
            "the TypeScript compiler is not installed in {}: run scripts/setup, or build with \
             --no-typecheck",
            js.display()
        );
    }
    let scratch = tempfile::tempdir().context("a build directory")?;
    write_embedded(scratch.path(), &["sdk/js/"])?;
    let sdk = scratch.path().join("sdk/js");
    let index = sdk.join("index.d.ts").to_string_lossy().into_owned();
    let config = serde_json::json!({
        "compilerOptions": {
            "target": "es2022",
            "module": "esnext",
            "moduleResolution": "bundler",
            "lib": ["es2022", "esnext.disposable", "dom"],
            "types": [],
            "strict": true,
            "noEmit": true,
            "skipLibCheck": true,
            "allowImportingTsExtensions": true,
            "paths": { "dockerode": [&index], "tug-sdk": [&index] },
        },
        "files": [sdk.join("globals.d.ts"), script.to_path_buf()],
    });
    let tsconfig = scratch.path().join("tsconfig.json");
    std::fs::write(&tsconfig, config.to_string())?;
    let node = std::env::var_os("TUG_NODE").unwrap_or_else(|| "node".into());
    let out = Command::new(node)
        .current_dir(dir)
        .arg(&tsc)
        .arg("-p")
        .arg(&tsconfig)
        .arg("--pretty")
        .arg("false")
        .output()
        .context("running node (set TUG_NODE to another one)")?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    bail!("{}", tsc_error(&text).unwrap_or_else(|| last_words(&out.stderr)))
}

/// tsc's first error (`app.ts(3,7): error TS2322: …`) as `app.ts:3:7: TS2322 …`, and how many more.
fn tsc_error(text: &str) -> Option<String> {
    let errors: Vec<&str> = text.lines().filter(|l| l.contains("): error TS")).collect();
    let first = errors.first()?;
    let (place, rest) = first.split_once("): error ")?;
    let (file, at) = place.rsplit_once('(')?;
    let (code, message) = rest.split_once(": ").unwrap_or((rest, ""));
    let more = match errors.len() {
        1 => String::new(),
        2 => " (and 1 more error)".to_owned(),
        n => format!(" (and {} more errors)", n - 1),
    };
    Some(format!(
        "{file}:{}: {code} {message}{more} (--no-typecheck skips the type check)",
        at.replace(',', ":")
    ))
}

/// esbuild's own binary (the platform package), or its launcher.
fn esbuild(js: &Path) -> Option<PathBuf> {
    let scoped = js.join("node_modules/@esbuild");
    let native = std::fs::read_dir(&scoped).ok().and_then(|entries| {
        entries
            .flatten()
            .map(|e| e.path().join("bin/esbuild"))
            .find(|p| p.is_file())
    });
    native.or_else(|| Some(js.join("node_modules/.bin/esbuild")).filter(|p| p.is_file()))
}

/// esbuild's first error as one line: `FILE:LINE:COL: message`, and how many more there are.
fn esbuild_error(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    let errors = lines.iter().filter(|l| l.contains("[ERROR]")).count();
    let Some(at) = lines.iter().position(|l| l.contains("[ERROR]")) else {
        return last_words(stderr);
    };
    let message = lines[at]
        .split_once("[ERROR]")
        .map(|(_, m)| m.trim())
        .unwrap_or(lines[at]);
    let location = lines[at + 1..]
        .iter()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .filter(|l| l.ends_with(':') && l.matches(':').count() >= 3)
        .map(|l| l.trim_end_matches(':'));
    let more = match errors {
        0 | 1 => String::new(),
        2 => " (and 1 more error)".to_owned(),
        n => format!(" (and {} more errors)", n - 1),
    };
    match location {
        Some(loc) => format!("{loc}: {message}{more}"),
        None => format!("{message}{more}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{esbuild_error, tsc_error};

    #[test]
    fn tsc_errors_become_one_line_with_file_and_line() {
        let said = "app.ts(3,7): error TS2322: Type 'number' is not assignable to type 'string'.\n\
                    app.ts(9,1): error TS2304: Cannot find name 'x'.\n";
        assert_eq!(
            tsc_error(said).unwrap(),
            "app.ts:3:7: TS2322 Type 'number' is not assignable to type 'string'. (and 1 more error) \
             (--no-typecheck skips the type check)"
        );
        assert_eq!(tsc_error("nothing\n"), None);
    }

    #[test]
    fn esbuild_errors_become_one_line_with_file_and_line() {
        let said = "✘ [ERROR] Unexpected \";\"\n\n    bad/app.ts:1:18:\n      1 │ const x: number = ;\n        ╵                   ^\n\n";
        assert_eq!(
            esbuild_error(said.as_bytes()),
            "bad/app.ts:1:18: Unexpected \";\""
        );
        let two = "✘ [ERROR] Could not resolve \"left-pad\"\n\n    app.js:2:17:\n\n✘ [ERROR] Could not resolve \"x\"\n\n    app.js:3:1:\n";
        assert_eq!(
            esbuild_error(two.as_bytes()),
            "app.js:2:17: Could not resolve \"left-pad\" (and 1 more error)"
        );
    }
}
