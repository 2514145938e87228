//! New layers: a tar stream, a list of files, or a host directory, gzip-compressed into the image's
//! temporary directory while both digests (compressed blob, uncompressed diff_id) are computed.

use std::{
    io::{self, Read, Write},
    path::{Path, PathBuf},
    sync::Arc,
};

use serde_json::json;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::{
    error::{RegistryError, Result},
    image::{now_rfc3339, Image, Layer, LayerInfo, Location},
    manifest::{self, Descriptor},
};

/// A writer that hashes and counts what passes through it.
pub(crate) struct HashWriter<W> {
    pub inner: W,
    hasher: Sha256,
    pub count: u64,
}

impl<W: Write> HashWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        HashWriter {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// The inner writer and `sha256:<hex>` of everything written.
    pub(crate) fn finish(self) -> (W, String, u64) {
        (
            self.inner,
            format!("sha256:{}", hex::encode(self.hasher.finalize())),
            self.count,
        )
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A finished layer file.
pub(crate) struct Compressed {
    pub path: PathBuf,
    pub digest: String,
    pub size: u64,
    pub diff_id: String,
}

/// Runs `produce` (writing an uncompressed tar) into a gzip file in `dir`, named after its digest.
pub(crate) fn compress(
    dir: &Path,
    produce: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<Compressed> {
    let temp = tempfile::NamedTempFile::new_in(dir)?;
    let file = temp.reopen()?;
    let gz = flate2::write::GzEncoder::new(
        HashWriter::new(io::BufWriter::with_capacity(256 << 10, file)),
        flate2::Compression::default(),
    );
    let mut tar = HashWriter::new(gz);
    produce(&mut tar)?;
    let (gz, diff_id, _) = tar.finish();
    let (buffered, digest, size) = gz.finish()?.finish();
    buffered.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    let path = dir.join(format!("{}.tar.gz", digest.trim_start_matches("sha256:")));
    temp.persist(&path).map_err(|e| e.error)?;
    Ok(Compressed {
        path,
        digest,
        size,
        diff_id,
    })
}

impl Image {
    /// The image's temporary directory, created on first use.
    pub(crate) fn layer_dir(&mut self) -> Result<Arc<tempfile::TempDir>> {
        if self.workdir.is_none() {
            let dir = tempfile::Builder::new()
                .prefix("tug-image-")
                .tempdir()
                .map_err(|e| RegistryError::io("creating a temporary directory for layers", e))?;
            self.workdir = Some(Arc::new(dir));
        }
        Ok(self.workdir.clone().expect("just set"))
    }

    /// Records a compressed layer on top of the image, with a history entry.
    fn push_layer(&mut self, c: Compressed, comment: &str) -> LayerInfo {
        let media_type = if self.media_type == manifest::DOCKER_MANIFEST {
            manifest::DOCKER_LAYER_GZIP
        } else {
            manifest::OCI_LAYER_GZIP
        };
        self.layers.push(Layer {
            descriptor: Descriptor {
                media_type: media_type.to_owned(),
                digest: c.digest.clone(),
                size: c.size,
                platform: None,
                extra: Default::default(),
            },
            diff_id: c.diff_id.clone(),
            location: Location::Local { path: c.path },
        });
        let now = now_rfc3339();
        if let Some(root) = self.config.as_object_mut() {
            let history = root.entry("history").or_insert_with(|| json!([]));
            if !history.is_array() {
                *history = json!([]);
            }
            history
                .as_array_mut()
                .expect("an array")
                .push(json!({"created": now, "created_by": comment}));
            root.insert("created".into(), json!(now));
        }
        self.changed();
        LayerInfo {
            digest: c.digest,
            diff_id: c.diff_id,
            size: c.size,
            media_type: media_type.to_owned(),
            local: true,
        }
    }

    /// Adds a layer from an uncompressed tar stream (not checked to be a tar); stored gzip-compressed.
    pub async fn add_layer_tar<R: AsyncRead + Unpin + Send>(
        &mut self,
        mut tar: R,
        comment: &str,
    ) -> Result<LayerInfo> {
        let dir = self.layer_dir()?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
        let worker = tokio::task::spawn_blocking(move || {
            compress(dir.path(), |out| {
                while let Some(chunk) = rx.blocking_recv() {
                    out.write_all(&chunk)?;
                }
                Ok(())
            })
        });
        let mut read_error = None;
        loop {
            let mut buf = vec![0u8; 256 << 10];
            match tar.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.send(buf).await.is_err() {
                        break; // the writer failed; its error is below
                    }
                }
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            }
        }
        drop(tx);
        let result = worker
            .await
            .map_err(|e| RegistryError::Layer(format!("compressing: {e}")))?;
        if let Some(e) = read_error {
            if let Ok(c) = &result {
                let _ = std::fs::remove_file(&c.path);
            }
            return Err(RegistryError::io("reading the layer's tar stream", e));
        }
        let c = result.map_err(|e| RegistryError::io("writing the compressed layer", e))?;
        Ok(self.push_layer(c, comment))
    }

    /// Adds a layer holding these files (`(path in the image, contents, mode)`), their parent
    /// directories (0755, root) included; owner root, mtime 0, sorted, so the same files give the same
    /// digest.
    pub async fn add_layer_files(
        &mut self,
        files: &[(String, Vec<u8>, u32)],
        comment: &str,
    ) -> Result<LayerInfo> {
        let mut entries = Vec::new();
        for (path, data, mode) in files {
            entries.push((image_path(path)?, data.clone(), *mode));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(RegistryError::Layer(format!("{} is listed twice", w[0].0)));
        }
        let dir = self.layer_dir()?;
        let c = tokio::task::spawn_blocking(move || {
            compress(dir.path(), |out| {
                let mut builder = tar::Builder::new(out);
                let mut made = std::collections::BTreeSet::new();
                for (path, data, mode) in &entries {
                    add_parents(&mut builder, path, &mut made)?;
                    let mut h = header(tar::EntryType::Regular, *mode & 0o7777, data.len() as u64, 0);
                    builder.append_data(&mut h, path, data.as_slice())?;
                }
                builder.finish()
            })
        })
        .await
        .map_err(|e| RegistryError::Layer(format!("building the layer: {e}")))?
        .map_err(|e| RegistryError::io("building the layer", e))?;
        Ok(self.push_layer(c, comment))
    }

    /// Adds a layer holding a host directory's contents under `image_dir` (its parents 0755, root):
    /// files, directories and symlinks (stored as symlinks, never followed), in sorted order, owner root,
    /// modes and mtimes kept. Sockets are skipped; devices and FIFOs are an error.
    pub async fn add_layer_dir(
        &mut self,
        host_dir: &Path,
        image_dir: &str,
        comment: &str,
    ) -> Result<LayerInfo> {
        let root = image_path(image_dir).or_else(|e| {
            if image_dir.trim_matches('/').is_empty() {
                Ok(String::new())
            } else {
                Err(e)
            }
        })?;
        let meta = std::fs::metadata(host_dir)
            .map_err(|e| RegistryError::io(format!("reading {}", host_dir.display()), e))?;
        if !meta.is_dir() {
            return Err(RegistryError::Layer(format!(
                "{} is not a directory",
                host_dir.display()
            )));
        }
        let host_dir = host_dir.to_owned();
        let dir = self.layer_dir()?;
        let c = tokio::task::spawn_blocking(move || {
            compress(dir.path(), |out| {
                let mut builder = tar::Builder::new(out);
                let mut made = std::collections::BTreeSet::new();
                if !root.is_empty() {
                    add_parents(&mut builder, &root, &mut made)?;
                    let mut h = header(tar::EntryType::Directory, mode_of(&meta), 0, mtime_of(&meta));
                    builder.append_data(&mut h, format!("{root}/"), io::empty())?;
                }
                add_tree(&mut builder, &host_dir, &root)?;
                builder.finish()
            })
        })
        .await
        .map_err(|e| RegistryError::Layer(format!("building the layer: {e}")))?
        .map_err(|e| RegistryError::io("building the layer", e))?;
        Ok(self.push_layer(c, comment))
    }
}

/// `/etc/app/x` → `etc/app/x`; rejects empty paths, `.` and `..` components.
fn image_path(path: &str) -> Result<String> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() || parts.iter().any(|p| *p == "." || *p == ".." || p.contains('\0')) {
        return Err(RegistryError::Layer(format!(
            "{path:?} is not a path in the image (no '.', '..' or empty path)"
        )));
    }
    Ok(parts.join("/"))
}

fn header(kind: tar::EntryType, mode: u32, size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(mtime);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Directory entries for every parent of `path` not written yet.
fn add_parents<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &str,
    made: &mut std::collections::BTreeSet<String>,
) -> io::Result<()> {
    let parts: Vec<&str> = path.split('/').collect();
    for i in 1..parts.len() {
        let dir = parts[..i].join("/");
        if made.insert(dir.clone()) {
            let mut h = header(tar::EntryType::Directory, 0o755, 0, 0);
            builder.append_data(&mut h, format!("{dir}/"), io::empty())?;
        }
    }
    made.insert(path.to_owned());
    Ok(())
}

fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

fn mtime_of(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.mtime().max(0) as u64
}

/// Writes a directory's entries, sorted by name, depth first, without following symlinks.
fn add_tree<W: Write>(builder: &mut tar::Builder<W>, host: &Path, prefix: &str) -> io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let mut names: Vec<_> = std::fs::read_dir(host)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<_>>()?;
    names.sort();
    for name in names {
        let host_path = host.join(&name);
        let name = name.to_str().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not a UTF-8 file name", host_path.display()),
            )
        })?;
        let path = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}/{name}")
        };
        let meta = std::fs::symlink_metadata(&host_path)?;
        let ft = meta.file_type();
        if ft.is_symlink() {
            let target = std::fs::read_link(&host_path)?;
            let mut h = header(tar::EntryType::Symlink, 0o777, 0, mtime_of(&meta));
            builder.append_link(&mut h, &path, &target)?;
        } else if ft.is_dir() {
            let mut h = header(tar::EntryType::Directory, mode_of(&meta), 0, mtime_of(&meta));
            builder.append_data(&mut h, format!("{path}/"), io::empty())?;
            add_tree(builder, &host_path, &path)?;
        } else if ft.is_file() {
            let size = meta.len();
            let mut h = header(tar::EntryType::Regular, mode_of(&meta), size, mtime_of(&meta));
            let file = std::fs::File::open(&host_path)?;
            builder.append_data(
                &mut h,
                &path,
                Exact {
                    inner: file.take(size),
                    left: size,
                    path: host_path,
                },
            )?;
        } else if ft.is_socket() {
            continue;
        } else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{}: devices and FIFOs are not supported in layers",
                    host_path.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Reads exactly the size the tar header announced (a file that shrank meanwhile is an error).
struct Exact<R> {
    inner: R,
    left: u64,
    path: PathBuf,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} shrank while it was read", self.path.display()),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Platform;

    fn entries(path: &Path) -> Vec<(String, tar::EntryType, u32)> {
        let f = std::fs::File::open(path).unwrap();
        let mut a = tar::Archive::new(flate2::read::GzDecoder::new(f));
        a.entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.entry_type(),
                    h.mode().unwrap(),
                )
            })
            .collect()
    }

    fn local_path(img: &Image, i: usize) -> PathBuf {
        match &img.layers[i].location {
            Location::Local { path, .. } => path.clone(),
            Location::Remote(_) => panic!("remote"),
        }
    }

    #[tokio::test]
    async fn files_layers_are_reproducible() {
        let files = vec![
            ("/etc/app/b.txt".to_owned(), b"b".to_vec(), 0o600),
            ("etc/app/a.txt".to_owned(), b"a".to_vec(), 0o644),
            ("/bin/x".to_owned(), b"#!/bin/sh\n".to_vec(), 0o755),
        ];
        let mut one = Image::scratch(Platform::new("linux", "amd64", None));
        let mut two = Image::scratch(Platform::new("linux", "amd64", None));
        let a = one.add_layer_files(&files, "files").await.unwrap();
        let b = two.add_layer_files(&files, "files").await.unwrap();
        assert_eq!((a.digest.clone(), a.diff_id.clone()), (b.digest, b.diff_id));
        assert!(a.local && a.media_type == manifest::OCI_LAYER_GZIP);
        let names: Vec<_> = entries(&local_path(&one, 0))
            .into_iter()
            .map(|e| (e.0, e.2))
            .collect();
        assert_eq!(
            names,
            vec![
                ("bin/".to_owned(), 0o755),
                ("bin/x".to_owned(), 0o755),
                ("etc/".to_owned(), 0o755),
                ("etc/app/".to_owned(), 0o755),
                ("etc/app/a.txt".to_owned(), 0o644),
                ("etc/app/b.txt".to_owned(), 0o600),
            ]
        );
        assert_eq!(one.config()["rootfs"]["diff_ids"], json!([a.diff_id]));
        assert_eq!(one.config()["history"][0]["created_by"], "files");
        assert!(one
            .add_layer_files(&[("../x".into(), vec![], 0o644)], "bad")
            .await
            .is_err());
        one.remove_layer(0).unwrap();
        assert_eq!(one.config()["rootfs"]["diff_ids"], json!([]));
        assert_eq!(one.config()["history"], json!([]));
    }

    #[tokio::test]
    async fn dir_layers_keep_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/f"), b"data").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
        let mut img = Image::scratch(Platform::host());
        img.add_layer_dir(dir.path(), "/opt/app", "dir").await.unwrap();
        let got: Vec<_> = entries(&local_path(&img, 0))
            .into_iter()
            .map(|e| (e.0, e.1))
            .collect();
        assert_eq!(
            got,
            vec![
                ("opt/".to_owned(), tar::EntryType::Directory),
                ("opt/app/".to_owned(), tar::EntryType::Directory),
                ("opt/app/link".to_owned(), tar::EntryType::Symlink),
                ("opt/app/sub/".to_owned(), tar::EntryType::Directory),
                ("opt/app/sub/f".to_owned(), tar::EntryType::Regular),
            ]
        );
        let tar_bytes = {
            let mut b = tar::Builder::new(Vec::new());
            let mut h = header(tar::EntryType::Regular, 0o644, 2, 0);
            b.append_data(&mut h, "x", &b"hi"[..]).unwrap();
            b.into_inner().unwrap()
        };
        let info = img.add_layer_tar(&tar_bytes[..], "tar").await.unwrap();
        assert_eq!(
            info.diff_id,
            format!("sha256:{}", hex::encode(Sha256::digest(&tar_bytes)))
        );
        assert_eq!(img.layers().len(), 2);
    }
}
