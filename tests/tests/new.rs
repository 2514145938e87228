//! `tug new` to a passing run in three commands, for each language: `tug new demo --lang L`, `tug build
//! demo`, `tug run demo.wasm -- IMAGE …`, in a directory outside the repository (a Rust crate there must
//! build with nothing but what `tug` carries and cargo's local registry cache). The three builds run one
//! after the other (a Python or JavaScript build takes 20–50 s and about 1 GB).

use std::{path::Path, process::Command};

use tug_e2e::{docker, tug, tug_run, workspace_root, TEST_IMAGE};

/// `tug ARGS…` run in `dir`: its exit code, stdout and stderr.
fn tug_in(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(tug()).current_dir(dir).args(args).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    eprintln!(
        "$ (in {}) tug {}\n{stdout}{stderr}",
        dir.display(),
        args.join(" ")
    );
    (out.status.code(), stdout, stderr)
}

/// For each language: the skeleton is made, built and run; its container's output (computed by the
/// container's shell, so no plugin could print it alone) comes out, the container is gone afterwards,
/// the image's default command prints the sample's greeting, and a failing container's status and stderr
/// are the plugin's.
#[test]
fn a_new_plugin_builds_and_runs_in_three_commands() {
    let work = tempfile::tempdir().unwrap();
    assert!(
        !work.path().starts_with(workspace_root()),
        "the skeletons must be made outside the repository"
    );
    for (lang, files) in [
        (
            "rust",
            &["Cargo.toml", "Cargo.lock", "src/main.rs", "README.md"][..],
        ),
        ("python", &["app.py", "README.md"][..]),
        ("js", &["app.js", "package.json", "README.md"][..]),
    ] {
        let dir = work.path().join(lang);
        std::fs::create_dir(&dir).unwrap();

        // 1. tug new
        let (code, out, err) = tug_in(&dir, &["new", "demo", "--lang", lang]);
        assert_eq!(code, Some(0), "tug new demo --lang {lang}: {err}");
        assert!(
            out.contains("tug build demo") && out.contains("tug run demo.wasm"),
            "tug new does not print the next commands: {out}"
        );
        for file in files {
            assert!(dir.join("demo").join(file).is_file(), "{lang}: no {file}");
        }
        let readme = std::fs::read_to_string(dir.join("demo/README.md")).unwrap();
        assert!(readme.contains("tug build demo"), "{readme}");

        // 2. tug build
        let (code, _, err) = tug_in(&dir, &["build", "demo"]);
        assert_eq!(code, Some(0), "tug build demo ({lang}): {err}");
        assert!(err.contains("tug: built demo.wasm"), "{err}");
        let wasm = dir.join("demo.wasm");
        assert!(wasm.is_file(), "{lang}: no demo.wasm");
        let plugin = wasm.to_string_lossy().into_owned();

        // 3. tug run
        let run = tug_run([
            plugin.as_str(),
            "--",
            TEST_IMAGE,
            "sh",
            "-c",
            "echo sum=$((40+2)) host=$(hostname)",
        ]);
        run.assert_success();
        let line = run
            .stdout
            .lines()
            .find(|l| l.contains("sum=42 host="))
            .unwrap_or_else(|| panic!("{lang}: no container output\n{}", run.report()));
        let host = line.rsplit("host=").next().unwrap().trim();
        assert!(
            host.len() == 12 && host.chars().all(|c| c.is_ascii_hexdigit()),
            "{lang}: the container's hostname is not its short ID: {line:?}"
        );
        let left = docker(&["ps", "-a", "-q", "--filter", &format!("id={host}")]);
        assert!(left.trim().is_empty(), "{lang}: container {host} was not removed");

        tug_run([plugin.as_str(), "--", TEST_IMAGE])
            .assert_success()
            .assert_stdout_line("hello from a container");

        let run = tug_run([
            plugin.as_str(),
            "--",
            TEST_IMAGE,
            "sh",
            "-c",
            "echo went-wrong >&2; exit 3",
        ]);
        assert_eq!(run.code(), Some(3), "{lang}\n{}", run.report());
        assert!(run.stderr.contains("went-wrong"), "{lang}\n{}", run.report());

        if lang == "rust" {
            // A compile error: cargo's diagnostic passes through, and tug's last line names file and line.
            let main = dir.join("demo/src/main.rs");
            let source = std::fs::read_to_string(&main).unwrap();
            let broken = source.replacen(
                "fn run()",
                "fn run() {\n    let _ = no_such_value;\n}\nfn _run()",
                1,
            );
            std::fs::write(&main, broken).unwrap();
            let line = 1 + source.lines().position(|l| l.starts_with("fn run()")).unwrap() + 1;
            let (code, _, err) = tug_in(&dir, &["build", "demo"]);
            assert_eq!(code, Some(125), "{err}");
            assert!(
                err.contains("error[E0425]: cannot find value `no_such_value`"),
                "{err}"
            );
            let last = err.trim_end().lines().last().unwrap();
            assert!(
                last.starts_with("tug: build demo: cargo build")
                    && last.contains(&format!("demo/src/main.rs:{line}:13: error[E0425]")),
                "{last}"
            );
        }
    }
}

/// `tug new` refuses a directory that is not empty and a name that is not one, and `tug build` a
/// directory that holds no plugin, each with exit code 125 and one line naming what is at fault.
#[test]
fn bad_names_and_places_are_refused_in_one_line() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::create_dir(dir.join("taken")).unwrap();
    std::fs::write(dir.join("taken/notes.txt"), "mine").unwrap();
    std::fs::create_dir(dir.join("empty")).unwrap();
    for (args, says) in [
        (
            &["new", "taken", "--lang", "python"][..],
            "taken exists and is not empty",
        ),
        (
            &["new", "Demo", "--lang", "js"][..],
            "\"Demo\" is not a plugin name",
        ),
        (
            &["new", "core", "--lang", "rust"][..],
            "`core` is reserved in Rust",
        ),
        (&["new", "demo", "--lang", "go"][..], "'go'"),
        (&["build", "empty"][..], "build empty: no plugin here"),
    ] {
        let (code, _, err) = tug_in(dir, args);
        assert_eq!(code, Some(125), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: not one line: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // The refused directory is as it was; an empty one is fine.
    assert_eq!(
        std::fs::read_dir(dir.join("taken")).unwrap().count(),
        1,
        "tug new wrote into a directory it refused"
    );
    let (code, _, err) = tug_in(dir, &["new", "empty", "--lang", "js"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(dir.join("empty/app.js").is_file());
}
