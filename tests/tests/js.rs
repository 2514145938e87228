//! JavaScript and TypeScript plugins: modules built with `tug build` (esbuild, componentize-js, tug's WIT
//! and the dockerode-shaped SDK `sdk/js`) and run against the real daemon — a plain script behaves as
//! under `node`, and the dockerode-style tours (`plugins/js/tour.js`, `tour.ts`) run a whole workflow
//! under `untrusted` and `ci`.

use std::process::Command;

use tug_e2e::{attack::policy, js_plugin, tug, tug_build, tug_run, unique, workspace_root, Run};

/// A script's argv, exit codes and uncaught errors are Node's; its top-level `await` runs at `tug run`
/// time; a second build of the same inputs is a cache hit with the same bytes; a syntax error, a type
/// error, an import that cannot be resolved and a source of no known language are one line naming file
/// and line.
#[test]
fn a_script_runs_as_node_runs_it() {
    let wasm = js_plugin("script.js");
    let plugin = wasm.display().to_string();
    tug_run([&plugin, "--", "a", "b"])
        .assert_success()
        .assert_stdout_line(r#"argv ["a","b"]"#)
        .assert_stdout_line("done");
    for (args, code, out, err) in [
        (vec!["exit", "7"], 7, None, None),
        (vec!["exit", "0"], 0, None, None),
        (vec!["code", "3"], 3, Some("done"), None),
        (vec!["throw"], 1, None, Some("Uncaught Error: thrown on purpose")),
        (
            vec!["reject"],
            1,
            None,
            Some("Uncaught TypeError: rejected on purpose"),
        ),
        (vec!["await"], 0, Some("awaited"), None),
    ] {
        let mut argv = vec![plugin.as_str(), "--"];
        argv.extend(args.iter().copied());
        let run = tug_run(&argv);
        assert_eq!(run.code(), Some(code), "{args:?}\n{}", run.report());
        if let Some(out) = out {
            run.assert_stdout_line(out);
        }
        if let Some(err) = err {
            assert!(run.stderr.contains(err), "{args:?}\n{}", run.report());
        }
        assert!(!run.stdout.contains("not reached"), "{args:?}\n{}", run.report());
    }

    // Stacks name the script's own lines (the bundle's source map), as Node's do, without tug's SDK.
    let source = std::fs::read_to_string(workspace_root().join("plugins/js/script.js")).unwrap();
    let line = |text: &str| 1 + source.lines().position(|l| l.contains(text)).unwrap();
    for (mode, text, col) in [
        ("throw", "thrown on purpose", 11),
        ("reject", "rejected on purpose", 26),
    ] {
        let run = tug_run([&plugin, "--", mode]);
        let at = format!("at <top level> (script.js:{}:{col})", line(text));
        assert!(run.stderr.contains(&at), "{at}\n{}", run.report());
        assert!(
            !run.stderr.contains("bundle.js") && !run.stderr.contains("tug-sdk"),
            "{}",
            run.report()
        );
    }

    // The same inputs again: the build cache answers, with the same bytes.
    let again = wasm.with_file_name("script-again.wasm");
    let out = Command::new(tug())
        .arg("build")
        .arg(workspace_root().join("plugins/js/script.js"))
        .arg("-o")
        .arg(&again)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && said.contains("(cached build)"), "{said}");
    assert_eq!(std::fs::read(&wasm).unwrap(), std::fs::read(&again).unwrap());

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.js");
    std::fs::write(&bad, "const a = 1;\nconst b = ;\n").unwrap();
    let (code, said) = tug_build(&bad);
    assert_eq!(code, Some(125), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.contains("bad.js:2:10: Unexpected \";\""), "{said}");
    // TypeScript's syntax errors come from the type check; without it, from esbuild.
    let bad_ts = dir.path().join("bad_ts.ts");
    std::fs::write(&bad_ts, "const a: number = 1;\nconst b: number = ;\n").unwrap();
    let (code, said) = tug_build(&bad_ts);
    assert_eq!(code, Some(125), "{said}");
    assert!(
        said.contains("bad_ts.ts:2:19: TS1109 Expression expected."),
        "{said}"
    );
    let out = Command::new(tug())
        .args(["build", "--no-typecheck"])
        .arg(&bad_ts)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("bad_ts.ts:2:18: Unexpected \";\""), "{said}");
    // TypeScript is type-checked (strict) against the SDK's declarations before it is bundled.
    let typed = dir.path().join("typed.ts");
    std::fs::write(
        &typed,
        "import Docker from 'dockerode';\nconst c = new Docker().getContainer('x');\n\
         await c.top({ ps_args: 5 });\n",
    )
    .unwrap();
    let (code, said) = tug_build(&typed);
    assert_eq!(code, Some(125), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.contains("typed.ts:3:15: TS2322 Type 'number' is not assignable to type 'string'."),
        "{said}"
    );
    let missing = dir.path().join("missing.js");
    std::fs::write(
        &missing,
        "import Docker from 'dockerode';\nimport pad from 'left-pad';\n",
    )
    .unwrap();
    let (code, said) = tug_build(&missing);
    assert_eq!(code, Some(125), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.contains("missing.js:2:16: Could not resolve \"left-pad\""),
        "{said}"
    );
    let other = dir.path().join("app.rb");
    std::fs::write(&other, "puts 1\n").unwrap();
    let (code, said) = tug_build(&other);
    assert_eq!(code, Some(125), "{said}");
    assert!(said.contains("app.rb: not a Python (.py), JavaScript"), "{said}");
    assert!(!dir.path().join("bad.wasm").exists() && !dir.path().join("missing.wasm").exists());
}

/// What a tour left behind with `suffix` in its name: images, networks, volumes (empty when clean).
fn leftovers(suffix: &str) -> Vec<String> {
    let mut left = Vec::new();
    for (what, args) in [
        ("image", vec!["images", "--format", "{{.Repository}}:{{.Tag}}"]),
        ("network", vec!["network", "ls", "--format", "{{.Name}}"]),
        ("volume", vec!["volume", "ls", "--format", "{{.Name}}"]),
        ("container", vec!["ps", "-a", "--format", "{{.Names}}"]),
    ] {
        let out = Command::new("docker").args(&args).output().unwrap();
        left.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.contains(suffix))
                .map(|l| format!("{what} {l}")),
        );
    }
    left
}

fn tour(file: &str, policy: &str) -> (Run, String) {
    let wasm = js_plugin(file);
    let suffix = format!("t{}", unique());
    let run = tug_run(["--policy", policy, &wasm.display().to_string(), "--", &suffix]);
    (run, suffix)
}

/// The dockerode-style tour under `ci`: run (exit code, output), logs followed and demultiplexed, exec
/// with stdin, an archive round trip, a build from an in-memory context with progress (and a failing
/// build as a `ProgressError`), push to and pull from the local registry, a network and a volume, a
/// denial caught as `DeniedError` naming rule and field, dockerode's 404 error — each step checked inside
/// the plugin; nothing left behind.
#[test]
fn the_dockerode_tour_runs_under_ci() {
    let (run, suffix) = tour("tour.js", "ci");
    run.assert_success();
    for step in [
        "ok ping api 1.41",
        "ok run exit 7",
        "ok logs",
        "ok exec exit 3",
        "ok archive",
        "ok build",
        "ok registry sha256:",
        "ok netvol",
        "denied containers.privileged HostConfig.Privileged",
        "ok denied",
        "ok errors (HTTP code 404) no such container - No such container: tug-js-missing-",
        "tour done",
    ] {
        run.assert_stdout_line(step);
    }
    assert!(!run.stdout.contains("FAIL"), "{}", run.report());
    assert_eq!(leftovers(&suffix), Vec::<String>::new(), "{}", run.report());
}

/// The same tour under `untrusted`: what the profile allows runs; the build and the registry push come
/// back as `DeniedError`s naming the rule (the tour reports them as skipped), the privileged container as
/// the denial the tour expects.
#[test]
fn the_dockerode_tour_runs_under_untrusted() {
    let (run, suffix) = tour("tour.js", "untrusted");
    run.assert_success();
    for step in [
        "ok run exit 7",
        "ok logs",
        "ok exec exit 3",
        "ok archive",
        "skip build: denied operations.build",
        "skip registry: denied operations.images",
        "ok netvol",
        "denied containers.privileged HostConfig.Privileged",
        "tour done",
    ] {
        run.assert_stdout_line(step);
    }
    assert!(!run.stdout.contains("FAIL"), "{}", run.report());
    assert_eq!(leftovers(&suffix), Vec::<String>::new(), "{}", run.report());
}

/// The TypeScript tour (type-checked against the SDK's declarations in `sdk/js`): system, a lifecycle
/// with its events, logs, exec, export, images, the callback style, a bind mount refused as
/// `DeniedError` — under `untrusted`.
#[test]
fn the_typescript_tour_runs_under_untrusted() {
    let (run, suffix) = tour("tour.ts", "untrusted");
    run.assert_success();
    for step in [
        "ok system engine default api 1.41",
        "ok lifecycle",
        "ok logs 2 frames",
        "ok exec exit 1",
        "ok export",
        "ok images",
        "ok callbacks",
        "denied containers.binds HostConfig.Binds[0]",
        "ok errors",
        "tour.ts done",
    ] {
        run.assert_stdout_line(step);
    }
    assert!(!run.stdout.contains("FAIL"), "{}", run.report());
    assert_eq!(leftovers(&suffix), Vec::<String>::new(), "{}", run.report());
}

/// The SDK's WIT table (`sdk/js/lib/_wit.js`) and the WIT's TypeScript declarations (`sdk/js/types`, from
/// `jco guest-types`) are what the current WIT generates.
#[test]
fn the_js_wit_table_and_declarations_are_the_wits() {
    let root = workspace_root();
    let check = Command::new("python3")
        .arg(root.join("scripts/gen_js_sdk.py"))
        .arg("--check")
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "sdk/js/lib/_wit.js is not what scripts/gen_js_sdk.py generates: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let jco = tug::cli::build::tools_dir()
        .expect("a tools directory")
        .join("js/node_modules/@bytecodealliance/jco/dist/jco.js");
    let out = tempfile::tempdir().unwrap();
    let generated = Command::new("node")
        .arg(&jco)
        .args(["guest-types", "wit", "--world-name", "plugin", "-o"])
        .arg(out.path())
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "jco guest-types: {}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let diff = Command::new("diff")
        .arg("-r")
        .arg(out.path())
        .arg(root.join("sdk/js/types"))
        .output()
        .unwrap();
    assert!(
        diff.status.success(),
        "sdk/js/types is stale: rerun `jco guest-types wit --world-name plugin -o sdk/js/types`\n{}",
        String::from_utf8_lossy(&diff.stdout)
    );
}

/// dockerode's README as a plugin (`plugins/js/readme.js`: each snippet quoted above its adaptation):
/// every example runs under `ci` but `container.defaultOptions`, which the SDK does not offer — the
/// callback and promise forms, `run`'s emitter, `demuxStream`, the hijacked exec, a build and pulls with
/// `followProgress`; under `untrusted`, the build and the registry examples come back as denials.
#[test]
fn dockerodes_readme_runs_as_a_plugin() {
    let wasm = js_plugin("readme.js");
    for (policy, oks, skipped) in [
        ("ci", 20, vec!["skip default-options"]),
        (
            "untrusted",
            14,
            vec![
                "skip default-options",
                "skip build-image: denied operations.build",
                "skip push-for-pull: denied operations.images",
            ],
        ),
    ] {
        let suffix = format!("r{}", unique());
        let run = tug_run(["--policy", policy, &wasm.display().to_string(), "--", &suffix]);
        run.assert_success();
        for step in [
            "ok getting-started",
            "ok manipulating-a-container",
            "ok promises",
            "ok attach-demux",
            "ok exec-hijack",
            "ok run-callback",
            "ok run-events",
            "ok demux-stream",
        ] {
            run.assert_stdout_line(step);
        }
        for s in skipped {
            run.assert_stdout_line(s);
        }
        let ok = run.stdout.lines().filter(|l| l.contains("] ok ")).count();
        assert_eq!(ok, oks, "{policy}\n{}", run.report());
        assert!(!run.stdout.contains("FAIL"), "{}", run.report());
        assert_eq!(leftovers(&suffix), Vec::<String>::new(), "{}", run.report());
    }
}

/// The SDK releases every handle it opens: 80 rounds of a followed log broken off after a frame, a log
/// read to the end and an archive destroyed half read pass under a policy that allows 60 open handles at
/// once (each round holds at least three while it runs; one kept per round would pass the limit — a
/// plugin that keeps one frame-reader per round is stopped there, with 137).
#[test]
fn the_sdk_releases_its_handles() {
    let wasm = js_plugin("script.js");
    let dir = tempfile::tempdir().unwrap();
    let tight = policy(
        dir.path(),
        "untrusted",
        "untrusted-60-handles",
        &[("handles = 1000", "handles = 60")],
    );
    let run = tug_run([
        "--policy",
        &tight.display().to_string(),
        &wasm.display().to_string(),
        "--",
        "handles",
        "80",
    ]);
    run.assert_success()
        .assert_stdout_line("handles 80 rounds 80 frames");
}

/// dockerode-style `Docker.open(NAME)` reaches the engines the run was given by name, each the daemon tug
/// was told: the shared one and one of the test's own.
#[test]
fn dockerode_opens_an_engine_by_name() {
    tug_e2e::engines::assert_opens_named_engines(&js_plugin("script.js"));
}
