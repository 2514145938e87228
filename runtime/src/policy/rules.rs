//! The rules of each route whose body can escape a container, one function per body; every row of
//! `docs/policy.md`'s checklist table is enforced here or by the gate.

use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::{
    denial::{Denial, GateError},
    gate::Gate,
};
use crate::engine::Client;

pub use super::rules_images::{build_options, image_changes};

/// Capabilities no policy may grant (escape primitives).
const NEVER_CAPS: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_PTRACE",
    "DAC_READ_SEARCH",
    "SYS_RAWIO",
    "BPF",
];

pub(crate) fn is_set(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Number(n) => n.as_f64() != Some(0.0),
    }
}

pub(crate) fn items(v: &Value) -> impl Iterator<Item = (usize, &Value)> {
    v.as_array().into_iter().flatten().enumerate()
}

pub(crate) fn deny(rule: &str, field: impl Into<String>, reason: impl Into<String>) -> GateError {
    GateError::Denied(Denial::field(rule, field, reason))
}

/// Lexically normalizes an absolute path (`/x/../proc//self` → `/proc/self`).
pub(crate) fn lexical(path: &str) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in Path::new(path).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// [`lexical`] as a string (`/x/../data/` → `/data`).
pub(crate) fn lexical_string(path: &str) -> String {
    lexical(path).to_string_lossy().into_owned()
}

/// CVE-2024-21626: a working directory in `/proc` (e.g. `/proc/self/fd/7`) can leak a host fd.
pub(crate) fn check_workdir(v: &Value, field: &str) -> Result<(), GateError> {
    if let Some(dir) = v.as_str().filter(|d| !d.is_empty()) {
        if lexical(dir).starts_with("/proc") {
            return Err(deny(
                "containers.working-dir",
                field,
                format!("working directory {dir} is inside /proc"),
            ));
        }
    }
    Ok(())
}

/// Whether a host path (symlinks resolved) lies in a directory the policy lets containers bind.
fn bind_allowed(gate: &Gate, source: &str, field: &str) -> Result<(), GateError> {
    let allowed = &gate.policy.containers.binds;
    let refuse = |why: String| deny("containers.binds", field, why);
    if allowed.is_empty() {
        return Err(refuse(format!(
            "bind mount of host path {source}: policy {} allows no host paths",
            gate.policy.name
        )));
    }
    // Resolve symlinks: `ln -s / ~/root` then `-v ~/root:/mnt` must not pass as ~/root.
    let real = std::fs::canonicalize(source)
        .map_err(|e| refuse(format!("bind mount of host path {source}: {e} (it must exist)")))?;
    for a in allowed {
        if let Ok(base) = std::fs::canonicalize(a) {
            if real.starts_with(&base) {
                return Ok(());
            }
        }
    }
    Err(refuse(format!(
        "bind mount of host path {source} (really {}) is outside the paths policy {} allows",
        real.display(),
        gate.policy.name
    )))
}

/// A namespace mode: `host` never; `container:<id>` only for the run's own containers (rewritten to the
/// full id); otherwise one of `ok`.
async fn check_mode(
    gate: &Gate,
    client: &Client,
    host: &mut Value,
    key: &str,
    ok: &[&str],
) -> Result<(), GateError> {
    let field = format!("HostConfig.{key}");
    let Some(mode) = host.get(key).and_then(Value::as_str).map(str::to_owned) else {
        return Ok(());
    };
    if let Some(target) = mode.strip_prefix("container:") {
        let full = gate.container(client, target, &field).await?.id;
        host[key] = Value::from(format!("container:{full}"));
        return Ok(());
    }
    if ok.contains(&mode.as_str()) {
        return Ok(());
    }
    Err(deny(
        "containers.namespaces",
        field,
        format!(
            "{key} {mode:?} is not allowed (allowed: {}, or container:<own container>)",
            ok.join(", ")
        ),
    ))
}

/// Resolves legacy links (`name[:alias]`, in `HostConfig.Links` and an endpoint's `Links`): each must
/// name a container of the run's own, and is rewritten to `<full id>:<alias>` (the alias defaults to the
/// name given, as the daemon's).
pub(crate) async fn links(
    gate: &Gate,
    client: &Client,
    list: &mut Value,
    prefix: &str,
) -> Result<(), GateError> {
    let Some(items) = list.as_array_mut() else {
        return Ok(());
    };
    for (i, link) in items.iter_mut().enumerate() {
        let field = format!("{prefix}[{i}]");
        let spec = link.as_str().unwrap_or_default().to_owned();
        let (name, alias) = match spec.split_once(':') {
            Some((n, a)) => (n, a),
            None => (spec.as_str(), spec.as_str()),
        };
        let full = gate
            .container(client, name.trim_start_matches('/'), &field)
            .await?
            .id;
        *link = Value::from(format!("{full}:{}", alias.trim_start_matches('/')));
    }
    Ok(())
}

/// An endpoint's settings (a create's `NetworkingConfig.EndpointsConfig.<net>`, a connect's
/// `EndpointConfig`): legacy links resolved to the run's own containers; no driver options (on newer
/// engines they set the endpoint's sysctls); the network and endpoint ids dropped (the key, or the path,
/// names the network the gate resolved).
pub(crate) async fn endpoint(
    gate: &Gate,
    client: &Client,
    e: &mut Value,
    prefix: &str,
) -> Result<(), GateError> {
    if !e.is_object() {
        return Ok(());
    }
    links(gate, client, &mut e["Links"], &format!("{prefix}.Links")).await?;
    if is_set(&e["DriverOpts"]) {
        return Err(deny(
            "containers.networks",
            format!("{prefix}.DriverOpts"),
            "endpoint driver options are not allowed",
        ));
    }
    if let Some(o) = e.as_object_mut() {
        o.remove("NetworkID");
        o.remove("EndpointID");
    }
    Ok(())
}

/// The shortest interval a health check may run at: each run is an exec the daemon, containerd and the
/// runtime spend CPU on outside the container's limits.
pub const MIN_HEALTH_INTERVAL_NS: i64 = 1_000_000_000;

/// A health check's intervals (`Interval`, `StartInterval`): none shorter than a second (0 is the daemon's
/// default, 30 s). `field` is the health check's JSON path.
pub(crate) fn healthcheck(h: &Value, field: &str) -> Result<(), GateError> {
    for key in ["Interval", "StartInterval"] {
        if let Some(v) = h[key].as_i64().filter(|v| *v != 0 && *v < MIN_HEALTH_INTERVAL_NS) {
            return Err(deny(
                "containers.healthcheck",
                format!("{field}.{key}"),
                format!("a health check every {v} ns; at least every second ({MIN_HEALTH_INTERVAL_NS} ns)"),
            ));
        }
    }
    Ok(())
}

/// Raises the health check a container takes from its image (`inherited`): each interval the
/// container's own `Healthcheck` (in `config`) leaves at 0, the daemon fills from the image; one shorter
/// than a second is set to a second instead (raised, not refused: the image's is not the plugin's doing).
pub(crate) fn raise_inherited_healthcheck(config: &mut Value, inherited: &Value) {
    for key in ["Interval", "StartInterval"] {
        let own = config["Healthcheck"][key].as_i64().unwrap_or(0);
        let theirs = inherited[key].as_i64().unwrap_or(0);
        if own == 0 && theirs != 0 && theirs < MIN_HEALTH_INTERVAL_NS {
            if !config["Healthcheck"].is_object() {
                config["Healthcheck"] = Value::Object(Default::default());
            }
            config["Healthcheck"][key] = Value::from(MIN_HEALTH_INTERVAL_NS);
        }
    }
}

/// Checks and rewrites a container create body (top-level Config, `HostConfig`, `NetworkingConfig`).
pub async fn container_create(gate: &Gate, client: &Client, body: &mut Value) -> Result<(), GateError> {
    let image = body["Image"].as_str().unwrap_or_default().to_owned();
    if image.is_empty() {
        return Err(deny("containers.image", "Image", "a container needs an Image"));
    }
    gate.image(&image, "Image")?;
    check_workdir(&body["WorkingDir"], "WorkingDir")?;
    if !body["Healthcheck"].is_null() {
        healthcheck(&body["Healthcheck"], "Healthcheck")?;
    }
    // What the daemon takes from the image where the body says nothing (its `merge`): the working
    // directory, and each health check field that is absent or 0.
    let v: Value = client
        .json(crate::engine::Request::get(super::image_names::image_path(
            &image, "/json",
        )))
        .await?;
    let config = &v["Config"];
    let image_volumes = config["Volumes"].clone();
    if body["WorkingDir"].as_str().unwrap_or_default().is_empty() {
        check_workdir(&config["WorkingDir"], "Image Config.WorkingDir")?;
    }
    raise_inherited_healthcheck(body, &config["Healthcheck"]);

    let mut host = body
        .get("HostConfig")
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    if host.is_null() {
        host = Value::Object(Default::default());
    }
    host_config(gate, client, &mut host).await?;
    super::ceilings::disk(gate, client, &mut host).await?;
    super::volume_mounts::stamp_mounts(gate, &mut host["Mounts"], "HostConfig.Mounts")?;
    body["HostConfig"] = host;
    super::volume_mounts::label_anonymous(gate, client, body, &image_volumes).await?;

    // Endpoints: keyed by the networks the container joins, each resolved once and keyed by its full id
    // (the listed built-in ones by name); their legacy links as `HostConfig.Links`.
    if let Some(endpoints) = body["NetworkingConfig"]["EndpointsConfig"].as_object().cloned() {
        let mut resolved = serde_json::Map::new();
        for (name, mut endpoint) in endpoints {
            let field = format!("NetworkingConfig.EndpointsConfig.{name}");
            let id = gate.network(client, &name, &field).await?;
            self::endpoint(gate, client, &mut endpoint, &field).await?;
            resolved.insert(id, endpoint);
        }
        body["NetworkingConfig"]["EndpointsConfig"] = Value::Object(resolved);
    }
    Ok(())
}

async fn host_config(gate: &Gate, client: &Client, h: &mut Value) -> Result<(), GateError> {
    if h["Privileged"].as_bool() == Some(true) {
        return Err(deny(
            "containers.privileged",
            "HostConfig.Privileged",
            "privileged containers are never allowed",
        ));
    }
    for (i, b) in items(&h["Binds"]) {
        let field = format!("HostConfig.Binds[{i}]");
        let spec = b.as_str().unwrap_or_default();
        let mut parts = spec.splitn(3, ':');
        let source = parts.next().unwrap_or_default();
        let _dest = parts.next();
        let opts = parts.next().unwrap_or_default();
        if source.starts_with('/') {
            bind_allowed(gate, source, &field)?;
            for o in opts.split(',') {
                if matches!(o, "shared" | "rshared" | "z" | "Z") {
                    return Err(deny(
                        "containers.binds",
                        field,
                        format!("bind option {o} is not allowed"),
                    ));
                }
            }
        } else {
            gate.own_volume(client, source, &field).await?;
        }
    }
    mounts(gate, client, &h["Mounts"], "HostConfig.Mounts").await?;
    if let Some(driver) = h["VolumeDriver"]
        .as_str()
        .filter(|d| !d.is_empty() && *d != "local")
    {
        return Err(deny(
            "containers.volume-driver",
            "HostConfig.VolumeDriver",
            format!("volume driver {driver} is not allowed"),
        ));
    }
    // `name[:ro|rw]`: the container is resolved once and named by its full id, so that no other
    // container can answer for the name between the check and the create.
    if let Some(list) = h.get_mut("VolumesFrom").and_then(Value::as_array_mut) {
        for (i, v) in list.iter_mut().enumerate() {
            let spec = v.as_str().unwrap_or_default().to_owned();
            let (name, mode) = match spec.split_once(':') {
                Some((n, m)) => (n, Some(m)),
                None => (spec.as_str(), None),
            };
            let full = gate
                .container(client, name, &format!("HostConfig.VolumesFrom[{i}]"))
                .await?
                .id;
            *v = Value::from(match mode {
                Some(m) => format!("{full}:{m}"),
                None => full,
            });
        }
    }
    if let Some(list) = h.get_mut("Links") {
        links(gate, client, list, "HostConfig.Links").await?;
    }
    capabilities(gate, &h["CapAdd"], "HostConfig.CapAdd")?;
    for key in [
        "Devices",
        "DeviceCgroupRules",
        "DeviceRequests",
        // These name host devices too (the daemon looks them up on the host).
        "BlkioWeightDevice",
        "BlkioDeviceReadBps",
        "BlkioDeviceWriteBps",
        "BlkioDeviceReadIOps",
        "BlkioDeviceWriteIOps",
    ] {
        if is_set(&h[key]) {
            return Err(deny(
                "containers.devices",
                format!("HostConfig.{key}"),
                "host devices are not allowed",
            ));
        }
    }
    // Passed to the OCI runtime by newer engines (systemd properties, runtime options).
    if is_set(&h["Annotations"]) {
        return Err(deny(
            "containers.runtime",
            "HostConfig.Annotations",
            "annotations reach the container runtime; they are tug's to choose",
        ));
    }
    check_mode(gate, client, h, "PidMode", &[""]).await?;
    // `container:<id>` joins another container's cgroup (and its limits).
    check_mode(gate, client, h, "Cgroup", &[""]).await?;
    check_mode(gate, client, h, "IpcMode", &["", "none", "private", "shareable"]).await?;
    check_mode(gate, client, h, "UTSMode", &[""]).await?;
    check_mode(gate, client, h, "UsernsMode", &[""]).await?;
    check_mode(gate, client, h, "CgroupnsMode", &["", "private"]).await?;
    if let Some(mode) = h["NetworkMode"].as_str().map(str::to_owned) {
        match mode.as_str() {
            "" | "default" | "bridge" | "none"
                if gate
                    .policy
                    .containers
                    .networks
                    .iter()
                    .any(|n| *n == mode || mode.is_empty()) => {}
            "host" => {
                return Err(deny(
                    "containers.namespaces",
                    "HostConfig.NetworkMode",
                    "the host's network namespace is not allowed",
                ));
            }
            m if m.starts_with("container:") => check_mode(gate, client, h, "NetworkMode", &[]).await?,
            m => {
                let id = gate.network(client, m, "HostConfig.NetworkMode").await?;
                h["NetworkMode"] = Value::from(id);
            }
        }
    }
    for (i, o) in items(&h["SecurityOpt"]) {
        let opt = o.as_str().unwrap_or_default().replace(':', "=");
        if !matches!(opt.as_str(), "no-new-privileges" | "no-new-privileges=true") {
            return Err(deny(
                "containers.security-opt",
                format!("HostConfig.SecurityOpt[{i}]"),
                format!("security option {opt:?} is not allowed (only no-new-privileges)"),
            ));
        }
    }
    for key in ["MaskedPaths", "ReadonlyPaths"] {
        if !h[key].is_null() {
            return Err(deny(
                "containers.masked-paths",
                format!("HostConfig.{key}"),
                "changing the masked or read-only /proc paths is not allowed",
            ));
        }
    }
    for key in ["CgroupParent", "Runtime"] {
        if is_set(&h[key]) {
            return Err(deny(
                "containers.runtime",
                format!("HostConfig.{key}"),
                format!("{key} is tug's to choose"),
            ));
        }
    }
    if h["Isolation"]
        .as_str()
        .is_some_and(|i| !i.is_empty() && i != "default")
    {
        return Err(deny(
            "containers.runtime",
            "HostConfig.Isolation",
            "Isolation is tug's to choose",
        ));
    }
    if is_set(&h["Sysctls"]) {
        return Err(deny(
            "containers.sysctls",
            "HostConfig.Sysctls",
            "kernel parameters may not be set",
        ));
    }
    super::ceilings::log_config(gate, h)?;
    ports(gate, h)?;
    if h["OomScoreAdj"].as_i64().is_some_and(|v| v < 0) {
        return Err(deny(
            "containers.resources",
            "HostConfig.OomScoreAdj",
            "a negative OOM score adjustment is not allowed",
        ));
    }
    super::ceilings::resources(gate, h, "HostConfig")
}

/// Published ports: on loopback only, never all of them, and (unless the policy lets plugins choose
/// host ports) on a port the daemon picks: a fixed host port could take one a service of the host is
/// about to listen on, and capture what the host sends it.
fn ports(gate: &Gate, h: &Value) -> Result<(), GateError> {
    if h["PublishAllPorts"].as_bool() == Some(true) {
        return Err(deny(
            "containers.ports",
            "HostConfig.PublishAllPorts",
            "publishing every port on all interfaces is not allowed",
        ));
    }
    let Some(bindings) = h["PortBindings"].as_object() else {
        return Ok(());
    };
    let count: usize = bindings.values().map(|l| l.as_array().map_or(1, Vec::len)).sum();
    if let Some(max) = gate.policy.containers.ports {
        if count as u64 > u64::from(max) {
            return Err(deny(
                "containers.ports",
                "HostConfig.PortBindings",
                format!(
                    "{count} published ports; policy {} allows {max} per container (each is a proxy process \
                     on the host)",
                    gate.policy.name
                ),
            ));
        }
    }
    for (port, list) in bindings {
        for (i, b) in items(list) {
            let ip = b["HostIp"].as_str().unwrap_or_default();
            if !matches!(ip, "127.0.0.1" | "::1") {
                return Err(deny(
                    "containers.ports",
                    format!("HostConfig.PortBindings.{port}[{i}].HostIp"),
                    format!(
                        "ports may be published on loopback only (HostIp 127.0.0.1), not {:?}",
                        if ip.is_empty() { "0.0.0.0" } else { ip }
                    ),
                ));
            }
            let host_port = b["HostPort"].as_str().unwrap_or_default();
            if !gate.policy.containers.fixed_host_ports && !matches!(host_port, "" | "0") {
                return Err(deny(
                    "containers.ports",
                    format!("HostConfig.PortBindings.{port}[{i}].HostPort"),
                    format!(
                        "host port {host_port:?} is fixed; policy {} lets the daemon pick the host port (leave                          HostPort empty and read the port it picked from inspect)",
                        gate.policy.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Checks a list of `Mount`s (a container's `HostConfig.Mounts`, a service's
/// `TaskTemplate.ContainerSpec.Mounts`; `prefix` is the list's JSON path): bind sources only under the
/// policy's `binds` (symlinks resolved), no shared propagation, no created mount points; volumes without
/// inline drivers, named ones only the run's own; tmpfs; every other type (`npipe`, `cluster`…) refused.
pub(crate) async fn mounts(
    gate: &Gate,
    client: &Client,
    list: &Value,
    prefix: &str,
) -> Result<(), GateError> {
    for (i, m) in items(list) {
        let field = format!("{prefix}[{i}]");
        let source = m["Source"].as_str().unwrap_or_default();
        match m["Type"].as_str().unwrap_or("volume") {
            "bind" => {
                bind_allowed(gate, source, &format!("{field}.Source"))?;
                let prop = m["BindOptions"]["Propagation"].as_str().unwrap_or_default();
                if matches!(prop, "shared" | "rshared") {
                    return Err(deny(
                        "containers.binds",
                        format!("{field}.BindOptions.Propagation"),
                        format!("propagation {prop} is not allowed"),
                    ));
                }
                if m["BindOptions"]["CreateMountpoint"].as_bool() == Some(true) {
                    return Err(deny(
                        "containers.binds",
                        format!("{field}.BindOptions.CreateMountpoint"),
                        "creating host mount points is not allowed",
                    ));
                }
            }
            "volume" => {
                if is_set(&m["VolumeOptions"]["DriverConfig"]) {
                    return Err(deny(
                        "containers.volume-driver",
                        format!("{field}.VolumeOptions.DriverConfig"),
                        "inline volume drivers and options (e.g. local with o=bind) are not allowed",
                    ));
                }
                if !source.is_empty() {
                    gate.own_volume(client, source, &format!("{field}.Source"))
                        .await?;
                }
            }
            "tmpfs" => {}
            other => {
                return Err(deny(
                    "containers.mounts",
                    format!("{field}.Type"),
                    format!("mount type {other} is not allowed"),
                ));
            }
        }
    }
    Ok(())
}

/// Checks a list of capabilities to add (`HostConfig.CapAdd`, a service's `CapabilityAdd`; `prefix` is
/// its JSON path): only those the policy's `cap_add` grants (`CAP_` prefix and case normalized), and never
/// the escape primitives of `NEVER_CAPS`.
pub(crate) fn capabilities(gate: &Gate, list: &Value, prefix: &str) -> Result<(), GateError> {
    let pol = &gate.policy.containers;
    for (i, c) in items(list) {
        let cap = c.as_str().unwrap_or_default().to_ascii_uppercase();
        let cap = cap.strip_prefix("CAP_").unwrap_or(&cap).to_owned();
        let granted = pol.cap_add.iter().any(|g| {
            let g = g.to_ascii_uppercase();
            g.strip_prefix("CAP_").unwrap_or(&g) == cap
        });
        if NEVER_CAPS.contains(&cap.as_str()) || !granted {
            return Err(deny(
                "containers.capabilities",
                format!("{prefix}[{i}]"),
                format!("capability {cap} may not be added"),
            ));
        }
    }
    Ok(())
}

/// Checks a container update body (resources and restart policy).
pub fn container_update(gate: &Gate, body: &mut Value) -> Result<(), Denial> {
    for key in ["CgroupParent", "Devices", "DeviceCgroupRules", "DeviceRequests"] {
        if is_set(&body[key]) {
            return Err(Denial::field(
                "containers.update",
                key,
                format!("{key} may not be changed"),
            ));
        }
    }
    let pol = &gate.policy.containers;
    let over =
        |key: &str, ceiling: i64, body: &Value| body[key].as_i64().is_some_and(|v| v < 0 || v > ceiling);
    if let Some(m) = pol.memory {
        for key in ["Memory", "MemorySwap", "MemoryReservation"] {
            if over(key, m.0 as i64, body) {
                return Err(Denial::field(
                    "containers.resources",
                    key,
                    format!("above the memory ceiling of {} bytes", m.0),
                ));
            }
        }
        // No swap beyond memory: the swap limit follows the memory one.
        match (body["Memory"].as_i64(), body["MemorySwap"].is_null()) {
            (Some(mem), _) if mem > 0 => body["MemorySwap"] = Value::from(mem),
            (_, false) => {
                return Err(Denial::field(
                    "containers.resources",
                    "MemorySwap",
                    "swap follows memory: set Memory, and MemorySwap becomes the same",
                ))
            }
            _ => {}
        }
    }
    if let Some(c) = pol.cpus {
        if over("NanoCpus", (c * 1e9) as i64, body) {
            return Err(Denial::field(
                "containers.resources",
                "NanoCpus",
                format!("above the ceiling of {c} CPUs"),
            ));
        }
        for key in ["CpuPeriod", "CpuQuota", "CpuRealtimePeriod", "CpuRealtimeRuntime"] {
            if is_set(&body[key]) {
                return Err(Denial::field(
                    "containers.resources",
                    key,
                    "set CPUs with NanoCpus",
                ));
            }
        }
    }
    if let Some(p) = pol.pids {
        if over("PidsLimit", p, body) || body["PidsLimit"].as_i64() == Some(0) && !body["PidsLimit"].is_null()
        {
            return Err(Denial::field(
                "containers.resources",
                "PidsLimit",
                format!("above the ceiling of {p} processes"),
            ));
        }
    }
    Ok(())
}

/// The `ps` options `containers.top` may pass: whole listings, no option that takes an argument. The
/// daemon runs `ps` with them over the host's processes before it keeps the container's, and quotes the
/// lines it cannot parse in its error (`-p PID -o args` would quote a host process's command line).
pub const TOP_ARGS: &[&str] = &["-ef", "-eF", "-ely", "-e", "-f", "-A", "aux", "-aux", "axu"];

/// Checks `containers.top`'s `ps_args`.
pub fn top_args(gate: &Gate, args: Option<&str>) -> Result<(), Denial> {
    match args {
        Some(a) if !gate.policy.unrestricted && !TOP_ARGS.contains(&a.trim()) => Err(Denial::field(
            "containers.top",
            "ps_args",
            format!(
                "ps options {} are not allowed (allowed: {})",
                super::gate::shorten(a),
                TOP_ARGS.join(", ")
            ),
        )),
        _ => Ok(()),
    }
}

/// Checks an exec create body.
pub fn exec_create(body: &Value) -> Result<(), Denial> {
    if body["Privileged"].as_bool() == Some(true) {
        return Err(Denial::field(
            "exec.privileged",
            "Privileged",
            "privileged exec is never allowed",
        ));
    }
    check_workdir(&body["WorkingDir"], "WorkingDir").map_err(|e| match e {
        GateError::Denied(d) => d,
        GateError::Engine(e) => Denial::call("exec", e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workdirs_in_proc_are_found_after_normalizing() {
        for d in ["/proc/self/fd/7", "/x/../proc/1", "//proc", "/proc"] {
            assert!(check_workdir(&Value::from(d), "WorkingDir").is_err(), "{d}");
        }
        for d in ["/procx", "/work", ""] {
            assert!(check_workdir(&Value::from(d), "WorkingDir").is_ok(), "{d}");
        }
    }

    #[test]
    fn exec_rules() {
        assert!(exec_create(&serde_json::json!({"Cmd": ["sh"], "Privileged": true})).is_err());
        assert!(exec_create(&serde_json::json!({"Cmd": ["sh"], "WorkingDir": "/proc/self/fd/3"})).is_err());
        assert!(exec_create(&serde_json::json!({"Cmd": ["sh"], "User": "root"})).is_ok());
    }
}
