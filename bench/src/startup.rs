//! P4 (cold start: load and run a trivial plugin, with and without the compile cache and the pooling
//! allocator) and P5 (density: resident memory of many idle instances in one process).

use std::{
    io::BufRead,
    path::Path,
    process::{Command, Stdio},
    sync::Arc,
    time::Instant,
};

use anyhow::Context;
use tug::{
    engine::Client,
    host::{CacheMode, HostOptions},
};

use crate::{
    plugin::{self, Runner},
    report::{self, ColdStart, Density, Results},
    root,
};

/// P4: each configuration's host set-up, then loads and runs of the `noop` mode.
pub async fn p4(wasm: &Path, cache: &Path, client: &Client, r: &mut Results) -> anyhow::Result<()> {
    for (pooling, cached) in [(false, false), (true, false), (false, true), (true, true)] {
        let config = format!(
            "{}, {}",
            if cached { "cache" } else { "no cache (compile)" },
            if pooling {
                "pooling allocator"
            } else {
                "on-demand allocator"
            }
        );
        eprintln!("P4: cold start, {config}");
        let t = Instant::now();
        let host = tug::host::PluginHost::with_options(HostOptions {
            cache: if cached {
                CacheMode::Dir(cache.to_owned())
            } else {
                CacheMode::Off
            },
            pooling: pooling.then_some(64),
        })?;
        let setup_ms = t.elapsed().as_secs_f64() * 1e3;
        // A runner only for its requests (policy, gate); the host under test is `host`.
        let requests = Runner::new(
            wasm,
            HostOptions {
                cache: CacheMode::Dir(cache.to_owned()),
                pooling: None,
            },
            client.clone(),
        )?;
        let iterations = if cached { 100 } else { 5 };
        let (mut load, mut run) = (Vec::new(), Vec::new());
        for _ in 0..iterations {
            let t = Instant::now();
            let plugin = host.load(wasm)?;
            load.push(t.elapsed().as_nanos() as u64);
            let t = Instant::now();
            plugin::run_on(&host, &plugin, requests.request(&plugin::own(&["noop"]))).await?;
            run.push(t.elapsed().as_nanos() as u64);
        }
        if cached && !pooling {
            r.notes.push((
                "P4: where a cached load's time goes".into(),
                cold_breakdown(&host, wasm)?,
            ));
        }
        r.p4.push(ColdStart {
            config,
            setup_ms,
            load,
            run,
        });
    }
    Ok(())
}

/// The steps of a cached load, each timed alone (medians of 100).
fn cold_breakdown(host: &tug::host::PluginHost, wasm: &Path) -> anyhow::Result<String> {
    use tug::host::cache::CompileCache;
    let cache = host.cache().context("a cache")?;
    let median = |f: &mut dyn FnMut() -> anyhow::Result<()>| -> anyhow::Result<f64> {
        let mut ns = Vec::new();
        for _ in 0..100 {
            let t = Instant::now();
            f()?;
            ns.push(t.elapsed().as_nanos() as u64);
        }
        Ok(report::quantile(&ns, 0.5) / 1e6)
    };
    let bytes = std::fs::read(wasm)?;
    let key = CompileCache::key(host.engine(), &bytes);
    let read = median(&mut || {
        std::fs::read(wasm)?;
        Ok(())
    })?;
    let hash = median(&mut || {
        CompileCache::key(host.engine(), &bytes);
        Ok(())
    })?;
    let map = median(&mut || {
        cache.get(host.engine(), &key).context("cached")?;
        Ok(())
    })?;
    let load = median(&mut || {
        host.load(wasm)?;
        Ok(())
    })?;
    Ok(format!(
        "The component is {} KiB. Medians of 100, ms: read the file {read:.3}; its key (SHA-256 of the \
         bytes and the engine's compatibility hash) {hash:.3}; map the artifact \
         (`Component::deserialize_file`) {map:.3}; the whole load, with pre-instantiation (linking \
         every import and type-checking it) {load:.3}, so pre-instantiation ≈ {pre:.3}.",
        bytes.len() / 1024,
        pre = load - read - hash - map
    ))
}

fn vm_rss(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .context("no VmRSS")?
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()?;
    Ok(kb * 1024)
}

/// P5: a child process per allocator and count, its VmRSS read once every instance is idle.
pub fn p5(r: &mut Results) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    for pooling in [false, true] {
        for n in [100usize, 500] {
            let mode = if pooling { "pooling" } else { "ondemand" };
            eprintln!("P5: {n} idle instances, {mode}");
            let mut child = Command::new(&exe)
                .args(["density", &n.to_string(), mode])
                .stdout(Stdio::piped())
                .spawn()?;
            let pid = child.id();
            let stdout = child.stdout.take().context("piped")?;
            let (mut base, mut ready) = (0, 0);
            let mut measured = Err(anyhow::anyhow!("the density child ended early"));
            for line in std::io::BufReader::new(stdout).lines() {
                let line = line?;
                if line == "host ready" {
                    base = vm_rss(pid)?;
                } else if line.ends_with("ready") {
                    ready += 1;
                    if ready == n {
                        // Let the last instances settle into their wait.
                        std::thread::sleep(std::time::Duration::from_millis(500));
                        measured = vm_rss(pid);
                        break;
                    }
                }
            }
            let _ = child.kill();
            let _ = child.wait();
            r.p5.push(Density {
                config: if pooling {
                    "pooling".into()
                } else {
                    "on-demand".into()
                },
                n,
                base,
                rss: measured?,
            });
        }
    }
    Ok(())
}

/// The child of P5: `n` idle instances in this process until it is killed.
pub async fn density_child(n: usize, pooling: bool) -> anyhow::Result<()> {
    let root = root();
    let wasm = root.join("target/bench-plugins/wasm32-wasip2/release/bench.wasm");
    let runner = Arc::new(Runner::new(
        &wasm,
        HostOptions {
            cache: CacheMode::Dir(root.join("target").join("bench-cache")),
            pooling: pooling.then_some(n as u32 + 8),
        },
        Client::from_env()?,
    )?);
    println!("host ready");
    let mut tasks = Vec::new();
    for _ in 0..n {
        let runner = runner.clone();
        tasks.push(tokio::spawn(async move {
            let req = runner.request(&plugin::own(&["idle"]));
            if let Err(e) = runner.host.run(&runner.plugin, req).await {
                eprintln!("idle instance: {e:#}");
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    Ok(())
}
