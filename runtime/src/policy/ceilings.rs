//! The ceilings forced on what a run's containers and builds may use: memory (and no swap beyond it),
//! CPUs, processes, logs on the host's disk, and the container's writable layer where the engine's
//! storage driver can bound it.

use serde_json::{Map, Value};

use super::{
    denial::GateError,
    gate::Gate,
    rules::{deny, is_set},
};
use crate::engine::{Client, Request};

/// Forces the policy's resource ceilings onto a `HostConfig` (or a `Resources` object): absent or larger
/// values become the ceiling, and swap is never more than memory (the daemon would otherwise allow twice
/// the memory ceiling as memory plus swap).
pub(crate) fn resources(gate: &Gate, h: &mut Value, prefix: &str) -> Result<(), GateError> {
    let pol = &gate.policy.containers;
    for key in ["CpuPeriod", "CpuQuota", "CpuRealtimePeriod", "CpuRealtimeRuntime"] {
        if is_set(&h[key]) && pol.cpus.is_some() {
            return Err(deny(
                "containers.resources",
                format!("{prefix}.{key}"),
                "set CPUs with NanoCpus; policy ceilings apply to it",
            ));
        }
    }
    let clamp = |h: &mut Value, key: &str, ceiling: i64| {
        let v = h[key].as_i64().unwrap_or(0);
        if v <= 0 || v > ceiling {
            h[key] = Value::from(ceiling);
        }
    };
    if let Some(m) = pol.memory {
        clamp(h, "Memory", clamp_i64(m.0));
        let mem = h["Memory"].as_i64().unwrap_or(0);
        h["MemorySwap"] = Value::from(mem);
    }
    if let Some(c) = pol.cpus {
        clamp(h, "NanoCpus", nano_cpus(c));
    }
    if let Some(p) = pol.pids {
        clamp(h, "PidsLimit", p);
    }
    Ok(())
}

/// A byte count as the engine's signed field.
fn clamp_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// CPUs as `NanoCpus`, saturating.
pub(crate) fn nano_cpus(cpus: f64) -> i64 {
    let n = cpus * 1e9;
    if n.is_finite() && n >= 1.0 {
        n.min(i64::MAX as f64) as i64
    } else {
        1
    }
}

/// Log options a plugin may set on the `json-file` and `local` drivers (what the container's output
/// becomes on the host's disk is bounded by `max-size` × `max-file`, forced below). Not among them:
/// `mode` and `max-buffer-size` (a non-blocking log's buffer is the daemon's memory), and every option
/// that adds to each line written (`tag`, a template the daemon expands as large as it says; `labels`,
/// `env`, `env-regex`, which copy the container's labels and environment into each line): a file's size
/// is checked before a line is written, so a line's size is what a file may exceed its bound by.
const LOG_OPTIONS: &[&str] = &["max-size", "max-file", "compress"];

/// The log driver and its options: `json-file` (when none is given, whatever the daemon's default),
/// `local` or `none`; the log files on the host's disk bounded by the policy's `log_size` per file and
/// `log_files` files.
pub(crate) fn log_config(gate: &Gate, h: &mut Value) -> Result<(), GateError> {
    let pol = &gate.policy.containers;
    let kind = h["LogConfig"]["Type"].as_str().unwrap_or_default().to_owned();
    if !matches!(kind.as_str(), "" | "json-file" | "local" | "none") {
        return Err(deny(
            "containers.log-config",
            "HostConfig.LogConfig.Type",
            format!("log driver {kind} is not allowed (json-file, local, none)"),
        ));
    }
    if kind == "none" {
        return Ok(());
    }
    let mut config = h["LogConfig"]["Config"].as_object().cloned().unwrap_or_default();
    for (key, value) in &config {
        if !LOG_OPTIONS.contains(&key.as_str()) {
            return Err(deny(
                "containers.log-config",
                format!("HostConfig.LogConfig.Config.{key}"),
                format!("log option {key} is not allowed ({})", LOG_OPTIONS.join(", ")),
            ));
        }
        if !value.is_string() {
            return Err(deny(
                "containers.log-config",
                format!("HostConfig.LogConfig.Config.{key}"),
                "log options are strings",
            ));
        }
    }
    if let Some(size) = pol.log_size {
        let asked = config
            .get("max-size")
            .and_then(Value::as_str)
            .and_then(ram_in_bytes);
        if asked.is_none_or(|a| a == 0 || a > size.0) {
            config.insert("max-size".into(), Value::from(size_option(size.0)));
        }
    }
    if let Some(files) = pol.log_files {
        let asked = config
            .get("max-file")
            .and_then(Value::as_str)
            .and_then(|f| f.trim().parse::<u32>().ok());
        if asked.is_none_or(|a| a == 0 || a > files) {
            config.insert("max-file".into(), Value::from(files.max(1).to_string()));
        }
    }
    let mut log = Map::new();
    log.insert(
        "Type".into(),
        Value::from(if kind.is_empty() {
            "json-file"
        } else {
            kind.as_str()
        }),
    );
    log.insert("Config".into(), Value::Object(config));
    h["LogConfig"] = Value::Object(log);
    Ok(())
}

/// A byte size as the daemon's `RAMInBytes` reads it: a number and an optional binary unit
/// (`10m`, `1.5g`, `100KiB`, `4096`); `None` when it is not one.
pub fn ram_in_bytes(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = num.parse().ok()?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit.trim_end_matches('b').trim_end_matches('i');
    let mult: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => return None,
    };
    let n = num * mult;
    (n.is_finite() && n >= 0.0 && n < u64::MAX as f64).then_some(n as u64)
}

/// A byte size in the daemon's notation (`10m`).
fn size_option(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{}m", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{}k", b >> 10),
        b => b.to_string(),
    }
}

/// Storage drivers whose `StorageOpt` `size` bounds a container's writable layer. (`overlay2` can only
/// on xfs mounted with project quotas, which the API does not tell; `vfs` and `overlay2` on ext4 cannot.)
const SIZED_DRIVERS: &[&str] = &["btrfs", "zfs", "devicemapper", "windowsfilter"];

/// The writable layer's size: the policy's `disk` ceiling as `StorageOpt.size` where the engine's storage
/// driver bounds it (and a plugin's own `size` only below it; no other storage option). Where the driver
/// cannot, a container's writes are not bounded by tug (see `docs/policy.md`).
pub(crate) async fn disk(gate: &Gate, client: &Client, h: &mut Value) -> Result<(), GateError> {
    if let Some(options) = h["StorageOpt"].as_object() {
        for (key, value) in options {
            let asked = value.as_str().and_then(ram_in_bytes);
            let within = gate
                .policy
                .containers
                .disk
                .is_none_or(|d| asked.is_some_and(|a| a <= d.0));
            if key != "size" || !within {
                return Err(deny(
                    "containers.disk",
                    format!("HostConfig.StorageOpt.{key}"),
                    match gate.policy.containers.disk {
                        Some(d) => format!("only a `size` of at most {} bytes may be set", d.0),
                        None => "only a `size` may be set".to_owned(),
                    },
                ));
            }
        }
    }
    let Some(ceiling) = gate.policy.containers.disk else {
        return Ok(());
    };
    let driver = storage_driver(gate, client).await?;
    if SIZED_DRIVERS.contains(&driver.as_str()) && !h["StorageOpt"]["size"].is_string() {
        let mut options = h["StorageOpt"].as_object().cloned().unwrap_or_default();
        options.insert("size".into(), Value::from(size_option(ceiling.0)));
        h["StorageOpt"] = Value::Object(options);
    }
    Ok(())
}

/// The engine's storage driver, read once per engine and run.
async fn storage_driver(gate: &Gate, client: &Client) -> Result<String, GateError> {
    let key = client.config().endpoint.to_string();
    if let Some(v) = gate
        .engine_facts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
    {
        return Ok(v["Driver"].as_str().unwrap_or_default().to_owned());
    }
    let info: Value = client.json(Request::get("/info")).await?;
    let facts = serde_json::json!({ "Driver": info["Driver"] });
    let driver = info["Driver"].as_str().unwrap_or_default().to_owned();
    gate.engine_facts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, facts);
    Ok(driver)
}

/// The resources of a build's `RUN` containers, as the build's query parameters give them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BuildResources {
    /// `memory`.
    pub memory: Option<i64>,
    /// `memswap`.
    pub memswap: Option<i64>,
    /// `cpuperiod`.
    pub cpuperiod: Option<i64>,
    /// `cpuquota`.
    pub cpuquota: Option<i64>,
    /// `shmsize`.
    pub shmsize: Option<i64>,
}

impl Gate {
    /// The resources a build's `RUN` steps get: the container ceilings (memory, swap no larger, CPUs as a
    /// quota of 100 ms periods), or less where the plugin asks for less. The classic builder has no
    /// process limit: `pids` cannot be forced on builds (`docs/policy.md`).
    pub fn build_resources(&self, asked: BuildResources) -> BuildResources {
        if self.unrestricted() {
            return asked;
        }
        let pol = &self.policy.containers;
        let mut out = asked;
        if let Some(m) = pol.memory {
            let ceiling = clamp_i64(m.0);
            let memory = asked
                .memory
                .filter(|v| *v > 0 && *v <= ceiling)
                .unwrap_or(ceiling);
            out.memory = Some(memory);
            out.memswap = Some(memory);
            out.shmsize = asked.shmsize.filter(|s| *s > 0 && *s <= memory);
        }
        if let Some(c) = pol.cpus {
            let period = asked
                .cpuperiod
                .filter(|p| (1_000..=1_000_000).contains(p))
                .unwrap_or(100_000);
            let ceiling = (nano_cpus(c) as i128 * period as i128 / 1_000_000_000) as i64;
            let ceiling = ceiling.max(1_000);
            out.cpuperiod = Some(period);
            out.cpuquota = Some(
                asked
                    .cpuquota
                    .filter(|q| *q > 0 && *q <= ceiling)
                    .unwrap_or(ceiling),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::policy::gate::tests::gate;

    #[test]
    fn swap_is_memory() {
        let g = gate("untrusted");
        let mut h = json!({});
        resources(&g, &mut h, "HostConfig").unwrap();
        assert_eq!(h["Memory"], 512 << 20);
        assert_eq!(
            h["MemorySwap"],
            512 << 20,
            "unset swap would give twice the memory"
        );
        let mut h = json!({"Memory": 64 << 20, "MemorySwap": -1});
        resources(&g, &mut h, "HostConfig").unwrap();
        assert_eq!(h["MemorySwap"], 64 << 20);
    }

    #[test]
    fn logs_are_bounded() {
        let g = gate("untrusted");
        let mut h = json!({});
        log_config(&g, &mut h).unwrap();
        assert_eq!(
            h["LogConfig"],
            json!({"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}})
        );
        let mut h = json!({"LogConfig": {"Type": "local", "Config": {"max-size": "1g", "max-file": "2"}}});
        log_config(&g, &mut h).unwrap();
        assert_eq!(
            h["LogConfig"]["Config"],
            json!({"max-size": "10m", "max-file": "2"})
        );
        let mut h = json!({"LogConfig": {"Type": "json-file", "Config": {"max-size": "1m"}}});
        log_config(&g, &mut h).unwrap();
        assert_eq!(h["LogConfig"]["Config"]["max-size"], "1m");
        let mut h = json!({"LogConfig": {"Type": "json-file", "Config": {"path": "/etc/x"}}});
        let e = log_config(&g, &mut h).unwrap_err().to_string();
        assert!(e.contains("HostConfig.LogConfig.Config.path"), "{e}");
        let mut h = json!({"LogConfig": {"Type": "none"}});
        log_config(&g, &mut h).unwrap();
        assert_eq!(h["LogConfig"]["Type"], "none");
    }

    #[test]
    fn sizes_as_the_daemon_reads_them() {
        assert_eq!(ram_in_bytes("10m"), Some(10 << 20));
        assert_eq!(ram_in_bytes("1.5g"), Some(3 << 29));
        assert_eq!(ram_in_bytes("100KiB"), Some(100 << 10));
        assert_eq!(ram_in_bytes("4096"), Some(4096));
        assert_eq!(ram_in_bytes("1 GB"), Some(1 << 30));
        assert_eq!(ram_in_bytes("lots"), None);
        assert_eq!(size_option(10 << 20), "10m");
    }

    #[test]
    fn builds_get_the_container_ceilings() {
        let g = gate("untrusted");
        let r = g.build_resources(BuildResources::default());
        assert_eq!(r.memory, Some(512 << 20));
        assert_eq!(r.memswap, Some(512 << 20));
        assert_eq!((r.cpuperiod, r.cpuquota), (Some(100_000), Some(100_000)));
        let asked = BuildResources {
            memory: Some(8 << 30),
            memswap: Some(-1),
            cpuperiod: Some(50_000),
            cpuquota: Some(500_000),
            shmsize: Some(4 << 30),
        };
        let r = g.build_resources(asked);
        assert_eq!(r.memory, Some(512 << 20));
        assert_eq!(r.memswap, Some(512 << 20));
        assert_eq!((r.cpuperiod, r.cpuquota), (Some(50_000), Some(50_000)));
        assert_eq!(r.shmsize, None);
        assert_eq!(gate("trusted").build_resources(asked), asked);
    }
}
