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

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tug_sdk::docker::{filters, short_id, Config, Docker, Secret, Service, Task};
use tug_sdk::models::{
    ConfigSpec, ObjectVersion, SecretSpec, ServiceSpec, ServiceSpecMode, ServiceSpecModeReplicated,
    SwarmInitBody, SwarmJoinBody, SwarmSpec, TaskSpec, TaskSpecContainerSpec, TaskSpecRestartPolicy,
    TaskSpecRestartPolicyCondition, TaskState,
};
use tug_sdk::{configs, secrets, service_streams, services, task_streams};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

/// The label that marks the swarm (and the node, secret, config and service) this plugin made.
const MARK: &str = "org.example.plugin";
const IMAGE: &str = "tug-test/busybox:latest";
const SECRET: &str = "s3cret-value";
const CONFIG: &str = "config-value";
const SCRIPT: &str = "echo secret=$(cat /run/secrets/demo-secret) config=$(cat /demo-config); \
                      while true; do echo hello from $HOSTNAME; sleep 1; done";

fn main() {
    let abandon = std::env::args().nth(1).as_deref() == Some("abandon");
    tug_sdk::main(|| -> Result<()> {
        let docker = Docker::from_env()?;
        leave_an_earlier_run(&docker)?;
        let outcome = in_a_swarm(&docker, abandon);
        if abandon && outcome.is_ok() {
            return Ok(());
        }
        // Whatever happened once `SwarmInit` was tried, the swarm goes.
        let left = docker.swarm().leave(true);
        match &left {
            Ok(()) => println!("SwarmLeave: left the swarm"),
            Err(e) => eprintln!("error: SwarmLeave: {e}"),
        }
        outcome?;
        Ok(left?)
    });
    println!("ok");
}

/// The labels of everything this plugin makes.
fn mark() -> BTreeMap<String, String> {
    BTreeMap::from([(MARK.to_owned(), "swarm".to_owned())])
}

/// The value of label `key`, if there are labels and it is one.
fn label<'a>(labels: Option<&'a BTreeMap<String, String>>, key: &str) -> Option<&'a str> {
    labels?.get(key).map(String::as_str)
}

/// Whether `labels` has the ownership label tug adds to what a run makes.
fn labelled_by_tug(labels: Option<&BTreeMap<String, String>>) -> bool {
    label(labels, "tug.run").is_some()
}

/// `Version.Index` of the swarm's inspect document.
fn index(version: &Option<ObjectVersion>) -> u64 {
    version.as_ref().and_then(|v| v.index).unwrap_or_default()
}

/// `value` as text, `?` if the engine did not say.
fn or_unknown(value: Option<impl std::fmt::Display>) -> String {
    value.map_or("?".into(), |v| v.to_string())
}

/// An earlier run that failed before leaving left its swarm behind: leave it. Any other swarm is someone
/// else's.
fn leave_an_earlier_run(docker: &Docker) -> Result<()> {
    match docker.swarm().inspect() {
        Ok(swarm) => {
            if label(swarm.spec.as_ref().and_then(|s| s.labels.as_ref()), MARK) != Some("swarm") {
                return Err("the engine is in a swarm this plugin did not make; not touching it".into());
            }
            let id = swarm.id.unwrap_or_default();
            println!("SwarmInspect: an earlier run left its swarm {id} behind");
            docker.swarm().leave(true)?;
        }
        Err(e) => println!("SwarmInspect: not in a swarm yet ({e})"),
    }
    Ok(())
}

fn in_a_swarm(docker: &Docker, abandon: bool) -> Result<()> {
    let node = docker.swarm().init(SwarmInitBody {
        listen_addr: Some("127.0.0.1:2377".into()),
        advertise_addr: Some("127.0.0.1".into()),
        spec: Some(SwarmSpec {
            labels: Some(mark()),
            ..Default::default()
        }),
        ..Default::default()
    })?;
    println!("SwarmInit: this engine is now the manager of a swarm on 127.0.0.1 (node {node})");

    // A daemon is in one swarm at most: joining even the swarm it manages, with its own worker token, is
    // refused. That is the only join one engine can try on its own.
    let token = docker.swarm().inspect()?.join_tokens.and_then(|t| t.worker);
    let join = SwarmJoinBody {
        listen_addr: Some("127.0.0.1:2377".into()),
        advertise_addr: Some("127.0.0.1".into()),
        remote_addrs: Some(vec!["127.0.0.1:2377".into()]),
        join_token: Some(token.ok_or("the swarm has no worker join token")?),
        ..Default::default()
    };
    match docker.swarm().join(join) {
        Ok(()) => return Err("SwarmJoin joined a second swarm".into()),
        Err(e) => println!(
            "SwarmJoin: refused as expected, since an engine is in one swarm at most and this one is the \
             only engine here: {e}"
        ),
    }

    if abandon {
        return abandon_objects(docker);
    }
    exercise_swarm(docker)?;
    exercise_nodes(docker)?;
    let secret = exercise_secret(docker)?;
    let config = exercise_config(docker)?;
    exercise_service(docker, &secret, &config)?;

    secret.remove()?;
    let listed = docker.secrets().list(Default::default())?;
    if listed.iter().any(|s| s.id == secret.id) {
        return Err(format!("secret {} is still listed after SecretDelete", secret.id).into());
    }
    println!("SecretDelete: removed secret {}", secret.short_id());
    config.remove()?;
    let listed = docker.configs().list(Default::default())?;
    if listed.iter().any(|c| c.id == config.id) {
        return Err(format!("config {} is still listed after ConfigDelete", config.id).into());
    }
    println!("ConfigDelete: removed config {}", config.short_id());
    Ok(())
}

/// SwarmInspect, SwarmUpdate (autolock on, one more task kept in history), SwarmUnlockkey, SwarmUnlock.
fn exercise_swarm(docker: &Docker) -> Result<()> {
    let mut swarm = docker.swarm().inspect()?;
    let version = index(&swarm.version);
    let id = swarm.id.clone().unwrap_or_default();
    println!("SwarmInspect: swarm {} at version {version}", short_id(&id));

    let spec = swarm.spec.get_or_insert_with(Default::default);
    let orchestration = spec.orchestration.get_or_insert_with(Default::default);
    let history = orchestration.task_history_retention_limit.unwrap_or(5);
    orchestration.task_history_retention_limit = Some(history + 1);
    spec.encryption_config
        .get_or_insert_with(Default::default)
        .auto_lock_managers = Some(true);
    docker.swarm().update(&swarm, Default::default())?;
    let swarm = docker.swarm().inspect()?;
    let spec = swarm.spec.unwrap_or_default();
    let now = spec.orchestration.and_then(|o| o.task_history_retention_limit);
    let autolock = spec.encryption_config.and_then(|e| e.auto_lock_managers);
    if now != Some(history + 1) || autolock != Some(true) {
        return Err(format!("SwarmUpdate did not take: task history {now:?}, autolock {autolock:?}").into());
    }
    println!(
        "SwarmUpdate: task history {history} -> {}, autolock on (version {version} -> {})",
        history + 1,
        index(&swarm.version)
    );

    let key = docker.swarm().unlock_key()?.unlock_key.unwrap_or_default();
    if !key.starts_with("SWMKEY-") {
        return Err(format!("SwarmUnlockkey: not an unlock key ({} characters)", key.len()).into());
    }
    // The key is a credential: say that there is one, not what it is.
    println!(
        "SwarmUnlockkey: the managers' unlock key is set ({} characters)",
        key.len()
    );

    match docker.swarm().unlock(&key) {
        Ok(()) => Err("SwarmUnlock unlocked a manager that was not locked".into()),
        Err(e) => {
            println!(
                "SwarmUnlock: refused as expected, since only a manager restarted with autolock on is \
                 locked and a plugin cannot restart the daemon: {e}"
            );
            Ok(())
        }
    }
}

/// NodeList, NodeInspect, NodeUpdate (a label), NodeDelete (refused: the only manager).
fn exercise_nodes(docker: &Docker) -> Result<()> {
    let nodes = docker.nodes().list(Default::default())?;
    let [node] = &nodes[..] else {
        return Err(format!("NodeList: {} nodes in a swarm of one", nodes.len()).into());
    };
    println!("NodeList: 1 node, {}", node.short_id());

    let mut node = docker.nodes().get(&node.id)?;
    let hostname = node.attrs.description.as_ref().and_then(|d| d.hostname.as_ref());
    let role = node.attrs.spec.as_ref().and_then(|s| s.role.as_ref());
    let reachability = node
        .attrs
        .manager_status
        .as_ref()
        .and_then(|m| m.reachability.as_ref());
    println!(
        "NodeInspect: {} is a {} ({}), version {}",
        or_unknown(hostname),
        or_unknown(role),
        or_unknown(reachability),
        node.version()
    );

    // A new node's status settles just after the swarm is made, and each change bumps its version: an
    // update against the version read a moment ago can be "out of sequence". Read again and retry.
    for attempt in 1.. {
        let mut spec = node.attrs.spec.clone().unwrap_or_default();
        spec.labels.get_or_insert_with(Default::default).extend(mark());
        match node.update(&spec) {
            Err(e) if attempt <= 5 && e.to_string().contains("out of sequence") => {
                std::thread::sleep(Duration::from_millis(200));
                node.reload()?;
            }
            other => {
                other?;
                break;
            }
        }
    }
    node.reload()?;
    let labels = node.attrs.spec.as_ref().and_then(|s| s.labels.as_ref());
    if label(labels, MARK) != Some("swarm") {
        return Err(format!("NodeUpdate did not take: labels {labels:?}").into());
    }
    println!("NodeUpdate: labelled the node {MARK}=swarm");

    match node.remove(false) {
        Ok(()) => Err("NodeDelete removed the swarm's only manager".into()),
        Err(e) => {
            println!("NodeDelete: refused as expected, since the swarm's only node is its only manager: {e}");
            Ok(())
        }
    }
}

/// The secret `tug-demo-secret` holding `SECRET` (SecretCreate).
fn create_secret(docker: &Docker) -> Result<Secret> {
    let spec = SecretSpec {
        labels: Some(mark()),
        ..SecretSpec::new("tug-demo-secret", SECRET)
    };
    Ok(docker.secrets().create(&spec)?)
}

/// The config `tug-demo-config` holding `CONFIG` (ConfigCreate).
fn create_config(docker: &Docker) -> Result<Config> {
    let spec = ConfigSpec {
        labels: Some(mark()),
        ..ConfigSpec::new("tug-demo-config", CONFIG)
    };
    Ok(docker.configs().create(&spec)?)
}

/// The service `tug-demo-web` (ServiceCreate): two replicas printing the secret and the config, then a
/// line a second.
fn create_service(docker: &Docker, secret: &Secret, config: &Config) -> Result<Service> {
    let spec = ServiceSpec {
        name: Some("tug-demo-web".into()),
        labels: Some(mark()),
        task_template: Some(TaskSpec {
            container_spec: Some(TaskSpecContainerSpec {
                image: Some(IMAGE.into()),
                command: Some(vec!["sh".into(), "-c".into(), SCRIPT.into()]),
                secrets: Some(vec![secret.reference("demo-secret")]),
                configs: Some(vec![config.reference("/demo-config")]),
                ..Default::default()
            }),
            restart_policy: Some(TaskSpecRestartPolicy {
                condition: Some(TaskSpecRestartPolicyCondition::Any),
                ..Default::default()
            }),
            ..Default::default()
        }),
        mode: Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(2),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    Ok(docker.services().create(&spec, None)?)
}

/// `abandon`: a secret, a config and a running service using them, left as they are, and the swarm too:
/// tug's cleanup must remove the service, the secret, the config and the service's containers (the test
/// leaves the swarm afterwards).
fn abandon_objects(docker: &Docker) -> Result<()> {
    let secret = create_secret(docker)?;
    let config = create_config(docker)?;
    let service = create_service(docker, &secret, &config)?;
    wait_running(&service, 2)?;
    println!(
        "abandoned service {}, secret {}, config {}",
        service.short_id(),
        secret.short_id(),
        config.short_id()
    );
    Ok(())
}

/// SecretCreate, SecretList, SecretInspect, SecretUpdate (labels).
fn exercise_secret(docker: &Docker) -> Result<Secret> {
    let mut secret = create_secret(docker)?;
    let name = secret.name().unwrap_or_default().to_owned();
    println!("SecretCreate: secret {name} ({})", secret.short_id());

    let list = docker.secrets().list(secrets::ListOptions {
        filters: Some(filters([("name", name.as_str())])),
    })?;
    if list.len() != 1 || list[0].id != secret.id {
        return Err(format!("SecretList: {list:?}").into());
    }
    println!("SecretList: found {name}");

    // `create` answered the secret as SecretInspect has it.
    let mut spec = secret.attrs.spec.clone().unwrap_or_default();
    println!(
        "SecretInspect: {name} at version {}, labelled by tug: {}, data not shown: {}",
        secret.version(),
        labelled_by_tug(spec.labels.as_ref()),
        spec.data.is_none()
    );
    spec.labels
        .get_or_insert_with(Default::default)
        .insert("org.example.updated".into(), "yes".into());
    secret.update(&spec)?;
    secret.reload()?;
    let labels = secret.attrs.spec.as_ref().and_then(|s| s.labels.as_ref());
    if label(labels, "org.example.updated") != Some("yes") {
        return Err(format!("SecretUpdate did not take: labels {labels:?}").into());
    }
    println!("SecretUpdate: relabelled {name}");
    Ok(secret)
}

/// ConfigCreate, ConfigList, ConfigInspect, ConfigUpdate (labels).
fn exercise_config(docker: &Docker) -> Result<Config> {
    let mut config = create_config(docker)?;
    let name = config.name().unwrap_or_default().to_owned();
    println!("ConfigCreate: config {name} ({})", config.short_id());

    let list = docker.configs().list(configs::ListOptions {
        filters: Some(filters([("name", name.as_str())])),
    })?;
    if list.len() != 1 || list[0].id != config.id {
        return Err(format!("ConfigList: {list:?}").into());
    }
    println!("ConfigList: found {name}");

    // `create` answered the config as ConfigInspect has it, data included.
    let data = config.data()?;
    if data != CONFIG.as_bytes() {
        return Err(format!("ConfigInspect: data {:?}", String::from_utf8_lossy(&data)).into());
    }
    let mut spec = config.attrs.spec.clone().unwrap_or_default();
    println!(
        "ConfigInspect: {name} at version {}, labelled by tug: {}, data as created",
        config.version(),
        labelled_by_tug(spec.labels.as_ref())
    );
    spec.labels
        .get_or_insert_with(Default::default)
        .insert("org.example.updated".into(), "yes".into());
    config.update(&spec)?;
    config.reload()?;
    let labels = config.attrs.spec.as_ref().and_then(|s| s.labels.as_ref());
    if label(labels, "org.example.updated") != Some("yes") {
        return Err(format!("ConfigUpdate did not take: labels {labels:?}").into());
    }
    println!("ConfigUpdate: relabelled {name}");
    Ok(config)
}

/// Waits until `n` tasks of the service run (TaskList), and returns them.
fn wait_running(service: &Service, n: usize) -> Result<Vec<Task>> {
    let running = |task: &Task| {
        task.desired_state() == Some(&TaskState::Running) && task.state() == Some(&TaskState::Running)
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let tasks: Vec<Task> = service.tasks()?.into_iter().filter(running).collect();
        if tasks.len() >= n {
            println!("TaskList: {} tasks running", tasks.len());
            return Ok(tasks);
        }
        if Instant::now() > deadline {
            return Err(format!("only {} of {n} tasks running after 90 s", tasks.len()).into());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// ServiceCreate, ServiceInspect, ServiceUpdate (scale), ServiceLogs, TaskList, TaskInspect, TaskLogs,
/// ServiceList, ServiceDelete.
fn exercise_service(docker: &Docker, secret: &Secret, config: &Config) -> Result<()> {
    let mut service = create_service(docker, secret, config)?;
    let name = service.name().unwrap_or_default().to_owned();
    println!(
        "ServiceCreate: service {name} ({}), 2 replicas",
        service.short_id()
    );
    wait_running(&service, 2)?;

    service.reload()?;
    let spec = service.attrs.spec.as_ref();
    let containers = spec
        .and_then(|s| s.task_template.as_ref())
        .and_then(|t| t.container_spec.as_ref());
    println!(
        "ServiceInspect: {name} at version {}, labelled by tug: {}, its containers too: {}",
        service.version(),
        labelled_by_tug(spec.and_then(|s| s.labels.as_ref())),
        labelled_by_tug(containers.and_then(|c| c.labels.as_ref()))
    );
    let answer = service.scale(3)?;
    println!(
        "ServiceUpdate: scaled {name} to 3 replicas (warnings: {:?})",
        answer.warnings.unwrap_or_default()
    );
    let running = wait_running(&service, 3)?;

    // Logs without `follow` end at the output so far; every task has written its first lines by now.
    let logs = service.logs(service_streams::LogsOptions {
        stdout: Some(true),
        stderr: Some(true),
        ..Default::default()
    })?;
    let tty = logs.tty();
    let text = logs.text()?;
    let wanted = format!("secret={SECRET} config={CONFIG}");
    if !text.contains("hello from") || !text.contains(&wanted) {
        return Err(format!("ServiceLogs: no `hello from` or `{wanted}` in {text:?}").into());
    }
    println!(
        "ServiceLogs: {} lines (tty: {tty}), with the secret and the config read in the task, and {:?}",
        text.lines().count(),
        text.lines()
            .find(|l| l.contains("hello from"))
            .unwrap_or_default()
    );

    // The oldest running task: it has written a few lines by now.
    let oldest = running
        .iter()
        .min_by_key(|t| t.attrs.created_at.clone())
        .ok_or("no running task")?;
    let task = docker.tasks().get(&oldest.id)?;
    let container = task
        .attrs
        .status
        .as_ref()
        .and_then(|s| s.container_status.as_ref());
    println!(
        "TaskInspect: task {} of service {} is {} in container {}",
        task.short_id(),
        short_id(task.attrs.service_id.as_deref().unwrap_or("?")),
        or_unknown(task.state()),
        short_id(container.and_then(|c| c.container_id.as_deref()).unwrap_or("?"))
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = task
            .logs(task_streams::LogsOptions {
                stdout: Some(true),
                tail: Some("3".into()),
                ..Default::default()
            })?
            .text()?;
        if text.contains("hello from") {
            break text;
        }
        if Instant::now() > deadline {
            return Err(format!("TaskLogs: no `hello from` in {text:?}").into());
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    println!(
        "TaskLogs: the last 3 lines of task {}, the last {:?}",
        task.short_id(),
        text.lines().last().unwrap_or_default()
    );

    let list = docker.services().list(services::ListOptions {
        filters: Some(filters([("name", name.as_str())])),
        status: Some(true),
    })?;
    let [listed] = &list[..] else {
        return Err(format!("ServiceList: {} services named {name}", list.len()).into());
    };
    let status = listed.attrs.service_status.clone().unwrap_or_default();
    if listed.id != service.id {
        return Err(format!("ServiceList: found {}, created {}", listed.id, service.id).into());
    }
    println!(
        "ServiceList: found {name}, {} of {} tasks running",
        status.running_tasks.unwrap_or_default(),
        status.desired_tasks.unwrap_or_default()
    );

    service.remove()?;
    println!("ServiceDelete: removed {name}");
    Ok(())
}
