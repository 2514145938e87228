//! Every volume the daemon makes for a run's container carries the run's labels, like everything the run
//! makes: so that it counts as the run's, is removed with the run (also when the plugin removed the
//! container without its volumes, or pruned it), and is swept after a killed run. A `volume` mount's
//! `VolumeOptions.Labels` are checked (no `tug.*`) and stamped; the anonymous volumes the daemon would
//! make unlabelled — for each path in the body's `Volumes` and its image's `VOLUME`s that nothing else is
//! mounted on, and for a `Binds` entry that is a bare path — are asked for as labelled `volume` mounts
//! instead (same path, same copy of the image's content).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::{
    denial::GateError,
    gate::Gate,
    rules::{items, lexical_string},
};
use crate::engine::{Client, Request};

/// Checks and stamps the labels of each `volume` mount of `list` (`prefix` its JSON path): a container's
/// `HostConfig.Mounts`, a service's `ContainerSpec.Mounts`.
pub(crate) fn stamp_mounts(gate: &Gate, list: &mut Value, prefix: &str) -> Result<(), GateError> {
    let Some(list) = list.as_array_mut() else {
        return Ok(());
    };
    for (i, m) in list.iter_mut().enumerate() {
        if m["Type"].as_str().unwrap_or("volume") != "volume" {
            continue;
        }
        let field = format!("{prefix}[{i}].VolumeOptions.Labels");
        gate.check_labels(&m["VolumeOptions"]["Labels"], &field)?;
        if !m["VolumeOptions"].is_object() {
            m["VolumeOptions"] = json!({});
        }
        gate.stamp(&mut m["VolumeOptions"], "Labels");
    }
    Ok(())
}

/// Turns the anonymous volumes a container create body would get into labelled `volume` mounts:
/// `image_volumes` is its image's `Config.Volumes`. Runs after the body's rules (`HostConfig.VolumesFrom`
/// already names the run's own containers by id).
pub(crate) async fn label_anonymous(
    gate: &Gate,
    client: &Client,
    body: &mut Value,
    image_volumes: &Value,
) -> Result<(), GateError> {
    let h = &mut body["HostConfig"];
    if !h.is_object() {
        *h = json!({});
    }
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    // A `Binds` entry without a colon is an anonymous volume at that path.
    if let Some(binds) = h.get_mut("Binds").and_then(Value::as_array_mut) {
        binds.retain(|b| match b.as_str() {
            Some(path) if !path.contains(':') => {
                wanted.insert(lexical_string(path));
                false
            }
            _ => true,
        });
    }
    for volumes in [&body["Volumes"], image_volumes] {
        if let Some(map) = volumes.as_object() {
            wanted.extend(map.keys().map(|k| lexical_string(k)));
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let h = &body["HostConfig"];
    // Paths something else is mounted on keep it (the daemon skips those too).
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for (_, b) in items(&h["Binds"]) {
        if let Some(dest) = b.as_str().and_then(|b| b.split(':').nth(1)) {
            taken.insert(lexical_string(dest));
        }
    }
    for (_, m) in items(&h["Mounts"]) {
        if let Some(target) = m["Target"].as_str() {
            taken.insert(lexical_string(target));
        }
    }
    if let Some(tmpfs) = h["Tmpfs"].as_object() {
        taken.extend(tmpfs.keys().map(|k| lexical_string(k)));
    }
    for (_, from) in items(&h["VolumesFrom"]) {
        let id = from
            .as_str()
            .unwrap_or_default()
            .split(':')
            .next()
            .unwrap_or_default();
        let v: Value = client
            .json(Request::get(format!(
                "/containers/{}/json",
                crate::engine::segment(id)
            )))
            .await?;
        for (_, m) in items(&v["Mounts"]) {
            if let Some(dest) = m["Destination"].as_str() {
                taken.insert(lexical_string(dest));
            }
        }
    }
    let mut added = Vec::new();
    for path in wanted.difference(&taken) {
        let mut mount = json!({ "Type": "volume", "Target": path, "VolumeOptions": {} });
        gate.stamp(&mut mount["VolumeOptions"], "Labels");
        added.push(mount);
    }
    let h = &mut body["HostConfig"];
    match h.get_mut("Mounts").and_then(Value::as_array_mut) {
        Some(list) => list.extend(added),
        None => h["Mounts"] = Value::from(added),
    }
    Ok(())
}
