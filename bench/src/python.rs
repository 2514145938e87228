//! P6: Python plugins. `bench/py/docker_py_bench.py` — the docker-py client of P1–P3 — is built with
//! `tug build` and run in the sandbox with the same modes and arguments as on the host's Python, the two
//! (and the Rust plugin) taking turns in one run; plus the build, the size, the cold start (in-process as
//! P4, and as `tug run` processes) and the memory of a trivial docker-py plugin
//! (`bench/py/docker_py_startup.py`).

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use anyhow::{bail, Context};
use serde_json::Value;
use tug::{
    engine::Client,
    host::{cache::CompileCache, cache::Source, CacheMode, HostOptions, PluginHost},
};

use crate::{
    external::{self, DockerPy},
    plugin::{self, Runner},
    report::{
        python::{Process, DOCKER_PY, PY_PLUGIN, RUST_PLUGIN},
        ColdStart, Latency, Lifecycle, Results, Throughput,
    },
    startup, Options, API, IMAGE,
};

/// One finished process: wall-clock, `wait4`'s rusage, exit code and what it said on stderr.
pub(crate) struct Ran {
    wall_ns: u64,
    /// Peak RSS, bytes: the largest of the process and its waited-for children.
    rss: u64,
    cpu: f64,
    code: i32,
    stderr: Vec<u8>,
}

/// `struct rusage` of Linux on 64-bit targets: two `timeval`s, then 14 `long`s (`ru_maxrss` first).
#[repr(C)]
#[derive(Default)]
struct Rusage {
    utime: [i64; 2],
    stime: [i64; 2],
    maxrss: i64,
    rest: [i64; 13],
}

extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
}

/// `tug-bench rusage CMD ARGS…`, the child that measures a command: it runs it (its stdout and stderr
/// going to this process's stderr), reaps it with `wait4` and prints `wall_ns rss_bytes cpu_s code`.
///
/// A process of its own because Linux keeps a process's peak RSS across `exec`, and a child of this big
/// process would start with its peak; a child of this small one starts with a few MiB.
pub fn rusage_child(args: &[String]) -> anyhow::Result<()> {
    use std::os::fd::AsFd;
    let (program, rest) = args.split_first().context("rusage CMD ARGS…")?;
    let t = Instant::now();
    let child = Command::new(program)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(std::io::stderr().as_fd().try_clone_to_owned()?)
        .spawn()
        .with_context(|| format!("running {program}"))?;
    let pid = i32::try_from(child.id())?;
    let (mut status, mut ru) = (0i32, Rusage::default());
    loop {
        // SAFETY: `status` and `ru` are valid for writes; `pid` is our child, reaped by nobody else
        // (`child` is never waited for).
        let got = unsafe { wait4(pid, &mut status, 0, &mut ru) };
        if got == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            bail!("wait4 {pid}: {e}");
        }
    }
    let wall_ns = t.elapsed().as_nanos();
    let secs = |tv: [i64; 2]| tv[0] as f64 + tv[1] as f64 / 1e6;
    // WIFEXITED: the low 7 bits are 0, the code is the next byte; a signal is shown as 128 + it.
    let code = if status & 0x7f == 0 {
        (status >> 8) & 0xff
    } else {
        128 + (status & 0x7f)
    };
    println!(
        "{wall_ns} {} {} {code}",
        ru.maxrss.max(0) * 1024,
        secs(ru.utime) + secs(ru.stime)
    );
    Ok(())
}

/// Runs `cmd` through `tug-bench rusage` and returns what it measured.
fn measured(program: &Path, args: &[&std::ffi::OsStr], env: &[(&str, &Path)]) -> anyhow::Result<Ran> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("rusage").arg(program).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().context("running tug-bench rusage")?;
    let line = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = line.split_whitespace().collect();
    if !out.status.success() || f.len() != 4 {
        bail!(
            "tug-bench rusage {program:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(Ran {
        wall_ns: f[0].parse()?,
        rss: f[1].parse()?,
        cpu: f[2].parse()?,
        code: f[3].parse()?,
        stderr: out.stderr,
    })
}

/// The release `tug` binary, run with a compile cache and a state directory of its own.
pub(crate) struct Tug {
    pub(crate) exe: PathBuf,
    pub(crate) cache: PathBuf,
    state: PathBuf,
}

impl Tug {
    /// Builds `target/release/tug` (cargo waits if another build holds the target directory).
    pub(crate) fn build(root: &Path, dir: &Path) -> anyhow::Result<Self> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(root)
            .args(["build", "--release", "-p", "tug", "--bin", "tug"])
            .status()
            .context("running cargo to build tug")?;
        if !status.success() {
            bail!("building tug failed: {status}");
        }
        Ok(Tug {
            exe: root.join("target").join("release").join("tug"),
            cache: dir.join("cache"),
            state: dir.join("state"),
        })
    }

    /// `tug ARGS…`, measured; an error unless it exits with 0.
    pub(crate) fn run(&self, args: &[&std::ffi::OsStr]) -> anyhow::Result<Ran> {
        let env = [
            ("TUG_CACHE_DIR", self.cache.as_path()),
            ("TUG_STATE_DIR", self.state.as_path()),
        ];
        let ran = measured(&self.exe, args, &env)?;
        if ran.code != 0 {
            bail!(
                "tug {:?} exited with {}:\n{}",
                args,
                ran.code,
                String::from_utf8_lossy(&ran.stderr)
            );
        }
        Ok(ran)
    }
}

/// Adds the runs of one command as a row.
pub(crate) fn record(rows: &mut Vec<Process>, what: &str, ran: &[Ran]) {
    rows.push(Process {
        what: what.into(),
        wall: ran.iter().map(|r| r.wall_ns).collect(),
        rss: ran.iter().map(|r| r.rss).collect(),
        cpu: ran.iter().map(|r| r.cpu).collect(),
    });
}

/// The load average (1, 5, 15 min).
pub(crate) fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The JSON document a run of `docker_py_bench.py` printed in the sandbox.
async fn py_json(runner: &Runner, args: &[&str]) -> anyhow::Result<Value> {
    let out = runner.run(args).await?;
    serde_json::from_str(out.trim()).with_context(|| format!("the Python plugin {args:?} printed {out:?}"))
}

fn ns_of(v: &Value) -> anyhow::Result<Vec<u64>> {
    Ok(serde_json::from_value(v["ns"].clone())?)
}

/// P6; see the module documentation and the method in the report.
pub async fn p6(
    o: &Options,
    rust: &Runner,
    rust_wasm: &Path,
    client: &Client,
    py: &DockerPy,
    r: &mut Results,
) -> anyhow::Result<()> {
    r.p6.load.push(("at the start of P6".into(), loadavg()));
    let root = crate::root();
    let dir = root.join("target").join("bench-py");
    eprintln!("P6: building the release tug binary");
    let tug = Tug::build(&root, &dir)?;
    let _ = std::fs::remove_dir_all(&tug.cache);
    std::fs::create_dir_all(&tug.cache)?;
    let quick = o.quick;

    // Build: componentize-py, then the precompile (`tug build` does both).
    let startup_py = root.join("bench/py/docker_py_startup.py");
    let bench_py = root.join("bench/py/docker_py_bench.py");
    let startup = dir.join("docker_py_startup.wasm");
    let bench = dir.join("docker_py_bench.wasm");
    for (script, out) in [(&startup_py, &startup), (&bench_py, &bench)] {
        let name = script.file_name().unwrap_or_default().to_string_lossy();
        eprintln!("P6: tug build --no-cache {name}");
        let ran = tug.run(&[
            "build".as_ref(),
            "--no-cache".as_ref(),
            script.as_ref(),
            "-o".as_ref(),
            out.as_ref(),
        ])?;
        record(
            &mut r.p6.builds,
            &format!("`tug build --no-cache {name}` (componentize-py, then the precompile)"),
            &[ran],
        );
    }
    let scratch = dir.join("compile-scratch");
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!("P6: tug compile (the precompile alone)");
    let ran = tug.run(&[
        "compile".as_ref(),
        "--cache-dir".as_ref(),
        scratch.as_ref(),
        startup.as_ref(),
    ])?;
    record(
        &mut r.p6.builds,
        "`tug compile docker_py_startup.wasm` (the precompile alone)",
        &[ran],
    );
    let _ = std::fs::remove_dir_all(&scratch);

    cold_in_process(o, &startup, &tug.cache, client, r).await?;
    r.p6.runs
        .extend(tug_runs(quick, &tug, "Python", &startup, rust_wasm)?);

    // Sizes (the Rust plugin's artifact is in this cache since its `tug run`).
    r.p6.sizes = sizes(
        &tug.cache,
        &[
            (
                "trivial docker-py plugin (`docker_py_startup.py`)",
                startup.as_path(),
            ),
            ("`docker_py_bench.py`", bench.as_path()),
            ("Rust bench plugin (for comparison)", rust_wasm),
        ],
    )?;

    let pyrun = Runner::new(
        &bench,
        HostOptions {
            cache: CacheMode::Dir(tug.cache.clone()),
            pooling: None,
        },
        client.clone(),
    )?;
    if pyrun.plugin.source != Source::Cached {
        eprintln!(
            "P6: warning: the built plugin was not in the compile cache ({:?})",
            pyrun.plugin.source
        );
    }
    let about = py_json(&pyrun, &["about"]).await?;
    r.p6.about = Some(format!(
        "{} (CPython {}, componentize-py's)",
        about["docker_py"].as_str().unwrap_or("?"),
        about["python"].as_str().unwrap_or("?")
    ));

    for n in if quick { vec![5] } else { vec![10, 50] } {
        eprintln!("P6: {n} idle Python instances");
        match startup::density(n, false, "on-demand", Some((&bench, &tug.cache, &["idle"]))) {
            Ok(d) => r.p6.density.push(d),
            // A figure missing from the report, not the whole of P6 lost.
            Err(e) => eprintln!("P6: {n} idle Python instances: {e:#}"),
        }
    }

    version(o, &pyrun, rust, py, r).await?;
    logs(o, &pyrun, rust, client, py, r).await?;
    lifecycles(o, &pyrun, rust, py, r).await?;
    r.p6.load.push(("at the end of P6".into(), loadavg()));
    Ok(())
}

/// (plugin, component bytes, compiled artifact bytes in the compile cache at `cache`) of each.
pub(crate) fn sizes(
    cache: &Path,
    plugins: &[(&str, &Path)],
) -> anyhow::Result<Vec<(String, u64, Option<u64>)>> {
    let host = PluginHost::with_options(HostOptions {
        cache: CacheMode::Dir(cache.to_owned()),
        pooling: None,
    })?;
    plugins
        .iter()
        .map(|(what, wasm)| {
            let bytes = std::fs::read(wasm)?;
            let key = CompileCache::key(host.engine(), &bytes);
            let artifact = host
                .cache()
                .and_then(|c| std::fs::metadata(c.path(&key)).ok())
                .map(|m| m.len());
            Ok(((*what).to_owned(), bytes.len() as u64, artifact))
        })
        .collect()
}

/// The trivial plugin loaded and run in-process, without and with the compile cache (as P4).
async fn cold_in_process(
    o: &Options,
    wasm: &Path,
    cache: &Path,
    client: &Client,
    r: &mut Results,
) -> anyhow::Result<()> {
    let quick = o.quick;
    // Only for its requests (policy, gate).
    let requests = Runner::new(
        wasm,
        HostOptions {
            cache: CacheMode::Dir(cache.to_owned()),
            pooling: None,
        },
        client.clone(),
    )?;
    for cached in [false, true] {
        let config = if cached {
            "Python, cache, on-demand allocator"
        } else {
            "Python, no cache (compile), on-demand allocator"
        };
        eprintln!("P6: cold start in-process, {config}");
        let t = Instant::now();
        let host = PluginHost::with_options(HostOptions {
            cache: if cached {
                CacheMode::Dir(cache.to_owned())
            } else {
                CacheMode::Off
            },
            pooling: None,
        })?;
        let setup_ms = t.elapsed().as_secs_f64() * 1e3;
        let iterations = match (cached, quick) {
            (true, false) => 50,
            (true, true) => 10,
            (false, false) => 3,
            (false, true) => 1,
        };
        let (mut load, mut run) = (Vec::new(), Vec::new());
        for _ in 0..iterations {
            let t = Instant::now();
            let plugin = host.load(wasm)?;
            load.push(t.elapsed().as_nanos() as u64);
            if cached && plugin.source != Source::Cached {
                bail!(
                    "P6: the trivial plugin was not in the compile cache ({:?})",
                    plugin.source
                );
            }
            let t = Instant::now();
            plugin::run_on(&host, &plugin, requests.request(&[])).await?;
            run.push(t.elapsed().as_nanos() as u64);
        }
        if cached {
            r.notes.push((
                "P6: where a cached load of the trivial Python plugin goes".into(),
                startup::cold_breakdown(&host, wasm)?,
            ));
        }
        r.p6.cold.push(ColdStart {
            config: config.into(),
            setup_ms,
            load,
            run,
        });
    }
    Ok(())
}

/// `tug run` of a trivial plugin (`language`: "Python", "JavaScript"; cached, then `--no-cache`) and of
/// the Rust plugin's `noop` (cached), each a process of its own.
pub(crate) fn tug_runs(
    quick: bool,
    tug: &Tug,
    language: &str,
    startup: &Path,
    rust_wasm: &Path,
) -> anyhow::Result<Vec<Process>> {
    let (warm, cold) = if quick { (5, 1) } else { (20, 3) };
    let file = startup.file_name().unwrap_or_default().to_string_lossy();
    let cases: [(String, Vec<&std::ffi::OsStr>, bool, usize); 3] = [
        (
            format!("{language} trivial plugin, cached: `tug run {file}`"),
            vec!["run".as_ref(), startup.as_ref()],
            true,
            warm,
        ),
        (
            format!("{language} trivial plugin, no cache: `tug run --no-cache {file}`"),
            vec!["run".as_ref(), "--no-cache".as_ref(), startup.as_ref()],
            false,
            cold,
        ),
        (
            "Rust bench plugin, cached: `tug run bench.wasm -- noop` (tug's own start and end)".into(),
            vec!["run".as_ref(), rust_wasm.as_ref(), "--".as_ref(), "noop".as_ref()],
            true,
            warm,
        ),
    ];
    let mut rows = Vec::new();
    for (what, args, cached, n) in cases {
        eprintln!("{language}: {what} × {n}");
        if cached {
            tug.run(&args)?; // fills the cache if needed, and the page cache
        }
        let ran = (0..n)
            .map(|_| tug.run(&args))
            .collect::<anyhow::Result<Vec<_>>>()?;
        record(&mut rows, &what, &ran);
    }
    Ok(rows)
}

/// `/version` through docker-py in the sandbox, on the host, and the Rust plugin, in 5 rounds.
async fn version(
    o: &Options,
    pyrun: &Runner,
    rust: &Runner,
    py: &DockerPy,
    r: &mut Results,
) -> anyhow::Result<()> {
    eprintln!("P6: /version round trips");
    py_json(pyrun, &["version", "50"]).await?;
    py.call(&["version", "50"])?;
    rust.run(&["version", "50"]).await?;
    const ROUNDS: usize = 5;
    let per = (o.calls / ROUNDS).max(1).to_string();
    let mut all: [Vec<u64>; 3] = Default::default();
    for _ in 0..ROUNDS {
        all[0].extend(ns_of(&py_json(pyrun, &["version", &per]).await?)?);
        all[1].extend(ns_of(&py.call(&["version", &per])?)?);
        all[2].extend(plugin::ns_list(&rust.run(&["version", &per]).await?)?);
    }
    for (client, ns) in [PY_PLUGIN, DOCKER_PY, RUST_PLUGIN].into_iter().zip(all) {
        r.p6.version.push(Latency {
            client: client.into(),
            ns,
        });
    }
    Ok(())
}

/// The logs of P2 (a) through each client, `reps` rounds, the best of each.
async fn logs(
    o: &Options,
    pyrun: &Runner,
    rust: &Runner,
    client: &Client,
    py: &DockerPy,
    r: &mut Results,
) -> anyhow::Result<()> {
    eprintln!("P6: writing {} MiB of log lines", o.logs_bytes >> 20);
    let id = crate::fixture(client, &crate::lines_script(o.logs_bytes), true).await?;
    let got = async {
        external::curl(API, &format!("/containers/{id}/logs?stdout=1"), None)?; // the page cache
        let mut best: [Option<Throughput>; 3] = Default::default();
        for _ in 0..o.reps.max(1) {
            for (i, who) in [PY_PLUGIN, DOCKER_PY, RUST_PLUGIN].into_iter().enumerate() {
                eprintln!("P6: logs through {who}");
                let before = (crate::cpu_seconds("self"), crate::daemon_cpu());
                let read = match i {
                    0 => crate::py_stream(py_json(pyrun, &["logs", &id]).await?)?,
                    1 => crate::py_stream(py.call(&["logs", &id])?)?,
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
    r.p6.logs = got?.into_iter().flatten().collect();
    Ok(())
}

/// 100 lifecycles, sequential and with concurrency 8, in 5 chunks, the clients taking turns.
async fn lifecycles(
    o: &Options,
    pyrun: &Runner,
    rust: &Runner,
    py: &DockerPy,
    r: &mut Results,
) -> anyhow::Result<()> {
    const CHUNKS: usize = 5;
    let per = (o.rounds / CHUNKS).max(1);
    for (i, conc) in [(0usize, 1usize), (1, 8)] {
        eprintln!("P6: {} lifecycles, concurrency {conc}", per * CHUNKS);
        // Warm-ups.
        py_json(pyrun, &["lifecycle", "2", "1", IMAGE]).await?;
        py.call(&["lifecycle", "2", "1", IMAGE])?;
        let mut acc: [(f64, Vec<u64>); 3] = Default::default();
        for _ in 0..CHUNKS {
            // The Python plugin: the script's own total (sequential), or 8 instances timed around them.
            if conc == 1 {
                let v = py_json(pyrun, &["lifecycle", &per.to_string(), "1", IMAGE]).await?;
                acc[0].0 += v["total_ns"].as_f64().context("total_ns")? / 1e9;
                acc[0].1.extend(ns_of(&v)?);
            } else {
                let t = Instant::now();
                let runs = shares(per, conc)
                    .map(|share| pyrun.request(&plugin::own(&["lifecycle", &share.to_string(), "1", IMAGE])))
                    .collect();
                let outs = crate::futures_join(pyrun, runs).await?;
                acc[0].0 += t.elapsed().as_secs_f64();
                for out in outs {
                    let v: Value = serde_json::from_str(out.trim())?;
                    acc[0].1.extend(ns_of(&v)?);
                }
            }
            let v = py.call(&["lifecycle", &per.to_string(), &conc.to_string(), IMAGE])?;
            acc[1].0 += v["total_ns"].as_f64().context("total_ns")? / 1e9;
            acc[1].1.extend(ns_of(&v)?);

            let t = Instant::now();
            let runs = shares(per, conc)
                .map(|share| rust.request(&plugin::own(&["lifecycle", &share.to_string(), IMAGE])))
                .collect();
            let outs = crate::futures_join(rust, runs).await?;
            acc[2].0 += t.elapsed().as_secs_f64();
            for out in outs {
                acc[2].1.extend(plugin::ns_list(&out)?);
            }
        }
        for (who, (total, rounds)) in [PY_PLUGIN, DOCKER_PY, RUST_PLUGIN].into_iter().zip(acc) {
            r.p6.lifecycles[i].push(Lifecycle {
                client: who.into(),
                total,
                rounds,
            });
        }
    }
    Ok(())
}

/// `per` rounds shared among `conc` instances (none with no rounds).
fn shares(per: usize, conc: usize) -> impl Iterator<Item = usize> {
    (0..conc)
        .map(move |k| per / conc + usize::from(k < per % conc))
        .filter(|&s| s > 0)
}
