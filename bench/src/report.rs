//! The results of one run, their ratios against the issue's targets, and `docs/benchmarks.md` with its
//! chart `docs/benchmarks.svg`.

use std::fmt::Write as _;

pub mod engines;
pub mod js;
pub mod merge;
pub mod python;

/// Per-call latencies of one client (P1).
pub struct Latency {
    /// Who made the calls.
    pub client: String,
    /// Each call's ns.
    pub ns: Vec<u64>,
}

/// One stream read (P2).
pub struct Throughput {
    /// Who read it.
    pub client: String,
    /// Bytes read.
    pub bytes: u64,
    /// Frames (logs) or chunks (archive) the client saw, 0 when unknown.
    pub frames: u64,
    /// From the request to the last byte.
    pub secs: f64,
    /// CPU seconds the client used meanwhile (user + system; a child process's once it ended).
    pub cpu: f64,
    /// CPU seconds dockerd used meanwhile.
    pub daemon_cpu: f64,
}

impl Throughput {
    /// MB/s (10^6 bytes).
    pub fn mbps(&self) -> f64 {
        self.bytes as f64 / self.secs / 1e6
    }
}

/// 100 lifecycles (P3).
pub struct Lifecycle {
    /// Who ran them.
    pub client: String,
    /// Wall-clock for all of them.
    pub total: f64,
    /// Each round's ns.
    pub rounds: Vec<u64>,
}

/// Cold starts of one configuration (P4).
pub struct ColdStart {
    /// Cache and allocator.
    pub config: String,
    /// `PluginHost` set-up (wasmtime engine, linker, cache directory), once per process.
    pub setup_ms: f64,
    /// Each load (read, compile or map, pre-instantiate), ns.
    pub load: Vec<u64>,
    /// Each run of the loaded plugin (store, instantiate, `run`), ns.
    pub run: Vec<u64>,
}

/// Resident memory of a process holding idle plugin instances (P5).
pub struct Density {
    /// The allocator.
    pub config: String,
    /// Instances.
    pub n: usize,
    /// VmRSS with the host set up and the plugin loaded, before any instance.
    pub base: u64,
    /// VmRSS with all instances idle.
    pub rss: u64,
}

/// Everything one run measured.
#[derive(Default)]
pub struct Results {
    /// (what, value) of the machine.
    pub machine: Vec<(String, String)>,
    /// (what, version).
    pub versions: Vec<(String, String)>,
    /// P1.
    pub p1: Vec<Latency>,
    /// P2 (a), (b), (c).
    pub p2: [Vec<Throughput>; 3],
    /// P3 sequential, concurrency 8.
    pub p3: [Vec<Lifecycle>; 2],
    /// P4.
    pub p4: Vec<ColdStart>,
    /// P5.
    pub p5: Vec<Density>,
    /// P6: Python plugins.
    pub p6: python::PyResults,
    /// P7: JavaScript plugins.
    pub p7: js::JsResults,
    /// P2 (b): per client other than curl, each round's MB/s ÷ curl's in the same round.
    pub p2b_pairs: Vec<(String, Vec<f64>)>,
    /// P8: a TLS engine and fan-out.
    pub p8: engines::EngineResults,
    /// Extra paragraphs (profiles, breakdowns), appended under their heading.
    pub notes: Vec<(String, String)>,
}

/// The `q` quantile (0..=1) of `ns` (nearest rank).
pub fn quantile(ns: &[u64], q: f64) -> f64 {
    if ns.is_empty() {
        return f64::NAN;
    }
    let mut v = ns.to_vec();
    v.sort_unstable();
    let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
    v[i] as f64
}

/// One target and what was measured against it.
pub struct Target {
    /// Short name, e.g. `P1 median`.
    pub name: String,
    /// What the number is.
    pub what: String,
    /// The measured value (a ratio, or ms, or GiB).
    pub value: f64,
    /// The target.
    pub target: f64,
    /// Whether the value must be at most (true) or at least (false) the target.
    pub at_most: bool,
    /// The unit shown after the numbers (`×`, ` ms`, ` GiB`).
    pub unit: &'static str,
}

impl Target {
    /// Whether it is met.
    pub fn met(&self) -> bool {
        if self.at_most {
            self.value <= self.target
        } else {
            self.value >= self.target
        }
    }
    /// ≥ 1 when met: how far inside (or outside) the target the value is.
    pub fn score(&self) -> f64 {
        if self.at_most {
            self.target / self.value
        } else {
            self.value / self.target
        }
    }
    fn mark(&self) -> &'static str {
        if self.met() {
            "✓"
        } else {
            "✗"
        }
    }
}

fn find<'a, T>(v: &'a [T], name: impl Fn(&T) -> &str, who: &str) -> Option<&'a T> {
    v.iter().find(|x| name(x) == who)
}

impl Results {
    /// The targets of the issue, with the values of this run (those that were measured).
    pub fn targets(&self) -> Vec<Target> {
        let mut t = Vec::new();
        let lat = |who: &str, q: f64| find(&self.p1, |l| &l.client, who).map(|l| quantile(&l.ns, q));
        for (q, label) in [(0.5, "median"), (0.99, "p99")] {
            if let (Some(p), Some(n)) = (lat("plugin", q), lat("tug native", q)) {
                t.push(Target {
                    name: format!("P1 {label}"),
                    what: format!("/version {label}: plugin ÷ native"),
                    value: p / n,
                    target: 1.10,
                    at_most: true,
                    unit: "×",
                });
            }
        }
        let tp = |i: usize, who: &str| find(&self.p2[i], |r| &r.client, who).map(Throughput::mbps);
        if let Some((_, pairs)) = self.p2b_pairs.iter().find(|(c, _)| c == "plugin") {
            t.push(Target {
                name: "P2b archive".into(),
                what: "P2b archive: plugin ÷ curl (MB/s, median of per-round ratios)".into(),
                value: engines::median(pairs),
                target: 0.95,
                at_most: false,
                unit: "×",
            });
        }
        for (i, label) in [(0, "P2a logs"), (1, "P2b archive"), (2, "P2c follow")] {
            if i == 1 && !self.p2b_pairs.is_empty() {
                continue;
            }
            if let (Some(p), Some(c)) = (tp(i, "plugin"), tp(i, "curl")) {
                t.push(Target {
                    name: label.into(),
                    what: format!("{label}: plugin ÷ curl (MB/s)"),
                    value: p / c,
                    target: 0.90,
                    at_most: false,
                    unit: "×",
                });
            }
        }
        if let (Some(p), Some(d)) = (tp(0, "plugin"), tp(0, "docker-py")) {
            t.push(Target {
                name: "P2a vs docker-py".into(),
                what: "P2a logs: plugin ÷ docker-py (MB/s)".into(),
                value: p / d,
                target: 2.0,
                at_most: false,
                unit: "×",
            });
        }
        for (i, label) in [(0, "P3 sequential"), (1, "P3 concurrency 8")] {
            let total = |who: &str| find(&self.p3[i], |r| &r.client, who).map(|r| r.total);
            if let (Some(p), Some(n)) = (total("plugin"), total("tug native")) {
                t.push(Target {
                    name: label.into(),
                    what: format!("{label}: plugin ÷ native (total time)"),
                    value: p / n,
                    target: 1.05,
                    at_most: true,
                    unit: "×",
                });
            }
        }
        if let Some(c) = self
            .p4
            .iter()
            .filter(|c| c.config.contains("cache"))
            .min_by(|a, b| cold_ms(a).total_cmp(&cold_ms(b)))
        {
            t.push(Target {
                name: "P4 cold start".into(),
                what: format!("P4 Rust cold start with the cache ({}), median ms", c.config),
                value: cold_ms(c),
                target: 2.0,
                at_most: true,
                unit: " ms",
            });
        }
        if let Some(d) = self.p5.iter().filter(|d| d.n == 500).min_by_key(|d| d.rss) {
            t.push(Target {
                name: "P5 density".into(),
                what: format!("P5 RSS of 500 idle instances ({}), GiB", d.config),
                value: d.rss as f64 / (1u64 << 30) as f64,
                target: 2.0,
                at_most: true,
                unit: " GiB",
            });
        }
        self.p6.targets(&mut t);
        self.p7.targets(&mut t);
        self.p8.targets(&mut t);
        t
    }
}

/// Median load + run of a cold start, ms.
pub fn cold_ms(c: &ColdStart) -> f64 {
    let total: Vec<u64> = c.load.iter().zip(&c.run).map(|(l, r)| l + r).collect();
    quantile(&total, 0.5) / 1e6
}

fn ms(ns: f64) -> String {
    format!("{:.3}", ns / 1e6)
}

/// `docs/benchmarks.md`.
pub fn markdown(r: &Results, command: &str) -> String {
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "# Benchmarks\n");
    let _ = writeln!(
        w,
        "Written by `{command}` (the harness in `bench/`, the plugin in `plugins/bench/`); every figure \
         below comes from one run of it on the machine described here. The daemon is often the limit, so \
         each target is a ratio against the best a native client got in the same run.\n"
    );
    let _ = writeln!(w, "![ratios against the targets](benchmarks.svg)\n");
    let _ = writeln!(
        w,
        "## Targets\n\n| target | measured | target | met |\n|---|---|---|---|"
    );
    for t in r.targets() {
        let _ = writeln!(
            w,
            "| {} | {:.3}{u} | {} {:.2}{u} | {} |",
            t.what,
            t.value,
            if t.at_most { "≤" } else { "≥" },
            t.target,
            t.mark(),
            u = t.unit
        );
    }
    let _ = writeln!(w, "\n## Machine and versions\n\n| | |\n|---|---|");
    for (k, v) in r.machine.iter().chain(&r.versions) {
        let _ = writeln!(w, "| {k} | {v} |");
    }
    let _ = writeln!(w, "\n## Method\n\n{}", METHOD);

    let _ = writeln!(
        w,
        "\n## P1: `/version` round trip\n\n| client | calls | median ms | p99 ms | median ÷ native |\n|---|---|---|---|---|"
    );
    let native = find(&r.p1, |l| &l.client, "tug native").map(|l| quantile(&l.ns, 0.5));
    for l in &r.p1 {
        let m = quantile(&l.ns, 0.5);
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {:.3} |",
            l.client,
            l.ns.len(),
            ms(m),
            ms(quantile(&l.ns, 0.99)),
            native.map_or(f64::NAN, |n| m / n)
        );
    }
    for (i, title) in [
        "P2 (a): 256 MiB of logs in 100-byte lines (per-frame cost)",
        "P2 (b): a 1 GiB `get_archive` (bulk bytes)",
        "P2 (c): following the logs of a container writing as fast as it can",
    ]
    .iter()
    .enumerate()
    {
        let _ = writeln!(
            w,
            "\n## {title}\n\n| client | MiB | frames or chunks | s | MB/s | ÷ curl | client CPU s | dockerd CPU s |\n|---|---|---|---|---|---|---|---|"
        );
        let curl = find(&r.p2[i], |t| &t.client, "curl").map(Throughput::mbps);
        for t in &r.p2[i] {
            let _ = writeln!(
                w,
                "| {} | {:.1} | {} | {:.3} | {:.1} | {:.3} | {:.2} | {:.2} |",
                t.client,
                t.bytes as f64 / (1u64 << 20) as f64,
                if t.frames == 0 {
                    "–".into()
                } else {
                    t.frames.to_string()
                },
                t.secs,
                t.mbps(),
                curl.map_or(f64::NAN, |c| t.mbps() / c),
                t.cpu,
                t.daemon_cpu
            );
        }
        if i == 1 && !r.p2b_pairs.is_empty() {
            p2b_pairs(w, &r.p2b_pairs);
        }
    }
    for (i, title) in [
        "P3: 100 × (create, start, wait, remove), sequential",
        "P3: the same with concurrency 8",
    ]
    .iter()
    .enumerate()
    {
        let _ = writeln!(
            w,
            "\n## {title}\n\n| client | total s | per round median ms | p99 ms | total ÷ native |\n|---|---|---|---|---|"
        );
        let native = find(&r.p3[i], |l| &l.client, "tug native").map(|l| l.total);
        for l in &r.p3[i] {
            let _ = writeln!(
                w,
                "| {} | {:.2} | {} | {} | {:.3} |",
                l.client,
                l.total,
                ms(quantile(&l.rounds, 0.5)),
                ms(quantile(&l.rounds, 0.99)),
                native.map_or(f64::NAN, |n| l.total / n)
            );
        }
    }
    let _ = writeln!(
        w,
        "\n## P4: cold start of a trivial Rust plugin\n\nLoad = read the file, compile it (or map it from the cache), \
         pre-instantiate (link and type-check the imports); run = a fresh `Store` and WASI context, \
         instantiate, call `wasi:cli/run`, which returns at once. Host set-up (wasmtime engine, linker) \
         happens once per process and is shown apart. Python plugins: P6; JavaScript plugins do not exist \
         in this repository yet.\n\n\
         | configuration | host set-up ms | iterations | load median ms | run median ms | load + run median ms | p99 ms |\n|---|---|---|---|---|---|---|"
    );
    for c in &r.p4 {
        let total: Vec<u64> = c.load.iter().zip(&c.run).map(|(l, r)| l + r).collect();
        let _ = writeln!(
            w,
            "| {} | {:.2} | {} | {} | {} | {:.3} | {} |",
            c.config,
            c.setup_ms,
            c.load.len(),
            ms(quantile(&c.load, 0.5)),
            ms(quantile(&c.run, 0.5)),
            cold_ms(c),
            ms(quantile(&total, 0.99))
        );
    }
    let _ = writeln!(
        w,
        "\n## P5: density\n\nOne host process (`tug-bench density N`) runs N instances of the bench plugin \
         in `idle` mode (each prints `ready`, then blocks on a `wasi:clocks` pollable); VmRSS is read \
         from `/proc/PID/status` once all N printed `ready`.\n\n\
         | allocator | instances | RSS before MiB | RSS with all idle MiB | per instance KiB |\n|---|---|---|---|---|"
    );
    for d in &r.p5 {
        let _ = writeln!(
            w,
            "| {} | {} | {:.1} | {:.1} | {:.0} |",
            d.config,
            d.n,
            d.base as f64 / 1048576.0,
            d.rss as f64 / 1048576.0,
            (d.rss.saturating_sub(d.base)) as f64 / 1024.0 / d.n as f64
        );
    }
    python::markdown(w, &r.p6);
    js::markdown(w, &r.p7);
    engines::markdown(w, &r.p8);
    let analysis =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("analysis.md"))
            .unwrap_or_default();
    if !analysis.trim().is_empty() {
        let _ = writeln!(w, "\n{}", analysis.trim_end());
    }
    for (title, body) in &r.notes {
        let _ = writeln!(w, "\n## {title}\n\n{body}");
    }
    s
}

const METHOD: &str = "\
- **Clients.** *plugin*: the bench plugin (Rust, wasm32-wasip2, release) run in-process by tug's \
  `PluginHost`, exactly as `tug run` runs plugins (one `Store` per run, the `trusted` policy so that it may \
  read the harness's fixtures; the gate, canonical bodies and labels still apply), timed inside the plugin \
  with `wasi:clocks/monotonic-clock`. *tug native*: tug's own engine client (`tug::engine::Client`, what \
  the host uses underneath) called directly. *bollard*: the bollard crate. *docker-py*: the `docker` \
  package from PyPI in a venv the harness makes under `target/`, timed inside Python with \
  `time.perf_counter_ns`. *curl*: `curl --unix-socket`, body to `/dev/null`, timed around the process \
  (the daemon's limit for streams). *docker CLI*: `docker version`, one process per call.
- **Timing.** Every client times the same thing: from sending the request to the last byte of the answer \
  (streams: from the call that opens the stream — for (c), from the container's start — to its end).
- **P2 fixtures** (containers of `tug-test/busybox`, removed at the end): (a) a container that wrote \
  `yes $(printf %099d 0) | head -c 256MiB` (100-byte lines) and exited, read with `stdout=1`; (b) a \
  container holding a 1 GiB file written by `dd`, read with `GET /containers/{id}/archive`; (c) a fresh \
  container per client writing 128 MiB of 100-byte lines, which the client starts and then follows \
  (`follow=1`) to the end. Plugin and native logs readers ask for frames of up to 1 MiB; every log line \
  is one frame. The archive plugin reads with `blocking-read` of 1 MiB.
- **CPU columns** (P2): user + system CPU seconds of the client (the harness process for the plugin and \
  tug's client, the child process for curl and docker-py) and of dockerd during the read, from \
  `/proc/PID/stat` (10 ms ticks). With 2 cores, a daemon near 1 CPU-second per second is the limit.
- **Order.** Clients take turns: P1 in 5 rounds of 400 calls each, P2 in rounds of one read each (the \
  best of 3 rounds per client for (a) and (c); for the archive, (b), 7 rounds, the median round per \
  client shown, and the target taken on the median of the per-round ratios plugin ÷ curl), P3 in 5 \
  chunks of 20 lifecycles; so the daemon's drift (and other load on the machine) spreads over all \
  clients.
- **P3**: 100 × (create, start, wait, remove) of `busybox true`. Concurrency 8: the native client and \
  docker-py use 8 tasks or threads taking rounds from a shared counter; plugins use 8 plugin instances \
  running at once in one host (a WASI 0.2 plugin's host calls are synchronous for the plugin, so one \
  instance does one call at a time), 12 or 13 rounds each.
- **P6** (Python plugins): docker-py's side of P1–P3 (`bench/py/docker_py_bench.py`) built with \
  `tug build` and run in the sandbox against the same script on the host's Python, in the same run; its \
  method is in its section.
";

/// The paired ratios of P2 (b): each round's MB/s ÷ curl's in the same round, per client.
fn p2b_pairs(w: &mut String, pairs: &[(String, Vec<f64>)]) {
    let _ = writeln!(
        w,
        "\nThe rows above are each client's median round (by MB/s). Paired ratios: in each round every \
         client reads once, curl first in odd rounds and last in even ones; a client's MB/s ÷ curl's in \
         the same round (the daemon's drift between rounds cancels), over the rounds:\n\n\
         | client | rounds | ÷ curl, median | middle half | min–max |\n|---|---|---|---|---|"
    );
    for (client, v) in pairs {
        let (lo, hi) = engines::spread(v);
        let (q1, q3) = engines::quartiles(v);
        let _ = writeln!(
            w,
            "| {client} | {} | {:.3} | {q1:.3}–{q3:.3} | {lo:.3}–{hi:.3} |",
            v.len(),
            engines::median(v),
        );
    }
}

/// `docs/benchmarks.svg`: one bar per target, its length how far inside (≥ 1, green) or outside (red) the
/// target the value is.
pub fn svg(targets: &[Target]) -> String {
    let (left, width, row) = (330.0, 420.0, 30.0);
    let height = 60.0 + row * targets.len() as f64 + 30.0;
    let scale = |score: f64| score.clamp(0.0, 2.0) / 2.0 * width;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="sans-serif" font-size="13">"#,
        w = left + width + 150.0
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="10" y="24" font-size="15" font-weight="bold">tug benchmarks: each measured value against its target (bar ≥ the line: met)</text>"#
    );
    for (i, t) in targets.iter().enumerate() {
        let y = 45.0 + row * i as f64;
        let color = if t.met() { "#3a9d4a" } else { "#c8423b" };
        let _ = writeln!(
            s,
            r#"<text x="{x}" y="{ty}" text-anchor="end">{name}</text><rect x="{left}" y="{y}" width="{bw:.1}" height="{h}" fill="{color}"/><text x="{lx:.1}" y="{ty}">{v:.2}{u} ({op} {tg:.2}{u}) {mark}</text>"#,
            x = left - 8.0,
            ty = y + 15.0,
            name = escape(&t.name),
            bw = scale(t.score()),
            h = row - 10.0,
            lx = left + scale(t.score()) + 6.0,
            v = t.value,
            u = t.unit,
            op = if t.at_most { "≤" } else { "≥" },
            tg = t.target,
            mark = t.mark(),
        );
    }
    let x1 = left + scale(1.0);
    let bottom = 45.0 + row * targets.len() as f64;
    let _ = writeln!(
        s,
        r#"<line x1="{x1}" y1="38" x2="{x1}" y2="{bottom}" stroke="black" stroke-dasharray="4 3"/><text x="{x1}" y="{ty}" text-anchor="middle">target</text>"#,
        ty = bottom + 16.0
    );
    let _ = writeln!(s, "</svg>");
    s
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
