//! Swarm mode: the `swarm` plugin calls every swarm, node, service, task, secret and config operation
//! against the real daemon under `--policy trusted`; the escape cases of rows 27 and 28 of the checklist
//! are refused, naming their rule and field, under `untrusted`, `ci` and a policy that grants swarm writes.
//!
//! Every test that may touch swarm mode is in this file and they run one at a time (`SERIAL`): the daemon
//! is a swarm manager only while the `swarm` plugin runs. Each test leaves the daemon as it found it: out
//! of any swarm the plugin made, and without the `docker_gwbridge` network the daemon makes for a swarm
//! (and keeps after leaving it) unless it was there before.

use serde_json::Value;
use tug::engine::{Client, EngineConfig, Error, Request};
use tug_e2e::{plugin, tug_run};

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// The 30 operations of the Swarm, Node, Service, Task, Secret and Config areas.
const OPERATIONS: [&str; 30] = [
    "SwarmInspect",
    "SwarmInit",
    "SwarmJoin",
    "SwarmLeave",
    "SwarmUpdate",
    "SwarmUnlockkey",
    "SwarmUnlock",
    "NodeList",
    "NodeInspect",
    "NodeDelete",
    "NodeUpdate",
    "ServiceList",
    "ServiceCreate",
    "ServiceInspect",
    "ServiceDelete",
    "ServiceUpdate",
    "ServiceLogs",
    "TaskList",
    "TaskInspect",
    "TaskLogs",
    "SecretList",
    "SecretCreate",
    "SecretInspect",
    "SecretDelete",
    "SecretUpdate",
    "ConfigList",
    "ConfigCreate",
    "ConfigInspect",
    "ConfigDelete",
    "ConfigUpdate",
];

/// The daemon's swarm state around a test: checked before, restored after.
struct Daemon {
    rt: tokio::runtime::Runtime,
    client: Client,
    had_gwbridge: bool,
}

impl Daemon {
    fn new() -> Self {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let client = Client::new(EngineConfig::from_env().unwrap()).unwrap();
        let mut d = Daemon {
            rt,
            client,
            had_gwbridge: false,
        };
        d.had_gwbridge = d.network_exists("docker_gwbridge");
        d
    }

    /// `inactive`, `pending`, `active`, `error` or `locked` (`/info`'s `Swarm.LocalNodeState`).
    fn swarm_state(&self) -> String {
        let info: Value = self.rt.block_on(self.client.json(Request::get("/info"))).unwrap();
        info["Swarm"]["LocalNodeState"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn network_exists(&self, name: &str) -> bool {
        match self.rt.block_on(
            self.client
                .json::<Value>(Request::get(format!("/networks/{name}"))),
        ) {
            Ok(_) => true,
            Err(Error::NotFound { .. }) => false,
            Err(e) => panic!("inspecting network {name}: {e}"),
        }
    }

    /// Leaves a swarm the plugin made (marked `org.example.plugin=swarm`) or that a refused case would
    /// have made, and removes `docker_gwbridge` if the test made it. Returns what it had to undo.
    fn restore(&self) -> Vec<String> {
        let mut undone = Vec::new();
        let state = self.swarm_state();
        if state != "inactive" {
            let swarm: Value = self
                .rt
                .block_on(self.client.json(Request::get("/swarm")))
                .unwrap_or_default();
            let ours = swarm["Spec"]["Labels"]["org.example.plugin"] == "swarm" || state == "pending";
            assert!(
                ours,
                "the daemon is in a swarm no test made ({state}): not touching it"
            );
            let _ = self.rt.block_on(
                self.client
                    .call(Request::post("/swarm/leave").query("force", true)),
            );
            undone.push(format!("left a swarm ({state})"));
        }
        if !self.had_gwbridge && self.network_exists("docker_gwbridge") {
            // The daemon makes it for a swarm and keeps it; its endpoints go once the tasks are gone.
            for _ in 0..50 {
                let removed = self
                    .rt
                    .block_on(self.client.call(Request::delete("/networks/docker_gwbridge")));
                if matches!(removed, Ok(_) | Err(Error::NotFound { .. })) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            undone.push("removed docker_gwbridge".into());
        }
        undone
    }

    /// The services, secrets or configs (`kind`) of a plugin (by its `tug.plugin` label).
    fn swarm_objects_of(&self, kind: &str, plugin: &str) -> Vec<Value> {
        let filters = serde_json::json!({ "label": [format!("tug.plugin={plugin}")] }).to_string();
        let list: Value = self
            .rt
            .block_on(
                self.client
                    .json(Request::get(format!("/{kind}")).query("filters", filters)),
            )
            .unwrap();
        list.as_array().cloned().unwrap_or_default()
    }

    /// The containers of a plugin (by its `tug.plugin` label), running or not.
    fn containers_of(&self, plugin: &str) -> Vec<Value> {
        let filters = serde_json::json!({ "label": [format!("tug.plugin={plugin}")] }).to_string();
        let list: Value = self
            .rt
            .block_on(
                self.client.json(
                    Request::get("/containers/json")
                        .query("all", true)
                        .query("filters", filters),
                ),
            )
            .unwrap();
        list.as_array().cloned().unwrap_or_default()
    }
}

#[test]
fn swarm_plugin_calls_every_operation() {
    let _serial = serial();
    let daemon = Daemon::new();
    let run = tug_run([
        plugin("swarm").display().to_string(),
        "--policy".into(),
        "trusted".into(),
    ]);
    let after = daemon.swarm_state();
    let undone = daemon.restore();
    run.assert_success();
    for op in OPERATIONS {
        run.assert_stdout_line(&format!("[swarm] {op}: "));
    }
    run.assert_stdout_line("[swarm] SwarmInit: this engine is now the manager of a swarm on 127.0.0.1")
        .assert_stdout_line("[swarm] SwarmUpdate: task history ")
        .assert_stdout_line("[swarm] SwarmJoin: refused as expected")
        .assert_stdout_line("[swarm] SwarmUnlock: refused as expected")
        .assert_stdout_line("swarm is not locked")
        .assert_stdout_line("[swarm] NodeDelete: refused as expected")
        .assert_stdout_line("[swarm] SecretInspect: tug-demo-secret at version ")
        .assert_stdout_line("labelled by tug: true, data not shown: true")
        .assert_stdout_line("[swarm] ServiceInspect: tug-demo-web at version ")
        .assert_stdout_line("labelled by tug: true, its containers too: true")
        .assert_stdout_line("[swarm] TaskList: 3 tasks running")
        .assert_stdout_line("[swarm] ServiceLogs: ")
        .assert_stdout_line("with the secret and the config read in the task")
        .assert_stdout_line("[swarm] ServiceList: found tug-demo-web, 3 of 3 tasks running")
        .assert_stdout_line("[swarm] SwarmLeave: left the swarm")
        .assert_stdout_line("[swarm] ok");
    assert_eq!(after, "inactive", "the plugin left its swarm\n{}", run.report());
    assert!(!undone.iter().any(|u| u.starts_with("left")), "{undone:?}");
    // tug removed the task containers (they carry the run's labels) at the end of the run.
    let left = daemon.containers_of("docker_tour");
    assert!(left.is_empty(), "containers left behind: {left:?}");
}

/// A run that ends with its service, secret and config still there (and the swarm): tug's cleanup removes
/// them, services first, and the containers of the service's tasks.
#[test]
fn swarm_objects_are_removed_when_the_run_ends() {
    let _serial = serial();
    let daemon = Daemon::new();
    let run = tug_run([
        plugin("swarm").display().to_string(),
        "--policy".into(),
        "trusted".into(),
        "--".into(),
        "abandon".into(),
    ]);
    let state = daemon.swarm_state();
    let left: Vec<(&str, Vec<Value>)> = if state == "active" {
        ["services", "secrets", "configs"]
            .into_iter()
            .map(|kind| (kind, daemon.swarm_objects_of(kind, "swarm")))
            .collect()
    } else {
        Vec::new()
    };
    let containers = daemon.containers_of("swarm");
    daemon.restore();
    run.assert_success()
        .assert_stdout_line("[swarm] abandoned service ");
    assert_eq!(state, "active", "the plugin stays in its swarm\n{}", run.report());
    for (kind, objects) in left {
        assert!(objects.is_empty(), "{kind} left behind: {objects:?}");
    }
    assert!(containers.is_empty(), "containers left behind: {containers:?}");
    assert!(!run.stderr.contains("cleanup after plugin"), "{}", run.report());
}

/// Runs the escape plugin on `(kind, body)` cases under a policy; returns each case's outcome.
fn run_cases(policy: &str, cases: &[(&str, String)]) -> Vec<String> {
    let mut args = vec![
        plugin("escape").display().to_string(),
        "--policy".into(),
        policy.into(),
        "--".into(),
    ];
    for (kind, body) in cases {
        args.push((*kind).into());
        args.push(body.clone());
    }
    let run = tug_run(&args);
    run.assert_success();
    let lines: Vec<String> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("[escape] case "))
        .map(|l| l.split_once(": ").map_or(l, |(_, rest)| rest).to_owned())
        .collect();
    assert_eq!(lines.len(), cases.len(), "one line per case\n{}", run.report());
    lines
}

/// (what the case is, kind, body, expected outcome)
type Case = (&'static str, &'static str, Value, String);

fn check(policy: &str, cases: &[Case]) {
    let _serial = serial();
    let daemon = Daemon::new();
    let bodies: Vec<(&str, String)> = cases.iter().map(|(_, k, b, _)| (*k, b.to_string())).collect();
    let got = run_cases(policy, &bodies);
    let undone = daemon.restore();
    let wrong: Vec<String> = cases
        .iter()
        .zip(&got)
        .filter(|((_, _, _, want), got)| *got != want)
        .map(|((what, _, _, want), got)| format!("{what}: wanted `{want}`, got `{got}`"))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} cases wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    assert!(undone.is_empty(), "a refused case reached the daemon: {undone:?}");
}

/// An image of a registry `ci` allows: a service's image is pulled at every task start, so its registry
/// must be allowed too (`tug-test/busybox` would be pulled from Docker Hub).
const IMAGE: &str = "127.0.0.1:5000/tug-test/busybox:latest";

fn service(container_spec: Value) -> Value {
    let mut spec = serde_json::json!({"Image": IMAGE, "Command": ["true"]});
    spec.as_object_mut()
        .unwrap()
        .extend(container_spec.as_object().unwrap().clone());
    serde_json::json!({"Name": "escape", "TaskTemplate": {"ContainerSpec": spec}})
}

fn init_body() -> Value {
    serde_json::json!({"ListenAddr": "127.0.0.1:2377", "AdvertiseAddr": "127.0.0.1"})
}

/// Row 28 and the areas: the default policy has no swarm mode at all.
#[test]
fn untrusted_has_no_swarm_mode() {
    use serde_json::json;
    check(
        "untrusted",
        &[
            (
                "swarm init",
                "swarm-init",
                init_body(),
                "denied operations.swarm -".into(),
            ),
            (
                "swarm join",
                "swarm-join",
                json!({"ListenAddr": "127.0.0.1:2377", "AdvertiseAddr": "127.0.0.1",
                    "RemoteAddrs": ["192.0.2.1:2377"], "JoinToken": "SWMTKN-1-x"}),
                "denied operations.swarm -".into(),
            ),
            (
                "service create",
                "service-create",
                service(json!({})),
                "denied operations.services -".into(),
            ),
            (
                "secret create",
                "secret-create",
                json!({"Name": "s", "Data": "aGk="}),
                "denied operations.secrets -".into(),
            ),
            (
                "config create",
                "config-create",
                json!({"Name": "c", "Data": "aGk="}),
                "denied operations.configs -".into(),
            ),
        ],
    );
}

/// Row 27 under `ci` (services, secrets and configs writable; the swarm itself read-only): each escape in
/// Swarm syntax is refused naming its rule and its field, before anything reaches the daemon.
#[test]
fn ci_refuses_service_escapes_naming_rule_and_field() {
    use serde_json::json;
    let cs = "TaskTemplate.ContainerSpec";
    check(
        "ci",
        &[
            (
                "swarm init (swarm is read-only)",
                "swarm-init",
                init_body(),
                "denied operations.swarm -".into(),
            ),
            (
                "bind mount of /",
                "service-create",
                service(json!({"Mounts": [{"Type": "bind", "Source": "/", "Target": "/host"}]})),
                format!("denied containers.binds {cs}.Mounts[0].Source"),
            ),
            (
                "bind mount of docker.sock",
                "service-create",
                service(
                    json!({"Mounts": [{"Type": "bind", "Source": "/var/run/docker.sock", "Target": "/s"}]}),
                ),
                format!("denied containers.binds {cs}.Mounts[0].Source"),
            ),
            (
                "inline volume driver that binds",
                "service-create",
                service(
                    json!({"Mounts": [{"Type": "volume", "Target": "/v", "VolumeOptions":
                    {"DriverConfig": {"Name": "local", "Options": {"type": "none", "o": "bind", "device": "/"}}}}]}),
                ),
                format!("denied containers.volume-driver {cs}.Mounts[0].VolumeOptions.DriverConfig"),
            ),
            (
                "npipe mount",
                "service-create",
                service(
                    json!({"Mounts": [{"Type": "npipe", "Source": "\\\\.\\pipe\\docker_engine", "Target": "/p"}]}),
                ),
                format!("denied containers.mounts {cs}.Mounts[0].Type"),
            ),
            (
                "CapabilityAdd SYS_ADMIN",
                "service-create",
                service(json!({"CapabilityAdd": ["SYS_ADMIN"]})),
                format!("denied containers.capabilities {cs}.CapabilityAdd[0]"),
            ),
            (
                "seccomp unconfined",
                "service-create",
                service(json!({"Privileges": {"Seccomp": {"Mode": "unconfined"}}})),
                format!("denied services.privileges {cs}.Privileges.Seccomp.Mode"),
            ),
            (
                "AppArmor disabled",
                "service-create",
                service(json!({"Privileges": {"AppArmor": {"Mode": "disabled"}}})),
                format!("denied services.privileges {cs}.Privileges.AppArmor.Mode"),
            ),
            (
                "SELinux disabled",
                "service-create",
                service(json!({"Privileges": {"SELinuxContext": {"Disable": true}}})),
                format!("denied services.privileges {cs}.Privileges.SELinuxContext.Disable"),
            ),
            (
                "sysctls",
                "service-create",
                service(json!({"Sysctls": {"net.ipv4.ip_forward": "1"}})),
                format!("denied containers.sysctls {cs}.Sysctls"),
            ),
            (
                "isolation",
                "service-create",
                service(json!({"Isolation": "process"})),
                format!("denied services.runtime {cs}.Isolation"),
            ),
            (
                "plugin runtime",
                "service-create",
                json!({"TaskTemplate": {"Runtime": "plugin", "PluginSpec": {"Name": "evil/plugin"}}}),
                "denied services.runtime TaskTemplate.Runtime".into(),
            ),
            (
                "the host's network",
                "service-create",
                json!({"TaskTemplate": {"ContainerSpec": {"Image": IMAGE}, "Networks": [{"Target": "host"}]}}),
                "denied containers.networks TaskTemplate.Networks[0].Target".into(),
            ),
            (
                "port published in host mode",
                "service-create",
                json!({"TaskTemplate": {"ContainerSpec": {"Image": IMAGE}}, "EndpointSpec": {"Ports":
                    [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080, "PublishMode": "host"}]}}),
                "denied services.ports EndpointSpec.Ports[0].PublishMode".into(),
            ),
            (
                "port published on the routing mesh",
                "service-create",
                json!({"TaskTemplate": {"ContainerSpec": {"Image": IMAGE}}, "EndpointSpec": {"Ports":
                    [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080}]}}),
                "denied services.ports EndpointSpec.Ports[0].PublishedPort".into(),
            ),
            (
                "image from an unlisted registry",
                "service-create",
                service(json!({"Image": "192.0.2.10:5000/x:1"})),
                format!("denied registries {cs}.Image"),
            ),
            (
                "syslog log driver",
                "service-create",
                json!({"TaskTemplate": {"ContainerSpec": {"Image": IMAGE}, "LogDriver": {"Name": "syslog"}}}),
                "denied containers.log-config TaskTemplate.LogDriver.Name".into(),
            ),
            (
                "forged owner label on the service",
                "service-create",
                json!({"Labels": {"tug.run": "someone-else"}, "TaskTemplate": {"ContainerSpec": {"Image": IMAGE}}}),
                "denied labels.reserved Labels.tug.run".into(),
            ),
            (
                "forged owner label on its containers",
                "service-create",
                service(json!({"Labels": {"tug.plugin": "someone-else"}})),
                format!("denied labels.reserved {cs}.Labels.tug.plugin"),
            ),
            (
                "privileged is not a service field",
                "service-create",
                service(json!({"Privileged": true})),
                format!("denied canonical.unknown-field {cs}.Privileged"),
            ),
            (
                "forged owner label on a secret",
                "secret-create",
                json!({"Name": "s", "Data": "aGk=", "Labels": {"tug.run": "someone-else"}}),
                "denied labels.reserved Labels.tug.run".into(),
            ),
            (
                "secret driver",
                "secret-create",
                json!({"Name": "s", "Driver": {"Name": "vault"}}),
                "denied secrets.driver Driver".into(),
            ),
            (
                "forged owner label on a config",
                "config-create",
                json!({"Name": "c", "Data": "aGk=", "Labels": {"tug.keep": "1"}}),
                "denied labels.reserved Labels.tug.keep".into(),
            ),
        ],
    );
}

/// A `ci` policy whose images are only the local registry's: a service of any other image is refused.
#[test]
fn services_run_only_approved_images() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("ci-local-images.toml");
    let profile = include_str!("../../runtime/src/policy/profiles/ci.toml")
        .replace("allow = [\"*\"]", "allow = [\"127.0.0.1:5000/*\"]")
        .replace("name = \"ci\"", "name = \"ci-local-images\"");
    assert!(profile.contains("127.0.0.1:5000/*"));
    std::fs::write(&policy, profile).unwrap();
    check(
        policy.to_str().unwrap(),
        &[(
            "unapproved image",
            "service-create",
            service(serde_json::json!({"Image": "alpine:latest"})),
            "denied images TaskTemplate.ContainerSpec.Image".into(),
        )],
    );
}

/// Row 28 for a policy that grants swarm writes without being unrestricted: the swarm stays on loopback.
#[test]
fn swarm_writes_stay_on_loopback() {
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("ci-swarm.toml");
    let profile = include_str!("../../runtime/src/policy/profiles/ci.toml")
        .replace("swarm = \"read\"", "swarm = \"write\"")
        .replace("name = \"ci\"", "name = \"ci-swarm\"");
    assert!(profile.contains("swarm = \"write\""));
    std::fs::write(&policy, profile).unwrap();
    check(
        policy.to_str().unwrap(),
        &[
            (
                "listen on every interface",
                "swarm-init",
                json!({"ListenAddr": "0.0.0.0:2377", "AdvertiseAddr": "127.0.0.1"}),
                "denied swarm.listen ListenAddr".into(),
            ),
            (
                "advertise what the daemon picks",
                "swarm-init",
                json!({"ListenAddr": "127.0.0.1:2377"}),
                "denied swarm.listen AdvertiseAddr".into(),
            ),
            (
                "advertise a public address",
                "swarm-init",
                json!({"ListenAddr": "127.0.0.1:2377", "AdvertiseAddr": "192.0.2.1:2377"}),
                "denied swarm.listen AdvertiseAddr".into(),
            ),
            (
                "join another host's swarm",
                "swarm-join",
                json!({"ListenAddr": "127.0.0.1:2377", "AdvertiseAddr": "127.0.0.1",
                    "RemoteAddrs": ["192.0.2.1:2377"], "JoinToken": "SWMTKN-1-x"}),
                "denied swarm.join RemoteAddrs[0]".into(),
            ),
            (
                "case variant of ListenAddr",
                "swarm-init",
                json!({"listenAddr": "0.0.0.0:2377", "ListenAddr": "127.0.0.1:2377", "AdvertiseAddr": "127.0.0.1"}),
                "denied canonical.case-variant listenAddr".into(),
            ),
        ],
    );
}

/// docker-py's swarm API from an unchanged script (`plugins/python/docker_tour.py`, part `swarm`) under a
/// policy that grants swarm: init, a secret and a config mounted into a service's task, the service's
/// logs, list, then everything removed and the swarm left.
#[test]
fn docker_py_drives_a_one_node_swarm() {
    let _serial = serial();
    let daemon = Daemon::new();
    let wasm = tug_e2e::python_plugin("docker_tour");
    let run = tug_run([
        wasm.display().to_string(),
        "--policy".into(),
        "trusted".into(),
        "--".into(),
        "swarm".into(),
    ]);
    let after = daemon.swarm_state();
    let undone = daemon.restore();
    run.assert_success().assert_stdout_line("PASS swarm: ['running']");
    assert_eq!(after, "inactive", "the script left its swarm\n{}", run.report());
    assert!(!undone.iter().any(|u| u.starts_with("left")), "{undone:?}");
    let left = daemon.containers_of("docker_tour");
    assert!(left.is_empty(), "containers left behind: {left:?}");
}
