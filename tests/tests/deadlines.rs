//! Never stuck, nothing lost: a run ends on time whatever the engine or the terminal does, and its
//! cleanup is complete — runs stopped mid-call leave nothing, a reader that does not read cannot stop the
//! clock, an engine that is silent, talks garbage or freezes mid-run ends the run within its budgets, and
//! every bad value is one line and exit 125.

use std::{
    ffi::OsStr,
    io::Read,
    os::unix::net::UnixListener,
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use tug_e2e::{docker, dockerd::Dockerd, plugin, tug, tug_run, tug_run_with};

/// The runs of this file start many `tug` processes and measure how long they take: one test at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// A `tug run` started in the background, its stdout and stderr to files (or stdout to a pipe nobody
/// reads).
struct Background {
    child: Child,
    started: Instant,
    err: PathBuf,
    _dir: tempfile::TempDir,
}

impl Background {
    fn start(args: &[&OsStr], stdout: Stdio, env: &[(&str, &OsStr)]) -> Background {
        let dir = tempfile::tempdir().unwrap();
        let err = dir.path().join("stderr");
        let child = Command::new(tug())
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, *v)))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("starting tug");
        Background {
            child,
            started: Instant::now(),
            err,
            _dir: dir,
        }
    }

    /// Like [`Background::start`], with stderr where the caller says (nothing is read back).
    fn start_with_stderr(args: &[&OsStr], stdout: Stdio, stderr: Stdio) -> Background {
        let dir = tempfile::tempdir().unwrap();
        let err = dir.path().join("stderr");
        let child = Command::new(tug())
            .args(args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("starting tug");
        Background {
            child,
            started: Instant::now(),
            err,
            _dir: dir,
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success(), "kill -{sig}");
    }

    /// Waits at most `limit`; panics (after killing it) if tug is still running then.
    fn wait(mut self, limit: Duration) -> (ExitStatus, Duration, String) {
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let stderr = std::fs::read_to_string(&self.err).unwrap_or_default();
                return (status, self.started.elapsed(), stderr);
            }
            if self.started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let stderr = std::fs::read_to_string(&self.err).unwrap_or_default();
                panic!("tug was still running after {limit:?}\n{stderr}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A unix socket in `dir` that accepts and holds every connection, answering nothing: an engine that
/// is there and silent.
fn silent_engine(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("silent.sock");
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming() {
            held.push(c);
        }
    });
    path
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// Every bad value of a flag or a policy is refused before anything runs: exit 125, one line naming the
/// flag or key, never a panic.
#[test]
fn bad_values_are_one_line_and_125() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let hello = plugin("hello").display().to_string();
    let mut cases: Vec<(Vec<String>, &str)> = Vec::new();
    for t in [
        "abc",
        "1e20",
        "18446744073709551616",
        "nan",
        "inf",
        "0",
        "0.0000001",
    ] {
        cases.push((vec!["--timeout".into(), t.into(), hello.clone()], "--timeout"));
    }
    cases.push((vec!["--grace".into(), "soon".into(), hello.clone()], "--grace"));
    cases.push((
        vec!["--secret".into(), "=value".into(), hello.clone()],
        "--secret",
    ));
    cases.push((
        vec!["--secret".into(), "KEY=".into(), hello.clone()],
        "--secret KEY",
    ));
    cases.push((
        vec!["--secret".into(), "hunter2".into(), hello.clone()],
        "--secret",
    ));
    cases.push((vec!["--env".into(), "=x".into(), hello.clone()], "--env"));
    cases.push((
        vec!["--secret-env".into(), "TUG_TEST_EMPTY".into(), hello.clone()],
        "--secret-env",
    ));
    cases.push((vec!["--no-such-flag".into(), hello.clone()], "--no-such-flag"));
    let policies = [
        ("[wasm]\ncpu_time = -1.0", "cpu_time"),
        ("[wasm]\ncpu_time = inf", "cpu_time"),
        ("[wasm]\ncpu_time = 1e20", "cpu_time"),
        ("[wasm]\nwall_time = nan", "wall_time"),
        ("[wasm]\nwall_time = 1e20", "wall_time"),
        ("[wasm]\nmemory = 5", "memory"),
        ("[containers]\ncpus = nan", "cpus"),
        ("[containers]\npids = -1", "pids"),
    ];
    for (i, (text, key)) in policies.iter().enumerate() {
        let path = dir.path().join(format!("p{i}.toml"));
        std::fs::write(&path, format!("name = \"bad\"\n{text}\n")).unwrap();
        cases.push((
            vec!["--policy".into(), path.display().to_string(), hello.clone()],
            key,
        ));
    }
    for (args, names) in cases {
        let run = tug_run_with(&args, &[("TUG_TEST_EMPTY", os(""))]);
        assert_eq!(run.code(), Some(125), "{args:?}\n{}", run.report());
        assert!(
            run.stderr.contains(names) && !run.stderr.contains("panicked"),
            "{args:?}: the message names {names}\n{}",
            run.report()
        );
        assert!(
            !run.stderr.contains("hunter2"),
            "a secret in a message\n{}",
            run.report()
        );
        assert!(run.stdout.is_empty(), "the plugin ran\n{}", run.report());
    }
    // `--help` is not an error.
    let help = Command::new(tug()).args(["run", "--help"]).output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for said in ["--grace", "125", "124", "130", "69", "77", "10 s", "--json"] {
        assert!(text.contains(said), "--help says {said}\n{text}");
    }
}

/// Engines that cannot be reached — nothing listening, a closed port, a listener that never answers, one
/// that answers garbage — are refused before the plugin starts: exit 69 and one line naming the engine,
/// within the ping's budget (here `--timeout 5`). A policy may let the plugin start without one; then the
/// error is said once, not once per kind of object.
#[test]
fn an_engine_that_cannot_be_reached_is_refused_before_the_plugin_starts() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let silent_path = silent_engine(dir.path());
    let garbage_path = dir.path().join("garbage.sock");
    let garbage = UnixListener::bind(&garbage_path).unwrap();
    std::thread::spawn(move || {
        for c in garbage.incoming().flatten() {
            let mut c = c;
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let _ = std::io::Write::write_all(&mut c, b"\x00\xffnot http\r\n\r\n");
        }
    });
    let silent_tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_tcp_url = format!("tcp://{}", silent_tcp.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in silent_tcp.incoming() {
            held.push(c);
        }
    });
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("tcp://{}", closed.local_addr().unwrap());
    drop(closed);
    let engines = [
        format!("unix://{}", silent_path.display()),
        silent_tcp_url,
        format!("unix://{}", garbage_path.display()),
        format!("unix://{}", dir.path().join("missing.sock").display()),
        closed_url,
    ];
    let hello = plugin("hello").display().to_string();
    for url in &engines {
        let t0 = Instant::now();
        let run = tug_run(["--engine", url, "--timeout", "5", &hello]);
        let took = t0.elapsed();
        assert_eq!(run.code(), Some(69), "{url}\n{}", run.report());
        assert_eq!(run.stderr.lines().count(), 1, "one line\n{}", run.report());
        assert!(
            run.stderr.contains(&format!("engine default ({url})")) && run.stderr.contains("not started"),
            "the line names the engine\n{}",
            run.report()
        );
        assert!(run.stdout.is_empty(), "the plugin did not run\n{}", run.report());
        assert!(took < Duration::from_secs(15), "{url}: {took:?}");
    }
    // Allowed to start without it: the plugin runs (and fails on its own), the engine is named once.
    let policy = dir.path().join("optional.toml");
    let text = include_str!("../../runtime/src/policy/profiles/untrusted.toml");
    std::fs::write(&policy, format!("require_engine = false\n{text}")).unwrap();
    let url = &engines[3];
    let run = tug_run(["--engine", url, "--policy", &policy.display().to_string(), &hello]);
    assert!(
        run.stderr.contains("lets plugin hello start without it"),
        "{}",
        run.report()
    );
    let said = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("tug:") && l.contains("missing.sock"))
        .count();
    assert_eq!(said, 1, "tug names the engine once\n{}", run.report());
    assert!(run.stderr.len() < 2048, "{}", run.report());
}

/// A reader that stops reading (`tug run … | sleep 60`) neither holds the run past its deadline nor
/// makes tug deaf to SIGINT and SIGTERM.
#[test]
fn a_reader_that_does_not_read_does_not_stop_the_clock() {
    let _serial = serial();
    let flood = plugin("abandon");
    // A pipe whose reader never reads: this test holds the read end.
    let cases: [(&[&str], Option<&str>, i32); 3] = [
        (&["--timeout", "3"], None, 124),
        (&[], Some("INT"), 130),
        (&[], Some("TERM"), 130),
    ];
    for ((flags, sig, code), both) in cases.into_iter().flat_map(|c| [(c, false), (c, true)]) {
        let (reader, writer) = std::io::pipe().unwrap();
        let mut args: Vec<&OsStr> = vec![os("run")];
        args.extend(flags.iter().map(|f| os(f)));
        args.extend([flood.as_os_str(), os("--"), os("flood")]);
        // `2>&1 | sleep`: tug's own last words go to the stalled pipe too.
        let run = if both {
            let err = writer.try_clone().unwrap();
            Background::start_with_stderr(&args, Stdio::from(writer), Stdio::from(err))
        } else {
            Background::start(&args, Stdio::from(writer), &[])
        };
        if let Some(sig) = sig {
            std::thread::sleep(Duration::from_secs(2));
            run.signal(sig);
        }
        let (status, took, stderr) = run.wait(Duration::from_secs(30));
        drop(reader);
        assert_eq!(status.code(), Some(code), "{flags:?} {sig:?}: {stderr}");
        assert!(
            took < Duration::from_secs(10),
            "{flags:?} {sig:?} took {took:?}: {stderr}"
        );
    }
}

/// The objects named `prefix-*` left on the shared daemon: containers, networks, volumes.
fn left_by(prefix: &str) -> Vec<String> {
    let filter = format!("name={prefix}-");
    let mut left = Vec::new();
    for (what, args) in [
        ("container", vec!["ps", "-a", "--format", "{{.Names}}"]),
        ("network", vec!["network", "ls", "--format", "{{.Name}}"]),
        ("volume", vec!["volume", "ls", "--format", "{{.Name}}"]),
    ] {
        let mut args = args;
        args.extend(["--filter", &filter]);
        for name in docker(&args).split_whitespace() {
            if name.starts_with(&format!("{prefix}-")) {
                left.push(format!("{what} {name}"));
            }
        }
    }
    left
}

/// A small deterministic generator (xorshift), seeded per test run and printed, for the stop times.
struct Rng(u64);

impl Rng {
    fn between(&mut self, lo_ms: u64, hi_ms: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(lo_ms + self.0 % (hi_ms - lo_ms))
    }
}

/// One churn run, stopped after `stop` by `--timeout` or by a signal; what it left (removed again).
fn churn_once(i: usize, stop: Duration, state: &std::path::Path) -> (usize, Option<String>) {
    let prefix = format!("tug-churn-{}-{i}", std::process::id());
    let churn = plugin("abandon");
    let by_signal = i % 2 == 1;
    let timeout = format!("{:.3}", stop.as_secs_f64());
    let mut args: Vec<&OsStr> = vec![os("run")];
    if !by_signal {
        args.extend([os("--timeout"), os(&timeout)]);
    }
    args.extend([churn.as_os_str(), os("--"), os("churn"), os(&prefix)]);
    let out = tempfile::NamedTempFile::new().unwrap();
    let env = [("TUG_STATE_DIR", state.as_os_str())];
    let run = Background::start(&args, Stdio::from(out.reopen().unwrap()), &env);
    if by_signal {
        std::thread::sleep(stop);
        run.signal(if i % 4 == 1 { "INT" } else { "TERM" });
    }
    let (status, _, stderr) = run.wait(Duration::from_secs(60));
    let want = if by_signal { 130 } else { 124 };
    assert_eq!(status.code(), Some(want), "run {i}: {stderr}");
    assert!(
        !stderr.contains("cleanup after plugin") && !stderr.contains("swept"),
        "run {i}: every run cleans up after itself, and finds nothing of another's to sweep\n{stderr}"
    );
    let churned = std::fs::read_to_string(out.path())
        .unwrap()
        .matches("churned")
        .count();
    let left = left_by(&prefix);
    if left.is_empty() {
        return (churned, None);
    }
    for o in &left {
        let (kind, name) = o.split_once(' ').unwrap();
        let rm = match kind {
            "container" => vec!["rm", "-f", name],
            k => vec![k, "rm", "-f", name],
        };
        let _ = Command::new("docker").args(&rm).output();
    }
    (
        churned,
        Some(format!("run {i} (stopped after {stop:?}): {left:?}\n{stderr}")),
    )
}

/// 100 runs of a plugin that creates and removes networks, volumes and containers without pause, each
/// stopped mid-call — 50 by `--timeout`, 50 by SIGINT or SIGTERM — two at a time, leave nothing, checked
/// after each run before the next can sweep; and every run's cleanup finished (no run is left recorded
/// as unfinished).
#[test]
fn runs_stopped_mid_call_leave_nothing() {
    let _serial = serial();
    let state = tempfile::tempdir().unwrap();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("stop times seeded with {seed}");
    let workers: Vec<_> = (0..2u64)
        .map(|w| {
            // A state directory per worker: one worker's start-up sweep must not tidy up (and forget) a
            // leak of the other's before it is counted.
            let state = state.path().join(format!("worker-{w}"));
            std::thread::spawn(move || {
                let mut rng = Rng(seed.wrapping_add(w) | 1);
                let mut churned = 0;
                let mut leaks = Vec::new();
                for i in (w as usize..100).step_by(2) {
                    let (n, leak) = churn_once(i, rng.between(300, 1800), &state);
                    churned += n;
                    leaks.extend(leak);
                }
                (churned, leaks)
            })
        })
        .collect();
    let (mut churned, mut leaks) = (0, Vec::new());
    for w in workers {
        let (n, l) = w.join().expect("a churn worker");
        churned += n;
        leaks.extend(l);
    }
    assert!(
        churned > 50,
        "the plugin made and removed only {churned} sets in 100 runs"
    );
    assert!(
        leaks.is_empty(),
        "{} of 100 runs left objects:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    let unfinished: Vec<_> = std::fs::read_dir(state.path().join("runs"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        unfinished.is_empty(),
        "runs recorded as unfinished: {unfinished:?}"
    );
}

/// A daemon frozen (SIGSTOP) while the plugin waits on it: the run ends at `--timeout`, the cleanup gives
/// up after `--grace` naming the engine and what is left, and once the daemon is back the next run sweeps
/// it. Frozen again: the first SIGINT stops the plugin, a second skips the cleanup.
#[test]
fn a_frozen_engine_ends_the_run_within_its_budgets() {
    let _serial = serial();
    let daemon = match Dockerd::start() {
        Ok(d) => d,
        Err(e) => panic!("a dockerd of the test's own: {e}"),
    };
    let state = tempfile::tempdir().unwrap();
    let env = [("TUG_STATE_DIR", state.path().as_os_str())];
    let url = daemon.url();
    let abandon = plugin("abandon");
    let exists = |name: &str| {
        daemon
            .docker(&["ps", "-aq", "--filter", &format!("name=^{name}$")])
            .map(|o| !o.trim().is_empty())
            .unwrap_or(false)
    };
    let started = |name: &str| {
        let t0 = Instant::now();
        while !exists(name) {
            assert!(t0.elapsed() < Duration::from_secs(30), "{name} never appeared");
            std::thread::sleep(Duration::from_millis(100));
        }
        // The plugin is now in (or on its way to) its wait.
        std::thread::sleep(Duration::from_millis(500));
    };

    // Frozen mid-wait: --timeout 5, --grace 3.
    let args = [
        os("run"),
        os("--engine"),
        os(&url),
        os("--timeout"),
        os("5"),
        os("--grace"),
        os("3"),
        abandon.as_os_str(),
        os("--"),
        os("wait"),
        os("tug-frozen-1"),
    ];
    let run = Background::start(&args, Stdio::null(), &env);
    started("tug-frozen-1");
    daemon.freeze();
    let (status, took, stderr) = run.wait(Duration::from_secs(60));
    daemon.thaw();
    assert_eq!(status.code(), Some(124), "{stderr}");
    assert!(took < Duration::from_secs(20), "took {took:?}: {stderr}");
    assert!(
        stderr.contains(&format!("engine default ({url})"))
            && stderr.contains("--grace")
            && stderr.contains("tug.run="),
        "the message names the engine, the budget and the label\n{stderr}"
    );
    assert!(exists("tug-frozen-1"), "the frozen daemon kept the container");
    // The next run on that engine sweeps it.
    let next = tug_run_with(["--engine", &url, &plugin("hello").display().to_string()], &env);
    next.assert_success();
    assert!(
        !exists("tug-frozen-1"),
        "the next run swept it\n{}",
        next.report()
    );

    // Frozen again; a first SIGINT stops the plugin, the cleanup waits on the frozen daemon, a second
    // SIGINT skips it.
    let args = [
        os("run"),
        os("--engine"),
        os(&url),
        os("--grace"),
        os("60"),
        abandon.as_os_str(),
        os("--"),
        os("wait"),
        os("tug-frozen-2"),
    ];
    let run = Background::start(&args, Stdio::null(), &env);
    started("tug-frozen-2");
    daemon.freeze();
    run.signal("INT");
    std::thread::sleep(Duration::from_secs(2));
    run.signal("INT");
    let (status, took, stderr) = run.wait(Duration::from_secs(30));
    daemon.thaw();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(took < Duration::from_secs(20), "took {took:?}: {stderr}");
    assert!(
        stderr.contains("interrupted again") && stderr.contains("skipped"),
        "{stderr}"
    );
    let next = tug_run_with(["--engine", &url, &plugin("hello").display().to_string()], &env);
    next.assert_success();
    assert!(
        !exists("tug-frozen-2"),
        "the next run swept it\n{}",
        next.report()
    );
}

/// A call the deadline or a signal cancels is audited as cancelled, not as a plain `allow`; an audit file
/// others could read is made private.
#[test]
fn cancelled_calls_are_audited_as_cancelled() {
    use std::os::unix::fs::PermissionsExt;
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let abandon = plugin("abandon");
    for (i, sig) in [None, Some("INT")].into_iter().enumerate() {
        let audit = dir.path().join(format!("audit-{i}.jsonl"));
        std::fs::write(&audit, "").unwrap();
        std::fs::set_permissions(&audit, std::fs::Permissions::from_mode(0o644)).unwrap();
        let name = format!("tug-cancelled-{}-{i}", std::process::id());
        let mut args: Vec<&OsStr> = vec![os("run"), os("--audit"), audit.as_os_str()];
        if sig.is_none() {
            args.extend([os("--timeout"), os("3")]);
        }
        args.extend([abandon.as_os_str(), os("--"), os("wait"), os(&name)]);
        let run = Background::start(&args, Stdio::null(), &[]);
        if let Some(sig) = sig {
            std::thread::sleep(Duration::from_secs(3));
            run.signal(sig);
        }
        let (status, _, stderr) = run.wait(Duration::from_secs(60));
        assert_eq!(
            status.code(),
            Some(if sig.is_some() { 130 } else { 124 }),
            "{stderr}"
        );
        let lines = std::fs::read_to_string(&audit).unwrap();
        let wait = lines
            .lines()
            .find(|l| l.contains("\"ContainerWait\""))
            .unwrap_or_else(|| panic!("no wait in the audit:\n{lines}"));
        assert!(wait.contains("\"error\":\"cancelled"), "{wait}");
        let mode = std::fs::metadata(&audit).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the audit file is private");
        let left = docker(&["ps", "-aq", "--filter", &format!("name=^{name}$")]);
        assert!(left.trim().is_empty(), "{name} was removed");
    }
}

/// A signal before the plugin starts (here while tug waits for a silent engine's `/_ping`) ends tug with
/// 130 and a line saying the plugin was not started; a stop by the policy's `wall_time` names the policy,
/// not `--timeout`.
#[test]
fn signals_before_the_start_and_policy_deadlines_are_named() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let silent_path = silent_engine(dir.path());
    let url = format!("unix://{}", silent_path.display());
    let hello = plugin("hello");
    let args = [os("run"), os("--engine"), os(&url), hello.as_os_str()];
    let run = Background::start(&args, Stdio::null(), &[]);
    std::thread::sleep(Duration::from_secs(1));
    run.signal("INT");
    let (status, took, stderr) = run.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(
        stderr.contains("interrupted while reaching") && stderr.contains("not started"),
        "{stderr}"
    );

    let text = include_str!("../../runtime/src/policy/profiles/untrusted.toml");
    let at = text.find("[wasm]").unwrap();
    let policy = dir.path().join("short.toml");
    std::fs::write(&policy, format!("{}[wasm]\nwall_time = 2\n", &text[..at])).unwrap();
    let name = format!("tug-policy-deadline-{}", std::process::id());
    let run = tug_run([
        "--policy",
        &policy.display().to_string(),
        &plugin("abandon").display().to_string(),
        "--",
        "wait",
        &name,
    ]);
    assert_eq!(run.code(), Some(124), "{}", run.report());
    assert!(
        run.stderr.contains("[wasm] wall_time") && !run.stderr.contains("--timeout"),
        "{}",
        run.report()
    );
}
