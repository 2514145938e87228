//! `tug run`'s report: `--json` events parsed back, the exit codes that tell a denial apart, the GitHub
//! Actions annotations and step summary, `--summary`, and progress bars on a terminal (under `script`,
//! which gives tug a pseudo-terminal) that never land in the plugin's stdout.

use std::{ffi::OsString, path::Path, process::Command};

use serde_json::Value;
use tug_e2e::{plugin, tug, tug_run_with, TEST_IMAGE};

/// A project for `ci-run`: a Dockerfile and a test script that exits 0.
fn project(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        format!("FROM {TEST_IMAGE}\nCOPY test.sh /test.sh\nCMD [\"sh\", \"/test.sh\"]\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("test.sh"),
        // A workflow command in the plugin's output (the tests' output, forwarded): GitHub reads only
        // those at the start of a line, and tug prefixes every line of the plugin's.
        "echo tested\necho '::error::injected by the plugin'\necho '::error::injected on stderr' >&2\necho 'legacy ##[error]injected'\nmkdir -p /work\necho '<testsuite tests=\"1\" failures=\"0\" errors=\"0\"/>' > /work/report.xml\n",
    )
    .unwrap();
}

/// `ci-run`'s arguments with the project and an output directory granted.
fn ci_run(src: &Path, out: &Path, extra: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = extra.iter().map(OsString::from).collect();
    args.extend([
        plugin("ci-run").into_os_string(),
        "--dir".into(),
        format!("{}:/project", src.display()).into(),
        "--dir".into(),
        format!("{}:/out:rw", out.display()).into(),
    ]);
    args
}

/// Parses every line as a JSON object with `event` and `time`.
fn events(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            assert!(v["event"].is_string() && v["time"].is_string(), "{l}");
            v
        })
        .collect()
}

/// Under `untrusted` the build is denied and `ci-run` fails: tug exits 77, the `--json` file says why
/// from `start` to `exit`, GitHub gets a warning for the denial and an error for the run, the step
/// summary names the denial, and `--summary` prints the table.
#[test]
fn a_denied_run_is_reported_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, out) = (tmp.path().join("project"), tmp.path().join("out"));
    project(&src);
    std::fs::create_dir_all(&out).unwrap();
    let (json, step) = (tmp.path().join("events.jsonl"), tmp.path().join("summary.md"));
    let json_flag = format!("--json={}", json.display());
    let run = tug_run_with(
        ci_run(&src, &out, &[&json_flag, "--summary"]),
        &[
            ("GITHUB_ACTIONS", "true".as_ref()),
            ("GITHUB_STEP_SUMMARY", step.as_os_str()),
        ],
    );
    assert_eq!(run.code(), Some(77), "{}", run.report());

    let ev = events(&std::fs::read_to_string(&json).unwrap());
    let first = &ev[0];
    assert_eq!(
        (first["event"].as_str(), first["plugin"].as_str()),
        (Some("start"), Some("ci-run")),
        "{first}"
    );
    assert_eq!(first["policy"], "untrusted");
    let last = ev.last().unwrap();
    assert_eq!(last["event"], "exit", "{last}");
    assert_eq!(
        (last["code"].as_u64(), last["outcome"].as_str()),
        (Some(77), Some("denied")),
        "{last}"
    );
    assert!(last["plugin_code"].as_i64().is_some_and(|c| c != 0), "{last}");
    assert!(last["denied"].as_u64() >= Some(1), "{last}");
    let denial = ev
        .iter()
        .find(|e| e["event"] == "call" && e["decision"] == "deny")
        .unwrap_or_else(|| panic!("no denied call in {ev:?}"));
    assert_eq!(denial["operation"], "ImageBuild", "{denial}");
    assert_eq!(denial["area"], "build", "{denial}");
    assert!(
        denial["rule"].as_str().is_some_and(|r| r.contains("build")),
        "{denial}"
    );
    assert!(
        denial["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{denial}"
    );

    assert!(
        run.stderr.contains(
            "::warning title=tug%3A plugin ci-run%3A ImageBuild denied::ImageBuild denied by rule "
        ),
        "{}",
        run.report()
    );
    assert!(
        run.stderr.contains(
            "::error title=tug%3A plugin ci-run denied::plugin ci-run: denied (exit 77, plugin exit "
        ),
        "{}",
        run.report()
    );
    let md = std::fs::read_to_string(&step).unwrap();
    assert!(
        md.starts_with("### ❌ tug: plugin ci-run: denied (exit 77"),
        "{md}"
    );
    assert!(
        md.contains("\n| build | 0 | 0 | 1 |\n") && md.contains("| ImageBuild | operations.build |"),
        "{md}"
    );
    assert!(
        run.stderr.contains("tug: plugin ci-run: denied (exit 77"),
        "{}",
        run.report()
    );
    assert!(
        run.stderr.contains(
            "tug: plugin ci-run failed (exit 1) after the policy denied 1 call(s); the first: ImageBuild (rule operations.build): "
        ),
        "{}",
        run.report()
    );
    assert!(run.stderr.contains("  denied: ImageBuild — "), "{}", run.report());
}

/// Under `ci` the run succeeds; `--json` without a file writes the events on stderr, where each line that
/// starts with `{` is one (the plugin's own stderr lines carry its prefix), and they count what the
/// plugin made and removed.
#[test]
fn json_on_stderr_counts_what_the_run_made() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, out) = (tmp.path().join("project"), tmp.path().join("out"));
    project(&src);
    std::fs::create_dir_all(&out).unwrap();
    // Under GitHub Actions, where the plugin's output must not make workflow commands.
    let run = tug_run_with(
        ci_run(&src, &out, &["--json", "--policy", "ci"]),
        &[("GITHUB_ACTIONS", "true".as_ref())],
    );
    run.assert_success().assert_stdout_line("ci-run: exit code 0");
    assert!(
        run.stdout.contains("::error::injected by the plugin"),
        "{}",
        run.report()
    );
    // The legacy form, which the runner finds anywhere in a line, reaches the log defused.
    assert!(
        run.stdout.contains("legacy ##\u{200b}[error]injected") && !run.stdout.contains("##[error]"),
        "{}",
        run.report()
    );
    for l in run.stdout.lines().chain(run.stderr.lines()) {
        assert!(
            !l.starts_with("::"),
            "a workflow command of the plugin's at a line's start: {l:?}"
        );
    }
    let lines: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with('{')).collect();
    let ev = events(&lines.join("\n"));
    assert_eq!(ev[0]["event"], "start");
    let last = ev.last().unwrap();
    assert_eq!(
        (last["code"].as_u64(), last["outcome"].as_str()),
        (Some(0), Some("success")),
        "{last}"
    );
    let objects = |action: &str, kind: &str| {
        ev.iter()
            .filter(|e| e["event"] == "object" && e["action"] == action && e["kind"] == kind)
            .count()
    };
    assert!(objects("created", "container") >= 1, "{ev:?}");
    assert!(objects("created", "image") >= 1, "{ev:?}");
    assert!(
        objects("removed", "container") + objects("removed", "image") >= 1,
        "{ev:?}"
    );
    assert!(
        ev.iter()
            .all(|e| e["event"] != "call" || e["decision"] == "allow"),
        "no call is denied under ci: {ev:?}"
    );
    // Nothing else of tug's is text on stderr: every other line is the plugin's.
    for l in run
        .stderr
        .lines()
        .filter(|l| !l.starts_with('{') && !l.is_empty())
    {
        assert!(
            l.starts_with("[ci-run] "),
            "a line that is neither an event nor the plugin's: {l:?}"
        );
    }
}

/// On a terminal, the pushes and pulls of the `images` plugin draw progress bars on stderr; the plugin's
/// stdout, sent to a file, has none of them. `--quiet` draws none.
#[test]
fn progress_bars_on_a_terminal_stay_out_of_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let stdout = tmp.path().join("stdout.txt");
    let run = |quiet: &str| {
        let command = format!(
            "{} run {quiet} --policy ci {} > {}",
            tug().display(),
            plugin("images").display(),
            stdout.display()
        );
        // `script` runs the command on a pseudo-terminal and copies what it draws to its own stdout.
        let out = Command::new("script")
            .args(["-qefc", &command, "/dev/null"])
            .env("COLUMNS", "120")
            .env("LINES", "40")
            .output()
            .expect("running script (util-linux)");
        let terminal = String::from_utf8_lossy(&out.stdout).into_owned();
        let plugin_out = std::fs::read_to_string(&stdout).unwrap();
        assert!(
            out.status.success(),
            "{command}: {}\n{terminal}\n{plugin_out}",
            out.status
        );
        (terminal, plugin_out)
    };
    let (terminal, plugin_out) = run("");
    println!("--- terminal ---\n{terminal}\n--- stdout ---\n{plugin_out}");
    assert!(plugin_out.contains("[images] ok"), "{plugin_out}");
    assert!(
        !plugin_out.contains('\u{1b}') && !plugin_out.contains("[=="),
        "{plugin_out}"
    );
    for bar in [
        "push 127.0.0.1:5000/",
        "pull 127.0.0.1:5000/",
        "build",
        "step 1/",
        "save ",
        "load",
    ] {
        assert!(
            terminal.contains(bar),
            "no {bar:?} bar on the terminal:\n{terminal}"
        );
    }
    assert!(
        terminal.contains('\u{1b}') && terminal.contains("[=="),
        "{terminal}"
    );
    // A finished bar stays as a line of its own.
    assert!(
        terminal.contains("✓ push 127.0.0.1:5000/") && terminal.contains("✓ build step "),
        "{terminal}"
    );
    let (quiet, plugin_out) = run("--quiet");
    assert!(plugin_out.contains("[images] ok"), "{plugin_out}");
    assert!(
        !quiet.contains("push 127.0.0.1:5000/"),
        "--quiet drew a bar:\n{quiet}"
    );
}
