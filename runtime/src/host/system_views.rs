//! What `system.info` and `system.data-usage` show a plugin whose policy does not let it see everything:
//! the engine's own facts (version, kernel, CPUs, memory, drivers), never other users' objects, the
//! daemon's proxies, labels, registry mirrors, paths or swarm peers, and counts of the run's own objects.

use serde_json::{Map, Value};

use super::{bindings::types::Error as WitError, call::Call, state::HostState};
use crate::{engine::Request, policy::Gate};

/// The fields of `info` that describe the engine and its host's capabilities, and nothing of its other
/// users or its configuration's secrets.
const INFO_FIELDS: &[&str] = &[
    "Architecture",
    "BridgeNfIp6tables",
    "BridgeNfIptables",
    "CPUSet",
    "CPUShares",
    "CgroupDriver",
    "CgroupVersion",
    "ContainerdCommit",
    "CpuCfsPeriod",
    "CpuCfsQuota",
    "DefaultRuntime",
    "Driver",
    "ExperimentalBuild",
    "IPv4Forwarding",
    "IndexServerAddress",
    "InitBinary",
    "InitCommit",
    "Isolation",
    "KernelMemory",
    "KernelMemoryTCP",
    "KernelVersion",
    "LiveRestoreEnabled",
    "LoggingDriver",
    "MemTotal",
    "MemoryLimit",
    "NCPU",
    "OSType",
    "OSVersion",
    "OomKillDisable",
    "OperatingSystem",
    "PidsLimit",
    "Plugins",
    "RuncCommit",
    "SecurityOptions",
    "ServerVersion",
    "SwapLimit",
    "SystemTime",
    "Warnings",
];

/// `info`, redacted: the allowed fields, the swarm's state only, and the counts of the run's own
/// containers and of the images it may see.
pub(crate) async fn info(_s: &mut HostState, call: &mut Call, text: &str) -> Result<String, WitError> {
    let info: Value = serde_json::from_str(text)
        .map_err(|e| WitError::Transport(format!("the engine's info is not JSON: {e}")))?;
    let mut out = Map::new();
    for key in INFO_FIELDS {
        if let Some(v) = info.get(*key) {
            out.insert((*key).to_owned(), v.clone());
        }
    }
    out.insert("Name".into(), Value::from("tug"));
    out.insert(
        "Swarm".into(),
        serde_json::json!({
            "LocalNodeState": info["Swarm"]["LocalNodeState"],
            "ControlAvailable": info["Swarm"]["ControlAvailable"],
        }),
    );
    let gate = call.gate_arc();
    let filters =
        serde_json::json!({ "label": [format!("{}={}", crate::policy::gate::RUN_LABEL, gate.run_id)] });
    let containers: Value = call
        .client()?
        .json(
            Request::get("/containers/json")
                .query("all", true)
                .query("filters", filters.to_string()),
        )
        .await?;
    let list = containers.as_array().cloned().unwrap_or_default();
    let count = |state: &str| list.iter().filter(|c| c["State"].as_str() == Some(state)).count();
    out.insert("Containers".into(), Value::from(list.len()));
    out.insert("ContainersRunning".into(), Value::from(count("running")));
    out.insert("ContainersPaused".into(), Value::from(count("paused")));
    out.insert(
        "ContainersStopped".into(),
        Value::from(list.len() - count("running") - count("paused")),
    );
    let images: Value = call.client()?.json(Request::get("/images/json")).await?;
    let visible = images
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| gate.lists_image(i))
        .count();
    out.insert("Images".into(), Value::from(visible));
    Ok(Value::Object(out).to_string())
}

/// `system/df`, narrowed to the run: its own containers and volumes, the images it may see, no build
/// cache (it carries no owner), and the layers' size as the size of those images.
pub(crate) fn data_usage(gate: &Gate, text: &str) -> String {
    let Ok(mut df) = serde_json::from_str::<Value>(text) else {
        return "{}".to_owned();
    };
    let keep = |v: &mut Value, f: &dyn Fn(&Value) -> bool| {
        if let Some(items) = v.as_array_mut() {
            items.retain(|i| f(i));
        }
    };
    keep(&mut df["Containers"], &|c| gate.owns_labels(&c["Labels"]));
    keep(&mut df["Volumes"], &|v| gate.owns_labels(&v["Labels"]));
    keep(&mut df["Images"], &|i| gate.lists_image(i));
    if df.get("BuildCache").is_some() {
        df["BuildCache"] = Value::Array(Vec::new());
    }
    let layers: i64 = df["Images"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["Size"].as_i64())
        .sum();
    if df.get("LayersSize").is_some() {
        df["LayersSize"] = Value::from(layers);
    }
    df.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_usage_shows_the_runs_objects_only() {
        let g = Gate::new(
            std::sync::Arc::new(crate::policy::Policy::profile("untrusted").unwrap()),
            "r1".into(),
            vec![],
        );
        let df = serde_json::json!({
            "LayersSize": 999,
            "Images": [
                {"Id": "sha256:a", "RepoTags": ["tug-test/busybox:latest"], "Size": 10, "Labels": null},
                {"Id": "sha256:b", "RepoTags": ["secret/app:1"], "Size": 20, "Labels": {}}
            ],
            "Containers": [
                {"Id": "c1", "Labels": {"tug.run": "r1"}, "Command": "sh"},
                {"Id": "c2", "Labels": {}, "Command": "mysql --password=hunter2"}
            ],
            "Volumes": [{"Name": "v1", "Labels": {"tug.run": "r2"}}],
            "BuildCache": [{"ID": "x"}]
        });
        let out = data_usage(&g, &df.to_string());
        assert!(!out.contains("hunter2") && !out.contains("secret/app") && !out.contains("\"v1\""));
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["Containers"].as_array().unwrap().len(), 1);
        assert_eq!(v["LayersSize"], 10);
        assert_eq!(v["BuildCache"], serde_json::json!([]));
    }
}
