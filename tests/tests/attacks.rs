//! The attacks on the sandbox, class by class, each tried from inside the `attack` plugin against the real
//! daemon and shown refused (naming rule and field) or harmless: scoping undone by the request, names that
//! read as ids, names checked then forwarded, options that reach the host, ceilings, leaks of others' data,
//! and errors after the gate that the audit log must record. (The image classes: `attacks_images.rs`.)

use serde_json::{json, Value};
use tug::engine::{Client, Request};
use tug_e2e::attack::{attack, case, client, named, policy, rt};

const IMAGE: &str = "tug-test/busybox:latest";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Objects of nobody's run, labelled `tug-attack-victim`: what a plugin's filters name, if the run's
/// own label is lost they are what it would list and prune.
struct Victims {
    container: String,
    running: String,
    network: String,
    volume: String,
    token: String,
}

impl Victims {
    fn new(rt: &tokio::runtime::Runtime, c: &Client) -> Self {
        let tag = format!("{}-{}", std::process::id(), now());
        let token = format!("victim-token-{tag}");
        let labels = json!({ "tug-attack-victim": "" });
        let create = |body: Value| -> String {
            let v: Value = rt
                .block_on(c.json(Request::post("/containers/create").json(&body).unwrap()))
                .unwrap();
            v["Id"].as_str().unwrap().to_owned()
        };
        let container = create(json!({ "Image": IMAGE, "Cmd": ["true"], "Labels": labels }));
        let running = create(json!({
            "Image": IMAGE, "Cmd": ["sh", "-c", format!("sleep 120 # password={token}")], "Labels": labels
        }));
        rt.block_on(c.call(Request::post(format!("/containers/{running}/start"))))
            .unwrap();
        // Another user's exec, its command line holding a token: it shows in the events.
        let exec: Value = rt
            .block_on(
                c.json(
                    Request::post(format!("/containers/{running}/exec"))
                        .json(&json!({ "Cmd": ["echo", token] }))
                        .unwrap(),
                ),
            )
            .unwrap();
        let _ = exec;
        let network = format!("tug-victim-{tag}");
        rt.block_on(
            c.call(
                Request::post("/networks/create")
                    .json(&json!({"Name": network, "Labels": labels}))
                    .unwrap(),
            ),
        )
        .unwrap();
        let volume = format!("tug-victim-{tag}");
        rt.block_on(
            c.call(
                Request::post("/volumes/create")
                    .json(&json!({"Name": volume, "Labels": labels}))
                    .unwrap(),
            ),
        )
        .unwrap();
        Victims {
            container,
            running,
            network,
            volume,
            token,
        }
    }

    /// Whether each victim still exists.
    fn alive(&self, rt: &tokio::runtime::Runtime, c: &Client) -> Vec<(&str, bool)> {
        let exists = |path: String| rt.block_on(c.call(Request::get(path))).is_ok();
        vec![
            (
                "container",
                exists(format!("/containers/{}/json", self.container)),
            ),
            ("network", exists(format!("/networks/{}", self.network))),
            ("volume", exists(format!("/volumes/{}", self.volume))),
        ]
    }

    fn remove(&self, rt: &tokio::runtime::Runtime, c: &Client) {
        for id in [&self.container, &self.running] {
            let _ = rt.block_on(c.call(Request::delete(format!("/containers/{id}")).query("force", true)));
        }
        let _ = rt.block_on(c.call(Request::delete(format!("/networks/{}", self.network))));
        let _ = rt.block_on(c.call(Request::delete(format!("/volumes/{}", self.volume))));
    }
}

/// `[["label",[]],["label",["tug-attack-victim"]]]`: the engine keeps the last key, so a gate that added
/// the run's label to the first would list, prune and stream everyone's objects. The keys are merged.
#[test]
fn a_filter_key_given_twice_does_not_undo_the_runs_scope() {
    let (rt, c) = (rt(), client());
    let victims = Victims::new(&rt, &c);
    let since = now() - 2;
    let cases = vec![
        case("list-dup", "containers"),
        case("list-dup", "networks"),
        case("list-dup", "volumes"),
        case("prune-dup", "containers"),
        case("prune-dup", "networks"),
        case("prune-dup", "volumes"),
        case("events-dup", since.to_string()),
    ];
    let a = attack(&tug_e2e::plugin("attack"), &[], &cases);
    let alive = victims.alive(&rt, &c);
    victims.remove(&rt, &c);
    a.expect(&[("list", "allowed"); 7]);
    for n in 0..7 {
        let shown = a.show(n);
        for secret in [
            &victims.container,
            &victims.running,
            &victims.network,
            &victims.volume,
            &victims.token,
        ] {
            assert!(
                !shown.contains(secret.as_str()),
                "case {n} showed {secret}: {shown}"
            );
        }
    }
    assert!(alive.iter().all(|(_, a)| *a), "victims pruned: {alive:?}");
}

/// A name of 12 or more hex digits answers `docker exec <short id>` before the container whose id starts
/// with them: refused for containers (create, rename) and networks.
#[test]
fn names_that_read_as_ids_are_refused() {
    let cases = vec![
        case("create-named", "0123456789ab"),
        case("rename-own", "abcdef012345"),
        case("network-named", "abcdefabcdef0123"),
        case("create-named", format!("web-{}", std::process::id())),
    ];
    let a = attack(&tug_e2e::plugin("attack"), &[], &cases);
    a.expect(&[
        ("container", "denied containers.name name"),
        ("rename", "denied containers.name name"),
        ("network", "denied networks.name Name"),
        ("a name with a letter beyond f", "allowed"),
    ]);
}

/// Every container a body names is resolved once and forwarded by its full id (`VolumesFrom`, network
/// modes), so no other object can answer for the name between the check and the create; `Links`, which
/// went unchecked, must name the run's own containers.
#[test]
fn references_in_bodies_are_checked_and_forwarded_as_full_ids() {
    let (rt, c) = (rt(), client());
    let victims = Victims::new(&rt, &c);
    let body = |host: Value| json!({ "Image": IMAGE, "Cmd": ["true"], "HostConfig": host }).to_string();
    let cases = vec![
        case("create-show", body(json!({ "VolumesFrom": ["{own-name}:ro"] }))),
        case("create-show", body(json!({ "Links": ["{own-name}:db"] }))),
        case(
            "create-show",
            body(json!({ "Links": [format!("{}:db", victims.running)] })),
        ),
        case(
            "create-show",
            body(json!({ "VolumesFrom": [victims.running.clone()] })),
        ),
        case(
            "create-show",
            body(json!({ "NetworkMode": victims.network.clone() })),
        ),
    ];
    let a = attack(&tug_e2e::plugin("attack"), &[], &cases);
    victims.remove(&rt, &c);
    a.expect(&[
        ("own volumes-from", "allowed"),
        ("own link", "allowed"),
        ("a stranger's link", "denied ownership HostConfig.Links[0]"),
        (
            "a stranger's volumes",
            "denied ownership HostConfig.VolumesFrom[0]",
        ),
        (
            "a stranger's network",
            "denied containers.networks HostConfig.NetworkMode",
        ),
    ]);
    let shown: Value = serde_json::from_str(a.show(0)).unwrap();
    let from = shown["VolumesFrom"][0].as_str().unwrap();
    let (id, mode) = from.split_once(':').unwrap();
    assert!(
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) && mode == "ro",
        "{from}"
    );
}

/// `ps` options go to a `ps` the daemon runs over the host's processes: only whole listings.
#[test]
fn top_takes_a_short_list_of_ps_options() {
    let cases = vec![
        case("top", "-p 1 -o args"),
        case("top", "-o pid,args --pid 1"),
        case("top", "aux"),
        case("top", "-ef"),
    ];
    let a = attack(&tug_e2e::plugin("attack"), &[], &cases);
    a.expect(&[
        ("a host process's arguments", "denied containers.top ps_args"),
        ("output options", "denied containers.top ps_args"),
        ("aux", "allowed"),
        ("-ef", "allowed"),
    ]);
}

/// A fixed host port could take the port a host service listens on (a registry's token service), and
/// capture what the daemon sends it: the daemon picks the port.
#[test]
fn host_ports_are_picked_by_the_daemon() {
    let ports = |host_port: &str| {
        json!({ "Image": IMAGE, "Cmd": ["true"], "ExposedPorts": {"80/tcp": {}},
            "HostConfig": {"PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": host_port}]}} })
        .to_string()
    };
    let cases = vec![case("create-show", ports("5003")), case("create-show", ports(""))];
    let a = attack(&tug_e2e::plugin("attack"), &[], &cases);
    a.expect(&[
        (
            "the token service's port",
            "denied containers.ports HostConfig.PortBindings.80/tcp[0].HostPort",
        ),
        ("any port", "allowed"),
    ]);
}

/// `n` published ports on loopback, each picked by the daemon.
fn ports(n: u16) -> Value {
    let mut map = serde_json::Map::new();
    for p in 0..n {
        map.insert(
            format!("{}/tcp", 8000 + p),
            json!([{"HostIp": "127.0.0.1", "HostPort": ""}]),
        );
    }
    Value::Object(map)
}

/// Swap no larger than memory, logs bounded on the host's disk (and in the daemon's memory), published
/// ports and health checks bounded (each costs the host outside the container's limits), exec instances
/// bounded per container.
#[test]
fn ceilings_on_swap_logs_and_exec_instances() {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy(dir.path(), "untrusted", "execs-5", &[("execs = 32", "execs = 5")]);
    let big_logs = json!({ "Image": IMAGE, "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"max-size": "1g", "max-file": "100"}}} });
    let cases = vec![
        case("create-show", json!({ "Image": IMAGE }).to_string()),
        case("create-show", big_logs.to_string()),
        case(
            "create-show",
            json!({ "Image": IMAGE, "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"path": "/etc/x"}}} })
                .to_string(),
        ),
        case("exec-many", "8"),
        case(
            "create-show",
            json!({ "Image": IMAGE, "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"mode": "non-blocking", "max-buffer-size": "100g"}}} })
                .to_string(),
        ),
        case(
            "create-show",
            json!({ "Image": IMAGE, "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"tag": "{{pad \"x\" 50000000 0}}"}}} })
                .to_string(),
        ),
        case("create-show", json!({ "Image": IMAGE, "HostConfig": {"PortBindings": ports(17)} }).to_string()),
        case(
            "create-show",
            json!({ "Image": IMAGE, "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1_000_000} }).to_string(),
        ),
        case(
            "create-show",
            json!({ "Image": IMAGE, "Healthcheck": {"Test": ["CMD", "true"], "Interval": 5_000_000_000_i64} })
                .to_string(),
        ),
    ];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), policy.display().to_string()],
        &cases,
    );
    a.expect(&[
        ("no limits asked", "allowed"),
        ("a gigabyte of logs asked", "allowed"),
        (
            "a log option beyond the list",
            "denied containers.log-config HostConfig.LogConfig.Config.path",
        ),
        ("eight exec instances", "denied quota.execs -"),
        (
            "a log buffer in the daemon's memory",
            "denied containers.log-config HostConfig.LogConfig.Config.max-buffer-size",
        ),
        (
            "a log tag the daemon expands to 50 MB",
            "denied containers.log-config HostConfig.LogConfig.Config.tag",
        ),
        (
            "17 published ports",
            "denied containers.ports HostConfig.PortBindings",
        ),
        (
            "a health check every millisecond",
            "denied containers.healthcheck Healthcheck.Interval",
        ),
        ("a health check every 5 s", "allowed"),
    ]);
    for n in [0, 1] {
        let shown: Value = serde_json::from_str(a.show(n)).unwrap();
        assert_eq!(shown["Memory"], 512 << 20, "{shown}");
        assert_eq!(
            shown["MemorySwap"], shown["Memory"],
            "swap no larger than memory: {shown}"
        );
        assert_eq!(
            shown["LogConfig"],
            json!({"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}),
            "{shown}"
        );
        assert_eq!(shown["Keep"], "0", "every create says tug.keep: {shown}");
    }
    assert_eq!(a.show(3), "created 5");
}

/// `data-usage` and `info` describe the engine, not its other users: no other container's command line
/// or labels, no proxies, paths, names or registry mirrors.
#[test]
fn data_usage_and_info_show_nothing_of_others() {
    let (rt, c) = (rt(), client());
    let victims = Victims::new(&rt, &c);
    let cases = vec![case("data-usage", ""), case("info", "")];
    let a = attack(&tug_e2e::plugin("attack"), &[], &cases);
    victims.remove(&rt, &c);
    a.expect(&[("data usage", "allowed"), ("info", "allowed")]);
    let df = a.show(0);
    for secret in [
        &victims.token,
        &victims.container,
        &victims.running,
        &victims.volume,
    ] {
        assert!(!df.contains(secret.as_str()), "data-usage showed {secret}: {df}");
    }
    let info: Value = serde_json::from_str(a.show(1)).unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    for key in [
        "DockerRootDir",
        "HttpProxy",
        "HttpsProxy",
        "NoProxy",
        "Labels",
        "RegistryConfig",
        "ID",
    ] {
        assert!(info.get(key).is_none(), "info has {key}: {info}");
    }
    if host.trim().len() >= 6 {
        assert!(!a.show(1).contains(host.trim()), "info names the host: {info}");
    }
    assert_eq!(info["Name"], "tug", "{info}");
    assert!(
        info["ServerVersion"].is_string() && info["NCPU"].is_number(),
        "{info}"
    );
    assert_eq!(info["Containers"], 0, "the run has no containers: {info}");
}

/// A call the gate let through and the engine refused is audited with its error, not as a plain allow;
/// a megabyte-long image name is answered, not a crash that skips the cleanup.
#[test]
fn errors_after_the_gate_are_audited_and_huge_names_answered() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let name = format!("attack-audit-{}", std::process::id());
    let wasm = named(dir.path(), &name);
    let cases = vec![
        case("archive-info", "/no/such/path"),
        case("inspect-image", format!("tug-test/{}", "a".repeat(100_000))),
        case("create-named", "0123456789abcdef"),
    ];
    let a = attack(&wasm, &["--audit".into(), audit.display().to_string()], &cases);
    a.expect(&[
        ("a path that is not there", "error"),
        ("a huge image name", "error"),
        ("an id-like name", "denied containers.name name"),
    ]);
    let lines: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let info = lines
        .iter()
        .find(|l| l["operation"] == "ContainerArchiveInfo")
        .expect("an audit line for archive-info");
    assert_eq!(info["decision"], "allow");
    assert!(
        info["error"].as_str().is_some_and(|e| e.contains("NotFound")),
        "{info}"
    );
    let inspect = lines.iter().find(|l| l["operation"] == "ImageInspect").unwrap();
    assert!(inspect["error"].is_string(), "{inspect}");
    let create = lines
        .iter()
        .find(|l| l["operation"] == "ContainerCreate" && l["target"] == "0123456789abcdef")
        .unwrap();
    assert_eq!(
        (create["decision"].as_str(), create["rule"].as_str()),
        (Some("deny"), Some("containers.name"))
    );
}
