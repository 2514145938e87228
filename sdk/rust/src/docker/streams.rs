//! The object layer's iterators: [`Docs`], typed documents of a JSON stream (events, stats, progress),
//! and [`Logs`], the output frames of a container, service or task.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use wasip2::io::poll::Pollable;

use super::{Error, Result};
use crate::types::{Frame, FrameReader, JsonStream, StreamKind};

/// The documents of a JSON stream (events, stats, pull/push/build progress), each read as a `T`.
///
/// Waits for each document; ends when the stream does; after an error, yields nothing more. An error the
/// engine reports in the stream (a document with `error`/`errorDetail`: a failed pull, push or load) is
/// an `Err` item, [`Error::Api`] with `errorDetail.code` (500 when it has none) and the message; read
/// [`Docs::next_raw`] to see such documents as they came. Dropping it closes the stream.
/// [`Docs::subscribe`] gives a pollable to wait on several streams at once.
pub struct Docs<T> {
    stream: JsonStream,
    what: &'static str,
    done: bool,
    _type: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Docs<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Docs")
            .field("what", &self.what)
            .field("done", &self.done)
            .finish()
    }
}

impl<T: DeserializeOwned> Docs<T> {
    /// Reads `stream`, whose documents are each `what` (named in errors).
    pub(crate) fn new(stream: JsonStream, what: &'static str) -> Self {
        Docs {
            stream,
            what,
            done: false,
            _type: PhantomData,
        }
    }

    /// The next document as the engine sent it (JSON text), without reading it as a `T`.
    pub fn next_raw(&mut self) -> Option<Result<String>> {
        if self.done {
            return None;
        }
        match self.stream.next() {
            Ok(Some(doc)) => Some(Ok(doc)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e.into()))
            }
        }
    }

    /// A pollable that is ready when the next document (or the end) can be read without waiting. Drop
    /// it before the stream: a stream dropped while a pollable of it lives traps.
    pub fn subscribe(&self) -> Pollable {
        self.stream.subscribe()
    }

    /// The WIT handle.
    pub fn stream(&self) -> &JsonStream {
        &self.stream
    }
}

impl<T: DeserializeOwned> Iterator for Docs<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        let doc = match self.next_raw()? {
            Ok(doc) => doc,
            Err(e) => return Some(Err(e)),
        };
        if let Some(e) = stream_error(&doc) {
            self.done = true;
            return Some(Err(e));
        }
        Some(serde_json::from_str(&doc).map_err(|e| {
            self.done = true;
            Error::decode(self.what, format!("{e}: {doc}"))
        }))
    }
}

/// Something whose next item can be waited for: [`Logs`] and [`Docs`].
pub trait Waitable {
    /// A pollable, ready when the next item (or the end) can be read without waiting.
    fn pollable(&self) -> Pollable;
}

impl Waitable for Logs {
    fn pollable(&self) -> Pollable {
        self.subscribe()
    }
}

impl<T: DeserializeOwned> Waitable for Docs<T> {
    fn pollable(&self) -> Pollable {
        self.subscribe()
    }
}

/// Waits until at least one of `streams` has its next item (or its end) ready, and returns the indices
/// of those that do, in order. The pollables it makes are gone when it returns, so any of the streams
/// may then be read to its end and dropped.
///
/// ```no_run
/// # use tug_sdk::docker::{ready, Logs};
/// # fn follow(mut logs: Vec<Option<Logs>>) -> Result<(), tug_sdk::docker::Error> {
/// while logs.iter().any(Option::is_some) {
///     let open: Vec<usize> = (0..logs.len()).filter(|&i| logs[i].is_some()).collect();
///     let streams: Vec<&Logs> = open.iter().filter_map(|&i| logs[i].as_ref()).collect();
///     for i in ready(&streams) {
///         let slot = &mut logs[open[i]];
///         match slot.as_mut().and_then(Iterator::next) {
///             Some(frame) => print!("{}", String::from_utf8_lossy(&frame?.data)),
///             None => *slot = None,
///         }
///     }
/// }
/// # Ok(()) }
/// ```
pub fn ready<S: Waitable + ?Sized>(streams: &[&S]) -> Vec<usize> {
    if streams.is_empty() {
        return Vec::new();
    }
    let pollables: Vec<Pollable> = streams.iter().map(|s| s.pollable()).collect();
    let refs: Vec<&Pollable> = pollables.iter().collect();
    wasip2::io::poll::poll(&refs)
        .into_iter()
        .map(|i| i as usize)
        .collect()
}

/// The error a progress document reports (`{"errorDetail": {"code": …, "message": …}, "error": …}` at
/// its top level), if it reports one.
pub(crate) fn stream_error(doc: &str) -> Option<Error> {
    if !doc.contains("\"error") {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(doc).ok()?;
    let message = v
        .pointer("/errorDetail/message")
        .and_then(serde_json::Value::as_str)
        .or_else(|| v.get("error").and_then(serde_json::Value::as_str))?;
    let status = v
        .pointer("/errorDetail/code")
        .and_then(serde_json::Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| *c >= 400)
        .unwrap_or(500);
    Some(Error::Api {
        status,
        message: message.to_owned(),
    })
}

/// The output of a container, service or task, as frames (`stream`: stdout or stderr; `data`: the
/// bytes as written).
///
/// Waits for each frame; ends when the output does (at once without `follow`); after an error, yields
/// nothing more. Dropping it stops reading.
#[derive(Debug)]
pub struct Logs {
    reader: FrameReader,
    done: bool,
}

impl Logs {
    pub(crate) fn new(reader: FrameReader) -> Self {
        Logs { reader, done: false }
    }

    /// Whether the process has a TTY (then every frame is stdout, raw).
    pub fn tty(&self) -> bool {
        self.reader.tty()
    }

    /// A pollable that is ready when the next frame (or the end) can be read without waiting. Drop it
    /// before the logs: logs dropped while a pollable of them lives trap.
    pub fn subscribe(&self) -> Pollable {
        self.reader.subscribe()
    }

    /// Reads to the end and returns standard output and standard error apart (stderr also gets the
    /// engine's own `system` messages).
    pub fn output(self) -> Result<(Vec<u8>, Vec<u8>)> {
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        for frame in self {
            let frame = frame?;
            match frame.stream {
                StreamKind::Stdout => stdout.extend_from_slice(&frame.data),
                StreamKind::Stderr | StreamKind::System => stderr.extend_from_slice(&frame.data),
                StreamKind::Stdin => {}
            }
        }
        Ok((stdout, stderr))
    }

    /// Reads to the end and returns every byte in the order the frames came (docker-py's
    /// `logs(stream=False)` with both streams).
    pub fn bytes(self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for frame in self {
            let frame = frame?;
            if frame.stream != StreamKind::Stdin {
                out.extend_from_slice(&frame.data);
            }
        }
        Ok(out)
    }

    /// Reads to the end and returns the output as text (lossily decoded UTF-8), both streams.
    pub fn text(self) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.bytes()?).into_owned())
    }
}

impl Iterator for Logs {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Result<Frame>> {
        if self.done {
            return None;
        }
        match self.reader.next(crate::MAX_FRAME_BYTES) {
            Ok(Some(frame)) => Some(Ok(frame)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e.into()))
            }
        }
    }
}

/// Takes the whole lines off the front of `buf` (all of it when `end`: the stream ended), as text (a
/// line that is not UTF-8 is decoded lossily); the unfinished rest stays for the next piece. For output
/// that comes in frames that do not follow lines (`Logs` frames of a process that writes in pieces).
///
/// ```
/// let mut buf = b"one\ntw".to_vec();
/// assert_eq!(tug_sdk::docker::take_lines(&mut buf, false), ["one"]);
/// buf.extend_from_slice(b"o");
/// assert_eq!(tug_sdk::docker::take_lines(&mut buf, true), ["two"]);
/// assert!(buf.is_empty());
/// ```
pub fn take_lines(buf: &mut Vec<u8>, end: bool) -> Vec<String> {
    let cut = if end {
        buf.len()
    } else {
        buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
    };
    let text: Vec<u8> = buf.drain(..cut).collect();
    String::from_utf8_lossy(&text)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::stream_error;
    use crate::docker::Error;

    #[test]
    fn an_error_document_is_an_error_and_others_are_not() {
        let e = stream_error(r#"{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}"#);
        assert!(
            matches!(&e, Some(Error::Api { status: 500, message }) if message == "manifest unknown"),
            "{e:?}"
        );
        let e = stream_error(r#"{"errorDetail":{"code":404,"message":"no such"}}"#);
        assert!(matches!(e, Some(Error::Api { status: 404, .. })), "{e:?}");
        // Only the top level counts: an event about a container named "error" is no error.
        assert!(stream_error(r#"{"Actor":{"Attributes":{"name":"error"}},"status":"start"}"#).is_none());
        assert!(stream_error(r#"{"status":"Pulling fs layer","id":"ab"}"#).is_none());
    }
}
