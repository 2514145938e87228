//! Managed Docker plugins (the Plugin operations) from inside a tug plugin, against the real daemon and the
//! local registry on 127.0.0.1:5000.
//!
//! The Docker plugin is built here, with no registry but the local one: a std-only static program
//! (`tests/fixtures/docker-plugin`, built with `x86_64-unknown-linux-musl`, or glibc with `crt-static` when
//! that target cannot be had) serving the volume-driver protocol on its socket, put with the fixture's
//! `config.json` into a tar (`config.json`, `rootfs/`) in a temporary directory that the policy preopens
//! as `/fixture`. The wasm plugin `dockerplugin` then creates, sets, enables, lists, disables, pushes, asks
//! the privileges of, removes, pulls, upgrades, enables and disables, and removes it.
//!
//! The escape cases of row 26 run the same plugin's `case` mode: under `untrusted` every plugin call is
//! refused by `operations.plugins`; under a policy with `plugins = "write"` but not `unrestricted`,
//! privileges that grant the host, mount-source settings and plugins whose config asks for privileges are
//! refused (`plugins.privileges`, `plugins.settings`), and so are registries the policy does not list.
//!
//! tug's cleanup does not know plugins: every plugin a test makes (or a failing run may leave) is removed
//! by a drop guard with the native client, `DELETE /plugins/{name}?force=true`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tug::engine::{Client, EngineConfig, Request};
use tug::policy::rules_plugins::plugin_path;
use tug_e2e::{plugin, tug_run, workspace_root};

const REPOSITORY: &str = "127.0.0.1:5000/tug-test/dockerplugin";
const MUSL: &str = "x86_64-unknown-linux-musl";
const GNU: &str = "x86_64-unknown-linux-gnu";
/// What the daemon says the fixture plugin needs (its network type is `none`).
const PRIVILEGES: &str =
    r#"[{"Name":"network","Description":"permissions to access a network","Value":["none"]}]"#;

fn unique(what: &str) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    format!("{what}-{}-{:09}", now.as_secs(), now.subsec_nanos())
}

fn client() -> Client {
    Client::new(EngineConfig::from_env().unwrap()).unwrap()
}

/// Removes the Docker plugins it names when dropped (also when a test fails): disabled first (`force`).
struct PluginGuard {
    names: Vec<String>,
}

impl PluginGuard {
    fn new(names: &[&str]) -> Self {
        PluginGuard {
            names: names.iter().map(|n| n.to_string()).collect(),
        }
    }
}

impl Drop for PluginGuard {
    fn drop(&mut self) {
        let Ok(rt) = tokio::runtime::Runtime::new() else {
            return;
        };
        let c = client();
        for name in &self.names {
            let req = Request::delete(plugin_path(name, "")).query("force", true);
            match rt.block_on(c.call(req)) {
                Ok(_) => eprintln!("guard: removed Docker plugin {name}"),
                Err(tug::engine::Error::NotFound { .. }) => {}
                Err(e) => eprintln!("guard: removing Docker plugin {name}: {e}"),
            }
        }
    }
}

/// Whether rustup has `target` for the toolchain running the tests, adding it if it can (idempotent).
fn rust_target(target: &str) -> bool {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == target)
        });
    installed
        || Command::new("rustup")
            .args(["target", "add", target])
            .status()
            .is_ok_and(|s| s.success())
}

/// Builds the fixture's static program (once per test binary) into `target/fixtures` and returns its path.
fn plugin_program() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let manifest = workspace_root().join("tests/fixtures/docker-plugin/Cargo.toml");
        let target_dir = workspace_root().join("target").join("fixtures");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let musl = rust_target(MUSL);
        let target = if musl { MUSL } else { GNU };
        let mut command = Command::new(&cargo);
        command
            .args(["build", "--release", "--target", target, "--manifest-path"])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target_dir);
        if !musl {
            command.env("RUSTFLAGS", "-C target-feature=+crt-static");
        }
        eprintln!("building the Docker plugin's program: {command:?}");
        let output = command
            .output()
            .map_err(|e| format!("cannot run {cargo:?}: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "building the Docker plugin's program failed ({}): {command:?}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(target_dir.join(target).join("release").join("plugin"))
    });
    match built {
        Ok(path) => path,
        Err(message) => panic!("{message}"),
    }
}

/// The fixture's `config.json`.
fn plugin_config() -> Value {
    let path = workspace_root().join("tests/fixtures/docker-plugin/config.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// A tar (ustar) of directories and files: (path, mode, content or `None` for a directory).
fn tar(entries: &[(&str, u32, Option<&[u8]>)]) -> Vec<u8> {
    fn octal(field: &mut [u8], value: u64) {
        let width = field.len() - 1;
        let text = format!("{value:0width$o}");
        field[..width].copy_from_slice(text.as_bytes());
    }
    let mut out = Vec::new();
    for (path, mode, content) in entries {
        let mut h = [0u8; 512];
        assert!(path.len() < 100, "{path} is too long for a plain ustar name");
        h[..path.len()].copy_from_slice(path.as_bytes());
        octal(&mut h[100..108], u64::from(*mode));
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        octal(&mut h[124..136], content.map_or(0, |c| c.len() as u64));
        octal(&mut h[136..148], 1_700_000_000);
        h[156] = if content.is_some() { b'0' } else { b'5' };
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].fill(b' ');
        let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
        let checksum = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(checksum.as_bytes());
        out.extend_from_slice(&h);
        if let Some(c) = content {
            out.extend_from_slice(c);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// The plugin tar PluginCreate takes: `config.json` and `rootfs/` with the program as `/plugin`, and `id`
/// in `/etc/tugtest-id`: the daemon refuses to create a plugin whose root filesystem layer it already
/// holds ("content sha256:…: already exists"), so each tar must be unique.
fn plugin_tar(config: &Value, id: &str) -> Vec<u8> {
    let program = std::fs::read(plugin_program()).unwrap();
    let config = serde_json::to_vec_pretty(config).unwrap();
    tar(&[
        ("config.json", 0o644, Some(&config)),
        ("rootfs/", 0o755, None),
        ("rootfs/plugin", 0o755, Some(&program)),
        ("rootfs/etc/", 0o755, None),
        ("rootfs/etc/tugtest-id", 0o644, Some(id.as_bytes())),
        ("rootfs/tmp/", 0o1777, None),
        ("rootfs/run/", 0o755, None),
        ("rootfs/run/docker/", 0o755, None),
        ("rootfs/run/docker/plugins/", 0o755, None),
    ])
}

/// A temporary directory holding `docker-plugin.tar`, to preopen as `/fixture`.
fn fixture_dir(id: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("docker-plugin.tar"),
        plugin_tar(&plugin_config(), id),
    )
    .unwrap();
    dir
}

/// A policy file: `plugins = "write"` and the local registry, the fixture preopened if given.
fn policy_file(dir: &Path, name: &str, unrestricted: bool, preopen: Option<&Path>) -> PathBuf {
    let mut text = format!(
        "name = \"{name}\"\nunrestricted = {unrestricted}\n\n\
         [operations]\nsystem = \"read\"\nplugins = \"write\"\n\n\
         [registries]\nallow = [\"127.0.0.1:5000\"]\n"
    );
    if let Some(host) = preopen {
        text.push_str(&format!(
            "\n[[preopens]]\nhost = \"{}\"\nguest = \"/fixture\"\n",
            host.display()
        ));
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the plugin's whole life under `policy` and checks its key lines.
/// The two lives run one at a time: two plugin pushes at once have crashed Debian's 20.10 daemon
/// (containerd's pusher: "send on closed channel"), taking every other test down with it.
static PUSHES: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn life(policy_name: &str, unrestricted: bool) {
    let _one_push_at_a_time = PUSHES.lock().unwrap_or_else(|p| p.into_inner());
    let tag = unique("e2e");
    let name = format!("{REPOSITORY}:{tag}");
    let _guard = PluginGuard::new(&[&name]);
    let fixture = fixture_dir(&name);
    let policy = policy_file(fixture.path(), policy_name, unrestricted, Some(fixture.path()));
    let run = tug_run([
        plugin("dockerplugin").display().to_string(),
        "--policy".into(),
        policy.display().to_string(),
        "--".into(),
        "run".into(),
        tag.clone(),
    ]);
    let p = "[dockerplugin] ";
    run.assert_success()
        .assert_stdout_line(&format!("{p}created plugin {name} from a "))
        .assert_stdout_line("inspect: id ")
        .assert_stdout_line("socket \"tugtest.sock\", types [\"docker.volumedriver/1.0\"]")
        .assert_stdout_line(&format!(
            "Settings.Env is now [\"TUGTEST_GREETING=bonjour {tag}\"]"
        ))
        .assert_stdout_line(&format!("{p}enabled {name}"))
        .assert_stdout_line(&format!("{name} among them"))
        .assert_stdout_line(&format!("{p}disabled {name}"))
        .assert_stdout_line("pushed: digest sha256:")
        .assert_stdout_line(&format!("{p}privileges of {name}: {PRIVILEGES}"))
        .assert_stdout_line(&format!("{p}removed {name}"))
        .assert_stdout_line("pulled: id ")
        .assert_stdout_line(&format!("upgraded: reference \"{name}\""))
        .assert_stdout_line(&format!("{p}enabled {name} again"))
        .assert_stdout_line(&format!("{p}disabled {name} again"))
        .assert_stdout_line(&format!("{p}removed {name}: inspect says not found"))
        .assert_stdout_line(&format!("{p}ok"));
    assert!(
        !run.stdout.contains("cleanup: removed plugin"),
        "the plugin removed everything itself\n{}",
        run.report()
    );
    // Nothing is left behind.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let left = rt.block_on(client().call(Request::get(plugin_path(&name, "/json"))));
    assert!(
        matches!(left, Err(tug::engine::Error::NotFound { .. })),
        "{name} is still installed: {left:?}"
    );
}

#[test]
fn dockerplugin_life_under_a_plugin_writer_policy() {
    life("plugin-writer", false);
}

#[test]
fn dockerplugin_life_under_an_unrestricted_policy() {
    life("plugin-trusted", true);
}

/// Runs the `case` mode under `policy`; returns each case's outcome after `case N: `.
fn run_cases(policy: &str, cases: &[(&str, &str, &str)]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        plugin("dockerplugin").display().to_string(),
        "--policy".into(),
        policy.into(),
        "--".into(),
        "case".into(),
    ];
    for (kind, target, body) in cases {
        args.extend([kind.to_string(), target.to_string(), body.to_string()]);
    }
    let run = tug_run(&args);
    run.assert_success();
    (0..cases.len())
        .map(|n| {
            let prefix = format!("case {n}: ");
            run.stdout
                .lines()
                .find_map(|l| l.split_once(&prefix).map(|(_, rest)| rest.to_owned()))
                .unwrap_or_else(|| panic!("no outcome for case {n}\n{}", run.report()))
        })
        .collect()
}

fn check(expected: &[(&str, &str)], outcomes: &[String]) {
    let mut wrong = Vec::new();
    for ((what, expected), got) in expected.iter().zip(outcomes) {
        if !got.starts_with(expected) {
            wrong.push(format!("{what}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn untrusted_refuses_every_plugin_call() {
    let name = format!("{REPOSITORY}:{}", unique("untrusted"));
    let _guard = PluginGuard::new(&[&name]);
    let ops = "denied operations.plugins -";
    let kinds = [
        "create",
        "pull",
        "upgrade",
        "push",
        "set",
        "enable",
        "list",
        "inspect",
        "privileges",
    ];
    let body = |kind: &str| match kind {
        "pull" | "upgrade" => "[]",
        "set" => r#"["A=1"]"#,
        _ => "-",
    };
    let calls: Vec<(&str, &str, &str)> = kinds.iter().map(|k| (*k, name.as_str(), body(k))).collect();
    let outcomes = run_cases("untrusted", &calls);
    let expected: Vec<(&str, &str)> = kinds.iter().map(|k| (*k, ops)).collect();
    check(&expected, &outcomes);
}

#[test]
fn a_plugin_writer_cannot_reach_the_host_through_a_plugin() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = client();
    let id = unique("escape");
    let plain = format!("{REPOSITORY}-plain:{id}");
    let privileged = format!("{REPOSITORY}-privileged:{id}");
    let pulled = format!("{REPOSITORY}-pulled:{id}");
    let _guard = PluginGuard::new(&[&plain, &privileged, &pulled]);

    // Two plugins installed from outside (as an administrator would): a plain one, and one whose config
    // asks for CAP_SYS_ADMIN and a bind mount of / with a settable source.
    let mut config = plugin_config();
    let create = |name: &str, config: &Value| {
        let mut req = Request::post("/plugins/create")
            .query("name", name)
            .content_type("application/x-tar");
        req.body = Some(plugin_tar(config, name).into());
        rt.block_on(c.call(req)).unwrap();
    };
    create(&plain, &config);
    config["Linux"]["Capabilities"] = json!(["CAP_SYS_ADMIN"]);
    config["Mounts"] = json!([{
        "Name": "data", "Description": "a host directory", "Settable": ["source"],
        "Source": "/", "Destination": "/host", "Type": "bind", "Options": ["rbind"]
    }]);
    create(&privileged, &config);

    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(dir.path(), "plugin-writer", false, None);
    let d = |rule: &str, field: &str| format!("denied {rule} {field}");
    let privs = |p: Value| p.to_string();
    let mount = privs(json!([{"Name": "mount", "Description": "host path to mount", "Value": ["/"]}]));
    let host_net = privs(json!([{"Name": "network", "Description": "", "Value": ["host"]}]));
    let caps = privs(json!([
        {"Name": "network", "Description": "", "Value": ["none"]},
        {"Name": "capabilities", "Description": "", "Value": ["CAP_SYS_ADMIN"]}
    ]));
    let devices = privs(json!([{"Name": "allow-all-devices", "Description": "", "Value": ["true"]}]));
    let pid = privs(json!([{"Name": "host pid namespace", "Description": "", "Value": ["true"]}]));
    let case_variant = r#"[{"name":"mount","Name":"network","Value":["none"]}]"#.to_owned();
    let none = privs(json!([{"Name": "network", "Description": "", "Value": ["none"]}]));
    let (plain, privileged, pulled) = (plain.as_str(), privileged.as_str(), pulled.as_str());
    let evil = "registry.example.com/tug/evil:1";
    let caps_field = "Config.Linux.Capabilities";
    #[rustfmt::skip]
    let cases: Vec<(&str, &str, &str, &str, String)> = vec![
        ("pull: mount /", "pull", pulled, &mount, d("plugins.privileges", "[0].Value")),
        ("pull: network host", "pull", pulled, &host_net, d("plugins.privileges", "[0].Value")),
        ("pull: capabilities", "pull", pulled, &caps, d("plugins.privileges", "[1].Value")),
        ("pull: all devices", "pull", pulled, &devices, d("plugins.privileges", "[0].Value")),
        ("pull: host pid", "pull", pulled, &pid, d("plugins.privileges", "[0].Value")),
        ("pull: two spellings of Name", "pull", pulled, &case_variant, d("canonical.case-variant", "[0].name")),
        ("pull: unlisted registry", "pull", evil, &none, d("registries", "remote")),
        ("pull: Docker Hub", "pull", "tug/evil:1", &none, d("registries", "remote")),
        ("upgrade: mount /", "upgrade", plain, &mount, d("plugins.privileges", "[0].Value")),
        ("create: Docker Hub name", "create", "tug/evil:1", "-", d("registries", "name")),
        ("set: mnt.source=/", "set", plain, r#"["mnt.source=/"]"#, d("plugins.settings", "[0]")),
        ("set: dev.path", "set", plain, r#"["A=1","dev.path=/dev/sda"]"#, d("plugins.settings", "[1]")),
        ("set: a mount by name", "set", privileged, r#"["data=/etc"]"#, d("plugins.settings", "[0]")),
        ("enable: CAP_SYS_ADMIN", "enable", privileged, "-", d("plugins.privileges", caps_field)),
        ("privileges: unlisted registry", "privileges", evil, "-", d("registries", "remote")),
        // What must still work.
        ("set an env setting", "set", plain, r#"["TUGTEST_GREETING=hi"]"#, "allowed".into()),
        ("enable a plain plugin", "enable", plain, "-", "allowed".into()),
        ("inspect", "inspect", privileged, "-", "allowed".into()),
        ("list", "list", "-", "-", "allowed".into()),
    ];
    let calls: Vec<(&str, &str, &str)> = cases.iter().map(|(_, k, t, b, _)| (*k, *t, *b)).collect();
    let outcomes = run_cases(&policy.display().to_string(), &calls);
    let named: Vec<(&str, &str)> = cases.iter().map(|(w, _, _, _, e)| (*w, e.as_str())).collect();
    check(&named, &outcomes);

    // The daemon's side: the privileged plugin was never enabled and keeps its settings; nothing was
    // pulled; the plain plugin took the allowed setting.
    let inspect = |name: &str| rt.block_on(c.json::<Value>(Request::get(plugin_path(name, "/json"))));
    let p = inspect(privileged).unwrap();
    assert_eq!(p["Enabled"], false, "{p}");
    assert_eq!(p["Settings"]["Mounts"][0]["Source"], "/", "{p}");
    assert!(matches!(
        inspect(pulled),
        Err(tug::engine::Error::NotFound { .. })
    ));
    let p = inspect(plain).unwrap();
    assert_eq!(p["Settings"]["Env"], json!(["TUGTEST_GREETING=hi"]), "{p}");
}
