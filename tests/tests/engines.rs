//! Named engines against real daemons: the `fleet` plugin fans one job out over the shared daemon and
//! daemons of the test's own, given by `--engine NAME=URL`, by a docker CLI context (`--context`) and by
//! the policy's `[engines]` table; each engine's calls pass its own gate (a per-engine quota); the
//! run's cleanup and the start-up sweep act on every engine.

use std::{ffi::OsStr, path::Path};

use serde_json::Value;
use tug_e2e::{
    dockerd::Dockerd,
    engines::{args, containers_of, fleet_row as row, policy_file, run_id},
    plugin, tug_run, tug_run_with,
};

/// The untrusted profile as policy `fleet-test`, with `extra` appended.
fn policy(dir: &Path, extra: &str) -> String {
    policy_file(dir, "untrusted", "fleet-test", extra)
}

/// A docker CLI config directory with a context `name` whose endpoint is `host`.
fn context_dir(dir: &Path, name: &str, host: &str) -> std::path::PathBuf {
    let config = dir.join("docker-config");
    let id = sha256_hex(name);
    let meta = config.join("contexts/meta").join(id);
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        serde_json::json!({"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}}})
            .to_string(),
    )
    .unwrap();
    config
}

fn sha256_hex(s: &str) -> String {
    let out = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(s.as_bytes())?;
            c.wait_with_output()
        })
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn fleet_fans_out_over_engines_from_flags_contexts_and_the_policy_each_with_its_own_gate() {
    let (b, c) = (Dockerd::start().unwrap(), Dockerd::start().unwrap());
    let work = tempfile::tempdir().unwrap();
    // c comes from the policy's table, with a quota of one container of its own.
    let policy = policy(
        work.path(),
        &format!(
            "[engines.c]\nurl = {:?}\n[engines.c.policy.quota]\ncontainers = 1\n",
            c.url()
        ),
    );
    // b comes from a docker CLI context.
    let config = context_dir(work.path(), "ctxb", &b.url());
    let events = work.path().join("events.jsonl");
    let run = tug_run_with(
        [
            OsStr::new("--policy"),
            OsStr::new(&policy),
            OsStr::new("--context"),
            OsStr::new("ctxb"),
            OsStr::new("--json"),
            events.as_os_str(),
            plugin("fleet").as_os_str(),
            OsStr::new("--"),
            OsStr::new("--engine"),
            OsStr::new("default"),
            OsStr::new("--engine"),
            OsStr::new("ctxb"),
            OsStr::new("--engine"),
            OsStr::new("c"),
            OsStr::new("--engine"),
            OsStr::new("c"),
            OsStr::new("--"),
            OsStr::new("sh"),
            OsStr::new("-c"),
            OsStr::new("echo job done"),
        ],
        &[("DOCKER_CONFIG", config.as_os_str())],
    );
    // One row failed (c's second container is over c's quota): the plugin exits 1 after a denial (77).
    assert_eq!(run.code(), Some(77), "{}", run.report());
    for (engine, n) in [("default", 0), ("ctxb", 0), ("c", 0)] {
        let r = row(&run.stdout, engine, n);
        assert!(
            r.contains(" 0 ") && r.ends_with("job done"),
            "{r}\n{}",
            run.report()
        );
    }
    let denied = row(&run.stdout, "c", 1);
    assert!(
        denied.contains("error:") && denied.contains("quota") && denied.contains("fleet-test[engines.c]"),
        "{denied}\n{}",
        run.report()
    );
    assert!(run.stdout.contains("fleet: 4 engine(s)"), "{}", run.report());
    // Nothing of the run is left on any engine.
    let id = run_id(&events);
    for host in ["unix:///var/run/docker.sock".to_owned(), b.url(), c.url()] {
        assert_eq!(containers_of(&host, &id), Vec::<String>::new(), "left on {host}");
    }

    // A run stopped by its deadline while its jobs run: tug's cleanup removes them from every engine.
    let events = work.path().join("events2.jsonl");
    let b_engine = format!("b={}", b.url());
    let run = tug_run(args(&[
        "--policy",
        &policy,
        "--engine",
        &b_engine,
        "--timeout",
        "6",
        "--json",
        events.to_str().unwrap(),
        plugin("fleet").to_str().unwrap(),
        "--",
        "--engine",
        "default",
        "--engine",
        "b",
        "--engine",
        "c",
        "--",
        "sleep",
        "60",
    ]));
    assert_eq!(run.code(), Some(124), "{}", run.report());
    let id = run_id(&events);
    let mut removed_on: Vec<String> = std::fs::read_to_string(&events)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event"] == "object" && e["action"] == "removed" && e["by"] == "cleanup")
        .map(|e| e["engine"].as_str().unwrap_or("?").to_owned())
        .collect();
    removed_on.sort();
    assert_eq!(
        removed_on,
        ["b", "c", "default"],
        "one container removed per engine\n{}",
        run.report()
    );
    for host in ["unix:///var/run/docker.sock".to_owned(), b.url(), c.url()] {
        assert_eq!(containers_of(&host, &id), Vec::<String>::new(), "left on {host}");
    }
}

#[test]
fn an_engine_the_run_was_not_given_is_named_with_those_it_was() {
    let fleet = plugin("fleet");
    let fleet = fleet.to_str().unwrap();
    let run = tug_run(args(&[fleet, "--", "--engine", "nope", "--", "true"]));
    assert_eq!(run.code(), Some(1), "{}", run.report());
    let r = row(&run.stdout, "nope", 0);
    assert!(
        r.contains("no engine named \"nope\" was given to this run (given: default)"),
        "{r}"
    );
    // A flag about an engine that is not given is refused before anything starts.
    let run = tug_run(args(&["--tls-ca", "zz=/etc/hostname", fleet]));
    assert_eq!(run.code(), Some(125), "{}", run.report());
    assert!(
        run.stderr
            .contains("--tls-ca zz=/etc/hostname: no engine named zz is given (given: default)"),
        "{}",
        run.report()
    );
}

/// A tug killed (SIGKILL) in a run on two engines leaves a job on each. A later run given only the default
/// engine sweeps what was left there — and what was left on b still waits, recorded, for a run given b,
/// which sweeps it. (A sweep of one engine used to forget the whole run.) The runs have a state directory
/// of their own, so no other tug on the host sweeps for them.
#[test]
fn a_killed_runs_leftovers_on_each_engine_wait_for_a_sweep_of_that_engine() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let b = Dockerd::start().unwrap();
    let work = tempfile::tempdir().unwrap();
    let state = work.path().join("state");
    let events = work.path().join("events.jsonl");
    let b_engine = format!("b={}", b.url());
    let mut child = Command::new(tug_e2e::tug())
        .args(["run", "--engine", &b_engine, "--json"])
        .arg(&events)
        .arg(plugin("fleet"))
        .args(["--", "--engine", "default", "--engine", "b", "--", "sleep", "60"])
        .env("TUG_STATE_DIR", &state)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let default = "unix:///var/run/docker.sock".to_owned();
    let t0 = Instant::now();
    let id = loop {
        let id = std::fs::read_to_string(&events)
            .ok()
            .filter(|t| t.contains("\"start\""))
            .map(|_| run_id(&events));
        if let Some(id) = id {
            if !containers_of(&default, &id).is_empty() && !containers_of(&b.url(), &id).is_empty() {
                break id;
            }
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the jobs never started on both engines"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let record = state.join("runs").join(&id);
    let text = std::fs::read_to_string(&record).expect("the killed run's record");
    assert!(
        text.contains(&format!("engine {}", b.url())) && text.contains(&format!("engine {default}")),
        "{text}"
    );

    // A run on the default engine only: it sweeps the default engine's job, and b stays on the record.
    let env = [("TUG_STATE_DIR", state.as_os_str())];
    let fleet = plugin("fleet");
    let run = tug_run_with(
        args(&[fleet.to_str().unwrap(), "--", "--engine", "default", "--", "true"]),
        &env,
    );
    run.assert_success();
    assert!(
        run.stderr
            .contains("swept what earlier runs left behind on engine default"),
        "{}",
        run.report()
    );
    assert_eq!(containers_of(&default, &id), Vec::<String>::new());
    assert_eq!(
        containers_of(&b.url(), &id).len(),
        1,
        "b's job waits for a sweep of b"
    );
    let text = std::fs::read_to_string(&record).expect("the record stays while b is not swept");
    assert!(
        text.contains(&format!("engine {}", b.url())) && !text.contains(&format!("engine {default}")),
        "{text}"
    );

    // `tug runs` and `tug sweep` act on every engine given: the run is listed, orphaned, on b only, and
    // a dry run names b's job and its engine.
    let tug_cmd = |cmd: &[&str]| {
        let out = Command::new(tug_e2e::tug())
            .args(["--engine", &b_engine])
            .args(cmd)
            .env("TUG_STATE_DIR", &state)
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let (code, out, err) = tug_cmd(&["runs", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let listed: Vec<Value> = serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone();
    let mine: Vec<(&str, &str)> = listed
        .iter()
        .filter(|r| r["run"] == id.as_str())
        .map(|r| (r["engine"].as_str().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    assert_eq!(mine, [("b", "orphaned")], "{out}");
    let (code, out, err) = tug_cmd(&["sweep", "--dry-run"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.lines().any(|l| l.starts_with("would remove container")
            && l.contains(&format!("(run {id})"))
            && l.ends_with("on engine b")),
        "{out}"
    );

    // A run given b sweeps b, and the record goes. (fleet without `--engine` runs on every engine the
    // run was given: `engines.names`.)
    let run = tug_run_with(
        args(&["--engine", &b_engine, fleet.to_str().unwrap(), "--", "--", "true"]),
        &env,
    );
    run.assert_success();
    for engine in ["default", "b"] {
        assert!(row(&run.stdout, engine, 0).contains(" 0 "), "{}", run.report());
    }
    assert!(run.stdout.contains("fleet: 2 engine(s)"), "{}", run.report());
    assert!(
        run.stderr
            .contains("swept what earlier runs left behind on engine b"),
        "{}",
        run.report()
    );
    assert_eq!(containers_of(&b.url(), &id), Vec::<String>::new());
    assert!(!record.exists(), "the record goes with the last engine swept");
}
