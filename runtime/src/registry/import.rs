//! Reading a `docker save` tar into an image whose layers are local (gzip-compressed on the way in),
//! keeping the config's exact bytes, so the image keeps its ID.

use std::{
    collections::HashMap,
    io::{self, Read},
    path::Path,
    sync::Arc,
};

use bytes::Bytes;
use serde_json::Value;

use super::{
    blob::sha256_digest,
    error::{RegistryError, Result},
    image::{Image, Layer, Location, Original},
    layer::compress,
    manifest::{self, Descriptor},
    Platform, Reference,
};

/// The largest `manifest.json` or config tug reads from an archive.
const SMALL_LIMIT: u64 = 32 << 20;

impl Image {
    /// Reads a `docker save` tar (the first image of its `manifest.json`): layers are compressed into
    /// the image's temporary directory, checked against the config's `rootfs.diff_ids`; the config keeps
    /// its exact bytes (so pushing it unchanged keeps the image ID). The image is named after its first
    /// `RepoTags` entry, and has Docker schema 2 media types.
    pub async fn from_docker_archive(path: &Path) -> Result<Image> {
        let mut image = Image::scratch(Platform::host());
        image.media_type = manifest::DOCKER_MANIFEST.to_owned();
        image.config_descriptor.media_type = manifest::DOCKER_CONFIG.to_owned();
        let dir = image.layer_dir()?;
        let path = path.to_owned();
        let read = tokio::task::spawn_blocking(move || read_archive(&path, &dir))
            .await
            .map_err(|e| RegistryError::Layer(format!("reading the archive: {e}")))??;
        let (config_bytes, repo_tags, layers) = read;
        let config: Value = serde_json::from_slice(&config_bytes)
            .map_err(|e| RegistryError::Config(format!("the archive's config: {e}")))?;
        let diff_ids: Vec<String> = config["rootfs"]["diff_ids"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let got: Vec<&str> = layers.iter().map(|l| l.diff_id.as_str()).collect();
        if diff_ids != got {
            return Err(RegistryError::Config(format!(
                "the archive's layers have diff_ids {got:?}, its config lists {diff_ids:?}"
            )));
        }
        image.config = config;
        image.layers = layers
            .into_iter()
            .map(|c| Layer {
                descriptor: Descriptor {
                    media_type: manifest::DOCKER_LAYER_GZIP.to_owned(),
                    digest: c.digest,
                    size: c.size,
                    platform: None,
                    extra: Default::default(),
                },
                diff_id: c.diff_id,
                location: Location::Local { path: c.path },
            })
            .collect();
        let config_digest = sha256_digest(&config_bytes);
        image.config_descriptor.digest = config_digest.clone();
        image.config_descriptor.size = config_bytes.len() as u64;
        image.name = repo_tags.iter().find_map(|t| Reference::parse(t).ok());
        // "Unchanged" until edited: the manifest over the exact config bytes.
        let manifest_bytes = image.build_manifest(config_bytes.len() as u64, &config_digest);
        image.original = Some(Original {
            manifest_digest: sha256_digest(&manifest_bytes),
            manifest: manifest_bytes,
            config: Bytes::from(config_bytes),
        });
        Ok(image)
    }
}

type Read3 = (Vec<u8>, Vec<String>, Vec<super::layer::Compressed>);

fn read_archive(path: &Path, dir: &Arc<tempfile::TempDir>) -> Result<Read3> {
    let open =
        || std::fs::File::open(path).map_err(|e| RegistryError::io(format!("opening {}", path.display()), e));
    let bad = |m: String| RegistryError::Layer(format!("{}: {m}", path.display()));
    // Pass 1: manifest.json, and where symlinked entries point.
    let mut manifest = None;
    let mut links = HashMap::new();
    let mut archive = tar::Archive::new(open()?);
    for entry in archive
        .entries()
        .map_err(|e| RegistryError::io("reading the archive", e))?
    {
        let mut entry = entry.map_err(|e| RegistryError::io("reading the archive", e))?;
        let name = entry_name(&entry)?;
        if entry.header().entry_type().is_symlink() {
            if let Ok(Some(target)) = entry.link_name() {
                let base = Path::new(&name).parent().unwrap_or(Path::new(""));
                links.insert(name.clone(), normalize(&base.join(target)));
            }
        } else if name == "manifest.json" {
            manifest = Some(read_small(&mut entry, &name)?);
        }
    }
    let manifest = manifest.ok_or_else(|| bad("no manifest.json: not a `docker save` archive".into()))?;
    let manifest: Value =
        serde_json::from_slice(&manifest).map_err(|e| bad(format!("manifest.json: {e}")))?;
    let first = manifest
        .get(0)
        .ok_or_else(|| bad("manifest.json lists no image".into()))?;
    let config_name = first["Config"]
        .as_str()
        .ok_or_else(|| bad("manifest.json has no Config".into()))?;
    let repo_tags: Vec<String> = first["RepoTags"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let resolve = |n: &str| links.get(n).cloned().unwrap_or_else(|| n.to_owned());
    let layer_names: Vec<String> = first["Layers"]
        .as_array()
        .ok_or_else(|| bad("manifest.json has no Layers".into()))?
        .iter()
        .map(|v| {
            v.as_str()
                .map(&resolve)
                .ok_or_else(|| bad("a layer path is not a string".into()))
        })
        .collect::<Result<_>>()?;
    let config_name = resolve(config_name);
    // Pass 2: the config and each layer, compressed as it is read.
    let mut config = None;
    let mut done: HashMap<String, super::layer::Compressed> = HashMap::new();
    let mut archive = tar::Archive::new(open()?);
    for entry in archive
        .entries()
        .map_err(|e| RegistryError::io("reading the archive", e))?
    {
        let mut entry = entry.map_err(|e| RegistryError::io("reading the archive", e))?;
        let name = entry_name(&entry)?;
        if name == config_name {
            config = Some(read_small(&mut entry, &name)?);
        } else if layer_names.contains(&name) && !done.contains_key(&name) {
            let mut head = [0u8; 2];
            let n = read_up_to(&mut entry, &mut head)
                .map_err(|e| RegistryError::io(format!("reading {name}"), e))?;
            let chained = io::Cursor::new(head[..n].to_vec()).chain(entry);
            let gzip = n == 2 && head == [0x1f, 0x8b];
            let c = compress(dir.path(), |out| {
                if gzip {
                    io::copy(&mut flate2::read::GzDecoder::new(chained), out)?;
                } else {
                    io::copy(&mut { chained }, out)?;
                }
                Ok(())
            })
            .map_err(|e| RegistryError::io(format!("compressing {name}"), e))?;
            done.insert(name, c);
        }
    }
    let config = config.ok_or_else(|| bad(format!("no {config_name} (the config manifest.json names)")))?;
    let mut layers = Vec::new();
    for name in &layer_names {
        let c = done
            .get(name)
            .ok_or_else(|| bad(format!("no {name} (a layer manifest.json names)")))?;
        layers.push(super::layer::Compressed {
            path: c.path.clone(),
            digest: c.digest.clone(),
            size: c.size,
            diff_id: c.diff_id.clone(),
        });
    }
    Ok((config, repo_tags, layers))
}

fn entry_name<R: Read>(entry: &tar::Entry<R>) -> Result<String> {
    let p = entry
        .path()
        .map_err(|e| RegistryError::io("a name in the archive", e))?;
    Ok(normalize(&p))
}

/// `./a/../b/c` → `b/c`.
fn normalize(p: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            std::path::Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    parts.join("/")
}

fn read_small<R: Read>(entry: &mut R, name: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    entry
        .take(SMALL_LIMIT + 1)
        .read_to_end(&mut out)
        .map_err(|e| RegistryError::io(format!("reading {name}"), e))?;
    if out.len() as u64 > SMALL_LIMIT {
        return Err(RegistryError::Unsupported(format!(
            "{name} is larger than {SMALL_LIMIT} bytes"
        )));
    }
    Ok(out)
}

fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
