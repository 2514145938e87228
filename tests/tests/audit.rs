//! `tug run --audit FILE` writes one JSON line per Engine API call; `--secret` values are masked in the
//! plugin's forwarded output and in the audit log.

use serde_json::Value;
use tug_e2e::{plugin, tug_run};

#[test]
fn audit_lines_and_masked_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let secret = "s3cr3t-token-value";
    let run = tug_run([
        plugin("abandon").display().to_string(),
        "--audit".into(),
        audit.display().to_string(),
        "--secret".into(),
        format!("TOKEN={secret}"),
        "--".into(),
        "secret".into(),
    ]);
    run.assert_success()
        .assert_stdout_line("[abandon] inspect ***: not found")
        .assert_stdout_line("[abandon] privileged create: refused");
    assert!(
        !run.stdout.contains(secret),
        "the secret is masked in the output\n{}",
        run.report()
    );
    // Masking replaces whole occurrences: a value the plugin prints in pieces is not recognised.
    assert!(
        run.stdout.contains("token is ***, split: s3c|r3t-token-value"),
        "{}",
        run.report()
    );

    let text = std::fs::read_to_string(&audit).unwrap();
    assert!(
        !text.contains(secret),
        "the secret is masked in the audit log:\n{text}"
    );
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    for l in &lines {
        for key in [
            "time",
            "plugin",
            "run",
            "operation",
            "decision",
            "duration_ms",
            "bytes",
        ] {
            assert!(l.get(key).is_some(), "{key} in {l}");
        }
        assert_eq!(l["plugin"], "abandon");
    }
    let inspect = lines
        .iter()
        .find(|l| l["operation"] == "ContainerInspect")
        .expect("the inspect is audited");
    assert_eq!(inspect["target"], "***");
    assert_eq!(inspect["decision"], "allow");
    assert!(
        inspect["error"].as_str().unwrap_or_default().contains("NotFound"),
        "{inspect}"
    );
    let create = lines
        .iter()
        .find(|l| l["operation"] == "ContainerCreate")
        .expect("the create is audited");
    assert_eq!(create["decision"], "deny");
    assert_eq!(create["rule"], "containers.privileged");
    assert_eq!(create["field"], "HostConfig.Privileged");
    let mode = std::fs::metadata(&audit).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );
}

/// A policy's preopened directory is the plugin's whole filesystem, read-only unless it says otherwise.
#[test]
fn preopened_directories_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("in.txt"), "hello from the host\n").unwrap();
    let text = include_str!("../../runtime/src/policy/profiles/untrusted.toml");
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "{text}\n[[preopens]]\nhost = {:?}\nguest = \"/in\"\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let run = tug_run([
        plugin("abandon").display().to_string(),
        "--policy".into(),
        policy.display().to_string(),
        "--".into(),
        "read".into(),
        "/in/in.txt".into(),
    ]);
    run.assert_success()
        .assert_stdout_line("[abandon] read /in/in.txt: hello from the host")
        .assert_stdout_line("[abandon] write next to it: refused")
        .assert_stdout_line("[abandon] read /etc/hostname: refused");
    assert!(!data.join("in.txt.new").exists());
}

/// A secret holding characters that JSON and Rust's `Debug` escape (`"`, `\`) is masked in a call's
/// error text as well: the error is recorded as the engine's message came, then masked, then escaped.
#[test]
fn a_secret_with_quotes_is_masked_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let events = dir.path().join("events.jsonl");
    let secret = r#"q"u0te\d-s3cret"#;
    let run = tug_run([
        plugin("abandon").display().to_string(),
        "--audit".into(),
        audit.display().to_string(),
        format!("--json={}", events.display()),
        "--secret".into(),
        format!("TOKEN={secret}"),
        "--".into(),
        "secret".into(),
    ]);
    run.assert_success();
    for file in [&audit, &events] {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains("NotFound: "), "{text}");
        assert!(
            !text.contains("u0te"),
            "the secret leaks in {}:\n{text}",
            file.display()
        );
    }
}
