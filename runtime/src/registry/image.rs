//! The image model: a manifest, a config document and layers that stay in their registry (lazy) until an
//! archive or a push needs their bytes.

use std::{path::PathBuf, sync::Arc};

use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::{
    blob::{sha256_digest, BlobKind, Repo},
    error::{RegistryError, Result},
    manifest::{self, Descriptor, Parsed},
    Reference, Registry,
};

pub use super::manifest::Platform;

/// The largest image config tug reads.
const CONFIG_LIMIT: u64 = 32 << 20;

/// One layer, as [`Image::layers`] describes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LayerInfo {
    /// The digest of the blob (compressed as stored): `sha256:…`.
    pub digest: String,
    /// The digest of the uncompressed tar (`rootfs.diff_ids` in the config).
    pub diff_id: String,
    /// The blob's size in bytes.
    pub size: u64,
    /// The blob's media type.
    pub media_type: String,
    /// Whether the bytes are on this machine (added by tug) rather than in a registry.
    pub local: bool,
}

/// Config changes, as `docker commit --change` makes them. Empty fields change nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigEdit {
    /// `K=V` sets `K` (replacing its value); `K` alone removes `K`.
    pub env: Vec<String>,
    /// The new `Cmd` (an empty list clears it).
    pub cmd: Option<Vec<String>>,
    /// The new `Entrypoint` (an empty list clears it).
    pub entrypoint: Option<Vec<String>>,
    /// Labels to set (`Some`) or remove (`None`).
    pub labels: Vec<(String, Option<String>)>,
    /// The new `WorkingDir`.
    pub workdir: Option<String>,
    /// The new `User`.
    pub user: Option<String>,
}

/// What [`Image::push`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PushReport {
    /// The digest of the manifest pushed.
    pub manifest_digest: String,
    /// Its size in bytes.
    pub manifest_size: u64,
    /// Blobs uploaded (layers and config).
    pub blobs_uploaded: u64,
    /// Blobs mounted from another repository of the same registry.
    pub blobs_mounted: u64,
    /// Blobs already at the destination.
    pub blobs_skipped: u64,
    /// Bytes uploaded.
    pub bytes_uploaded: u64,
}

/// Where a layer's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Location {
    /// In a registry repository (pulled lazily).
    Remote(Repo),
    /// A gzip file in the image's temporary directory.
    Local { path: PathBuf },
}

#[derive(Debug, Clone)]
pub(crate) struct Layer {
    pub descriptor: Descriptor,
    pub diff_id: String,
    pub location: Location,
}

/// The image as pulled: exact bytes, pushed again unchanged while nothing was edited.
#[derive(Debug, Clone)]
pub(crate) struct Original {
    pub manifest: Bytes,
    pub manifest_digest: String,
    pub config: Bytes,
}

/// An image: manifest, config and layers. Layers of a pulled image stay in the registry until
/// [`Image::write_docker_archive`], [`Image::write_oci_archive`] or [`Image::push`] needs them; layers
/// added with `add_layer_*` live in a temporary directory removed with the last clone of the image.
#[derive(Debug, Clone)]
pub struct Image {
    pub(crate) source: Option<Reference>,
    pub(crate) name: Option<Reference>,
    /// `DOCKER_MANIFEST` or `OCI_MANIFEST`.
    pub(crate) media_type: String,
    pub(crate) config: Value,
    pub(crate) config_descriptor: Descriptor,
    pub(crate) manifest_extra: Map<String, Value>,
    pub(crate) layers: Vec<Layer>,
    /// Set while nothing changed since the pull.
    pub(crate) original: Option<Original>,
    pub(crate) workdir: Option<Arc<tempfile::TempDir>>,
}

impl Image {
    /// Pulls an image's manifest and config (not its layers). For an index (manifest list), picks the
    /// manifest for `platform`, default `linux/<host architecture>`; the error lists the platforms
    /// available. With an explicit platform, a single-platform image must match it.
    pub async fn pull(
        registry: &Registry,
        reference: &Reference,
        platform: Option<&Platform>,
    ) -> Result<Image> {
        let repo = Repo::of(reference);
        let top = registry
            .get_manifest(&repo, reference.manifest_reference())
            .await?;
        let label = reference.to_string();
        let (fetched, doc, media_type) = match manifest::parse(&top.bytes, &top.media_type, &label)? {
            Parsed::Manifest(doc, mt) => (top, doc, mt),
            Parsed::Index(index) => {
                let wanted = platform.cloned().unwrap_or_else(Platform::host);
                let chosen = index
                    .manifests
                    .iter()
                    .find(|d| d.platform.as_ref().is_some_and(|p| wanted.matches(p)))
                    .ok_or_else(|| RegistryError::NoMatchingPlatform {
                        reference: label.clone(),
                        wanted: wanted.to_string(),
                        available: index
                            .manifests
                            .iter()
                            .filter_map(|d| d.platform.as_ref())
                            .filter(|p| p.os != "unknown")
                            .map(|p| p.to_string())
                            .collect(),
                    })?;
                let sub = registry.get_manifest(&repo, &chosen.digest).await?;
                if sub.bytes.len() as u64 != chosen.size {
                    return Err(RegistryError::SizeMismatch {
                        what: format!("manifest {} of {label}", chosen.digest),
                        expected: chosen.size,
                        actual: sub.bytes.len() as u64,
                    });
                }
                match manifest::parse(&sub.bytes, &sub.media_type, &format!("{label} ({wanted})"))? {
                    Parsed::Manifest(doc, mt) => (sub, doc, mt),
                    Parsed::Index(..) => {
                        return Err(RegistryError::Unsupported(format!(
                            "{label}: an index inside an index"
                        )))
                    }
                }
            }
        };
        let config_bytes = registry
            .get_blob(&repo, &doc.config.digest, Some(doc.config.size), BlobKind::Config)
            .await?
            .collect(CONFIG_LIMIT)
            .await?;
        let config: Value = serde_json::from_slice(&config_bytes)
            .map_err(|e| RegistryError::Config(format!("{label}: config {}: {e}", doc.config.digest)))?;
        if !config.is_object() {
            return Err(RegistryError::Config(format!(
                "{label}: the config is not a JSON object"
            )));
        }
        let diff_ids = diff_ids(&config);
        if diff_ids.len() != doc.layers.len() {
            return Err(RegistryError::Config(format!(
                "{label}: the manifest has {} layers but the config {} diff_ids",
                doc.layers.len(),
                diff_ids.len()
            )));
        }
        if let Some(p) = platform {
            let own = Platform::new(
                config["os"].as_str().unwrap_or(""),
                config["architecture"].as_str().unwrap_or(""),
                config["variant"].as_str(),
            );
            if !p.matches(&own) {
                return Err(RegistryError::NoMatchingPlatform {
                    reference: label,
                    wanted: p.to_string(),
                    available: vec![own.to_string()],
                });
            }
        }
        let layers = doc
            .layers
            .iter()
            .zip(diff_ids)
            .map(|(d, diff_id)| Layer {
                descriptor: d.clone(),
                diff_id,
                location: Location::Remote(repo.clone()),
            })
            .collect();
        Ok(Image {
            source: Some(reference.clone()),
            name: Some(reference.clone()),
            media_type,
            config,
            config_descriptor: doc.config,
            manifest_extra: doc.extra,
            layers,
            original: Some(Original {
                manifest: fetched.bytes,
                manifest_digest: fetched.digest,
                config: config_bytes,
            }),
            workdir: None,
        })
    }

    /// An empty image (no layers, an empty config) for a platform, with OCI media types.
    pub fn scratch(platform: Platform) -> Image {
        let mut config = json!({
            "architecture": platform.architecture,
            "os": platform.os,
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": []},
            "history": [],
        });
        if let Some(v) = &platform.variant {
            config["variant"] = json!(v);
        }
        Image {
            source: None,
            name: None,
            media_type: manifest::OCI_MANIFEST.to_owned(),
            config,
            config_descriptor: Descriptor {
                media_type: manifest::OCI_CONFIG.to_owned(),
                digest: String::new(),
                size: 0,
                platform: None,
                extra: Map::new(),
            },
            manifest_extra: Map::new(),
            layers: Vec::new(),
            original: None,
            workdir: None,
        }
    }

    /// The reference the image was pulled from.
    pub fn source(&self) -> Option<&Reference> {
        self.source.as_ref()
    }

    /// The name archives record (`RepoTags`) and pushes default to; the source until set.
    pub fn name(&self) -> Option<&Reference> {
        self.name.as_ref()
    }

    /// Sets the name (does not change the image's digest).
    pub fn set_name(&mut self, name: Reference) {
        self.name = Some(name);
    }

    /// The manifest media type (Docker schema 2 or OCI) the image is pushed with.
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    /// The whole config document (unknown fields preserved).
    pub fn config(&self) -> &Value {
        &self.config
    }

    /// Replaces the config document; it must be an object. `rootfs` stays tug's (the layers' diff_ids).
    pub fn set_config(&mut self, config: Value) -> Result<()> {
        if !config.is_object() {
            return Err(RegistryError::Config("the config must be a JSON object".into()));
        }
        self.config = config;
        self.changed();
        Ok(())
    }

    /// Applies `docker commit --change`-like edits to `config.config`.
    pub fn edit(&mut self, edit: &ConfigEdit) -> Result<()> {
        for e in &edit.env {
            if e.is_empty() || e.starts_with('=') {
                return Err(RegistryError::Config(format!(
                    "env {e:?}: expected KEY=VALUE or KEY"
                )));
            }
        }
        for (k, _) in &edit.labels {
            if k.is_empty() {
                return Err(RegistryError::Config("a label needs a key".into()));
            }
        }
        let c = self.container_config();
        if !edit.env.is_empty() {
            let mut env: Vec<String> = c
                .get("Env")
                .and_then(|e| e.as_array())
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            for e in &edit.env {
                let key = e.split('=').next().unwrap_or(e);
                env.retain(|x| x.split('=').next() != Some(key));
                if e.contains('=') {
                    env.push(e.clone());
                }
            }
            c.insert("Env".into(), json!(env));
        }
        let list = |v: &Vec<String>| if v.is_empty() { Value::Null } else { json!(v) };
        if let Some(cmd) = &edit.cmd {
            c.insert("Cmd".into(), list(cmd));
        }
        if let Some(ep) = &edit.entrypoint {
            c.insert("Entrypoint".into(), list(ep));
        }
        if !edit.labels.is_empty() {
            let labels = c.entry("Labels").or_insert_with(|| json!({}));
            if !labels.is_object() {
                *labels = json!({});
            }
            let labels = labels.as_object_mut().expect("an object");
            for (k, v) in &edit.labels {
                match v {
                    Some(v) => labels.insert(k.clone(), json!(v)),
                    None => labels.remove(k),
                };
            }
        }
        if let Some(w) = &edit.workdir {
            c.insert("WorkingDir".into(), json!(w));
        }
        if let Some(u) = &edit.user {
            c.insert("User".into(), json!(u));
        }
        self.changed();
        Ok(())
    }

    /// The layers, bottom first.
    pub fn layers(&self) -> Vec<LayerInfo> {
        self.layers
            .iter()
            .map(|l| LayerInfo {
                digest: l.descriptor.digest.clone(),
                diff_id: l.diff_id.clone(),
                size: l.descriptor.size,
                media_type: l.descriptor.media_type.clone(),
                local: matches!(l.location, Location::Local { .. }),
            })
            .collect()
    }

    /// Removes a layer (0 is the bottom one), its diff_id and its history entry.
    pub fn remove_layer(&mut self, index: usize) -> Result<()> {
        if index >= self.layers.len() {
            return Err(RegistryError::Layer(format!(
                "no layer {index}: the image has {} (0 to {})",
                self.layers.len(),
                self.layers.len().saturating_sub(1)
            )));
        }
        self.layers.remove(index);
        // The history entry of the index-th layer, if the history lists one entry per layer.
        if let Some(history) = self.config.get_mut("history").and_then(|h| h.as_array_mut()) {
            let non_empty: Vec<usize> = history
                .iter()
                .enumerate()
                .filter(|(_, h)| h.get("empty_layer").and_then(|e| e.as_bool()) != Some(true))
                .map(|(i, _)| i)
                .collect();
            if non_empty.len() == self.layers.len() + 1 {
                history.remove(non_empty[index]);
            }
        }
        self.changed();
        Ok(())
    }

    /// The digest of the manifest a push writes (the original's while nothing changed).
    pub fn manifest_digest(&self) -> String {
        match &self.original {
            Some(o) => o.manifest_digest.clone(),
            None => sha256_digest(&self.manifest_bytes().0),
        }
    }

    /// The config document's exact bytes (the original's while nothing changed) and digest.
    pub(crate) fn config_bytes(&self) -> (Bytes, String) {
        match &self.original {
            Some(o) => (o.config.clone(), self.config_descriptor.digest.clone()),
            None => {
                let bytes = Bytes::from(serde_json::to_vec(&self.config).expect("a JSON value serializes"));
                let digest = sha256_digest(&bytes);
                (bytes, digest)
            }
        }
    }

    /// The manifest's exact bytes and media type.
    pub(crate) fn manifest_bytes(&self) -> (Bytes, String) {
        if let Some(o) = &self.original {
            return (o.manifest.clone(), self.media_type.clone());
        }
        let (config, digest) = self.config_bytes();
        (
            self.build_manifest(config.len() as u64, &digest),
            self.media_type.clone(),
        )
    }

    /// A manifest for the layers and a config of this size and digest.
    pub(crate) fn build_manifest(&self, config_size: u64, config_digest: &str) -> Bytes {
        let doc = manifest::ManifestDoc {
            schema_version: 2,
            media_type: Some(self.media_type.clone()),
            config: Descriptor {
                digest: config_digest.to_owned(),
                size: config_size,
                ..self.config_descriptor.clone()
            },
            layers: self.layers.iter().map(|l| l.descriptor.clone()).collect(),
            extra: self.manifest_extra.clone(),
        };
        Bytes::from(serde_json::to_vec_pretty(&doc).expect("a manifest serializes"))
    }

    /// `config.config`, created when missing.
    fn container_config(&mut self) -> &mut Map<String, Value> {
        let root = self.config.as_object_mut().expect("the config is an object");
        let c = root.entry("config").or_insert_with(|| json!({}));
        if !c.is_object() {
            *c = json!({});
        }
        c.as_object_mut().expect("an object")
    }

    /// After any change: no original bytes any more; rootfs follows the layers.
    pub(crate) fn changed(&mut self) {
        self.original = None;
        let ids: Vec<Value> = self.layers.iter().map(|l| json!(l.diff_id)).collect();
        if let Some(root) = self.config.as_object_mut() {
            root.insert("rootfs".into(), json!({"type": "layers", "diff_ids": ids}));
        }
    }
}

/// `rootfs.diff_ids` of a config.
fn diff_ids(config: &Value) -> Vec<String> {
    config["rootfs"]["diff_ids"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Now, as RFC 3339 UTC (`2024-01-02T03:04:05Z`).
pub(crate) fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits() {
        let mut img = Image::scratch(Platform::new("linux", "amd64", None));
        img.config["config"] = json!({"Env": ["PATH=/bin", "A=1", "B=2"], "Labels": {"x": "1"}});
        img.edit(&ConfigEdit {
            env: vec!["A=3".into(), "B".into(), "C=4=5".into()],
            cmd: Some(vec!["sh".into()]),
            entrypoint: Some(vec![]),
            labels: vec![("x".into(), None), ("y".into(), Some("2".into()))],
            workdir: Some("/w".into()),
            user: Some("1000".into()),
        })
        .unwrap();
        let c = &img.config()["config"];
        assert_eq!(c["Env"], json!(["PATH=/bin", "A=3", "C=4=5"]));
        assert_eq!(c["Cmd"], json!(["sh"]));
        assert_eq!(c["Entrypoint"], Value::Null);
        assert_eq!(c["Labels"], json!({"y": "2"}));
        assert_eq!(
            (c["WorkingDir"].as_str(), c["User"].as_str()),
            (Some("/w"), Some("1000"))
        );
        assert!(img
            .edit(&ConfigEdit {
                env: vec!["=x".into()],
                ..Default::default()
            })
            .is_err());
        assert!(img.set_config(json!([])).is_err());
        assert!(img.remove_layer(0).is_err());
        // The manifest names the config it would push.
        let (m, mt) = img.manifest_bytes();
        assert_eq!(mt, manifest::OCI_MANIFEST);
        let v: Value = serde_json::from_slice(&m).unwrap();
        assert_eq!(v["config"]["digest"], json!(img.config_bytes().1));
        assert_eq!(img.manifest_digest(), sha256_digest(&m));
    }

    #[test]
    fn rfc3339() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'));
    }
}
