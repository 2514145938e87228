//! The `hijack` shape: after `101 Switching Protocols`, the HTTP connection is a raw bidirectional byte
//! stream to a process (attach, exec start).

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf, ReadHalf, WriteHalf};

/// A hijacked connection. Reading gives the process's output (multiplexed unless it has a TTY; wrap the
/// read half in a [`FrameReader`](super::decode::FrameReader)); writing feeds its stdin; `shutdown`
/// half-closes, so the process reads end-of-file while its output keeps coming.
pub struct Hijacked {
    io: TokioIo<Upgraded>,
}

impl Hijacked {
    pub(crate) fn new(upgraded: Upgraded) -> Self {
        Hijacked {
            io: TokioIo::new(upgraded),
        }
    }

    /// Splits into a read half (output) and a write half (stdin; shut it down to half-close).
    pub fn split(self) -> (ReadHalf<Hijacked>, WriteHalf<Hijacked>) {
        tokio::io::split(self)
    }
}

impl AsyncRead for Hijacked {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Hijacked {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
