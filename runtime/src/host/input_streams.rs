//! The `wasi:io` `input-stream`s tug hands out: a raw download's body, and a process's output in the
//! Engine API's multiplexed format. Both are cancel-safe: a read never waits, and what it did not hand
//! out stays for the next one.

use std::future::Future as _;

use bytes::Bytes;
use wasmtime_wasi::p2::{InputStream, Pollable, StreamError, StreamResult};

use super::{observe::Tap, resources::Frames};
use crate::engine::{decode::stdcopy::HEADER, BodyReader};

/// The most one read hands out.
const MAX_GATHER: usize = 256 * 1024;

/// A `raw-stream` download (archive, export, image save) as a `wasi:io` `input-stream`: reads hand out the
/// response body's chunks as hyper received them, split to the size asked for, with no task in between
/// and no copy on the host's side (wasmtime-wasi's `AsyncReadStream` would read through a task into
/// 64 KiB buffers of its own).
pub struct BodyInputStream {
    body: BodyReader,
    /// Read ahead: the rest of a chunk.
    chunk: Bytes,
    /// How the body ended, once it did (an error is reported once, then `Closed`).
    end: Option<Option<std::io::Error>>,
    /// Told how many bytes each read hands out; dropped at the end.
    tap: Option<Tap>,
}

impl BodyInputStream {
    /// Wraps a response body.
    pub fn new(body: BodyReader) -> Self {
        BodyInputStream {
            body,
            chunk: Bytes::new(),
            end: None,
            tap: None,
        }
    }

    /// The same, telling `tap` how many bytes each read hands out.
    pub fn tapped(mut self, tap: Option<Tap>) -> Self {
        self.tap = tap;
        self
    }

    fn poll_fill(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        use std::task::Poll;
        if !self.chunk.is_empty() || self.end.is_some() {
            return Poll::Ready(());
        }
        match self.body.poll_chunk(cx) {
            Poll::Ready(Ok(Some(chunk))) => self.chunk = chunk,
            Poll::Ready(Ok(None)) => self.end = Some(None),
            Poll::Ready(Err(e)) => self.end = Some(Some(e)),
            Poll::Pending => return Poll::Pending,
        }
        Poll::Ready(())
    }
}

impl InputStream for BodyInputStream {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        let read = self.read_now(size);
        match (&mut self.tap, &read) {
            (Some(tap), Ok(b)) => tap.bytes(b.len() as u64),
            (Some(_), Err(_)) => self.tap = None,
            (None, _) => {}
        }
        read
    }
}

impl BodyInputStream {
    fn read_now(&mut self, size: usize) -> StreamResult<Bytes> {
        // Take what has arrived without waiting.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let _ = self.poll_fill(&mut cx);
        let len = self.chunk.len();
        if len >= size.min(MAX_GATHER) || (len > 0 && size <= len * 2) {
            let n = size.min(self.chunk.len());
            return Ok(self.chunk.split_to(n));
        }
        if !self.chunk.is_empty() {
            // A big read and small chunks (the daemon sends 32 KiB ones): gather what has already
            // arrived, up to the size asked for, into one buffer. wasmtime copies the bytes out of a
            // chunk into a `Vec` anyway; gathering does that copy here, and the `Vec` is handed over
            // without another, in one call instead of one per chunk.
            let cap = size.min(MAX_GATHER);
            let mut out = Vec::with_capacity(cap);
            let first = std::mem::take(&mut self.chunk);
            let n = first.len().min(cap);
            out.extend_from_slice(&first[..n]);
            self.chunk = first.slice(n..);
            while out.len() < cap && self.chunk.is_empty() {
                match self.body.poll_chunk(&mut cx) {
                    std::task::Poll::Ready(Ok(Some(chunk))) => {
                        let n = chunk.len().min(cap - out.len());
                        out.extend_from_slice(&chunk[..n]);
                        self.chunk = chunk.slice(n..);
                    }
                    std::task::Poll::Ready(Ok(None)) => {
                        self.end = Some(None);
                        break;
                    }
                    std::task::Poll::Ready(Err(e)) => {
                        self.end = Some(Some(e));
                        break;
                    }
                    std::task::Poll::Pending => break,
                }
            }
            return Ok(Bytes::from(out));
        }
        match &mut self.end {
            None => Ok(Bytes::new()),
            Some(e) => match e.take() {
                Some(e) => Err(StreamError::LastOperationFailed(e.into())),
                None => Err(StreamError::Closed),
            },
        }
    }
}

#[async_trait::async_trait]
impl Pollable for BodyInputStream {
    async fn ready(&mut self) {
        std::future::poll_fn(|cx| self.poll_fill(cx)).await
    }
}

/// A `frame-reader` turned into an `input-stream` (`frame-reader.into-stream`): the rest of a process's
/// output in the Engine API's multiplexed format (raw bytes with a TTY), as `read-multiplexed` gives it —
/// whole frames as they arrived, a frame split only when a read has no room for it, each piece behind a
/// header of its own. A JavaScript guest reads a stream's bytes into its memory at a fraction of what
/// lifting a `list<u8>` result costs it.
pub struct WireInputStream {
    frames: Frames,
    /// Bytes of the last gathered piece a small read had no room for.
    rest: Bytes,
    /// How the output ended, once it did (an error is reported once, then `Closed`).
    end: Option<Option<crate::engine::Error>>,
}

impl WireInputStream {
    /// The rest of `frames`, from where its reader stopped.
    pub fn new(frames: Frames) -> Self {
        WireInputStream {
            frames,
            rest: Bytes::new(),
            end: None,
        }
    }
}

impl InputStream for WireInputStream {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        if !self.rest.is_empty() {
            let n = size.min(self.rest.len());
            return Ok(self.rest.split_to(n));
        }
        if let Some(end) = &mut self.end {
            return match end.take() {
                Some(e) => Err(StreamError::LastOperationFailed(e.into())),
                None => Err(StreamError::Closed),
            };
        }
        if size == 0 {
            return Ok(Bytes::new());
        }
        // One poll, with a waker that is never woken: `next_multiplexed` only waits for its first frame,
        // and gives that up unconsumed when it has not arrived (the frame reader keeps its place), so a
        // pending poll loses nothing. After `ready`, a frame is waiting and the poll completes.
        let max = size.clamp(HEADER + 1, MAX_GATHER);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let poll = std::pin::pin!(self.frames.next_multiplexed(max)).poll(&mut cx);
        match poll {
            std::task::Poll::Pending => Ok(Bytes::new()),
            std::task::Poll::Ready(Ok(Some(wire))) => {
                let mut wire = Bytes::from(wire);
                if wire.len() > size {
                    self.rest = wire.split_off(size);
                }
                Ok(wire)
            }
            std::task::Poll::Ready(Ok(None)) => Err(StreamError::Closed),
            std::task::Poll::Ready(Err(e)) => {
                self.end = Some(None);
                Err(StreamError::LastOperationFailed(e.into()))
            }
        }
    }
}

#[async_trait::async_trait]
impl Pollable for WireInputStream {
    async fn ready(&mut self) {
        if self.rest.is_empty() && self.end.is_none() {
            self.frames.ready().await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(id: u8, data: &[u8]) -> Vec<u8> {
        let mut v = vec![id, 0, 0, 0];
        v.extend_from_slice(&(data.len() as u32).to_be_bytes());
        v.extend_from_slice(data);
        v
    }

    /// Read as a `blocking-read` does (`ready`, then `read`), with any read size — smaller than a header
    /// too — the stream gives the engine's bytes back as they came, after a `next` on the same reader.
    #[test]
    fn a_frame_reader_as_a_stream_gives_the_wire_bytes() {
        let mut input = Vec::new();
        for i in 0..40u8 {
            input.extend(wire(1 + i % 2, format!("line {i}\n").as_bytes()));
        }
        input.extend(wire(1, &[7u8; 70_000]));
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        for size in [1usize, 5, 9, 64, 1 << 20] {
            let mut frames = Frames::new(Box::new(std::io::Cursor::new(input.clone())), false);
            let first = rt.block_on(frames.next(1 << 20)).unwrap().unwrap();
            assert_eq!(&first.data[..], b"line 0\n");
            let mut stream = WireInputStream::new(frames);
            let mut got = wire(1, b"line 0\n");
            loop {
                rt.block_on(stream.ready());
                match stream.read(size) {
                    Ok(b) => {
                        assert!(b.len() <= size, "{} > {size}", b.len());
                        got.extend_from_slice(&b);
                    }
                    Err(StreamError::Closed) => break,
                    Err(e) => panic!("{e:?}"),
                }
            }
            // Split frames keep their payloads whole per stream; unsplit ones are the input itself.
            if size >= 1 << 20 {
                assert_eq!(got, input);
            }
            let payload = |bytes: &[u8], id: u8| {
                let (mut out, mut rest) = (Vec::new(), bytes);
                while !rest.is_empty() {
                    let len = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
                    if rest[0] == id {
                        out.extend_from_slice(&rest[HEADER..HEADER + len]);
                    }
                    rest = &rest[HEADER + len..];
                }
                out
            };
            assert_eq!(payload(&got, 1), payload(&input, 1), "read size {size}");
            assert_eq!(payload(&got, 2), payload(&input, 2), "read size {size}");
        }
    }
}
