//! Registry operations on manifests and blobs, with every byte verified against its digest and size.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use bytes::Bytes;
use http::{header, Method, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncReadExt;

use super::{
    client::{error_chain, read_limited, Body, BoxError, Call, Counters, Inner, ReqBody},
    error::{RegistryError, Result},
    manifest::MANIFEST_ACCEPT,
    Registry,
};

/// The largest manifest or index tug accepts (containerd's limit).
const MANIFEST_LIMIT: usize = 4 << 20;

/// `sha256:<hex>` of some bytes.
pub(crate) fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// A repository on a registry's API host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Repo {
    /// The API host (`registry-1.docker.io` for Docker Hub).
    pub host: String,
    /// The repository (`library/busybox`).
    pub name: String,
}

impl Repo {
    pub(crate) fn of(reference: &super::Reference) -> Repo {
        Repo {
            host: reference.api_host().to_owned(),
            name: reference.repository().to_owned(),
        }
    }

    fn pull_scope(&self) -> String {
        format!("repository:{}:pull", self.name)
    }

    fn push_scope(&self) -> String {
        format!("repository:{}:pull,push", self.name)
    }

    fn describe(&self) -> String {
        format!("{}/{}", self.host, self.name)
    }
}

/// Hashes and counts bytes, and checks them against a descriptor.
pub(crate) struct Verifier {
    what: String,
    digest: String,
    size: Option<u64>,
    hasher: Sha256,
    count: u64,
}

impl Verifier {
    pub(crate) fn new(what: String, digest: &str, size: Option<u64>) -> Verifier {
        Verifier {
            what,
            digest: digest.to_owned(),
            size,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// Takes more bytes; more than the expected size is an error at once.
    pub(crate) fn update(&mut self, data: &[u8]) -> Result<()> {
        self.count += data.len() as u64;
        if let Some(size) = self.size {
            if self.count > size {
                return Err(RegistryError::SizeMismatch {
                    what: self.what.clone(),
                    expected: size,
                    actual: self.count,
                });
            }
        }
        self.hasher.update(data);
        Ok(())
    }

    /// At the end: the size, then the digest.
    pub(crate) fn finish(&mut self) -> Result<()> {
        if let Some(size) = self.size {
            if self.count != size {
                return Err(RegistryError::SizeMismatch {
                    what: self.what.clone(),
                    expected: size,
                    actual: self.count,
                });
            }
        }
        let actual = format!(
            "sha256:{}",
            hex::encode(std::mem::take(&mut self.hasher).finalize())
        );
        if actual != self.digest {
            return Err(RegistryError::DigestMismatch {
                what: self.what.clone(),
                expected: self.digest.clone(),
                actual,
            });
        }
        Ok(())
    }
}

/// Which counter a download adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlobKind {
    Layer,
    Config,
}

/// A blob's bytes as they arrive, verified: the last call to [`BlobReader::chunk`] checks size and
/// digest, so a reader that returned `Ok(None)` delivered exactly the blob.
pub(crate) struct BlobReader {
    body: Incoming,
    verifier: Verifier,
    inner: Arc<Inner>,
    kind: BlobKind,
    host: String,
    done: bool,
}

impl BlobReader {
    /// The next bytes; `Ok(None)` once the whole blob arrived and matched its digest and size.
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>> {
        if self.done {
            return Ok(None);
        }
        loop {
            match self.body.frame().await {
                None => {
                    self.done = true;
                    self.verifier.finish()?;
                    return Ok(None);
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Err(RegistryError::Transport {
                        registry: self.host.clone(),
                        what: format!("receiving {}", self.verifier.what),
                        cause: error_chain(&e),
                    });
                }
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else { continue };
                    if data.is_empty() {
                        continue;
                    }
                    let c = &self.inner.counters;
                    Counters::add(&c.blob_bytes_downloaded, data.len() as u64);
                    if self.kind == BlobKind::Config {
                        Counters::add(&c.config_bytes_downloaded, data.len() as u64);
                    }
                    if let Err(e) = self.verifier.update(&data) {
                        self.done = true;
                        return Err(e);
                    }
                    return Ok(Some(data));
                }
            }
        }
    }

    /// The whole blob in memory (for configs).
    pub(crate) async fn collect(mut self, limit: u64) -> Result<Bytes> {
        let mut out = bytes::BytesMut::new();
        while let Some(b) = self.chunk().await? {
            if out.len() as u64 + b.len() as u64 > limit {
                return Err(RegistryError::Unsupported(format!(
                    "{} is larger than {limit} bytes",
                    self.verifier.what
                )));
            }
            out.extend_from_slice(&b);
        }
        Ok(out.freeze())
    }
}

/// A local file read in chunks and verified like a download.
pub(crate) struct FileReader {
    file: tokio::fs::File,
    verifier: Verifier,
    done: bool,
}

impl FileReader {
    pub(crate) async fn open(path: &PathBuf, what: String, digest: &str, size: u64) -> Result<FileReader> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| RegistryError::io(format!("opening {what} at {}", path.display()), e))?;
        Ok(FileReader {
            file,
            verifier: Verifier::new(what, digest, Some(size)),
            done: false,
        })
    }

    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>> {
        if self.done {
            return Ok(None);
        }
        let mut buf = vec![0u8; 256 << 10];
        let n = self
            .file
            .read(&mut buf)
            .await
            .map_err(|e| RegistryError::io(format!("reading {}", self.verifier.what), e))?;
        if n == 0 {
            self.done = true;
            self.verifier.finish()?;
            return Ok(None);
        }
        buf.truncate(n);
        if let Err(e) = self.verifier.update(&buf) {
            self.done = true;
            return Err(e);
        }
        Ok(Some(Bytes::from(buf)))
    }
}

/// Where the bytes of an upload come from.
pub(crate) enum Source {
    Remote(BlobReader),
    File(FileReader),
}

impl Source {
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>> {
        match self {
            Source::Remote(r) => r.chunk().await,
            Source::File(f) => f.chunk().await,
        }
    }
}

/// What a mount request did.
pub(crate) enum Mount {
    /// 201: the blob is now in the destination repository.
    Mounted,
    /// 202: the registry started an ordinary upload instead (at this location).
    Started(String),
}

/// A fetched manifest: its exact bytes, media type and digest.
#[derive(Debug, Clone)]
pub(crate) struct FetchedManifest {
    pub bytes: Bytes,
    pub media_type: String,
    pub digest: String,
}

impl Registry {
    /// The raw manifest or index a reference names: its exact bytes, media type and digest (verified
    /// when the reference pins one).
    pub async fn fetch_manifest(&self, reference: &super::Reference) -> Result<(Bytes, String, String)> {
        let m = self
            .get_manifest(&Repo::of(reference), reference.manifest_reference())
            .await?;
        Ok((m.bytes, m.media_type, m.digest))
    }

    /// PUTs raw manifest or index bytes under a reference's tag (or digest), with their media type;
    /// returns the digest. The blobs and manifests it names must be there already.
    pub async fn push_manifest(
        &self,
        dest: &super::Reference,
        bytes: Bytes,
        media_type: &str,
    ) -> Result<String> {
        self.put_manifest(&Repo::of(dest), dest.manifest_reference(), bytes, media_type)
            .await
    }

    /// GET a manifest (or index) by tag or digest, verifying the digest when pinned.
    pub(crate) async fn get_manifest(&self, repo: &Repo, reference: &str) -> Result<FetchedManifest> {
        let what = format!("GET manifest {}:{reference}", repo.name);
        let call = Call::new(
            &repo.host,
            Method::GET,
            format!("/v2/{}/manifests/{reference}", repo.name),
            what.clone(),
        )
        .scope(repo.pull_scope())
        .header(header::ACCEPT, MANIFEST_ACCEPT);
        let response = self.send(call).await?;
        if response.status() != StatusCode::OK {
            return Err(self.error_from(response, &repo.host, &what).await);
        }
        let media_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_owned())
            .unwrap_or_default();
        let header_digest = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = read_limited(response.into_body(), MANIFEST_LIMIT)
            .await
            .map_err(|cause| RegistryError::Transport {
                registry: repo.host.clone(),
                what: what.clone(),
                cause,
            })?;
        Counters::add(&self.inner.counters.manifest_bytes_downloaded, bytes.len() as u64);
        let digest = sha256_digest(&bytes);
        let expected = if reference.starts_with("sha256:") {
            Some(reference.to_owned())
        } else {
            header_digest.filter(|d| d.starts_with("sha256:"))
        };
        if let Some(expected) = expected {
            if expected != digest {
                return Err(RegistryError::DigestMismatch {
                    what: format!("manifest {}:{reference}", repo.describe()),
                    expected,
                    actual: digest,
                });
            }
        }
        Ok(FetchedManifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// PUT a manifest under a tag or digest; returns the digest the registry computed (checked against
    /// the bytes' own).
    pub(crate) async fn put_manifest(
        &self,
        repo: &Repo,
        reference: &str,
        bytes: Bytes,
        media_type: &str,
    ) -> Result<String> {
        let what = format!("PUT manifest {}:{reference}", repo.name);
        let digest = sha256_digest(&bytes);
        let call = Call::new(
            &repo.host,
            Method::PUT,
            format!("/v2/{}/manifests/{reference}", repo.name),
            what.clone(),
        )
        .scope(repo.push_scope())
        .header(header::CONTENT_TYPE, media_type)
        .body(ReqBody::Full(bytes));
        let response = self.send(call).await?;
        if response.status() != StatusCode::CREATED && response.status() != StatusCode::OK {
            return Err(self.error_from(response, &repo.host, &what).await);
        }
        if let Some(d) = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
        {
            if d.starts_with("sha256:") && d != digest {
                return Err(RegistryError::DigestMismatch {
                    what: format!("manifest pushed to {}:{reference}", repo.describe()),
                    expected: digest,
                    actual: d.to_owned(),
                });
            }
        }
        Ok(digest)
    }

    /// HEAD a blob: whether the repository has it (with push scope when `push`, so one token serves a
    /// whole push).
    pub(crate) async fn blob_exists(&self, repo: &Repo, digest: &str, push: bool) -> Result<bool> {
        let what = format!("HEAD blob {digest} in {}", repo.name);
        let scope = if push {
            repo.push_scope()
        } else {
            repo.pull_scope()
        };
        let call = Call::new(
            &repo.host,
            Method::HEAD,
            format!("/v2/{}/blobs/{digest}", repo.name),
            what.clone(),
        )
        .scope(scope);
        let response = self.send(call).await?;
        match response.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.error_from(response, &repo.host, &what).await),
        }
    }

    /// GET a blob, following redirects (to storage, without the registry's credentials); the reader
    /// verifies digest and size as bytes arrive.
    pub(crate) async fn get_blob(
        &self,
        repo: &Repo,
        digest: &str,
        size: Option<u64>,
        kind: BlobKind,
    ) -> Result<BlobReader> {
        let what = format!("blob {digest} of {}", repo.describe());
        let mut target = format!("/v2/{}/blobs/{digest}", repo.name);
        let mut base = self.url(&repo.host, "/");
        for _ in 0..10 {
            let call = Call::new(&repo.host, Method::GET, target.clone(), format!("GET {what}"))
                .scope(repo.pull_scope());
            let response = self.send(call).await?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| RegistryError::Api {
                        registry: repo.host.clone(),
                        what: format!("GET {what}"),
                        status,
                        detail: "a redirect without Location".into(),
                    })?;
                target = resolve(&base, location);
                base = target.clone();
                continue;
            }
            if status != StatusCode::OK {
                return Err(self
                    .error_from(response, &repo.host, &format!("GET {what}"))
                    .await);
            }
            return Ok(BlobReader {
                body: response.into_body(),
                verifier: Verifier::new(what, digest, size),
                inner: self.inner.clone(),
                kind,
                host: repo.host.clone(),
                done: false,
            });
        }
        Err(RegistryError::Api {
            registry: repo.host.clone(),
            what: format!("GET {what}"),
            status: StatusCode::LOOP_DETECTED,
            detail: "more than 10 redirects".into(),
        })
    }

    /// POST a cross-repository mount of `digest` from `from` (same registry) into `dest`.
    pub(crate) async fn mount_blob(&self, dest: &Repo, digest: &str, from: &Repo) -> Result<Mount> {
        let what = format!("mount blob {digest} from {} into {}", from.name, dest.name);
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("mount", digest)
            .append_pair("from", &from.name)
            .finish();
        let call = Call::new(
            &dest.host,
            Method::POST,
            format!("/v2/{}/blobs/uploads/?{query}", dest.name),
            what.clone(),
        )
        .scope(dest.push_scope())
        .scope(from.pull_scope());
        let response = self.send(call).await?;
        match response.status() {
            StatusCode::CREATED => {
                Counters::add(&self.inner.counters.blobs_mounted, 1);
                Ok(Mount::Mounted)
            }
            StatusCode::ACCEPTED => Ok(Mount::Started(self.location(&response, dest, &what)?)),
            _ => Err(self.error_from(response, &dest.host, &what).await),
        }
    }

    /// POST to start an upload; returns its location.
    pub(crate) async fn start_upload(&self, dest: &Repo) -> Result<String> {
        let what = format!("start an upload to {}", dest.name);
        let call = Call::new(
            &dest.host,
            Method::POST,
            format!("/v2/{}/blobs/uploads/", dest.name),
            what.clone(),
        )
        .scope(dest.push_scope());
        let response = self.send(call).await?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(self.error_from(response, &dest.host, &what).await);
        }
        self.location(&response, dest, &what)
    }

    fn location(&self, response: &http::Response<Incoming>, dest: &Repo, what: &str) -> Result<String> {
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| RegistryError::Api {
                registry: dest.host.clone(),
                what: what.to_owned(),
                status: response.status(),
                detail: "no Location for the upload".into(),
            })?;
        Ok(resolve(&self.url(&dest.host, "/"), location))
    }

    /// PUT a blob's bytes into an upload started at `location` (one request; the source is verified as
    /// it streams, and a mismatch aborts the request so the registry never commits it).
    pub(crate) async fn finish_upload(
        &self,
        dest: &Repo,
        location: &str,
        digest: &str,
        size: u64,
        source: Source,
    ) -> Result<()> {
        let failure: Arc<Mutex<Option<RegistryError>>> = Arc::default();
        let body = ReqBody::Stream {
            body: stream_body(source, failure.clone()),
            len: size,
            failure: failure.clone(),
        };
        self.put_blob(dest, location, digest, size, body, Some(failure))
            .await
    }

    /// The PUT that completes an upload, counted; `failure` is where a streamed body leaves the reason it
    /// broke off (a verification error), which wins over the broken request's own error.
    async fn put_blob(
        &self,
        dest: &Repo,
        location: &str,
        digest: &str,
        size: u64,
        body: ReqBody,
        failure: Option<Arc<Mutex<Option<RegistryError>>>>,
    ) -> Result<()> {
        let what = format!("upload blob {digest} to {}", dest.name);
        let call = Call::new(
            &dest.host,
            Method::PUT,
            finish_url(location, digest),
            what.clone(),
        )
        .scope(dest.push_scope())
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(body);
        let response = self.send(call).await;
        if let Some(err) = failure.and_then(|f| f.lock().expect("failure slot").take()) {
            return Err(err);
        }
        let response = response?;
        if response.status() != StatusCode::CREATED {
            return Err(self.error_from(response, &dest.host, &what).await);
        }
        Counters::add(&self.inner.counters.blobs_uploaded, 1);
        Counters::add(&self.inner.counters.blob_bytes_uploaded, size);
        Ok(())
    }

    /// Uploads bytes held in memory (a config).
    pub(crate) async fn upload_bytes(&self, dest: &Repo, digest: &str, bytes: Bytes) -> Result<()> {
        let location = self.start_upload(dest).await?;
        self.put_bytes(dest, &location, digest, bytes).await
    }

    /// PUT bytes held in memory into an upload started at `location`.
    pub(crate) async fn put_bytes(
        &self,
        dest: &Repo,
        location: &str,
        digest: &str,
        bytes: Bytes,
    ) -> Result<()> {
        let actual = sha256_digest(&bytes);
        if actual != digest {
            return Err(RegistryError::DigestMismatch {
                what: format!("blob {digest} to upload to {}", dest.name),
                expected: digest.to_owned(),
                actual,
            });
        }
        let size = bytes.len() as u64;
        self.put_blob(dest, location, digest, size, ReqBody::Full(bytes), None)
            .await
    }
}

/// A request body streaming from a source; the error that stops it goes into `failure`. The last chunk
/// is held back until the source has verified digest and size, so a registry never receives the whole
/// of a blob that does not match.
fn stream_body(source: Source, failure: Arc<Mutex<Option<RegistryError>>>) -> Body {
    struct State {
        source: Option<Source>,
        pending: Option<Bytes>,
    }
    let start = State {
        source: Some(source),
        pending: None,
    };
    let stream = futures_util::stream::unfold(start, move |mut state| {
        let failure = failure.clone();
        async move {
            loop {
                let source = state.source.as_mut()?;
                match source.chunk().await {
                    Ok(Some(b)) => {
                        if let Some(previous) = state.pending.replace(b) {
                            return Some((Ok::<_, BoxError>(Frame::data(previous)), state));
                        }
                    }
                    Ok(None) => {
                        state.source = None;
                        let last = state.pending.take()?;
                        return Some((Ok(Frame::data(last)), state));
                    }
                    Err(e) => {
                        let text = e.to_string();
                        *failure.lock().expect("failure slot") = Some(e);
                        state.source = None;
                        state.pending = None;
                        return Some((Err(text.into()), state));
                    }
                }
            }
        }
    });
    StreamBody::new(stream).boxed_unsync()
}

/// Resolves a `Location` against the URL it came from.
fn resolve(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_owned();
    }
    // scheme://authority
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let origin_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let origin = &base[..origin_end];
    if let Some(rest) = location.strip_prefix("//") {
        return format!("{}{rest}", &base[..scheme_end]);
    }
    if location.starts_with('/') {
        return format!("{origin}{location}");
    }
    let path = &base[origin_end..];
    let path = path.split('?').next().unwrap_or("");
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    };
    format!("{origin}{dir}{location}")
}

/// The URL that completes an upload started at `location`: the location with `digest=` added to its query.
fn finish_url(location: &str, digest: &str) -> String {
    let sep = if location.contains('?') { '&' } else { '?' };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("digest", digest)
        .finish();
    format!("{location}{sep}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let base = "http://127.0.0.1:5000/";
        assert_eq!(
            resolve(base, "/v2/a/blobs/uploads/u?_state=x"),
            "http://127.0.0.1:5000/v2/a/blobs/uploads/u?_state=x"
        );
        assert_eq!(resolve(base, "https://s3/x?sig=1"), "https://s3/x?sig=1");
        assert_eq!(resolve("https://h/a/b?q", "c"), "https://h/a/c");
        assert_eq!(resolve("https://h/a/b", "//o/p"), "https://o/p");
    }

    #[test]
    fn verifier() {
        let d = sha256_digest(b"hello");
        let mut v = Verifier::new("blob x".into(), &d, Some(5));
        v.update(b"hel").unwrap();
        v.update(b"lo").unwrap();
        v.finish().unwrap();
        let mut v = Verifier::new("blob x".into(), &d, Some(5));
        v.update(b"hellx").unwrap();
        let e = v.finish().unwrap_err().to_string();
        assert!(
            e.contains("blob x") && e.contains(&d) && e.contains("got sha256:"),
            "{e}"
        );
        let mut v = Verifier::new("blob x".into(), &d, Some(5));
        v.update(b"hel").unwrap();
        assert!(matches!(
            v.finish(),
            Err(RegistryError::SizeMismatch {
                expected: 5,
                actual: 3,
                ..
            })
        ));
        let mut v = Verifier::new("blob x".into(), &d, Some(5));
        assert!(v.update(b"hello!").is_err());
    }
}
