//! A recording proxy in front of the Docker socket: `tug run --engine <proxy url>` (or a client with
//! `DOCKER_HOST=<proxy url>`) reaches the real daemon through it, and the test reads every request sent
//! (`METHOD /path?query`, and each request's body). Only the requests are parsed (their heads, and their
//! bodies, kept as sent, de-chunked); answers, streams and hijacked connections are copied through as bytes.

use std::{
    io::{self, BufRead, BufReader, Read, Write},
    os::unix::net::{UnixListener, UnixStream},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
};

/// A proxy listening on a socket of its own.
pub struct Proxy {
    path: PathBuf,
    log: Arc<Mutex<Vec<Exchange>>>,
}

/// One request the proxy forwarded.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target as sent: `/v1.41/containers/create?name=x`.
    pub target: String,
    /// The request's body (de-chunked; empty when it had none).
    pub body: Vec<u8>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Proxy {
    /// Listens on a fresh socket and forwards every connection to `upstream` (a unix socket).
    pub fn start(upstream: &Path) -> Proxy {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "tug-proxy-{}-{}.sock",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).expect("binding the proxy's socket");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (upstream, shared) = (upstream.to_owned(), log.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let (upstream, log) = (upstream.clone(), shared.clone());
                std::thread::spawn(move || {
                    if let Err(e) = forward(client, &upstream, &log) {
                        eprintln!("proxy: {e}");
                    }
                });
            }
        });
        Proxy { path, log }
    }

    /// The `--engine` URL of the proxy.
    pub fn url(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    /// Every request sent so far, in order: `METHOD /path?query` (percent-encoding as sent).
    pub fn requests(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|e| format!("{} {}", e.method, e.target))
            .collect()
    }

    /// Every request sent so far, in order, with its body.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.log.lock().unwrap().clone()
    }
}

/// Forwards one connection: the client's requests, parsed head by head and recorded, then copied upstream;
/// the daemon's answers copied back as they come.
fn forward(client: UnixStream, upstream: &Path, log: &Mutex<Vec<Exchange>>) -> io::Result<()> {
    let mut up = UnixStream::connect(upstream)?;
    let mut back = client.try_clone()?;
    let mut answers = up.try_clone()?;
    let copier = std::thread::spawn(move || {
        let _ = io::copy(&mut answers, &mut back);
        let _ = back.shutdown(std::net::Shutdown::Write);
    });
    let mut reader = BufReader::new(client);
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = Vec::new();
            if reader.read_until(b'\n', &mut line)? == 0 {
                let _ = up.shutdown(std::net::Shutdown::Write);
                let _ = copier.join();
                return Ok(());
            }
            let end = line == b"\r\n" || line == b"\n";
            head.extend_from_slice(&line);
            if end {
                break;
            }
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let mut lines = text.lines();
        let request_line = lines.next().unwrap_or_default();
        let mut parts = request_line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
        let header = |name: &str| {
            text.lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_ascii_lowercase())
        };
        // Recorded before its body is copied: a body that never ends still shows its request.
        let entry = {
            let mut log = log.lock().unwrap();
            log.push(Exchange {
                method: method.to_owned(),
                target: target.to_owned(),
                body: Vec::new(),
            });
            log.len() - 1
        };
        up.write_all(&head)?;
        let mut body = Vec::new();
        if let Some(n) = header("content-length").and_then(|v| v.parse::<u64>().ok()) {
            copy_kept(&mut (&mut reader).take(n), &mut up, &mut body)?;
        } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            copy_chunked(&mut reader, &mut up, &mut body)?;
        }
        log.lock().unwrap()[entry].body = body;
        if header("upgrade").is_some() {
            // A hijacked connection: from now on, raw bytes both ways.
            io::copy(&mut reader, &mut up)?;
            let _ = up.shutdown(std::net::Shutdown::Write);
            let _ = copier.join();
            return Ok(());
        }
    }
}

/// Copies one chunked body (its chunks and its trailers) as it comes, keeping its data in `body`.
fn copy_chunked(
    reader: &mut BufReader<UnixStream>,
    up: &mut UnixStream,
    body: &mut Vec<u8>,
) -> io::Result<()> {
    loop {
        let mut size_line = Vec::new();
        reader.read_until(b'\n', &mut size_line)?;
        up.write_all(&size_line)?;
        let size = String::from_utf8_lossy(&size_line);
        let size = u64::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        if size == 0 {
            loop {
                let mut trailer = Vec::new();
                if reader.read_until(b'\n', &mut trailer)? == 0 {
                    return Ok(());
                }
                up.write_all(&trailer)?;
                if trailer == b"\r\n" || trailer == b"\n" {
                    return Ok(());
                }
            }
        }
        let mut chunk = Vec::new();
        copy_kept(&mut reader.take(size + 2), up, &mut chunk)?;
        chunk.truncate(size as usize);
        body.extend_from_slice(&chunk);
    }
}

/// Copies everything `from` gives to `to` as it comes, keeping a copy in `kept`.
fn copy_kept(from: &mut impl Read, to: &mut UnixStream, kept: &mut Vec<u8>) -> io::Result<()> {
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        to.write_all(&buf[..n])?;
        kept.extend_from_slice(&buf[..n]);
    }
}
