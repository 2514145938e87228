//! swarm-deploy: a deployment on a swarm engine, one output line per step — checks the engine is a swarm
//! manager and lists its nodes; deploys a replicated service spread over the nodes; waits until its tasks
//! run and counts them per node; scales it; follows the service's logs until each task has written its
//! first line; rolls an update through it; drains and removes it. The service is removed on every failure
//! path too, and the run then exits 1 with the error. See README.md.
//!
//! ```text
//! tug run --policy ci [--engine NAME=URL] swarm-deploy.wasm -- [--engine NAME] [--image IMAGE] \
//!     [--replicas N] [--scale M] [--update-image IMAGE] [--name SERVICE] [--timeout SECONDS]
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use tug_sdk::docker::{filters, ready, short_id, Docker, Error, Service, Task, Waitable};
use tug_sdk::models::{
    LocalNodeState, ServiceSpec, ServiceSpecMode, ServiceSpecModeReplicated, ServiceSpecUpdateConfig,
    ServiceSpecUpdateConfigFailureAction, ServiceSpecUpdateConfigOrder, ServiceUpdateStatusState, TaskSpec,
    TaskSpecContainerSpec, TaskSpecPlacement, TaskSpecPlacementPreferencesItem,
    TaskSpecPlacementPreferencesItemSpread, TaskSpecRestartPolicy, TaskSpecRestartPolicyCondition, TaskState,
};
use tug_sdk::types::StreamKind;
use tug_sdk::wasip2::{clocks::monotonic_clock, io::poll::Pollable};
use tug_sdk::{containers, service_streams, tasks};

/// Any error, shown as its one line.
type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

/// The label on the service and its containers; its value is the service's name.
const LABEL: &str = "org.example.swarm-deploy";
/// What each task runs: a line naming its slot and node (service templates in its environment), then a
/// sleep it leaves at once on SIGTERM, so that updates and removals do not wait for the grace period.
const SCRIPT: &str =
    r#"trap 'exit 0' TERM; echo "task $TASK_SLOT on $NODE version $VERSION"; sleep 3600 & wait"#;
/// The environment variable the rolling update changes, as it is after the update.
const UPDATED: &str = "VERSION=2";
/// How often the engine is asked again while waiting.
const POLL: Duration = Duration::from_millis(250);
/// How long the tasks' first lines may take to show in the service's logs.
const LOGS_WAIT: Duration = Duration::from_secs(30);

/// The command line.
struct Args {
    /// The engine to open by name; the run's default engine when absent.
    engine: Option<String>,
    /// The tasks' image.
    image: String,
    /// The replicas to deploy.
    replicas: u64,
    /// The replicas to scale to (default: `replicas + 2`).
    scale: u64,
    /// The image the rolling update moves to, if it changes the image too.
    update_image: Option<String>,
    /// The service's name.
    name: String,
    /// How long tasks may take to run, update or stop.
    wait: Duration,
}

/// The deployed service and what its steps need.
struct Deployment {
    /// The swarm manager's engine.
    docker: Docker,
    /// The service, as of its last reload.
    service: Service,
    /// The nodes' host names by node ID.
    nodes: BTreeMap<String, String>,
    /// How long tasks may take to run, update or stop.
    wait: Duration,
}

/// Runs the steps; on an error, prints it and exits 1.
fn main() {
    tug_sdk::main(run);
}

/// Reads the command line.
fn args() -> Result<Args> {
    let mut a = Args {
        engine: None,
        image: "tug-test/busybox:latest".into(),
        replicas: 4,
        scale: 0,
        update_image: None,
        name: format!("deploy-{}", random_hex()),
        wait: Duration::from_secs(90),
    };
    let mut scale = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || -> Result<u64> {
            Ok(value
                .parse()
                .map_err(|_| format!("{flag}: not a number: {value:?}"))?)
        };
        match flag.as_str() {
            "--engine" => a.engine = Some(value),
            "--image" => a.image = value,
            "--replicas" => a.replicas = number()?,
            "--scale" => scale = Some(number()?),
            "--update-image" => a.update_image = Some(value),
            "--name" => a.name = value,
            "--timeout" => a.wait = Duration::from_secs(number()?),
            other => return Err(format!("unknown argument {other:?} (see the plugin's README)").into()),
        }
    }
    a.scale = scale.unwrap_or(a.replicas + 2);
    Ok(a)
}

/// Eight random hex digits (std's hash keys come from `wasi:random`).
fn random_hex() -> String {
    let n = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{:08x}", n as u32)
}

/// The seconds since `started`, for the end of a step's line.
fn took(started: Instant) -> String {
    format!("({:.2} s)", started.elapsed().as_secs_f64())
}

/// `d` in nanoseconds, as the swarm's specs want durations.
fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// `value` as text, `?` if the engine did not say.
fn or_unknown(value: Option<impl std::fmt::Display>) -> String {
    value.map_or("?".into(), |v| v.to_string())
}

/// Calls `check` every [`POLL`] until it gives something, or `wait` has passed (then `None`).
fn poll<T>(wait: Duration, mut check: impl FnMut() -> Result<Option<T>>) -> Result<Option<T>> {
    let deadline = Instant::now() + wait;
    loop {
        if let Some(value) = check()? {
            return Ok(Some(value));
        }
        if Instant::now() > deadline {
            return Ok(None);
        }
        std::thread::sleep(POLL);
    }
}

/// All the steps; the service, once deployed, is removed whatever happens next.
fn run() -> Result<()> {
    let a = args()?;
    let docker = match &a.engine {
        Some(name) => Docker::open(name).map_err(|e| format!("opening engine {name}: {e}"))?,
        None => Docker::from_env()?,
    };
    let nodes = check_swarm(&docker)?;
    let started = Instant::now();
    let service = docker.services().create(&service_spec(&a), None).map_err(|e| {
        let hint = match &e {
            Error::Denied { rule, .. } if rule == "registries" => {
                "; every node pulls a service's image, so the policy wants it from a registry it allows: \
                     pass --image REGISTRY/NAME:TAG (tagged so on every node if the registry is unreachable)"
            }
            _ => "",
        };
        format!("creating service {}: {e}{hint}", a.name)
    })?;
    println!(
        "deployed: service {} ({}), {} replica(s) of {} {}",
        a.name,
        service.short_id(),
        a.replicas,
        a.image,
        took(started)
    );
    let mut d = Deployment {
        docker,
        service,
        nodes,
        wait: a.wait,
    };
    let outcome = d.steps(&a);
    if outcome.is_err() {
        eprintln!("removing service {} after the failure", a.name);
    }
    let removed = d.remove();
    match (outcome, removed) {
        (Err(e), Err(r)) => Err(format!("{e} (and removing the service failed: {r})").into()),
        (Err(e), Ok(())) | (Ok(()), Err(e)) => Err(e),
        (Ok(()), Ok(())) => Ok(()),
    }
}

/// Step 1: the engine must be a swarm manager; prints the swarm and its nodes, and returns the nodes' host
/// names by ID.
fn check_swarm(docker: &Docker) -> Result<BTreeMap<String, String>> {
    let started = Instant::now();
    let engine = docker.name();
    let info = docker.info()?.swarm.unwrap_or_default();
    let problem = match (&info.local_node_state, info.control_available) {
        (Some(LocalNodeState::Active), Some(true)) => None,
        (Some(LocalNodeState::Active), _) => {
            Some("a swarm worker, not a manager: deploy through a manager".into())
        }
        (state, _) => Some(format!(
            "not part of a swarm (node state {:?}): make it a swarm manager first (`docker swarm init`)",
            or_unknown(state.as_ref())
        )),
    };
    if let Some(problem) = problem {
        return Err(format!("engine {engine} is {problem}").into());
    }
    let swarm = docker
        .swarm()
        .inspect()
        .map_err(|e| format!("engine {engine}: swarm inspect: {e}"))?;
    let nodes = docker.nodes().list(Default::default())?;
    println!(
        "swarm: engine {engine} is a manager of swarm {}, {} node(s) {}",
        short_id(swarm.id.as_deref().unwrap_or("?")),
        nodes.len(),
        took(started)
    );
    let mut names = BTreeMap::new();
    for node in &nodes {
        let a = &node.attrs;
        let host = or_unknown(a.description.as_ref().and_then(|d| d.hostname.as_ref()));
        let spec = a.spec.clone().unwrap_or_default();
        let leader = a.manager_status.as_ref().and_then(|m| m.leader) == Some(true);
        println!(
            "node {host}: {}{}, {}, {}",
            or_unknown(spec.role.as_ref()),
            if leader { " (leader)" } else { "" },
            or_unknown(a.status.as_ref().and_then(|s| s.state.as_ref())),
            or_unknown(spec.availability.as_ref())
        );
        names.insert(node.id.clone(), host);
    }
    Ok(names)
}

/// Step 2's spec: `replicas` tasks of `image` spread over the nodes, updated one at a time (rolled back
/// if a new task fails), restarted on failure, no published ports.
fn service_spec(a: &Args) -> ServiceSpec {
    let labels = BTreeMap::from([(LABEL.to_owned(), a.name.clone())]);
    let spread = TaskSpecPlacementPreferencesItem {
        spread: Some(TaskSpecPlacementPreferencesItemSpread {
            spread_descriptor: Some("node.id".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let env = ["TASK_SLOT={{.Task.Slot}}", "NODE={{.Node.Hostname}}", "VERSION=1"];
    ServiceSpec {
        name: Some(a.name.clone()),
        labels: Some(labels.clone()),
        task_template: Some(TaskSpec {
            container_spec: Some(TaskSpecContainerSpec {
                image: Some(a.image.clone()),
                command: Some(vec!["sh".into(), "-c".into(), SCRIPT.into()]),
                env: Some(env.map(String::from).to_vec()),
                labels: Some(labels),
                stop_grace_period: Some(nanos(Duration::from_secs(2))),
                ..Default::default()
            }),
            restart_policy: Some(TaskSpecRestartPolicy {
                condition: Some(TaskSpecRestartPolicyCondition::OnFailure),
                delay: Some(nanos(Duration::from_secs(1))),
                max_attempts: Some(3),
                ..Default::default()
            }),
            placement: Some(TaskSpecPlacement {
                preferences: Some(vec![spread]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        mode: Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(i64::try_from(a.replicas).unwrap_or(i64::MAX)),
                ..Default::default()
            }),
            ..Default::default()
        }),
        update_config: Some(ServiceSpecUpdateConfig {
            parallelism: Some(1),
            delay: Some(nanos(Duration::from_millis(500))),
            failure_action: Some(ServiceSpecUpdateConfigFailureAction::Rollback),
            monitor: Some(nanos(Duration::from_secs(1))),
            max_failure_ratio: Some(0.0),
            order: Some(ServiceSpecUpdateConfigOrder::StopFirst),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A moment [`ready`] can wait for next to a stream, to follow it with a deadline.
struct Deadline(monotonic_clock::Instant);

impl Deadline {
    /// `d` from now.
    fn after(d: Duration) -> Self {
        Deadline(monotonic_clock::now().saturating_add(d.as_nanos() as u64))
    }
}

impl Waitable for Deadline {
    /// Ready once the moment has come.
    fn pollable(&self) -> Pollable {
        monotonic_clock::subscribe_instant(self.0)
    }
}

/// Takes the first whole line out of `buf`, if it holds one.
fn take_line(buf: &mut Vec<u8>) -> Option<String> {
    let end = buf.iter().position(|&b| b == b'\n')?;
    let line: Vec<u8> = buf.drain(..=end).collect();
    Some(String::from_utf8_lossy(&line[..end]).into_owned())
}

/// A line of service logs read with `details`, `com.docker.swarm.node.id=…,…,com.docker.swarm.task.id=ID
/// TEXT`: the task's ID and the text.
fn split_details(line: &str) -> (Option<&str>, &str) {
    let (attrs, text) = line.split_once(' ').unwrap_or(("", line));
    (
        attrs
            .split(',')
            .find_map(|kv| kv.strip_prefix("com.docker.swarm.task.id=")),
        text,
    )
}

/// Whether the task is on a node and not stopped yet.
fn active(task: &Task) -> bool {
    use TaskState::*;
    matches!(
        task.state(),
        Some(Assigned | Accepted | Preparing | Ready | Starting | Running)
    )
}

/// Whether the task's spec is the updated one: [`UPDATED`] in its environment, and `image` if given.
fn updated(task: &Task, image: Option<&str>) -> bool {
    let container = task.attrs.spec.as_ref().and_then(|s| s.container_spec.as_ref());
    let env = container.and_then(|c| c.env.as_ref());
    let image_ok = image.is_none_or(|i| container.and_then(|c| c.image.as_deref()) == Some(i));
    image_ok && env.is_some_and(|env| env.iter().any(|e| e == UPDATED))
}

impl Deployment {
    /// Steps 3 to 6: wait for the tasks, scale, follow the logs, roll an update.
    fn steps(&mut self, a: &Args) -> Result<()> {
        let started = Instant::now();
        let n = a.replicas as usize;
        let running = self.wait_running(n, "deploy", |_| true)?;
        let spread = self.per_node(&running);
        println!("running: {n}/{n} on {spread} node(s) {}", took(started));

        let started = Instant::now();
        self.service.reload()?;
        self.service.scale(a.scale)?;
        let m = a.scale as usize;
        let running = self.wait_running(m, "scale", |_| true)?;
        let spread = self.per_node(&running);
        println!("scaled: {m}/{m} on {spread} node(s) {}", took(started));

        self.follow_logs(&running)?;
        self.rolling_update(m, a.update_image.as_deref())
    }

    /// The node's host name, else its short ID.
    fn node_name(&self, id: Option<&str>) -> String {
        let id = id.unwrap_or("?");
        self.nodes
            .get(id)
            .cloned()
            .unwrap_or_else(|| short_id(id).to_owned())
    }

    /// The service's tasks, filtered by `more` pairs as well.
    fn tasks(&self, more: &[(&str, &str)]) -> Result<Vec<Task>> {
        let mut pairs = vec![("service", self.service.id.as_str())];
        pairs.extend_from_slice(more);
        Ok(self.docker.tasks().list(tasks::ListOptions {
            filters: Some(filters(pairs)),
        })?)
    }

    /// What the service's tasks are doing, for an error: `2× slot 1 on vm: rejected (wants shutdown): …`.
    fn task_states(&self) -> String {
        let tasks = match self.tasks(&[]) {
            Ok(tasks) => tasks,
            Err(e) => return format!("(its tasks could not be listed: {e})"),
        };
        let mut states: BTreeMap<String, usize> = BTreeMap::new();
        for t in &tasks {
            let status = t.attrs.status.clone().unwrap_or_default();
            let why = status.err.or(status.message).unwrap_or_default();
            let state = format!(
                "slot {} on {}: {} (wants {}): {why}",
                or_unknown(t.attrs.slot),
                self.node_name(t.attrs.node_id.as_deref()),
                or_unknown(t.state()),
                or_unknown(t.desired_state())
            );
            *states.entry(state).or_default() += 1;
        }
        let states: Vec<String> = states.iter().map(|(s, k)| format!("{k}× {s}")).collect();
        format!("its tasks: [{}]", states.join("; "))
    }

    /// Waits until `n` tasks of the service that `fit` run (and should), and returns them; `step` names
    /// the step in the error, which says what every task is doing.
    fn wait_running(&self, n: usize, step: &str, fit: impl Fn(&Task) -> bool) -> Result<Vec<Task>> {
        let mut count = 0;
        let running = poll(self.wait, || {
            let running: Vec<Task> = self
                .tasks(&[("desired-state", "running")])?
                .into_iter()
                .filter(|t| t.state() == Some(&TaskState::Running) && fit(t))
                .collect();
            count = running.len();
            Ok((count >= n).then_some(running))
        })?;
        running.ok_or_else(|| {
            let (secs, states) = (self.wait.as_secs(), self.task_states());
            format!("{step}: {count} of {n} task(s) running after {secs} s; {states}").into()
        })
    }

    /// Prints how many of `tasks` run on each node; returns the number of nodes.
    fn per_node(&self, tasks: &[Task]) -> usize {
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for t in tasks {
            *count
                .entry(self.node_name(t.attrs.node_id.as_deref()))
                .or_default() += 1;
        }
        for (node, k) in &count {
            println!("tasks on {node}: {k}");
        }
        count.len()
    }

    /// Step 5: follows the service's logs until each of the `running` tasks has written its first line
    /// (printed prefixed by the task: `[service.slot@node]`), or [`LOGS_WAIT`] has passed.
    fn follow_logs(&self, running: &[Task]) -> Result<()> {
        let started = Instant::now();
        let name = self.service.name().unwrap_or_default();
        let prefix: BTreeMap<&str, String> = running
            .iter()
            .map(|t| {
                let node = self.node_name(t.attrs.node_id.as_deref());
                (
                    t.id.as_str(),
                    format!("{name}.{}@{node}", or_unknown(t.attrs.slot)),
                )
            })
            .collect();
        let mut logs = self.service.logs(service_streams::LogsOptions {
            details: Some(true),
            follow: Some(true),
            stdout: Some(true),
            stderr: Some(true),
            ..Default::default()
        })?;
        let deadline = Deadline::after(LOGS_WAIT);
        let mut partial = [Vec::new(), Vec::new()];
        let (mut lines, mut seen) = (0, BTreeSet::new());
        while seen.len() < prefix.len() {
            let waiting: [&dyn Waitable; 2] = [&logs, &deadline];
            if !ready(&waiting).contains(&0) {
                break; // only the deadline
            }
            let Some(frame) = logs.next() else {
                break;
            };
            let frame = frame?;
            let which = usize::from(frame.stream != StreamKind::Stdout);
            partial[which].extend_from_slice(&frame.data);
            while let Some(line) = take_line(&mut partial[which]) {
                lines += 1;
                let (task, text) = split_details(&line);
                if let Some((id, prefix)) = task.and_then(|t| prefix.get_key_value(t)) {
                    if seen.insert(*id) {
                        println!("[{prefix}] {text}");
                    }
                }
            }
        }
        drop(logs);
        let silent: Vec<&str> = prefix
            .iter()
            .filter(|(id, _)| !seen.contains(*id))
            .map(|(_, p)| p.as_str())
            .collect();
        if !silent.is_empty() {
            let secs = LOGS_WAIT.as_secs();
            return Err(format!(
                "logs: no line from {} after {secs} s ({lines} line(s) read)",
                silent.join(", ")
            )
            .into());
        }
        println!(
            "logs: {lines} line(s), the first of each of {} task(s) {}",
            seen.len(),
            took(started)
        );
        Ok(())
    }

    /// Step 6: sets [`UPDATED`] in the tasks' environment (and `image`, if given), waits until the engine
    /// says the update completed and `m` tasks of the new spec run. A paused or rolled back update fails.
    fn rolling_update(&mut self, m: usize, image: Option<&str>) -> Result<()> {
        let started = Instant::now();
        self.service.reload()?;
        let mut spec = self.service.attrs.spec.clone().unwrap_or_default();
        let task = spec.task_template.get_or_insert_with(Default::default);
        let container = task.container_spec.get_or_insert_with(Default::default);
        let env = container.env.get_or_insert_with(Default::default);
        env.retain(|e| !e.starts_with("VERSION="));
        env.push(UPDATED.into());
        if let Some(image) = image {
            container.image = Some(image.into());
        }
        for warning in self.service.update(&spec, None)?.warnings.unwrap_or_default() {
            eprintln!("update: {warning}");
        }
        let mut last = String::from("none yet");
        let completed = poll(self.wait, || {
            self.service.reload()?;
            let status = self.service.attrs.update_status.clone().unwrap_or_default();
            last = format!(
                "{}: {}",
                or_unknown(status.state.as_ref()),
                status.message.unwrap_or_default()
            );
            match status.state {
                Some(ServiceUpdateStatusState::Completed) => Ok(Some(())),
                // Not started yet, or under way.
                None | Some(ServiceUpdateStatusState::Updating) => Ok(None),
                // `paused`, `rollback_started`, `rollback_completed`…
                Some(_) => Err(format!("update: UpdateStatus {last}; {}", self.task_states()).into()),
            }
        })?;
        if completed.is_none() {
            let secs = self.wait.as_secs();
            let states = self.task_states();
            return Err(
                format!("update: not completed after {secs} s (UpdateStatus {last}); {states}").into(),
            );
        }
        let running = self.wait_running(m, "update", |t| updated(t, image))?;
        println!(
            "updated: completed, {}/{m} task(s) run {UPDATED} {}",
            running.len(),
            took(started)
        );
        Ok(())
    }

    /// Scales the service to 0 and waits until none of its tasks is active; returns how many were.
    fn drain(&self) -> Result<usize> {
        let active_tasks = || -> Result<usize> { Ok(self.tasks(&[])?.iter().filter(|t| active(t)).count()) };
        let before = active_tasks()?;
        let mut fresh = self.service.clone();
        fresh.reload()?;
        fresh.scale(0)?;
        let mut left = before;
        let drained = poll(self.wait, || {
            left = active_tasks()?;
            Ok((left == 0).then_some(()))
        })?;
        match drained {
            Some(()) => Ok(before),
            None => Err(format!("{left} task(s) still active after {} s", self.wait.as_secs()).into()),
        }
    }

    /// Step 7: drains the service (its tasks stop on every node, in sight: once the service is gone, a
    /// policy that scopes task lists to the run's services lists none of them), removes it, and waits
    /// until this engine has none of its containers left.
    fn remove(&self) -> Result<()> {
        let started = Instant::now();
        let name = self.service.name().unwrap_or(&self.service.id);
        let stopped = self.drain().unwrap_or_else(|e| {
            eprintln!("remove: draining {name} failed ({e}); removing it anyway");
            0
        });
        match self.service.remove() {
            Err(e) if !e.is_not_found() => return Err(format!("removing service {name}: {e}").into()),
            _ => {}
        }
        let label = format!("com.docker.swarm.service.id={}", self.service.id);
        let mut left = 0;
        let gone = poll(self.wait, || {
            left = (self.docker.containers())
                .list_summaries(containers::ListOptions {
                    all: Some(true),
                    filters: Some(filters([("label", label.as_str())])),
                    ..Default::default()
                })?
                .len();
            Ok((left == 0).then_some(()))
        })?;
        if gone.is_none() {
            let secs = self.wait.as_secs();
            return Err(format!(
                "removed service {name}, but {left} container(s) of it are left after {secs} s"
            )
            .into());
        }
        println!(
            "removed: service {name}, {stopped} task(s) stopped {}",
            took(started)
        );
        Ok(())
    }
}
