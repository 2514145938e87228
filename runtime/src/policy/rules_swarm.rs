//! The rules of the swarm routes, rows 27 and 28 of `docs/policy.md`'s checklist: swarm init, join, update
//! and unlock and node updates (`swarm.*`), service specs (`services.*` and the container rules they
//! share), secrets and configs; and the ownership of services, tasks, secrets and configs.
//!
//! Row 28: a swarm lets remote managers schedule work on this host, so every swarm and node write needs
//! `swarm` write access (only the `trusted` profile has it); a policy that grants it without being
//! `unrestricted` still keeps the swarm on loopback: `ListenAddr`, `AdvertiseAddr` (and `DataPathAddr`)
//! of init and join must be loopback addresses (`swarm.listen`) and a join's `RemoteAddrs` too
//! (`swarm.join`).
//!
//! Row 27: a service's `TaskTemplate.ContainerSpec` is a container create body in Swarm syntax, so it gets
//! the container rules (image, mounts, capabilities, sysctls, working directory, log driver, networks,
//! ceilings) plus the service-only ones: privileges (`services.privileges`), the task runtime
//! (`services.runtime`), published ports (`services.ports`), replicas (`quota.containers`). Services,
//! their containers, secrets and configs carry the run's labels; the secrets and configs a service uses
//! must be the run's own.

use std::collections::BTreeSet;
use std::net::IpAddr;

use bytes::Bytes;
use serde_json::{Map, Value};

use super::{
    canonical::{self, BodyKind},
    denial::{Denial, GateError},
    gate::{reserved, Gate, RUN_LABEL},
    quota::tasks_of,
    rules::{capabilities, check_workdir, deny, is_set, items, mounts},
};
use crate::engine::{Client, Request};

/// The swarm objects that carry the run's labels in their `Spec.Labels`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwarmObject {
    /// A service.
    Service,
    /// A secret.
    Secret,
    /// A config.
    Config,
}

impl SwarmObject {
    /// The Engine API path of the kind: `services`, `secrets`, `configs`.
    pub fn path(self) -> &'static str {
        match self {
            SwarmObject::Service => "services",
            SwarmObject::Secret => "secrets",
            SwarmObject::Config => "configs",
        }
    }

    /// The kind's name in messages.
    pub fn noun(self) -> &'static str {
        match self {
            SwarmObject::Service => "service",
            SwarmObject::Secret => "secret",
            SwarmObject::Config => "config",
        }
    }
}

const CONTAINER_SPEC: &str = "TaskTemplate.ContainerSpec";

fn canonical(kind: BodyKind, text: &str) -> Result<Value, Denial> {
    let mut body = canonical::canonicalize(kind, text.as_bytes())
        .map_err(|e| Denial::field(e.rule(), e.path().to_owned(), e.to_string()))?;
    if body.is_null() {
        body = Value::Object(Map::new());
    }
    Ok(body)
}

fn bytes(body: &Value) -> Bytes {
    Bytes::from(canonical::to_canonical_bytes(body))
}

impl Gate {
    /// Refuses a service create or update (the canonical `body` the gate returned; `updating`: the
    /// service's id) whose tasks would take the run past `[quota] containers`, counted with its
    /// containers, builds in flight and other services' tasks (`Gate::container_quota`).
    pub async fn service_quota(
        &self,
        client: &Client,
        body: &[u8],
        updating: Option<&str>,
    ) -> Result<(), GateError> {
        let spec: Value = serde_json::from_slice(body).unwrap_or_default();
        self.container_quota(client, tasks_of(&spec), updating, "Mode.Replicated.Replicas")
            .await
    }

    /// The ids of the services the run owns, to narrow task lists to; `None` when the policy lets the
    /// plugin see everything.
    pub async fn owned_services(&self, client: &Client) -> Result<Option<BTreeSet<String>>, GateError> {
        if self.policy.unrestricted || self.policy.visibility.all {
            return Ok(None);
        }
        let filters = serde_json::json!({ "label": [format!("{RUN_LABEL}={}", self.run_id)] }).to_string();
        let list: Value = client
            .json(Request::get("/services").query("filters", filters))
            .await?;
        Ok(Some(
            items(&list)
                .filter(|(_, s)| self.owns_labels(&s["Spec"]["Labels"]))
                .filter_map(|(_, s)| s["ID"].as_str().map(str::to_owned))
                .collect(),
        ))
    }

    /// Refuses plugin-supplied labels in the reserved `tug.` namespace. An update (`own_ok`) may carry
    /// the run's own labels with their values unchanged, as inspect returned them.
    fn swarm_labels(&self, labels: &Value, field: &str, own_ok: bool) -> Result<(), Denial> {
        if !own_ok {
            return self.check_labels(labels, field);
        }
        for (key, value) in labels.as_object().into_iter().flatten() {
            let own = self
                .labels
                .iter()
                .any(|(k, v)| k == key && value.as_str() == Some(v.as_str()));
            if reserved(key) && !own {
                return Err(Denial::field(
                    "labels.reserved",
                    format!("{field}.{key}"),
                    "labels starting with `tug.` are tug's own (ownership); a plugin may not set them",
                ));
            }
        }
        Ok(())
    }

    /// A swarm init, join, update or unlock body or a node update body: canonical; init and join keep
    /// the swarm on loopback unless the policy is unrestricted (`swarm.listen`, `swarm.join`).
    pub fn swarm_request(&self, kind: BodyKind, text: &str) -> Result<Bytes, Denial> {
        let body = canonical(kind, text)?;
        if !self.policy.unrestricted && matches!(kind, BodyKind::SwarmInit | BodyKind::SwarmJoin) {
            swarm_addresses(&body, kind == BodyKind::SwarmJoin)?;
        }
        Ok(bytes(&body))
    }

    /// A service create or update spec: canonical, checked against the service rules (unless
    /// unrestricted), and stamped with the run's labels on the service and on its containers.
    pub async fn service_spec(
        &self,
        client: &Client,
        kind: BodyKind,
        text: &str,
    ) -> Result<Bytes, GateError> {
        let mut body = canonical(kind, text)?;
        let update = kind == BodyKind::ServiceUpdate;
        self.swarm_labels(&body["Labels"], "Labels", update)?;
        let spec_labels = &body["TaskTemplate"]["ContainerSpec"]["Labels"];
        self.swarm_labels(spec_labels, &format!("{CONTAINER_SPEC}.Labels"), update)?;
        if !self.policy.unrestricted {
            service_rules(self, client, &mut body).await?;
        }
        self.stamp(&mut body, "Labels");
        // The tasks' containers carry the labels too: the run owns them and cleanup finds them.
        if let Some(spec) = body
            .get_mut("TaskTemplate")
            .and_then(|t| t.get_mut("ContainerSpec"))
            .filter(|s| s.is_object())
        {
            self.stamp(spec, "Labels");
        }
        Ok(bytes(&body))
    }

    /// A secret or config create or update spec: canonical, no reserved labels, no secret driver (unless
    /// unrestricted), stamped with the run's labels.
    pub fn secret_spec(&self, kind: BodyKind, text: &str) -> Result<Bytes, Denial> {
        let mut body = canonical(kind, text)?;
        let update = matches!(kind, BodyKind::SecretUpdate | BodyKind::ConfigUpdate);
        self.swarm_labels(&body["Labels"], "Labels", update)?;
        if let Some(name) = body["Name"].as_str() {
            let rule = if matches!(kind, BodyKind::SecretCreate | BodyKind::SecretUpdate) {
                "secrets.name"
            } else {
                "configs.name"
            };
            self.object_name(rule, name, "Name")?;
        }
        if !self.policy.unrestricted && is_set(&body["Driver"]) {
            return Err(Denial::field(
                "secrets.driver",
                "Driver",
                "secret drivers are plugins that run on the host as root; only the built-in store is allowed",
            ));
        }
        self.stamp(&mut body, "Labels");
        Ok(bytes(&body))
    }
}

/// The host part of a swarm address: `ip`, `ip:port`, `[v6]:port`, `v6`, `interface[:port]`.
fn address_host(addr: &str) -> &str {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match addr.matches(':').count() {
        1 => addr.split(':').next().unwrap_or_default(),
        _ => addr,
    }
}

/// Whether a swarm address is on loopback (`127.0.0.0/8`, `::1`, `localhost`, with or without a port).
fn loopback(addr: &str) -> bool {
    let host = address_host(addr.trim());
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Row 28 for policies that grant swarm writes without being unrestricted: the node listens, advertises
/// and carries data only on loopback, and joins only managers on loopback.
fn swarm_addresses(body: &Value, join: bool) -> Result<(), Denial> {
    for key in ["ListenAddr", "AdvertiseAddr", "DataPathAddr"] {
        let addr = body[key].as_str().unwrap_or_default();
        let required = key != "DataPathAddr";
        if (addr.is_empty() && required) || (!addr.is_empty() && !loopback(addr)) {
            return Err(Denial::field(
                "swarm.listen",
                key,
                format!(
                    "{key} {:?} is not a loopback address; the swarm may only listen on and advertise \
                     127.0.0.1 or ::1 (give both ListenAddr and AdvertiseAddr: the daemon's defaults are \
                     every interface)",
                    addr
                ),
            ));
        }
    }
    if join {
        for (i, r) in items(&body["RemoteAddrs"]) {
            let addr = r.as_str().unwrap_or_default();
            if !loopback(addr) {
                return Err(Denial::field(
                    "swarm.join",
                    format!("RemoteAddrs[{i}]"),
                    format!(
                        "manager {addr:?} is not on loopback: joining another host's swarm lets it schedule \
                         work on this host"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Row 27: the rules of a service spec (create or update).
async fn service_rules(gate: &Gate, client: &Client, body: &mut Value) -> Result<(), GateError> {
    if let Some(name) = body["Name"].as_str() {
        gate.object_name("services.name", name, "Name")?;
    }
    let task = &body["TaskTemplate"];
    if let Some(rt) = task["Runtime"]
        .as_str()
        .filter(|r| !r.is_empty() && *r != "container")
    {
        return Err(deny(
            "services.runtime",
            "TaskTemplate.Runtime",
            format!("task runtime {rt} is not allowed (only container)"),
        ));
    }
    for key in ["PluginSpec", "NetworkAttachmentSpec"] {
        if !task[key].is_null() {
            return Err(deny(
                "services.runtime",
                format!("TaskTemplate.{key}"),
                format!("{key} is not allowed: a service runs containers (plugins run as root on the host)"),
            ));
        }
    }
    if let Some(name) = task["LogDriver"]["Name"].as_str() {
        if !matches!(name, "" | "json-file" | "local" | "none") {
            return Err(deny(
                "containers.log-config",
                "TaskTemplate.LogDriver.Name",
                format!("log driver {name} is not allowed (json-file, local, none)"),
            ));
        }
    }
    // The tasks' logs on the host's disk: bounded like a container's.
    let mut host = serde_json::json!({ "LogConfig": {
        "Type": task["LogDriver"]["Name"].clone(),
        "Config": task["LogDriver"]["Options"].clone(),
    }});
    super::ceilings::log_config(gate, &mut host).map_err(|e| match e {
        GateError::Denied(mut d) => {
            d.field = d
                .field
                .map(|f| f.replace("HostConfig.LogConfig.Config", "TaskTemplate.LogDriver.Options"));
            GateError::Denied(d)
        }
        other => other,
    })?;
    body["TaskTemplate"]["LogDriver"] = serde_json::json!({
        "Name": host["LogConfig"]["Type"],
        "Options": host["LogConfig"]["Config"],
    });
    if is_set(&body["TaskTemplate"]["Resources"]["Reservations"]["GenericResources"]) {
        return Err(deny(
            "containers.devices",
            "TaskTemplate.Resources.Reservations.GenericResources",
            "generic resources (GPUs and other node devices) are not allowed",
        ));
    }
    for prefix in ["TaskTemplate.Networks", "Networks"] {
        let list = match prefix {
            "Networks" => &body["Networks"],
            _ => &body["TaskTemplate"]["Networks"],
        };
        let targets: Vec<String> = items(list)
            .map(|(_, n)| n["Target"].as_str().unwrap_or_default().to_owned())
            .collect();
        for (i, target) in targets.iter().enumerate() {
            let full = gate
                .network(client, target, &format!("{prefix}[{i}].Target"))
                .await?;
            let list = match prefix {
                "Networks" => &mut body["Networks"],
                _ => &mut body["TaskTemplate"]["Networks"],
            };
            list[i]["Target"] = Value::from(full);
        }
    }
    container_spec(gate, client, body).await?;
    let quota = gate.policy.quota.containers;
    for (path, value) in [
        (
            "Mode.Replicated.Replicas",
            &body["Mode"]["Replicated"]["Replicas"],
        ),
        (
            "Mode.ReplicatedJob.MaxConcurrent",
            &body["Mode"]["ReplicatedJob"]["MaxConcurrent"],
        ),
    ] {
        if value.as_u64().is_some_and(|n| n > u64::from(quota)) {
            return Err(deny(
                "quota.containers",
                path,
                format!(
                    "{value} tasks is more containers than policy {} lets a run have ({quota})",
                    gate.policy.name
                ),
            ));
        }
    }
    if let Some((i, p)) = items(&body["EndpointSpec"]["Ports"]).next() {
        let (key, why) = if p["PublishMode"].as_str() == Some("host") {
            (
                "PublishMode",
                "host mode publishes the port on every interface of the host",
            )
        } else {
            (
                "PublishedPort",
                "the routing mesh publishes the port (the given one, or one it picks) on every interface of \
                 every node",
            )
        };
        return Err(deny(
            "services.ports",
            format!("EndpointSpec.Ports[{i}].{key}"),
            format!("service ports cannot be published on loopback only: {why}"),
        ));
    }
    service_ceilings(gate, body);
    Ok(())
}

/// `TaskTemplate.ContainerSpec`: the container rules in Swarm syntax, and the secrets and configs it uses
/// (only the run's own; their ids rewritten to the full ids).
async fn container_spec(gate: &Gate, client: &Client, body: &mut Value) -> Result<(), GateError> {
    let spec = &body["TaskTemplate"]["ContainerSpec"];
    let image = spec["Image"].as_str().unwrap_or_default().to_owned();
    let field = |key: &str| format!("{CONTAINER_SPEC}.{key}");
    if image.is_empty() {
        return Err(deny(
            "images",
            field("Image"),
            "a service needs TaskTemplate.ContainerSpec.Image",
        ));
    }
    // The daemon pulls a service's image at every task start: the registry must be one the policy allows.
    gate.image(&image, &field("Image"))?;
    gate.registry(&image, &field("Image"))?;
    check_workdir(&spec["Dir"], &field("Dir"))?;
    super::rules::healthcheck(&spec["Healthcheck"], &field("Healthcheck"))?;
    mounts(gate, client, &spec["Mounts"], &field("Mounts")).await?;
    capabilities(gate, &spec["CapabilityAdd"], &field("CapabilityAdd"))?;
    privileges(&spec["Privileges"])?;
    if is_set(&spec["Sysctls"]) {
        return Err(deny(
            "containers.sysctls",
            field("Sysctls"),
            "kernel parameters may not be set",
        ));
    }
    if let Some(i) = spec["Isolation"]
        .as_str()
        .filter(|i| !i.is_empty() && *i != "default")
    {
        return Err(deny(
            "services.runtime",
            field("Isolation"),
            format!("isolation {i} is tug's to choose"),
        ));
    }
    if spec["OomScoreAdj"].as_i64().is_some_and(|v| v < 0) {
        return Err(deny(
            "containers.resources",
            field("OomScoreAdj"),
            "a negative OOM score adjustment is not allowed",
        ));
    }
    for (list, kind, id_key, name_key) in [
        ("Secrets", SwarmObject::Secret, "SecretID", "SecretName"),
        ("Configs", SwarmObject::Config, "ConfigID", "ConfigName"),
    ] {
        let refs = body["TaskTemplate"]["ContainerSpec"][list].clone();
        for (i, r) in items(&refs) {
            let (key, id) = match r[id_key].as_str().filter(|s| !s.is_empty()) {
                Some(id) => (id_key, id),
                None => (name_key, r[name_key].as_str().unwrap_or_default()),
            };
            let at = field(&format!("{list}[{i}].{key}"));
            let full = gate.swarm_object(client, kind, id, &at).await?.id;
            if key == id_key {
                body["TaskTemplate"]["ContainerSpec"][list][i][id_key] = Value::from(full);
            }
        }
    }
    // A task's container takes each health check field the spec leaves at 0 from its image: the
    // image's, when it is here to read, is raised like a container's.
    let local = client
        .json::<Value>(Request::get(super::image_names::image_path(&image, "/json")))
        .await;
    if let Ok(v) = local {
        super::rules::raise_inherited_healthcheck(
            &mut body["TaskTemplate"]["ContainerSpec"],
            &v["Config"]["Healthcheck"],
        );
    }
    // Volumes the swarm makes for the tasks carry the run's labels.
    super::volume_mounts::stamp_mounts(
        gate,
        &mut body["TaskTemplate"]["ContainerSpec"]["Mounts"],
        &field("Mounts"),
    )?;
    Ok(())
}

/// `ContainerSpec.Privileges`: the default seccomp and AppArmor profiles, SELinux as the daemon sets it.
fn privileges(p: &Value) -> Result<(), GateError> {
    let at = |key: &str| format!("{CONTAINER_SPEC}.Privileges.{key}");
    let refuse = |field: String, why: String| Err(deny("services.privileges", field, why));
    let seccomp = p["Seccomp"]["Mode"].as_str().unwrap_or_default();
    if !matches!(seccomp, "" | "default") {
        return refuse(
            at("Seccomp.Mode"),
            format!("seccomp mode {seccomp} is not allowed (only default)"),
        );
    }
    if is_set(&p["Seccomp"]["Profile"]) {
        return refuse(
            at("Seccomp.Profile"),
            "custom seccomp profiles are not allowed".into(),
        );
    }
    let apparmor = p["AppArmor"]["Mode"].as_str().unwrap_or_default();
    if !matches!(apparmor, "" | "default") {
        return refuse(
            at("AppArmor.Mode"),
            format!("AppArmor mode {apparmor} is not allowed (only default)"),
        );
    }
    if p["SELinuxContext"]["Disable"].as_bool() == Some(true) {
        return refuse(
            at("SELinuxContext.Disable"),
            "disabling SELinux labelling is not allowed".into(),
        );
    }
    for key in ["User", "Role", "Type", "Level"] {
        if is_set(&p["SELinuxContext"][key]) {
            return refuse(
                at(&format!("SELinuxContext.{key}")),
                "SELinux labels are tug's to choose (type spc_t is unconfined)".into(),
            );
        }
    }
    if is_set(&p["CredentialSpec"]) {
        return refuse(
            at("CredentialSpec"),
            "credential specs (Windows) are not allowed".into(),
        );
    }
    Ok(())
}

/// Forces the policy's container ceilings onto `TaskTemplate.Resources.Limits`: absent, non-positive or
/// larger values become the ceiling.
fn service_ceilings(gate: &Gate, body: &mut Value) {
    let pol = &gate.policy.containers;
    let ceilings = [
        (
            "MemoryBytes",
            pol.memory.map(|m| i64::try_from(m.0).unwrap_or(i64::MAX)),
        ),
        ("NanoCPUs", pol.cpus.map(super::ceilings::nano_cpus)),
        ("Pids", pol.pids),
    ];
    if ceilings.iter().all(|(_, c)| c.is_none()) {
        return;
    }
    let limits = &mut body["TaskTemplate"]["Resources"]["Limits"];
    for (key, ceiling) in ceilings {
        if let Some(ceiling) = ceiling {
            let v = limits[key].as_i64().unwrap_or(0);
            if v <= 0 || v > ceiling {
                limits[key] = Value::from(ceiling);
            }
        }
    }
}

#[cfg(test)]
#[path = "rules_swarm_tests.rs"]
mod tests;
