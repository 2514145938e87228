//! Writing an image out: the `docker save` format (`docker load -i`) and the OCI image layout, both as
//! a tar stream. Lazy layers are fetched now, verified as their bytes arrive.

use std::io::{self, Write};

use bytes::Bytes;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{
    blob::{BlobKind, FileReader, Source},
    error::{RegistryError, Result},
    image::{Image, Layer, Location},
    layer::HashWriter,
    manifest, Reference, Registry,
};

/// A tar stream written entry by entry (ustar headers; tug's names are short).
struct TarOut<W> {
    out: W,
}

impl<W: AsyncWrite + Unpin + Send> TarOut<W> {
    async fn header(&mut self, path: &str, size: u64) -> Result<()> {
        let mut h = tar::Header::new_ustar();
        h.set_path(path)
            .map_err(|e| RegistryError::io(format!("tar entry {path}"), e))?;
        h.set_size(size);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        self.write(h.as_bytes()).await
    }

    async fn write(&mut self, data: &[u8]) -> Result<()> {
        self.out
            .write_all(data)
            .await
            .map_err(|e| RegistryError::io("writing the archive", e))
    }

    async fn pad(&mut self, size: u64) -> Result<()> {
        let rem = (size % 512) as usize;
        if rem != 0 {
            self.write(&[0u8; 512][..512 - rem]).await?;
        }
        Ok(())
    }

    async fn file(&mut self, path: &str, data: &[u8]) -> Result<()> {
        self.header(path, data.len() as u64).await?;
        self.write(data).await?;
        self.pad(data.len() as u64).await
    }

    async fn finish(mut self) -> Result<()> {
        self.write(&[0u8; 1024]).await?;
        self.out
            .flush()
            .await
            .map_err(|e| RegistryError::io("writing the archive", e))
    }
}

/// The verified compressed bytes of a layer, from the registry or the local file.
async fn layer_source(registry: &Registry, layer: &Layer) -> Result<Source> {
    let d = &layer.descriptor;
    Ok(match &layer.location {
        Location::Remote(repo) => Source::Remote(
            registry
                .get_blob(repo, &d.digest, Some(d.size), BlobKind::Layer)
                .await?,
        ),
        Location::Local { path, .. } => Source::File(
            FileReader::open(path, format!("local layer {}", d.digest), &d.digest, d.size).await?,
        ),
    })
}

/// `docker save`'s name for a reference: `busybox:latest`, `foo/bar:1`, `127.0.0.1:5000/a:b`.
fn familiar_tag(r: &Reference) -> Option<(String, String)> {
    let tag = r.tag()?;
    let repo = if r.registry() == super::reference::DOCKER_HUB {
        r.repository()
            .strip_prefix("library/")
            .unwrap_or(r.repository())
            .to_owned()
    } else {
        r.name()
    };
    Some((repo, tag.to_owned()))
}

/// The uncompressed layer, spooled to a temporary file (a tar header needs its size first), with its
/// digest and size.
async fn spool_uncompressed(
    mut source: Source,
    layer: &Layer,
    index: usize,
) -> Result<(tempfile::NamedTempFile, u64)> {
    let media_type = layer.descriptor.media_type.as_str();
    let gzip = media_type.ends_with("gzip");
    let plain = media_type == manifest::OCI_LAYER_TAR || media_type.ends_with(".tar");
    if !gzip && !plain {
        return Err(RegistryError::Unsupported(format!(
            "layer {index} ({}) has media type {media_type}: a docker archive needs gzip or plain tar layers",
            layer.descriptor.digest
        )));
    }
    let temp = tempfile::NamedTempFile::new().map_err(|e| RegistryError::io("creating a spool file", e))?;
    let file = temp
        .reopen()
        .map_err(|e| RegistryError::io("opening the spool file", e))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let worker = tokio::task::spawn_blocking(move || -> io::Result<(String, u64)> {
        let sink = HashWriter::new(io::BufWriter::with_capacity(256 << 10, file));
        if gzip {
            let mut dec = flate2::write::GzDecoder::new(sink);
            while let Some(chunk) = rx.blocking_recv() {
                dec.write_all(&chunk)?;
            }
            let (buf, digest, size) = dec.finish()?.finish();
            buf.into_inner().map_err(|e| e.into_error())?;
            Ok((digest, size))
        } else {
            let mut sink = sink;
            while let Some(chunk) = rx.blocking_recv() {
                sink.write_all(&chunk)?;
            }
            let (buf, digest, size) = sink.finish();
            buf.into_inner().map_err(|e| e.into_error())?;
            Ok((digest, size))
        }
    });
    let mut fetch_error = None;
    loop {
        match source.chunk().await {
            Ok(Some(b)) => {
                if tx.send(b).await.is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                fetch_error = Some(e);
                break;
            }
        }
    }
    drop(tx);
    let result = worker
        .await
        .map_err(|e| RegistryError::Layer(format!("decompressing layer {index}: {e}")))?;
    if let Some(e) = fetch_error {
        return Err(e);
    }
    let (diff_id, size) = result.map_err(|e| {
        RegistryError::io(
            format!("decompressing layer {index} ({})", layer.descriptor.digest),
            e,
        )
    })?;
    if diff_id != layer.diff_id {
        return Err(RegistryError::DigestMismatch {
            what: format!("uncompressed layer {index} (blob {})", layer.descriptor.digest),
            expected: layer.diff_id.clone(),
            actual: diff_id,
        });
    }
    Ok((temp, size))
}

impl Image {
    /// Writes the image in `docker save` format: `<dir>/layer.tar` (uncompressed), `<config hex>.json`,
    /// `manifest.json` and `repositories`, with the image's name as its tag. Lazy layers are fetched
    /// now; a digest or size mismatch is an error (the output is then incomplete: discard it).
    pub async fn write_docker_archive<W: AsyncWrite + Unpin + Send>(
        &self,
        registry: &Registry,
        out: W,
    ) -> Result<()> {
        let mut tar = TarOut { out };
        let mut layer_paths = Vec::new();
        let mut written = std::collections::HashSet::new();
        for (i, layer) in self.layers.iter().enumerate() {
            let dir = layer.diff_id.trim_start_matches("sha256:").to_owned();
            let path = format!("{dir}/layer.tar");
            layer_paths.push(path.clone());
            if !written.insert(dir) {
                continue;
            }
            let source = layer_source(registry, layer).await?;
            let (spool, size) = spool_uncompressed(source, layer, i).await?;
            tar.header(&path, size).await?;
            let mut f = tokio::fs::File::open(spool.path())
                .await
                .map_err(|e| RegistryError::io("reopening the spooled layer", e))?;
            let mut buf = vec![0u8; 256 << 10];
            let mut copied = 0u64;
            loop {
                let n = f
                    .read(&mut buf)
                    .await
                    .map_err(|e| RegistryError::io("reading the spooled layer", e))?;
                if n == 0 {
                    break;
                }
                copied += n as u64;
                tar.write(&buf[..n]).await?;
            }
            if copied != size {
                return Err(RegistryError::SizeMismatch {
                    what: format!("spooled layer {i}"),
                    expected: size,
                    actual: copied,
                });
            }
            tar.pad(size).await?;
        }
        let (config, config_digest) = self.config_bytes();
        let config_name = format!("{}.json", config_digest.trim_start_matches("sha256:"));
        tar.file(&config_name, &config).await?;
        let tags: Vec<(String, String)> = self.name.as_ref().and_then(familiar_tag).into_iter().collect();
        let manifest = json!([{
            "Config": config_name,
            "RepoTags": tags.iter().map(|(r, t)| format!("{r}:{t}")).collect::<Vec<_>>(),
            "Layers": layer_paths,
        }]);
        tar.file("manifest.json", &serde_json::to_vec(&manifest).expect("JSON"))
            .await?;
        if let (Some((repo, tag)), Some(last)) = (tags.first(), layer_paths.last()) {
            let top = last.trim_end_matches("/layer.tar");
            let repositories = json!({ repo: { tag: top } });
            tar.file("repositories", &serde_json::to_vec(&repositories).expect("JSON"))
                .await?;
        }
        tar.finish().await
    }

    /// Writes the image as an OCI image layout in a tar: `oci-layout`, `index.json` (annotated with
    /// `org.opencontainers.image.ref.name` = the tag and `io.containerd.image.name` = the full name) and
    /// `blobs/sha256/…` (layers as stored, verified as they stream through).
    pub async fn write_oci_archive<W: AsyncWrite + Unpin + Send>(
        &self,
        registry: &Registry,
        out: W,
    ) -> Result<()> {
        let mut tar = TarOut { out };
        tar.file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)
            .await?;
        let mut written = std::collections::HashSet::new();
        for layer in &self.layers {
            let d = &layer.descriptor;
            if !written.insert(d.digest.clone()) {
                continue;
            }
            let mut source = layer_source(registry, layer).await?;
            tar.header(&blob_path(&d.digest), d.size).await?;
            while let Some(chunk) = source.chunk().await? {
                tar.write(&chunk).await?;
            }
            tar.pad(d.size).await?;
        }
        let (config, config_digest) = self.config_bytes();
        if written.insert(config_digest.clone()) {
            tar.file(&blob_path(&config_digest), &config).await?;
        }
        let (manifest, media_type) = self.manifest_bytes();
        let manifest_digest = super::blob::sha256_digest(&manifest);
        if written.insert(manifest_digest.clone()) {
            tar.file(&blob_path(&manifest_digest), &manifest).await?;
        }
        let mut entry = json!({
            "mediaType": media_type,
            "digest": manifest_digest,
            "size": manifest.len(),
        });
        if let Some(name) = &self.name {
            let mut annotations = serde_json::Map::new();
            annotations.insert("io.containerd.image.name".into(), json!(name.to_string()));
            if let Some(tag) = name.tag() {
                annotations.insert("org.opencontainers.image.ref.name".into(), json!(tag));
            }
            entry["annotations"] = json!(annotations);
        }
        let index = json!({
            "schemaVersion": 2,
            "mediaType": manifest::OCI_INDEX,
            "manifests": [entry],
        });
        tar.file("index.json", &serde_json::to_vec(&index).expect("JSON"))
            .await?;
        tar.finish().await
    }
}

fn blob_path(digest: &str) -> String {
    format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))
}
