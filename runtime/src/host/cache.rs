//! The precompiled component cache: `tug compile` (and the first `tug run` of a plugin) compiles a
//! component once to native code and writes the artifact into a directory of tug's own; later loads map it
//! instead of compiling again.
//!
//! An artifact's name is its key: the SHA-256 of the component's bytes and of the engine's
//! compatibility hash (`Engine::precompile_compatibility_hash`: wasmtime's version, the target, the
//! compiler settings). Changed bytes or a different wasmtime or configuration therefore never find an
//! old artifact.
//!
//! Loading an artifact runs native code that was not compiled in this process, so tug only ever loads
//! files it wrote itself, from a directory that is its own: created with mode 0700, owned by the user tug
//! runs as, and refused (the cache is then off) when it is anyone else's or open to group or others.
//! Artifacts are written to a temporary file and renamed into place, so a half-written file never has an
//! artifact's name. A file wasmtime does not accept (truncated, from another wasmtime, not an artifact at
//! all) is compiled again and replaced.
//!
//! Hashing a large component (a Python plugin is ≈ 27 MB) costs more than mapping its artifact, so the
//! cache also remembers, in `by-file/`, which key a file had: an entry is named after the file's identity
//! (device, inode, size, modification and change times, to the nanosecond) and this engine's
//! compatibility hash, and holds the key. A later load of the same unchanged file finds its artifact
//! without reading the file. Any write to the file changes its change time (which no user can set), so a
//! changed file never matches an old entry; an identity is only remembered when the file did not change
//! while it was read and its times are more than [`SETTLED`] old, so a write within the file system's
//! timestamp granularity cannot go unseen.

use std::{
    fs,
    hash::{Hash, Hasher},
    io::{Read, Write},
    os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};
use wasmtime::{component::Component, Engine};

/// The environment variable naming the cache directory (default `$XDG_CACHE_HOME/tug`, else
/// `$HOME/.cache/tug`).
pub const CACHE_DIR_ENV: &str = "TUG_CACHE_DIR";

/// The file extension of an artifact.
const EXTENSION: &str = "cwasm";

/// The subdirectory of file identities (see the module documentation).
const BY_FILE: &str = "by-file";

/// How old a file's modification and change times must be before its identity is remembered.
pub const SETTLED: Duration = Duration::from_secs(2);

/// What identifies a file's contents without reading them: device, inode, size, and the modification and
/// change times to the nanosecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileId([i64; 7]);

impl FileId {
    /// The identity of the file `meta` describes.
    pub fn of(meta: &fs::Metadata) -> Self {
        FileId([
            meta.dev() as i64,
            meta.ino() as i64,
            meta.size() as i64,
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ctime(),
            meta.ctime_nsec(),
        ])
    }

    /// Whether both times are more than [`SETTLED`] in the past, so that a write now would change them.
    fn settled(&self) -> bool {
        let Ok(now) = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH) else {
            return false;
        };
        let limit = now.as_secs() as i64 - SETTLED.as_secs() as i64;
        self.0[3] < limit && self.0[5] < limit
    }
}

/// Reads a whole file and returns its bytes, with its identity when the file did not change while it
/// was read (the same identity before and after).
pub fn read_with_id(path: &Path) -> std::io::Result<(Vec<u8>, Option<FileId>)> {
    let mut f = fs::File::open(path)?;
    let before = FileId::of(&f.metadata()?);
    let mut bytes = Vec::with_capacity(before.0[2].max(0) as usize);
    f.read_to_end(&mut bytes)?;
    let after = FileId::of(&f.metadata()?);
    Ok((bytes, (before == after).then_some(before)))
}

/// Feeds what a `Hash` impl writes into SHA-256, so that the engine's compatibility hash becomes bytes
/// that are the same in every process.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        // Never used: the digest is taken with `finalize`.
        0
    }
}

/// Where a component came from when it was loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Compiled now; no cache was in use.
    Compiled,
    /// Compiled now, and the artifact written to the cache.
    CompiledAndCached,
    /// Mapped from the cache.
    Cached,
}

/// A directory of precompiled components (see the module documentation).
#[derive(Clone, Debug)]
pub struct CompileCache {
    dir: PathBuf,
}

impl CompileCache {
    /// The default directory: `$TUG_CACHE_DIR`, else `$XDG_CACHE_HOME/tug`, else `$HOME/.cache/tug`.
    pub fn default_dir() -> Option<PathBuf> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        var(CACHE_DIR_ENV)
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("tug")))
            .or_else(|| var("HOME").map(|d| d.join(".cache").join("tug")))
    }

    /// Opens (creating it with mode 0700 if needed) the cache in `dir`. Refuses a directory that belongs
    /// to another user; tightens the mode of one of ours that is open to group or others.
    pub fn open(dir: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let dir = dir.into();
        let shown = dir.display().to_string();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("creating the compile cache {shown}"))?;
        let meta = fs::symlink_metadata(&dir).with_context(|| format!("compile cache {shown}"))?;
        if !meta.is_dir() {
            bail!("compile cache {shown} is not a directory");
        }
        // The effective uid: /proc/self belongs to it.
        if let Ok(me) = fs::metadata("/proc/self").map(|m| m.uid()) {
            if meta.uid() != me {
                bail!(
                    "compile cache {shown} belongs to uid {}, not to uid {me} tug runs as: not using it",
                    meta.uid()
                );
            }
        }
        if meta.mode() & 0o077 != 0 {
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                .with_context(|| format!("making the compile cache {shown} private (mode 0700)"))?;
        }
        Ok(CompileCache { dir })
    }

    /// The cache in the default directory, if there is one and it can be used.
    pub fn open_default() -> anyhow::Result<Self> {
        match Self::default_dir() {
            Some(dir) => Self::open(dir),
            None => bail!("no cache directory: set {CACHE_DIR_ENV}, XDG_CACHE_HOME or HOME"),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of a component for an engine: hex SHA-256 of the bytes and the engine's compatibility hash.
    pub fn key(engine: &Engine, bytes: &[u8]) -> String {
        let mut h = ShaHasher(Sha256::new());
        h.0.update(b"tug-cwasm-1\0");
        h.0.update((bytes.len() as u64).to_le_bytes());
        h.0.update(bytes);
        engine.precompile_compatibility_hash().hash(&mut h);
        hex::encode(h.0.finalize())
    }

    /// Where the key of the file `id` is remembered, for `engine`.
    fn id_path(&self, engine: &Engine, id: &FileId) -> PathBuf {
        let mut h = ShaHasher(Sha256::new());
        h.0.update(b"tug-file-id-1\0");
        for v in id.0 {
            h.0.update(v.to_le_bytes());
        }
        engine.precompile_compatibility_hash().hash(&mut h);
        self.dir.join(BY_FILE).join(hex::encode(h.0.finalize()))
    }

    /// The key remembered for the file at `path` as it is now, if any.
    pub fn key_of_file(&self, engine: &Engine, path: &Path) -> Option<String> {
        let id = FileId::of(&fs::metadata(path).ok()?);
        let key = fs::read_to_string(self.id_path(engine, &id)).ok()?;
        let key = key.trim();
        (key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit())).then(|| key.to_owned())
    }

    /// Maps the artifact of the file at `path` when the file's identity is remembered (no reading or
    /// hashing of the file).
    pub fn get_by_file(&self, engine: &Engine, path: &Path) -> Option<Component> {
        self.get(engine, &self.key_of_file(engine, path)?)
    }

    /// Remembers that the file `id` has `key`, when its times are settled (a failure is only logged:
    /// the next load hashes the file again).
    pub fn remember(&self, engine: &Engine, id: &FileId, key: &str) {
        if !id.settled() {
            return;
        }
        let path = self.id_path(engine, id);
        let dir = self.dir.join(BY_FILE);
        let tmp = dir.join(format!(".{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            fs::DirBuilder::new().mode(0o700).recursive(true).create(&dir)?;
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(key.as_bytes())?;
            fs::rename(&tmp, &path)
        };
        if let Err(e) = write() {
            let _ = fs::remove_file(&tmp);
            tracing::debug!("compile cache: remembering {}: {e}", path.display());
        }
    }

    /// Where the artifact of `key` lives.
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.{EXTENSION}"))
    }

    /// Maps the cached artifact of `key`, if there is one wasmtime accepts.
    pub fn get(&self, engine: &Engine, key: &str) -> Option<Component> {
        let path = self.path(key);
        let meta = fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() {
            return None;
        }
        // SAFETY: `deserialize_file` runs native code from the file. The file is one tug wrote itself
        // (`put`: a private temporary file renamed into place) into a directory that `open` checked is
        // ours and private (0700), under a name that is the hash of the component and of this engine's
        // compatibility hash; wasmtime checks the artifact's format, version and engine settings on top,
        // and anything it refuses is compiled again and replaced. Only the user tug runs as can put a file
        // there, and that user can already run any code.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::debug!(
                    "compile cache: {} refused, compiling again: {e:#}",
                    path.display()
                );
                None
            }
        }
    }

    /// Writes the artifact of `component` under `key` (atomically: a private temporary file renamed into
    /// place) and returns its path.
    pub fn put(&self, key: &str, component: &Component) -> anyhow::Result<PathBuf> {
        let bytes = component
            .serialize()
            .map_err(|e| anyhow::anyhow!("serializing a compiled component: {e:?}"))?;
        let path = self.path(key);
        let tmp = self
            .dir
            .join(format!(".{key}.{}.{EXTENSION}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_data()?;
            fs::rename(&tmp, &path)
        };
        if let Err(e) = write() {
            let _ = fs::remove_file(&tmp);
            return Err(e).with_context(|| format!("writing {}", path.display()));
        }
        Ok(path)
    }

    /// The component of `bytes`: from the cache, else compiled now and written to the cache (a failed
    /// write is only logged: the component is still good). `id`, the identity of the file the bytes were
    /// read from, is remembered with the key once the artifact is in the cache.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        id: Option<&FileId>,
    ) -> wasmtime::Result<(Component, Source)> {
        let key = Self::key(engine, bytes);
        if let Some(c) = self.get(engine, &key) {
            if let Some(id) = id {
                self.remember(engine, id, &key);
            }
            return Ok((c, Source::Cached));
        }
        let component = Component::from_binary(engine, bytes)?;
        match self.put(&key, &component) {
            Ok(_) => {
                if let Some(id) = id {
                    self.remember(engine, id, &key);
                }
                Ok((component, Source::CompiledAndCached))
            }
            Err(e) => {
                tracing::debug!("compile cache: {e:#}");
                Ok((component, Source::Compiled))
            }
        }
    }
}
