//! P6, Python plugins: what was measured, its targets, and its section of `docs/benchmarks.md`.

use std::fmt::Write as _;

use super::{cold_ms, find, ms, quantile, ColdStart, Density, Latency, Lifecycle, Target, Throughput};

/// The Python plugin, as the tables name it.
pub const PY_PLUGIN: &str = "Python plugin (docker-py in tug)";
/// Native docker-py, as the tables name it.
pub const DOCKER_PY: &str = "docker-py (host Python)";
/// The Rust bench plugin, as the tables name it.
pub const RUST_PLUGIN: &str = "Rust plugin";

/// Runs of one command as a process: wall-clock, peak RSS and CPU of each.
pub struct Process {
    /// The command, as the table shows it.
    pub what: String,
    /// Each run's wall-clock, ns.
    pub wall: Vec<u64>,
    /// Each run's peak RSS (`ru_maxrss` of `wait4`: the largest of the process and its children), bytes.
    pub rss: Vec<u64>,
    /// Each run's CPU seconds (user + system, children included).
    pub cpu: Vec<f64>,
}

impl Process {
    fn median_rss(&self) -> f64 {
        quantile(&self.rss, 0.5)
    }
    fn median_cpu(&self) -> f64 {
        let mut v = self.cpu.clone();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

/// Everything P6 measured.
#[derive(Default)]
pub struct PyResults {
    /// (plugin, component bytes, compiled artifact bytes).
    pub sizes: Vec<(String, u64, Option<u64>)>,
    /// `tug build --no-cache` of each script, and `tug compile` alone.
    pub builds: Vec<Process>,
    /// Cold starts of the trivial plugin in-process (as P4).
    pub cold: Vec<ColdStart>,
    /// `tug run` processes.
    pub runs: Vec<Process>,
    /// Idle instances of the Python plugin in one host process (as P5).
    pub density: Vec<Density>,
    /// `/version` through docker-py in the sandbox, native docker-py and the Rust plugin.
    pub version: Vec<Latency>,
    /// The logs of P2 (a) through each.
    pub logs: Vec<Throughput>,
    /// 100 lifecycles: sequential, concurrency 8.
    pub lifecycles: [Vec<Lifecycle>; 2],
    /// Load average (1, 5, 15 min) when P6 started and ended.
    pub load: Vec<(String, String)>,
    /// docker-py's and CPython's versions in the sandbox.
    pub about: Option<String>,
}

impl PyResults {
    /// Whether anything was measured.
    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty() && self.version.is_empty() && self.logs.is_empty() && self.cold.is_empty()
    }

    /// P6's targets, with this run's values.
    pub fn targets(&self, t: &mut Vec<Target>) {
        if let Some(c) = self
            .cold
            .iter()
            .find(|c| c.config.contains("cache") && !c.config.contains("no cache"))
        {
            t.push(Target {
                name: "P6 cold start in-process".into(),
                what: "P6 Python cold start with the cache, in-process (load + run), median ms".into(),
                value: cold_ms(c),
                target: 60.0,
                at_most: true,
                unit: " ms",
            });
        }
        if let Some(p) = self
            .runs
            .iter()
            .find(|p| p.what.starts_with("Python") && p.what.contains("cached"))
        {
            t.push(Target {
                name: "P6 cold start `tug run`".into(),
                what: "P6 Python cold start with the cache, a `tug run` process (wall), median ms".into(),
                value: quantile(&p.wall, 0.5) / 1e6,
                target: 60.0,
                at_most: true,
                unit: " ms",
            });
        }
        let mbps = |who: &str| find(&self.logs, |r| &r.client, who).map(Throughput::mbps);
        if let (Some(p), Some(d)) = (mbps(PY_PLUGIN), mbps(DOCKER_PY)) {
            t.push(Target {
                name: "P6 logs".into(),
                what: "P6 logs: Python plugin ÷ native docker-py (MB/s)".into(),
                value: p / d,
                target: 1.0,
                at_most: false,
                unit: "×",
            });
        }
        let total = |who: &str| find(&self.lifecycles[0], |r| &r.client, who).map(|r| r.total);
        if let (Some(p), Some(d)) = (total(PY_PLUGIN), total(DOCKER_PY)) {
            t.push(Target {
                name: "P6 lifecycles".into(),
                what: "P6 lifecycles, sequential: Python plugin ÷ native docker-py (total time)".into(),
                value: p / d,
                target: 1.05,
                at_most: true,
                unit: "×",
            });
        }
    }
}

const METHOD: &str = "\
The Python plugin is `bench/py/docker_py_bench.py` itself — the script that is the *docker-py* client of \
P1–P3 — built with `tug build` (componentize-py, docker-py 7.2 bundled, its calls going through tug's \
transport `sdk/python/tug/docker_transport.py` to the WIT functions) and run with the same modes and \
arguments as the host's Python runs it, in-process by `PluginHost` under the `trusted` policy like the Rust \
plugin; it times itself with `time.perf_counter_ns` (in the sandbox: `wasi:clocks`), as the native run \
does. The three clients take turns: /version in 5 rounds, logs in rounds of one read each (the best of \
each), lifecycles in 5 chunks of 20. Lifecycle totals: the script's own (inside Python, both sides; \
concurrency 8 in the sandbox is 8 plugin instances in one host, timed around them by the harness, their \
start-up included); the Rust plugin's are timed by the harness. The trivial plugin \
`bench/py/docker_py_startup.py` is `import docker; docker.from_env()` (which negotiates the API version: \
one `GET /version`, ≈ 6 ms of the daemon). Every `tug` process is the release `tug` binary with \
`TUG_CACHE_DIR` in `target/bench-py/`, emptied at the start; wall-clock, peak RSS and CPU of a process come \
from `wait4` (the peak is the largest of the process and its children, e.g. componentize-py's Python \
during a build). `tug run` uses its default policy (`untrusted`) and includes what tug does around the \
plugin: reaching the engine (`/_ping`), the sweep of earlier runs, the cleanup.";

/// P6's section of `docs/benchmarks.md`.
pub fn markdown(w: &mut String, p: &PyResults) {
    if p.is_empty() {
        return;
    }
    let _ = writeln!(
        w,
        "\n## P6: Python plugins (docker-py in the sandbox)\n\n{METHOD}\n"
    );
    if !p.load.is_empty() {
        let loads: Vec<String> = p.load.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(w, "Load average (1, 5, 15 min): {}.\n", loads.join("; "));
    }
    if !p.sizes.is_empty() || !p.builds.is_empty() {
        let _ = writeln!(
            w,
            "### Size and build\n\n| plugin | component MB | compiled artifact MB |\n|---|---|---|"
        );
        for (what, wasm, artifact) in &p.sizes {
            let _ = writeln!(
                w,
                "| {what} | {:.1} | {} |",
                *wasm as f64 / 1e6,
                artifact.map_or("–".into(), |a| format!("{:.1}", a as f64 / 1e6))
            );
        }
        let _ = writeln!(
            w,
            "\n| command | runs | wall s (median) | peak RSS MiB | CPU s |\n|---|---|---|---|---|"
        );
        for b in &p.builds {
            let _ = writeln!(
                w,
                "| {} | {} | {:.1} | {:.0} | {:.1} |",
                b.what,
                b.wall.len(),
                quantile(&b.wall, 0.5) / 1e9,
                b.median_rss() / 1048576.0,
                b.median_cpu()
            );
        }
    }
    if !p.cold.is_empty() {
        let _ = writeln!(
            w,
            "\n### Cold start of the trivial plugin, in-process (as P4)\n\nLoad and run as in P4; the run \
             includes the plugin's `GET /version`.\n\n\
             | configuration | iterations | load median ms | run median ms | load + run median ms | p99 ms |\n|---|---|---|---|---|---|"
        );
        for c in &p.cold {
            let total: Vec<u64> = c.load.iter().zip(&c.run).map(|(l, r)| l + r).collect();
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} | {:.3} | {} |",
                c.config,
                c.load.len(),
                ms(quantile(&c.load, 0.5)),
                ms(quantile(&c.run, 0.5)),
                cold_ms(c),
                ms(quantile(&total, 0.99))
            );
        }
    }
    if !p.runs.is_empty() {
        let _ = writeln!(
            w,
            "\n### `tug run` as a process (what a user sees)\n\n\
             | command | runs | wall median ms | p99 ms | peak RSS median MiB | CPU median s |\n|---|---|---|---|---|---|"
        );
        for r in &p.runs {
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} | {:.1} | {:.3} |",
                r.what,
                r.wall.len(),
                ms(quantile(&r.wall, 0.5)),
                ms(quantile(&r.wall, 0.99)),
                r.median_rss() / 1048576.0,
                r.median_cpu()
            );
        }
    }
    if !p.density.is_empty() {
        let _ = writeln!(
            w,
            "\n### Idle instances in one host (as P5)\n\nThe Python plugin in mode `idle` (it builds its \
             client, which negotiates the version, prints `ready` and sleeps), on-demand allocator.\n\n\
             | instances | RSS before MiB | RSS with all idle MiB | per instance MiB |\n|---|---|---|---|"
        );
        for d in &p.density {
            let _ = writeln!(
                w,
                "| {} | {:.1} | {:.1} | {:.2} |",
                d.n,
                d.base as f64 / 1048576.0,
                d.rss as f64 / 1048576.0,
                d.rss.saturating_sub(d.base) as f64 / 1048576.0 / d.n as f64
            );
        }
    }
    if !p.version.is_empty() {
        let _ = writeln!(
            w,
            "\n### `/version` round trip through docker-py\n\n\
             | client | calls | median ms | p99 ms | median ÷ docker-py |\n|---|---|---|---|---|"
        );
        let base = find(&p.version, |l| &l.client, DOCKER_PY).map(|l| quantile(&l.ns, 0.5));
        for l in &p.version {
            let m = quantile(&l.ns, 0.5);
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} | {:.3} |",
                l.client,
                l.ns.len(),
                ms(m),
                ms(quantile(&l.ns, 0.99)),
                base.map_or(f64::NAN, |b| m / b)
            );
        }
    }
    if !p.logs.is_empty() {
        let _ = writeln!(
            w,
            "\n### The logs of P2 (a) through docker-py (`logs(stream=True)`)\n\n\
             | client | MiB | frames | s | MB/s | ÷ docker-py | client CPU s | dockerd CPU s |\n|---|---|---|---|---|---|---|---|"
        );
        let base = find(&p.logs, |t| &t.client, DOCKER_PY).map(Throughput::mbps);
        for t in &p.logs {
            let _ = writeln!(
                w,
                "| {} | {:.1} | {} | {:.3} | {:.1} | {:.3} | {:.2} | {:.2} |",
                t.client,
                t.bytes as f64 / 1048576.0,
                t.frames,
                t.secs,
                t.mbps(),
                base.map_or(f64::NAN, |b| t.mbps() / b),
                t.cpu,
                t.daemon_cpu
            );
        }
    }
    for (i, title) in ["sequential", "concurrency 8"].iter().enumerate() {
        if p.lifecycles[i].is_empty() {
            continue;
        }
        let _ = writeln!(
            w,
            "\n### 100 × (create, start, wait, remove), {title}\n\n\
             | client | total s | per round median ms | p99 ms | total ÷ docker-py |\n|---|---|---|---|---|"
        );
        let base = find(&p.lifecycles[i], |l| &l.client, DOCKER_PY).map(|l| l.total);
        for l in &p.lifecycles[i] {
            let _ = writeln!(
                w,
                "| {} | {:.2} | {} | {} | {:.3} |",
                l.client,
                l.total,
                ms(quantile(&l.rounds, 0.5)),
                ms(quantile(&l.rounds, 0.99)),
                base.map_or(f64::NAN, |b| l.total / b)
            );
        }
    }
}
