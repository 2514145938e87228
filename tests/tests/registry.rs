//! The `registry` plugin: images edited without a daemon, against the local registry on 127.0.0.1:5000
//! and the engine (only to load and run the result).
//!
//! Each test pushes its own copy of the test image under a unique tag with the docker CLI first, so the
//! registry has a real image with real layers to pull.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::Value;
use tug_e2e::{docker, plugin, tug_run, unique, Run};

const REGISTRY: &str = "127.0.0.1:5000";

/// Pushes the test image to the local registry as `tug-e2e/base:<tag>` and returns the reference.
fn push_base(tag: &str) -> String {
    let reference = format!("{REGISTRY}/tug-e2e/base:{tag}");
    docker(&["tag", "tug-test/busybox:latest", &reference]);
    docker(&["push", &reference]);
    // Only the local tag goes (the registry keeps the image). Untagging is tidying, not part of the test:
    // the daemon has been seen to answer "reference does not exist" when tags of one image go at once.
    let _ = Command::new("docker").args(["rmi", &reference]).output();
    reference
}

/// A policy like `ci` that lets `dir` become a layer.
fn policy(dir: &Path, out: &Path) -> PathBuf {
    let text = include_str!("../../runtime/src/policy/profiles/ci.toml")
        .replace("name = \"ci\"", "name = \"registry-e2e\"")
        .replace(
            "layer_dirs = []",
            &format!("layer_dirs = [{:?}]", dir.display().to_string()),
        );
    let path = out.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The JSON after `key: ` on the plugin's output line that has it.
fn json_line(run: &Run, key: &str) -> Value {
    let prefix = format!("[registry] {key}: ");
    let line = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key:?} line\n{}", run.report()));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{key} line {line:?}: {e}"))
}

/// The registry's storage file of blob `digest`.
fn blob_file(digest: &str) -> PathBuf {
    let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
    let dev = std::env::var("TUG_DEV_DIR").unwrap_or_else(|_| "/var/tmp/tug-dev".into());
    Path::new(&dev)
        .join("registry-5000/data/docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data")
}

#[test]
fn registry_roundtrip_loads_runs_and_then_refuses_a_corrupt_blob() {
    let tag = unique();
    let base = push_base(&tag);
    // A repository of this test's own: the base layer must be mounted into it, not found there.
    let dest = format!("{REGISTRY}/tug-e2e/edited-{tag}:v1");
    let work = tempfile::tempdir().unwrap();
    let layer_dir = work.path().join("layer");
    std::fs::create_dir(&layer_dir).unwrap();
    // Unique contents: this layer's blob is this test's alone, so corrupting it below harms no one else.
    let dir_file = format!("a host directory's file, run {tag}\n");
    std::fs::write(layer_dir.join("file.txt"), &dir_file).unwrap();
    let policy = policy(&layer_dir, work.path());

    let run = tug_run([
        "--policy".into(),
        policy.display().to_string(),
        "--env".into(),
        format!("TUG_DIR_FILE={dir_file}"),
        plugin("registry").display().to_string(),
        "--".into(),
        "roundtrip".into(),
        base.clone(),
        dest.clone(),
        layer_dir.display().to_string(),
    ]);
    run.assert_success()
        .assert_stdout_line("from a streamed tar")
        .assert_stdout_line("env has TUG_GREETING")
        .assert_stdout_line("[registry] docker save tar:")
        .assert_stdout_line("[registry] OCI layout tar:")
        .assert_stdout_line("[registry] ok");
    let report = json_line(&run, "report");
    // The base layer was mounted from the base's repository, not sent. The host directory's layer and the
    // config are new (unique contents) and were uploaded; the two other new layers are the same bytes in
    // every run (fixed mtimes), so a registry that has them already (an earlier run) finds them present.
    let count = |k: &str| report[k].as_u64().unwrap();
    assert_eq!(count("blobs_mounted"), 1, "{report}");
    assert!(count("blobs_uploaded") >= 2, "{report}");
    assert_eq!(
        count("blobs_uploaded") + count("blobs_skipped") + count("blobs_mounted"),
        5,
        "{report}"
    );
    assert!(
        count("bytes_uploaded") < 64 * 1024,
        "only the small new blobs: {report}"
    );
    // Nothing of the run is left in the engine: the loaded image was removed by the plugin.
    let left = docker(&["images", "-q", &dest]);
    assert!(left.trim().is_empty(), "image {dest} left behind: {left}");

    // Corrupt the host directory's layer in the registry's storage (same length): reading it now fails
    // with an error naming the blob and both digests.
    let digest = run
        .stdout
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix("[registry] added layer ")?;
            rest.contains(" from ")
                .then(|| rest.split_whitespace().next().unwrap().to_owned())
                .filter(|_| rest.ends_with(&layer_dir.display().to_string()))
        })
        .unwrap_or_else(|| {
            panic!(
                "no 'added layer … from {}' line\n{}",
                layer_dir.display(),
                run.report()
            )
        });
    let file = blob_file(&digest);
    let mut bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();

    let run = tug_run([
        "--policy".into(),
        policy.display().to_string(),
        plugin("registry").display().to_string(),
        "--".into(),
        "save".into(),
        dest.clone(),
    ]);
    assert_eq!(run.code(), Some(1), "{}", run.report());
    run.assert_stdout_line("save failed")
        .assert_stdout_line("digest mismatch")
        .assert_stdout_line(&digest);
}

#[test]
fn registry_lazy_push_transfers_no_layer_bytes() {
    let tag = unique();
    let base = push_base(&tag);
    let dest = format!("{REGISTRY}/tug-e2e/renamed-{tag}:v1");
    let run = tug_run([
        "--policy".into(),
        "ci".into(),
        plugin("registry").display().to_string(),
        "--".into(),
        "lazy".into(),
        base,
        dest,
    ]);
    run.assert_success();
    let report = json_line(&run, "report");
    let stats = json_line(&run, "stats");
    let size = json_line(&run, "image-size").as_u64().unwrap();
    println!("lazy push: image layers {size} bytes; report {report}; stats {stats}");
    assert!(size > 100_000, "the test image has real layers: {size}");
    assert_eq!(report["bytes_uploaded"], 0, "{report}");
    assert_eq!(report["blobs_uploaded"], 0, "{report}");
    // The layer and the config were mounted from the base's repository (same registry).
    assert_eq!(report["blobs_mounted"], 2, "{report}");
    assert_eq!(stats["blob_bytes_uploaded"], 0, "{stats}");
    // Only the config blob was downloaded (at pull); no layer byte.
    let downloaded = stats["blob_bytes_downloaded"].as_u64().unwrap();
    assert!(
        downloaded < 16 * 1024,
        "downloaded {downloaded} blob bytes: {stats}"
    );
}

#[test]
fn registry_denials_under_untrusted() {
    let tag = unique();
    let base = push_base(&tag);
    let outside = tempfile::tempdir().unwrap();
    let run = tug_run([
        plugin("registry").display().to_string(),
        "--".into(),
        "denials".into(),
        base,
        outside.path().display().to_string(),
    ]);
    run.assert_success()
        .assert_stdout_line("denied registries (pull from a registry the policy does not name)")
        .assert_stdout_line("denied operations.registry (push)")
        .assert_stdout_line("denied registry.layer-dirs (layer from a host directory)")
        .assert_stdout_line("denied labels.reserved (forged ownership label)")
        .assert_stdout_line("[registry] busy: the image is busy")
        .assert_stdout_line("a dropped upload added nothing");
}
