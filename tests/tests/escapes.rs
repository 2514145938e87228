//! One escape test per row of the Docker escape checklist that the plugin routes expose, plus the bypass
//! tricks (case variants, Unicode folding, duplicate keys, symlinked bind sources, inline volume drivers
//! that bind, namespace joins to containers the run does not own). Each case is tried from inside a
//! plugin under the `untrusted` policy; the test checks the rule and the field the denial names, and, from
//! the daemon's own event log, that no denied container was ever created.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tug::engine::{Client, EngineConfig, Request};
use tug_e2e::{plugin, tug_run};

const IMAGE: &str = "tug-test/busybox:latest";

fn client() -> Client {
    Client::new(EngineConfig::from_env().unwrap()).unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

/// A container of nobody's run, that plugins must not reach.
struct Victim {
    id: String,
}

impl Victim {
    fn new(rt: &tokio::runtime::Runtime, c: &Client) -> Self {
        let body = json!({ "Image": IMAGE, "Cmd": ["sleep", "120"] });
        let v: Value = rt
            .block_on(c.json(Request::post("/containers/create").json(&body).unwrap()))
            .unwrap();
        let id = v["Id"].as_str().unwrap().to_owned();
        rt.block_on(c.call(Request::post(format!("/containers/{id}/start"))))
            .unwrap();
        Victim { id }
    }
}

fn create(host_config: Value) -> (String, String) {
    (
        "create".into(),
        json!({ "Image": IMAGE, "Cmd": ["true"], "HostConfig": host_config }).to_string(),
    )
}

fn raw_create(body: &str) -> (String, String) {
    ("create".into(), body.to_owned())
}

/// (what the case is, (kind, body), expected "rule field" or "allowed")
type Case = (&'static str, (String, String), String);

fn cases(victim: &str) -> Vec<Case> {
    let d = |rule: &str, field: &str| format!("denied {rule} {field}");
    vec![
        ("1 privileged", create(json!({"Privileged": true})), d("containers.privileged", "HostConfig.Privileged")),
        ("2 bind docker.sock", create(json!({"Binds": ["/var/run/docker.sock:/s"]})), d("containers.binds", "HostConfig.Binds[0]")),
        ("2 bind /", create(json!({"Binds": ["/:/host:rw"]})), d("containers.binds", "HostConfig.Binds[0]")),
        ("3 mount bind", create(json!({"Mounts": [{"Type": "bind", "Source": "/etc", "Target": "/e"}]})), d("containers.binds", "HostConfig.Mounts[0].Source")),
        (
            "4 inline volume driver that binds",
            create(json!({"Mounts": [{"Type": "volume", "Source": "v", "Target": "/v",
                "VolumeOptions": {"DriverConfig": {"Name": "local", "Options": {"type": "none", "o": "bind", "device": "/"}}}}]})),
            d("containers.volume-driver", "HostConfig.Mounts[0].VolumeOptions.DriverConfig"),
        ),
        ("6 volume driver", create(json!({"VolumeDriver": "evil"})), d("containers.volume-driver", "HostConfig.VolumeDriver")),
        ("6 volumes-from a stranger", create(json!({"VolumesFrom": [victim]})), d("ownership", "HostConfig.VolumesFrom[0]")),
        ("7 cap sys_admin (lower case)", create(json!({"CapAdd": ["sys_admin"]})), d("containers.capabilities", "HostConfig.CapAdd[0]")),
        ("7 cap ALL", create(json!({"CapAdd": ["ALL"]})), d("containers.capabilities", "HostConfig.CapAdd[0]")),
        ("7 cap CAP_NET_ADMIN", create(json!({"CapAdd": ["CAP_NET_ADMIN"]})), d("containers.capabilities", "HostConfig.CapAdd[0]")),
        ("8 devices", create(json!({"Devices": [{"PathOnHost": "/dev/sda", "PathInContainer": "/dev/sda", "CgroupPermissions": "rwm"}]})), d("containers.devices", "HostConfig.Devices")),
        ("8 device cgroup rules", create(json!({"DeviceCgroupRules": ["b *:* rwm"]})), d("containers.devices", "HostConfig.DeviceCgroupRules")),
        ("9 device requests", create(json!({"DeviceRequests": [{"Driver": "nvidia", "Count": -1, "Capabilities": [["gpu"]]}]})), d("containers.devices", "HostConfig.DeviceRequests")),
        ("10 pid host", create(json!({"PidMode": "host"})), d("containers.namespaces", "HostConfig.PidMode")),
        ("10 pid of a stranger", create(json!({"PidMode": format!("container:{victim}")})), d("ownership", "HostConfig.PidMode")),
        ("11 network host", create(json!({"NetworkMode": "host"})), d("containers.namespaces", "HostConfig.NetworkMode")),
        ("11 network of a stranger", create(json!({"NetworkMode": format!("container:{victim}")})), d("ownership", "HostConfig.NetworkMode")),
        ("12 ipc host", create(json!({"IpcMode": "host"})), d("containers.namespaces", "HostConfig.IpcMode")),
        ("12 ipc of a stranger", create(json!({"IpcMode": format!("container:{victim}")})), d("ownership", "HostConfig.IpcMode")),
        ("12 uts host", create(json!({"UTSMode": "host"})), d("containers.namespaces", "HostConfig.UTSMode")),
        ("12 userns host", create(json!({"UsernsMode": "host"})), d("containers.namespaces", "HostConfig.UsernsMode")),
        ("12 cgroupns host", create(json!({"CgroupnsMode": "host"})), d("containers.namespaces", "HostConfig.CgroupnsMode")),
        ("13 seccomp unconfined", create(json!({"SecurityOpt": ["seccomp=unconfined"]})), d("containers.security-opt", "HostConfig.SecurityOpt[0]")),
        ("13 apparmor unconfined (colon)", create(json!({"SecurityOpt": ["apparmor:unconfined"]})), d("containers.security-opt", "HostConfig.SecurityOpt[0]")),
        ("13 label disable", create(json!({"SecurityOpt": ["label=disable"]})), d("containers.security-opt", "HostConfig.SecurityOpt[0]")),
        ("13 no-new-privileges=false", create(json!({"SecurityOpt": ["no-new-privileges=false"]})), d("containers.security-opt", "HostConfig.SecurityOpt[0]")),
        ("13 writable-cgroups", create(json!({"SecurityOpt": ["writable-cgroups"]})), d("containers.security-opt", "HostConfig.SecurityOpt[0]")),
        ("14 masked paths []", create(json!({"MaskedPaths": []})), d("containers.masked-paths", "HostConfig.MaskedPaths")),
        ("14 readonly paths []", create(json!({"ReadonlyPaths": []})), d("containers.masked-paths", "HostConfig.ReadonlyPaths")),
        ("15 cgroup parent", create(json!({"CgroupParent": "/"})), d("containers.runtime", "HostConfig.CgroupParent")),
        ("15 runtime", create(json!({"Runtime": "runc"})), d("containers.runtime", "HostConfig.Runtime")),
        ("15 isolation", create(json!({"Isolation": "process"})), d("containers.runtime", "HostConfig.Isolation")),
        ("16 sysctls", create(json!({"Sysctls": {"net.ipv4.ip_forward": "1"}})), d("containers.sysctls", "HostConfig.Sysctls")),
        ("17 workdir /proc/self/fd", raw_create(&json!({"Image": IMAGE, "WorkingDir": "/proc/self/fd/8"}).to_string()), d("containers.working-dir", "WorkingDir")),
        ("17 workdir ../proc", raw_create(&json!({"Image": IMAGE, "WorkingDir": "/tmp/../proc/1/cwd"}).to_string()), d("containers.working-dir", "WorkingDir")),
        ("18 unapproved image", raw_create(&json!({"Image": "alpine:latest"}).to_string()), d("images", "Image")),
        ("18 syslog log driver", create(json!({"LogConfig": {"Type": "syslog", "Config": {"syslog-address": "udp://192.0.2.1:514"}}})), d("containers.log-config", "HostConfig.LogConfig.Type")),
        ("18 port on all interfaces", create(json!({"PortBindings": {"80/tcp": [{"HostPort": "8080"}]}})), d("containers.ports", "HostConfig.PortBindings.80/tcp[0].HostIp")),
        ("18 publish all", create(json!({"PublishAllPorts": true})), d("containers.ports", "HostConfig.PublishAllPorts")),
        ("19 forged owner label", raw_create(&json!({"Image": IMAGE, "Labels": {"tug.run": "someone-else"}}).to_string()), d("labels.reserved", "Labels.tug.run")),
        ("20 update cgroup parent", ("update".into(), json!({"CgroupParent": "/"}).to_string()), d("containers.update", "CgroupParent")),
        ("20 update devices", ("update".into(), json!({"Devices": [{"PathOnHost": "/dev/mem", "PathInContainer": "/dev/mem", "CgroupPermissions": "rwm"}]}).to_string()), d("containers.update", "Devices")),
        ("20 update memory over the ceiling", ("update".into(), json!({"Memory": 8_i64 << 30}).to_string()), d("containers.resources", "Memory")),
        ("21 privileged exec", ("exec".into(), json!({"Cmd": ["sh"], "Privileged": true}).to_string()), d("exec.privileged", "Privileged")),
        ("21 exec workdir in /proc", ("exec".into(), json!({"Cmd": ["sh"], "WorkingDir": "/proc/self/fd/3"}).to_string()), d("containers.working-dir", "WorkingDir")),
        ("21 exec into a stranger", (format!("exec@{victim}"), json!({"Cmd": ["sh"]}).to_string()), d("ownership", "id")),
        ("22 archive of a stranger", (format!("archive@{victim}"), "/etc/hostname".into()), d("ownership", "id")),
        ("22 export of a stranger", (format!("export@{victim}"), "-".into()), d("ownership", "id")),
        ("23 pull (images are read-only here)", ("pull".into(), "127.0.0.1:5000/tug-test/shapes:x".into()), "denied operations.images -".into()),
        ("30 npipe mount", create(json!({"Mounts": [{"Type": "npipe", "Source": "\\\\.\\pipe\\docker_engine", "Target": "/p"}]})), d("containers.mounts", "HostConfig.Mounts[0].Type")),
        // Bypass tricks on the body itself.
        ("bypass: lower-case field (read as the field, and checked as it)", raw_create(r#"{"Image":"tug-test/busybox:latest","HostConfig":{"privileged":true}}"#), d("containers.privileged", "HostConfig.Privileged")),
        ("bypass: two spellings of a field", raw_create(r#"{"Image":"tug-test/busybox:latest","HostConfig":{"Privileged":false,"privileged":true}}"#), d("canonical.case-variant", "HostConfig.privileged")),
        ("bypass: top-level HostConfig field (engines before 27 read it)", raw_create(r#"{"Image":"tug-test/busybox:latest","Privileged":true}"#), d("containers.privileged", "HostConfig.Privileged")),
        ("bypass: long s (U+017F)", raw_create("{\"Image\":\"tug-test/busybox:latest\",\"Ho\u{17f}tConfig\":{\"Privileged\":true}}"), d("canonical.case-variant", "Ho\u{17f}tConfig")),
        ("bypass: Kelvin sign (U+212A)", raw_create("{\"Image\":\"tug-test/busybox:latest\",\"HostConfig\":{\"\u{212a}ernelMemory\":1}}"), d("canonical.case-variant", "HostConfig.\u{212a}ernelMemory")),
        ("bypass: duplicate key", raw_create(r#"{"Image":"tug-test/busybox:latest","HostConfig":{"Privileged":false,"Privileged":true}}"#), d("canonical.duplicate-key", "HostConfig.Privileged")),
        ("bypass: unknown field", raw_create(r#"{"Image":"tug-test/busybox:latest","HostConfig":{"Priviledged":true}}"#), d("canonical.unknown-field", "HostConfig.Priviledged")),
        // What must still work.
        ("allowed: a plain container", create(json!({"Memory": 64 << 20})), "allowed".into()),
        ("allowed: loopback port and tmpfs", create(json!({"PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "0"}]}, "Mounts": [{"Type": "tmpfs", "Target": "/scratch"}], "CapDrop": ["ALL"], "SecurityOpt": ["no-new-privileges"]})), "allowed".into()),
        ("allowed: exec as root", ("exec".into(), json!({"Cmd": ["id"], "User": "root"}).to_string()), "allowed".into()),
    ]
}

/// A network and a volume of nobody's run, that plugins must not reach.
struct Strangers {
    network: String,
    volume: String,
}

impl Strangers {
    fn new(rt: &tokio::runtime::Runtime, c: &Client) -> Self {
        let name = format!("tug-stranger-{}", std::process::id());
        let v: Value = rt
            .block_on(
                c.json(
                    Request::post("/networks/create")
                        .json(&json!({"Name": name}))
                        .unwrap(),
                ),
            )
            .unwrap();
        let network = v["Id"].as_str().unwrap().to_owned();
        rt.block_on(
            c.call(
                Request::post("/volumes/create")
                    .json(&json!({"Name": name}))
                    .unwrap(),
            ),
        )
        .unwrap();
        Strangers {
            network,
            volume: name,
        }
    }

    fn remove(&self, rt: &tokio::runtime::Runtime, c: &Client) {
        let _ = rt.block_on(c.call(Request::delete(format!("/networks/{}", self.network))));
        let _ = rt.block_on(c.call(Request::delete(format!("/volumes/{}", self.volume))));
    }
}

/// The network and volume rows (5, 29): names of created objects start with `prefix`.
fn network_volume_cases(victim: &str, strangers: &Strangers, prefix: &str) -> Vec<Case> {
    let d = |rule: &str, field: &str| format!("denied {rule} {field}");
    let net = |name: &str, rest: Value| {
        let mut body = json!({ "Name": format!("{prefix}-{name}") });
        body.as_object_mut()
            .unwrap()
            .extend(rest.as_object().unwrap().clone());
        ("network-create".to_owned(), body.to_string())
    };
    let vol = |name: &str, rest: Value| {
        let mut body = json!({ "Name": format!("{prefix}-{name}") });
        body.as_object_mut()
            .unwrap()
            .extend(rest.as_object().unwrap().clone());
        ("volume-create".to_owned(), body.to_string())
    };
    let (sn, sv) = (&strangers.network, &strangers.volume);
    vec![
        (
            "5 volume: local bind of /",
            vol(
                "bind",
                json!({"DriverOpts": {"type": "none", "o": "bind", "device": "/"}}),
            ),
            d("volumes.driver-opts", "DriverOpts.device"),
        ),
        (
            "5 volume: local nfs mount",
            vol(
                "nfs",
                json!({"Driver": "local", "DriverOpts": {"type": "nfs", "o": "addr=192.0.2.1,rw", "device": ":/export"}}),
            ),
            d("volumes.driver-opts", "DriverOpts.device"),
        ),
        (
            "5 volume: third-party driver",
            vol("driver", json!({"Driver": "rexray/ebs"})),
            d("volumes.driver", "Driver"),
        ),
        (
            "5 volume: forged owner label",
            vol("label", json!({"Labels": {"tug.run": "someone-else"}})),
            d("labels.reserved", "Labels.tug.run"),
        ),
        (
            "5 volume: a stranger's name",
            ("volume-create".into(), json!({"Name": sv}).to_string()),
            d("ownership", "Name"),
        ),
        (
            "5 volume: inspect a stranger's",
            (format!("volume-inspect@{sv}"), "-".into()),
            d("ownership", "name"),
        ),
        (
            "5 volume: delete a stranger's",
            (format!("volume-delete@{sv}"), "-".into()),
            d("ownership", "name"),
        ),
        (
            "29 network: macvlan",
            net(
                "macvlan",
                json!({"Driver": "macvlan", "Options": {"parent": "eth0"}}),
            ),
            d("networks.driver", "Driver"),
        ),
        (
            "29 network: host driver",
            net("host", json!({"Driver": "host"})),
            d("networks.driver", "Driver"),
        ),
        (
            "29 network: bridge.name docker0",
            net(
                "bridgename",
                json!({"Options": {"com.docker.network.bridge.name": "docker0"}}),
            ),
            d("networks.options", "Options.com.docker.network.bridge.name"),
        ),
        (
            "29 network: parent option",
            net("parent", json!({"Options": {"parent": "eth0"}})),
            d("networks.options", "Options.parent"),
        ),
        (
            "29 network: config-from",
            net("configfrom", json!({"ConfigFrom": {"Network": "somewhere"}})),
            d("networks.options", "ConfigFrom"),
        ),
        (
            "29 network: config-only",
            net("configonly", json!({"ConfigOnly": true})),
            d("networks.options", "ConfigOnly"),
        ),
        (
            "29 network: ingress",
            net("ingress", json!({"Ingress": true})),
            d("networks.options", "Ingress"),
        ),
        (
            "29 network: swarm scope",
            net("scope", json!({"Scope": "swarm"})),
            d("networks.options", "Scope"),
        ),
        (
            "29 network: IPAM driver",
            net("ipam", json!({"IPAM": {"Driver": "dhcp"}})),
            d("networks.ipam", "IPAM.Driver"),
        ),
        (
            "29 network: forged owner label",
            net("label", json!({"Labels": {"tug.run": "someone-else"}})),
            d("labels.reserved", "Labels.tug.run"),
        ),
        (
            "29 network: lower-case driver (checked as Driver)",
            (
                "network-create".into(),
                format!(r#"{{"Name":"{prefix}-case","driver":"macvlan"}}"#),
            ),
            d("networks.driver", "Driver"),
        ),
        (
            "29 network: duplicate driver",
            (
                "network-create".into(),
                format!(r#"{{"Name":"{prefix}-dup","Driver":"bridge","Driver":"macvlan"}}"#),
            ),
            d("canonical.duplicate-key", "Driver"),
        ),
        (
            "29 network: a stranger's name",
            (
                "network-create".into(),
                json!({"Name": format!("tug-stranger-{}", std::process::id())}).to_string(),
            ),
            d("ownership", "Name"),
        ),
        (
            "29 network: inspect a stranger's",
            (format!("network-inspect@{sn}"), "-".into()),
            d("ownership", "id"),
        ),
        (
            "29 network: delete a stranger's",
            (format!("network-delete@{sn}"), "-".into()),
            d("ownership", "id"),
        ),
        (
            "29 network: delete bridge",
            ("network-delete@bridge".into(), "-".into()),
            d("ownership", "id"),
        ),
        (
            "29 network: connect to a stranger's",
            (format!("network-connect@{sn}"), "own".into()),
            d("ownership", "id"),
        ),
        (
            "29 network: connect to bridge",
            ("network-connect@bridge".into(), "own".into()),
            d("ownership", "id"),
        ),
        (
            "29 network: disconnect a stranger from bridge",
            ("network-disconnect@bridge".into(), victim.into()),
            d("ownership", "id"),
        ),
        (
            "29 network: connect a stranger to our own",
            ("network-connect@own".into(), victim.into()),
            d("ownership", "Container"),
        ),
        // What must still work.
        (
            "allowed: an internal attachable bridge network",
            net(
                "plain",
                json!({"Driver": "bridge", "Internal": true, "Attachable": true, "Options": {"com.docker.network.bridge.enable_icc": "true"}}),
            ),
            "allowed".into(),
        ),
        (
            "allowed: a local volume",
            vol("plain", json!({"Driver": "local", "Labels": {"a": "b"}})),
            "allowed".into(),
        ),
        (
            "allowed: connect our container to our network",
            ("network-connect@own".into(), "own".into()),
            "allowed".into(),
        ),
    ]
}

/// Asserts that each case's outcome line is the one it wants.
fn assert_cases(cases: &[Case], lines: &[String]) {
    for (n, ((what, _, want), got)) in cases.iter().zip(lines).enumerate() {
        assert_eq!(
            got.strip_prefix(&format!("case {n}: ")).unwrap_or(got),
            want,
            "{what}"
        );
    }
}

/// Runs the escape plugin on cases; returns each case's outcome line.
fn run_cases(policy: &str, cases: &[Case]) -> Vec<String> {
    run_cases_as(&plugin("escape"), policy, cases)
}

/// The same, with the plugin file given (its stem is the plugin's name, and so its `tug.plugin` label).
fn run_cases_as(wasm: &std::path::Path, policy: &str, cases: &[Case]) -> Vec<String> {
    let name = wasm.file_stem().unwrap().to_string_lossy().into_owned();
    let mut args: Vec<String> = vec![
        wasm.display().to_string(),
        "--policy".into(),
        policy.into(),
        "--".into(),
    ];
    for (_, (kind, body), _) in cases {
        args.push(kind.clone());
        args.push(body.clone());
    }
    let run = tug_run(&args);
    run.assert_success();
    let lines: Vec<String> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("[{name}] ")))
        .filter(|l| l.starts_with("case "))
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), cases.len(), "one line per case\n{}", run.report());
    lines
}

/// How many containers of a plugin the daemon created since a time (from its event log).
fn created_by(rt: &tokio::runtime::Runtime, c: &Client, plugin: &str, since: u64) -> usize {
    let until = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 1;
    let label = format!("tug.plugin={plugin}");
    let filters = json!({"type": ["container"], "event": ["create"], "label": [label]}).to_string();
    let mut stream = rt
        .block_on(
            c.json_stream(
                Request::get("/events")
                    .query("since", since)
                    .query("until", until)
                    .query("filters", filters),
            ),
        )
        .unwrap();
    let mut n = 0;
    while rt.block_on(stream.next_document()).unwrap().is_some() {
        n += 1;
    }
    n
}

#[test]
fn every_checklist_row_and_bypass_is_denied_naming_the_field() {
    let rt = rt();
    let c = client();
    let victim = Victim::new(&rt, &c);
    let strangers = Strangers::new(&rt, &c);
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let prefix = format!("tug-esc-{}", std::process::id());
    let mut cases = cases(&victim.id);
    cases.extend(network_volume_cases(&victim.id, &strangers, &prefix));
    // A copy under a name of its own, so that the daemon's events can be told apart from other tests'.
    let dir = tempfile::tempdir().unwrap();
    let name = format!("escape-matrix-{}", std::process::id());
    let wasm = dir.path().join(format!("{name}.wasm"));
    std::fs::copy(plugin("escape"), &wasm).unwrap();
    let lines = run_cases_as(&wasm, "untrusted", &cases);
    let mut failures = Vec::new();
    for (n, ((what, _, want), got)) in cases.iter().zip(&lines).enumerate() {
        let got = got.strip_prefix(&format!("case {n}: ")).unwrap_or(got);
        if got != want {
            failures.push(format!("{what}: wanted `{want}`, got `{got}`"));
        }
    }
    let _ = rt.block_on(c.call(Request::delete(format!("/containers/{}", victim.id)).query("force", true)));
    strangers.remove(&rt, &c);
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // The daemon saw a create only for the allowed cases and the plugin's own exec/update target.
    let allowed_creates = cases
        .iter()
        .filter(|(_, (k, _), w)| k == "create" && w == "allowed")
        .count();
    assert_eq!(
        created_by(&rt, &c, &name, since),
        allowed_creates + 1,
        "creates the daemon saw"
    );
    // And a network or volume create only for the allowed network and volume cases.
    for (kind, what) in [("network", "network-create"), ("volume", "volume-create")] {
        let allowed: Vec<String> = cases
            .iter()
            .filter(|(_, (k, _), w)| k == what && w == "allowed")
            .map(|(_, (_, body), _)| {
                serde_json::from_str::<Value>(body).unwrap()["Name"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            created_named(&rt, &c, kind, &prefix, since),
            allowed,
            "{kind} creates the daemon saw"
        );
    }
}

/// The names of the networks or volumes whose names start with `prefix` that the daemon created since a
/// time (from its event log).
fn created_named(
    rt: &tokio::runtime::Runtime,
    c: &Client,
    kind: &str,
    prefix: &str,
    since: u64,
) -> Vec<String> {
    let until = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 1;
    let filters = json!({"type": [kind], "event": ["create"]}).to_string();
    let mut stream = rt
        .block_on(
            c.json_stream(
                Request::get("/events")
                    .query("since", since)
                    .query("until", until)
                    .query("filters", filters),
            ),
        )
        .unwrap();
    let mut names = Vec::new();
    while let Some(event) = rt.block_on(stream.next_document()).unwrap() {
        let event: Value = serde_json::from_slice(&event).unwrap();
        // Networks name themselves in the attributes; a volume's id is its name.
        let name = event["Actor"]["Attributes"]["name"]
            .as_str()
            .or(event["Actor"]["ID"].as_str())
            .unwrap_or_default();
        if name.starts_with(prefix) {
            names.push(name.to_owned());
        }
    }
    names
}

/// A policy granting one host directory: a symlink inside it that points out is resolved and refused.
#[test]
fn symlinked_bind_sources_are_resolved() {
    let dir = tempfile::Builder::new()
        .prefix("tug-binds")
        .tempdir_in("/tmp")
        .unwrap();
    let allowed = dir.path().join("allowed");
    std::fs::create_dir_all(allowed.join("data")).unwrap();
    std::os::unix::fs::symlink("/", allowed.join("root")).unwrap();
    let policy = dir.path().join("policy.toml");
    let profile = include_str!("../../runtime/src/policy/profiles/untrusted.toml")
        .replace(
            "binds = []",
            &format!("binds = [{:?}]", allowed.display().to_string()),
        )
        .replace("name = \"untrusted\"", "name = \"binds-test\"");
    std::fs::write(&policy, profile).unwrap();
    let cases: Vec<Case> = vec![
        (
            "symlink to /",
            create(json!({"Binds": [format!("{}/root:/mnt", allowed.display())]})),
            "denied containers.binds HostConfig.Binds[0]".into(),
        ),
        (
            "the granted directory",
            create(json!({"Binds": [format!("{}/data:/data:ro", allowed.display())]})),
            "allowed".into(),
        ),
        (
            "a sibling of it",
            create(
                json!({"Mounts": [{"Type": "bind", "Source": dir.path().display().to_string(), "Target": "/x"}]}),
            ),
            "denied containers.binds HostConfig.Mounts[0].Source".into(),
        ),
    ];
    let lines = run_cases(policy.to_str().unwrap(), &cases);
    assert_cases(&cases, &lines);
}

/// What the untrusted policy forces onto every container: its ceilings and the run's labels.
#[test]
fn ceilings_and_labels_are_forced() {
    let cases: Vec<Case> = vec![
        (
            "no limits asked",
            ("create-show".into(), json!({"Image": IMAGE}).to_string()),
            "allowed".into(),
        ),
        (
            "more than the ceiling asked",
            (
                "create-show".into(),
                json!({"Image": IMAGE, "HostConfig": {"Memory": 4_i64 << 30, "PidsLimit": -1}}).to_string(),
            ),
            "allowed".into(),
        ),
        (
            "less asked",
            (
                "create-show".into(),
                json!({"Image": IMAGE, "HostConfig": {"Memory": 64 << 20, "PidsLimit": 10}}).to_string(),
            ),
            "allowed".into(),
        ),
    ];
    let mut args: Vec<String> = vec![plugin("escape").display().to_string(), "--".into()];
    for (_, (kind, body), _) in &cases {
        args.push(kind.clone());
        args.push(body.clone());
    }
    let run = tug_run(&args);
    run.assert_success()
        .assert_stdout_line("[escape] show 0: memory=536870912 pids=256 labelled=true")
        .assert_stdout_line("[escape] show 1: memory=536870912 pids=256 labelled=true")
        .assert_stdout_line("[escape] show 2: memory=67108864 pids=10 labelled=true");
}

/// Under `ci`, pulls are allowed, but only from the registries the policy lists.
#[test]
fn ci_pulls_only_from_allowed_registries() {
    let cases: Vec<Case> = vec![
        (
            "23 pull from Docker Hub",
            ("pull".into(), "docker.io/library/alpine:latest".into()),
            "denied registries from-image".into(),
        ),
        (
            "23 pull from an unlisted registry",
            ("pull".into(), "192.0.2.10:5000/x:1".into()),
            "denied registries from-image".into(),
        ),
        (
            "ci still refuses privileged",
            create(json!({"Privileged": true})),
            "denied containers.privileged HostConfig.Privileged".into(),
        ),
    ];
    let lines = run_cases("ci", &cases);
    assert_cases(&cases, &lines);
}

/// `[quota] containers = 2`: the third container of a run is refused; what the run made is removed at exit.
#[test]
fn container_quota() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    let profile = include_str!("../../runtime/src/policy/profiles/untrusted.toml")
        .replace("containers = 20", "containers = 2");
    assert!(profile.contains("containers = 2\n"));
    std::fs::write(&policy, profile).unwrap();
    let body = json!({"Image": IMAGE, "Cmd": ["true"]}).to_string();
    let cases: Vec<Case> = vec![
        ("first", ("create-keep".into(), body.clone()), "allowed".into()),
        ("second", ("create-keep".into(), body.clone()), "allowed".into()),
        (
            "third",
            ("create-keep".into(), body),
            "denied quota.containers -".into(),
        ),
    ];
    let lines = run_cases(policy.to_str().unwrap(), &cases);
    assert_cases(&cases, &lines);
}

/// `[quota] networks = 1` and `volumes = 1`: the second network and the second volume of a run are refused;
/// what the run made (left for tug) is removed when it ends.
#[test]
fn network_and_volume_quota_and_cleanup() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    let profile = include_str!("../../runtime/src/policy/profiles/untrusted.toml")
        .replace("networks = 5", "networks = 1")
        .replace("volumes = 10", "volumes = 1");
    assert!(profile.contains("networks = 1\n") && profile.contains("volumes = 1\n"));
    std::fs::write(&policy, profile).unwrap();
    // A copy under a name of its own, so that its leftovers can be looked for by its `tug.plugin` label.
    let name = format!("escape-quota-{}", std::process::id());
    let wasm = dir.path().join(format!("{name}.wasm"));
    std::fs::copy(plugin("escape"), &wasm).unwrap();
    let body = |n: u32| json!({ "Name": format!("{name}-{n}") }).to_string();
    let cases: Vec<Case> = vec![
        (
            "first network",
            ("network-create-keep".into(), body(1)),
            "allowed".into(),
        ),
        (
            "second network",
            ("network-create-keep".into(), body(2)),
            "denied quota.networks -".into(),
        ),
        (
            "first volume",
            ("volume-create-keep".into(), body(1)),
            "allowed".into(),
        ),
        (
            "second volume",
            ("volume-create-keep".into(), body(2)),
            "denied quota.volumes -".into(),
        ),
    ];
    let lines = run_cases_as(&wasm, policy.to_str().unwrap(), &cases);
    assert_cases(&cases, &lines);
    // Nothing of the run is left: tug removed the network and the volume it kept.
    let (rt, c) = (rt(), client());
    let filters = json!({ "label": [format!("tug.plugin={name}")] }).to_string();
    let networks: Value = rt
        .block_on(c.json(Request::get("/networks").query("filters", filters.clone())))
        .unwrap();
    let volumes: Value = rt
        .block_on(c.json(Request::get("/volumes").query("filters", filters)))
        .unwrap();
    assert_eq!(networks, json!([]), "networks left behind");
    assert!(
        volumes["Volumes"].as_array().is_none_or(Vec::is_empty),
        "volumes left behind: {volumes}"
    );
}

/// A plugin's network may not take a subnet that shadows one of the host's routes (its LAN: the bridge
/// would capture the host's traffic to it) or a special range such as link-local (cloud metadata), nor
/// more of Docker's address pools than a network the daemon addresses itself.
#[test]
fn network_subnets_shadowing_the_host_are_denied() {
    let net = |name: &str, subnet: &str| -> (String, String) {
        let body = json!({"Name": format!("{name}-{}", std::process::id()), "IPAM": {"Config": [{"Subnet": subnet}]}});
        ("network-create".into(), body.to_string())
    };
    let mut cases: Vec<Case> = vec![
        (
            "link-local (metadata)",
            net("tug-esc-md", "169.254.169.0/24"),
            "denied networks.ipam IPAM.Config[0].Subnet".into(),
        ),
        (
            "a private subnet of its own",
            net("tug-esc-ok", "172.29.213.0/24"),
            "allowed".into(),
        ),
    ];
    // Reached through the default route: a public range, a documentation range, another private range.
    for subnet in ["8.8.8.0/24", "198.51.100.0/24", "10.213.77.0/24"] {
        cases.push((
            "outside Docker's pools",
            net("tug-esc-far", subnet),
            "denied networks.ipam IPAM.Config[0].Subnet".into(),
        ));
    }
    // Whole pools at once: the address space every other network is addressed from.
    for subnet in ["172.24.0.0/13", "192.168.0.0/16"] {
        cases.push((
            "larger than a network the daemon addresses itself",
            net("tug-esc-pool", subnet),
            "denied networks.ipam IPAM.Config[0].Subnet".into(),
        ));
    }
    // The host's resolver, wherever it is.
    let resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    for ns in resolv.lines().filter_map(|l| l.trim().strip_prefix("nameserver")) {
        if let Ok(ip) = ns.trim().parse::<std::net::Ipv4Addr>() {
            let o = ip.octets();
            println!("host resolver {ip}");
            cases.push((
                "the resolver's subnet",
                net("tug-esc-dns", &format!("{}.{}.{}.0/24", o[0], o[1], o[2])),
                "denied networks.ipam IPAM.Config[0].Subnet".into(),
            ));
        }
    }
    // The host's own routes, as this machine has them (its LAN on eth0, at least).
    for (iface, route) in tug::policy::subnets::current_host_routes().into_iter().take(2) {
        println!("host route {route} on {iface}");
        cases.push((
            "a host route",
            net("tug-esc-lan", &route.to_string()),
            "denied networks.ipam IPAM.Config[0].Subnet".into(),
        ));
    }
    let lines = run_cases("untrusted", &cases);
    assert_cases(&cases, &lines);
}
