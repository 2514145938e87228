//! A plugin's stdout and stderr: forwarded to tug's own, each line prefixed with `[plugin] ` when the
//! output is not a terminal, so interleaved output stays attributable.
//!
//! Nothing a reader does can stop the run's clock: the plugin's bytes go into a bounded queue that a
//! writer thread of tug's drains into the file descriptor. While a reader does not read (`tug run … |
//! sleep 60`), the queue fills and the plugin's writes wait — back-pressure, as with a pipe — but they
//! wait in the async runtime, where the run's deadline and signals still end the run. [`drain`] waits
//! (as long as the caller allows) for what is queued to be written before tug says its last words.

use std::{
    io::{self, Write},
    mem::ManuallyDrop,
    os::fd::FromRawFd,
    pin::Pin,
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc, Arc, Mutex, OnceLock,
    },
    task::{Context, Poll, Waker},
    time::Duration,
};

use bytes::Bytes;
use tokio::io::AsyncWrite;

use crate::policy::audit::Masker;
use wasmtime_wasi::{
    cli::{IsTerminal, StdoutStream},
    p2::{OutputStream, Pollable, StreamResult},
};

/// How many bytes may wait for a stalled reader, per stream of tug's, before the plugin's writes wait.
const QUEUE_LIMIT: usize = 1 << 20;
/// The most a plugin may write at once (what `check-write` offers).
const WRITE_CHUNK: usize = 64 * 1024;

/// What wraps each write to tug's stdout and stderr (progress bars take themselves off the terminal
/// for it and redraw after).
pub type Suspend = Box<dyn Fn(&mut dyn FnMut()) + Send + Sync>;

static SUSPEND: std::sync::RwLock<Option<Suspend>> = std::sync::RwLock::new(None);

/// Wraps every later write to tug's stdout and stderr in `suspend` (`None`: writes go straight out).
pub fn suspend_with(suspend: Option<Suspend>) {
    *SUSPEND.write().unwrap_or_else(|p| p.into_inner()) = suspend;
}

/// Which of tug's streams a plugin stream goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// tug's stdout.
    Stdout,
    /// tug's stderr.
    Stderr,
}

/// One of tug's streams with its writer thread: the queue, its size, and who waits for room.
struct Sink {
    /// Which writer's line is open (unterminated) on this stream, if one is: the line-start state is
    /// the stream's, not each writer's, so no writer's bytes continue another's line.
    open: Mutex<Option<usize>>,
    tx: Mutex<mpsc::Sender<Vec<u8>>>,
    queued: AtomicUsize,
    waiting: Mutex<Vec<Waker>>,
    drained: tokio::sync::Notify,
}

impl Sink {
    /// The sink of `target`, started on first use (one per process: runs share tug's streams).
    fn of(target: Target) -> &'static Arc<Sink> {
        static SINKS: [OnceLock<Arc<Sink>>; 2] = [OnceLock::new(), OnceLock::new()];
        let (slot, fd) = match target {
            Target::Stdout => (&SINKS[0], 1),
            Target::Stderr => (&SINKS[1], 2),
        };
        slot.get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Vec<u8>>();
            let sink = Arc::new(Sink {
                open: Mutex::new(None),
                tx: Mutex::new(tx),
                queued: AtomicUsize::new(0),
                waiting: Mutex::new(Vec::new()),
                drained: tokio::sync::Notify::new(),
            });
            let writer = sink.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("tug-output-{fd}"))
                .spawn(move || writer.write_loop(fd, rx));
            if let Err(e) = spawned {
                tracing::warn!("cannot start the output writer: {e}");
            }
            sink
        })
    }

    /// The writer thread: blocking writes to the descriptor (it is tug's, never closed). A reader that
    /// went away (EPIPE) makes the rest of the output vanish rather than fail the run.
    fn write_loop(&self, fd: i32, rx: mpsc::Receiver<Vec<u8>>) {
        // SAFETY: fd 1 and 2 stay open for the life of the process; `ManuallyDrop` never closes them.
        let mut out = ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
        let mut broken = false;
        while let Ok(bytes) = rx.recv() {
            let mut write = || {
                if !broken && out.write_all(&bytes).is_err() {
                    broken = true;
                }
            };
            match &*SUSPEND.read().unwrap_or_else(|p| p.into_inner()) {
                Some(suspend) => suspend(&mut write),
                None => write(),
            }
            self.queued.fetch_sub(bytes.len(), Ordering::AcqRel);
            self.wake();
        }
    }

    fn wake(&self) {
        for w in self.waiting.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            w.wake();
        }
        if self.queued.load(Ordering::Acquire) == 0 {
            self.drained.notify_waiters();
        }
    }

    fn has_room(&self) -> bool {
        self.queued.load(Ordering::Acquire) < QUEUE_LIMIT
    }

    /// Ready when there is room; otherwise registers the waker (and looks again, so a wake between the
    /// look and the registration is not lost).
    fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.has_room() {
            return Poll::Ready(());
        }
        {
            // One entry per task: a plugin polling in a loop while the reader stalls adds nothing.
            let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
            if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
                waiting.push(cx.waker().clone());
            }
        }
        if self.has_room() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Queues `bytes` of writer `writer` (0: tug itself), with `prefix` at each line start. A line that
    /// another writer left open is ended first, so a writer's bytes never continue another's line.
    fn write_from(&self, writer: usize, prefix: Option<&[u8]>, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::with_capacity(bytes.len() + 1);
        if open.is_some_and(|w| w != writer) {
            out.push(b'\n');
            *open = None;
        }
        let mut start = open.is_none();
        out.extend(prefixed(prefix, &mut start, bytes));
        *open = (!start).then_some(writer);
        // Queued under the lock: the order of the queue is the order of the line state.
        self.push(out);
    }

    fn push(&self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        self.queued.fetch_add(bytes.len(), Ordering::AcqRel);
        let len = bytes.len();
        let sent = self.tx.lock().unwrap_or_else(|p| p.into_inner()).send(bytes);
        if sent.is_err() {
            // No writer thread: the bytes go nowhere, and are not waited for.
            self.queued.fetch_sub(len, Ordering::AcqRel);
        }
    }

    async fn drained(&self) {
        loop {
            let notified = self.drained.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.queued.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Writes one of tug's own lines to its stderr through the same queue as the plugins' output, so it keeps
/// its place after theirs and never blocks tug on a reader that does not read (see [`drain`]).
pub fn say(line: &str) {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    Sink::of(Target::Stderr).write_from(0, None, &bytes);
}

/// Waits until what plugins wrote has reached tug's stdout and stderr, or `limit` passes (a reader that
/// does not read); says whether everything was written.
pub async fn drain(limit: Option<Duration>) -> bool {
    let both = async {
        for target in [Target::Stdout, Target::Stderr] {
            Sink::of(target).drained().await;
        }
    };
    match limit {
        Some(limit) => tokio::time::timeout(limit, both).await.is_ok(),
        None => {
            both.await;
            true
        }
    }
}

/// A plugin output stream forwarded to one of tug's, optionally line-prefixed, with secrets masked.
#[derive(Clone)]
pub struct Forward {
    sink: Arc<Sink>,
    prefix: Option<Arc<[u8]>>,
    state: Arc<Mutex<State>>,
    /// What the last `check-write` allowed this stream to write (a write beyond it traps: the queue is
    /// bounded by what `check-write` offers).
    permit: usize,
}

/// What a forwarded stream remembers between writes.
struct State {
    /// This stream's number among the writers of its sink.
    id: usize,
    /// Under GitHub Actions, off a terminal: the `##` of a legacy workflow command is defused.
    github: bool,
    /// How many `#` the stream's output ended with (at most 2).
    hashes: u8,
    masker: Masker,
    sink: Arc<Sink>,
    prefix: Option<Arc<[u8]>>,
}

impl Drop for State {
    fn drop(&mut self) {
        // A held-back tail that turned out not to be a secret.
        let tail = self.masker.finish();
        let tail = defuse(self.github, &mut self.hashes, &tail);
        self.sink.write_from(self.id, self.prefix.as_deref(), &tail);
    }
}

/// GitHub's runner finds its legacy command form, `##[command]…`, anywhere in a line (the prefix does
/// not stop it): with `github`, a zero-width space goes between each `##` and `[` of the plugin's output,
/// across writes (`hashes` carries the `#`s a write ended with).
fn defuse<'a>(github: bool, hashes: &mut u8, bytes: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
    const ZWSP: &[u8] = "\u{200b}".as_bytes();
    if !github {
        return bytes.into();
    }
    let mut out = Vec::with_capacity(bytes.len());
    for &b in bytes {
        if b == b'[' && *hashes >= 2 {
            out.extend_from_slice(ZWSP);
        }
        out.push(b);
        *hashes = if b == b'#' { (*hashes + 1).min(2) } else { 0 };
    }
    out.into()
}

/// `bytes` with `prefix` at each line start. A line ends at LF and at CR (a CI log reader, GitHub's
/// among them, also ends a line at a lone CR); the LF of a CRLF gets no prefix of its own.
fn prefixed(prefix: Option<&[u8]>, start: &mut bool, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + prefix.map_or(0, <[u8]>::len));
    for &b in bytes {
        if let (true, Some(p)) = (*start && b != b'\n', prefix) {
            out.extend_from_slice(p);
        }
        out.push(b);
        *start = b == b'\n' || b == b'\r';
    }
    out
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
        let sink = Sink::of(target).clone();
        Forward {
            sink: sink.clone(),
            prefix: prefix.clone(),
            state: Arc::new(Mutex::new(State {
                id: {
                    static NEXT: AtomicUsize = AtomicUsize::new(1);
                    NEXT.fetch_add(1, Ordering::Relaxed)
                },
                github: prefix.is_some() && std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true"),
                hashes: 0,
                masker,
                sink,
                prefix,
            })),
            permit: 0,
        }
    }

    /// Queues the bytes, masking secrets and inserting the prefix at each line start. Never blocks: room
    /// is waited for before (`check-write`, `ready`, `poll_write`).
    fn write_bytes(&self, bytes: &[u8]) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let masked;
        let bytes = if state.masker.is_empty() {
            bytes
        } else {
            masked = state.masker.mask_stream(bytes);
            &masked[..]
        };
        let state = &mut *state;
        let bytes = defuse(state.github, &mut state.hashes, bytes);
        self.sink.write_from(state.id, self.prefix.as_deref(), &bytes);
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
        if bytes.len() > self.permit {
            return Err(wasmtime_wasi::p2::StreamError::Trap(wasmtime::format_err!(
                "the plugin wrote {} bytes to its output where check-write allowed {}",
                bytes.len(),
                self.permit
            )));
        }
        self.permit -= bytes.len();
        self.write_bytes(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        // The queue is the stream's buffer: a flush hands it to tug, which writes it as the reader reads.
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        self.permit = if self.sink.has_room() { WRITE_CHUNK } else { 0 };
        Ok(self.permit)
    }
}

#[async_trait::async_trait]
impl Pollable for Forward {
    async fn ready(&mut self) {
        std::future::poll_fn(|cx| self.sink.poll_room(cx)).await
    }
}

impl AsyncWrite for Forward {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.sink.poll_room(cx).is_pending() {
            return Poll::Pending;
        }
        let n = buf.len().min(WRITE_CHUNK);
        self.write_bytes(&buf[..n]);
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_at_line_starts_across_writes() {
        let mut start = true;
        let p = Some(&b"[p] "[..]);
        assert_eq!(prefixed(p, &mut start, b"a\nb"), b"[p] a\n[p] b");
        assert_eq!(prefixed(p, &mut start, b"c\n"), b"c\n");
        assert_eq!(prefixed(p, &mut start, b"d"), b"[p] d");
        assert_eq!(prefixed(None, &mut start, b"x\ny"), b"x\ny");
        // A lone CR ends a line; CRLF is one line end.
        let mut start = true;
        assert_eq!(
            prefixed(p, &mut start, b"a\r::x\r\nb"),
            b"[p] a\r[p] ::x\r\n[p] b"
        );
    }

    /// Under GitHub, `##[` never reaches the log whole, however the writes split it.
    #[test]
    fn legacy_workflow_commands_are_defused() {
        let mut hashes = 0;
        let mut out = Vec::new();
        for part in [&b"a ##[error]x #"[..], b"#", b"[add-mask]y ##"] {
            out.extend_from_slice(&defuse(true, &mut hashes, part));
        }
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "a ##\u{200b}[error]x ##\u{200b}[add-mask]y ##");
        assert_eq!(&*defuse(false, &mut 0, b"##["), b"##[");
    }

    /// A line one writer left open is ended before another writer's bytes (tug's own lines included),
    /// and the first writer's next bytes start a line of their own, prefixed.
    #[test]
    fn writers_never_continue_each_others_lines() {
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let sink = Sink {
            open: Mutex::new(None),
            tx: Mutex::new(tx),
            queued: AtomicUsize::new(0),
            waiting: Mutex::new(Vec::new()),
            drained: tokio::sync::Notify::new(),
        };
        let p = Some(&b"[p] "[..]);
        sink.write_from(1, p, b"x");
        sink.write_from(0, None, b"tug: said\n");
        sink.write_from(1, p, b"::error::forged\n");
        sink.write_from(1, p, b"y");
        sink.write_from(2, p, b"z\n");
        let all: Vec<u8> = rx.try_iter().flatten().collect();
        assert_eq!(
            String::from_utf8(all).unwrap(),
            "[p] x\ntug: said\n[p] ::error::forged\n[p] y\n[p] z\n"
        );
    }
}
