//! A plugin's stdout and stderr: forwarded to tug's own, each line prefixed with `[plugin] ` when the
//! output is not a terminal, so interleaved output stays attributable.

use std::{
    io::{self, Write},
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::{
    cli::{IsTerminal, StdoutStream},
    p2::{OutputStream, Pollable, StreamResult},
};

/// Which of tug's streams a plugin stream goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// tug's stdout.
    Stdout,
    /// tug's stderr.
    Stderr,
}

/// A plugin output stream forwarded to one of tug's, optionally line-prefixed.
#[derive(Clone)]
pub struct Forward {
    target: Target,
    prefix: Option<Arc<[u8]>>,
    at_line_start: Arc<Mutex<bool>>,
}

impl Forward {
    /// Forwards to `target`, prefixing lines with `[name] ` unless the target is a terminal.
    pub fn new(target: Target, name: &str) -> Self {
        let tty = match target {
            Target::Stdout => io::IsTerminal::is_terminal(&io::stdout()),
            Target::Stderr => io::IsTerminal::is_terminal(&io::stderr()),
        };
        Forward {
            target,
            prefix: (!tty).then(|| format!("[{name}] ").into_bytes().into()),
            at_line_start: Arc::new(Mutex::new(true)),
        }
    }

    /// Writes (blocking, as inherited stdio does), inserting the prefix at each line start.
    fn write_bytes(&self, bytes: &[u8]) -> io::Result<()> {
        let mut out: Box<dyn Write> = match self.target {
            Target::Stdout => Box::new(io::stdout().lock()),
            Target::Stderr => Box::new(io::stderr().lock()),
        };
        let Some(prefix) = &self.prefix else {
            return out.write_all(bytes);
        };
        let mut start = self.at_line_start.lock().unwrap_or_else(|p| p.into_inner());
        for line in bytes.split_inclusive(|b| *b == b'\n') {
            if *start {
                out.write_all(prefix)?;
            }
            out.write_all(line)?;
            *start = line.ends_with(b"\n");
        }
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        match self.target {
            Target::Stdout => io::stdout().flush(),
            Target::Stderr => io::stderr().flush(),
        }
    }
}

impl IsTerminal for Forward {
    fn is_terminal(&self) -> bool {
        self.prefix.is_none()
    }
}

impl StdoutStream for Forward {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl OutputStream for Forward {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.write_bytes(&bytes)
            .map_err(|e| wasmtime_wasi::p2::StreamError::LastOperationFailed(e.into()))
    }

    fn flush(&mut self) -> StreamResult<()> {
        Forward::flush(self).map_err(|e| wasmtime_wasi::p2::StreamError::LastOperationFailed(e.into()))
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[async_trait::async_trait]
impl Pollable for Forward {
    async fn ready(&mut self) {}
}

impl AsyncWrite for Forward {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(self.write_bytes(buf).map(|()| buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Forward::flush(&self))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Forward::flush(&self))
    }
}
