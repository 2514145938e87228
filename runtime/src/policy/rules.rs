//! The rules of each route whose body can escape a container, one function per body; every row of
//! `docs/policy.md`'s checklist table is enforced here or by the gate.

use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::{
    denial::{Denial, GateError},
    gate::Gate,
};
use crate::engine::Client;

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
fn lexical(path: &str) -> PathBuf {
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
        let full = gate.container(client, target, &field).await?;
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

/// Checks and rewrites a container create body (top-level Config, `HostConfig`, `NetworkingConfig`).
pub async fn container_create(gate: &Gate, client: &Client, body: &mut Value) -> Result<(), GateError> {
    let image = body["Image"].as_str().unwrap_or_default().to_owned();
    if image.is_empty() {
        return Err(deny("containers.image", "Image", "a container needs an Image"));
    }
    gate.image(&image, "Image")?;
    check_workdir(&body["WorkingDir"], "WorkingDir")?;

    let mut host = body
        .get("HostConfig")
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    if host.is_null() {
        host = Value::Object(Default::default());
    }
    host_config(gate, client, &mut host).await?;
    body["HostConfig"] = host;

    if let Some(endpoints) = body["NetworkingConfig"]["EndpointsConfig"].as_object() {
        for name in endpoints.keys() {
            gate.network(client, name, &format!("NetworkingConfig.EndpointsConfig.{name}"))
                .await?;
        }
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
            gate.volume(client, source, &field).await?;
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
    for (i, v) in items(&h["VolumesFrom"]) {
        let name = v
            .as_str()
            .unwrap_or_default()
            .split(':')
            .next()
            .unwrap_or_default();
        gate.container(client, name, &format!("HostConfig.VolumesFrom[{i}]"))
            .await?;
    }
    capabilities(gate, &h["CapAdd"], "HostConfig.CapAdd")?;
    for key in ["Devices", "DeviceCgroupRules", "DeviceRequests"] {
        if is_set(&h[key]) {
            return Err(deny(
                "containers.devices",
                format!("HostConfig.{key}"),
                "host devices are not allowed",
            ));
        }
    }
    check_mode(gate, client, h, "PidMode", &[""]).await?;
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
            m => gate.network(client, m, "HostConfig.NetworkMode").await?,
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
    if let Some(t) = h["LogConfig"]["Type"].as_str() {
        if !matches!(t, "" | "json-file" | "local" | "none") {
            return Err(deny(
                "containers.log-config",
                "HostConfig.LogConfig.Type",
                format!("log driver {t} is not allowed (json-file, local, none)"),
            ));
        }
    }
    if h["PublishAllPorts"].as_bool() == Some(true) {
        return Err(deny(
            "containers.ports",
            "HostConfig.PublishAllPorts",
            "publishing every port on all interfaces is not allowed",
        ));
    }
    if let Some(bindings) = h["PortBindings"].as_object() {
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
            }
        }
    }
    if h["OomScoreAdj"].as_i64().is_some_and(|v| v < 0) {
        return Err(deny(
            "containers.resources",
            "HostConfig.OomScoreAdj",
            "a negative OOM score adjustment is not allowed",
        ));
    }
    ceilings(gate, h, "HostConfig")
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
                    gate.volume(client, source, &format!("{field}.Source")).await?;
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

/// Forces the policy's ceilings: absent or larger values become the ceiling.
fn ceilings(gate: &Gate, h: &mut Value, prefix: &str) -> Result<(), GateError> {
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
        clamp(h, "Memory", m.0 as i64);
        // Swap beyond memory (-1: unlimited) would let the ceiling be walked around.
        let mem = h["Memory"].as_i64().unwrap_or(0);
        let swap = h["MemorySwap"].as_i64().unwrap_or(0);
        if swap < 0 || swap > mem {
            h["MemorySwap"] = Value::from(mem);
        }
    }
    if let Some(c) = pol.cpus {
        clamp(h, "NanoCpus", (c * 1e9) as i64);
    }
    if let Some(p) = pol.pids {
        clamp(h, "PidsLimit", p);
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

/// Bridge driver options that stay inside the network. Every other option is refused: the bridge's host
/// interface name (`com.docker.network.bridge.name`: enslave a host bridge such as `docker0`), a parent
/// interface (`parent`, macvlan and ipvlan), the host address ports bind to by default, gateway modes that
/// route from outside without published ports, trusted host interfaces…
const BRIDGE_OPTIONS: &[&str] = &[
    "com.docker.network.bridge.enable_icc",
    "com.docker.network.bridge.enable_ip_masquerade",
    "com.docker.network.driver.mtu",
    "com.docker.network.container_iface_prefix",
];

/// Checks a network create body: a plain local bridge network (internal, attachable, with IPAM config of
/// the default IPAM driver) and nothing that reaches the host's interfaces or the swarm.
pub fn network_create(body: &Value) -> Result<(), Denial> {
    if let Some(driver) = body["Driver"]
        .as_str()
        .filter(|d| !d.is_empty() && *d != "bridge")
    {
        return Err(Denial::field(
            "networks.driver",
            "Driver",
            format!("network driver {driver} is not allowed (only bridge)"),
        ));
    }
    if !body["Driver"].is_null() && !body["Driver"].is_string() {
        return Err(Denial::field(
            "networks.driver",
            "Driver",
            "Driver must be a string",
        ));
    }
    for key in ["ConfigFrom", "ConfigOnly", "Ingress"] {
        if is_set(&body[key]) {
            return Err(Denial::field(
                "networks.options",
                key,
                format!("{key} is not allowed (config-only networks and the swarm's ingress)"),
            ));
        }
    }
    if let Some(scope) = body["Scope"].as_str().filter(|s| !s.is_empty() && *s != "local") {
        return Err(Denial::field(
            "networks.options",
            "Scope",
            format!("scope {scope} is not allowed (only local)"),
        ));
    }
    if let Some(options) = body["Options"].as_object() {
        for (key, value) in options {
            if !BRIDGE_OPTIONS.contains(&key.as_str()) {
                return Err(Denial::field(
                    "networks.options",
                    format!("Options.{key}"),
                    format!(
                        "driver option {key} is not allowed (allowed: {})",
                        BRIDGE_OPTIONS.join(", ")
                    ),
                ));
            }
            if !value.is_string() {
                return Err(Denial::field(
                    "networks.options",
                    format!("Options.{key}"),
                    "driver options are strings",
                ));
            }
        }
    }
    if let Some(driver) = body["IPAM"]["Driver"]
        .as_str()
        .filter(|d| !d.is_empty() && *d != "default")
    {
        return Err(Denial::field(
            "networks.ipam",
            "IPAM.Driver",
            format!("IPAM driver {driver} is not allowed (only default)"),
        ));
    }
    let routes = super::subnets::current_host_routes();
    for (i, c) in items(&body["IPAM"]["Config"]) {
        for key in ["Subnet", "IPRange"] {
            if let Some(cidr) = c[key].as_str().filter(|s| !s.is_empty()) {
                super::subnets::check(cidr, &routes)
                    .map_err(|why| Denial::field("networks.ipam", format!("IPAM.Config[{i}].{key}"), why))?;
            }
        }
    }
    Ok(())
}

/// Checks a volume create body: the `local` driver without options. With options, `local` mounts whatever
/// they say (`type=none,o=bind,device=/` binds the host's root; `type=nfs`/`cifs` mount network shares);
/// other drivers are plugins running as root.
pub fn volume_create(body: &Value) -> Result<(), Denial> {
    if let Some(driver) = body["Driver"].as_str().filter(|d| !d.is_empty() && *d != "local") {
        return Err(Denial::field(
            "volumes.driver",
            "Driver",
            format!("volume driver {driver} is not allowed (only local)"),
        ));
    }
    if !body["Driver"].is_null() && !body["Driver"].is_string() {
        return Err(Denial::field(
            "volumes.driver",
            "Driver",
            "Driver must be a string",
        ));
    }
    if is_set(&body["ClusterVolumeSpec"]) {
        return Err(Denial::field(
            "volumes.driver",
            "ClusterVolumeSpec",
            "cluster (CSI) volumes are not allowed",
        ));
    }
    if let Some(key) = body["DriverOpts"].as_object().and_then(|o| o.keys().next()) {
        return Err(Denial::field(
            "volumes.driver-opts",
            format!("DriverOpts.{key}"),
            "volume driver options are not allowed (with the local driver they bind host paths or mount \
             network shares)",
        ));
    }
    Ok(())
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
    fn network_rules() {
        use serde_json::json;
        let rule = |b: Value| network_create(&b).map_err(|d| (d.rule, d.field.unwrap_or_default()));
        assert!(rule(json!({"Name": "n"})).is_ok());
        assert!(rule(
            json!({"Name": "n", "Driver": "bridge", "Internal": true, "Attachable": true,
            "IPAM": {"Driver": "default", "Config": [{"Subnet": "172.30.9.0/24", "Gateway": "172.30.9.1"}]},
            "Options": {"com.docker.network.bridge.enable_icc": "false"}, "Scope": "local"})
        )
        .is_ok());
        let denied = |b: Value, r: &str, f: &str| assert_eq!(rule(b), Err((r.into(), f.into())));
        denied(json!({"Driver": "macvlan"}), "networks.driver", "Driver");
        denied(json!({"Driver": "host"}), "networks.driver", "Driver");
        denied(json!({"Driver": 1}), "networks.driver", "Driver");
        denied(
            json!({"Options": {"com.docker.network.bridge.name": "docker0"}}),
            "networks.options",
            "Options.com.docker.network.bridge.name",
        );
        denied(
            json!({"Options": {"parent": "eth0"}}),
            "networks.options",
            "Options.parent",
        );
        denied(
            json!({"Options": {"com.docker.network.bridge.gateway_mode_ipv4": "routed"}}),
            "networks.options",
            "Options.com.docker.network.bridge.gateway_mode_ipv4",
        );
        denied(
            json!({"ConfigFrom": {"Network": "cfg"}}),
            "networks.options",
            "ConfigFrom",
        );
        denied(json!({"ConfigOnly": true}), "networks.options", "ConfigOnly");
        denied(json!({"Ingress": true}), "networks.options", "Ingress");
        denied(json!({"Scope": "swarm"}), "networks.options", "Scope");
        denied(
            json!({"IPAM": {"Driver": "dhcp"}}),
            "networks.ipam",
            "IPAM.Driver",
        );
    }

    #[test]
    fn volume_rules() {
        use serde_json::json;
        let rule = |b: Value| volume_create(&b).map_err(|d| (d.rule, d.field.unwrap_or_default()));
        assert!(rule(json!({"Name": "v"})).is_ok());
        assert!(
            rule(json!({"Name": "v", "Driver": "local", "DriverOpts": {}, "Labels": {"a": "b"}})).is_ok()
        );
        let denied = |b: Value, r: &str, f: &str| assert_eq!(rule(b), Err((r.into(), f.into())));
        denied(json!({"Driver": "rexray"}), "volumes.driver", "Driver");
        denied(
            json!({"DriverOpts": {"type": "none", "o": "bind", "device": "/"}}),
            "volumes.driver-opts",
            "DriverOpts.device",
        );
        denied(
            json!({"Driver": "local", "DriverOpts": {"type": "nfs"}}),
            "volumes.driver-opts",
            "DriverOpts.type",
        );
        denied(
            json!({"ClusterVolumeSpec": {"Group": "g"}}),
            "volumes.driver",
            "ClusterVolumeSpec",
        );
    }

    #[test]
    fn exec_rules() {
        assert!(exec_create(&serde_json::json!({"Cmd": ["sh"], "Privileged": true})).is_err());
        assert!(exec_create(&serde_json::json!({"Cmd": ["sh"], "WorkingDir": "/proc/self/fd/3"})).is_err());
        assert!(exec_create(&serde_json::json!({"Cmd": ["sh"], "User": "root"})).is_ok());
    }
}
