//! Nothing leaks: what a run created is removed when the plugin exits, traps or runs out of time, kept
//! with `--keep`, and swept by the next `tug` when the one that ran it was killed with SIGKILL.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;
use tug::engine::{segment, Client, EngineConfig, Error, Request};
use tug_e2e::{plugin, tug, tug_run};

/// The tests of this file run one at a time: every `tug run` sweeps orphans at start-up, and the SIGKILL
/// test needs its orphan to survive until its own next run.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn client() -> Client {
    Client::new(EngineConfig::from_env().unwrap()).unwrap()
}

/// Whether a container exists (by name).
fn exists(rt: &tokio::runtime::Runtime, c: &Client, name: &str) -> bool {
    match rt.block_on(c.json::<Value>(Request::get(format!("/containers/{}/json", segment(name))))) {
        Ok(_) => true,
        Err(Error::NotFound { .. }) => false,
        Err(e) => panic!("inspecting {name}: {e}"),
    }
}

fn force_remove(rt: &tokio::runtime::Runtime, c: &Client, name: &str) {
    let _ =
        rt.block_on(c.call(Request::delete(format!("/containers/{}", segment(name))).query("force", true)));
}

fn name(what: &str) -> String {
    format!("tug-cleanup-{what}-{}", std::process::id())
}

#[test]
fn removed_when_the_plugin_exits_traps_or_times_out() {
    let _serial = serial();
    let (rt, c) = (rt(), client());
    let cases = [("leave", None, 0), ("trap", None, 134), ("wait", Some("2"), 124)];
    for (mode, timeout, code) in cases {
        let n = name(mode);
        let mut args = vec![plugin("abandon").display().to_string()];
        if let Some(t) = timeout {
            args.extend(["--timeout".into(), t.to_owned()]);
        }
        args.extend(["--".into(), mode.into(), n.clone()]);
        let run = tug_run(&args);
        assert_eq!(run.code(), Some(code), "{mode}\n{}", run.report());
        run.assert_stdout_line(&format!("started {n}"));
        if mode == "trap" {
            // The trap and the plugin's backtrace, with its function names.
            assert!(
                run.stderr.contains("tug: plugin abandon trapped:")
                    && run.stderr.contains("wasm backtrace:")
                    && run.stderr.contains("abandon::run"),
                "{}",
                run.report()
            );
        }
        let left = exists(&rt, &c, &n);
        force_remove(&rt, &c, &n);
        assert!(!left, "{mode}: container {n} was left behind\n{}", run.report());
    }
}

#[test]
fn kept_with_keep() {
    let _serial = serial();
    let (rt, c) = (rt(), client());
    let n = name("keep");
    let run = tug_run([
        plugin("abandon").display().to_string(),
        "--keep".into(),
        "--".into(),
        "leave".into(),
        n.clone(),
    ]);
    run.assert_success();
    let kept = exists(&rt, &c, &n);
    force_remove(&rt, &c, &n);
    assert!(kept, "--keep keeps the container\n{}", run.report());
}

#[test]
fn swept_by_the_next_tug_after_sigkill() {
    let _serial = serial();
    let (rt, c) = (rt(), client());
    let n = name("sigkill");
    let mut child = Command::new(tug())
        .args(["run"])
        .arg(plugin("abandon"))
        .args(["--", "wait", &n])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !exists(&rt, &c, &n) {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the plugin never created {n}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Give the plugin time to reach its blocking wait, then kill tug without a chance to clean up.
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(exists(&rt, &c, &n), "after SIGKILL nothing could remove {n} yet");

    // The next tug, running anything, sweeps the orphan at start-up.
    tug_run([plugin("hello")]).assert_success();
    let left = exists(&rt, &c, &n);
    force_remove(&rt, &c, &n);
    assert!(!left, "the next tug run swept {n}");
}

/// What carries the labels of a run that finished is nobody's leftover: a volume, and an image with the
/// labels in its config (as one a run pushed and someone pulled back), both naming a run whose tug is gone
/// but which was never recorded as unfinished, outlive the next tug's start-up sweep.
#[test]
fn a_finished_runs_labels_are_not_a_leftover() {
    let _serial = serial();
    let (rt, c) = (rt(), client());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let host = host.trim();
    let run = format!("{:016x}", std::process::id() as u64 * 7919 + 0xabc);
    let dead = format!("{}:1", 0x7fff_ffff);
    let volume = name("finished-volume");
    let body = serde_json::json!({
        "Name": volume,
        "Labels": {"tug.run": run, "tug.owner-pid": dead, "tug.host": host, "tug.keep": "0"},
    });
    rt.block_on(c.json::<Value>(Request::post("/volumes/create").json(&body).unwrap()))
        .unwrap();
    let image = format!("tug-test/{}:1", name("finished-image"));
    tug_e2e::docker(&[
        "import",
        "--change",
        &format!(
            "LABEL tug.image.run={run} tug.image.owner-pid={dead} tug.image.host={host} tug.image.keep=0"
        ),
        "/dev/null",
        &image,
    ]);
    let swept = tug_run([plugin("hello")]);
    let volume_left = rt
        .block_on(c.json::<Value>(Request::get(format!("/volumes/{volume}"))))
        .is_ok();
    let image_left = rt
        .block_on(c.json::<Value>(Request::get(format!("/images/{image}/json"))))
        .is_ok();
    let _ = rt.block_on(c.call(Request::delete(format!("/volumes/{volume}"))));
    let _ = rt.block_on(c.call(Request::delete(format!("/images/{image}"))));
    swept.assert_success();
    assert!(volume_left, "the volume was swept\n{}", swept.report());
    assert!(image_left, "the image was swept\n{}", swept.report());
}

/// A policy file: the untrusted profile with a `[wasm]` section of the test's own.
fn policy_with(dir: &std::path::Path, wasm: &str) -> std::path::PathBuf {
    let text = include_str!("../../runtime/src/policy/profiles/untrusted.toml");
    let at = text.find("[wasm]").unwrap();
    let path = dir.join("policy.toml");
    std::fs::write(&path, format!("{}[wasm]\n{wasm}\n", &text[..at])).unwrap();
    path
}

/// Runaway plugins are stopped with an error naming the limit they hit.
#[test]
fn runaways_are_stopped_naming_the_limit() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "spin",
            "cpu_time = 1.0\nwall_time = 60.0",
            "exceeded its CPU time limit of 1 s",
        ),
        (
            "alloc",
            "memory = \"64MiB\"",
            "exceeded its memory limit of 64 MiB",
        ),
        (
            "handles",
            "handles = 200",
            "exceeded its limit of 200 open handles",
        ),
    ];
    for (mode, wasm, message) in cases {
        let policy = policy_with(dir.path(), wasm);
        let t0 = Instant::now();
        let run = tug_run([
            plugin("abandon").display().to_string(),
            "--policy".into(),
            policy.display().to_string(),
            "--".into(),
            mode.into(),
        ]);
        assert_eq!(run.code(), Some(137), "{mode}\n{}", run.report());
        assert!(
            run.stderr.contains(message),
            "{mode}: stderr names the limit\n{}",
            run.report()
        );
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{mode} took {:?}",
            t0.elapsed()
        );
    }
}
