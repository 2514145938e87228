//! A tar a plugin uploads, passed through tug on its way to the engine: an image load (`host/load.rs`)
//! or a build context (`host/build_context.rs`).
//!
//! The daemon reads such a tar whole before it acts on it, so the order of its entries does not matter
//! to it. Most entries stream straight through; the few a [`Rewrite`] wants (small JSON files, the
//! Dockerfile) are held back, and once the plugin has finished the upload, the rewrite checks them, sends
//! them (changed as it must) and the tar ends. Refused, or abandoned before `finish`, the rest never
//! reaches the engine and the request is aborted: the engine acts on nothing. Plain and gzip tars are
//! read; what is sent is a plain tar.

use std::{
    io::{self, BufRead, BufReader, Read, Write},
    path::PathBuf,
};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use super::{bindings::types::Error as WitError, call::Call, resources::HostUpload};
use crate::engine::Upload;

/// The chunk size sent to the engine.
const CHUNK: usize = 64 * 1024;

/// The most bytes all of a run's filters hold back at once: uploads a plugin leaves unfinished side by
/// side share it, so that they hold no more of the host's memory than one may.
const RUN_HELD: u64 = 64 << 20;

/// Bytes a filter holds back, counted in the run's total (`Gate::held_bytes`) until dropped.
struct Reserved {
    gate: std::sync::Arc<crate::policy::Gate>,
    bytes: u64,
}

impl Reserved {
    /// Counts `n` more bytes, or refuses them when the run's total would pass [`RUN_HELD`].
    fn add(&mut self, n: u64, what: &str) -> Result<(), WitError> {
        use std::sync::atomic::Ordering;
        let before = self.gate.held_bytes.fetch_add(n, Ordering::SeqCst);
        self.bytes += n;
        if before.saturating_add(n) > RUN_HELD {
            return Err(WitError::InvalidArgument(format!(
                "{what}: the run's unfinished uploads would hold back more than {RUN_HELD} bytes of \
                 checked files at once; finish or drop the others first"
            )));
        }
        Ok(())
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        self.gate
            .held_bytes
            .fetch_sub(self.bytes, std::sync::atomic::Ordering::SeqCst);
    }
}

/// An entry held back until the end.
pub(crate) struct Held {
    /// Its header (the size is set again when it is sent).
    pub header: tar::Header,
    /// Its path in the tar.
    pub path: PathBuf,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// What a filter does with a tar.
pub(crate) trait Rewrite: Send + 'static {
    /// What the upload is, in messages (`load`, `build`).
    fn what(&self) -> &'static str;

    /// Whether an entry (a regular file) is held back for [`Rewrite::finish`]; at most `limit` bytes are
    /// held in all.
    fn hold(&self, path: &str, size: u64) -> bool;

    /// The most bytes held back in all.
    fn limit(&self) -> u64;

    /// The run's gate (where the bytes all of the run's filters hold are counted).
    fn gate(&self) -> std::sync::Arc<crate::policy::Gate>;

    /// Checks a link (symbolic or hard) the tar has at `path`; by default links pass.
    fn link(&self, _path: &str) -> Result<(), WitError> {
        Ok(())
    }

    /// Checks what was held back and returns what to send in its place; runs on a blocking thread (use
    /// `rt.block_on` for the engine).
    fn finish(&mut self, held: Vec<Held>, rt: &tokio::runtime::Handle) -> Result<Vec<Held>, WitError>;
}

/// Starts the filter between the plugin's body and the engine's upload; returns the handle's upload.
pub(crate) fn start(up: Upload, call: Call, rewrite: impl Rewrite) -> HostUpload {
    let (engine, response) = up.into_channel();
    let (plugin, body) = mpsc::channel::<Bytes>(4);
    let (commit, committed) = oneshot::channel();
    let rt = tokio::runtime::Handle::current();
    let task = tokio::task::spawn_blocking(move || {
        let mut out = Some(tar::Builder::new(ChannelWriter {
            tx: engine,
            buf: Vec::with_capacity(CHUNK),
        }));
        match run(rewrite, &rt, body, &mut out, committed, &response) {
            Ok(()) => Ok(response),
            Err(e) => {
                // The request goes first, then the body's sender: the engine never sees a shorter tar
                // that ends cleanly.
                rt.block_on(response.cancel());
                drop(out);
                Err(e)
            }
        }
    });
    let mut upload = HostUpload::filtered(plugin, Some(call), task);
    upload.commit = Some(commit);
    upload
}

fn bad_tar(what: &str, e: impl std::fmt::Display) -> WitError {
    WitError::InvalidArgument(format!("{what}: the tar cannot be read: {e}"))
}

fn sent(what: &str, e: io::Error) -> WitError {
    WitError::Transport(format!("{what}: sending the tar to the engine: {e}"))
}

fn run(
    mut rewrite: impl Rewrite,
    rt: &tokio::runtime::Handle,
    body: mpsc::Receiver<Bytes>,
    out: &mut Option<tar::Builder<ChannelWriter>>,
    committed: oneshot::Receiver<()>,
    response: &crate::engine::PendingResponse,
) -> Result<(), WitError> {
    let Some(out_ref) = out.as_mut() else {
        return Ok(());
    };
    let what = rewrite.what();
    let mut input = BufReader::new(ChannelReader {
        rx: body,
        chunk: Bytes::new(),
    });
    let head = input.fill_buf().map_err(|e| bad_tar(what, e))?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    if head.starts_with(b"BZh") || head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z']) {
        return Err(WitError::InvalidArgument(format!(
            "{what}: only plain or gzip-compressed tars can be checked (not bzip2 or xz)"
        )));
    }
    let source: Box<dyn Read> = if gzip {
        Box::new(flate2::read::GzDecoder::new(input))
    } else {
        Box::new(input)
    };
    let out_builder = out_ref;
    let mut held = Vec::new();
    let mut held_bytes = 0u64;
    let mut reserved = Reserved {
        gate: rewrite.gate(),
        bytes: 0,
    };
    let mut archive = tar::Archive::new(source);
    for entry in archive.entries().map_err(|e| bad_tar(what, e))? {
        let mut entry = entry.map_err(|e| bad_tar(what, e))?;
        let path = entry.path().map_err(|e| bad_tar(what, e))?.into_owned();
        let name = clean(&path.to_string_lossy());
        // What the entry really holds (a PAX `size` overrides the header's): the header tug sends says
        // so, so the engine reads the same entries as tug did.
        let size = entry.size();
        let kind = entry.header().entry_type();
        let mut header = entry.header().clone();
        header.set_size(if kind.is_file() { size } else { 0 });
        if !(kind.is_file() || kind.is_dir() || kind.is_symlink() || kind.is_hard_link()) {
            return Err(WitError::InvalidArgument(format!(
                "{what}: the tar's entry {} is a {kind:?}: only files, directories and links",
                crate::policy::gate::shorten(&name)
            )));
        }
        if kind.is_file() && rewrite.hold(&name, size) {
            // Two entries of one path: the engine keeps the last, tug would check one of them.
            if held
                .iter()
                .any(|h: &Held| clean(&h.path.to_string_lossy()) == name)
            {
                return Err(WitError::InvalidArgument(format!(
                    "{what}: the tar has {} twice",
                    crate::policy::gate::shorten(&name)
                )));
            }
            held_bytes = held_bytes.saturating_add(size);
            reserved.add(size, what)?;
            if held_bytes > rewrite.limit() {
                return Err(WitError::InvalidArgument(format!(
                    "{what}: the tar's files tug checks take more than {} bytes",
                    rewrite.limit()
                )));
            }
            let mut data = Vec::with_capacity(size as usize);
            entry.read_to_end(&mut data).map_err(|e| bad_tar(what, e))?;
            held.push(Held { header, path, data });
        } else if kind.is_symlink() || kind.is_hard_link() {
            rewrite.link(&name)?;
            let target = entry
                .link_name()
                .map_err(|e| bad_tar(what, e))?
                .map(|t| t.into_owned())
                .unwrap_or_default();
            out_builder
                .append_link(&mut header, &path, &target)
                .map_err(|e| sent(what, e))?;
        } else {
            out_builder
                .append_data(&mut header, &path, &mut entry)
                .map_err(|e| sent(what, e))?;
        }
    }
    // The plugin finished the upload (a handle dropped before `finish` sends nothing more).
    if rt.block_on(committed).is_err() {
        return Err(WitError::InvalidArgument(format!(
            "{what}: the upload was dropped before finish"
        )));
    }
    for mut h in rewrite.finish(held, rt)? {
        h.header.set_size(h.data.len() as u64);
        out_builder
            .append_data(&mut h.header, &h.path, h.data.as_slice())
            .map_err(|e| sent(what, e))?;
    }
    // Everything was checked and sent: the tar may end cleanly.
    response.finish_body();
    if let Some(builder) = out.take() {
        let mut writer = builder.into_inner().map_err(|e| sent(what, e))?;
        writer.flush().map_err(|e| sent(what, e))?;
    }
    Ok(())
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
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the engine stopped reading"))
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

/// A path inside a tar as the daemon reads it: `.` and empty parts dropped, `..` applied, no leading `/`.
pub(crate) fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn paths_as_the_daemon_reads_them() {
        assert_eq!(clean("./Dockerfile"), "Dockerfile");
        assert_eq!(clean("/sub/../Dockerfile"), "Dockerfile");
        assert_eq!(clean("a//b/./c"), "a/b/c");
    }
}
