//! What the docker CLI really sends: its request bodies for container, exec, network, volume, swarm,
//! service, secret, config and node operations, captured through the recording proxy in front of a
//! daemon of the test's own (`tug_e2e::dockerd`, so that initialising a swarm and creating services never
//! touches the shared daemon; everything it made goes with it).
//!
//! Every body the CLI sends must be one tug's canonical bodies accept (rules aside: those are
//! `runtime/tests/client_bodies.rs`, which checks the committed capture without a daemon). With
//! `TUG_UPDATE_FIXTURES=1` the capture is written to `runtime/tests/fixtures/docker_cli_bodies.json`.

use std::process::{Command, Stdio};

use serde_json::{json, Value};
use tug::policy::{canonical, operations::FUNCTIONS, Op};
use tug_e2e::{dockerd::Dockerd, proxy::Proxy, workspace_root, TEST_IMAGE};

/// The commands, in order: (what, command line, standard input). In a command line, `{label}` is a label
/// on everything the commands create, `{image}` the test image, `{env_file}`, `{secret}` and `{config}`
/// files the test writes, `{node}` the daemon's swarm node id; words are split on spaces. A command may fail
/// (a daemon without a GPU, a node already in a swarm): only what it sent counts, and each sends a body.
#[rustfmt::skip]
const COMMANDS: &[(&str, &str, Option<&str>)] = &[
    ("network create: bridge with IPAM and options",
     "network create --label {label} --driver bridge --subnet 10.99.0.0/24 --ip-range 10.99.0.0/25 \
      --gateway 10.99.0.1 --aux-address reserved=10.99.0.2 --opt com.docker.network.bridge.name=br-capture \
      --ipam-opt a=b --internal --attachable capture-net", None),
    ("network create: defaults", "network create --label {label} capture-net2", None),
    ("volume create: local driver options",
     "volume create --label {label} --driver local --opt type=tmpfs --opt device=tmpfs --opt o=size=1m \
      capture-vol", None),
    ("volume create: defaults", "volume create --label {label}", None),
    ("run -d: a container to exec in", "run -d --label {label} --name capture-target {image} sleep 600", None),
    ("create: many flags",
     "create --label {label} --name capture-full --hostname h --domainname example.com --user 1000:1000 \
      --workdir /srv --env A=1 --env-file {env_file} --label b=2 --expose 7000 --publish 127.0.0.1:8080:80 \
      --publish 53/udp --volume capture-vol:/data:ro --volume /data2 \
      --mount type=volume,source=capture-vol,target=/m1,volume-nocopy,volume-label=x=y \
      --mount type=tmpfs,target=/m2,tmpfs-size=1m,tmpfs-mode=1777 --tmpfs /run:size=1m --dns 10.0.0.53 \
      --dns-option ndots:2 --dns-search example.com --add-host db:10.0.0.2 --cap-drop MKNOD \
      --security-opt no-new-privileges --cpus 0.5 --cpu-shares 512 --cpuset-cpus 0 --memory 64m \
      --memory-swap 128m --memory-reservation 32m --pids-limit 100 --shm-size 64m --ulimit nofile=1024:2048 \
      --log-driver json-file --log-opt max-size=1m --restart on-failure:3 --health-cmd true \
      --health-interval 2s --health-retries 3 --health-timeout 1s --health-start-period 1s --init \
      --read-only --stop-signal SIGINT --stop-timeout 5 --sysctl net.ipv4.ip_forward=1 --group-add audio \
      --oom-score-adj 100 --network capture-net --network-alias web --ip 10.99.0.10 --entrypoint /bin/sh \
      --blkio-weight 300 --ipc private --cgroupns private --isolation default --runtime runc --interactive \
      --tty {image} -c true", None),
    ("create: escapes (privileged, host namespaces, binds, devices, capabilities)",
     "create --label {label} --privileged --pid host --uts host --userns host --network host \
      --volume /:/host:ro --mount type=bind,source=/,target=/b --device /dev/null:/dev/xnull:rwm \
      --device-cgroup-rule c~1:3~mr --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
      --volumes-from capture-target {image} true", None),
    ("create: links, container namespaces, GPUs, storage options",
     "create --label {label} --link capture-target:db --ipc container:capture-target --gpus all \
      --storage-opt size=1G {image} true", None),
    ("create: network container:", "create --label {label} --network container:capture-target {image} true", None),
    ("run --rm: attached", "run --rm --label {label} {image} true", None),
    ("exec: options", "exec --env A=1 --workdir / --user root capture-target true", None),
    ("exec: detached, privileged", "exec --detach --privileged capture-target true", None),
    ("exec: interactive with detach keys", "exec --interactive --detach-keys ctrl-x capture-target cat", Some("x")),
    ("network connect: alias, ip, link",
     "network connect --alias a --ip 10.99.0.20 --link capture-target:t capture-net capture-target", None),
    ("network disconnect: force", "network disconnect --force capture-net capture-target", None),
    ("update: resources and restart policy",
     "update --cpus 0.5 --cpu-shares 256 --memory 96m --memory-swap 192m --memory-reservation 48m \
      --pids-limit 200 --blkio-weight 400 --restart unless-stopped --cpuset-cpus 0 capture-target", None),
    ("login: a registry nobody answers", "login --username u --password-stdin 127.0.0.1:5999", Some("pw\n")),
    ("swarm init: options",
     "swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 --default-addr-pool 10.77.0.0/16 \
      --default-addr-pool-mask-length 24 --task-history-limit 3 --cert-expiry 2160h0m0s \
      --dispatcher-heartbeat 5s --data-path-port 4790", None),
    ("swarm update: options",
     "swarm update --task-history-limit 4 --snapshot-interval 5000 --max-snapshots 1 --cert-expiry 720h0m0s",
     None),
    ("swarm join: while in a swarm",
     "swarm join --token SWMTKN-1-0000000000000000000000000000000000000000000000000-0000000000000000000000000 \
      --listen-addr 127.0.0.1:2378 --advertise-addr 127.0.0.1 127.0.0.1:2377", None),
    ("node update: labels and availability", "node update --label-add a=b --availability active {node}", None),
    ("secret create: labels", "secret create --label {label} capture-secret {secret}", None),
    ("config create: labels and template driver",
     "config create --label {label} --template-driver golang capture-config {config}", None),
    ("network create: overlay", "network create --label {label} --driver overlay --attachable capture-overlay",
     None),
    ("service create: many flags",
     "service create --detach --no-resolve-image --name capture-web --label {label} --container-label c=d \
      --replicas 2 --env A=1 --mount type=volume,source=capture-svc-vol,target=/data \
      --secret source=capture-secret,target=s,mode=0400 --config source=capture-config,target=/c \
      --network name=capture-overlay,alias=web --publish published=8081,target=80 \
      --constraint node.role==manager --placement-pref spread=node.labels.zone --update-parallelism 2 \
      --update-delay 1s --update-failure-action rollback --update-order start-first \
      --rollback-parallelism 1 --restart-condition on-failure --restart-max-attempts 3 --limit-cpu 0.5 \
      --limit-memory 64m --reserve-cpu 0.1 --reserve-memory 16m --health-cmd true --health-interval 2s \
      --dns 10.0.0.53 --host db:10.0.0.2 --hostname h --init --read-only --stop-signal SIGINT \
      --stop-grace-period 5s --user nobody --workdir / --cap-add NET_ADMIN --cap-drop MKNOD \
      --sysctl net.core.somaxconn=1024 --ulimit nofile=1024:2048 --log-driver json-file \
      --log-opt max-size=1m --tty --group audio {image} sleep 600", None),
    ("service create: global",
     "service create --detach --no-resolve-image --name capture-global --label {label} --mode global \
      {image} sleep 600", None),
    ("service create: replicated job",
     "service create --detach --no-resolve-image --name capture-job --label {label} --mode replicated-job \
      --replicas 2 --max-concurrent 1 {image} true", None),
    ("service update: replicas, env, image",
     "service update --detach --no-resolve-image --replicas 1 --env-add B=2 --label-add e=f --image {image} \
      --force capture-web", None),
    ("service scale", "service scale --detach capture-web=3", None),
    ("service rollback", "service rollback --detach capture-web", None),
];

/// A command line's words with its placeholders filled (`~` in a word stands for a space).
fn words(line: &str, vars: &[(&str, String)]) -> Vec<String> {
    line.split_whitespace()
        .map(|w| {
            let mut w = w.replace('~', " ");
            for (name, value) in vars {
                w = w.replace(&format!("{{{name}}}"), value);
            }
            w
        })
        .collect()
}

/// The operation a request is, by the operation table's method and route (`{…}` one path segment).
fn operation(method: &str, target: &str) -> Option<Op> {
    let path = target.split('?').next().unwrap_or_default();
    let path = match path.strip_prefix("/v") {
        Some(rest) => rest.find('/').map_or(path, |i| &rest[i..]),
        None => path,
    };
    let segments: Vec<&str> = path.split('/').collect();
    FUNCTIONS.iter().find_map(|f| {
        let route: Vec<&str> = f.path.split('/').collect();
        let matches = f.method == Some(method)
            && route.len() == segments.len()
            && route
                .iter()
                .zip(&segments)
                .all(|(r, s)| r == s || (r.starts_with('{') && !s.is_empty()));
        (matches && f.op.body().is_some()).then_some(f.op)
    })
}

fn cli_version() -> String {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Client.Version}}"])
        .output()
        .expect("running docker");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn docker_cli_bodies_are_canonical() {
    let daemon = Dockerd::start().expect("a daemon of the test's own");
    // Its network namespace starts with loopback down: a swarm listens there.
    let pid = std::fs::read_to_string(daemon.dir().join("pid")).expect("the daemon's pidfile");
    let up = Command::new("nsenter")
        .arg(format!("--net=/proc/{}/ns/net", pid.trim()))
        .args(["ip", "link", "set", "lo", "up"])
        .status()
        .expect("running nsenter");
    assert!(
        up.success(),
        "bringing up loopback in the test daemon's namespace"
    );
    let proxy = Proxy::start(&daemon.socket());
    let config = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let version = cli_version();
    let mut captured = Vec::new();
    let file = |name: &str, text: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let mut vars = vec![
        ("label", "tug-capture=1".to_owned()),
        ("image", TEST_IMAGE.to_owned()),
        ("env_file", file("env.list", "FROM_FILE=1\n")),
        ("secret", file("secret.txt", "s3cret")),
        ("config", file("config.txt", "{{ .Service.Name }}")),
    ];
    for (what, line, stdin) in COMMANDS {
        if line.contains("{node}") && !vars.iter().any(|(n, _)| *n == "node") {
            let id = daemon.docker(&["info", "--format", "{{.Swarm.NodeID}}"]).unwrap();
            vars.push(("node", id.trim().to_owned()));
        }
        let args = words(line, &vars);
        let before = proxy.exchanges().len();
        let mut child = Command::new("docker")
            .args(&args)
            .env("DOCKER_HOST", proxy.url())
            .env("DOCKER_CONFIG", config.path())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running docker");
        if let Some(text) = stdin {
            use std::io::Write;
            let _ = child.stdin.take().unwrap().write_all(text.as_bytes());
        }
        let out = child.wait_with_output().expect("waiting for docker");
        match out.status.success() {
            true => eprintln!("docker {what}: ok"),
            false => eprintln!(
                "docker {what}: failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }
        let mut sent = 0;
        for e in &proxy.exchanges()[before..] {
            let Some(op) = operation(&e.method, &e.target) else {
                continue;
            };
            if e.body.is_empty() {
                continue;
            }
            let body: Value = serde_json::from_slice(&e.body)
                .unwrap_or_else(|err| panic!("docker {what}: {} {}: not JSON: {err}", e.method, e.target));
            sent += 1;
            captured.push(json!({
                "operation": op.id(),
                "case": format!("docker {what} (CLI {version})"),
                "body": body,
            }));
        }
        assert!(
            sent > 0,
            "docker {what} sent no body the operation table knows: {:?}",
            args
        );
    }
    let mut refused = Vec::new();
    for c in &captured {
        let op = Op::from_id(c["operation"].as_str().unwrap()).unwrap();
        let bytes = serde_json::to_vec(&c["body"]).unwrap();
        if let Err(e) = canonical::canonicalize(op.body().unwrap(), &bytes) {
            refused.push(format!("{} {}: {} {e}", c["operation"], c["case"], e.rule()));
        }
    }
    if std::env::var_os("TUG_UPDATE_FIXTURES").is_some_and(|v| v == "1") {
        let path = workspace_root().join("runtime/tests/fixtures/docker_cli_bodies.json");
        let mut text = serde_json::to_string_pretty(&captured).unwrap();
        text.push('\n');
        std::fs::write(&path, text).unwrap();
        eprintln!("wrote {} bodies to {}", captured.len(), path.display());
    }
    assert!(
        refused.is_empty(),
        "the CLI's bodies tug refuses:\n{}",
        refused.join("\n")
    );
    drop(daemon);
}
