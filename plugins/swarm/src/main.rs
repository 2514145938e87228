//! Swarm mode end to end: makes the engine the manager of a one-node swarm on loopback and calls every one
//! of the 30 swarm, node, service, task, secret and config operations, one output line each, named by its
//! operationId. Run it with `--policy trusted` (only that profile may touch the swarm).
//!
//! A secret and a config are created, listed, inspected, relabelled; a two-replica service of
//! `tug-test/busybox` using both is created, waited for, scaled to three, and its logs and its tasks'
//! logs read; then everything is removed. Three operations can only be tried on their error path here:
//! `SwarmJoin` (an engine is in one swarm at most, and there is no second engine to make a swarm),
//! `SwarmUnlock` (only a manager restarted with autolock on is locked, and a plugin cannot restart the
//! daemon) and `NodeDelete` (the swarm's only node is its only manager, which the daemon refuses to
//! remove). The plugin always leaves the swarm it made, also after a failure, and leaves first a swarm an
//! earlier run of it left behind (it marks its swarm with a label); it never touches another swarm.
//!
//! With the argument `abandon` it makes the swarm, a secret, a config and a running service using them,
//! and ends without removing anything or leaving the swarm: a test of tug's cleanup.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tug_sdk::types::{Error, Frame};
use tug_sdk::{
    configs, engine, engines::Engine, frames, nodes, secrets, service_streams, services, swarm, task_streams,
    tasks,
};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

/// The label that marks the swarm (and the node) this plugin made.
const MARK: &str = "org.example.plugin";
const IMAGE: &str = "tug-test/busybox:latest";
const SECRET: &str = "s3cret-value";
const CONFIG: &str = "config-value";
const SCRIPT: &str = "echo secret=$(cat /run/secrets/demo-secret) config=$(cat /demo-config); \
                      while true; do echo hello from $HOSTNAME; sleep 1; done";

fn main() {
    let docker = engine();
    let mut joined = false;
    let abandon = std::env::args().nth(1).as_deref() == Some("abandon");
    let outcome = run(&docker, &mut joined, abandon);
    let mut left = Ok(());
    if joined {
        left = swarm::leave(&docker, swarm::LeaveOptions { force: Some(true) });
        match &left {
            Ok(()) => println!("SwarmLeave: left the swarm"),
            Err(e) => eprintln!("error: SwarmLeave: {e}"),
        }
    }
    if let Err(e) = outcome {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    if left.is_err() {
        std::process::exit(1);
    }
    println!("ok");
}

fn parse(text: &str) -> Result<Value> {
    Ok(serde_json::from_str(text)?)
}

fn string(v: &Value, what: &str) -> Result<String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no {what} in {v}").into())
}

fn version(v: &Value) -> Result<i64> {
    v["Version"]["Index"]
        .as_i64()
        .ok_or_else(|| format!("no Version.Index in {v}").into())
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

fn run(docker: &Engine, joined: &mut bool, abandon: bool) -> Result<()> {
    // An earlier run that failed before leaving left its swarm behind: leave it. Any other swarm is
    // someone else's.
    match swarm::inspect(docker) {
        Ok(text) => {
            let v = parse(&text)?;
            if v["Spec"]["Labels"][MARK].as_str() != Some("swarm") {
                return Err("the engine is in a swarm this plugin did not make; not touching it".into());
            }
            println!("SwarmInspect: an earlier run left its swarm {} behind", v["ID"]);
            swarm::leave(docker, swarm::LeaveOptions { force: Some(true) })?;
        }
        Err(e) => println!("SwarmInspect: not in a swarm yet ({e})"),
    }

    *joined = true;
    let init = json!({
        "ListenAddr": "127.0.0.1:2377",
        "AdvertiseAddr": "127.0.0.1",
        "Spec": {"Labels": {MARK: "swarm"}},
    });
    let node = parse(&swarm::init(docker, &init.to_string())?)?;
    println!("SwarmInit: this engine is now the manager of a swarm on 127.0.0.1 (node {node})");

    // A daemon is in one swarm at most: joining even the swarm it manages, with its own worker token, is
    // refused. That is the only join one engine can try on its own.
    let tokens = parse(&swarm::inspect(docker)?)?["JoinTokens"].clone();
    let join = json!({
        "ListenAddr": "127.0.0.1:2377",
        "AdvertiseAddr": "127.0.0.1",
        "RemoteAddrs": ["127.0.0.1:2377"],
        "JoinToken": string(&tokens["Worker"], "JoinTokens.Worker")?,
    });
    match swarm::join(docker, &join.to_string()) {
        Ok(()) => return Err("SwarmJoin joined a second swarm".into()),
        Err(e) => println!(
            "SwarmJoin: refused as expected, since an engine is in one swarm at most and this one is the \
             only engine here: {e}"
        ),
    }

    if abandon {
        return abandon_objects(docker, joined);
    }
    exercise_swarm(docker)?;
    exercise_nodes(docker)?;
    let secret = exercise_secret(docker)?;
    let config = exercise_config(docker)?;
    exercise_service(docker, &secret, &config)?;

    secrets::remove(docker, &secret)?;
    let left = secrets::list(docker, &Default::default())?;
    if left.contains(&secret) {
        return Err(format!("secret {secret} is still listed after SecretDelete: {left}").into());
    }
    println!("SecretDelete: removed secret {}", short(&secret));
    configs::remove(docker, &config)?;
    let left = configs::list(docker, &Default::default())?;
    if left.contains(&config) {
        return Err(format!("config {config} is still listed after ConfigDelete: {left}").into());
    }
    println!("ConfigDelete: removed config {}", short(&config));
    Ok(())
}

/// SwarmInspect, SwarmUpdate (autolock on, one more task kept in history), SwarmUnlockkey, SwarmUnlock.
fn exercise_swarm(docker: &Engine) -> Result<()> {
    let v = parse(&swarm::inspect(docker)?)?;
    let index = version(&v)?;
    println!(
        "SwarmInspect: swarm {} at version {index}",
        short(&string(&v["ID"], "ID")?)
    );

    let mut spec = v["Spec"].clone();
    let history = spec["Orchestration"]["TaskHistoryRetentionLimit"]
        .as_i64()
        .unwrap_or(5);
    spec["Orchestration"]["TaskHistoryRetentionLimit"] = json!(history + 1);
    spec["EncryptionConfig"]["AutoLockManagers"] = json!(true);
    let options = swarm::UpdateOptions {
        version: index,
        ..Default::default()
    };
    swarm::update(docker, &spec.to_string(), options)?;
    let v = parse(&swarm::inspect(docker)?)?;
    let (now, autolock) = (
        &v["Spec"]["Orchestration"]["TaskHistoryRetentionLimit"],
        &v["Spec"]["EncryptionConfig"]["AutoLockManagers"],
    );
    if now.as_i64() != Some(history + 1) || autolock.as_bool() != Some(true) {
        return Err(format!("SwarmUpdate did not take: {}", v["Spec"]).into());
    }
    println!(
        "SwarmUpdate: task history {history} -> {now}, autolock on (version {index} -> {})",
        version(&v)?
    );

    let key = string(&parse(&swarm::unlock_key(docker)?)?["UnlockKey"], "UnlockKey")?;
    if !key.starts_with("SWMKEY-") {
        return Err(format!("SwarmUnlockkey: not an unlock key ({} characters)", key.len()).into());
    }
    // The key is a credential: say that there is one, not what it is.
    println!(
        "SwarmUnlockkey: the managers' unlock key is set ({} characters)",
        key.len()
    );

    match swarm::unlock(docker, &json!({ "UnlockKey": key }).to_string()) {
        Ok(()) => return Err("SwarmUnlock unlocked a manager that was not locked".into()),
        Err(e) => println!(
            "SwarmUnlock: refused as expected, since only a manager restarted with autolock on is locked \
             and a plugin cannot restart the daemon: {e}"
        ),
    }
    Ok(())
}

/// NodeList, NodeInspect, NodeUpdate (a label), NodeDelete (refused: the only manager).
fn exercise_nodes(docker: &Engine) -> Result<()> {
    let list = parse(&nodes::list(docker, &Default::default())?)?;
    let all = list.as_array().ok_or("NodeList: not an array")?;
    if all.len() != 1 {
        return Err(format!("NodeList: {} nodes in a swarm of one", all.len()).into());
    }
    let id = string(&all[0]["ID"], "node ID")?;
    println!("NodeList: 1 node, {}", short(&id));

    let v = parse(&nodes::inspect(docker, &id)?)?;
    println!(
        "NodeInspect: {} is a {} ({}), version {}",
        v["Description"]["Hostname"],
        v["Spec"]["Role"],
        v["ManagerStatus"]["Reachability"],
        version(&v)?
    );

    // A new node's status settles just after the swarm is made, and each change bumps its version: an
    // update against the version read a moment ago can be "out of sequence". Read again and retry.
    let mut attempt = 0;
    loop {
        let v = parse(&nodes::inspect(docker, &id)?)?;
        let mut spec = v["Spec"].clone();
        spec["Labels"][MARK] = json!("swarm");
        let update = nodes::UpdateOptions {
            version: version(&v)?,
        };
        match nodes::update(docker, &id, &spec.to_string(), update) {
            Err(e) if attempt < 5 && e.to_string().contains("out of sequence") => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(200));
            }
            other => break other?,
        }
    }
    let v = parse(&nodes::inspect(docker, &id)?)?;
    if v["Spec"]["Labels"][MARK] != "swarm" {
        return Err(format!("NodeUpdate did not take: {}", v["Spec"]).into());
    }
    println!("NodeUpdate: labelled the node {MARK}=swarm");

    match nodes::remove(docker, &id, nodes::RemoveOptions { force: Some(false) }) {
        Ok(()) => Err("NodeDelete removed the swarm's only manager".into()),
        Err(e) => {
            println!("NodeDelete: refused as expected, since the swarm's only node is its only manager: {e}");
            Ok(())
        }
    }
}

/// Base64 (standard alphabet, padded) of `data`, for the `Data` of secrets and configs.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The name filter of a list call.
fn by_name(name: &str) -> Option<Vec<(String, Vec<String>)>> {
    Some(vec![("name".to_owned(), vec![name.to_owned()])])
}

/// SecretCreate: the secret `name` holding `SECRET`. Returns the id.
fn create_secret(docker: &Engine, name: &str) -> Result<String> {
    let spec = json!({"Name": name, "Data": base64(SECRET.as_bytes()), "Labels": {MARK: "swarm"}});
    string(&parse(&secrets::create(docker, &spec.to_string())?)?["ID"], "ID")
}

/// ConfigCreate: the config `name` holding `CONFIG`. Returns the id.
fn create_config(docker: &Engine, name: &str) -> Result<String> {
    let spec = json!({"Name": name, "Data": base64(CONFIG.as_bytes()), "Labels": {MARK: "swarm"}});
    string(&parse(&configs::create(docker, &spec.to_string())?)?["ID"], "ID")
}

/// ServiceCreate: a two-replica service `name` printing the secret and the config, then a line a second.
/// Returns the id.
fn create_service(docker: &Engine, name: &str, secret: &str, config: &str) -> Result<String> {
    let spec = json!({
        "Name": name,
        "Labels": {MARK: "swarm"},
        "TaskTemplate": {
            "ContainerSpec": {
                "Image": IMAGE,
                "Command": ["sh", "-c", SCRIPT],
                "Secrets": [{"SecretID": secret, "SecretName": "tug-demo-secret",
                    "File": {"Name": "demo-secret", "UID": "0", "GID": "0", "Mode": 0o444}}],
                "Configs": [{"ConfigID": config, "ConfigName": "tug-demo-config",
                    "File": {"Name": "/demo-config", "UID": "0", "GID": "0", "Mode": 0o444}}],
            },
            "RestartPolicy": {"Condition": "any"},
        },
        "Mode": {"Replicated": {"Replicas": 2}},
    });
    let created = parse(&services::create(docker, &spec.to_string(), None)?)?;
    string(&created["ID"], "ID")
}

/// `abandon`: a secret, a config and a running service using them, left as they are, and the swarm too:
/// tug's cleanup must remove the service, the secret, the config and the service's containers (the test
/// leaves the swarm afterwards).
fn abandon_objects(docker: &Engine, joined: &mut bool) -> Result<()> {
    let secret = create_secret(docker, "tug-demo-secret")?;
    let config = create_config(docker, "tug-demo-config")?;
    let service = create_service(docker, "tug-demo-web", &secret, &config)?;
    wait_running(docker, &service, 2)?;
    *joined = false;
    println!(
        "abandoned service {}, secret {}, config {}",
        short(&service),
        short(&secret),
        short(&config)
    );
    Ok(())
}

/// SecretCreate, SecretList, SecretInspect, SecretUpdate (labels). Returns the id.
fn exercise_secret(docker: &Engine) -> Result<String> {
    let name = "tug-demo-secret";
    let id = create_secret(docker, name)?;
    println!("SecretCreate: secret {name} ({})", short(&id));

    let options = secrets::ListOptions {
        filters: by_name(name),
    };
    let list = parse(&secrets::list(docker, &options)?)?;
    if list.as_array().map(Vec::len) != Some(1) || list[0]["ID"] != id.as_str() {
        return Err(format!("SecretList: {list}").into());
    }
    println!("SecretList: found {name}");

    let v = parse(&secrets::inspect(docker, &id)?)?;
    println!(
        "SecretInspect: {name} at version {}, labelled by tug: {}, data not shown: {}",
        version(&v)?,
        v["Spec"]["Labels"]["tug.run"].is_string(),
        v["Spec"]["Data"].is_null()
    );
    let mut spec = v["Spec"].clone();
    spec["Labels"]["org.example.updated"] = json!("yes");
    secrets::update(
        docker,
        &id,
        &spec.to_string(),
        secrets::UpdateOptions {
            version: version(&v)?,
        },
    )?;
    let v = parse(&secrets::inspect(docker, &id)?)?;
    if v["Spec"]["Labels"]["org.example.updated"] != "yes" {
        return Err(format!("SecretUpdate did not take: {}", v["Spec"]).into());
    }
    println!("SecretUpdate: relabelled {name}");
    Ok(id)
}

/// ConfigCreate, ConfigList, ConfigInspect, ConfigUpdate (labels). Returns the id.
fn exercise_config(docker: &Engine) -> Result<String> {
    let name = "tug-demo-config";
    let id = create_config(docker, name)?;
    println!("ConfigCreate: config {name} ({})", short(&id));

    let options = configs::ListOptions {
        filters: by_name(name),
    };
    let list = parse(&configs::list(docker, &options)?)?;
    if list.as_array().map(Vec::len) != Some(1) || list[0]["ID"] != id.as_str() {
        return Err(format!("ConfigList: {list}").into());
    }
    println!("ConfigList: found {name}");

    let v = parse(&configs::inspect(docker, &id)?)?;
    if v["Spec"]["Data"].as_str() != Some(base64(CONFIG.as_bytes()).as_str()) {
        return Err(format!("ConfigInspect: data {}", v["Spec"]["Data"]).into());
    }
    println!(
        "ConfigInspect: {name} at version {}, labelled by tug: {}, data as created",
        version(&v)?,
        v["Spec"]["Labels"]["tug.run"].is_string()
    );
    let mut spec = v["Spec"].clone();
    spec["Labels"]["org.example.updated"] = json!("yes");
    configs::update(
        docker,
        &id,
        &spec.to_string(),
        configs::UpdateOptions {
            version: version(&v)?,
        },
    )?;
    let v = parse(&configs::inspect(docker, &id)?)?;
    if v["Spec"]["Labels"]["org.example.updated"] != "yes" {
        return Err(format!("ConfigUpdate did not take: {}", v["Spec"]).into());
    }
    println!("ConfigUpdate: relabelled {name}");
    Ok(id)
}

/// The running tasks of a service (TaskList).
fn running_tasks(docker: &Engine, service: &str) -> Result<Vec<Value>> {
    let options = tasks::ListOptions {
        filters: Some(vec![
            ("service".to_owned(), vec![service.to_owned()]),
            ("desired-state".to_owned(), vec!["running".to_owned()]),
        ]),
    };
    let list = parse(&tasks::list(docker, &options)?)?;
    Ok(list
        .as_array()
        .ok_or("TaskList: not an array")?
        .iter()
        .filter(|t| t["Status"]["State"] == "running")
        .cloned()
        .collect())
}

/// Waits until `n` tasks of a service run.
fn wait_running(docker: &Engine, service: &str, n: usize) -> Result<Vec<Value>> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let running = running_tasks(docker, service)?;
        if running.len() >= n {
            println!("TaskList: {} tasks running", running.len());
            return Ok(running);
        }
        if Instant::now() > deadline {
            return Err(format!("only {} of {n} tasks running after 90 s", running.len()).into());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Reads frames until the output ends (the logs are not followed) and returns the text.
fn read_all(source: impl Iterator<Item = Result<Frame, Error>>) -> Result<(usize, String)> {
    let mut text = Vec::new();
    let mut count = 0;
    for frame in source {
        text.extend_from_slice(&frame?.data);
        count += 1;
    }
    Ok((count, String::from_utf8_lossy(&text).into_owned()))
}

/// ServiceCreate, ServiceInspect, ServiceUpdate (scale), ServiceLogs, TaskList, TaskInspect, TaskLogs,
/// ServiceList, ServiceDelete.
fn exercise_service(docker: &Engine, secret: &str, config: &str) -> Result<()> {
    let name = "tug-demo-web";
    let id = create_service(docker, name, secret, config)?;
    println!("ServiceCreate: service {name} ({}), 2 replicas", short(&id));
    wait_running(docker, &id, 2)?;

    let v = parse(&services::inspect(
        docker,
        &id,
        services::InspectOptions::default(),
    )?)?;
    let index = version(&v)?;
    println!(
        "ServiceInspect: {name} at version {index}, labelled by tug: {}, its containers too: {}",
        v["Spec"]["Labels"]["tug.run"].is_string(),
        v["Spec"]["TaskTemplate"]["ContainerSpec"]["Labels"]["tug.run"].is_string()
    );
    let mut spec = v["Spec"].clone();
    spec["Mode"]["Replicated"]["Replicas"] = json!(3);
    let options = services::UpdateOptions {
        version: index,
        ..Default::default()
    };
    let answer = services::update(docker, &id, &spec.to_string(), &options, None)?;
    println!("ServiceUpdate: scaled {name} to 3 replicas ({})", answer.trim());
    let running = wait_running(docker, &id, 3)?;

    // Logs without `follow` end at the output so far; every task has written its first lines by now.
    let options = service_streams::LogsOptions {
        stdout: Some(true),
        stderr: Some(true),
        ..Default::default()
    };
    let reader = service_streams::logs(docker, &id, &options)?;
    let (count, text) = read_all(frames(&reader))?;
    let wanted = format!("secret={SECRET} config={CONFIG}");
    if !text.contains("hello from") || !text.contains(&wanted) {
        return Err(format!("ServiceLogs: no `hello from` or `{wanted}` in {text:?}").into());
    }
    println!(
        "ServiceLogs: {count} frames (tty: {}), with the secret and the config read in the task, and {:?}",
        reader.tty(),
        text.lines()
            .find(|l| l.contains("hello from"))
            .unwrap_or_default()
    );

    // The oldest running task: it has written a few lines by now.
    let oldest = running
        .iter()
        .min_by_key(|t| t["CreatedAt"].as_str().unwrap_or_default().to_owned())
        .ok_or("no running task")?;
    let task = string(&oldest["ID"], "task ID")?;
    let t = parse(&tasks::inspect(docker, &task)?)?;
    println!(
        "TaskInspect: task {} of service {} is {} in container {}",
        short(&task),
        short(&string(&t["ServiceID"], "ServiceID")?),
        t["Status"]["State"],
        short(
            t["Status"]["ContainerStatus"]["ContainerID"]
                .as_str()
                .unwrap_or("?")
        )
    );
    let options = task_streams::LogsOptions {
        stdout: Some(true),
        tail: Some("3".into()),
        ..Default::default()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let (count, text) = loop {
        let reader = task_streams::logs(docker, &task, &options)?;
        let (count, text) = read_all(frames(&reader))?;
        if text.contains("hello from") {
            break (count, text);
        }
        if Instant::now() > deadline {
            return Err(format!("TaskLogs: no `hello from` in {text:?}").into());
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    println!(
        "TaskLogs: {count} frames of the last 3 lines of task {}, the last {:?}",
        short(&task),
        text.lines().last().unwrap_or_default()
    );

    let options = services::ListOptions {
        filters: by_name(name),
        status: Some(true),
    };
    let list = parse(&services::list(docker, &options)?)?;
    if list.as_array().map(Vec::len) != Some(1) || list[0]["ID"] != id.as_str() {
        return Err(format!("ServiceList: {list}").into());
    }
    println!(
        "ServiceList: found {name}, {} of {} tasks running",
        list[0]["ServiceStatus"]["RunningTasks"], list[0]["ServiceStatus"]["DesiredTasks"]
    );

    services::remove(docker, &id)?;
    println!("ServiceDelete: removed {name}");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64() {
        for (raw, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
        ] {
            assert_eq!(super::base64(raw.as_bytes()), encoded);
        }
    }
}
