//! An image load (`image-streams.load`) whose tar passes through tug on its way to the engine.
//!
//! The daemon unpacks a loaded tar whole before it reads `manifest.json`, so the order of its entries does
//! not matter to it. Layers stream straight through; the small JSON entries (image configs, the manifest)
//! are held back, and once the plugin has finished the upload: every image config is checked like the
//! daemon's decoder reads it (no duplicate or case-variant keys), loses its `tug.*` labels and gets the
//! run's, so the image is the run's like everything it makes; every name in `RepoTags` is checked like
//! any name the run gives (`Gate::image_target`: allowed, not an id, and naming nothing that is not the
//! run's); then the configs and the manifest (parents renamed to the new image ids) are sent and the tar
//! ends. Refused, or abandoned before `finish`, the manifest never reaches the engine and the request is
//! aborted: nothing is loaded.

use std::{
    io::{self, BufRead, BufReader, Read, Write},
    path::PathBuf,
    sync::{Arc, Mutex},
};

use bytes::Bytes;
use serde_json::{Map, Value};
use sha2::Digest;
use tokio::sync::{mpsc, oneshot};

use super::{
    bindings::types::Error as WitError,
    call::Call,
    resources::{Confirm, HostUpload, Names},
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
/// The chunk size sent to the engine.
const CHUNK: usize = 64 * 1024;

/// Starts the filter between the plugin's body and the engine's upload; returns the handle's upload and
/// the confirmation its progress stream will carry (the names the tar gave, with their image ids).
pub(crate) fn filtered(gate: Arc<Gate>, client: Client, up: Upload, call: Call) -> (HostUpload, Confirm) {
    let (engine, response) = up.into_channel();
    let (plugin, body) = mpsc::channel::<Bytes>(4);
    let (commit, committed) = oneshot::channel();
    let names = Arc::new(Mutex::new(Vec::new()));
    let confirm = Confirm::shared(gate.clone(), names.clone());
    let rt = tokio::runtime::Handle::current();
    let task = tokio::task::spawn_blocking(move || {
        let filter = Filter {
            gate,
            client,
            rt,
            names,
        };
        filter.run(body, engine, committed)
    });
    let mut upload = HostUpload::filtered(plugin, response, Some(call), task);
    upload.commit = Some(commit);
    (upload, confirm)
}

struct Filter {
    gate: Arc<Gate>,
    client: Client,
    rt: tokio::runtime::Handle,
    names: Names,
}

/// An entry held back until the end.
struct Held {
    header: tar::Header,
    path: PathBuf,
    data: Vec<u8>,
}

fn bad_tar(e: impl std::fmt::Display) -> WitError {
    WitError::InvalidArgument(format!("load: the image tar cannot be read: {e}"))
}

impl Filter {
    fn run(
        self,
        body: mpsc::Receiver<Bytes>,
        engine: mpsc::Sender<Bytes>,
        committed: oneshot::Receiver<()>,
    ) -> Result<(), WitError> {
        let mut input = BufReader::new(ChannelReader {
            rx: body,
            chunk: Bytes::new(),
        });
        let head = input.fill_buf().map_err(bad_tar)?;
        let gzip = head.starts_with(&[0x1f, 0x8b]);
        if head.starts_with(b"BZh") || head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z']) {
            return Err(WitError::InvalidArgument(
                "load: only plain or gzip-compressed image tars can be checked (not bzip2 or xz)".into(),
            ));
        }
        let source: Box<dyn Read> = if gzip {
            Box::new(flate2::read::GzDecoder::new(input))
        } else {
            Box::new(input)
        };
        let mut out = tar::Builder::new(ChannelWriter {
            tx: engine,
            buf: Vec::with_capacity(CHUNK),
        });
        let mut held = Vec::new();
        let mut held_bytes = 0u64;
        let mut archive = tar::Archive::new(source);
        for entry in archive.entries().map_err(bad_tar)? {
            let mut entry = entry.map_err(bad_tar)?;
            let path = entry.path().map_err(bad_tar)?.into_owned();
            let name = path.to_string_lossy().into_owned();
            let size = entry.size();
            let kind = entry.header().entry_type();
            let small_json = kind.is_file()
                && size <= MAX_HELD_ENTRY
                && (name.ends_with(".json") || name.starts_with("blobs/") || name == "repositories");
            let mut header = entry.header().clone();
            if small_json {
                held_bytes += size;
                if held_bytes > MAX_HELD {
                    return Err(WitError::InvalidArgument(format!(
                        "load: the tar's small files take more than {MAX_HELD} bytes"
                    )));
                }
                let mut data = Vec::with_capacity(size as usize);
                entry.read_to_end(&mut data).map_err(bad_tar)?;
                held.push(Held { header, path, data });
            } else if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name()
                    .map_err(bad_tar)?
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                out.append_link(&mut header, &path, &target).map_err(sent)?;
            } else {
                out.append_data(&mut header, &path, &mut entry).map_err(sent)?;
            }
        }
        // The plugin finished the upload (a handle dropped before `finish` loads nothing).
        if self.rt.block_on(committed).is_err() {
            return Err(WitError::InvalidArgument(
                "load: the upload was dropped before finish".into(),
            ));
        }
        self.finish(held, out)
    }

    /// Checks and rewrites what was held back, sends it, and ends the tar.
    fn finish(&self, mut held: Vec<Held>, mut out: tar::Builder<ChannelWriter>) -> Result<(), WitError> {
        let at = held
            .iter()
            .position(|h| h.path.as_os_str() == "manifest.json")
            .ok_or_else(|| {
                WitError::InvalidArgument(
                    "load: the tar has no manifest.json (only `docker save` archives can be checked)".into(),
                )
            })?;
        let manifest_entry = held.remove(at);
        let mut manifest: Value = serde_json::from_slice(&manifest_entry.data)
            .map_err(|e| WitError::InvalidArgument(format!("load: manifest.json: {e}")))?;
        let items = manifest
            .as_array_mut()
            .ok_or_else(|| WitError::InvalidArgument("load: manifest.json is not a list".into()))?;
        let mut renamed: Vec<(String, String)> = Vec::new();
        let mut names = Vec::new();
        for (i, item) in items.iter_mut().enumerate() {
            let config = item["Config"].as_str().unwrap_or_default().to_owned();
            let entry = held
                .iter_mut()
                .find(|h| h.path.to_string_lossy() == config)
                .ok_or_else(|| {
                    WitError::InvalidArgument(format!(
                        "load: image {i}'s config {} is not in the tar",
                        shorten(&config)
                    ))
                })?;
            let old = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&entry.data)));
            entry.data = self.stamp(&entry.data, &format!("[{i}].Config"))?;
            let new = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&entry.data)));
            entry.header.set_size(entry.data.len() as u64);
            renamed.push((old, new.clone()));
            for (j, tag) in item["RepoTags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .enumerate()
            {
                let field = format!("RepoTags[{j}]");
                self.rt
                    .block_on(self.gate.image_target(&self.client, tag, &field))
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
        for mut h in held {
            // The legacy `repositories` file names layers, not images: the daemon uses the manifest.
            if h.path.as_os_str() == "repositories" {
                continue;
            }
            out.append_data(&mut h.header, &h.path, h.data.as_slice())
                .map_err(sent)?;
        }
        let data = serde_json::to_vec(&manifest).map_err(|e| WitError::InvalidArgument(e.to_string()))?;
        let mut header = manifest_entry.header;
        header.set_size(data.len() as u64);
        out.append_data(&mut header, "manifest.json", data.as_slice())
            .map_err(sent)?;
        let mut writer = out.into_inner().map_err(sent)?;
        writer.flush().map_err(sent)?;
        *self.names.lock().unwrap_or_else(|p| p.into_inner()) = names;
        Ok(())
    }

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
        self.gate.stamp(&mut config["config"], "Labels");
        serde_json::to_vec(&config).map_err(|e| WitError::InvalidArgument(e.to_string()))
    }
}

fn sent(e: io::Error) -> WitError {
    WitError::Transport(format!("load: sending the image tar to the engine: {e}"))
}

/// The plugin's body, read on a blocking thread.
struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    chunk: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rx.blocking_recv() {
                Some(c) => self.chunk = c,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

/// The engine's body, written from a blocking thread in chunks.
struct ChannelWriter {
    tx: mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the engine stopped reading the load"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}
