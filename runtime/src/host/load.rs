//! An image load (`image-streams.load`) whose tar passes through tug on its way to the engine
//! (`host/tar_filter.rs`). Layers stream straight through; the small JSON entries (image configs, the
//! manifest) are held back, and once the plugin has finished the upload: every image config is checked like the
//! daemon's decoder reads it (no duplicate or case-variant keys), loses its `tug.*` labels and gets the
//! run's, so the image is the run's like everything it makes; every name in `RepoTags` is checked like
//! any name the run gives (`Gate::image_target`: allowed, not an id, and naming nothing that is not the
//! run's); then the configs and the manifest (parents renamed to the new image ids) are sent and the tar
//! ends. Refused, or abandoned before `finish`, the manifest never reaches the engine and the request is
//! aborted: nothing is loaded.

use std::sync::Arc;

use serde_json::{Map, Value};
use sha2::Digest;

use super::{
    bindings::types::Error as WitError,
    call::Call,
    resources::{Confirm, HostUpload, Names},
    tar_filter::{self, Held, Rewrite},
};
use crate::{
    engine::{Client, Upload},
    policy::{
        gate::{reserved, shorten},
        Denial, Gate,
    },
};

/// The largest entry held back (an image config, a manifest).
const MAX_HELD_ENTRY: u64 = 1 << 20;
/// The most bytes held back in all.
const MAX_HELD: u64 = 64 << 20;

/// Starts the filter between the plugin's body and the engine's upload; returns the handle's upload and
/// the confirmation its progress stream will carry (the names the tar gave, with their image ids).
pub(crate) fn filtered(gate: Arc<Gate>, client: Client, up: Upload, call: Call) -> (HostUpload, Confirm) {
    let names: Names = Default::default();
    let confirm = Confirm::shared(gate.clone(), names.clone());
    let rewrite = Load { gate, client, names };
    (tar_filter::start(up, call, rewrite), confirm)
}

struct Load {
    gate: Arc<Gate>,
    client: Client,
    names: Names,
}

impl Rewrite for Load {
    fn what(&self) -> &'static str {
        "load"
    }

    fn hold(&self, name: &str, size: u64) -> bool {
        size <= MAX_HELD_ENTRY
            && (name.ends_with(".json") || name.starts_with("blobs/") || name == "repositories")
    }

    fn limit(&self) -> u64 {
        MAX_HELD
    }

    fn gate(&self) -> Arc<Gate> {
        self.gate.clone()
    }

    /// Checks and rewrites what was held back; the manifest goes last.
    fn finish(&mut self, mut held: Vec<Held>, rt: &tokio::runtime::Handle) -> Result<Vec<Held>, WitError> {
        let at = held
            .iter()
            .position(|h| super::tar_filter::clean(&h.path.to_string_lossy()) == "manifest.json")
            .ok_or_else(|| {
                WitError::InvalidArgument(
                    "load: the tar has no manifest.json (only `docker save` archives can be checked)".into(),
                )
            })?;
        let mut manifest_entry = held.remove(at);
        let mut manifest: Value = serde_json::from_slice(&manifest_entry.data)
            .map_err(|e| WitError::InvalidArgument(format!("load: manifest.json: {e}")))?;
        let items = manifest
            .as_array_mut()
            .ok_or_else(|| WitError::InvalidArgument("load: manifest.json is not a list".into()))?;
        let mut renamed: Vec<(String, String)> = Vec::new();
        let mut names = Vec::new();
        for (i, item) in items.iter_mut().enumerate() {
            let config = item["Config"].as_str().unwrap_or_default().to_owned();
            let config = super::tar_filter::clean(&config);
            let entry = held
                .iter_mut()
                .find(|h| super::tar_filter::clean(&h.path.to_string_lossy()) == config)
                .ok_or_else(|| {
                    WitError::InvalidArgument(format!(
                        "load: image {i}'s config {} is not in the tar",
                        shorten(&config)
                    ))
                })?;
            let old = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&entry.data)));
            entry.data = self.stamp(&entry.data, &format!("[{i}].Config"))?;
            let new = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&entry.data)));
            renamed.push((old, new.clone()));
            for (j, tag) in item["RepoTags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .enumerate()
            {
                let field = format!("RepoTags[{j}]");
                rt.block_on(self.gate.image_target(&self.client, tag, &field))
                    .map_err(WitError::from)?;
                names.push((tag.to_owned(), Some(new.clone())));
            }
        }
        for item in items.iter_mut() {
            if let Some(parent) = item["Parent"].as_str() {
                if let Some((_, new)) = renamed.iter().find(|(old, _)| old == parent) {
                    item["Parent"] = Value::from(new.as_str());
                }
            }
        }
        // The legacy `repositories` file names layers, not images: the daemon uses the manifest.
        held.retain(|h| super::tar_filter::clean(&h.path.to_string_lossy()) != "repositories");
        manifest_entry.data =
            serde_json::to_vec(&manifest).map_err(|e| WitError::InvalidArgument(e.to_string()))?;
        held.push(manifest_entry);
        *self.names.lock().unwrap_or_else(|p| p.into_inner()) = names;
        Ok(held)
    }
}

impl Load {
    /// An image config, read as the daemon reads it, with the run's labels instead of any `tug.*` ones.
    fn stamp(&self, data: &[u8], field: &str) -> Result<Vec<u8>, WitError> {
        let text = std::str::from_utf8(data)
            .map_err(|_| WitError::InvalidArgument(format!("load: {field} is not UTF-8 JSON")))?;
        let mut config = self.gate.image_config_value(text).map_err(|d| {
            WitError::from(Denial {
                field: Some(format!("{field}.{}", d.field.unwrap_or_default())),
                ..d
            })
        })?;
        for key in ["config", "container_config"] {
            if let Some(labels) = config[key]["Labels"].as_object_mut() {
                labels.retain(|k, _| !reserved(k));
            }
        }
        if !config["config"].is_object() {
            config["config"] = Value::Object(Map::new());
        }
        self.gate.stamp_image(&mut config["config"], "Labels");
        serde_json::to_vec(&config).map_err(|e| WitError::InvalidArgument(e.to_string()))
    }
}
