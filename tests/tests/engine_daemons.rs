//! The extra Docker daemons the end-to-end tests reach tug's engines with, checked on their own: a daemon
//! with a TLS listener on 127.0.0.1 (the right client certificate answered, the wrong one refused), an
//! sshd whose `docker system dial-stdio` reaches a test daemon, a daemon killed hard and restarted on its
//! data-root (and one killed and dropped, leaving nothing), and a real two-node swarm spreading four
//! replicas over both nodes. Each test checks that what it made is gone after it.

use std::{
    io::{Read, Write},
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use tug::engine::{Client, EngineConfig, Request};
use tug_e2e::{
    dockerd::{Dockerd, DockerdOptions, Network},
    host::{self, alive},
    sshd::Sshd,
    swarm_pair::SwarmPair,
    unique, TEST_IMAGE,
};

const SERVER_VERSION: &str = "{{.Server.Version}}";
const ROOT_DIR: &str = "{{.DockerRootDir}}";

fn ok<T>(r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// Pings the engine of a configuration with tug's own client; `/info`'s `DockerRootDir` on success.
fn tug_root_dir(config: EngineConfig) -> Result<String, String> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = Client::new(config).map_err(|e| e.to_string())?;
        client.ping().await.map_err(|e| e.to_string())?;
        let info: serde_json::Value = client
            .json(Request::get("/info"))
            .await
            .map_err(|e| e.to_string())?;
        Ok(info["DockerRootDir"].as_str().unwrap_or_default().to_owned())
    })
}

/// What a dropped daemon must not leave: processes naming its directory, mounts under it, the directory.
fn assert_gone(dir: &Path) {
    let dir_text = dir.to_string_lossy().into_owned();
    let left = host::processes_of(&format!("{dir_text}/"));
    assert!(left.is_empty(), "processes of {dir_text} outlived it: {left:#?}");
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    assert!(
        !mounts.contains(&format!(" {dir_text}/")) && !mounts.contains(&format!(" {dir_text} ")),
        "mounts under {dir_text} outlived it"
    );
    assert!(!dir.exists(), "{dir_text} outlived it");
}

fn link_exists(name: &str) -> bool {
    Command::new("ip")
        .args(["link", "show", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_tls_daemon_answers_the_right_client_certificate_and_refuses_the_wrong_one() {
    let started = Instant::now();
    let daemon = ok(Dockerd::start_tls());
    eprintln!("TLS daemon up in {:.2} s", started.elapsed().as_secs_f64());
    let tls = daemon.tls().expect("the daemon's certificates");
    let url = daemon.tcp_url().expect("a TCP listener");
    assert!(url.starts_with("tcp://127.0.0.1:"), "{url}");
    let root = daemon.dir().join("data").display().to_string();

    // The docker CLI with the right client certificate reaches this daemon (not the host's).
    let version = ok(daemon.docker(&["version", "--format", SERVER_VERSION]));
    let over_tls = ok(daemon.docker_tls(&tls.client_dir(), &["version", "--format", SERVER_VERSION]));
    assert_eq!(over_tls.trim(), version.trim());
    let over_tls = ok(daemon.docker_tls(&tls.client_dir(), &["info", "--format", ROOT_DIR]));
    assert_eq!(over_tls.trim(), root);

    // The wrong client certificate (another CA's) and no certificate at all are refused by the daemon.
    let refused = daemon
        .docker_tls(&tls.wrong_client_dir(), &["version", "--format", SERVER_VERSION])
        .expect_err("the daemon accepted a client certificate of another CA");
    assert!(refused.contains("bad certificate"), "{refused}");
    let anonymous = host::run(
        Command::new("docker")
            .args(["--tlsverify", "--tlscacert"])
            .arg(tls.ca_cert())
            .args(["-H", &url, "version", "--format", SERVER_VERSION]),
    )
    .expect_err("the daemon accepted a client without a certificate");
    assert!(anonymous.contains("certificate"), "{anonymous}");

    // tug's client, configured as from DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.
    let config = |cert_dir: &Path| {
        let cert_dir = cert_dir.display().to_string();
        let lookup = |k: &str| match k {
            "DOCKER_HOST" => Some(url.clone()),
            "DOCKER_TLS_VERIFY" => Some("1".to_owned()),
            "DOCKER_CERT_PATH" => Some(cert_dir.clone()),
            _ => None,
        };
        EngineConfig::from_lookup(lookup, daemon.dir()).unwrap()
    };
    assert_eq!(ok(tug_root_dir(config(&tls.client_dir()))), root);
    let refused = tug_root_dir(config(&tls.wrong_client_dir()))
        .expect_err("tug reached the daemon with the wrong client certificate");
    assert!(refused.to_lowercase().contains("certificate"), "{refused}");

    // Its containers sit on its own bridge, never on docker0.
    let bridge = daemon.bridge().expect("a bridge of its own");
    let routes = ok(daemon.docker(&["run", "--rm", TEST_IMAGE, "ip", "-4", "route"]));
    assert!(
        routes.contains(&format!("default via {}", bridge.gateway())),
        "{routes}"
    );

    let (dir, bridge) = (daemon.dir().to_owned(), bridge.name().to_owned());
    let addr = daemon.tcp_addr().unwrap();
    drop(daemon);
    assert_gone(&dir);
    assert!(!link_exists(&bridge), "the bridge {bridge} outlived the daemon");
    assert!(!host::accepts_tcp(&addr), "{addr} still accepts connections");
    eprintln!("the whole TLS test took {:.2} s", started.elapsed().as_secs_f64());
}

#[test]
fn a_plain_tcp_daemon_answers_on_127_0_0_1() {
    let started = Instant::now();
    let daemon = ok(DockerdOptions::new()
        .network(Network::HostBridge)
        .tcp()
        .without_image()
        .start());
    eprintln!("TCP daemon up in {:.2} s", started.elapsed().as_secs_f64());
    let url = daemon.tcp_url().expect("a TCP listener");
    assert!(url.starts_with("tcp://127.0.0.1:"), "{url}");
    assert!(daemon.tls().is_none() && daemon.https_url().is_none());
    let root = daemon.dir().join("data").display().to_string();
    let over_tcp = ok(host::run_args(
        "docker",
        &["-H", &url, "info", "--format", ROOT_DIR],
    ));
    assert_eq!(over_tcp.trim(), root);
    assert_eq!(ok(tug_root_dir(EngineConfig::from_url(&url).unwrap())), root);
    let (dir, bridge) = (
        daemon.dir().to_owned(),
        daemon.bridge().unwrap().name().to_owned(),
    );
    drop(daemon);
    assert_gone(&dir);
    assert!(!link_exists(&bridge), "the bridge {bridge} outlived the daemon");
}

#[test]
fn ssh_reaches_a_test_daemon_through_docker_system_dial_stdio() {
    let started = Instant::now();
    let daemon = ok(DockerdOptions::new().without_image().start());
    let sshd = ok(Sshd::start(&daemon.url()));
    eprintln!("daemon and sshd up in {:.2} s", started.elapsed().as_secs_f64());
    let url = sshd.url();
    assert_eq!(url, format!("ssh://root@127.0.0.1:{}", sshd.port()));
    let root = daemon.dir().join("data").display().to_string();

    // The command line of tug's ssh transport, running `docker` on the other side.
    let version = ok(daemon.docker(&["version", "--format", SERVER_VERSION]));
    let over_ssh = ok(host::run(&mut sshd.command(&[
        "docker",
        "version",
        "--format",
        SERVER_VERSION,
    ])));
    assert_eq!(over_ssh.trim(), version.trim());
    let over_ssh = ok(host::run(
        &mut sshd.command(&["docker", "info", "--format", ROOT_DIR]),
    ));
    assert_eq!(over_ssh.trim(), root, "ssh reached another daemon");

    // HTTP through `docker system dial-stdio`, as tug speaks it.
    let mut dial = sshd
        .command(&["docker", "system", "dial-stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = dial.stdin.take().unwrap();
    stdin
        .write_all(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
        .unwrap();
    drop(stdin);
    let mut answer = String::new();
    dial.stdout.take().unwrap().read_to_string(&mut answer).unwrap();
    let out = dial.wait_with_output().unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("\r\n\r\nOK"),
        "dial-stdio answered {answer:?} ({}: {})",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );

    // tug's client on the ssh:// URL with the options.
    let mut config = EngineConfig::from_url(&url).unwrap();
    config.ssh_options = sshd.options();
    assert_eq!(ok(tug_root_dir(config)), root);

    // Another key is not let in.
    let other = tempfile::tempdir().unwrap();
    let other_key = other.path().join("key");
    ok(host::run(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&other_key),
    ));
    let key = sshd.key().display().to_string();
    let options = sshd.options().into_iter().map(|o| {
        if o == key {
            other_key.display().to_string()
        } else {
            o
        }
    });
    let mut stranger = Command::new("ssh");
    stranger
        .args([
            "-o",
            "BatchMode=yes",
            "-l",
            "root",
            "-p",
            &sshd.port().to_string(),
        ])
        .args(options)
        .args(["--", "127.0.0.1", "docker", "version"]);
    let refused = host::run(&mut stranger).expect_err("sshd let in a key it does not know");
    assert!(refused.contains("Permission denied"), "{refused}");

    let (dir, port) = (daemon.dir().to_owned(), sshd.port());
    drop(sshd);
    assert!(
        !host::accepts_tcp(&format!("127.0.0.1:{port}")),
        "sshd still listens on {port}"
    );
    drop(daemon);
    assert_gone(&dir);
    eprintln!("the whole ssh test took {:.2} s", started.elapsed().as_secs_f64());
}

#[test]
fn a_killed_daemon_restarts_on_its_data_root_and_a_dropped_one_leaves_nothing() {
    let started = Instant::now();
    let mut daemon = ok(Dockerd::start());
    eprintln!("daemon up in {:.2} s", started.elapsed().as_secs_f64());
    let name = format!("tug-killed-{}", unique());
    let id = ok(daemon.docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "--stop-signal",
        "KILL",
        TEST_IMAGE,
        "sleep",
        "3600",
    ]));
    let id = id.trim();
    let pid_of = |d: &Dockerd| -> u32 {
        ok(d.docker(&["inspect", "--format", "{{.State.Pid}}", id]))
            .trim()
            .parse()
            .unwrap()
    };
    let container_pid = pid_of(&daemon);

    ok(daemon.kill());
    assert!(!daemon.is_running());
    assert!(daemon.docker(&["version"]).is_err(), "a killed daemon answered");
    // What is left: the shim and the container; no dockerd, no containerd.
    let left = daemon.processes();
    assert!(
        left.iter()
            .any(|p| p.cmdline.contains("containerd-shim") && p.cmdline.contains(id)),
        "no shim of {id} left: {left:#?}"
    );
    assert!(alive(container_pid), "the container died with the daemon");
    assert!(
        !left
            .iter()
            .any(|p| p.cmdline.starts_with("dockerd") || p.cmdline.starts_with("containerd ")),
        "{left:#?}"
    );

    let restarted = Instant::now();
    ok(daemon.restart());
    eprintln!("restarted in {:.2} s", restarted.elapsed().as_secs_f64());
    // The restarted daemon knows the container and stopped it (no live-restore).
    let state = ok(daemon.docker(&["inspect", "--format", "{{.State.Running}}", id]));
    assert_eq!(state.trim(), "false");
    assert!(
        !alive(container_pid),
        "the restarted daemon left the container running"
    );
    assert!(
        !daemon
            .processes()
            .iter()
            .any(|p| p.cmdline.contains("containerd-shim")),
        "{:#?}",
        daemon.processes()
    );

    // Killed again with the container running, and dropped without a restart: nothing stays.
    ok(daemon.docker(&["start", id]));
    let container_pid = pid_of(&daemon);
    ok(daemon.kill());
    let dir = daemon.dir().to_owned();
    drop(daemon);
    assert!(!alive(container_pid), "the container outlived its dropped daemon");
    assert_gone(&dir);
    eprintln!(
        "the whole kill test took {:.2} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn a_two_node_swarm_spreads_four_replicas_over_both_nodes() {
    let started = Instant::now();
    let pair = ok(SwarmPair::start());
    eprintln!("swarm of two up in {:.2} s", started.elapsed().as_secs_f64());
    let nodes =
        ok(pair
            .manager()
            .docker(&["node", "ls", "--format", "{{.ID}} {{.Status}} {{.ManagerStatus}}"]));
    let mut nodes: Vec<&str> = nodes.lines().map(str::trim_end).collect();
    nodes.sort();
    let mut want = [
        format!("{} Ready Leader", pair.manager_id()),
        format!("{} Ready", pair.worker_id()),
    ];
    want.sort();
    assert_eq!(nodes, want);

    // The manager listens (2377) and gossips (7946) on its own address only.
    let listening = ok(host::run(pair.namespaces()[0].command("ss").args(["-ltn"])));
    for port in ["10.213.0.2:2377", "10.213.0.2:7946"] {
        assert!(listening.contains(port), "{listening}");
    }

    let service = format!("tug-spread-{}", unique());
    ok(pair.manager().docker(&[
        "service",
        "create",
        "--detach",
        "--name",
        &service,
        "--replicas",
        "4",
        "--placement-pref",
        "spread=node.id",
        "--no-resolve-image",
        TEST_IMAGE,
        "sleep",
        "3600",
    ]));
    let per_node = ok(pair.wait_running(&service, 4, Duration::from_secs(60)));
    eprintln!(
        "4 replicas running {:.2} s after the start: {per_node:?}",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(per_node.get(pair.manager_id()), Some(&2), "{per_node:?}");
    assert_eq!(per_node.get(pair.worker_id()), Some(&2), "{per_node:?}");
    // The worker's own daemon runs its two.
    let label = format!("label=com.docker.swarm.service.name={service}");
    let on_worker = ok(pair.worker().docker(&["ps", "-q", "--filter", &label]));
    assert_eq!(on_worker.lines().count(), 2, "{on_worker}");

    let names: Vec<String> = pair.namespaces().iter().map(|n| n.name().to_owned()).collect();
    let dirs = [pair.manager().dir().to_owned(), pair.worker().dir().to_owned()];
    drop(pair);
    for dir in &dirs {
        assert_gone(dir);
    }
    let namespaces = ok(host::run_args("ip", &["netns", "list"]));
    for name in &names {
        assert!(
            !namespaces
                .lines()
                .any(|l| l.split_whitespace().next() == Some(name)),
            "the namespace {name} outlived the swarm"
        );
    }
    eprintln!(
        "the whole swarm test took {:.2} s",
        started.elapsed().as_secs_f64()
    );
}
