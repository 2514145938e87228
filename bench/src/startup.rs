//! P4 (cold start: load and run a trivial plugin, with and without the compile cache and the pooling
//! allocator) and P5 (density: resident memory of many idle instances in one process).

use std::{
    io::BufRead,
    path::{Path, PathBuf},
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
pub fn cold_breakdown(host: &tug::host::PluginHost, wasm: &Path) -> anyhow::Result<String> {
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
    for pooling in [false, true] {
        for n in [100usize, 500] {
            let mode = if pooling { "pooling" } else { "ondemand" };
            eprintln!("P5: {n} idle instances, {mode}");
            let config = if pooling { "pooling" } else { "on-demand" };
            r.p5.push(density(n, pooling, config, None)?);
        }
    }
    Ok(())
}

/// A child process (`tug-bench density N MODE [WASM CACHE ARGS…]`) running `n` idle instances of the
/// bench plugin (mode `idle`), or of `plugin` (a component, its compile cache and its arguments; it must
/// print `ready` and wait); its VmRSS before the instances and once all are ready.
pub fn density(
    n: usize,
    pooling: bool,
    config: &str,
    plugin: Option<(&Path, &Path, &[&str])>,
) -> anyhow::Result<Density> {
    let exe = std::env::current_exe()?;
    let mode = if pooling { "pooling" } else { "ondemand" };
    let mut cmd = Command::new(&exe);
    cmd.args(["density", &n.to_string(), mode]);
    if let Some((wasm, cache, args)) = plugin {
        cmd.arg(wasm).arg(cache).args(args);
    }
    let mut child = cmd.stdout(Stdio::piped()).spawn()?;
    let pid = child.id();
    let stdout = child.stdout.take().context("piped")?;
    let (mut base, mut ready) = (0, 0);
    let mut measured = Err(anyhow::anyhow!("the density child ended early"));
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line?;
        if line == "host ready" {
            base = vm_rss(pid)?;
        } else {
            // Instances' lines may run together when a plugin writes its line in two writes.
            ready += line.matches("ready").count();
            if ready >= n {
                // Let the last instances settle into their wait.
                std::thread::sleep(std::time::Duration::from_millis(500));
                measured = vm_rss(pid);
                break;
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(Density {
        config: config.into(),
        n,
        base,
        rss: measured?,
    })
}

/// The child of P5 (and P6): `n` idle instances in this process until it is killed, of the bench plugin
/// (`idle`) unless `plugin` names a component (and its arguments) and its compile cache.
pub async fn density_child(
    n: usize,
    pooling: bool,
    plugin: Option<(PathBuf, Vec<String>, PathBuf)>,
) -> anyhow::Result<()> {
    let root = root();
    let (wasm, args, cache) = plugin.unwrap_or_else(|| {
        (
            root.join("target/bench-plugins/wasm32-wasip2/release/bench.wasm"),
            vec!["idle".to_owned()],
            root.join("target").join("bench-cache"),
        )
    });
    let runner = Arc::new(Runner::new(
        &wasm,
        HostOptions {
            cache: CacheMode::Dir(cache),
            pooling: pooling.then_some(n as u32 + 8),
        },
        Client::from_env()?,
    )?);
    println!("host ready");
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (runner, args) = (runner.clone(), args.clone());
        tasks.push(tokio::spawn(async move {
            let req = runner.request(&args);
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
