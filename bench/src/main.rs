//! `tug-bench`: measures tug against native clients in one run and writes `docs/benchmarks.md` and
//! `docs/benchmarks.svg` (see the method section of that file).
//!
//! ```text
//! cargo run --release -p tug-bench [-- --only p1,p2,p3,p4,p5,p6,p7,p8,p8b] [--reps N] [--quick] [--out DIR]
//! ```
//!
//! Needs the daemon on /var/run/docker.sock and the image `tug-test/busybox:latest` (`scripts/setup`),
//! `curl`, `docker`, `python3` (docker-py is installed into `target/bench-venv`), and the wasm32-wasip2
//! target. `tug-bench density N pooling|ondemand [WASM CACHE ARGS…]` is the child process of P5 and P6.
//! `tug-bench rusage CMD ARGS…` measures a process for P6. P6 (Python plugins) also needs the Python
//! toolchain `scripts/setup` installs for `tug build`; P7 (JavaScript plugins) the Node toolchain. P8
//! (a TLS engine) and P8b (fan-out with `fleet`) start private daemons (`tug_e2e::dockerd`): root.
//! With `--only`, the phases that ran are merged into the existing `benchmarks.md` (`report::merge`).

mod engines;
mod external;
mod js;
mod native;
mod plugin;
mod python;
mod report;
mod startup;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use anyhow::Context;
use serde_json::{json, Value};
use tug::{
    engine::{Client, Request},
    host::{CacheMode, HostOptions},
};

use external::DockerPy;
use plugin::Runner;
use report::{Latency, Lifecycle, Results, Throughput};

/// The image of every fixture.
const IMAGE: &str = "tug-test/busybox:latest";
/// The label on every container the harness creates (swept at the start and the end).
const LABEL: &str = "tug-bench";
/// The API version curl speaks (the daemon's, 20.10).
const API: &str = "1.41";

struct Options {
    only: Vec<String>,
    reps: usize,
    out: PathBuf,
    logs_bytes: u64,
    follow_bytes: u64,
    archive_mib: u64,
    calls: usize,
    rounds: usize,
    /// `--quick`: small sizes and few iterations, to check the harness.
    quick: bool,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ is in the workspace")
        .to_owned()
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("probe") {
        // Native logs of container ID (`archive:ID`: its /big archive natively; `plugin:ID`: through the
        // bench plugin) on tug's runtime (`tug::cli::runtime`), or on tokio's multi-threaded one (`probe
        // ID mt`), to compare them.
        let rt = if args.get(2).is_some_and(|a| a == "mt") {
            tokio::runtime::Runtime::new()?
        } else {
            tug::cli::runtime()?
        };
        let id = args.get(1).context("probe ID")?.clone();
        let got = rt.block_on(async {
            tokio::spawn(async move {
                let client = Client::from_env()?;
                if let Some(archive) = id.strip_prefix("plugin:") {
                    // The bench plugin's `archive` (as P2 b), in-process as `tug run` runs it.
                    let dir = root().join("target");
                    let wasm = dir.join("bench-plugins/wasm32-wasip2/release/bench.wasm");
                    let options = HostOptions {
                        cache: CacheMode::Dir(dir.join("bench-cache")),
                        pooling: None,
                    };
                    let runner = Runner::new(&wasm, options, client)?;
                    let chunk = (1u64 << 20).to_string();
                    let out = runner.run(&["archive", archive, "/big", &chunk]).await?;
                    return plugin::stream_result(&out);
                }
                match id.strip_prefix("archive:") {
                    Some(archive) => native::archive(&client, archive, "/big").await,
                    None => native::logs(&client, &id, false).await,
                }
            })
            .await?
        })?;
        println!("{got:?} {:.1} MB/s", got.0 as f64 / got.2 / 1e6);
        return Ok(());
    }
    if args.first().map(String::as_str) == Some("rusage") {
        return python::rusage_child(&args[1..]);
    }
    // The runtime `tug` runs on, so that the plugin and tug's native client are measured as `tug run`
    // runs them.
    let rt = tug::cli::runtime()?;
    if args.first().map(String::as_str) == Some("density") {
        let n = args.get(1).context("density N MODE")?.parse()?;
        // `density N MODE WASM CACHE ARGS…`: another plugin than the bench plugin (P6).
        let plugin = match (args.get(3), args.get(4)) {
            (Some(wasm), Some(cache)) => Some((wasm.into(), args[5..].to_vec(), cache.into())),
            _ => None,
        };
        return rt.block_on(startup::density_child(
            n,
            args.get(2).is_some_and(|m| m == "pooling"),
            plugin,
        ));
    }
    let mut o = Options {
        only: vec![],
        reps: 2,
        out: root().join("docs"),
        logs_bytes: 256 << 20,
        follow_bytes: 128 << 20,
        archive_mib: 1024,
        calls: 2000,
        rounds: 100,
        quick: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--only" => {
                o.only = it
                    .next()
                    .context("--only LIST")?
                    .split(',')
                    .map(str::to_owned)
                    .collect()
            }
            "--reps" => o.reps = it.next().context("--reps N")?.parse()?,
            "--out" => o.out = it.next().context("--out DIR")?.into(),
            "--quick" => {
                (
                    o.logs_bytes,
                    o.follow_bytes,
                    o.archive_mib,
                    o.calls,
                    o.rounds,
                    o.quick,
                ) = (16 << 20, 16 << 20, 64, 200, 16, true)
            }
            other => anyhow::bail!("unknown argument {other:?}"),
        }
    }
    // On a worker, as tug runs plugins (see `PluginHost::run`): the native clients get the same footing.
    rt.block_on(async { tokio::spawn(bench(o)).await? })
}

fn wants(o: &Options, p: &str) -> bool {
    o.only.is_empty() || o.only.iter().any(|x| x == p)
}

async fn bench(o: Options) -> anyhow::Result<()> {
    let root = root();
    let client = Client::from_env()?;
    client.ping().await.context("the daemon does not answer")?;
    sweep(&client).await;
    eprintln!("building the bench plugin");
    let wasm = plugin::build(&root)?;
    let py = DockerPy::install(&root)?;
    let cache = root.join("target").join("bench-cache");
    let _ = std::fs::remove_dir_all(&cache);
    let runner = Runner::new(
        &wasm,
        HostOptions {
            cache: CacheMode::Dir(cache.clone()),
            pooling: None,
        },
        client.clone(),
    )?;
    let mut r = Results::default();
    let result = async {
        if wants(&o, "p1") {
            p1(&o, &runner, &client, &py, &mut r).await?;
        }
        if wants(&o, "p2") {
            p2(&o, &runner, &client, &py, &mut r).await?;
        }
        if wants(&o, "p3") {
            p3(&o, &runner, &client, &py, &mut r).await?;
        }
        if wants(&o, "p4") {
            startup::p4(&wasm, &cache, &client, &mut r).await?;
        }
        if wants(&o, "p5") {
            startup::p5(&mut r)?;
        }
        if wants(&o, "p6") {
            python::p6(&o, &runner, &wasm, &client, &py, &mut r).await?;
        }
        if wants(&o, "p7") {
            js::p7(&o, &runner, &wasm, &client, &mut r).await?;
        }
        if wants(&o, "p8") {
            engines::p8(&o, &wasm, &cache, &mut r).await?;
        }
        if wants(&o, "p8b") {
            // `tug run` processes, waited for on this thread: nothing else of the harness runs meanwhile.
            engines::p8b(&o, &mut r)?;
        }
        anyhow::Ok(())
    }
    .await;
    sweep(&client).await;
    result?;
    about(&client, &py, &mut r).await;
    std::fs::create_dir_all(&o.out)?;
    let mut md = report::markdown(&r, "cargo run --release -p tug-bench");
    let path = o.out.join("benchmarks.md");
    let mut targets = r.targets();
    if !o.only.is_empty() {
        // Some phases: the others' sections and targets stay as the earlier runs wrote them.
        if let Ok(old) = std::fs::read_to_string(&path) {
            md = report::merge::merge(&old, &md, &o.only);
            targets = report::merge::targets_of(&md);
        }
    }
    std::fs::write(&path, &md)?;
    std::fs::write(o.out.join("benchmarks.svg"), report::svg(&targets))?;
    for t in targets {
        println!(
            "{:<60} {:>9.3}{} target {} {:.2} {}",
            t.what,
            t.value,
            t.unit,
            if t.at_most { "≤" } else { "≥" },
            t.target,
            if t.met() { "met" } else { "MISSED" }
        );
    }
    eprintln!("wrote {}", o.out.join("benchmarks.md").display());
    Ok(())
}

/// Removes every container the harness created (label `tug-bench`).
async fn sweep(client: &Client) {
    let filters = json!({"label": [LABEL]}).to_string();
    let list: Value = match client
        .json(
            Request::get("/containers/json")
                .query("all", true)
                .query("filters", filters),
        )
        .await
    {
        Ok(v) => v,
        Err(e) => return eprintln!("listing the fixtures: {e}"),
    };
    for c in list.as_array().into_iter().flatten() {
        if let Some(id) = c["Id"].as_str() {
            let _ = remove(client, id).await;
        }
    }
}

async fn remove(client: &Client, id: &str) -> anyhow::Result<()> {
    client
        .call(
            Request::delete(format!("/containers/{id}"))
                .query("force", true)
                .query("v", true),
        )
        .await?;
    Ok(())
}

/// Creates a fixture container running `sh -c script`; starts it and waits for it unless `start` is false.
async fn fixture(client: &Client, script: &str, start: bool) -> anyhow::Result<String> {
    let body = json!({"Image": IMAGE, "Cmd": ["sh", "-c", script], "Labels": {LABEL: "1"}});
    let created: Value = client
        .json(Request::post("/containers/create").json(&body)?)
        .await?;
    let id = created["Id"].as_str().context("no Id")?.to_owned();
    if start {
        client
            .call(Request::post(format!("/containers/{id}/start")))
            .await?;
        let waited: Value = client
            .json(Request::post(format!("/containers/{id}/wait")))
            .await?;
        anyhow::ensure!(waited["StatusCode"] == 0, "fixture {script:?}: {waited}");
    }
    Ok(id)
}

fn lines_script(bytes: u64) -> String {
    format!("yes $(printf %099d 0) | head -c {bytes}")
}

async fn p1(
    o: &Options,
    runner: &Runner,
    client: &Client,
    py: &DockerPy,
    r: &mut Results,
) -> anyhow::Result<()> {
    eprintln!("P1: /version round trips");
    // Warm-ups: connections, the negotiated version, the daemon's caches.
    runner.run(&["version", "100"]).await?;
    native::version(client, 100).await?;
    // In rounds, each client in turn, so that the daemon's drift spreads over all of them.
    const ROUNDS: usize = 5;
    let per = (o.calls / ROUNDS).max(1);
    let n = per.to_string();
    let mut all: [Vec<u64>; 4] = Default::default();
    for _ in 0..ROUNDS {
        all[0].extend(plugin::ns_list(&runner.run(&["version", &n]).await?)?);
        all[1].extend(native::version(client, per).await?);
        all[2].extend(native::bollard_version(per).await?);
        let dpy = py.call(&["version", &n])?;
        all[3].extend(serde_json::from_value::<Vec<u64>>(dpy["ns"].clone())?);
    }
    let cli = external::docker_cli_version(30)?;
    let [plugin, native, bollard, dpy] = all;
    for (client, ns) in [
        ("plugin", plugin),
        ("tug native", native),
        ("bollard", bollard),
        ("docker-py", dpy),
        ("docker CLI (a process per call)", cli),
    ] {
        r.p1.push(Latency {
            client: client.into(),
            ns,
        });
    }
    Ok(())
}

fn py_stream(v: Value) -> anyhow::Result<(u64, u64, f64)> {
    Ok((
        v["bytes"].as_u64().context("bytes")?,
        v["frames"].as_u64().context("frames")?,
        v["ns"].as_f64().context("ns")? / 1e9,
    ))
}

/// The clients of P2, in the order each repetition runs them.
const STREAM_CLIENTS: [&str; 4] = ["curl", "plugin", "tug native", "docker-py"];

/// What P2 reads.
enum Case<'a> {
    /// The logs of an exited container.
    Logs(&'a str),
    /// `get-archive` of /big.
    Archive(&'a str),
    /// The logs of a fresh container writing this many bytes, started by the client and followed.
    Follow(u64),
}

/// One read of `case` by `who`: (bytes, frames, seconds).
async fn stream_once(
    who: &str,
    case: &Case<'_>,
    runner: &Runner,
    client: &Client,
    py: &DockerPy,
) -> anyhow::Result<Throughput> {
    let fresh;
    let (id, follow) = match case {
        Case::Logs(id) | Case::Archive(id) => (*id, false),
        Case::Follow(bytes) => {
            fresh = fixture(client, &lines_script(*bytes), false).await?;
            (fresh.as_str(), true)
        }
    };
    let chunk = (1u64 << 20).to_string();
    let before = (cpu_seconds("self"), daemon_cpu());
    let got = match (who, case) {
        ("curl", Case::Archive(_)) => {
            external::curl(API, &format!("/containers/{id}/archive?path=/big"), None).map(|(b, s)| (b, 0, s))
        }
        ("curl", _) => external::curl(
            API,
            &format!("/containers/{id}/logs?stdout=1&follow={}", u8::from(follow)),
            follow.then_some(id),
        )
        .map(|(b, s)| (b, 0, s)),
        ("plugin", Case::Archive(_)) => runner
            .run(&["archive", id, "/big", &chunk])
            .await
            .and_then(|out| plugin::stream_result(&out)),
        ("plugin", _) => {
            let args: &[&str] = if follow {
                &["logs", id, "follow"]
            } else {
                &["logs", id]
            };
            runner.run(args).await.and_then(|out| plugin::stream_result(&out))
        }
        ("tug native", Case::Archive(_)) => native::archive(client, id, "/big").await,
        ("tug native", _) => native::logs(client, id, follow).await,
        ("docker-py", Case::Archive(_)) => py.call(&["archive", id, "/big"]).and_then(py_stream),
        ("docker-py", _) => {
            let args: &[&str] = if follow {
                &["logs", id, "follow"]
            } else {
                &["logs", id]
            };
            py.call(args).and_then(py_stream)
        }
        _ => anyhow::bail!("no client {who}"),
    };
    let cpu = (cpu_seconds("self") - before.0, daemon_cpu() - before.1);
    if follow {
        remove(client, id).await?;
    }
    got.map(|(bytes, frames, secs)| tp(who, (bytes, frames, secs), cpu))
}

/// CPU seconds (user + system, its own and its waited-for children's) of process `pid` so far.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the command, fields from the state (field 3) on: utime, stime, cutime and cstime are
    // fields 14 to 17.
    let ticks: i64 = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .skip(11)
                .take(4)
                .filter_map(|f| f.parse::<i64>().ok())
                .sum()
        })
        .unwrap_or(0);
    ticks as f64 / 100.0
}

/// CPU seconds dockerd has used so far.
fn daemon_cpu() -> f64 {
    static PID: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    PID.get_or_init(|| {
        external::output(Command::new("pidof").arg("dockerd"))
            .ok()
            .and_then(|o| o.split_whitespace().next().map(str::to_owned))
    })
    .as_deref()
    .map_or(0.0, cpu_seconds)
}

/// `reps` rounds of every client reading `case`, in turn; the best (highest MB/s) of each.
async fn stream_rounds(
    reps: usize,
    case: Case<'_>,
    runner: &Runner,
    client: &Client,
    py: &DockerPy,
) -> anyhow::Result<Vec<Throughput>> {
    let mut best: Vec<Option<Throughput>> = STREAM_CLIENTS.iter().map(|_| None).collect();
    for _ in 0..reps.max(1) {
        for (i, who) in STREAM_CLIENTS.iter().enumerate() {
            let got = stream_once(who, &case, runner, client, py).await?;
            if best[i].as_ref().is_none_or(|b| got.mbps() > b.mbps()) {
                best[i] = Some(got);
            }
        }
    }
    Ok(best.into_iter().map(|b| b.expect("at least one round")).collect())
}

/// P2 (b): `rounds` rounds of every client reading `case`, in turn, curl first and last by turns. Each
/// client's median
/// round (by MB/s), and per client other than curl each round's MB/s ÷ curl's in the same round.
async fn archive_rounds(
    rounds: usize,
    case: Case<'_>,
    runner: &Runner,
    client: &Client,
    py: &DockerPy,
) -> anyhow::Result<(Vec<Throughput>, Vec<(String, Vec<f64>)>)> {
    let mut all: Vec<Vec<Throughput>> = STREAM_CLIENTS.iter().map(|_| Vec::new()).collect();
    for round in 0..rounds.max(1) {
        // Curl first in even rounds and last in odd ones, so that a drift of the machine (this one is a
        // VM whose CPU time is stolen in bursts) weighs on every client alike.
        let mut order: Vec<usize> = (0..STREAM_CLIENTS.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        let mut got: Vec<Option<Throughput>> = STREAM_CLIENTS.iter().map(|_| None).collect();
        for i in order {
            got[i] = Some(stream_once(STREAM_CLIENTS[i], &case, runner, client, py).await?);
        }
        for (v, t) in all.iter_mut().zip(got) {
            v.push(t.expect("every client ran"));
        }
        let curl = all[0][round].mbps();
        let line: Vec<String> = STREAM_CLIENTS
            .iter()
            .zip(&all)
            .map(|(who, v)| format!("{who} {:.3}", v[round].mbps() / curl))
            .collect();
        eprintln!("P2 (b) round {}: ÷ curl: {}", round + 1, line.join(", "));
    }
    let pairs = STREAM_CLIENTS
        .iter()
        .zip(&all)
        .skip(1)
        .map(|(who, v)| {
            let ratios = v.iter().zip(&all[0]).map(|(t, c)| t.mbps() / c.mbps());
            ((*who).to_owned(), ratios.collect())
        })
        .collect();
    let median = all
        .into_iter()
        .map(|mut v| {
            v.sort_by(|a, b| a.mbps().total_cmp(&b.mbps()));
            v.swap_remove(v.len() / 2)
        })
        .collect();
    Ok((median, pairs))
}

async fn p2(
    o: &Options,
    runner: &Runner,
    client: &Client,
    py: &DockerPy,
    r: &mut Results,
) -> anyhow::Result<()> {
    eprintln!("P2 (a): writing {} MiB of log lines", o.logs_bytes >> 20);
    let logs = fixture(client, &lines_script(o.logs_bytes), true).await?;
    external::curl(API, &format!("/containers/{logs}/logs?stdout=1"), None)?; // the page cache
    r.p2[0] = stream_rounds(o.reps, Case::Logs(&logs), runner, client, py).await?;
    payload_only(&mut r.p2[0]);
    remove(client, &logs).await?;

    eprintln!("P2 (b): a {} MiB archive", o.archive_mib);
    let script = format!("dd if=/dev/zero of=/big bs=1M count={}", o.archive_mib);
    let archive = fixture(client, &script, true).await?;
    external::curl(API, &format!("/containers/{archive}/archive?path=/big"), None)?;
    let rounds = if o.quick { 3 } else { o.reps + 7 };
    (r.p2[1], r.p2b_pairs) = archive_rounds(rounds, Case::Archive(&archive), runner, client, py).await?;
    remove(client, &archive).await?;

    eprintln!(
        "P2 (c): following {} MiB of log lines as they are written",
        o.follow_bytes >> 20
    );
    r.p2[2] = stream_rounds(o.reps, Case::Follow(o.follow_bytes), runner, client, py).await?;
    payload_only(&mut r.p2[2]);
    Ok(())
}

/// curl counts the multiplexed stream's bytes on the wire; the others count log payload. Each log line
/// is one frame with an 8-byte header: take those off curl's count so that MB/s compare.
fn payload_only(rows: &mut [Throughput]) {
    let frames = rows
        .iter()
        .find(|r| r.client == "tug native")
        .map_or(0, |r| r.frames);
    if let Some(curl) = rows.iter_mut().find(|r| r.client == "curl") {
        curl.bytes = curl.bytes.saturating_sub(8 * frames);
    }
}

fn tp(client: &str, (bytes, frames, secs): (u64, u64, f64), (cpu, daemon_cpu): (f64, f64)) -> Throughput {
    Throughput {
        client: client.into(),
        bytes,
        frames,
        secs,
        cpu,
        daemon_cpu,
    }
}

async fn p3(
    o: &Options,
    runner: &Runner,
    client: &Client,
    py: &DockerPy,
    r: &mut Results,
) -> anyhow::Result<()> {
    // In chunks, each client in turn, so that the daemon's drift spreads over all of them.
    const CHUNKS: usize = 5;
    let per = (o.rounds / CHUNKS).max(1);
    for (i, conc) in [(0usize, 1usize), (1, 8)] {
        eprintln!("P3: {} lifecycles, concurrency {conc}", per * CHUNKS);
        native::lifecycle(client, IMAGE, conc * 2, conc).await?; // warm-up
        let mut acc: [(f64, Vec<u64>); 3] = Default::default();
        for _ in 0..CHUNKS {
            let (total, rounds) = native::lifecycle(client, IMAGE, per, conc).await?;
            acc[0].0 += total;
            acc[0].1.extend(rounds);

            let t = Instant::now();
            let mut runs = Vec::new();
            for k in 0..conc {
                let share = per / conc + usize::from(k < per % conc);
                if share > 0 {
                    runs.push(runner.request(&plugin::own(&["lifecycle", &share.to_string(), IMAGE])));
                }
            }
            let outs = futures_join(runner, runs).await?;
            acc[1].0 += t.elapsed().as_secs_f64();
            for out in outs {
                acc[1].1.extend(plugin::ns_list(&out)?);
            }

            let v = py.call(&["lifecycle", &per.to_string(), &conc.to_string(), IMAGE])?;
            acc[2].0 += v["total_ns"].as_f64().context("total_ns")? / 1e9;
            acc[2]
                .1
                .extend(serde_json::from_value::<Vec<u64>>(v["ns"].clone())?);
        }
        for (who, (total, rounds)) in ["tug native", "plugin", "docker-py"].into_iter().zip(acc) {
            r.p3[i].push(Lifecycle {
                client: who.into(),
                total,
                rounds,
            });
        }
    }
    Ok(())
}

/// Runs the requests at once, each in its own `Store`, on the same host.
async fn futures_join(runner: &Runner, runs: Vec<tug::host::RunRequest>) -> anyhow::Result<Vec<String>> {
    let mut futures = Vec::new();
    for req in runs {
        futures.push(Box::pin(plugin::run_on(&runner.host, &runner.plugin, req)));
    }
    let mut outs = Vec::new();
    // Poll them together: they interleave at every host call.
    let results = join_all(futures).await;
    for r in results {
        outs.push(r?);
    }
    Ok(outs)
}

/// Polls all futures together until each is done (a minimal `join_all`).
async fn join_all<F: std::future::Future + Unpin>(mut futures: Vec<F>) -> Vec<F::Output> {
    let mut outs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, out) in futures.iter_mut().zip(outs.iter_mut()) {
            if out.is_none() {
                match std::pin::Pin::new(f).poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outs.into_iter().map(|o| o.expect("done")).collect()
}

/// The machine and the versions of everything compared.
async fn about(client: &Client, py: &DockerPy, r: &mut Results) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "?".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0);
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    r.machine = vec![
        ("CPUs (nproc)".into(), nproc.to_string()),
        ("CPU".into(), cpu),
        ("RAM".into(), format!("{:.1} GiB", mem as f64 / 1048576.0)),
        ("kernel".into(), external::first_line("uname", &["-r"])),
    ];
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap_or_default();
    let locked = |name: &str| {
        let key = format!("name = \"{name}\"\nversion = \"");
        lock.find(&key)
            .map(|i| lock[i + key.len()..].split('"').next().unwrap_or("?").to_owned())
            .unwrap_or_else(|| "?".into())
    };
    let version: Value = client.json(Request::get("/version")).await.unwrap_or_default();
    let dpy = py.call(&["about"]).unwrap_or_default();
    let commit = external::first_line(
        "git",
        &["-C", &root().to_string_lossy(), "rev-parse", "--short", "HEAD"],
    );
    r.versions = vec![
        ("tug commit".into(), commit),
        ("rustc".into(), external::first_line("rustc", &["--version"])),
        ("wasmtime".into(), locked("wasmtime")),
        (
            "Docker daemon".into(),
            format!(
                "{} (API {})",
                version["Version"].as_str().unwrap_or("?"),
                version["ApiVersion"].as_str().unwrap_or("?")
            ),
        ),
        (
            "docker CLI".into(),
            external::first_line("docker", &["version", "--format", "{{.Client.Version}}"]),
        ),
        (
            "docker-py".into(),
            format!(
                "{} (Python {})",
                dpy["docker_py"].as_str().unwrap_or("?"),
                dpy["python"].as_str().unwrap_or("?")
            ),
        ),
        ("bollard".into(), locked("bollard")),
        (
            "docker-py in tug (P6)".into(),
            r.p6.about.clone().unwrap_or_else(|| "not measured".into()),
        ),
        ("curl".into(), external::first_line("curl", &["--version"])),
    ];
}
