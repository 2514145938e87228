//! P8: engines other than the local socket. (a) A TLS engine (a private daemon of `tug_e2e` with a TLS
//! listener on 127.0.0.1) called by 8 concurrent callers: tug's native client with its pool, the same
//! with one idle connection kept (what tug did before), and 8 bench-plugin runs at once. (b) `p8b`:
//! fan-out, the `fleet` plugin running one job on one engine and on three (the shared daemon and two
//! private ones), as `tug run` processes of the release binary.

use std::{path::Path, process::Command, time::Instant};

use anyhow::{bail, Context};
use tug::{
    engine::{Client, EngineConfig, TlsConfig},
    host::{CacheMode, HostOptions},
};
use tug_e2e::dockerd::Dockerd;

use crate::{
    native,
    plugin::{self, Runner},
    python::{loadavg, Tug},
    report::engines::{FanOut, TlsRow, NATIVE, NATIVE_ONE_IDLE, PLUGIN},
    report::Results,
    Options,
};

/// Concurrent callers in P8 (a).
const CALLERS: usize = 8;

/// Starts a private daemon off the runtime's workers (it takes seconds).
async fn start(tls: bool) -> anyhow::Result<Dockerd> {
    tokio::task::spawn_blocking(move || {
        if tls {
            Dockerd::start_tls()
        } else {
            Dockerd::start()
        }
    })
    .await?
    .map_err(anyhow::Error::msg)
}

/// Stops and removes a private daemon off the runtime's workers.
async fn stop(d: Dockerd) {
    let _ = tokio::task::spawn_blocking(move || drop(d)).await;
}

/// TCP connections this network namespace opened so far (`ActiveOpens` of `/proc/net/snmp`): the
/// connects of a measurement, since nothing else on the machine talks to the private daemon.
fn active_opens() -> u64 {
    let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut tcp = snmp.lines().filter(|l| l.starts_with("Tcp:"));
    let (Some(names), Some(values)) = (tcp.next(), tcp.next()) else {
        return 0;
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == "ActiveOpens")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// `n` × `GET /version` by [`CALLERS`] tasks sharing `client`: seconds.
async fn native_concurrent(client: &Client, n: usize) -> anyhow::Result<f64> {
    let t = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..CALLERS {
        let share = n / CALLERS + usize::from(k < n % CALLERS);
        let client = client.clone();
        tasks.push(tokio::spawn(async move { native::version(&client, share).await }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(t.elapsed().as_secs_f64())
}

/// `n` × `GET /version` by [`CALLERS`] bench-plugin runs (`version N`) at once in one host, as P3 runs
/// them: seconds.
async fn plugin_concurrent(runner: &Runner, n: usize) -> anyhow::Result<f64> {
    let t = Instant::now();
    let runs = (0..CALLERS)
        .map(|k| n / CALLERS + usize::from(k < n % CALLERS))
        .filter(|share| *share > 0)
        .map(|share| runner.request(&plugin::own(&["version", &share.to_string()])))
        .collect();
    crate::futures_join(runner, runs).await?;
    Ok(t.elapsed().as_secs_f64())
}

/// P8 (a); see the module documentation and the method in the report.
pub async fn p8(o: &Options, wasm: &Path, cache: &Path, r: &mut Results) -> anyhow::Result<()> {
    eprintln!("P8: starting a daemon with a TLS listener");
    let d = start(true).await?;
    let got = p8_on(o, &d, wasm, cache, r).await;
    stop(d).await;
    got
}

async fn p8_on(o: &Options, d: &Dockerd, wasm: &Path, cache: &Path, r: &mut Results) -> anyhow::Result<()> {
    r.p8.load.push(("at the start of P8".into(), loadavg()));
    let url = d.https_url().context("the daemon has no TLS listener")?;
    let certs = d.tls().context("the daemon has no certificates")?;
    let config = |pool_max_idle: Option<usize>| -> anyhow::Result<Client> {
        let mut cfg = EngineConfig::from_url(&url)?;
        cfg.tls = Some(TlsConfig::from_dir(&certs.client_dir(), true));
        cfg.pool_max_idle = pool_max_idle;
        Ok(Client::new(cfg)?)
    };
    // A client per row, so that each row's connections are its own.
    let pooled = config(None)?;
    let one_idle = config(Some(1))?;
    let runner = Runner::new(
        wasm,
        HostOptions {
            cache: CacheMode::Dir(cache.to_owned()),
            pooling: None,
        },
        config(None)?,
    )?;
    r.p8.pool_default = pooled.config().pool_max_idle();
    let rounds = if o.quick { 2 } else { 5 };
    let n = o.calls / 2;
    eprintln!("P8: {rounds} rounds of {n} /version calls per client, {CALLERS} callers");
    let mut rows: Vec<TlsRow> = [NATIVE, NATIVE_ONE_IDLE, PLUGIN]
        .into_iter()
        .map(|c| TlsRow {
            client: c.into(),
            calls: n,
            secs: Vec::new(),
            opened: 0,
            open_after: 0,
        })
        .collect();
    // Round 0 is a warm-up (the handshakes of the pooled clients, the negotiated version): its
    // connections count, its times do not.
    for round in 0..=rounds {
        for row in rows.iter_mut() {
            let before = active_opens();
            let secs = match row.client.as_str() {
                NATIVE => native_concurrent(&pooled, n).await?,
                NATIVE_ONE_IDLE => native_concurrent(&one_idle, n).await?,
                _ => plugin_concurrent(&runner, n).await?,
            };
            row.opened += active_opens().saturating_sub(before);
            if round > 0 {
                row.secs.push(secs);
            }
        }
    }
    for row in rows.iter_mut() {
        row.open_after = match row.client.as_str() {
            NATIVE => pooled.open_connections(),
            NATIVE_ONE_IDLE => one_idle.open_connections(),
            _ => runner.client().open_connections(),
        };
    }
    r.p8.tls = rows;
    r.p8.load.push(("at the end of P8".into(), loadavg()));
    Ok(())
}

/// One `tug run` of fleet on `engines` (`default` is the shared daemon): (wall seconds, fleet's own
/// seconds from its last line `fleet: N engine(s) in S s`).
fn fleet_once(tug: &Tug, fleet: &Path, engines: &[(&str, String)], job: &str) -> anyhow::Result<(f64, f64)> {
    let mut cmd = Command::new(&tug.exe);
    let state = tug.cache.with_file_name("state");
    cmd.env("TUG_CACHE_DIR", &tug.cache)
        .env("TUG_STATE_DIR", state)
        .arg("run");
    for (name, url) in engines {
        cmd.arg("--engine").arg(format!("{name}={url}"));
    }
    cmd.arg(fleet).arg("--").args(["--engine", "default"]);
    for (name, _) in engines {
        cmd.args(["--engine", name]);
    }
    cmd.args(["--", "sh", "-c", job]);
    let t = Instant::now();
    let out = cmd.output().context("running tug")?;
    let wall = t.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "fleet on {} engine(s) exited with {}:\n{stdout}{}",
            engines.len() + 1,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let secs = stdout
        .lines()
        .rev()
        // `tug run` prefixes a plugin's lines with `[fleet] `.
        .find_map(|l| l.split_once("fleet: ").map(|(_, rest)| rest))
        .and_then(|l| l.split(" in ").nth(1))
        .and_then(|l| l.trim_end_matches(" s").trim().parse().ok())
        .with_context(|| format!("no `fleet: N engine(s) in S s` line in {stdout:?}"))?;
    Ok((wall, secs))
}

/// P8 (b), `p8b`; see the module documentation and the method in the report.
pub fn p8b(o: &Options, r: &mut Results) -> anyhow::Result<()> {
    let root = crate::root();
    eprintln!("P8 (b): building the release tug binary and the fleet plugin");
    let tug = Tug::build(&root, &root.join("target").join("bench-fleet"))?;
    let fleet = crate::plugin::build_example(&root, "plugin-fleet", "fleet")?;
    eprintln!("P8 (b): starting two private daemons");
    let b = Dockerd::start().map_err(anyhow::Error::msg)?;
    let c = Dockerd::start().map_err(anyhow::Error::msg)?;
    r.p8.load.push(("at the start of P8 (b)".into(), loadavg()));
    let three = [("b", b.url()), ("c", c.url())];
    let configs: [&[(&str, String)]; 2] = [&[], &three];
    let jobs = ["echo ok", "sleep 2; echo ok"];
    let rounds = if o.quick { 2 } else { 5 };
    let mut rows: Vec<FanOut> = Vec::new();
    for job in jobs {
        for engines in configs {
            rows.push(FanOut {
                engines: engines.len() + 1,
                job: job.into(),
                wall: Vec::new(),
                fleet: Vec::new(),
            });
        }
    }
    // A warm-up of each (the compile cache, the image's layers in the page cache), then the rounds.
    for round in 0..=rounds {
        for row in rows.iter_mut() {
            let engines = configs[usize::from(row.engines > 1)];
            let (wall, secs) = fleet_once(&tug, &fleet, engines, &row.job)?;
            if round > 0 {
                row.wall.push(wall);
                row.fleet.push(secs);
            }
        }
    }
    r.p8.fan_out = rows;
    r.p8.load.push(("at the end of P8 (b)".into(), loadavg()));
    drop((b, c));
    Ok(())
}
