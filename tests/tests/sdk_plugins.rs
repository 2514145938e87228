//! The plugins written on the Rust SDK's object layer (`tug_sdk::docker`) that do CI work — `ci-run`,
//! `services`, `matrix` — each under exactly the grants its README states.

use std::path::Path;
use std::process::Command;

use tug_e2e::{docker, plugin, tug_run, unique, TEST_IMAGE};

/// Whether the engine knows an object (`docker inspect NAME` succeeds).
fn exists(name: &str) -> bool {
    Command::new("docker")
        .args(["inspect", name])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The word after `prefix` on the first stdout line that has it.
fn word_after<'a>(stdout: &'a str, prefix: &str) -> Option<&'a str> {
    stdout
        .lines()
        .find_map(|l| l.split_once(prefix).map(|(_, rest)| rest))
        .and_then(|rest| rest.split_whitespace().next())
}

/// A project whose test script prints, writes a JUnit report with `failures="$1"` and exits with `$1`.
fn project(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        format!("FROM {TEST_IMAGE}\nCOPY test.sh /test.sh\nCMD [\"sh\", \"/test.sh\", \"0\"]\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("test.sh"),
        r#"echo "running 2 tests"
echo "a warning on stderr" >&2
mkdir -p /work
printf '<?xml version="1.0"?>\n<testsuite name="demo" tests="2" failures="%s" errors="0"></testsuite>\n' "$1" > /work/report.xml
exit "$1"
"#,
    )
    .unwrap();
}

#[test]
fn ci_run_builds_tests_copies_the_report_and_exits_with_the_tests_code() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, out) = (tmp.path().join("project"), tmp.path().join("out"));
    project(&src);
    std::fs::create_dir_all(&out).unwrap();
    let grants = |out_mode: &str| {
        vec![
            plugin("ci-run").into_os_string(),
            "--policy".into(),
            "ci".into(),
            "--dir".into(),
            format!("{}:/project", src.display()).into(),
            "--dir".into(),
            format!("{}:/out{out_mode}", out.display()).into(),
        ]
    };

    let run = tug_run(grants(":rw"));
    run.assert_success()
        .assert_stdout_line("build: Step 2/")
        .assert_stdout_line(" : COPY test.sh /test.sh")
        .assert_stdout_line("running 2 tests")
        .assert_stdout_line("ci-run: report: 2 tests, 0 failures, 0 errors")
        .assert_stdout_line("ci-run: exit code 0");
    assert!(run.stderr.contains("a warning on stderr"), "{}", run.report());
    let report = std::fs::read_to_string(out.join("report.xml")).unwrap();
    assert!(report.contains(r#"failures="0""#), "{report}");
    let container = word_after(&run.stdout, "running tests in ").unwrap();
    let image = word_after(&run.stdout, "built image ").unwrap();
    assert!(!exists(container), "ci-run left its container {container}");
    assert!(!exists(image), "ci-run left its image {image}");

    // The tests' own exit code comes back as tug's, with the report copied all the same.
    let mut args = grants(":rw");
    args.extend([
        "--".into(),
        "--".into(),
        "sh".into(),
        "/test.sh".into(),
        "3".into(),
    ]);
    let run = tug_run(args);
    assert_eq!(run.code(), Some(3), "{}", run.report());
    run.assert_stdout_line("ci-run: report: 2 tests, 3 failures, 0 errors");
    let report = std::fs::read_to_string(out.join("report.xml")).unwrap();
    assert!(report.contains(r#"failures="3""#), "{report}");

    // An output directory granted read-only: the error says so, and nothing is left behind.
    std::fs::remove_file(out.join("report.xml")).unwrap();
    let run = tug_run(grants(""));
    assert_eq!(run.code(), Some(1), "{}", run.report());
    assert!(
        run.stderr.contains("is the output directory granted read-write?"),
        "{}",
        run.report()
    );
    assert!(!out.join("report.xml").exists() && !out.join("report.tmp").exists());
    let container = word_after(&run.stdout, "running tests in ").unwrap();
    assert!(!exists(container), "ci-run left its container {container}");
}

#[test]
fn services_waits_for_health_by_events_and_tears_down() {
    let run = tug_run([plugin("services")]);
    run.assert_success()
        .assert_stdout_line("event: health_status: healthy")
        .assert_stdout_line("health: healthy")
        .assert_stdout_line("client got: hello from the service")
        .assert_stdout_line("removed the service container")
        .assert_stdout_line("removed the network");
    let network = word_after(&run.stdout, "network ").unwrap();
    let container = word_after(&run.stdout, "service container ").unwrap();
    assert!(!exists(network) && !exists(container), "{}", run.report());
}

#[test]
fn matrix_runs_every_image_and_fails_when_one_does() {
    // A second image that fails the test: the test image with a marker file.
    let failing = format!("tug-test/matrix-fail:{}", unique());
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!("FROM {TEST_IMAGE}\nRUN touch /fail\n"),
    )
    .unwrap();
    docker(&["build", "-q", "-t", &failing, &ctx.path().display().to_string()]);
    let command = "echo checking; if [ -e /fail ]; then echo broken >&2; exit 4; fi; echo fine";

    let run = tug_run([
        plugin("matrix").as_os_str(),
        "--".as_ref(),
        "--image".as_ref(),
        TEST_IMAGE.as_ref(),
        "--image".as_ref(),
        failing.as_ref(),
        "--".as_ref(),
        "sh".as_ref(),
        "-c".as_ref(),
        command.as_ref(),
    ]);
    let _ = Command::new("docker").args(["rmi", "-f", &failing]).output();
    assert_eq!(run.code(), Some(1), "{}", run.report());
    run.assert_stdout_line(&format!("[{TEST_IMAGE}] checking"))
        .assert_stdout_line(&format!("[{TEST_IMAGE}] fine"))
        .assert_stdout_line(&format!("[{failing}] checking"));
    assert!(
        run.stderr.contains(&format!("[{failing}] broken")),
        "{}",
        run.report()
    );
    assert!(run.stderr.contains("matrix: 1 failed"), "{}", run.report());
    let row = |image: &str| {
        run.stdout
            .lines()
            .filter_map(|l| l.strip_prefix("[matrix] "))
            .find(|l| l.starts_with(image) && l.split_whitespace().count() == 3)
            .map(|l| l.split_whitespace().nth(1).unwrap().to_owned())
    };
    assert_eq!(row(TEST_IMAGE).as_deref(), Some("0"), "{}", run.report());
    assert_eq!(row(&failing).as_deref(), Some("4"), "{}", run.report());

    let run = tug_run([
        plugin("matrix").as_os_str(),
        "--".as_ref(),
        "--image".as_ref(),
        TEST_IMAGE.as_ref(),
        "--".as_ref(),
        "sh".as_ref(),
        "-c".as_ref(),
        command.as_ref(),
    ]);
    run.assert_success().assert_stdout_line("ok");

    // An image the policy does not allow: the object layer's error is the policy's denial, one line
    // naming the rule and the field, and nothing is started.
    let run = tug_run([
        plugin("matrix").as_os_str(),
        "--".as_ref(),
        "--image".as_ref(),
        "alpine:3".as_ref(),
        "--".as_ref(),
        "true".as_ref(),
    ]);
    assert_eq!(run.code(), Some(77), "{}", run.report());
    assert!(
        run.stderr.contains(
            "error: denied by rule images (field Image): image alpine:3 is not one policy untrusted allows"
        ),
        "{}",
        run.report()
    );
}
