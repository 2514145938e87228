//! A plugin that walks away from open streams, or blocks in a host call, run in-process by the plugin
//! host: the run ends promptly and every connection it opened is closed.

use std::time::{Duration, Instant};

use std::sync::Arc;
use tug::engine::{segment, Client, EngineConfig, Request};

use tug::host::{Outcome, PluginHost, RunLimits, RunRequest, DEFAULT_ENGINE};
use tug::policy::{cleanup::RunIdentity, Gate, Policy};
use tug_e2e::plugin;

fn client() -> Client {
    Client::new(EngineConfig::from_env().unwrap()).unwrap()
}

/// Loads the plugin (building it first if needed: callers time only the run that follows).
fn load() -> (PluginHost, tug::host::Plugin) {
    let host = PluginHost::new().unwrap();
    let loaded = host.load(&plugin("abandon")).unwrap();
    (host, loaded)
}

async fn run(
    loaded: &(PluginHost, tug::host::Plugin),
    client: &Client,
    mode: &str,
    name: &str,
    wall: Duration,
) -> Outcome {
    let (host, loaded) = loaded;
    let identity = RunIdentity::new("abandon", false);
    let gate = Arc::new(Gate::new(
        Arc::new(Policy::profile("untrusted").unwrap()),
        identity.run_id.clone(),
        identity.labels(),
    ));
    host.run(
        loaded,
        RunRequest {
            name: "abandon".into(),
            args: vec![mode.into(), name.into()],
            env: vec![],
            engines: [(
                DEFAULT_ENGINE.to_owned(),
                tug::host::RunEngine::new(client.clone(), gate.clone()),
            )]
            .into_iter()
            .collect(),
            limits: RunLimits {
                wall_time: Some(wall),
                ..RunLimits::default()
            },
            observers: Vec::new(),
            masker: tug::policy::audit::Masker::new(Vec::<String>::new()),
            gate,
        },
    )
    .await
    .unwrap()
}

async fn remove(client: &Client, name: &str) {
    client
        .call(Request::delete(format!("/containers/{}", segment(name))).query("force", true))
        .await
        .unwrap();
}

/// Waits (up to 5 s) until at most `n` connections are open.
async fn settles_to(client: &Client, n: usize) -> usize {
    let t0 = Instant::now();
    while client.open_connections() > n && t0.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    client.open_connections()
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_dropped_or_never_read_neither_hang_nor_leak() {
    let client = client();
    let name = format!("tug-abandon-streams-{}", std::process::id());
    let loaded = load();
    let t0 = Instant::now();
    let outcome = run(&loaded, &client, "streams", &name, Duration::from_secs(60)).await;
    let took = t0.elapsed();
    eprintln!("open right after the run: {}", client.open_connections());
    let open = settles_to(&client, 1).await;
    remove(&client, &name).await;
    assert_eq!(outcome, Outcome::Exited(0));
    assert!(took < Duration::from_secs(20), "the run took {took:?}");
    assert!(
        open <= 1,
        "{open} connections still open after the run (at most the pooled idle one)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deadline_cancels_a_blocked_host_call() {
    let client = client();
    let name = format!("tug-abandon-wait-{}", std::process::id());
    let loaded = load();
    let t0 = Instant::now();
    let outcome = run(&loaded, &client, "wait", &name, Duration::from_secs(3)).await;
    let took = t0.elapsed();
    let open = settles_to(&client, 1).await;
    remove(&client, &name).await;
    assert_eq!(outcome, Outcome::TimedOut(Duration::from_secs(3)));
    assert!(took < Duration::from_secs(10), "the run took {took:?}");
    assert!(
        open <= 1,
        "{open} connections still open after the cancelled wait"
    );
}
