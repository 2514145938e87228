//! `tug check`, `tug policy show`, `tug runs` and `tug sweep`, run as a user runs them.

use std::{
    path::Path,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;
use tug_e2e::{docker, plugin, tug};

/// `tug ARGS…` with `env`; its exit code, stdout and stderr.
fn tug_with(args: &[&str], env: &[(&str, &Path)]) -> (Option<i32>, String, String) {
    let out: Output = Command::new(tug())
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .stdin(Stdio::null())
        .output()
        .expect("running tug");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    println!("$ tug {}\n{stdout}", args.join(" "));
    eprintln!("{stderr}");
    (out.status.code(), stdout, stderr)
}

fn tug_cmd(args: &[&str]) -> (Option<i32>, String, String) {
    tug_with(args, &[])
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The area of a `tug check --json` report.
fn area<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["areas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["area"] == name)
        .unwrap_or_else(|| panic!("no area {name} in {report:#}"))
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

/// The `images` plugin builds, pulls and pushes images: `untrusted` denies builds and image writes, and
/// `tug check` names them before anything runs (exit 0: tug provides all it imports); `ci` grants them.
#[test]
fn check_names_what_untrusted_denies_and_ci_grants() {
    let images = plugin("images").display().to_string();
    let (code, out, err) = tug_cmd(&["check", &images, "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let report = json(&out);
    assert_eq!(report["provided"], true);
    assert_eq!(report["runnable"], true);
    assert_eq!(report["policy"], "untrusted");
    assert_eq!(report["denies"], true);
    let build = area(&report, "build");
    assert_eq!(build["verdict"], "denied", "{build:#}");
    assert!(
        strings(&build["denied"]).contains(&"image-streams.build"),
        "{build:#}"
    );
    let imgs = area(&report, "images");
    assert_eq!(imgs["verdict"], "read-only", "{imgs:#}");
    assert!(
        strings(&imgs["denied"]).contains(&"image-streams.push"),
        "{imgs:#}"
    );
    assert_eq!(area(&report, "containers")["verdict"], "granted");
    // Each imported function carries its operation and the gate's reason.
    let streams = report["imports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["name"]
                .as_str()
                .unwrap()
                .starts_with("tug:engine/image-streams@")
        })
        .expect("image-streams is imported");
    let build_fn = streams["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["function"] == "image-streams.build")
        .unwrap();
    assert_eq!(build_fn["operation"], "ImageBuild");
    assert_eq!(build_fn["granted"], false);
    assert!(build_fn["denial"].as_str().unwrap().contains("operations.build"));

    // The table says the same, in words.
    let (code, text, _) = tug_cmd(&["check", &images]);
    assert_eq!(code, Some(0));
    assert!(text.contains("does NOT grant"), "{text}");
    let build_row = text
        .lines()
        .find(|l| l.trim_start().starts_with("build "))
        .unwrap_or_else(|| panic!("no build row:\n{text}"));
    assert!(
        build_row.contains("denied") && build_row.contains("image-streams.build"),
        "{build_row}"
    );

    // Under ci, everything it can reach is granted.
    for name in ["images", "ci-run"] {
        let path = plugin(name).display().to_string();
        let (code, out, err) = tug_cmd(&["check", &path, "--policy", "ci", "--json"]);
        assert_eq!(code, Some(0), "{name}: {err}");
        let report = json(&out);
        assert_eq!(report["denies"], false, "{name}: {report:#}");
        for a in report["areas"].as_array().unwrap() {
            assert_eq!(a["verdict"], "granted", "{name}: {a:#}");
        }
        assert!(area(&report, "build")["functions"]
            .as_array()
            .is_some_and(|f| !f.is_empty()));
    }
}

/// A component importing an interface by hand: `(component (import NAME (instance (export "go"
/// (func)))))` in the binary format.
fn component_importing(name: &str) -> Vec<u8> {
    fn leb(mut n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }
    fn named(s: &str) -> Vec<u8> {
        [leb(s.len()), s.as_bytes().to_vec()].concat()
    }
    fn section(id: u8, body: Vec<u8>) -> Vec<u8> {
        [vec![id], leb(body.len()), body].concat()
    }
    // An instance type: a func type `() -> ()`, exported as `go`.
    let instance = [
        vec![0x42, 2, 0x01, 0x40, 0x00, 0x01, 0x00, 0x04, 0x00],
        named("go"),
        vec![0x01, 0x00],
    ]
    .concat();
    let types = section(7, [vec![1], instance].concat());
    let import = section(10, [vec![1, 0x00], named(name), vec![0x05, 0x00]].concat());
    [b"\0asm\x0d\x00\x01\x00".to_vec(), types, import].concat()
}

/// Not a component, or importing what tug does not provide: exit 125, naming the file or the import.
#[test]
fn check_refuses_what_tug_cannot_run_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.wasm");
    std::fs::write(&text, "not wasm").unwrap();
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let missing = dir.path().join("absent.wasm");
    for (path, says) in [
        (&text, "is not a WebAssembly component"),
        (&core, "core WebAssembly module, not a component"),
        (&missing, "no such file"),
    ] {
        let (code, out, err) = tug_cmd(&["check", path.to_str().unwrap()]);
        assert_eq!(code, Some(125), "{}: {out}{err}", path.display());
        assert!(
            err.contains(says) && err.contains(path.to_str().unwrap()),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }

    let teleport = dir.path().join("teleport.wasm");
    std::fs::write(&teleport, component_importing("tug:engine/teleport@0.1.0")).unwrap();
    let (code, out, err) = tug_cmd(&["check", teleport.to_str().unwrap()]);
    assert_eq!(code, Some(125), "{out}{err}");
    assert!(err.contains("`tug:engine/teleport@0.1.0`"), "{err}");
    assert!(err.contains("tug does not provide"), "{err}");
    assert!(out.contains("NOT PROVIDED"), "{out}");
    let (code, out, _) = tug_cmd(&["check", teleport.to_str().unwrap(), "--json"]);
    assert_eq!(code, Some(125));
    let report = json(&out);
    assert_eq!(report["provided"], false);
    assert_eq!(report["imports"][0]["name"], "tug:engine/teleport@0.1.0");
    assert_eq!(report["imports"][0]["provided"], false);

    // A policy that cannot be read is named too.
    let (code, _, err) = tug_cmd(&["check", teleport.to_str().unwrap(), "--policy", "nonesuch"]);
    assert_eq!(code, Some(125));
    assert!(err.contains("nonesuch"), "{err}");
}

/// `tug policy show`: every setting after defaults, one explained line each, from a profile or a file.
#[test]
fn policy_show_explains_every_setting() {
    let (code, out, err) = tug_cmd(&["policy", "show"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("# policy untrusted"), "{out}");
    let lines: Vec<&str> = out.lines().skip(1).collect();
    assert!(lines.len() > 40, "{out}");
    for line in &lines {
        let (setting, why) = line
            .split_once(" — ")
            .unwrap_or_else(|| panic!("unexplained: {line}"));
        assert!(setting.contains(" = ") && !why.trim().is_empty(), "{line}");
    }
    let line = |out: &str, key: &str| -> String {
        out.lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no {key} in\n{out}"))
            .to_owned()
    };
    assert!(line(&out, "operations.build").contains("\"none\""));
    assert!(line(&out, "containers.memory").contains("\"512MiB\""));
    assert!(line(&out, "containers.binds").contains("no host path may be bind-mounted"));

    // A file: what it leaves out gets the defaults, and those are shown too.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    std::fs::write(
        &file,
        "name = \"mine\"\n[operations]\nbuild = \"write\"\n[[preopens]]\nhost = \"/tmp\"\nguest = \"/data\"\n",
    )
    .unwrap();
    let (code, out, err) = tug_cmd(&["policy", "show", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(line(&out, "operations.build").contains("\"write\""));
    assert!(line(&out, "operations.containers").contains("\"none\""));
    assert!(line(&out, "wasm.memory").contains("\"1GiB\""), "the default");
    assert!(line(&out, "quota.containers").contains("no quota"));
    assert!(line(&out, "preopens").contains("guest = \"/data\""));
    let (code, out, _) = tug_cmd(&["policy", "show", file.to_str().unwrap(), "--json"]);
    assert_eq!(code, Some(0));
    let settings = json(&out);
    let memory = settings
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "containers.memory")
        .unwrap();
    assert_eq!(memory["value"], Value::Null);
    assert!(memory["explanation"]
        .as_str()
        .unwrap()
        .contains("no memory ceiling"));

    // A bad file: one line naming the file, the line and the key.
    std::fs::write(&file, "name = \"mine\"\n[containers]\nprivileged = true\n").unwrap();
    let (code, _, err) = tug_cmd(&["policy", "show", file.to_str().unwrap()]);
    assert_eq!(code, Some(125));
    assert!(err.contains("mine.toml") && err.contains("privileged"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

/// Whether a container exists (by name).
fn exists(name: &str) -> bool {
    Command::new("docker")
        .args(["container", "inspect", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Removes the test's container whatever happens.
struct Remove(String);
impl Drop for Remove {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.0])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The run in `tug runs --json` with this id.
fn listed(runs: &str, run: &str) -> Option<Value> {
    json(runs)
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run"] == run)
        .cloned()
}

/// A live run is listed as live and is not swept; once its tug is killed (SIGKILL: no cleanup), it is
/// listed as orphaned, `--dry-run` lists its container without removing it, and `--run ID` removes it
/// and its record. The state directory is the test's own, so no other tug on the host sweeps the orphan
/// first (nor does this test's sweep touch another's).
#[test]
fn runs_lists_and_sweep_removes_an_orphan_never_a_live_run() {
    let state = tempfile::tempdir().unwrap();
    let env = [("TUG_STATE_DIR", state.path())];
    let name = format!("tug-cli-tools-{}", tug_e2e::unique());
    let _remove = Remove(name.clone());
    let mut child = Command::new(tug())
        .arg("run")
        .arg(plugin("abandon"))
        .args(["--", "wait", &name])
        .env("TUG_STATE_DIR", state.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !exists(&name) {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the plugin never created {name}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let run = docker(&["inspect", "-f", "{{index .Config.Labels \"tug.run\"}}", &name])
        .trim()
        .to_owned();
    assert_eq!(run.len(), 16, "{run:?}");

    // Live: listed with its tug's pid; refused by --run, left alone by a sweep of everything.
    let (code, out, err) = tug_with(&["runs", "--json"], &env);
    assert_eq!(code, Some(0), "{err}");
    let live = listed(&out, &run).unwrap_or_else(|| panic!("run {run} not listed: {out}"));
    assert_eq!(live["state"], "live", "{live:#}");
    assert_eq!(live["pid"], child.id());
    assert_eq!(live["plugin"], "abandon");
    assert_eq!(
        live["objects"]["containers"].as_array().map(Vec::len),
        Some(1),
        "{live:#}"
    );
    assert!(
        live["started"].as_str().is_some_and(|s| s.ends_with('Z')),
        "{live:#}"
    );
    let (code, _, err) = tug_with(&["sweep", "--run", &run], &env);
    assert_eq!(code, Some(125), "{err}");
    assert!(
        err.contains(&run) && err.contains("live") && err.contains(&child.id().to_string()),
        "{err}"
    );
    let (code, out, err) = tug_with(&["sweep"], &env);
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.contains(&run), "{out}");
    assert!(exists(&name), "a live run's container was swept");

    // Killed without a cleanup: an orphan.
    child.kill().unwrap();
    child.wait().unwrap();
    let (code, out, _) = tug_with(&["runs"], &env);
    assert_eq!(code, Some(0));
    let row = out
        .lines()
        .find(|l| l.starts_with(&run))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("orphaned") && row.contains("1 container"), "{row}");

    let (code, out, err) = tug_with(&["sweep", "--dry-run"], &env);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("would remove container") && l.contains(&run)),
        "{out}"
    );
    assert!(exists(&name), "--dry-run removed {name}");
    assert!(state.path().join("runs").join(&run).is_file());

    let (code, out, err) = tug_with(&["sweep", "--run", &run, "--json"], &env);
    assert_eq!(code, Some(0), "{err}");
    let swept = json(&out);
    assert_eq!(swept["objects"][0]["kind"], "container", "{swept:#}");
    assert_eq!(swept["objects"][0]["run"], run.as_str());
    assert!(!exists(&name), "tug sweep --run left {name}");
    assert!(
        !state.path().join("runs").join(&run).exists(),
        "the run's record stays"
    );
    let (_, out, _) = tug_with(&["runs", "--json"], &env);
    assert!(listed(&out, &run).is_none(), "{out}");
}
