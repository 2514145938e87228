//! P8, engines other than the local socket: what was measured, its target, and its sections of
//! `docs/benchmarks.md`.

use std::fmt::Write as _;

use super::Target;

/// tug's native client, its pool as configured by default for TLS.
pub const NATIVE: &str = "tug native (8 tasks, one `Client`)";
/// tug's native client keeping one idle connection, as before pooling over TCP.
pub const NATIVE_ONE_IDLE: &str = "tug native, `pool_max_idle = 1` (as before)";
/// 8 bench-plugin runs at once in one host.
pub const PLUGIN: &str = "plugin (8 runs at once, one `Client`)";

/// One client of P8 (a).
pub struct TlsRow {
    /// Who called.
    pub client: String,
    /// Calls per round.
    pub calls: usize,
    /// Each round's seconds for all its calls.
    pub secs: Vec<f64>,
    /// TCP (so TLS) connections opened over all rounds, the warm-up included.
    pub opened: u64,
    /// `Client::open_connections()` after the last round.
    pub open_after: usize,
}

impl TlsRow {
    /// Each round's calls per second.
    pub fn rates(&self) -> Vec<f64> {
        self.secs.iter().map(|s| self.calls as f64 / s).collect()
    }
}

/// One configuration of P8 (b).
pub struct FanOut {
    /// How many engines fleet ran the job on.
    pub engines: usize,
    /// The job (`sh -c JOB`).
    pub job: String,
    /// Each round's wall-clock of the whole `tug run`, s.
    pub wall: Vec<f64>,
    /// Each round's `fleet: N engine(s) in S s`.
    pub fleet: Vec<f64>,
}

/// Everything P8 measured.
#[derive(Default)]
pub struct EngineResults {
    /// P8 (a).
    pub tls: Vec<TlsRow>,
    /// The default `pool_max_idle` of the TLS engine.
    pub pool_default: usize,
    /// P8 (b).
    pub fan_out: Vec<FanOut>,
    /// Load average (1, 5, 15 min) at the start and end of each part.
    pub load: Vec<(String, String)>,
}

/// The median of `v` (the mean of the middle two for an even count).
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// The first and third quartiles of `v` (nearest rank): the middle half of the values lies between them.
pub fn quartiles(v: &[f64]) -> (f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((s.len() as f64 * q).ceil() as usize).clamp(1, s.len().max(1)) - 1;
        s.get(i).copied().unwrap_or(f64::NAN)
    };
    (at(0.25), at(0.75))
}

/// (min, max) of `v`.
pub fn spread(v: &[f64]) -> (f64, f64) {
    v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(*x), hi.max(*x))
    })
}

impl EngineResults {
    /// Each round's ratio of `row`'s calls/s to tug native's in the same round.
    fn paired(&self, row: &TlsRow) -> Vec<f64> {
        let Some(native) = self.tls.iter().find(|r| r.client == NATIVE) else {
            return Vec::new();
        };
        row.rates()
            .iter()
            .zip(native.rates())
            .map(|(r, n)| r / n)
            .collect()
    }

    /// P8's target, with this run's value.
    pub fn targets(&self, t: &mut Vec<Target>) {
        if let Some(p) = self.tls.iter().find(|r| r.client == PLUGIN) {
            let ratios = self.paired(p);
            if !ratios.is_empty() {
                t.push(Target {
                    name: "P8 TLS, 8 callers".into(),
                    what: "P8 TLS engine, 8 concurrent callers: plugin ÷ native calls/s (median of rounds)"
                        .into(),
                    value: median(&ratios),
                    target: 0.9,
                    at_most: false,
                    unit: "×",
                });
            }
        }
    }
}

const METHOD_TLS: &str = "\
A private daemon (`tug_e2e::dockerd::Dockerd::start_tls`: its own data-root, a TLS listener on \
127.0.0.1 with certificates made at its start, `--tlsverify`) on the same two cores; clients made with \
`EngineConfig::from_url(https://127.0.0.1:PORT)` and `TlsConfig::from_dir(client certificates, verify)`, \
one `Client` per row, kept over the rounds. Each row makes the same number of `GET /version` calls with \
8 concurrent callers: *tug native*, 8 tokio tasks sharing the `Client` (its pool keeps up to {POOL} idle \
connections, the default over TCP and TLS); the same with `pool_max_idle = Some(1)`, what tug did \
everywhere before (each call that finds no idle connection makes a TCP connection and a TLS handshake); \
*plugin*, 8 runs of the bench plugin's `version N` at once in one host, as in P3, sharing the `Client`. \
A warm-up round, then rounds in which the rows take turns; calls/s per round, the median and the \
spread (min–max) over rounds, and the ratio to tug native computed per round (the same round's native \
figure: the daemon's drift cancels) with its median. *Connections opened*: TCP connects during the \
row's rounds (the warm-up included), from `ActiveOpens` in `/proc/net/snmp` — nothing else on the \
machine talks to the private daemon, but any other connect on the machine in the meantime counts too; \
*open after*: `Client::open_connections()` after the last round.";

const METHOD_FAN_OUT: &str = "\
The `fleet` plugin (release build) run by the release `tug` binary, one `tug run` process per \
measurement: `tug run [--engine b=unix://… --engine c=unix://…] fleet.wasm -- --engine default \
[--engine b --engine c] -- sh -c JOB`. *default* is the shared daemon, *b* and *c* private daemons of \
`tug_e2e::dockerd::Dockerd::start()` (own data-root, own network namespace) on the same two cores. A \
warm-up run of each configuration, then rounds in which the configurations take turns; medians over \
the rounds of the whole process's wall-clock and of fleet's own `fleet: N engine(s) in S s` (from the \
first container's create to the last row's end). ÷ 1 engine: the median against the same job's on one \
engine. Each engine creates, starts, follows the logs of, waits for and removes its container.";

/// P8's sections of `docs/benchmarks.md`.
pub fn markdown(w: &mut String, p: &EngineResults) {
    if !p.tls.is_empty() {
        let _ = writeln!(
            w,
            "\n## P8: a TLS engine, 8 concurrent callers\n\n{}\n",
            METHOD_TLS.replace("{POOL}", &p.pool_default.to_string())
        );
        let _ = writeln!(
            w,
            "| client | rounds × calls | median s per round | calls/s median | calls/s min–max | ÷ native (median of rounds) | ÷ native min–max | connections opened | open after |\n|---|---|---|---|---|---|---|---|---|"
        );
        for row in &p.tls {
            let rates = row.rates();
            let (lo, hi) = spread(&rates);
            let ratios = p.paired(row);
            let (rlo, rhi) = spread(&ratios);
            let _ = writeln!(
                w,
                "| {} | {} × {} | {:.3} | {:.0} | {:.0}–{:.0} | {:.3} | {:.3}–{:.3} | {} | {} |",
                row.client,
                row.secs.len(),
                row.calls,
                median(&row.secs),
                median(&rates),
                lo,
                hi,
                median(&ratios),
                rlo,
                rhi,
                row.opened,
                row.open_after
            );
        }
    }
    if !p.fan_out.is_empty() {
        let _ = writeln!(
            w,
            "\n## P8b: fan-out, one job on N engines with `fleet`\n\n{METHOD_FAN_OUT}\n"
        );
        let _ = writeln!(
            w,
            "| engines | job | rounds | `tug run` s median | min–max | fleet s median | min–max | `tug run` ÷ 1 engine | fleet ÷ 1 engine |\n|---|---|---|---|---|---|---|---|---|"
        );
        for row in &p.fan_out {
            let one = p.fan_out.iter().find(|r| r.engines == 1 && r.job == row.job);
            let (wlo, whi) = spread(&row.wall);
            let (flo, fhi) = spread(&row.fleet);
            let _ = writeln!(
                w,
                "| {} | `sh -c '{}'` | {} | {:.3} | {:.3}–{:.3} | {:.3} | {:.3}–{:.3} | {:.3} | {:.3} |",
                row.engines,
                row.job,
                row.wall.len(),
                median(&row.wall),
                wlo,
                whi,
                median(&row.fleet),
                flo,
                fhi,
                one.map_or(f64::NAN, |o| median(&row.wall) / median(&o.wall)),
                one.map_or(f64::NAN, |o| median(&row.fleet) / median(&o.fleet)),
            );
        }
    }
    let measured = !p.tls.is_empty() || !p.fan_out.is_empty();
    if measured && !p.load.is_empty() {
        let loads: Vec<String> = p.load.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(w, "\nLoad average (1, 5, 15 min): {}.", loads.join("; "));
    }
}
