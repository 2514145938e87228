//! python-docker 0.2's API over tug's `registry` interface (`sdk/python/python_docker`): an unchanged
//! python-docker script (`plugins/python/registry_tour.py`) pulls lazily from the local registry, edits,
//! pushes only new blobs, pulls back, lists tags and the catalog, writes a `docker save` tar into a
//! preopened directory and runs the image — under a policy like `ci`; under `untrusted` the push is
//! refused, naming the rule.
//!
//! Each test pushes its own base image first: the test image with the docker CLI, then one more layer with
//! `tug image add-layer`, so the script starts from two layers under a repository of its own.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use serde_json::Value;
use tug_e2e::{attack::policy, docker, python_plugin, tug, tug_run, unique, Run, TEST_IMAGE};

const REGISTRY: &str = "127.0.0.1:5000";

/// `plugins/python/registry_tour.py`, built once per test binary.
fn built() -> PathBuf {
    python_plugin("registry_tour")
}

/// Pushes a two-layer base to the local registry as `tug-pd/base-<unique>:v1` (the test image, then a
/// layer with `/junk`) and returns its repository.
fn push_base(unique: &str, work: &Path) -> String {
    let busybox = format!("{REGISTRY}/tug-pd/busybox:{unique}");
    docker(&["tag", TEST_IMAGE, &busybox]);
    docker(&["push", &busybox]);
    let _ = Command::new("docker").args(["rmi", &busybox]).output();
    let junk = work.join("junk");
    std::fs::write(&junk, "removed by the script\n").unwrap();
    let repo = format!("tug-pd/base-{unique}");
    let added = Command::new(tug())
        .args([
            "image",
            "add-layer",
            &busybox,
            &format!("{REGISTRY}/{repo}:v1"),
            "--file",
        ])
        .arg(format!("{}:/junk", junk.display()))
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "tug image add-layer: {}",
        String::from_utf8_lossy(&added.stderr)
    );
    repo
}

/// The script's arguments.
fn args(wasm: &Path, policy: &[&str], base: &str, new: &str, host_dir: &str) -> Vec<String> {
    let mut a: Vec<String> = policy.iter().map(|s| (*s).to_owned()).collect();
    a.push(wasm.display().to_string());
    a.push("--".into());
    for s in [&format!("http://{REGISTRY}"), base, "v1", new, "/out", host_dir] {
        a.push(s.to_owned());
    }
    a
}

/// The line of the run's stdout that has `text`.
fn line<'a>(run: &'a Run, text: &str) -> &'a str {
    run.stdout
        .lines()
        .find(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no line with {text:?}\n{}", run.report()))
}

#[test]
fn a_python_docker_script_pulls_edits_pushes_writes_and_runs_under_ci() {
    let u = unique();
    let work = tempfile::tempdir().unwrap();
    let base = push_base(&u, work.path());
    let new = format!("tug-pd/edited-{u}");
    let out = work.path().join("out");
    let host_dir = work.path().join("host");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(host_dir.join("hello.txt"), "hello from the host\n").unwrap();
    // `ci`, with a read-write preopen for the tar and the host directory as a layer source.
    let policy = policy(
        work.path(),
        "ci",
        "python-docker",
        &[
            (
                "[operations]",
                &format!(
                    "preopens = [{{ host = {:?}, guest = \"/out\", read_only = false }}]\n\n[operations]",
                    out.display().to_string()
                ),
            ),
            (
                "layer_dirs = []",
                &format!("layer_dirs = [{:?}]", host_dir.display().to_string()),
            ),
        ],
    );
    let wasm = built();
    let policy = policy.display().to_string();
    let audit = work.path().join("audit.jsonl");
    let audit_path = audit.display().to_string();
    let started = Instant::now();
    let run = tug_run(args(
        &wasm,
        &["--policy", &policy, "--audit", &audit_path],
        &base,
        &new,
        &host_dir.display().to_string(),
    ));
    println!("tug run registry_tour: {:.1} s", started.elapsed().as_secs_f64());
    run.assert_success().assert_stdout_line("all passed");
    for step in [
        "pull_lazy",
        "edit",
        "push",
        "pull_back",
        "listings",
        "listing_elsewhere",
        "write_filename",
        "run",
        "delete_unsupported",
    ] {
        run.assert_stdout_line(&format!("PASS {step}:"));
    }
    println!("{}", line(&run, "PASS push:"));

    // The listings are audited like every registry call: allowed, and refused by `registries`.
    let audited: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let find = |op: &str, decision: &str| {
        audited
            .iter()
            .find(|l| l["operation"] == op && l["decision"] == decision)
            .unwrap_or_else(|| panic!("no {decision} line for {op}: {audited:?}"))
    };
    assert_eq!(
        find("RegistryListTags", "allow")["target"],
        format!("{REGISTRY}/{new}")
    );
    find("RegistryCatalog", "allow");
    let refused = find("RegistryCatalog", "deny");
    assert_eq!(refused["rule"], "registries");
    assert_eq!(refused["field"], "registry");

    // The image `run` loaded was the run's: tug's cleanup removed it.
    let reference = format!("{REGISTRY}/{new}:1");
    let inspect = Command::new("docker")
        .args(["image", "inspect", &reference])
        .output()
        .unwrap();
    assert!(
        !inspect.status.success(),
        "{reference} outlived the run that loaded it"
    );

    // The tar the script wrote is on the host, and `docker load` takes it.
    let tar = out.join("example-docker-image.tar");
    assert!(tar.is_file(), "{} missing\n{}", tar.display(), run.report());
    assert!(
        !out.join("example-docker-image.tar.part").exists(),
        "a partial file was left"
    );
    let loaded = docker(&["load", "-i", &tar.display().to_string()]);
    assert!(loaded.contains(&format!("Loaded image: {reference}")), "{loaded}");
    let said = Command::new("docker")
        .args(["run", "--rm", &reference, "cat", "/this/is/a/test1"])
        .output()
        .unwrap();
    let _ = Command::new("docker").args(["rmi", &reference]).output();
    assert_eq!(String::from_utf8_lossy(&said.stdout), "this is test 1");
}

#[test]
fn under_untrusted_the_push_is_refused_naming_the_rule() {
    let u = unique();
    let work = tempfile::tempdir().unwrap();
    let base = push_base(&u, work.path());
    let new = format!("tug-pd/refused-{u}");
    let run = tug_run(args(&built(), &[], &base, &new, "-"));
    assert_eq!(run.code(), Some(77), "{}", run.report());
    run.assert_stdout_line("PASS pull_lazy:")
        .assert_stdout_line("PASS edit:");
    let refused = line(&run, "FAIL push:");
    assert!(
        refused.contains("PolicyDenied") && refused.contains("rule `operations.registry`"),
        "{refused}"
    );
}
