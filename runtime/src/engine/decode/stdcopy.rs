//! The `multiplexed` shape: docker's "stdcopy" framing of a process's output. Each frame is an 8-byte
//! header — stream id (0 stdin, 1 stdout, 2 stderr, 3 system), three zero bytes, a big-endian u32 length —
//! followed by that many bytes. A process with a TTY has no framing: every byte is stdout.

use std::future::Future as _;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::READ_CHUNK;
use crate::engine::error::{Error, Result};

/// Which stream of a process a frame belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// Standard input.
    Stdin,
    /// Standard output (all output of a TTY).
    Stdout,
    /// Standard error.
    Stderr,
    /// A message from the engine itself.
    System,
}

impl StreamKind {
    /// The stream's number in a frame header.
    pub fn id(self) -> u8 {
        match self {
            StreamKind::Stdin => 0,
            StreamKind::Stdout => 1,
            StreamKind::Stderr => 2,
            StreamKind::System => 3,
        }
    }

    fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => StreamKind::Stdin,
            1 => StreamKind::Stdout,
            2 => StreamKind::Stderr,
            3 => StreamKind::System,
            _ => return None,
        })
    }
}

/// A piece of a process's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The stream it came on.
    pub stream: StreamKind,
    /// The bytes.
    pub data: Bytes,
}

/// The length of a frame header in the multiplexed format.
pub const HEADER: usize = 8;

/// Reads frames from a multiplexed (or, with a TTY, raw) byte stream.
///
/// A frame larger than the caller's `max` is returned in several pieces of the same stream; a frame that
/// fits is never split. Payloads are split off the read buffer without copying.
pub struct FrameReader<R> {
    reader: R,
    buf: BytesMut,
    tty: bool,
    /// The stream and the bytes still to come of a frame whose header was consumed.
    current: Option<(StreamKind, usize)>,
    eof: bool,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Reads `reader`; `tty` says the output is raw (no framing).
    pub fn new(reader: R, tty: bool) -> Self {
        FrameReader {
            reader,
            buf: BytesMut::new(),
            tty,
            current: None,
            eof: false,
        }
    }

    /// Whether the output is raw TTY bytes.
    pub fn tty(&self) -> bool {
        self.tty
    }

    /// The next frame of at most `max` bytes (at least 1); `None` at the end of the stream.
    pub async fn next_frame(&mut self, max: usize) -> Result<Option<Frame>> {
        let max = max.max(1);
        loop {
            if let Some(frame) = self.try_frame(max)? {
                return Ok(Some(frame));
            }
            if self.eof {
                return match (self.current, self.buf.len()) {
                    (None, 0) => Ok(None),
                    (Some((_, left)), _) => Err(truncated(format!("a frame ended {left} bytes short"))),
                    (None, n) => Err(truncated(format!("{n} bytes of a frame header"))),
                };
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Result<()> {
        self.buf.reserve(READ_CHUNK);
        let n = self
            .reader
            .read_buf(&mut self.buf)
            .await
            .map_err(|e| Error::transport("reading process output", e))?;
        if n == 0 {
            self.eof = true;
        }
        Ok(())
    }

    /// One read of what the source can give at once; `false` when it has nothing yet. (One poll with a
    /// waker that is never woken: `read_buf` takes nothing when it is pending, so no byte is lost.)
    fn fill_now(&mut self) -> Result<bool> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(self.fill()).as_mut().poll(&mut cx) {
            std::task::Poll::Ready(r) => r.map(|()| true),
            std::task::Poll::Pending => Ok(false),
        }
    }

    /// Appends to `out`, up to `max` bytes in all, what has arrived, in the multiplexed format (raw with a
    /// TTY), without waiting: whole frames as they came — no frame is split into pieces of its own unless
    /// it does not fit or has not all arrived, and then each piece goes behind a header of its own (as a
    /// frame whose header `next_frame` consumed). Frame boundaries are tracked, so `next_frame` can follow.
    pub fn ready_wire(&mut self, out: &mut Vec<u8>, max: usize) -> Result<()> {
        while self.buf.len() < max.saturating_sub(out.len()) && !self.eof && self.fill_now()? {}
        if self.tty {
            let n = self.buf.len().min(max.saturating_sub(out.len()));
            out.extend_from_slice(&self.buf.split_to(n));
            return Ok(());
        }
        loop {
            let room = max.saturating_sub(out.len());
            if room <= HEADER || self.buf.is_empty() {
                return Ok(());
            }
            if let Some((stream, left)) = self.current {
                let n = left.min(self.buf.len()).min(room - HEADER);
                out.extend_from_slice(&[stream.id(), 0, 0, 0]);
                out.extend_from_slice(&(n as u32).to_be_bytes());
                out.extend_from_slice(&self.buf[..n]);
                self.buf.advance(n);
                self.current = (left > n).then_some((stream, left - n));
                continue;
            }
            // Whole frames, as they are, up to the last one that fits.
            let (mut pos, limit) = (0, room.min(self.buf.len()));
            while pos + HEADER <= limit {
                if StreamKind::from_id(self.buf[pos]).is_none() {
                    break;
                }
                let b = &self.buf[pos + 4..pos + HEADER];
                let end = pos + HEADER + u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
                if end > limit {
                    break;
                }
                pos = end;
            }
            if pos > 0 {
                out.extend_from_slice(&self.buf[..pos]);
                self.buf.advance(pos);
                continue;
            }
            // The next frame does not fit whole, or has not all arrived: its header becomes `current` and
            // what fits of it follows behind a header of its own (an unknown stream is an error here).
            if self.buf.len() <= HEADER {
                return Ok(());
            }
            let stream = StreamKind::from_id(self.buf[0]).ok_or_else(|| Error::Decode {
                context: "multiplexed stream".into(),
                message: format!("unknown stream id {} in a frame header", self.buf[0]),
            })?;
            let len = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
            self.buf.advance(HEADER);
            self.current = (len > 0).then_some((stream, len));
        }
    }

    fn try_frame(&mut self, max: usize) -> Result<Option<Frame>> {
        if self.tty {
            if self.buf.is_empty() {
                return Ok(None);
            }
            let n = self.buf.len().min(max);
            return Ok(Some(Frame {
                stream: StreamKind::Stdout,
                data: self.buf.split_to(n).freeze(),
            }));
        }
        loop {
            let (stream, left) = match self.current {
                Some(c) => c,
                None => {
                    if self.buf.len() < HEADER {
                        return Ok(None);
                    }
                    let stream = StreamKind::from_id(self.buf[0]).ok_or_else(|| Error::Decode {
                        context: "multiplexed stream".into(),
                        message: format!("unknown stream id {} in a frame header", self.buf[0]),
                    })?;
                    let len =
                        u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
                    self.buf.advance(HEADER);
                    if len == 0 {
                        continue;
                    }
                    self.current = Some((stream, len));
                    (stream, len)
                }
            };
            let want = left.min(max);
            if self.buf.len() < want {
                return Ok(None);
            }
            self.current = (left > want).then_some((stream, left - want));
            return Ok(Some(Frame {
                stream,
                data: self.buf.split_to(want).freeze(),
            }));
        }
    }
}

fn truncated(what: String) -> Error {
    Error::Decode {
        context: "multiplexed stream".into(),
        message: format!("the stream ended inside a frame: {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    fn frame(id: u8, data: &[u8]) -> Vec<u8> {
        let mut v = vec![id, 0, 0, 0];
        v.extend_from_slice(&(data.len() as u32).to_be_bytes());
        v.extend_from_slice(data);
        v
    }

    async fn read_all(
        input: Vec<u8>,
        step: usize,
        tty: bool,
        max: usize,
    ) -> Result<Vec<(StreamKind, Vec<u8>)>> {
        let (mut w, r) = tokio::io::duplex(16);
        tokio::spawn(async move {
            for c in input.chunks(step) {
                w.write_all(c).await.unwrap();
            }
        });
        let mut fr = FrameReader::new(r, tty);
        let mut out = vec![];
        while let Some(f) = fr.next_frame(max).await? {
            out.push((f.stream, f.data.to_vec()));
        }
        Ok(out)
    }

    #[tokio::test]
    async fn demultiplexes_across_partial_reads() {
        let mut input = frame(1, b"out one\n");
        input.extend(frame(2, b"err\n"));
        input.extend(frame(1, b""));
        input.extend(frame(3, b"sys"));
        for step in [1, 3, 8, 9, 100] {
            let got = read_all(input.clone(), step, false, 1 << 20).await.unwrap();
            assert_eq!(
                got,
                [
                    (StreamKind::Stdout, b"out one\n".to_vec()),
                    (StreamKind::Stderr, b"err\n".to_vec()),
                    (StreamKind::System, b"sys".to_vec())
                ],
                "step {step}"
            );
        }
    }

    #[tokio::test]
    async fn large_frames_come_in_pieces_of_max_bytes() {
        let big: Vec<u8> = (0..100u8).collect();
        let got = read_all(frame(2, &big), 7, false, 30).await.unwrap();
        assert_eq!(
            got.iter().map(|(_, d)| d.len()).collect::<Vec<_>>(),
            [30, 30, 30, 10]
        );
        assert!(got.iter().all(|(s, _)| *s == StreamKind::Stderr));
        assert_eq!(got.into_iter().flat_map(|(_, d)| d).collect::<Vec<_>>(), big);
    }

    #[tokio::test]
    async fn tty_output_is_raw_stdout() {
        let got = read_all(b"\x01\x00raw bytes".to_vec(), 4, true, 1 << 20)
            .await
            .unwrap();
        let all: Vec<u8> = got.iter().flat_map(|(_, d)| d.clone()).collect();
        assert_eq!(all, b"\x01\x00raw bytes");
        assert!(got.iter().all(|(s, _)| *s == StreamKind::Stdout));
    }

    #[tokio::test]
    async fn truncation_and_garbage_are_errors() {
        let mut cut = frame(1, b"hello");
        cut.truncate(10);
        assert!(read_all(cut, 3, false, 64)
            .await
            .unwrap_err()
            .to_string()
            .contains("short"));
        assert!(read_all(vec![1, 0, 0], 3, false, 64).await.is_err());
        let e = read_all(frame(9, b"x"), 3, false, 64).await.unwrap_err();
        assert!(e.to_string().contains("unknown stream id 9"), "{e}");
    }
}
