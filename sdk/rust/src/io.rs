//! Helpers for the handle resources: reading and writing `wasi:io` streams, iterating over JSON documents
//! and output frames, and sending request bodies through uploads.
//!
//! The stream types are `wasip2`'s, so `InputStream` also implements [`std::io::Read`] and `OutputStream`
//! [`std::io::Write`] (on `&mut`): a body can be streamed with `std::io::copy` or written by a
//! `tar::Builder` directly, see [`upload_with`].
//!
//! Every helper returns [`Error`]: a `wasi:io` stream failure becomes [`Error::Transport`].

use crate::types::{
    AttachedSocket, Error, Frame, FrameReader, Json, JsonStream, ProgressUpload, StreamKind, Upload,
};
pub use wasip2::io::streams::{InputStream, OutputStream, StreamError};

/// The `max-bytes` that [`frames`] asks for per frame: 64 KiB.
pub const MAX_FRAME_BYTES: u32 = 64 * 1024;

/// How many bytes [`read_to_end`] asks for per read.
const READ_CHUNK: u64 = 64 * 1024;

fn stream_error(doing: &str, error: StreamError) -> Error {
    match error {
        StreamError::Closed => Error::Transport(format!("{doing}: the stream was closed")),
        StreamError::LastOperationFailed(e) => Error::Transport(format!("{doing}: {}", e.to_debug_string())),
    }
}

/// Reads `stream` to its end (waiting for data as needed) and returns every byte.
pub fn read_to_end(stream: &InputStream) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => return Ok(bytes),
            Err(e) => return Err(stream_error("reading a stream", e)),
        }
    }
}

/// Writes all of `bytes` to `stream` with backpressure (as much as `check-write` permits at a time), then
/// flushes it and waits for the flush to complete.
pub fn write_all(stream: &OutputStream, bytes: &[u8]) -> Result<(), Error> {
    let mut rest = bytes;
    while !rest.is_empty() {
        let permitted = stream
            .check_write()
            .map_err(|e| stream_error("writing a stream", e))?;
        if permitted == 0 {
            stream.subscribe().block();
            continue;
        }
        let n = rest.len().min(usize::try_from(permitted).unwrap_or(usize::MAX));
        stream
            .write(&rest[..n])
            .map_err(|e| stream_error("writing a stream", e))?;
        rest = &rest[n..];
    }
    stream
        .blocking_flush()
        .map_err(|e| stream_error("flushing a stream", e))
}

/// An iterator over the documents of a [`JsonStream`], made by [`documents`].
///
/// Yields each document as the engine sent it, then ends when the stream does; after an error it yields
/// nothing more.
#[derive(Debug)]
pub struct Documents<'a> {
    stream: &'a JsonStream,
    done: bool,
}

impl Iterator for Documents<'_> {
    type Item = Result<Json, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.stream.next() {
            Ok(Some(document)) => Some(Ok(document)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Iterates over the JSON documents of `stream` (progress, events, stats), waiting for each.
///
/// ```no_run
/// # use tug_sdk::{engine, image_streams, documents};
/// let progress = image_streams::pull(&engine(), "127.0.0.1:5000/app:1", &Default::default(), None)?;
/// for document in documents(&progress) {
///     println!("{}", document?);
/// }
/// # Ok::<(), tug_sdk::types::Error>(())
/// ```
pub fn documents(stream: &JsonStream) -> Documents<'_> {
    Documents { stream, done: false }
}

/// Something that yields a process's output frames: a [`FrameReader`] (logs) or an [`AttachedSocket`]
/// (attach, exec start).
pub trait FrameSource {
    /// The next frame of at most `max_bytes` bytes, waiting for it; `None` at the end.
    fn next_frame(&self, max_bytes: u32) -> Result<Option<Frame>, Error>;
}

impl FrameSource for FrameReader {
    fn next_frame(&self, max_bytes: u32) -> Result<Option<Frame>, Error> {
        self.next(max_bytes)
    }
}

impl FrameSource for AttachedSocket {
    fn next_frame(&self, max_bytes: u32) -> Result<Option<Frame>, Error> {
        self.next(max_bytes)
    }
}

/// An iterator over the output frames of a [`FrameSource`], made by [`frames`].
///
/// Ends when the output does; after an error it yields nothing more.
#[derive(Debug)]
pub struct Frames<'a, S: FrameSource + ?Sized> {
    source: &'a S,
    done: bool,
}

impl<S: FrameSource + ?Sized> Iterator for Frames<'_, S> {
    type Item = Result<Frame, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.source.next_frame(MAX_FRAME_BYTES) {
            Ok(Some(frame)) => Some(Ok(frame)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Iterates over the output frames of a [`FrameReader`] or an [`AttachedSocket`] (at most
/// [`MAX_FRAME_BYTES`] each), waiting for each.
pub fn frames<S: FrameSource + ?Sized>(source: &S) -> Frames<'_, S> {
    Frames { source, done: false }
}

/// Collects frames into the process's standard output and standard error.
///
/// `stdout` frames (every frame of a TTY session) go to the first vector; `stderr` and `system` frames
/// (messages from the engine itself) to the second; `stdin` frames (echoed input) are dropped.
///
/// ```no_run
/// # use tug_sdk::{engine, container_streams, collect_output, frames};
/// let options = container_streams::LogsOptions { stdout: Some(true), stderr: Some(true), ..Default::default() };
/// let logs = container_streams::logs(&engine(), "my-container", &options)?;
/// let (stdout, stderr) = collect_output(frames(&logs))?;
/// # Ok::<(), tug_sdk::types::Error>(())
/// ```
pub fn collect_output<I>(frames: I) -> Result<(Vec<u8>, Vec<u8>), Error>
where
    I: IntoIterator<Item = Result<Frame, Error>>,
{
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    for frame in frames {
        let frame = frame?;
        match frame.stream {
            StreamKind::Stdout => stdout.extend_from_slice(&frame.data),
            StreamKind::Stderr | StreamKind::System => stderr.extend_from_slice(&frame.data),
            StreamKind::Stdin => {}
        }
    }
    Ok((stdout, stderr))
}

/// Combines the outcome of writing a body with the engine's answer: the answer's error explains more
/// than a broken body stream (the host closes the body when the request fails), so it wins.
fn settle<T>(written: Result<(), Error>, answer: Result<T, Error>) -> Result<T, Error> {
    match (written, answer) {
        (_, Err(e)) | (Err(e), Ok(_)) => Err(e),
        (Ok(()), Ok(answer)) => Ok(answer),
    }
}

fn io_error(e: std::io::Error) -> Error {
    Error::Transport(format!("writing the request body: {e}"))
}

/// Sends `bytes` as the whole body of `upload` and returns the engine's answer (JSON text, or "" when it
/// answers no content): takes the body, writes it, drops the body stream, then calls [`Upload::finish`].
///
/// ```no_run
/// # use tug_sdk::{engine, container_streams, upload_all};
/// # let tar_bytes: Vec<u8> = Vec::new();
/// let upload = container_streams::put_archive(&engine(), "my-container", "/tmp", Default::default())?;
/// upload_all(upload, &tar_bytes)?;
/// # Ok::<(), tug_sdk::types::Error>(())
/// ```
pub fn upload_all(upload: Upload, bytes: &[u8]) -> Result<Json, Error> {
    upload_with(upload, |body| std::io::Write::write_all(body, bytes))
}

/// Like [`upload_all`], but `write` produces the body: it is given the body stream, which implements
/// [`std::io::Write`], so a body can be streamed without holding it in memory (e.g.
/// `tar::Builder::new(body)`, or `std::io::copy(&mut reader, body)`). The body is flushed and dropped when
/// `write` returns, then the upload is finished.
pub fn upload_with<F>(upload: Upload, write: F) -> Result<Json, Error>
where
    F: FnOnce(&mut OutputStream) -> std::io::Result<()>,
{
    let written = match upload.body() {
        Ok(mut body) => write_body(&mut body, write),
        Err(e) => Err(e),
    };
    settle(written, Upload::finish(upload))
}

/// Sends `bytes` as the whole body of a progress upload (build, import, load) and returns its progress
/// stream: takes the body, writes it, drops the body stream, then calls [`ProgressUpload::finish`].
///
/// Read the stream with [`documents`].
pub fn progress_upload_all(upload: ProgressUpload, bytes: &[u8]) -> Result<JsonStream, Error> {
    progress_upload_with(upload, |body| std::io::Write::write_all(body, bytes))
}

/// Like [`progress_upload_all`], but `write` produces the body, as for [`upload_with`].
pub fn progress_upload_with<F>(upload: ProgressUpload, write: F) -> Result<JsonStream, Error>
where
    F: FnOnce(&mut OutputStream) -> std::io::Result<()>,
{
    let written = match upload.body() {
        Ok(mut body) => write_body(&mut body, write),
        Err(e) => Err(e),
    };
    settle(written, ProgressUpload::finish(upload))
}

/// Runs `write` on `body` and flushes it; the caller drops `body` afterwards, before finishing.
fn write_body<F>(body: &mut OutputStream, write: F) -> Result<(), Error>
where
    F: FnOnce(&mut OutputStream) -> std::io::Result<()>,
{
    write(body).map_err(io_error)?;
    body.blocking_flush()
        .map_err(|e| stream_error("flushing the request body", e))
}
