//! Tar archives for [`crate::docker::Container::put_archive`] and build contexts for
//! [`crate::docker::Images::build`], made from files in memory or from directories the host granted the
//! plugin (`tug run --dir`).
//!
//! ```no_run
//! use tug_sdk::archive::Tar;
//!
//! let context = Tar::new()
//!     .file("Dockerfile", "FROM busybox\nCOPY app.sh /\nCMD [\"sh\", \"/app.sh\"]\n")?
//!     .executable("app.sh", "echo hello\n")?
//!     .into_bytes()?;
//! # Ok::<(), tug_sdk::docker::Error>(())
//! ```

use std::path::Path;

use crate::docker::{Error, Result};

/// A tar archive being written in memory. Entries get mode 0644 (0755 for [`Tar::executable`],
/// scripts and directories), owner 0:0 and modification time 0, so the same files make the same bytes
/// (and the builder's cache can match them).
pub struct Tar {
    builder: tar::Builder<Vec<u8>>,
}

impl Default for Tar {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Tar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tar").finish_non_exhaustive()
    }
}

fn failed(what: &str, path: &str, e: std::io::Error) -> Error {
    Error::InvalidArgument(format!("archive: {what} {path}: {e}"))
}

impl Tar {
    /// An empty archive.
    pub fn new() -> Self {
        Tar {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    /// Adds a regular file at `path` (relative; `a/b.txt`) with `data` and `mode`.
    pub fn file_with_mode(mut self, path: &str, data: impl AsRef<[u8]>, mode: u32) -> Result<Self> {
        let data = data.as_ref();
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        self.builder
            .append_data(&mut header, path, data)
            .map_err(|e| failed("adding", path, e))?;
        Ok(self)
    }

    /// Adds a regular file (mode 0644).
    pub fn file(self, path: &str, data: impl AsRef<[u8]>) -> Result<Self> {
        self.file_with_mode(path, data, 0o644)
    }

    /// Adds an executable file (mode 0755).
    pub fn executable(self, path: &str, data: impl AsRef<[u8]>) -> Result<Self> {
        self.file_with_mode(path, data, 0o755)
    }

    /// Adds an empty directory (mode 0755).
    pub fn dir(mut self, path: &str) -> Result<Self> {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_size(0);
        header.set_mode(0o755);
        header.set_mtime(0);
        self.builder
            .append_data(&mut header, path, std::io::empty())
            .map_err(|e| failed("adding", path, e))?;
        Ok(self)
    }

    /// Adds the directory `host_dir` (one the host granted), recursively and in name order, under
    /// `prefix` in the archive (`""` or `"."` for its root). Symbolic links are archived as links, never
    /// followed.
    ///
    /// WASI does not show a file's mode bits, so a file is 0755 when it starts with `#!` (a script)
    /// and 0644 otherwise; directories are 0755. Add other executables with [`Tar::executable`].
    pub fn dir_all(mut self, prefix: &str, host_dir: &Path) -> Result<Self> {
        let shown = host_dir.display().to_string();
        if !host_dir.is_dir() {
            return Err(Error::InvalidArgument(format!(
                "archive: {shown} is not a directory the plugin can read (is it granted with --dir?)"
            )));
        }
        let prefix = prefix.trim_matches('/');
        let prefix = if prefix == "." { "" } else { prefix };
        let mut pending = vec![(host_dir.to_path_buf(), prefix.to_owned())];
        while let Some((dir, name)) = pending.pop() {
            if !name.is_empty() {
                self = self.dir(&name)?;
            }
            let mut entries: Vec<_> = std::fs::read_dir(&dir)
                .map_err(|e| failed("reading", &dir.display().to_string(), e))?
                .collect::<std::io::Result<_>>()
                .map_err(|e| failed("reading", &dir.display().to_string(), e))?;
            entries.sort_by_key(|e| e.file_name());
            let mut subdirs = Vec::new();
            for entry in entries {
                let path = entry.path();
                let shown = path.display().to_string();
                let inner = match name.as_str() {
                    "" => entry.file_name().to_string_lossy().into_owned(),
                    n => format!("{n}/{}", entry.file_name().to_string_lossy()),
                };
                let meta = std::fs::symlink_metadata(&path).map_err(|e| failed("reading", &shown, e))?;
                if meta.is_dir() {
                    subdirs.push((path, inner));
                } else if meta.file_type().is_symlink() {
                    let target = std::fs::read_link(&path).map_err(|e| failed("reading", &shown, e))?;
                    let mut header = tar::Header::new_gnu();
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_size(0);
                    header.set_mode(0o777);
                    header.set_mtime(0);
                    self.builder
                        .append_link(&mut header, &inner, &target)
                        .map_err(|e| failed("adding", &shown, e))?;
                } else if meta.is_file() {
                    let data = std::fs::read(&path).map_err(|e| failed("reading", &shown, e))?;
                    let mode = if data.starts_with(b"#!") { 0o755 } else { 0o644 };
                    self = self.file_with_mode(&inner, data, mode)?;
                }
            }
            // Depth first, in name order.
            pending.extend(subdirs.into_iter().rev());
        }
        Ok(self)
    }

    /// The archive's bytes.
    pub fn into_bytes(self) -> Result<Vec<u8>> {
        self.builder
            .into_inner()
            .map_err(|e| failed("finishing", "the archive", e))
    }
}

/// A build context: the directory `dir` (one the host granted) as a tar, its `Dockerfile` included.
pub fn build_context(dir: &Path) -> Result<Vec<u8>> {
    Tar::new().dir_all(".", dir)?.into_bytes()
}

/// The files of a tar, as `(path, contents)` for the regular files (other entries are skipped).
pub fn files(tar_bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut archive = tar::Archive::new(tar_bytes);
    let entries = archive
        .entries()
        .map_err(|e| failed("reading", "the archive", e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| failed("reading", "the archive", e))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| failed("reading", "an entry's path", e))?
            .to_string_lossy()
            .into_owned();
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| failed("reading", &path, e))?;
        out.push((path, data));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_in_memory_round_trip_with_their_modes() {
        let bytes = Tar::new()
            .dir("bin")
            .unwrap()
            .file("a.txt", "hello")
            .unwrap()
            .executable("bin/run", b"#!/bin/sh\n")
            .unwrap()
            .into_bytes()
            .unwrap();
        assert_eq!(
            files(&bytes).unwrap(),
            vec![
                ("a.txt".to_owned(), b"hello".to_vec()),
                ("bin/run".to_owned(), b"#!/bin/sh\n".to_vec())
            ]
        );
        let mut archive = tar::Archive::new(&bytes[..]);
        let modes: Vec<u32> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().header().mode().unwrap())
            .collect();
        assert_eq!(modes, vec![0o755, 0o644, 0o755]);
        // The same files make the same bytes.
        let again = Tar::new()
            .dir("bin")
            .unwrap()
            .file("a.txt", "hello")
            .unwrap()
            .executable("bin/run", b"#!/bin/sh\n")
            .unwrap()
            .into_bytes()
            .unwrap();
        assert_eq!(bytes, again);
    }

    #[test]
    fn a_directory_becomes_a_context_and_a_missing_one_is_named() {
        let dir = std::env::temp_dir().join(format!("tug-sdk-archive-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(dir.join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(dir.join("src/main.sh"), "#!/bin/sh\necho\n").unwrap();
        let mut names: Vec<String> = files(&build_context(&dir).unwrap())
            .unwrap()
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        names.sort();
        assert_eq!(names, vec!["Dockerfile", "src/main.sh"]);
        let context = build_context(&dir).unwrap();
        let mut archive = tar::Archive::new(&context[..]);
        let modes: Vec<(String, u32)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let path = e.path().unwrap().to_string_lossy().into_owned();
                (path, e.header().mode().unwrap())
            })
            .collect();
        assert_eq!(
            modes,
            vec![
                ("Dockerfile".to_owned(), 0o644),
                ("src".to_owned(), 0o755),
                ("src/main.sh".to_owned(), 0o755)
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let err = build_context(&dir).unwrap_err().to_string();
        assert!(
            err.contains("is not a directory") && err.contains("tug-sdk-archive"),
            "{err}"
        );
    }
}
