//! Engines reached over TLS and ssh, an engine killed mid-run, and a two-node swarm, each a daemon of
//! the test's own (`tests/src/dockerd.rs`, `sshd.rs`, `swarm_pair.rs`): the `fleet` and `swarm-deploy`
//! plugins run against them through `tug run`.

use std::path::Path;
use std::time::{Duration, Instant};

use tug_e2e::{
    dockerd::Dockerd,
    engines::{args, fleet_row, policy_file, run_id},
    plugin,
    sshd::Sshd,
    swarm_pair::SwarmPair,
    tug_run,
};

/// A profile as policy `remote-test`, with `extra` appended.
fn policy(dir: &Path, profile: &str, extra: &str) -> String {
    policy_file(dir, profile, "remote-test", extra)
}

/// Engine `name`'s row in fleet's table.
fn row<'a>(stdout: &'a str, name: &str) -> &'a str {
    fleet_row(stdout, name, 0)
}

/// The containers of run `run` on a daemon of the test's own.
fn containers_of(d: &Dockerd, run: &str) -> Vec<String> {
    tug_e2e::engines::containers_of(&d.url(), run)
}

#[test]
fn a_tls_engine_works_with_its_client_certificate_and_refuses_another_naming_the_engine() {
    let d = Dockerd::start_tls().unwrap();
    let url = d.https_url().unwrap();
    let certs = d.tls().unwrap();
    let right = certs.client_dir().display().to_string();
    let wrong = certs.wrong_client_dir().display().to_string();
    let fleet = plugin("fleet");
    let fleet = fleet.to_str().unwrap();
    let job = ["--", "sh", "-c", "echo over tls"];

    // From flags: --engine NAME=https://… and --tls-dir NAME=DIR.
    let mut a = args(&[
        "--engine",
        &format!("t={url}"),
        "--tls-dir",
        &format!("t={right}"),
        fleet,
        "--",
    ]);
    a.extend(args(&["--engine", "default", "--engine", "t"]));
    a.extend(args(&job));
    let run = tug_run(&a);
    run.assert_success();
    assert!(row(&run.stdout, "t").ends_with("over tls"), "{}", run.report());

    // From the policy's table.
    let work = tempfile::tempdir().unwrap();
    let p = policy(
        work.path(),
        "untrusted",
        &format!("[engines.t]\nurl = {url:?}\ncert_path = {right:?}\n"),
    );
    let mut a = args(&["--policy", &p, fleet, "--", "--engine", "t"]);
    a.extend(args(&job));
    tug_run(&a).assert_success();

    // Another CA's client certificate: the engine is named at the start and in the plugin's error; the
    // other engine's job finishes.
    let mut a = args(&[
        "--engine",
        &format!("t={url}"),
        "--tls-dir",
        &format!("t={wrong}"),
        fleet,
        "--",
    ]);
    a.extend(args(&["--engine", "default", "--engine", "t"]));
    a.extend(args(&job));
    let run = tug_run(&a);
    assert_eq!(run.code(), Some(1), "{}", run.report());
    let tcp = url.replace("https://", "tcp://");
    assert!(
        run.stderr
            .contains(&format!("tug: engine t ({tcp}) cannot be reached:")),
        "{}",
        run.report()
    );
    assert!(
        row(&run.stdout, "default").ends_with("over tls"),
        "{}",
        run.report()
    );
    let failed = row(&run.stdout, "t");
    assert!(
        failed.contains("error:") && failed.contains("engine t:"),
        "{failed}"
    );

    // The default engine with the wrong certificate: tug does not start the plugin (69).
    let run = tug_run(args(&[
        "--engine",
        &url,
        "--tls-dir",
        &wrong,
        fleet,
        "--",
        "--",
        "true",
    ]));
    assert_eq!(run.code(), Some(69), "{}", run.report());
    assert!(
        run.stderr
            .contains(&format!("tug: engine default ({tcp}) cannot be reached:")),
        "{}",
        run.report()
    );
}

#[test]
fn an_engine_over_ssh_runs_a_job_and_streams_its_logs() {
    let d = Dockerd::start().unwrap();
    let sshd = Sshd::start(&d.url()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let options: Vec<String> = sshd.options();
    let p = policy(
        work.path(),
        "untrusted",
        &format!("[engines.s]\nurl = {:?}\nssh_options = {options:?}\n", sshd.url()),
    );
    let fleet = plugin("fleet");
    let run = tug_run(args(&[
        "--policy",
        &p,
        fleet.to_str().unwrap(),
        "--",
        "--engine",
        "s",
        "--",
        "sh",
        "-c",
        "for i in 1 2 3; do echo line $i; done; echo over ssh",
    ]));
    run.assert_success();
    run.assert_stdout_line("[s] line 2");
    assert!(row(&run.stdout, "s").ends_with("over ssh"), "{}", run.report());
}

/// One run of `fleet` over every kind of engine at once: the shared daemon on its unix socket, a TLS
/// engine from flags, an ssh engine and a unix one from the policy's table.
#[test]
fn fleet_runs_on_unix_tls_and_ssh_engines_in_one_run() {
    let (t, u) = (Dockerd::start_tls().unwrap(), Dockerd::start().unwrap());
    let sshd = Sshd::start(&u.url()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let p = policy(
        work.path(),
        "untrusted",
        &format!(
            "[engines.s]\nurl = {:?}\nssh_options = {:?}\n[engines.u]\nurl = {:?}\n",
            sshd.url(),
            sshd.options(),
            u.url()
        ),
    );
    let tls = t.tls().unwrap().client_dir().display().to_string();
    let fleet = plugin("fleet");
    let mut a = args(&[
        "--policy",
        &p,
        "--engine",
        &format!("t={}", t.https_url().unwrap()),
        "--tls-dir",
        &format!("t={tls}"),
        fleet.to_str().unwrap(),
        "--",
    ]);
    for e in ["default", "t", "s", "u"] {
        a.extend(args(&["--engine", e]));
    }
    a.extend(args(&["--", "sh", "-c", "echo ran here"]));
    let run = tug_run(&a);
    run.assert_success();
    for e in ["default", "t", "s", "u"] {
        let r = row(&run.stdout, e);
        assert!(
            r.contains(" 0 ") && r.ends_with("ran here"),
            "{r}\n{}",
            run.report()
        );
    }
}

#[test]
fn killing_an_engine_mid_run_fails_its_row_only_and_the_next_run_sweeps_what_it_kept() {
    let mut d = Dockerd::start().unwrap();
    let work = tempfile::tempdir().unwrap();
    let events = work.path().join("events.jsonl");
    let fleet = plugin("fleet");
    let a = args(&[
        "--engine",
        &format!("k={}", d.url()),
        "--grace",
        "5",
        "--json",
        events.to_str().unwrap(),
        fleet.to_str().unwrap(),
        "--",
        "--engine",
        "default",
        "--engine",
        "k",
        "--",
        "sh",
        "-c",
        "echo started; sleep 6; echo finished",
    ]);
    let running = std::thread::spawn(move || tug_run(a));
    // Once k runs its job, its daemon dies.
    let deadline = Instant::now() + Duration::from_secs(60);
    while d
        .docker(&["ps", "-q", "--filter", "label=org.example.fleet"])
        .unwrap_or_default()
        .trim()
        .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "k never ran the job: {}",
            d.log_tail(20)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    d.kill().unwrap();
    let run = running.join().unwrap();
    assert_eq!(run.code(), Some(1), "{}", run.report());
    assert!(
        row(&run.stdout, "default").ends_with("finished"),
        "{}",
        run.report()
    );
    // The broken stream (or, if it ended first, the next call) names the engine.
    let failed = row(&run.stdout, "k");
    assert!(
        failed.contains("error:") && failed.contains("engine k: "),
        "{failed}\n{}",
        run.report()
    );
    assert!(
        run.stderr
            .contains("tug: cleanup after plugin fleet on engine k (unix://"),
        "{}",
        run.report()
    );
    let id = run_id(&events);

    // The daemon comes back with the run's container; the next run given that engine sweeps it.
    d.restart().unwrap();
    assert_eq!(
        containers_of(&d, &id).len(),
        1,
        "the killed engine kept the run's container"
    );
    // The restarted daemon stops the container it finds running (its shell ignores SIGTERM: 10 s);
    // meanwhile a removal would wait for that stop.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !d
        .docker(&["ps", "-q", "--filter", &format!("label=tug.run={id}")])
        .unwrap_or_default()
        .trim()
        .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "the restarted daemon never stopped the container"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let run = tug_run(args(&[
        "--engine",
        &format!("k={}", d.url()),
        fleet.to_str().unwrap(),
        "--",
        "--engine",
        "k",
        "--",
        "true",
    ]));
    run.assert_success();
    assert!(
        run.stderr
            .contains("tug: swept what earlier runs left behind on engine k"),
        "{}",
        run.report()
    );
    assert_eq!(containers_of(&d, &id), Vec::<String>::new());
}

#[test]
fn swarm_deploy_spreads_a_service_over_a_two_node_swarm() {
    let pair = SwarmPair::start().unwrap();
    // The ci policy allows the local registry's images for services (each node pulls a service's image,
    // so its registry must be allowed): the test image is tagged so on both nodes.
    let image = "127.0.0.1:5000/tug-test/busybox:latest";
    for d in [pair.manager(), pair.worker()] {
        d.docker(&["tag", tug_e2e::TEST_IMAGE, image]).unwrap();
    }
    let deploy = plugin("swarm-deploy");
    let name = format!("tug-deploy-{}", std::process::id());
    let run = tug_run(args(&[
        "--policy",
        "ci",
        "--engine",
        &format!("sw={}", pair.manager().url()),
        deploy.to_str().unwrap(),
        "--",
        "--engine",
        "sw",
        "--image",
        image,
        "--replicas",
        "4",
        "--scale",
        "4",
        "--name",
        &name,
    ]));
    run.assert_success()
        .assert_stdout_line("running: 4/4 on 2 node(s)")
        .assert_stdout_line("updated: completed")
        .assert_stdout_line(&format!("removed: service {name}"));
    let nodes: std::collections::BTreeSet<&str> = run
        .stdout
        .lines()
        .filter_map(|l| {
            l.split_once("tasks on ")
                .and_then(|(_, rest)| rest.split(':').next())
        })
        .collect();
    assert_eq!(nodes.len(), 2, "tasks on both nodes: {nodes:?}\n{}", run.report());
    assert!(pair.tasks(&name).unwrap_or_default().is_empty());
}
