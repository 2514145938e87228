//! The registry HTTP client: connections (https with rustls; plain http for loopback and `insecure`
//! hosts), authentication (Basic and Bearer tokens, cached per registry and scope), transfer counters.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use base64::Engine as _;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};

use super::{
    auth::{normalize_registry_key, parse_challenge, Challenge, Credentials, Secret},
    error::{describe_error_body, RegistryError, Result},
};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The body type of every request.
pub(crate) type Body = UnsyncBoxBody<Bytes, BoxError>;

/// How a [`Registry`] connects and authenticates.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Credentials, by registry host.
    pub credentials: Credentials,
    /// Hosts (`host:port` or `host`) to reach over plain http, besides loopback ones (127.0.0.0/8,
    /// `localhost`, `::1`), which always are, as dockerd treats them.
    pub insecure: Vec<String>,
}

/// Cumulative transfer counters of a [`Registry`] (and all its clones).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TransferStats {
    /// Blob bytes received from registries (layers and configs).
    pub blob_bytes_downloaded: u64,
    /// Of those, the bytes of image configs.
    pub config_bytes_downloaded: u64,
    /// Blob bytes sent to registries.
    pub blob_bytes_uploaded: u64,
    /// Blobs mounted from another repository of the same registry (no bytes sent).
    pub blobs_mounted: u64,
    /// Blobs a push found already present at the destination.
    pub blobs_skipped: u64,
    /// Blobs uploaded.
    pub blobs_uploaded: u64,
    /// Manifest and index bytes received.
    pub manifest_bytes_downloaded: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub blob_bytes_downloaded: AtomicU64,
    pub config_bytes_downloaded: AtomicU64,
    pub blob_bytes_uploaded: AtomicU64,
    pub blobs_mounted: AtomicU64,
    pub blobs_skipped: AtomicU64,
    pub blobs_uploaded: AtomicU64,
    pub manifest_bytes_downloaded: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// A client for Docker Registry HTTP API v2 / OCI distribution registries.
///
/// Cheap to clone (an `Arc` inside); clones share connections, tokens and counters.
#[derive(Clone)]
pub struct Registry {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("credentials", &self.inner.credentials)
            .field("insecure", &self.inner.insecure)
            .field("stats", &self.stats())
            .finish()
    }
}

pub(crate) struct Inner {
    http: Client<HttpsConnector<HttpConnector>, Body>,
    credentials: Credentials,
    insecure: Vec<String>,
    pub(crate) counters: Counters,
    /// What each host asked for the last time it answered 401.
    schemes: Mutex<HashMap<String, Challenge>>,
    /// Bearer tokens by (host, sorted scopes).
    tokens: Mutex<HashMap<(String, String), (String, Instant)>>,
}

/// A request body: replayable ones can be sent again after a 401.
pub(crate) enum ReqBody {
    Empty,
    Full(Bytes),
    /// A streamed body of a known length, sent once; the slot receives the error that ended the
    /// stream early (a digest mismatch), which then wins over the transport error it causes.
    Stream {
        body: Body,
        len: u64,
        failure: Arc<Mutex<Option<RegistryError>>>,
    },
}

impl ReqBody {
    fn replayable(&self) -> bool {
        !matches!(self, ReqBody::Stream { .. })
    }
}

/// One request to a registry's API.
pub(crate) struct Call {
    /// The API host (`127.0.0.1:5000`, `registry-1.docker.io`).
    pub host: String,
    pub method: Method,
    /// `/v2/…` (with query), or an absolute URL (an upload `Location`).
    pub target: String,
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
    pub body: ReqBody,
    /// Token scopes (`repository:a/b:pull`).
    pub scopes: Vec<String>,
    /// For messages: `GET manifest a/b:latest`.
    pub what: String,
}

impl Call {
    pub(crate) fn new(host: &str, method: Method, target: String, what: String) -> Call {
        Call {
            host: host.to_owned(),
            method,
            target,
            headers: Vec::new(),
            body: ReqBody::Empty,
            scopes: Vec::new(),
            what,
        }
    }

    pub(crate) fn scope(mut self, scope: String) -> Call {
        if !self.scopes.contains(&scope) {
            self.scopes.push(scope);
        }
        self
    }

    pub(crate) fn header(mut self, name: header::HeaderName, value: &str) -> Call {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    pub(crate) fn body(mut self, body: ReqBody) -> Call {
        self.body = body;
        self
    }
}

pub(crate) fn empty_body() -> Body {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed_unsync()
}

pub(crate) fn full_body(b: Bytes) -> Body {
    Full::new(b).map_err(|never| match never {}).boxed_unsync()
}

impl Registry {
    /// A client with these credentials and insecure hosts.
    pub fn new(options: RegistryOptions) -> Registry {
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        let tls =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("ring supports the default TLS versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(30)));
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Registry {
            inner: Arc::new(Inner {
                http: client,
                credentials: options.credentials,
                insecure: options
                    .insecure
                    .iter()
                    .map(|h| normalize_registry_key(h))
                    .collect(),
                counters: Counters::default(),
                schemes: Mutex::default(),
                tokens: Mutex::default(),
            }),
        }
    }

    /// The counters so far (all clones of this client together).
    pub fn stats(&self) -> TransferStats {
        let c = &self.inner.counters;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        TransferStats {
            blob_bytes_downloaded: g(&c.blob_bytes_downloaded),
            config_bytes_downloaded: g(&c.config_bytes_downloaded),
            blob_bytes_uploaded: g(&c.blob_bytes_uploaded),
            blobs_mounted: g(&c.blobs_mounted),
            blobs_skipped: g(&c.blobs_skipped),
            blobs_uploaded: g(&c.blobs_uploaded),
            manifest_bytes_downloaded: g(&c.manifest_bytes_downloaded),
        }
    }

    /// `http` for loopback and insecure hosts, else `https`.
    pub(crate) fn scheme(&self, host: &str) -> &'static str {
        if is_loopback(host)
            || self
                .inner
                .insecure
                .iter()
                .any(|h| h == host || h == strip_port(host))
        {
            "http"
        } else {
            "https"
        }
    }

    /// The absolute URL of a call's target.
    pub(crate) fn url(&self, host: &str, target: &str) -> String {
        if target.starts_with("http://") || target.starts_with("https://") {
            target.to_owned()
        } else {
            format!("{}://{host}{target}", self.scheme(host))
        }
    }

    /// Sends a call, authenticating as the registry asks (once more after a 401 for replayable bodies).
    /// Any status comes back; callers check it.
    pub(crate) async fn send(&self, mut call: Call) -> Result<Response<Incoming>> {
        let url = self.url(&call.host, &call.target);
        let uri: Uri = url.parse().map_err(|e| RegistryError::Transport {
            registry: call.host.clone(),
            what: call.what.clone(),
            cause: format!("bad URL {url}: {e}"),
        })?;
        // Auth goes only to the registry itself, never to another host a Location points at.
        let same_host = uri.authority().map(|a| a.as_str()) == Some(call.host.as_str());
        let mut fresh_token = false;
        for attempt in 0..2 {
            let auth = if same_host {
                self.authorization(&call.host, &call.scopes, fresh_token, &call.what)
                    .await?
            } else {
                None
            };
            let body = match &mut call.body {
                ReqBody::Empty => empty_body(),
                ReqBody::Full(b) => full_body(b.clone()),
                ReqBody::Stream { body, .. } => std::mem::replace(body, empty_body()),
            };
            let mut req = Request::builder().method(call.method.clone()).uri(uri.clone());
            for (k, v) in &call.headers {
                req = req.header(k, v);
            }
            match &call.body {
                ReqBody::Full(b) => req = req.header(header::CONTENT_LENGTH, b.len()),
                ReqBody::Stream { len, .. } => req = req.header(header::CONTENT_LENGTH, *len),
                ReqBody::Empty if call.method == Method::PUT || call.method == Method::POST => {
                    req = req.header(header::CONTENT_LENGTH, 0)
                }
                ReqBody::Empty => {}
            }
            req = req.header(header::USER_AGENT, concat!("tug/", env!("CARGO_PKG_VERSION")));
            if let Some(a) = &auth {
                req = req.header(header::AUTHORIZATION, a);
            }
            let req = req.body(body).map_err(|e| RegistryError::Transport {
                registry: call.host.clone(),
                what: call.what.clone(),
                cause: e.to_string(),
            })?;
            let response = match self.inner.http.request(req).await {
                Ok(r) => r,
                Err(e) => {
                    if let ReqBody::Stream { failure, .. } = &call.body {
                        if let Some(err) = failure.lock().expect("failure slot").take() {
                            return Err(err);
                        }
                    }
                    return Err(RegistryError::Transport {
                        registry: call.host.clone(),
                        what: call.what.clone(),
                        cause: error_chain(&e),
                    });
                }
            };
            if response.status() != StatusCode::UNAUTHORIZED || !same_host {
                return Ok(response);
            }
            let challenge = response
                .headers()
                .get_all(header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(parse_challenge);
            let retry = attempt == 0 && call.body.replayable() && challenge.is_some();
            if let Some(ch) = challenge {
                if let Challenge::Bearer { scope: Some(s), .. } = &ch {
                    for s in s.split(' ').filter(|s| !s.is_empty()) {
                        if !call.scopes.iter().any(|c| c == s) {
                            call.scopes.push(s.to_owned());
                        }
                    }
                }
                self.inner
                    .schemes
                    .lock()
                    .expect("schemes")
                    .insert(call.host.clone(), ch);
            }
            if !retry {
                return Err(self.error_from(response, &call.host, &call.what).await);
            }
            fresh_token = true;
        }
        unreachable!("the loop returns")
    }

    /// The `X-Registry-Auth` document for `registry` from this client's credentials (see
    /// [`Credentials::engine_auth`]): what an engine pull or push of the plugin's is sent with when the
    /// plugin gives none.
    pub async fn engine_auth(&self, registry: &str) -> Option<serde_json::Value> {
        self.inner.credentials.engine_auth(registry).await
    }

    /// The `Authorization` value for a host, per what it asked for before (None: anonymous so far).
    async fn authorization(
        &self,
        host: &str,
        scopes: &[String],
        fresh: bool,
        what: &str,
    ) -> Result<Option<String>> {
        let challenge = self.inner.schemes.lock().expect("schemes").get(host).cloned();
        let Some(challenge) = challenge else {
            return Ok(None);
        };
        let secret = self.inner.credentials.lookup(host).await?;
        match challenge {
            Challenge::Basic => match secret {
                Some(Secret::Basic { username, password }) => Ok(Some(basic_header(&username, &password))),
                _ => Err(RegistryError::Unauthorized {
                    registry: host.to_owned(),
                    what: what.to_owned(),
                    status: StatusCode::UNAUTHORIZED,
                    had_credentials: false,
                    detail: "the registry asks for Basic authentication".into(),
                }),
            },
            Challenge::Bearer { realm, service, .. } => {
                let mut sorted: Vec<&str> = scopes.iter().map(String::as_str).collect();
                sorted.sort_unstable();
                sorted.dedup();
                let key = (host.to_owned(), sorted.join(" "));
                if !fresh {
                    if let Some((token, until)) = self.inner.tokens.lock().expect("tokens").get(&key) {
                        if *until > Instant::now() {
                            return Ok(Some(format!("Bearer {token}")));
                        }
                    }
                }
                let (token, lifetime) = self
                    .fetch_token(host, &realm, service.as_deref(), &sorted, secret.as_ref(), what)
                    .await?;
                let until = Instant::now() + lifetime;
                self.inner
                    .tokens
                    .lock()
                    .expect("tokens")
                    .insert(key, (token.clone(), until));
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    /// Asks a token service for a token (docker's token protocol; OAuth2 refresh for identity tokens).
    async fn fetch_token(
        &self,
        host: &str,
        realm: &str,
        service: Option<&str>,
        scopes: &[&str],
        secret: Option<&Secret>,
        what: &str,
    ) -> Result<(String, Duration)> {
        let mut builder =
            Request::builder().header(header::USER_AGENT, concat!("tug/", env!("CARGO_PKG_VERSION")));
        let body = match secret {
            Some(Secret::IdentityToken(refresh)) => {
                let mut form = form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", refresh)
                    .append_pair("client_id", "tug");
                if let Some(s) = service {
                    form.append_pair("service", s);
                }
                if !scopes.is_empty() {
                    form.append_pair("scope", &scopes.join(" "));
                }
                builder = builder
                    .method(Method::POST)
                    .uri(realm)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Bytes::from(form.finish())
            }
            other => {
                let mut query = form_urlencoded::Serializer::new(String::new());
                if let Some(s) = service {
                    query.append_pair("service", s);
                }
                for s in scopes {
                    query.append_pair("scope", s);
                }
                if let Some(Secret::Basic { username, password }) = other {
                    query.append_pair("account", username);
                    builder = builder.header(header::AUTHORIZATION, basic_header(username, password));
                }
                let q = query.finish();
                let sep = if realm.contains('?') { '&' } else { '?' };
                let uri = if q.is_empty() {
                    realm.to_owned()
                } else {
                    format!("{realm}{sep}{q}")
                };
                builder = builder.method(Method::GET).uri(uri);
                Bytes::new()
            }
        };
        let what_token = format!("{what}: token from {realm}");
        let transport = |cause: String| RegistryError::Transport {
            registry: host.to_owned(),
            what: what_token.clone(),
            cause,
        };
        let req = builder
            .body(full_body(body))
            .map_err(|e| transport(e.to_string()))?;
        let response = tokio::time::timeout(Duration::from_secs(60), self.inner.http.request(req))
            .await
            .map_err(|_| transport("no answer within 60 s".into()))?
            .map_err(|e| transport(error_chain(&e)))?;
        let status = response.status();
        let body = read_limited(response.into_body(), 1 << 20)
            .await
            .map_err(|e| transport(e.to_string()))?;
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(RegistryError::Unauthorized {
                registry: host.to_owned(),
                what: what_token,
                status,
                had_credentials: secret.is_some(),
                detail: describe_error_body(&body),
            });
        }
        if !status.is_success() {
            return Err(RegistryError::Api {
                registry: host.to_owned(),
                what: what_token,
                status,
                detail: describe_error_body(&body),
            });
        }
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            transport(format!(
                "the token service answered something that is not JSON: {e}"
            ))
        })?;
        let token = v
            .get("token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .or_else(|| v.get("access_token").and_then(|t| t.as_str()))
            .ok_or_else(|| transport("the token service's answer has no token".into()))?;
        let expires = v.get("expires_in").and_then(|e| e.as_u64()).unwrap_or(60).max(60);
        Ok((token.to_owned(), Duration::from_secs(expires - 30)))
    }

    /// Turns an error answer into the error naming the registry, the status and the registry's errors.
    pub(crate) async fn error_from(
        &self,
        response: Response<Incoming>,
        host: &str,
        what: &str,
    ) -> RegistryError {
        let status = response.status();
        let body = read_limited(response.into_body(), 64 << 10)
            .await
            .unwrap_or_default();
        let detail = describe_error_body(&body);
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let had_credentials = self.inner.credentials.lookup(host).await.ok().flatten().is_some();
            RegistryError::Unauthorized {
                registry: host.to_owned(),
                what: what.to_owned(),
                status,
                had_credentials,
                detail,
            }
        } else {
            RegistryError::Api {
                registry: host.to_owned(),
                what: what.to_owned(),
                status,
                detail,
            }
        }
    }
}

/// Reads a whole (small) body, refusing more than `limit` bytes.
pub(crate) async fn read_limited(mut body: Incoming, limit: usize) -> std::result::Result<Bytes, String> {
    let mut out = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| error_chain(&e))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(format!("the body is larger than {limit} bytes"));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out.freeze())
}

fn basic_header(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
    )
}

/// An error and its sources, `: `-joined.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// 127.0.0.0/8, `localhost` and `::1`, with or without a port.
pub(crate) fn is_loopback(host: &str) -> bool {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    let h = strip_port(host);
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match h.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        let r = Registry::new(RegistryOptions {
            insecure: vec!["registry.lan:5000".into(), "http://other.lan".into()],
            ..Default::default()
        });
        assert_eq!(r.scheme("127.0.0.1:5000"), "http");
        assert_eq!(r.scheme("127.1.2.3"), "http");
        assert_eq!(r.scheme("localhost:5000"), "http");
        assert_eq!(r.scheme("[::1]:5000"), "http");
        assert_eq!(r.scheme("::1"), "http");
        assert_eq!(r.scheme("registry.lan:5000"), "http");
        assert_eq!(r.scheme("other.lan:443"), "http");
        assert_eq!(r.scheme("registry.lan:5001"), "https");
        assert_eq!(r.scheme("ghcr.io"), "https");
        assert_eq!(r.url("ghcr.io", "/v2/"), "https://ghcr.io/v2/");
        assert_eq!(r.url("ghcr.io", "http://x/y"), "http://x/y");
    }
}
