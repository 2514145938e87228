//! Connections to the daemon: one connector for every kind of endpoint (unix socket, tcp, TLS over tcp,
//! and ssh through the system `ssh` running `docker system dial-stdio`), pluggable into hyper-util's
//! pooling client.

use std::{
    future::Future,
    io,
    pin::Pin,
    process::Stdio,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};

use http::Uri;
use hyper_util::{
    client::legacy::connect::{Connected, Connection},
    rt::TokioIo,
};
use rustls_pki_types::ServerName;
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader, ReadBuf},
    net::{TcpStream, UnixStream},
    process::{Child, ChildStdin, ChildStdout, Command},
};
use tokio_rustls::{client::TlsStream, TlsConnector};

use super::{
    config::{Endpoint, EngineConfig},
    error::{Error, Result},
    tls,
};

/// One connection to the daemon, whatever carries it, counted while it is open.
pub struct Conn {
    io: ConnIo,
    _open: OpenGuard,
}

/// Counts a connection as open until dropped.
struct OpenGuard(Arc<AtomicUsize>);

impl OpenGuard {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        OpenGuard(count.clone())
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What carries a connection.
pub enum ConnIo {
    /// A unix socket.
    Unix(UnixStream),
    /// Plain tcp.
    Tcp(TcpStream),
    /// TLS over tcp.
    Tls(Box<TlsStream<TcpStream>>),
    /// The stdin/stdout of `ssh … docker system dial-stdio`.
    Ssh(Box<SshStream>),
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

macro_rules! each_conn {
    ($self:ident, $s:ident => $e:expr) => {
        match &mut $self.get_mut().io {
            ConnIo::Unix($s) => $e,
            ConnIo::Tcp($s) => $e,
            ConnIo::Tls($s) => $e,
            ConnIo::Ssh($s) => $e,
        }
    };
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        each_conn!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        each_conn!(self, s => Pin::new(s).poll_write(cx, buf))
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_conn!(self, s => Pin::new(s).poll_flush(cx))
    }
    /// Half-closes the connection (`shutdown(SHUT_WR)`, TLS close-notify, or closing ssh's stdin).
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_conn!(self, s => Pin::new(s).poll_shutdown(cx))
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each_conn!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }
    fn is_write_vectored(&self) -> bool {
        match &self.io {
            ConnIo::Unix(s) => s.is_write_vectored(),
            ConnIo::Tcp(s) => s.is_write_vectored(),
            ConnIo::Tls(s) => s.is_write_vectored(),
            ConnIo::Ssh(s) => s.is_write_vectored(),
        }
    }
}

/// The byte stream of `ssh [-l user] [-p port] host -- docker system dial-stdio`. The process is killed
/// when the stream is dropped.
pub struct SshStream {
    _child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
}

impl SshStream {
    /// Starts `ssh` and returns its stdio as a stream. `ssh`'s stderr goes to the tracing log.
    pub fn spawn(
        user: Option<&str>,
        host: &str,
        port: Option<u16>,
        options: &[String],
        connect_timeout: Duration,
    ) -> Result<Self> {
        let mut cmd = Command::new("ssh");
        cmd.arg("-o")
            .arg(format!("ConnectTimeout={}", connect_timeout.as_secs().max(1)))
            .arg("-o")
            .arg("BatchMode=yes");
        if let Some(u) = user {
            cmd.arg("-l").arg(u);
        }
        if let Some(p) = port {
            cmd.arg("-p").arg(p.to_string());
        }
        cmd.args(options)
            .arg("--")
            .arg(host)
            .args(["docker", "system", "dial-stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::transport(format!("starting ssh to {host}"), e))?;
        if let Some(stderr) = child.stderr.take() {
            let host = host.to_owned();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    tracing::warn!(target: "tug::engine::ssh", %host, "{line}");
                }
            });
        }
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        Ok(SshStream {
            _child: child,
            stdin: Some(stdin),
            stdout,
        })
    }
}

impl AsyncRead for SshStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stdout).poll_read(cx, buf)
    }
}

impl AsyncWrite for SshStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut().stdin.as_mut() {
            Some(w) => Pin::new(w).poll_write(cx, buf),
            None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().stdin.as_mut() {
            Some(w) => Pin::new(w).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(w) = this.stdin.as_mut() {
            std::task::ready!(Pin::new(w).poll_shutdown(cx))?;
        }
        // Closing ssh's stdin is the half-close: dial-stdio closes the write side to the daemon.
        this.stdin = None;
        Poll::Ready(Ok(()))
    }
}

/// Opens connections to one configured endpoint; the request URI's authority is not used for routing.
#[derive(Clone)]
pub struct Connector {
    inner: Arc<ConnectorInner>,
}

struct ConnectorInner {
    endpoint: Endpoint,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    connect_timeout: Duration,
    ssh_options: Vec<String>,
    open: Arc<AtomicUsize>,
}

impl Connector {
    /// A connector for the endpoint and TLS settings of a configuration.
    pub fn new(config: &EngineConfig) -> Result<Self> {
        let tls = match (&config.tls, &config.endpoint) {
            (Some(t), Endpoint::Tcp { host, .. }) => {
                let name = ServerName::try_from(host.clone())
                    .map_err(|e| Error::Config(format!("TLS server name {host:?}: {e}")))?;
                Some((TlsConnector::from(tls::client_config(t)?), name))
            }
            _ => None,
        };
        Ok(Connector {
            inner: Arc::new(ConnectorInner {
                endpoint: config.endpoint.clone(),
                tls,
                connect_timeout: config.connect_timeout,
                ssh_options: config.ssh_options.clone(),
                open: Arc::new(AtomicUsize::new(0)),
            }),
        })
    }

    /// How many connections this connector opened are still open (pooled, in use, or hijacked).
    pub fn open_connections(&self) -> usize {
        self.inner.open.load(Ordering::Relaxed)
    }

    /// Opens one new connection.
    pub async fn connect(&self) -> Result<Conn> {
        let inner = &self.inner;
        let what = || format!("connecting to {}", inner.endpoint);
        let fut = async {
            Ok::<_, Error>(match &inner.endpoint {
                Endpoint::Unix(path) => ConnIo::Unix(
                    UnixStream::connect(path)
                        .await
                        .map_err(|e| Error::transport(what(), e))?,
                ),
                Endpoint::Tcp { host, port } => {
                    let tcp = TcpStream::connect((host.as_str(), *port))
                        .await
                        .map_err(|e| Error::transport(what(), e))?;
                    tcp.set_nodelay(true).map_err(|e| Error::transport(what(), e))?;
                    match &inner.tls {
                        Some((connector, name)) => {
                            ConnIo::Tls(Box::new(connector.connect(name.clone(), tcp).await.map_err(
                                |e| Error::transport(format!("TLS handshake with {}", inner.endpoint), e),
                            )?))
                        }
                        None => ConnIo::Tcp(tcp),
                    }
                }
                Endpoint::Ssh { user, host, port } => ConnIo::Ssh(Box::new(SshStream::spawn(
                    user.as_deref(),
                    host,
                    *port,
                    &inner.ssh_options,
                    inner.connect_timeout,
                )?)),
            })
        };
        let io = tokio::time::timeout(inner.connect_timeout, fut)
            .await
            .map_err(|_| Error::Timeout {
                what: what(),
                after: inner.connect_timeout,
            })??;
        Ok(Conn {
            io,
            _open: OpenGuard::new(&inner.open),
        })
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<Conn>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.connect().await.map(TokioIo::new) })
    }
}
