//! The plugin `tug-bench` runs (`bench/`): one mode per measurement, timed inside the plugin with the WASI
//! monotonic clock, so that the figures compare with a native client timing the same calls.
//!
//! ```text
//! bench noop                      do nothing (cold start)
//! bench version N                 N × system.version; prints `ns <per-call ns, comma separated>`
//! bench logs ID [follow]          read container ID's stdout logs to the end (start it, then follow them)
//! bench archive ID PATH CHUNK     read get-archive of PATH with reads of CHUNK bytes
//! bench lifecycle N IMAGE         N × (create, start, wait, remove) of `IMAGE true`; prints per-round ns
//! bench idle                      print `ready`, then block on a pollable for an hour (density)
//! ```
//!
//! Stream modes print `bytes B frames F ns T`: T from the call that opens the stream to its end.

use serde_json::{json, Value};
use tug_sdk::{container_streams, containers, engine, system, wasip2::clocks::monotonic_clock, Error};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn arg(args: &[String], i: usize, what: &str) -> Result<String> {
    args.get(i)
        .cloned()
        .ok_or_else(|| format!("missing argument {i}: {what}").into())
}

fn number(args: &[String], i: usize, what: &str) -> Result<u64> {
    Ok(arg(args, i, what)?.parse()?)
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("noop") => Ok(()),
        Some("version") => version(number(&args, 1, "N")?),
        Some("logs") => logs(&arg(&args, 1, "ID")?, args.get(2).is_some_and(|a| a == "follow")),
        Some("archive") => archive(
            &arg(&args, 1, "ID")?,
            &arg(&args, 2, "PATH")?,
            number(&args, 3, "CHUNK")?,
        ),
        Some("lifecycle") => lifecycle(number(&args, 1, "N")?, &arg(&args, 2, "IMAGE")?),
        Some("idle") => {
            println!("ready");
            monotonic_clock::subscribe_duration(3_600_000_000_000).block();
            Ok(())
        }
        other => Err(format!("unknown mode {other:?}").into()),
    }
}

fn join(ns: &[u64]) -> String {
    ns.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

fn version(n: u64) -> Result<()> {
    let docker = engine();
    let mut ns = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let t = monotonic_clock::now();
        let v = system::version(&docker)?;
        ns.push(monotonic_clock::now() - t);
        if v.is_empty() {
            return Err("empty version".into());
        }
    }
    println!("ns {}", join(&ns));
    Ok(())
}

fn logs(id: &str, follow: bool) -> Result<()> {
    let docker = engine();
    let options = container_streams::LogsOptions {
        follow: Some(follow),
        stdout: Some(true),
        ..Default::default()
    };
    let t = monotonic_clock::now();
    if follow {
        containers::start(&docker, id, &Default::default())?;
    }
    let reader = container_streams::logs(&docker, id, &options)?;
    let (mut bytes, mut frames) = (0u64, 0u64);
    while let Some(frame) = reader.next(1 << 20)? {
        bytes += frame.data.len() as u64;
        frames += 1;
    }
    let ns = monotonic_clock::now() - t;
    println!("bytes {bytes} frames {frames} ns {ns}");
    Ok(())
}

fn archive(id: &str, path: &str, chunk: u64) -> Result<()> {
    use tug_sdk::io::StreamError;
    let docker = engine();
    let t = monotonic_clock::now();
    let archive = container_streams::get_archive(&docker, id, path)?;
    let (mut bytes, mut frames) = (0u64, 0u64);
    loop {
        match archive.content.blocking_read(chunk) {
            Ok(data) => {
                bytes += data.len() as u64;
                frames += 1;
            }
            Err(StreamError::Closed) => break,
            Err(e) => return Err(format!("reading the archive: {e:?}").into()),
        }
    }
    let ns = monotonic_clock::now() - t;
    println!("bytes {bytes} frames {frames} ns {ns}");
    Ok(())
}

fn lifecycle(n: u64, image: &str) -> Result<()> {
    let docker = engine();
    let config = json!({"Image": image, "Cmd": ["true"]}).to_string();
    let mut ns = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let t = monotonic_clock::now();
        let created: Value =
            serde_json::from_str(&containers::create(&docker, &config, &Default::default())?)?;
        let id = created["Id"].as_str().ok_or("create answered no Id")?.to_owned();
        containers::start(&docker, &id, &Default::default())?;
        let waited = containers::wait(&docker, &id, &Default::default())?;
        containers::remove(&docker, &id, Default::default()).map_err(|e: Error| format!("remove: {e}"))?;
        ns.push(monotonic_clock::now() - t);
        if !waited.contains("\"StatusCode\":0") {
            return Err(format!("the container failed: {waited}").into());
        }
    }
    println!("ns {}", join(&ns));
    Ok(())
}
