//! The backing types of the WIT resources: the handles through which the non-JSON transport shapes reach
//! a plugin (the engine capability is `host/call.rs`'s). Each is cancel-safe: a plugin may poll, drop or abandon any
//! handle at any point, and dropping one closes its connection.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::{
    io::{AsyncRead, AsyncWrite, AsyncWriteExt},
    sync::mpsc::{self, error::TrySendError},
    task::JoinHandle,
};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

use super::observe::Tap;
use crate::engine::{
    decode::stdcopy::HEADER, BodyReader, Frame, FrameReader, JsonStream, PendingResponse,
    Result as EngineResult,
};

/// The most a plugin may write into an upload or stdin stream in one `write`.
const MAX_WRITE: usize = 256 * 1024;
/// The frame size used when a pollable reads ahead.
const READ_AHEAD: usize = 64 * 1024;

/// What a `json-stream` handle does with the documents it passes on.
pub enum Watch {
    /// Nothing.
    None,
    /// Passes only events about the run's own objects (their `tug.run` attribute), whatever filters the
    /// engine applied.
    RunEvents {
        /// The run's id.
        run_id: String,
    },
    /// A progress stream that gives images names: once it ends without an error, the names join the
    /// run's set (`Gate::confirm_image`) with the image id the stream reported.
    Confirm(Confirm),
}

/// Image names with the image id each will name (`None`: the id the stream reports).
pub type Names = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// The names a progress stream gives images, confirmed when it ends well.
pub struct Confirm {
    gate: Arc<crate::policy::Gate>,
    names: Names,
    failed: bool,
    id: Option<String>,
    /// For a stream that reports no image id (a pull's): the engine to ask, once it ended, which image
    /// the digest it reported names (the client of the permit that started the stream).
    client: Option<crate::engine::Client>,
    /// The manifest digest a pull reported (`Digest: sha256:…`).
    digest: Option<String>,
    /// A build's place in the container quota, given back when the stream ends (or is dropped).
    slot: Option<crate::policy::quota::BuildSlot>,
}

impl Confirm {
    /// Names to confirm once the stream ends well; each with the image id tug knows it will name, or
    /// `None` to take the id the stream reports (a build's `aux.ID`, an import's final `status`).
    pub fn new(gate: Arc<crate::policy::Gate>, names: Vec<(String, Option<String>)>) -> Self {
        Self::shared(gate, Arc::new(Mutex::new(names)))
    }

    /// The same, with names someone else fills in before the stream ends (an image load's, read from
    /// its tar).
    pub fn shared(gate: Arc<crate::policy::Gate>, names: Names) -> Self {
        Confirm {
            gate,
            names,
            failed: false,
            id: None,
            client: None,
            digest: None,
            slot: None,
        }
    }

    /// The same, holding a build's place in the container quota until the stream ends.
    pub fn holding(mut self, slot: crate::policy::quota::BuildSlot) -> Self {
        self.slot = Some(slot);
        self
    }

    /// The same, for a pull: once the stream ended well, the image id of each name is read from
    /// `client` by the digest the stream reported (`repo@digest`, which only the pulled image can answer
    /// for), not by the name, which someone may have moved while the plugin was reading the stream.
    pub fn reading_ids(mut self, client: crate::engine::Client) -> Self {
        self.client = Some(client);
        self
    }

    fn see(&mut self, doc: &[u8]) {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(doc) else {
            return;
        };
        if !v["error"].is_null() || !v["errorDetail"].is_null() {
            self.failed = true;
        }
        if let Some(id) = v["aux"]["ID"].as_str() {
            self.id = Some(id.to_owned());
        }
        if let Some(id) = v["status"]
            .as_str()
            .filter(|s| s.starts_with("sha256:") && !s.contains(' '))
        {
            self.id = Some(id.to_owned());
        }
        if let Some(digest) = v["status"]
            .as_str()
            .and_then(|s| s.strip_prefix("Digest: "))
            .filter(|d| d.starts_with("sha256:") && !d.contains(' '))
        {
            self.digest = Some(digest.to_owned());
        }
    }

    async fn end(&mut self) {
        self.slot = None;
        if self.failed {
            return;
        }
        let names = std::mem::take(&mut *self.names.lock().unwrap_or_else(|p| p.into_inner()));
        for (name, id) in names {
            let mut id = id.or_else(|| self.id.clone());
            if let (None, Some(client), Some(digest)) = (&id, &self.client, &self.digest) {
                let repo = crate::policy::image_names::repository(&name);
                let path = crate::policy::image_names::image_path(&format!("{repo}@{digest}"), "/json");
                id = client
                    .json::<serde_json::Value>(crate::engine::Request::get(path))
                    .await
                    .ok()
                    .and_then(|v| v["Id"].as_str().map(str::to_owned));
            }
            self.gate.confirm_image(&name, id.as_deref());
        }
    }
}

/// A `json-stream` handle: one JSON document per `next`.
pub struct HostJsonStream {
    stream: JsonStream<BodyReader>,
    peeked: Option<EngineResult<Option<Bytes>>>,
    watch: Watch,
    tap: Option<Tap>,
}

impl HostJsonStream {
    /// Wraps a decoder.
    pub fn new(stream: JsonStream<BodyReader>) -> Self {
        Self::watched(stream, Watch::None)
    }

    /// Wraps a decoder whose documents `watch` looks at.
    pub fn watched(stream: JsonStream<BodyReader>, watch: Watch) -> Self {
        HostJsonStream {
            stream,
            peeked: None,
            watch,
            tap: None,
        }
    }

    /// The same, telling `tap` each document (progress is shown from them).
    pub fn tapped(mut self, tap: Option<Tap>) -> Self {
        self.tap = tap;
        self
    }

    /// Reads the next document the watch passes on.
    async fn read(&mut self) -> EngineResult<Option<Bytes>> {
        loop {
            let doc = self.stream.next_document().await;
            match (&mut self.watch, &doc) {
                (Watch::RunEvents { run_id }, Ok(Some(d))) => {
                    let v: serde_json::Value = serde_json::from_slice(d).unwrap_or_default();
                    if v["Actor"]["Attributes"][crate::policy::gate::RUN_LABEL].as_str() != Some(run_id) {
                        continue;
                    }
                }
                (Watch::Confirm(c), Ok(Some(d))) => c.see(d),
                (Watch::Confirm(c), Ok(None)) => c.end().await,
                (Watch::Confirm(c), Err(_)) => c.failed = true,
                _ => {}
            }
            match (&mut self.tap, &doc) {
                (Some(tap), Ok(Some(d))) => tap.document(d),
                // The end (or an error): the tap is done.
                (Some(_), _) => self.tap = None,
                (None, _) => {}
            }
            return doc;
        }
    }

    /// The next document (read ahead by `ready`, or read now).
    pub async fn next(&mut self) -> EngineResult<Option<Bytes>> {
        match self.peeked.take() {
            Some(p) => p,
            None => self.read().await,
        }
    }
}

#[async_trait::async_trait]
impl Pollable for HostJsonStream {
    async fn ready(&mut self) {
        if self.peeked.is_none() {
            self.peeked = Some(self.read().await);
        }
    }
}

/// Frames read from a process's output, with one frame of read-ahead for pollables.
pub struct Frames {
    reader: FrameReader<Box<dyn AsyncRead + Send + Unpin>>,
    peeked: Option<EngineResult<Option<Frame>>>,
}

impl Frames {
    /// Frames from any byte source; `tty` says the bytes are raw.
    pub fn new(source: Box<dyn AsyncRead + Send + Unpin>, tty: bool) -> Self {
        Frames {
            reader: FrameReader::new(source, tty),
            peeked: None,
        }
    }

    /// Whether the output is raw TTY bytes.
    pub fn tty(&self) -> bool {
        self.reader.tty()
    }

    /// The next frame of at most `max` bytes; the rest of a read-ahead frame stays for the next call.
    pub async fn next(&mut self, max: usize) -> EngineResult<Option<Frame>> {
        let max = max.max(1);
        match self.peeked.take() {
            Some(Ok(Some(mut frame))) if frame.data.len() > max => {
                let head = frame.data.split_to(max);
                let stream = frame.stream;
                self.peeked = Some(Ok(Some(frame)));
                Ok(Some(Frame { stream, data: head }))
            }
            Some(p) => p,
            None => self.reader.next_frame(max).await,
        }
    }

    /// The frames that have arrived, in the engine's multiplexed format (raw bytes with a TTY), at most
    /// `max` bytes in all; waits for the first. An error after some frames is kept for the next call.
    pub async fn next_multiplexed(&mut self, max: usize) -> EngineResult<Option<Vec<u8>>> {
        let tty = self.tty();
        let header = if tty { 0 } else { HEADER };
        let max = max.max(header + 1);
        let Some(first) = self.next(max - header).await? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(max.min(first.data.len() + header + READ_AHEAD));
        let push = |out: &mut Vec<u8>, f: &Frame| {
            if !tty {
                out.extend_from_slice(&[f.stream.id(), 0, 0, 0]);
                out.extend_from_slice(&(f.data.len() as u32).to_be_bytes());
            }
            out.extend_from_slice(&f.data);
        };
        push(&mut out, &first);
        // The rest of a read-ahead frame, then what has arrived as it came.
        while out.len() + header < max {
            match self.peeked.take() {
                Some(Ok(Some(f))) => {
                    self.peeked = Some(Ok(Some(f)));
                    let room = max - out.len() - header;
                    if let Ok(Some(f)) = self.next(room).await {
                        push(&mut out, &f);
                    }
                }
                Some(end) => {
                    self.peeked = Some(end);
                    return Ok(Some(out));
                }
                None => break,
            }
        }
        if let Err(e) = self.reader.ready_wire(&mut out, max) {
            self.peeked = Some(Err(e));
        }
        Ok(Some(out))
    }

    /// Reads ahead one frame unless one is waiting.
    pub async fn ready(&mut self) {
        if self.peeked.is_none() {
            self.peeked = Some(self.reader.next_frame(READ_AHEAD).await);
        }
    }
}

/// A `frame-reader` handle (logs).
pub struct HostFrameReader(pub Frames);

#[async_trait::async_trait]
impl Pollable for HostFrameReader {
    async fn ready(&mut self) {
        self.0.ready().await
    }
}

/// A body channel shared by an upload (or socket) and the output-stream the plugin writes: whoever
/// takes the sender out ends the body.
pub type SharedSender = Arc<Mutex<Option<mpsc::Sender<Bytes>>>>;

fn shared(sender: mpsc::Sender<Bytes>) -> SharedSender {
    Arc::new(Mutex::new(Some(sender)))
}

fn sender_of(shared: &SharedSender) -> Option<mpsc::Sender<Bytes>> {
    shared.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Ends a shared body: no more bytes can be written, and the receiving side sees the end.
pub fn close(shared: &SharedSender) {
    shared.lock().unwrap_or_else(|p| p.into_inner()).take();
}

/// The `output-stream` of an upload body or a process's stdin: each write is one chunk on a bounded
/// channel (backpressure: `check-write` is 0 while the channel is full). No copy beyond the one from the
/// plugin's memory; nothing is lost when the stream is dropped.
pub struct ChannelOutputStream {
    sender: SharedSender,
    what: &'static str,
    tap: Option<Tap>,
}

impl ChannelOutputStream {
    /// A stream writing into a shared channel; `what` names it in errors ("upload body", "stdin").
    pub fn new(sender: SharedSender, what: &'static str) -> Self {
        ChannelOutputStream {
            sender,
            what,
            tap: None,
        }
    }

    /// The same, telling `tap` how many bytes are written.
    pub fn tapped(mut self, tap: Option<Tap>) -> Self {
        self.tap = tap;
        self
    }

    fn broken(&self) -> StreamError {
        StreamError::LastOperationFailed(wasmtime::format_err!(
            "the engine stopped reading the {}; the call's result says why",
            self.what
        ))
    }
}

#[async_trait::async_trait]
impl OutputStream for ChannelOutputStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        let Some(tx) = sender_of(&self.sender) else {
            return Err(StreamError::Closed);
        };
        let n = bytes.len() as u64;
        match tx.try_send(bytes) {
            Ok(()) => {
                if let Some(tap) = &mut self.tap {
                    tap.bytes(n);
                }
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(StreamError::Trap(wasmtime::format_err!(
                "write to the {} beyond what check-write permitted",
                self.what
            ))),
            Err(TrySendError::Closed(_)) => Err(self.broken()),
        }
    }

    fn flush(&mut self) -> StreamResult<()> {
        // Written chunks are already on their way; there is no buffer of ours to flush.
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        let Some(tx) = sender_of(&self.sender) else {
            return Err(StreamError::Closed);
        };
        if tx.is_closed() {
            return Err(self.broken());
        }
        Ok(if tx.capacity() > 0 { MAX_WRITE } else { 0 })
    }
}

#[async_trait::async_trait]
impl Pollable for ChannelOutputStream {
    async fn ready(&mut self) {
        if let Some(tx) = sender_of(&self.sender) {
            // Ready when a chunk fits, or when the channel closed (the next call reports it).
            let _ = tx.reserve().await;
        }
    }
}

/// An `upload` handle: a streamed request body and its pending single-document answer. The permit of
/// the call that started it stays with it: the call's audit line is written when `finish` has the
/// engine's answer (or when the handle is dropped unfinished).
pub struct HostUpload {
    /// The body channel, shared with the output-stream once taken.
    pub sender: SharedSender,
    /// Whether `body` was called.
    pub body_taken: bool,
    /// The answer (held by the filter, when there is one).
    pub response: Option<PendingResponse>,
    /// The permit of the call, ended by `finish`.
    pub call: Option<super::call::Call>,
    /// A task between the plugin's body and the engine's (an image load's or a build's check and
    /// rewrite), whose verdict `finish` waits for: the engine's answer to come, or the refusal.
    pub filter: Option<JoinHandle<Result<PendingResponse, super::bindings::types::Error>>>,
    /// Tells the filter that the plugin finished the upload (dropped unfinished, it sends nothing more).
    pub commit: Option<tokio::sync::oneshot::Sender<()>>,
}

impl HostUpload {
    /// Wraps a started upload.
    pub fn new(upload: crate::engine::Upload, call: Option<super::call::Call>) -> Self {
        let (sender, response) = upload.into_channel();
        HostUpload {
            sender: shared(sender),
            body_taken: false,
            response: Some(response),
            call,
            filter: None,
            commit: None,
        }
    }

    /// Wraps a started upload whose body the plugin writes into `plugin` and `filter` passes on (and
    /// whose answer it hands back).
    pub fn filtered(
        plugin: mpsc::Sender<Bytes>,
        call: Option<super::call::Call>,
        filter: JoinHandle<Result<PendingResponse, super::bindings::types::Error>>,
    ) -> Self {
        HostUpload {
            sender: shared(plugin),
            body_taken: false,
            response: None,
            call,
            filter: Some(filter),
            commit: None,
        }
    }
}

/// What `finish` takes out of an upload: its answer (or the filter that holds it), the filter's go-ahead,
/// and its permit.
pub struct Finishing {
    /// The engine's answer, when no filter holds it.
    pub response: Option<PendingResponse>,
    /// The filter, whose verdict is the answer or a refusal.
    pub filter: Option<JoinHandle<Result<PendingResponse, super::bindings::types::Error>>>,
    /// Tells the filter the plugin finished.
    pub commit: Option<tokio::sync::oneshot::Sender<()>>,
    /// The call's permit.
    pub call: Option<super::call::Call>,
}

impl HostUpload {
    /// The plugin finished: the body ends cleanly, and what the answer comes from is taken out.
    pub fn finishing(mut self) -> Finishing {
        if let Some(response) = &self.response {
            response.finish_body();
        }
        close(&self.sender);
        Finishing {
            response: self.response.take(),
            filter: self.filter.take(),
            commit: self.commit.take(),
            call: self.call.take(),
        }
    }
}

impl Drop for HostUpload {
    /// Dropped unfinished, the request is abandoned mid-body: its body ends in an error, so the engine
    /// acts on nothing (an import of what the plugin sent so far, or of nothing at all, would otherwise
    /// be an image). (A filtered upload's filter does the same when it learns the plugin did not finish.)
    fn drop(&mut self) {
        // Never finished: the body's end is an error (`PendingResponse::finish_body` was not called),
        // whoever drops the last sender (this handle, or the body stream the plugin still holds).
        if let Some(response) = self.response.take() {
            response.abort();
        }
        close(&self.sender);
    }
}

/// A `progress-upload` handle: a streamed request body answered by a progress stream, and what the
/// stream is to confirm once it ends well.
pub struct HostProgressUpload {
    /// The upload.
    pub upload: HostUpload,
    /// What the progress stream will watch for.
    pub watch: Option<Watch>,
}

/// An `attached-socket` handle: a hijacked connection to a process.
pub struct HostAttachedSocket {
    /// The output.
    pub frames: Frames,
    /// The stdin channel, when the socket was opened with stdin.
    pub stdin: Option<SharedSender>,
    /// Whether `stdin` was called.
    pub stdin_taken: bool,
    /// Feeds stdin to the connection, then half-closes it.
    writer: Option<JoinHandle<()>>,
    /// The write half, kept open (not half-closed) when there is no stdin.
    _idle_write: Option<Box<dyn AsyncWrite + Send + Unpin>>,
    /// Where `resize` goes: the operation to ask the gate for again.
    pub resize: super::call::Reentry,
}

impl HostAttachedSocket {
    /// Wraps a hijacked connection. With `stdin`, a task feeds what the plugin writes to the process and
    /// half-closes the connection when the stdin channel ends.
    pub fn new<S>(socket: S, tty: bool, stdin: bool, resize: super::call::Reentry) -> Self
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read, mut write) = tokio::io::split(socket);
        let frames = Frames::new(Box::new(read), tty);
        if !stdin {
            return HostAttachedSocket {
                frames,
                stdin: None,
                stdin_taken: false,
                writer: None,
                _idle_write: Some(Box::new(write)),
                resize,
            };
        }
        let (tx, mut rx) = mpsc::channel::<Bytes>(4);
        let writer = tokio::spawn(async move {
            while let Some(chunk) = rx.recv().await {
                if let Err(e) = write.write_all(&chunk).await {
                    tracing::debug!("stdin of an attached process: {e}");
                    return;
                }
            }
            if let Err(e) = write.shutdown().await {
                tracing::debug!("half-closing an attached process's stdin: {e}");
            }
        });
        HostAttachedSocket {
            frames,
            stdin: Some(shared(tx)),
            stdin_taken: false,
            writer: Some(writer),
            _idle_write: None,
            resize,
        }
    }
}

impl Drop for HostAttachedSocket {
    fn drop(&mut self) {
        // A process that never reads its stdin must not keep the connection alive after the plugin let go.
        if let Some(w) = self.writer.take() {
            w.abort();
        }
    }
}

#[async_trait::async_trait]
impl Pollable for HostAttachedSocket {
    async fn ready(&mut self) {
        self.frames.ready().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Gate, Policy};

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// A progress stream's names join the run's set when it ends without an error, with the id it
    /// reported; after an error, or dropped half way, they do not.
    #[test]
    fn names_join_the_set_only_when_the_stream_ends_well() {
        let gate = Arc::new(Gate::new(
            Arc::new(Policy::profile("ci").unwrap()),
            "r1".into(),
            vec![],
        ));
        let mut built = Confirm::new(gate.clone(), vec![("tug-test/a:1".into(), None)]);
        built.see(br#"{"stream":"Step 1/1 : FROM x"}"#);
        built.see(br#"{"aux":{"ID":"sha256:aa"}}"#);
        block_on(built.end());
        let mut failed = Confirm::new(gate.clone(), vec![("tug-test/b:1".into(), None)]);
        failed.see(br#"{"errorDetail":{"message":"no"},"error":"no"}"#);
        block_on(failed.end());
        let mut imported = Confirm::new(gate.clone(), vec![("tug-test/c:1".into(), None)]);
        imported.see(br#"{"status":"sha256:cc"}"#);
        block_on(imported.end());
        drop(Confirm::new(gate.clone(), vec![("tug-test/d:1".into(), None)]));
        assert_eq!(
            gate.made_images(),
            vec![
                ("docker.io/tug-test/a:1".to_owned(), Some("sha256:aa".to_owned())),
                ("docker.io/tug-test/c:1".to_owned(), Some("sha256:cc".to_owned())),
            ]
        );
    }

    fn wire(id: u8, data: &[u8]) -> Vec<u8> {
        let mut v = vec![id, 0, 0, 0];
        v.extend_from_slice(&(data.len() as u32).to_be_bytes());
        v.extend_from_slice(data);
        v
    }

    /// `read-multiplexed` hands out what arrived in the engine's own format: with room, the bytes as they
    /// came; with little room, frames split into pieces that each carry a header, and never more than
    /// asked for; with a TTY, the raw bytes.
    #[test]
    fn multiplexed_reads_keep_the_wire_format() {
        let mut input = Vec::new();
        for i in 0..50u8 {
            input.extend(wire(1 + i % 2, format!("line {i}\n").as_bytes()));
        }
        input.extend(wire(1, &[7u8; 100]));
        let read = |max: usize, tty: bool| {
            let mut frames = Frames::new(Box::new(std::io::Cursor::new(input.clone())), tty);
            block_on(async move {
                let mut calls = Vec::new();
                while let Some(chunk) = frames.next_multiplexed(max).await.unwrap() {
                    assert!(!chunk.is_empty() && chunk.len() <= max.max(HEADER + 1));
                    calls.push(chunk);
                }
                calls
            })
        };
        let whole = read(1 << 20, false);
        assert_eq!(whole.concat(), input);
        assert!(whole.len() <= 2, "{} calls", whole.len());
        // 20 bytes a call: a header and at most 12 payload bytes; the pieces add up per stream.
        let small = read(20, false);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        for chunk in &small {
            let mut rest = &chunk[..];
            while !rest.is_empty() {
                let len = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
                let to = if rest[0] == 1 { &mut out } else { &mut err };
                to.extend_from_slice(&rest[HEADER..HEADER + len]);
                rest = &rest[HEADER + len..];
            }
        }
        let want = |id: u8| -> Vec<u8> {
            let mut v = Vec::new();
            for i in 0..50u8 {
                if 1 + i % 2 == id {
                    v.extend(format!("line {i}\n").as_bytes());
                }
            }
            if id == 1 {
                v.extend([7u8; 100]);
            }
            v
        };
        assert_eq!((out.clone(), err.clone()), (want(1), want(2)));
        assert_eq!(read(1 << 20, true).concat(), input);
        // `next` and `read-multiplexed` in turns on one reader, with room for parts of frames only: the
        // payloads still come out whole and in order.
        let mut frames = Frames::new(Box::new(std::io::Cursor::new(input.clone())), false);
        let (mut out2, mut err2) = (Vec::new(), Vec::new());
        block_on(async {
            for turn in 0usize.. {
                if turn % 2 == 0 {
                    let Some(f) = frames.next(5).await.unwrap() else {
                        break;
                    };
                    let to = if f.stream.id() == 1 { &mut out2 } else { &mut err2 };
                    to.extend_from_slice(&f.data);
                } else {
                    let Some(chunk) = frames.next_multiplexed(30).await.unwrap() else {
                        break;
                    };
                    assert!(chunk.len() <= 30);
                    let mut rest = &chunk[..];
                    while !rest.is_empty() {
                        let len = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
                        let to = if rest[0] == 1 { &mut out2 } else { &mut err2 };
                        to.extend_from_slice(&rest[HEADER..HEADER + len]);
                        rest = &rest[HEADER + len..];
                    }
                }
            }
        });
        assert_eq!((out2, err2), (out, err));
    }
}
