//! P7, JavaScript plugins: what was measured, its targets, and its section of `docs/benchmarks.md`.

use std::fmt::Write as _;

use super::{find, python::Process, quantile, Density, Target, Throughput};

/// The JavaScript plugin reading dockerode's logs stream (the engine's multiplexed bytes).
pub const JS_RAW: &str = "JavaScript plugin, dockerode's stream (`into-stream`)";
/// The JavaScript plugin iterating demultiplexed frames.
pub const JS_DEMUX: &str = "JavaScript plugin, demultiplexed frames (`for await`)";

/// Everything P7 measured.
#[derive(Default)]
pub struct JsResults {
    /// (plugin, component bytes, compiled artifact bytes).
    pub sizes: Vec<(String, u64, Option<u64>)>,
    /// `tug build --no-cache` of each script.
    pub builds: Vec<Process>,
    /// `tug run` processes.
    pub runs: Vec<Process>,
    /// Idle instances of the JavaScript plugin in one host process (as P5).
    pub density: Vec<Density>,
    /// The logs of P2 (a) through each.
    pub logs: Vec<Throughput>,
    /// Load average (1, 5, 15 min) when P7 started and ended.
    pub load: Vec<(String, String)>,
    /// The SDK and engine versions the plugin reported.
    pub about: Option<String>,
}

impl JsResults {
    /// Whether anything was measured.
    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty() && self.runs.is_empty() && self.logs.is_empty()
    }

    /// P7's targets, with this run's values.
    pub fn targets(&self, t: &mut Vec<Target>) {
        if let Some(p) = self
            .runs
            .iter()
            .find(|p| p.what.starts_with("JavaScript") && p.what.contains("cached"))
        {
            t.push(Target {
                name: "P7 cold start `tug run`".into(),
                what: "P7 JavaScript cold start with the cache, a `tug run` process (wall), median ms".into(),
                value: quantile(&p.wall, 0.5) / 1e6,
                target: 60.0,
                at_most: true,
                unit: " ms",
            });
        }
        let mbps = |who: &str| find(&self.logs, |r| &r.client, who).map(Throughput::mbps);
        if let (Some(js), Some(curl)) = (mbps(JS_RAW), mbps("curl")) {
            t.push(Target {
                name: "P7 logs".into(),
                what: "P7 logs: JavaScript plugin (dockerode's stream) ÷ curl (MB/s)".into(),
                value: js / curl,
                target: 0.9,
                at_most: false,
                unit: "×",
            });
        }
    }
}

const METHOD: &str = "\
The JavaScript plugin is `bench/js/dockerode_bench.js`, dockerode-style code over tug's JavaScript SDK \
(`sdk/js`), built with `tug build` (esbuild, componentize-js 0.23 / StarlingMonkey, which interprets: \
there is no JIT in the component) and run in-process by `PluginHost` under the `trusted` policy like the \
Rust plugin; it times itself with `performance.now()` (in the sandbox: `wasi:clocks`). Logs: `logs ID` \
reads dockerode's stream of `container.logs({follow: true})`, the engine's multiplexed bytes as they \
arrive, from the `input-stream` the SDK turns the logs' `frame-reader` into (`frame-reader.into-stream`), \
as a dockerode user pipes it to `demuxStream`; `frames ID` iterates the same bytes split into frames in \
JavaScript (`for await`, one item per log line). curl and dockerode's \
stream count the bytes on the wire; 8 bytes per frame (the Rust plugin's frame count) come off theirs, \
as in P2, so that MB/s compare payload. The clients take turns, in rounds of one read each, the best of \
each. The trivial plugin `bench/js/dockerode_startup.js` is `await new Docker().version()` (one \
`GET /version`). Every `tug` process is the release `tug` binary with `TUG_CACHE_DIR` in \
`target/bench-js/`, emptied at the start; wall-clock, peak RSS and CPU come from `wait4` (the peak is the \
largest of the process and its children: node running componentize-js during a build). `tug run` uses its \
default policy (`untrusted`).";

/// P7's section of `docs/benchmarks.md`.
pub fn markdown(w: &mut String, p: &JsResults) {
    if p.is_empty() {
        return;
    }
    let _ = writeln!(
        w,
        "\n## P7: JavaScript plugins (the dockerode-shaped SDK)\n\n{METHOD}\n"
    );
    if let Some(about) = &p.about {
        let _ = writeln!(w, "In the sandbox: {about}.\n");
    }
    if !p.load.is_empty() {
        let loads: Vec<String> = p.load.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(w, "Load average (1, 5, 15 min): {}.\n", loads.join("; "));
    }
    if !p.sizes.is_empty() {
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
    }
    let table = |w: &mut String, title: &str, rows: &[Process], div: f64, unit: &str| {
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(
            w,
            "\n{title}\n\n| command | runs | wall median {unit} | p99 {unit} | peak RSS median MiB | CPU median s |\n|---|---|---|---|---|---|"
        );
        for r in rows {
            let mut cpu = r.cpu.clone();
            cpu.sort_by(f64::total_cmp);
            let _ = writeln!(
                w,
                "| {} | {} | {:.1} | {:.1} | {:.1} | {:.3} |",
                r.what,
                r.wall.len(),
                quantile(&r.wall, 0.5) / div,
                quantile(&r.wall, 0.99) / div,
                quantile(&r.rss, 0.5) / 1048576.0,
                cpu.get(cpu.len() / 2).copied().unwrap_or(f64::NAN)
            );
        }
    };
    table(w, "", &p.builds, 1e9, "s");
    table(
        w,
        "### `tug run` as a process (what a user sees)",
        &p.runs,
        1e6,
        "ms",
    );
    if !p.density.is_empty() {
        let _ = writeln!(
            w,
            "\n### Idle instances in one host (as P5)\n\nThe JavaScript plugin in mode `idle` (one \
             `GET /version`, prints `ready`, then awaits a timer), on-demand allocator.\n\n\
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
    if !p.logs.is_empty() {
        let _ = writeln!(
            w,
            "\n### The logs of P2 (a)\n\n\
             | client | MiB | reads | s | MB/s | ÷ curl | client CPU s | dockerd CPU s |\n|---|---|---|---|---|---|---|---|"
        );
        let base = find(&p.logs, |t| &t.client, "curl").map(Throughput::mbps);
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
}
