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

use crate::policy::audit::Masker;
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

/// A plugin output stream forwarded to one of tug's, optionally line-prefixed, with secrets masked.
#[derive(Clone)]
pub struct Forward {
    target: Target,
    prefix: Option<Arc<[u8]>>,
    state: Arc<Mutex<State>>,
}

/// What a forwarded stream remembers between writes.
struct State {
    at_line_start: bool,
    masker: Masker,
    target: Target,
    prefix: Option<Arc<[u8]>>,
}

impl Drop for State {
    fn drop(&mut self) {
        // A held-back tail that turned out not to be a secret.
        let tail = self.masker.finish();
        if !tail.is_empty() {
            let (target, prefix) = (self.target, self.prefix.clone());
            let _ = write_prefixed(target, prefix.as_deref(), &mut self.at_line_start, &tail);
        }
    }
}

fn write_prefixed(target: Target, prefix: Option<&[u8]>, start: &mut bool, bytes: &[u8]) -> io::Result<()> {
    let mut out: Box<dyn Write> = match target {
        Target::Stdout => Box::new(io::stdout().lock()),
        Target::Stderr => Box::new(io::stderr().lock()),
    };
    let Some(prefix) = prefix else {
        return out.write_all(bytes);
    };
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        if *start {
            out.write_all(prefix)?;
        }
        out.write_all(line)?;
        *start = line.ends_with(b"\n");
    }
    Ok(())
}

impl Forward {
    /// Forwards to `target`, prefixing lines with `[name] ` unless the target is a terminal, and
    /// masking the secrets `masker` knows.
    pub fn new(target: Target, name: &str, masker: Masker) -> Self {
        let tty = match target {
            Target::Stdout => io::IsTerminal::is_terminal(&io::stdout()),
            Target::Stderr => io::IsTerminal::is_terminal(&io::stderr()),
        };
        let prefix: Option<Arc<[u8]>> = (!tty).then(|| format!("[{name}] ").into_bytes().into());
        Forward {
            target,
            prefix: prefix.clone(),
            state: Arc::new(Mutex::new(State {
                at_line_start: true,
                masker,
                target,
                prefix,
            })),
        }
    }

    /// Writes (blocking, as inherited stdio does), masking secrets and inserting the prefix at each line
    /// start.
    fn write_bytes(&self, bytes: &[u8]) -> io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let masked = if state.masker.is_empty() {
            bytes.to_vec()
        } else {
            state.masker.mask_stream(bytes)
        };
        write_prefixed(
            self.target,
            self.prefix.as_deref(),
            &mut state.at_line_start,
            &masked,
        )
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
