//! `tug new NAME --lang rust|python|js`: a plugin skeleton that `tug build NAME` turns into `NAME.wasm`
//! and `tug run NAME.wasm` runs: a sample that runs a container from the image given as its first
//! argument (default `busybox:latest`) with the command given after it (default `echo hello from a
//! container`), prints its output and removes it; a README with the build and run commands.
//!
//! - `rust`: `Cargo.toml` (a package of its own, `[workspace]`, depending by path on the copy of the Rust
//!   SDK this tug carries, written once per content to `rust-sdk/HASH/` in the compile cache's directory),
//!   `Cargo.lock` (the SDK's dependencies at the versions of tug's own lockfile), `src/main.rs`,
//!   `.gitignore`, `README.md`.
//! - `python`: `app.py` (a docker-py script), `README.md`.
//! - `js`: `app.js` (a dockerode script), `package.json` (its `main` names `app.js`), `README.md`.
//!
//! The templates are `runtime/src/cli/new/`, with `{{name}}` where the name goes.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{bail, Context};

use super::build::rust as rust_build;

/// `tug new …`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The directory to create (it may exist if it is empty); its last component is the plugin's name:
    /// lowercase letters, digits, `-` and `_`, starting with a letter.
    #[arg(value_name = "NAME")]
    pub path: PathBuf,
    /// The plugin's language.
    #[arg(long, value_enum)]
    pub lang: Lang,
}

/// The languages `tug new` writes a skeleton in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// A Rust crate with tug's Rust SDK (`cargo build --target wasm32-wasip2`).
    #[value(alias = "rs")]
    Rust,
    /// A docker-py script (componentize-py).
    #[value(alias = "py")]
    Python,
    /// A dockerode module (esbuild and componentize-js).
    #[value(alias = "javascript")]
    Js,
}

const RUST_MAIN: &str = include_str!("new/rust/main.rs");
const RUST_README: &str = include_str!("new/rust/README.md");
const PYTHON_APP: &str = include_str!("new/python/app.py");
const PYTHON_README: &str = include_str!("new/python/README.md");
const JS_APP: &str = include_str!("new/js/app.js");
const JS_PACKAGE: &str = include_str!("new/js/package.json");
const JS_README: &str = include_str!("new/js/README.md");
const POLICY_NOTE: &str = include_str!("new/policy.md");

/// Rust's keywords, and the names cargo refuses for a package (built-in crates, its own directories).
const RUST_RESERVED: &[&str] = &[
    "abstract",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
    "alloc",
    "core",
    "proc_macro",
    "proc-macro",
    "std",
    "test",
    "build",
    "deps",
    "examples",
    "incremental",
];

/// Writes the skeleton and prints the next two commands.
pub fn new(args: NewArgs) -> anyhow::Result<ExitCode> {
    let path = &args.path;
    let shown = path.display();
    let name = check_name(path, args.lang)?;
    check_free(path)?;
    let files = skeleton(&name, args.lang).with_context(|| format!("new {shown}"))?;

    let created = !path.exists();
    let written = write_all(path, &files);
    if let Err(e) = written {
        // Nothing half-made stays: the directory goes if it was ours, else the files written into it.
        if created {
            let _ = std::fs::remove_dir_all(path);
        } else {
            for (rel, _) in &files {
                let _ = std::fs::remove_file(path.join(rel));
            }
            let _ = std::fs::remove_dir(path.join("src"));
        }
        return Err(e.context(format!("new {shown}")));
    }

    let lang = match args.lang {
        Lang::Rust => "Rust",
        Lang::Python => "Python",
        Lang::Js => "JavaScript",
    };
    let listed: Vec<&str> = files.iter().map(|(rel, _)| *rel).collect();
    let dir = shell_word(&path.to_string_lossy());
    let wasm = shell_word(&format!("{}.wasm", path.to_string_lossy().trim_end_matches('/')));
    println!(
        "Created {dir}, a {lang} tug plugin ({}). Next:",
        listed.join(", ")
    );
    println!("  tug build {dir}");
    println!("  tug run {wasm} -- IMAGE");
    println!(
        "IMAGE defaults to busybox:latest, which the default policy (untrusted) refuses: see {}.",
        path.join("README.md").display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The plugin's name, from the last component of `path`: lowercase letters, digits, `-` and `_`,
/// starting with a letter, at most 64 characters; for Rust, not a keyword, a reserved name, or the name
/// of a crate the SDK depends on.
fn check_name(path: &Path, lang: Lang) -> anyhow::Result<String> {
    let shown = path.display();
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        bail!("new {shown}: name the plugin's directory (its last component is the plugin's name)");
    };
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        bail!(
            "new {shown}: {name:?} is not a plugin name: lowercase letters, digits, `-` and `_`, starting \
             with a letter, at most 64 characters"
        );
    }
    if lang == Lang::Rust {
        if RUST_RESERVED.contains(&name.as_str()) {
            bail!("new {shown}: `{name}` is reserved in Rust (a keyword or a built-in crate); choose another name");
        }
        let normal = |s: &str| s.replace('-', "_");
        let taken = rust_build::sdk_crates()?;
        if taken.iter().any(|c| normal(c) == normal(&name)) {
            bail!(
                "new {shown}: `{name}` is the name of a crate tug's Rust SDK uses (or the SDK's own); \
                 choose another name"
            );
        }
    }
    Ok(name)
}

/// Refuses a path that exists and is not an empty directory.
fn check_free(path: &Path) -> anyhow::Result<()> {
    let shown = path.display();
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("new {shown}")),
        Ok(meta) if !meta.is_dir() => {
            bail!("new {shown}: {shown} exists and is not a directory; choose another name")
        }
        Ok(_) => {
            let mut entries = std::fs::read_dir(path).with_context(|| format!("new {shown}"))?;
            if entries.next().is_some() {
                bail!("new {shown}: {shown} exists and is not empty; choose another name, or empty it");
            }
            Ok(())
        }
    }
}

/// The skeleton's files: (path in the directory, contents).
fn skeleton(name: &str, lang: Lang) -> anyhow::Result<Vec<(&'static str, String)>> {
    let fill = |template: &str| {
        template
            .replace("{{policy}}", POLICY_NOTE.trim_end())
            .replace("{{name}}", name)
    };
    Ok(match lang {
        Lang::Rust => {
            let sdk = rust_build::sdk_dir()?;
            let sdk_text = sdk.to_string_lossy();
            let manifest = format!(
                "[package]\n\
                 name = {name}\n\
                 version = \"0.1.0\"\n\
                 edition = \"2021\"\n\
                 publish = false\n\
                 \n\
                 [dependencies]\n\
                 # tug's Rust SDK: the copy this tug carries, written out by `tug new` (and again by\n\
                 # `tug build` if the cache is cleared). A newer tug carries a newer one: point the path at it.\n\
                 tug-sdk = {{ path = {path} }}\n\
                 \n\
                 # A package of its own, even inside another Cargo workspace.\n\
                 [workspace]\n",
                name = rust_build::toml_string(name),
                path = rust_build::toml_string(&sdk_text),
            );
            vec![
                ("Cargo.toml", manifest),
                ("Cargo.lock", rust_build::lockfile(name)?),
                ("src/main.rs", fill(RUST_MAIN)),
                (".gitignore", "/target\n".to_owned()),
                ("README.md", fill(RUST_README).replace("{{sdk}}", &sdk_text)),
            ]
        }
        Lang::Python => vec![("app.py", fill(PYTHON_APP)), ("README.md", fill(PYTHON_README))],
        Lang::Js => vec![
            ("app.js", fill(JS_APP)),
            ("package.json", fill(JS_PACKAGE)),
            ("README.md", fill(JS_README)),
        ],
    })
}

/// Creates `dir` (and its parents) and writes the files into it.
fn write_all(dir: &Path, files: &[(&str, String)]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (rel, text) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// `word` as a shell reads it back: as it is when it has nothing special, else in single quotes.
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./+:@%".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for ok in ["demo", "my-plugin", "a_1"] {
            assert_eq!(check_name(Path::new(ok), Lang::Python).unwrap(), ok);
        }
        assert_eq!(check_name(Path::new("some/dir/demo"), Lang::Js).unwrap(), "demo");
        for bad in ["Demo", "1x", "-x", "a b", "x.y", ""] {
            let e = check_name(Path::new(bad), Lang::Python).unwrap_err().to_string();
            assert!(
                e.contains("not a plugin name") || e.contains("name the plugin"),
                "{bad}: {e}"
            );
        }
        assert!(check_name(Path::new("test"), Lang::Python).is_ok());
        let e = check_name(Path::new("test"), Lang::Rust).unwrap_err().to_string();
        assert!(e.contains("reserved in Rust"), "{e}");
        let e = check_name(Path::new("serde-json"), Lang::Rust)
            .unwrap_err()
            .to_string();
        assert!(e.contains("a crate tug's Rust SDK uses"), "{e}");
    }

    #[test]
    fn a_non_empty_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_free(&dir.path().join("absent")).is_ok());
        assert!(check_free(dir.path()).is_ok());
        std::fs::write(dir.path().join("f"), "x").unwrap();
        let e = check_free(dir.path()).unwrap_err().to_string();
        assert!(e.contains("exists and is not empty"), "{e}");
        let e = check_free(&dir.path().join("f")).unwrap_err().to_string();
        assert!(e.contains("is not a directory"), "{e}");
    }

    #[test]
    fn templates_are_filled() {
        for lang in [Lang::Python, Lang::Js] {
            for (rel, text) in skeleton("demo-x", lang).unwrap() {
                assert!(!text.contains("{{"), "{rel}: {text}");
                if rel == "README.md" {
                    assert!(text.contains("tug build demo-x"), "{text}");
                }
            }
        }
        assert_eq!(shell_word("a/demo"), "a/demo");
        assert_eq!(shell_word("my dir/x"), "'my dir/x'");
    }
}
