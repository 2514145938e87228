//! The example plugins, run by `tug run` against the local daemon: each plugin checks its own results and
//! exits non-zero when one is wrong; these tests check that it succeeded, that `tug` forwarded its output
//! (each stdout line prefixed with `[<plugin>] ` as stdout is not a TTY), and how `tug run` fails.

use std::io::Write;

use tug_e2e::{plugin, tug_run};

/// The lines of `run`'s stdout are all the plugin's, prefixed with `[name] `.
fn assert_prefixed(run: &tug_e2e::Run, name: &str) {
    let prefix = format!("[{name}] ");
    for line in run.stdout.lines().filter(|line| !line.is_empty()) {
        assert!(
            line.starts_with(&prefix),
            "stdout line {line:?} lacks the prefix {prefix:?}\n{}",
            run.report()
        );
    }
}

#[test]
fn hello_prints_the_version_info_and_ping() {
    let run = tug_run([plugin("hello")]);
    run.assert_success()
        .assert_stdout_line("[hello] Docker ")
        .assert_stdout_line("ApiVersion 1.")
        .assert_stdout_line("[hello] info: ")
        .assert_stdout_line("storage driver")
        .assert_stdout_line("[hello] ping: api-version 1.")
        .assert_stdout_line("[hello] ok");
    assert_prefixed(&run, "hello");
}

#[test]
fn lifecycle_follows_the_logs_and_sees_exit_code_7() {
    tug_run([plugin("lifecycle")])
        .assert_success()
        .assert_stdout_line("[lifecycle] created container ")
        .assert_stdout_line("[lifecycle] exit code 7")
        .assert_stdout_line("[lifecycle] exit code, stdout and stderr are as expected")
        .assert_stdout_line("[lifecycle] removed container ")
        .assert_stdout_line("[lifecycle] ok");
}

#[test]
fn shell_drives_an_interactive_exec() {
    tug_run([plugin("shell")])
        .assert_success()
        .assert_stdout_line("[shell] the listing of / contains bin and proc:")
        .assert_stdout_line("[shell] exec inspect: Running false, ExitCode 3")
        .assert_stdout_line("[shell] removed container ")
        .assert_stdout_line("[shell] ok");
}

#[test]
fn archive_copies_files_in_and_out_and_exports() {
    tug_run([plugin("archive")])
        .assert_success()
        .assert_stdout_line("[archive] put-archive: hello.txt (5000 bytes)")
        .assert_stdout_line("[archive] hello.txt came back identical (5000 bytes)")
        .assert_stdout_line("[archive] export: ")
        .assert_stdout_line("[archive] removed container ")
        .assert_stdout_line("[archive] ok");
}

#[test]
fn images_round_trip_through_the_local_registry() {
    // Building and pushing need the `ci` policy; `untrusted` grants images read-only and no builds.
    tug_run([plugin("images").into_os_string(), "--policy".into(), "ci".into()])
        .assert_success()
        .assert_stdout_line("[images] built image sha256:")
        .assert_stdout_line("[images] pushed: digest sha256:")
        .assert_stdout_line("[images] pulled: Id sha256:")
        .assert_stdout_line("[images] the container from 127.0.0.1:5000/tug-plugins/images:")
        .assert_stdout_line("[images] loaded: inspect says the same")
        .assert_stdout_line("[images] cleanup: removed image ")
        .assert_stdout_line("[images] ok");
}

#[test]
fn the_plugins_exit_code_is_passed_through() {
    let run = tug_run([plugin("exit-code").as_os_str(), "--".as_ref(), "5".as_ref()]);
    assert_eq!(run.code(), Some(5), "expected exit code 5\n{}", run.report());
    run.assert_stdout_line("[exit-code] exiting with 5");

    let run = tug_run([plugin("exit-code")]);
    assert_eq!(
        run.code(),
        Some(42),
        "expected exit code 42 (no argument)\n{}",
        run.report()
    );
    run.assert_stdout_line("[exit-code] exiting with 42");
}

#[test]
fn a_missing_plugin_file_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-plugin.wasm");
    let run = tug_run([&missing]);
    assert!(
        matches!(run.code(), Some(code) if code != 0),
        "expected a non-zero exit code\n{}",
        run.report()
    );
    assert!(
        run.stderr.contains("no-such-plugin.wasm"),
        "stderr does not name the file\n{}",
        run.report()
    );
}

#[test]
fn a_file_that_is_not_a_component_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("not-a-component.wasm");
    let mut file = std::fs::File::create(&garbage).unwrap();
    file.write_all(b"\0asm this is not a WebAssembly component \x01\x02\x03\xff\xfe")
        .unwrap();
    drop(file);
    let run = tug_run([&garbage]);
    assert!(
        matches!(run.code(), Some(code) if code != 0),
        "expected a non-zero exit code\n{}",
        run.report()
    );
    assert!(
        run.stderr.contains("not-a-component.wasm"),
        "stderr does not name the file\n{}",
        run.report()
    );
}
