//! P7: JavaScript plugins. `bench/js/dockerode_bench.js` — dockerode-style calls through tug's JavaScript
//! SDK — is built with `tug build` and run in-process with the Rust plugin and curl taking turns on the
//! logs of P2 (a); plus the build, the size, the cold start as `tug run` processes and the memory of idle
//! instances of a trivial plugin (`bench/js/dockerode_startup.js`).

use std::path::Path;

use anyhow::Context;
use serde_json::Value;
use tug::{
    engine::Client,
    host::{CacheMode, HostOptions},
};

use crate::{
    external,
    plugin::{self, Runner},
    python::{loadavg, record, sizes, tug_runs, Tug},
    report::{
        js::{JS_DEMUX, JS_RAW},
        Results, Throughput,
    },
    startup, Options, API,
};

/// The JSON document a run of `dockerode_bench.js` printed.
async fn js_json(runner: &Runner, args: &[&str]) -> anyhow::Result<Value> {
    let out = runner.run(args).await?;
    let last = out.lines().last().unwrap_or_default();
    serde_json::from_str(last.trim()).with_context(|| format!("the JS plugin {args:?} printed {out:?}"))
}

/// P7; see the module documentation and the method in the report.
pub async fn p7(
    o: &Options,
    rust: &Runner,
    rust_wasm: &Path,
    client: &Client,
    r: &mut Results,
) -> anyhow::Result<()> {
    r.p7.load.push(("at the start of P7".into(), loadavg()));
    let root = crate::root();
    let dir = root.join("target").join("bench-js");
    eprintln!("P7: building the release tug binary");
    let tug = Tug::build(&root, &dir)?;
    let _ = std::fs::remove_dir_all(&tug.cache);
    std::fs::create_dir_all(&tug.cache)?;
    let quick = o.quick;

    let startup = dir.join("dockerode_startup.wasm");
    let bench = dir.join("dockerode_bench.wasm");
    for (name, out) in [("dockerode_startup.js", &startup), ("dockerode_bench.js", &bench)] {
        eprintln!("P7: tug build --no-cache {name}");
        let script = root.join("bench/js").join(name);
        let ran = tug.run(&[
            "build".as_ref(),
            "--no-cache".as_ref(),
            script.as_ref(),
            "-o".as_ref(),
            out.as_ref(),
        ])?;
        record(
            &mut r.p7.builds,
            &format!("`tug build --no-cache {name}` (esbuild, componentize-js, then the precompile)"),
            &[ran],
        );
    }

    // `tug run` processes: the trivial plugin cached and not, the Rust plugin's `noop` for comparison.
    r.p7.runs
        .extend(tug_runs(quick, &tug, "JavaScript", &startup, rust_wasm)?);

    r.p7.sizes = sizes(
        &tug.cache,
        &[
            (
                "trivial dockerode-style plugin (`dockerode_startup.js`)",
                startup.as_path(),
            ),
            ("`dockerode_bench.js`", bench.as_path()),
            ("Rust bench plugin (for comparison)", rust_wasm),
        ],
    )?;

    for n in if quick { vec![5] } else { vec![10, 50] } {
        eprintln!("P7: {n} idle JavaScript instances");
        match startup::density(n, false, "on-demand", Some((&bench, &tug.cache, &["idle"]))) {
            Ok(d) => r.p7.density.push(d),
            Err(e) => eprintln!("P7: {n} idle JavaScript instances: {e:#}"),
        }
    }

    let jsrun = Runner::new(
        &bench,
        HostOptions {
            cache: CacheMode::Dir(tug.cache.clone()),
            pooling: None,
        },
        client.clone(),
    )?;
    let about = js_json(&jsrun, &["about"]).await?;
    r.p7.about = about["sdk"].as_str().map(str::to_owned);
    logs(o, &jsrun, rust, client, r).await?;
    r.p7.load.push(("at the end of P7".into(), loadavg()));
    Ok(())
}

/// The logs of P2 (a): curl, the JavaScript plugin reading dockerode's stream (the engine's multiplexed
/// bytes) and iterating demultiplexed frames, and the Rust plugin; `reps` rounds, the best of each.
async fn logs(
    o: &Options,
    jsrun: &Runner,
    rust: &Runner,
    client: &Client,
    r: &mut Results,
) -> anyhow::Result<()> {
    eprintln!("P7: writing {} MiB of log lines", o.logs_bytes >> 20);
    let id = crate::fixture(client, &crate::lines_script(o.logs_bytes), true).await?;
    let clients = ["curl", JS_RAW, JS_DEMUX, crate::report::python::RUST_PLUGIN];
    let got = async {
        external::curl(API, &format!("/containers/{id}/logs?stdout=1"), None)?; // the page cache
        let mut best: [Option<Throughput>; 4] = Default::default();
        for _ in 0..o.reps.max(1) {
            for (i, who) in clients.into_iter().enumerate() {
                eprintln!("P7: logs through {who}");
                let before = (crate::cpu_seconds("self"), crate::daemon_cpu());
                let read = match i {
                    0 => external::curl(API, &format!("/containers/{id}/logs?stdout=1"), None)
                        .map(|(b, s)| (b, 0, s))?,
                    1 => crate::py_stream(js_json(jsrun, &["logs", &id]).await?)?,
                    2 => crate::py_stream(js_json(jsrun, &["frames", &id]).await?)?,
                    _ => plugin::stream_result(&rust.run(&["logs", &id]).await?)?,
                };
                let cpu = (
                    crate::cpu_seconds("self") - before.0,
                    crate::daemon_cpu() - before.1,
                );
                let t = crate::tp(who, read, cpu);
                if best[i].as_ref().is_none_or(|b| t.mbps() > b.mbps()) {
                    best[i] = Some(t);
                }
            }
        }
        anyhow::Ok(best)
    }
    .await;
    crate::remove(client, &id).await?;
    let mut rows: Vec<Throughput> = got?.into_iter().flatten().collect();
    // curl and dockerode's stream count the multiplexed bytes; the others count payload: one 8-byte
    // header per frame (per log line) comes off, as in P2.
    let frames = rows
        .iter()
        .find(|t| t.client == crate::report::python::RUST_PLUGIN)
        .map_or(0, |t| t.frames);
    for t in rows
        .iter_mut()
        .filter(|t| t.client == "curl" || t.client == JS_RAW)
    {
        t.bytes = t.bytes.saturating_sub(8 * frames);
    }
    r.p7.logs = rows;
    Ok(())
}
