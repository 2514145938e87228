//! The engine client: connection pooling, API version negotiation, timeouts, and one entry point per
//! transport shape (`json`, `json-stream`, `raw-stream`, `upload`, `multiplexed`, `hijack`).

use std::{
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyDataStream, BodyExt, Empty, Full, Limited};
use hyper::body::Incoming;
use hyper_util::{
    client::legacy::Client as HttpClient,
    rt::{TokioExecutor, TokioTimer},
};
use serde::de::DeserializeOwned;
use tokio::{
    io::{AsyncBufRead, AsyncRead, ReadBuf},
    sync::OnceCell,
};

use super::{
    config::{ApiVersion, Endpoint, EngineConfig, VersionPolicy, MAX_API_VERSION},
    decode::{FrameReader, JsonStream},
    error::{Error, Result},
    hijack::Hijacked,
    in_flight::InFlight,
    request::Request,
    transport::Connector,
    upload::{self, Upload},
};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The request body type: in memory, or streamed by an [`Upload`].
pub(crate) type ReqBody = BoxBody<Bytes, BoxError>;

/// The most of an error response's body that is read for its message.
const MAX_ERROR_BODY: usize = 1 << 20;

/// A client for one Docker engine. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// The run whose changing requests this client counts and carries to their answer (see
    /// [`InFlight`]); none for a client of its own.
    in_flight: Option<InFlight>,
    /// The name a run knows the engine by, for errors that come while a body is read.
    name: Option<Arc<str>>,
}

struct Inner {
    http: HttpClient<Connector, ReqBody>,
    connector: Connector,
    config: EngineConfig,
    authority: String,
    version: OnceCell<ApiVersion>,
}

/// What `/_ping` tells about the daemon.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ping {
    /// The newest API version the daemon speaks (`Api-Version`).
    pub api_version: Option<ApiVersion>,
    /// `linux` or `windows` (`OSType`).
    pub os_type: Option<String>,
    /// Whether experimental features are on (`Docker-Experimental`).
    pub experimental: bool,
    /// The default builder, `1` (classic) or `2` (BuildKit) (`Builder-Version`).
    pub builder_version: Option<String>,
    /// Swarm status, e.g. `inactive` or `active/manager` (`Swarm`, API ≥ 1.42).
    pub swarm: Option<String>,
}

/// A streamed response body: a raw-stream download, or the source of a decoder.
///
/// It hands out the body's chunks as hyper received them: [`BodyReader::poll_chunk`] without a copy,
/// `AsyncRead` with one copy into the caller's buffer.
pub struct BodyReader {
    stream: Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>,
    /// What is left of the last chunk.
    chunk: Bytes,
    /// The connection of a body read on a connection of its own (`direct.rs`), polled before the body.
    driver: Option<super::direct::Driver>,
    /// What an error while reading says it was reading (`engine b: GET /…/logs on unix:///…`).
    label: Option<Arc<str>>,
}

impl BodyReader {
    pub(crate) fn new(body: Incoming) -> Self {
        let stream = BodyDataStream::new(body).map_err(io::Error::other);
        BodyReader {
            stream: Box::pin(stream),
            chunk: Bytes::new(),
            driver: None,
            label: None,
        }
    }

    /// A body whose connection this reader drives.
    pub(crate) fn with_driver(body: Incoming, driver: super::direct::Driver) -> Self {
        BodyReader {
            driver: Some(driver),
            ..Self::new(body)
        }
    }

    /// The rest of the current chunk, else the next non-empty chunk of the body; `None` at its end.
    pub fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Bytes>>> {
        if !self.chunk.is_empty() {
            return Poll::Ready(Ok(Some(std::mem::take(&mut self.chunk))));
        }
        // Let the connection read and decode what the daemon sent (it wakes this task when it can go on).
        if let Some(driver) = &mut self.driver {
            if driver.as_mut().poll(cx).is_ready() {
                self.driver = None;
            }
        }
        loop {
            match self.stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(b))) if b.is_empty() => continue,
                Poll::Ready(Some(Ok(b))) => return Poll::Ready(Ok(Some(b))),
                Poll::Ready(Some(Err(e))) => {
                    return Poll::Ready(Err(match &self.label {
                        Some(label) => io::Error::new(e.kind(), format!("{label}: {e}")),
                        None => e,
                    }))
                }
                Poll::Ready(None) => return Poll::Ready(Ok(None)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// The next chunk of the body (see [`BodyReader::poll_chunk`]).
    pub async fn chunk(&mut self) -> io::Result<Option<Bytes>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }
}

impl AsyncRead for BodyReader {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let chunk = match this.poll_chunk(cx) {
            Poll::Ready(Ok(Some(c))) => c,
            Poll::Ready(Ok(None)) => return Poll::Ready(Ok(())),
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        let n = chunk.len().min(buf.remaining());
        buf.put_slice(&chunk[..n]);
        this.chunk = chunk.slice(n..);
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for BodyReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        match this.poll_chunk(cx) {
            Poll::Ready(Ok(Some(c))) => this.chunk = c,
            Poll::Ready(Ok(None)) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        Poll::Ready(Ok(&this.chunk[..]))
    }
    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        let _ = this.chunk.split_to(amt.min(this.chunk.len()));
    }
}

/// A `raw-stream` download: the response headers and the body as an `AsyncRead`.
pub struct Download {
    /// The response headers (e.g. `X-Docker-Container-Path-Stat` of an archive).
    pub headers: HeaderMap,
    /// The bytes.
    pub body: BodyReader,
}

impl Ping {
    fn from_headers(h: &HeaderMap) -> Self {
        let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ping {
            api_version: text("api-version").and_then(|v| v.parse().ok()),
            os_type: text("ostype"),
            experimental: text("docker-experimental").is_some_and(|v| v == "true"),
            builder_version: text("builder-version"),
            swarm: text("swarm"),
        }
    }
}

impl Client {
    /// A client for a configuration. Nothing is contacted until the first call.
    pub fn new(config: EngineConfig) -> Result<Self> {
        let connector = Connector::new(&config)?;
        let http = HttpClient::builder(TokioExecutor::new())
            .pool_idle_timeout(config.pool_idle_timeout)
            .pool_max_idle_per_host(config.pool_max_idle())
            .pool_timer(TokioTimer::new())
            .build(connector.clone());
        let authority = match &config.endpoint {
            Endpoint::Tcp { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            Endpoint::Tcp { host, port } => format!("{host}:{port}"),
            // The docker CLI's placeholder host for socket and ssh connections.
            _ => "api.moby.localhost".to_owned(),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                connector,
                config,
                authority,
                version: OnceCell::new(),
            }),
            in_flight: None,
            name: None,
        })
    }

    /// A client configured from the environment, like docker-py's `from_env` (see
    /// [`EngineConfig::from_lookup`]).
    pub fn from_env() -> Result<Self> {
        Self::new(EngineConfig::from_env()?)
    }

    /// A clone sharing this client's connections whose changing requests (all but `GET` and `HEAD`) are
    /// counted in `in_flight` and carried to their answer even if the caller goes (see [`InFlight`]).
    pub fn tracked(&self, in_flight: InFlight) -> Client {
        Client {
            inner: self.inner.clone(),
            in_flight: Some(in_flight),
            name: self.name.clone(),
        }
    }

    /// A clone sharing this client's connections that names the engine `name` in the errors of the
    /// bodies it reads (a stream that breaks when the daemon dies): a run may hold several engines.
    pub fn named(&self, name: &str) -> Client {
        Client {
            name: Some(name.into()),
            ..self.clone()
        }
    }

    /// The count this client's changing requests are kept in, if any.
    pub fn in_flight(&self) -> Option<&InFlight> {
        self.in_flight.as_ref()
    }

    /// How many connections to the daemon this client (and its clones) holds open right now: idle ones
    /// in the pool, ones in use, and hijacked ones. Streams that were dropped no longer count.
    pub fn open_connections(&self) -> usize {
        self.inner.connector.open_connections()
    }

    /// The connector behind this client's pool, for connections of their own (WebSockets).
    pub(crate) fn connector(&self) -> &Connector {
        &self.inner.connector
    }

    /// The `Host` of requests: `host:port` for tcp, the docker CLI's placeholder otherwise.
    pub(crate) fn authority(&self) -> &str {
        &self.inner.authority
    }

    /// The configuration this client was made with.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The API version requests use: pinned, or negotiated once with `/_ping` and capped at
    /// [`MAX_API_VERSION`].
    pub async fn api_version(&self) -> Result<ApiVersion> {
        match self.inner.config.version {
            VersionPolicy::Pinned(v) => Ok(v),
            VersionPolicy::Auto => self
                .inner
                .version
                .get_or_try_init(|| self.negotiate())
                .await
                .copied(),
        }
    }

    /// Asks the daemon which version it speaks. Uses [`Client::dispatch`] directly: the generic paths
    /// resolve the version themselves.
    async fn negotiate(&self) -> Result<ApiVersion> {
        let timeout = self.inner.config.timeout;
        let unversioned = |path: &'static str| async move {
            let fut = async {
                let resp = check_status(
                    self.dispatch(Request::get(path).unversioned(), in_memory(None), None)
                        .await?,
                )
                .await?;
                let (parts, body) = resp.into_parts();
                let body = body
                    .collect()
                    .await
                    .map_err(|e| Error::transport("reading a response body", e))?;
                Ok::<_, Error>((parts.headers, body.to_bytes()))
            };
            tokio::time::timeout(timeout, fut)
                .await
                .map_err(|_| Error::Timeout {
                    what: format!("GET {path} (API version negotiation)"),
                    after: timeout,
                })?
        };
        let (headers, _) = unversioned("/_ping").await?;
        if let Some(v) = Ping::from_headers(&headers).api_version {
            return Ok(v.min(MAX_API_VERSION));
        }
        // Daemons before 1.25 do not send Api-Version on /_ping; /version has it.
        let (_, body) = unversioned("/version").await?;
        let version: serde_json::Value = serde_json::from_slice(&body).map_err(|e| Error::Decode {
            context: "/version".into(),
            message: e.to_string(),
        })?;
        let v = version["ApiVersion"]
            .as_str()
            .ok_or_else(|| Error::Decode {
                context: "/version".into(),
                message: "no ApiVersion".into(),
            })?
            .parse::<ApiVersion>()?;
        Ok(v.min(MAX_API_VERSION))
    }

    /// `GET /_ping`: whether the daemon answers, and what its headers say.
    pub async fn ping(&self) -> Result<Ping> {
        let resp = self.call(Request::get("/_ping").unversioned()).await?;
        Ok(Ping::from_headers(resp.headers()))
    }

    /// Sends a request and returns the response head once it arrives (within the configured timeout),
    /// turning error statuses into [`Error`]s.
    async fn send(&self, req: Request, body: ReqBody) -> Result<Response<Incoming>> {
        let timeout = self.inner.config.timeout;
        let what = format!("{} {}", req.method, req.path);
        let sent = self.send_untimed(req, body);
        let resp = tokio::time::timeout(timeout, sent)
            .await
            .map_err(|_| Error::Timeout { what, after: timeout })??;
        check_status(resp).await
    }

    /// Sends a request without a timeout or a status check.
    pub(crate) async fn send_untimed(&self, req: Request, body: ReqBody) -> Result<Response<Incoming>> {
        let version = if req.versioned {
            Some(self.api_version().await?)
        } else {
            None
        };
        self.dispatch(req, body, version).await
    }

    /// Sends a request with the version prefix given (none: unversioned).
    async fn dispatch(
        &self,
        req: Request,
        body: ReqBody,
        version: Option<ApiVersion>,
    ) -> Result<Response<Incoming>> {
        let version = version.map(|v| v.to_string());
        let origin = format!("http://{}", self.inner.authority);
        let request = req
            .http_head(&origin, version.as_deref())?
            .body(body)
            .map_err(|e| Error::InvalidArgument(format!("request {} {}: {e}", req.method, req.path)))?;
        let what = || format!("{} {} on {}", req.method, req.path, self.inner.config.endpoint);
        let sent = self.inner.http.request(request);
        match &self.in_flight {
            Some(in_flight) if !matches!(req.method, http::Method::GET | http::Method::HEAD) => {
                // Counted, and driven to its answer in a task of its own: dropping this future leaves
                // the request going (see `in_flight.rs`).
                let ticket = in_flight.ticket();
                let task = tokio::spawn(async move {
                    let answer = sent.await;
                    drop(ticket);
                    answer
                });
                match task.await {
                    Ok(answer) => answer.map_err(|e| Error::transport(what(), e)),
                    Err(e) => Err(Error::transport(what(), e)),
                }
            }
            _ => sent.await.map_err(|e| Error::transport(what(), e)),
        }
    }

    /// The `json` shape: the whole call within the timeout; the response with its full body.
    pub async fn call(&self, req: Request) -> Result<Response<Bytes>> {
        let timeout = self.inner.config.timeout;
        let what = format!("{} {}", req.method, req.path);
        let body = in_memory(req.body.clone());
        let fut = async {
            let resp = check_status(self.send_untimed(req, body).await?).await?;
            let (parts, body) = resp.into_parts();
            let bytes = body
                .collect()
                .await
                .map_err(|e| Error::transport("reading a response body", e))?
                .to_bytes();
            Ok(Response::from_parts(parts, bytes))
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| Error::Timeout { what, after: timeout })?
    }

    /// The `json` shape, decoded.
    pub async fn json<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        let what = format!("{} {}", req.method, req.path);
        let body = self.call(req).await?.into_body();
        serde_json::from_slice(&body).map_err(|e| Error::Decode {
            context: what,
            message: e.to_string(),
        })
    }

    /// The `raw-stream` shape: a download read as it arrives, on a connection of its own that reading
    /// the body drives (see `direct.rs`): no hand-off between tasks per chunk.
    pub async fn download(&self, req: Request) -> Result<Download> {
        let timeout = self.inner.config.timeout;
        let what = format!("{} {}", req.method, req.path);
        let body = in_memory(req.body.clone());
        let (resp, driver) = tokio::time::timeout(timeout, super::direct::send(self, req, body))
            .await
            .map_err(|_| Error::Timeout {
                what: what.clone(),
                after: timeout,
            })??;
        let status = resp.status();
        if !(status.is_success() || status.is_informational()) {
            // The error body needs the connection driven while it is read.
            let driving = tokio::spawn(driver);
            let err = check_status(resp).await.err();
            driving.abort();
            return Err(err.unwrap_or_else(|| Error::from_status(status, b"")));
        }
        let (parts, body) = resp.into_parts();
        let mut body = BodyReader::with_driver(body, driver);
        let on = format!("{what} on {}", self.inner.config.endpoint);
        body.label = Some(match &self.name {
            Some(name) => format!("engine {name}: {on}").into(),
            None => on.into(),
        });
        Ok(Download {
            headers: parts.headers,
            body,
        })
    }

    /// The `json-stream` shape: progress, events or stats, one document at a time.
    pub async fn json_stream(&self, req: Request) -> Result<JsonStream<BodyReader>> {
        Ok(JsonStream::new(self.download(req).await?.body))
    }

    /// The `multiplexed` shape: a process's output as frames. `tty` says the output is raw; a response
    /// whose content type says `multiplexed-stream` or `raw-stream` (API ≥ 1.42) overrides it.
    pub async fn multiplexed(&self, req: Request, tty: bool) -> Result<FrameReader<BodyReader>> {
        let dl = self.download(req).await?;
        let tty = match dl.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
            Some("application/vnd.docker.multiplexed-stream") => false,
            Some("application/vnd.docker.raw-stream")
                if self.api_version().await? >= ApiVersion::new(1, 42) =>
            {
                true
            }
            _ => tty,
        };
        Ok(FrameReader::new(dl.body, tty))
    }

    /// The `upload` shape: starts a request whose body the caller streams (see [`Upload::into_parts`]) with
    /// backpressure; the answer comes from [`Upload::response`].
    pub async fn upload(&self, req: Request) -> Result<Upload> {
        // Resolve the version first so its errors surface here rather than as a broken body.
        self.api_version().await?;
        Ok(upload::start(self.clone(), req))
    }

    /// The `hijack` shape: upgrades the connection (`Connection: Upgrade`, `Upgrade: tcp` unless the
    /// request names another protocol) and returns the raw bidirectional stream.
    pub async fn hijack(&self, req: Request) -> Result<Hijacked> {
        // `Upgrade: tcp` unless the caller asked for another protocol (the session endpoint wants h2c).
        let mut req = req.header(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        if !req.headers.contains_key(header::UPGRADE) {
            req = req.header(header::UPGRADE, HeaderValue::from_static("tcp"));
        }
        let what = format!("{} {}", req.method, req.path);
        let body = in_memory(req.body.clone());
        let resp = self.send(req, body).await?;
        if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
            return Err(Error::Decode {
                context: what,
                message: format!(
                    "expected 101 Switching Protocols to hijack the connection, got {}",
                    resp.status()
                ),
            });
        }
        let upgraded = hyper::upgrade::on(resp)
            .await
            .map_err(|e| Error::transport(format!("upgrading {what}"), e))?;
        Ok(Hijacked::new(upgraded))
    }
}

/// A body held in memory (or none).
pub(crate) fn in_memory(body: Option<Bytes>) -> ReqBody {
    match body {
        Some(b) => Full::new(b).map_err(|never| match never {}).boxed(),
        None => Empty::new().map_err(|never| match never {}).boxed(),
    }
}

/// Passes 1xx/2xx responses; reads the (capped) body of an error response into an [`Error`].
pub(crate) async fn check_status(resp: Response<Incoming>) -> Result<Response<Incoming>> {
    let status = resp.status();
    if status.is_success() || status.is_informational() {
        return Ok(resp);
    }
    let body = Limited::new(resp.into_body(), MAX_ERROR_BODY)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    Err(Error::from_status(status, &body))
}
