//! Python plugins: scripts built with `tug build` (componentize-py, tug's WIT and SDK, docker-py) and run
//! against the real daemon — a plain script behaves as under `python SCRIPT.py`, and an unchanged
//! docker-py script (`plugins/python/docker_tour.py`) works under `untrusted` and `ci`.

use std::{path::PathBuf, process::Command};

use tug_e2e::{docker, python_plugin, tug, tug_build, tug_run, tug_run_with, workspace_root, TEST_IMAGE};

fn built(name: &str) -> PathBuf {
    python_plugin(name)
}

/// A script's argv, exit codes and tracebacks are CPython's; a second build of the same inputs is a
/// cache hit; a syntax error and a module that cannot be bundled are one line naming file and line.
#[test]
fn a_script_runs_as_python_runs_it() {
    let wasm = built("script");
    let plugin = wasm.display().to_string();
    let run = tug_run([&plugin, "--", "a", "b"]);
    run.assert_success()
        .assert_stdout_line(r#"argv ["script", "a", "b"]"#)
        .assert_stdout_line("done");
    for (args, code, says) in [
        (vec!["exit", "7"], 7, None),
        (vec!["exit", "0"], 0, None),
        (vec!["message"], 1, Some("a message instead of a code")),
        (vec!["raise"], 1, Some("ValueError: raised on purpose")),
    ] {
        let mut argv = vec![plugin.as_str(), "--"];
        argv.extend(args.iter().copied());
        let run = tug_run(&argv);
        assert_eq!(run.code(), Some(code), "{args:?}\n{}", run.report());
        if let Some(says) = says {
            assert!(run.stderr.contains(says), "{args:?}\n{}", run.report());
        }
    }
    let raised = tug_run([&plugin, "--", "raise"]);
    assert!(
        raised.stderr.contains("Traceback (most recent call last)")
            && raised
                .stderr
                .contains(r#"File "script.py", line 19, in <module>"#)
            && !raised.stderr.contains("_script.py"),
        "the traceback is the script's own\n{}",
        raised.report()
    );

    // The same inputs again: the build cache answers.
    let again = Command::new(tug())
        .args(["build"])
        .arg(workspace_root().join("plugins/python/script.py"))
        .arg("-o")
        .arg(wasm.with_file_name("script-again.wasm"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(
        again.status.success() && said.contains("(cached build)"),
        "{said}"
    );
    assert_eq!(
        std::fs::read(&wasm).unwrap(),
        std::fs::read(wasm.with_file_name("script-again.wasm")).unwrap()
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.py");
    std::fs::write(&bad, "import os\nx = (1,\nprint(x)\n").unwrap();
    let (code, said) = tug_build(&bad);
    assert_eq!(code, Some(125), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.contains("bad.py:2:") && said.contains("never closed"),
        "{said}"
    );
    let missing = dir.path().join("missing.py");
    std::fs::write(&missing, "import json\nimport no_such_module_anywhere\n").unwrap();
    let (code, said) = tug_build(&missing);
    assert_eq!(code, Some(125), "{said}");
    assert!(
        said.contains("missing.py:2: cannot import no_such_module_anywhere"),
        "{said}"
    );
    assert_eq!(said.lines().count(), 1, "{said}");

    // The script's name is an input too: the same text under another name is another build (its
    // tracebacks name it).
    // (A name of its own per test run: an earlier run's build of it would be a cache hit.)
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let renamed = dir.path().join(format!("renamed_{stamp}.py"));
    std::fs::copy(workspace_root().join("plugins/python/script.py"), &renamed).unwrap();
    let out = Command::new(tug()).arg("build").arg(&renamed).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !said.contains("(cached build)"), "{said}");
    let raised = tug_run([
        &renamed.with_extension("wasm").display().to_string(),
        "--",
        "raise",
    ]);
    assert!(
        raised
            .stderr
            .contains(&format!(r#"File "renamed_{stamp}.py", line 19"#)),
        "{}",
        raised.report()
    );
}

/// An unchanged docker-py script: containers (run, list, logs streamed and followed, wait), errors
/// (NotFound, ContainerError, a policy denial as APIError 403 — tug's `PolicyDenied` subclass with rule,
/// field and reason), exec_run (plain, demux, stream, tty, a socket with stdin), `attach_socket` writing
/// stdin, archives both ways with the stat, export, stats, top, events, a network with IPAM and a
/// volume `Mount`, and the low-level `APIClient` with a unix `base_url` — under `untrusted`.
#[test]
fn an_unchanged_docker_py_script_runs_under_untrusted() {
    let wasm = built("docker_tour").display().to_string();
    let run = tug_run([&wasm, "--", "basic"]);
    run.assert_success().assert_stdout_line("all passed");
    for check in [
        "version",
        "run_and_list",
        "logs",
        "errors",
        "exec_run",
        "attach_socket",
        "archive",
        "stats_events",
        "networks_volumes",
        "low_level",
    ] {
        run.assert_stdout_line(&format!("PASS {check}:"));
    }
}

/// Builds from a file object with the log stream, tag, history and save — under `ci`, which grants
/// builds; the same script under `untrusted` gets the denial as docker-py's APIError (tug's
/// `PolicyDenied` subclass).
#[test]
fn docker_py_builds_under_ci() {
    let wasm = built("docker_tour").display().to_string();
    let run = tug_run(["--policy", "ci", &wasm, "--", "images"]);
    run.assert_success().assert_stdout_line("PASS build_save_load:");
    let denied = tug_run([&wasm, "--", "images"]);
    assert_eq!(denied.code(), Some(77), "{}", denied.report());
    denied
        .assert_stdout_line("FAIL build_save_load: PolicyDenied: 403")
        .assert_stdout_line("rule `operations.build`");
}

/// The Python route table and the typed layer's function table are generated from `wit/` and are
/// current, and every module, function, parameter, options field and record they name exists in the
/// bindings componentize-py generates from the same WIT.
#[test]
fn the_python_route_table_is_the_wits() {
    let root = workspace_root();
    let check = Command::new("python3")
        .arg(root.join("scripts/gen_python_routes.py"))
        .arg("--check")
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "sdk/python/tug/_routes.py is not what scripts/gen_python_routes.py generates: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let tools = tug::cli::build::tools_dir().expect("a tools directory");
    let bindings = tempfile::tempdir().unwrap();
    let generated = Command::new("python3")
        .env("PYTHONPATH", tools.join("componentize-py"))
        .args([
            "-c",
            "import sys; from componentize_py import script; sys.argv[0] = 'componentize-py'; sys.exit(script())",
            "-d",
        ])
        .arg(root.join("wit"))
        .args(["-w", "tug:engine/plugin", "bindings"])
        .arg(bindings.path())
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let out = tempfile::tempdir().unwrap();
    let against = Command::new("python3")
        .arg(root.join("scripts/gen_python_routes.py"))
        .arg("--bindings")
        .arg(bindings.path())
        .arg("--out")
        .arg(out.path().join("_routes.py"))
        .arg("--api-out")
        .arg(out.path().join("_api.py"))
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        against.status.success(),
        "the route table names what the bindings lack: {}{}",
        String::from_utf8_lossy(&against.stdout),
        String::from_utf8_lossy(&against.stderr)
    );
    for generated in ["_routes.py", "_api.py"] {
        assert_eq!(
            std::fs::read_to_string(out.path().join(generated)).unwrap(),
            std::fs::read_to_string(root.join("sdk/python/tug").join(generated)).unwrap(),
            "{generated}"
        );
    }
}

/// docker-py's tag, push (its progress stream, with the digest), remove and pull against the local
/// registry under `ci`, which allows that registry; `untrusted` refuses the tag as docker-py's APIError.
#[test]
fn docker_py_pushes_and_pulls_with_the_local_registry_under_ci() {
    let wasm = built("docker_tour").display().to_string();
    let run = tug_run(["--policy", "ci", &wasm, "--", "registry"]);
    run.assert_success().assert_stdout_line("PASS push_pull:");
    let denied = tug_run([&wasm, "--", "registry"]);
    assert_eq!(denied.code(), Some(77), "{}", denied.report());
    denied
        .assert_stdout_line("FAIL push_pull: PolicyDenied: 403")
        .assert_stdout_line("rule `operations.images`");
}

/// A docker config directory holding `auths` for the basic-auth registry (setup's user), or none.
fn docker_config(with_auth: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let body = if with_auth {
        let (user, password) = registry_user();
        serde_json::json!({"auths": {"127.0.0.1:5001": {"username": user, "password": password}}}).to_string()
    } else {
        "{}".to_owned()
    };
    std::fs::write(dir.path().join("config.json"), body).unwrap();
    dir
}

/// The basic-auth registry's user and password (`scripts/setup`'s, which the environment may change).
fn registry_user() -> (String, String) {
    (
        std::env::var("TUG_REGISTRY_USER").unwrap_or_else(|_| "tug".into()),
        std::env::var("TUG_REGISTRY_PASSWORD").unwrap_or_else(|_| "tug-secret".into()),
    )
}

/// docker-py against the basic-auth registry under `ci`: with no credentials anywhere the registry
/// refuses the push; with the script's `auth_config` (the `X-Registry-Auth` header, decoded into the WIT's
/// `auth-config`) push and pull go through; with none in the script, the host's docker config supplies
/// them (the plugin never sees them).
#[test]
fn docker_py_registry_credentials_come_from_the_script_or_the_host() {
    let wasm = built("docker_tour").display().to_string();
    let (user, password) = registry_user();
    let none = docker_config(false);
    let run = tug_run_with(
        ["--policy", "ci", &wasm, "--", "registry-auth", &user, &password],
        &[("DOCKER_CONFIG", none.path().as_os_str())],
    );
    run.assert_success().assert_stdout_line("PASS push_pull_auth:");
    let host = docker_config(true);
    let run = tug_run_with(
        ["--policy", "ci", &wasm, "--", "registry-host-auth"],
        &[("DOCKER_CONFIG", host.path().as_os_str())],
    );
    run.assert_success()
        .assert_stdout_line("PASS push_pull_host_auth:");
    assert!(!run.stdout.contains(&password), "{}", run.report());
    let run = tug_run_with(
        ["--policy", "ci", &wasm, "--", "registry-host-auth"],
        &[("DOCKER_CONFIG", none.path().as_os_str())],
    );
    assert_eq!(run.code(), Some(1), "{}", run.report());
    run.assert_stdout_line("no basic auth credentials");
}

/// tug's typed layer (`import tug`): keyword options, filters as dicts, decoded JSON, handles as context
/// managers, `PolicyDenied` with rule and field, exec with stdin, archives both ways, `tug.wait` on two
/// log streams, events — under `untrusted`; and a daemonless registry edit (pull, add a layer, edit Env,
/// push: only the new layer and config are sent) under `ci`.
#[test]
fn the_typed_python_layer_runs_under_untrusted_and_edits_registry_images_under_ci() {
    let wasm = built("typed_tour").display().to_string();
    let run = tug_run([&wasm]);
    run.assert_success().assert_stdout_line("all passed");
    for check in [
        "lifecycle",
        "errors",
        "exec_socket",
        "archive",
        "wait_on_two",
        "events_and_volumes",
    ] {
        run.assert_stdout_line(&format!("PASS {check}:"));
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let base = format!("127.0.0.1:5000/tug-e2e/typed-{}-{stamp}:base", std::process::id());
    docker(&["tag", TEST_IMAGE, &base]);
    docker(&["push", &base]);
    let _ = Command::new("docker").args(["rmi", &base]).output();
    let run = tug_run(["--policy", "ci", &wasm, "--", "registry", &base]);
    run.assert_success().assert_stdout_line("PASS registry: 'sha256:");
    let denied = tug_run([&wasm, "--", "registry", &base]);
    assert_eq!(denied.code(), Some(77), "{}", denied.report());
    denied.assert_stdout_line("FAIL registry: PolicyDenied");
}

/// A script's own modules (a module and a package next to it, imported directly or through each other)
/// are bundled and hashed with it: a change to one is a new build. Syntax newer than the host's Python
/// (PEP 695's `type` statement) is parsed by the component's Python; a syntax error found there is
/// still one line naming file and line.
#[test]
fn a_scripts_own_modules_and_newer_syntax_are_built() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("helpers")).unwrap();
    std::fs::write(
        d.join("main.py"),
        "import sys\nimport greet\nfrom helpers import shout\n\ntype Pair = tuple[str, str]\n\
         pair: Pair = (greet.hello(sys.argv[1]), shout.loud('x'))\nprint(*pair)\n",
    )
    .unwrap();
    std::fs::write(
        d.join("greet.py"),
        "import textwrap\nfrom helpers.shout import loud\n\n\ndef hello(name):\n    return loud(textwrap.dedent('hello ') + name)\n",
    )
    .unwrap();
    std::fs::write(d.join("helpers/__init__.py"), "").unwrap();
    std::fs::write(
        d.join("helpers/shout.py"),
        "from . import suffix\n\n\ndef loud(s):\n    return s.upper() + suffix.MARK\n",
    )
    .unwrap();
    std::fs::write(d.join("helpers/suffix.py"), "MARK = '!'\n").unwrap();
    std::fs::write(d.join("unrelated.py"), "raise SystemExit('never imported')\n").unwrap();
    let build = |expect_cached: bool| {
        let out = Command::new(tug())
            .arg("build")
            .arg(d.join("main.py"))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{said}");
        assert_eq!(said.contains("(cached build)"), expect_cached, "{said}");
    };
    // A unique module text per test run, so an earlier run's build is not a cache hit.
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::fs::write(d.join("helpers/suffix.py"), format!("MARK = '!'  # {stamp}\n")).unwrap();
    build(false);
    let wasm = d.join("main.wasm").display().to_string();
    tug_run([&wasm, "--", "tug"])
        .assert_success()
        .assert_stdout_line("HELLO TUG! X!");
    build(true);
    std::fs::write(d.join("helpers/suffix.py"), format!("MARK = '?'  # {stamp}\n")).unwrap();
    build(false);
    tug_run([&wasm, "--", "tug"])
        .assert_success()
        .assert_stdout_line("HELLO TUG? X?");

    let bad = d.join("newer_bad.py");
    std::fs::write(&bad, format!("# {stamp}\ntype T = int\nx = (1,\n")).unwrap();
    let (code, said) = tug_build(&bad);
    assert_eq!(code, Some(125), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.contains("newer_bad.py:3:") && said.contains("never closed"),
        "{said}"
    );
}

/// docker-py reaches the engines the run was given by name (`base_url="tug://NAME"`), each the daemon
/// tug was told: the shared one and one of the test's own.
#[test]
fn docker_py_opens_an_engine_by_name() {
    tug_e2e::engines::assert_opens_named_engines(&built("script"));
}
