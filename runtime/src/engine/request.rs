//! A request to the Engine API, before the client adds the version prefix and sends it.

use bytes::Bytes;
use http::{header::HeaderName, HeaderMap, HeaderValue, Method};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;

use super::error::{Error, Result};

/// Characters left as they are in a path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one path segment (an id or a name), so `a/b` or `../x` stays one segment.
pub fn segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// An Engine API request: method, path below `/vX.Y`, query, headers and an optional in-memory body.
#[derive(Clone, Debug)]
pub struct Request {
    /// The HTTP method.
    pub method: Method,
    /// The path, e.g. `/containers/json`; segments from callers must go through [`segment`].
    pub path: String,
    /// Query parameters in order.
    pub query: Vec<(String, String)>,
    /// Extra headers.
    pub headers: HeaderMap,
    /// The body, if any, sent with `Content-Type` from `headers` (JSON by default).
    pub body: Option<Bytes>,
    /// Whether the path gets the `/vX.Y` prefix (everything but `/_ping`).
    pub versioned: bool,
}

impl Request {
    /// A request with a method and a path.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Request {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
            versioned: true,
        }
    }
    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }
    /// `POST path`.
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }
    /// `PUT path`.
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }
    /// `DELETE path`.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }
    /// `HEAD path`.
    pub fn head(path: impl Into<String>) -> Self {
        Self::new(Method::HEAD, path)
    }
    /// Leaves out the `/vX.Y` prefix.
    pub fn unversioned(mut self) -> Self {
        self.versioned = false;
        self
    }
    /// Adds a query parameter.
    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_owned(), value.to_string()));
        self
    }
    /// Adds a query parameter when it has a value.
    pub fn query_opt<V: ToString>(self, key: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }
    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }
    /// Sets a JSON body from bytes that already are JSON.
    pub fn json_bytes(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self
    }
    /// Sets a JSON body by serializing a value.
    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Result<Self> {
        let bytes =
            serde_json::to_vec(body).map_err(|e| Error::InvalidArgument(format!("request body: {e}")))?;
        Ok(self.json_bytes(bytes))
    }
    /// Declares the content type of a streamed (upload) body, e.g. `application/x-tar`.
    pub fn content_type(self, value: &'static str) -> Self {
        self.header(http::header::CONTENT_TYPE, HeaderValue::from_static(value))
    }

    /// The path and query, with the version prefix when there is one.
    /// The head of the HTTP request: method, URI (`origin`, e.g. `http://host`, or "" for an
    /// origin-form target, then the path and query), headers and tug's `User-Agent`. A path or query too
    /// long for a URI (a megabyte-long name, say) is the caller's error, not a panic.
    pub(crate) fn http_head(&self, origin: &str, version: Option<&str>) -> Result<http::request::Builder> {
        let uri = format!("{origin}{}", self.path_and_query(version));
        let parsed: http::Uri = uri.parse().map_err(|e| {
            Error::InvalidArgument(format!(
                "{} {}…: {e} ({} bytes)",
                self.method,
                uri.chars().take(120).collect::<String>(),
                uri.len()
            ))
        })?;
        let mut builder = http::Request::builder().method(self.method.clone()).uri(parsed);
        let Some(headers) = builder.headers_mut() else {
            return Err(Error::InvalidArgument(format!(
                "{} {}: not a valid request",
                self.method, self.path
            )));
        };
        *headers = self.headers.clone();
        headers.insert(
            http::header::USER_AGENT,
            HeaderValue::from_static(concat!("tug/", env!("CARGO_PKG_VERSION"))),
        );
        Ok(builder)
    }

    pub(crate) fn path_and_query(&self, version: Option<&str>) -> String {
        let mut s = String::with_capacity(self.path.len() + 16);
        if let (true, Some(v)) = (self.versioned, version) {
            s.push_str("/v");
            s.push_str(v);
        }
        s.push_str(&self.path);
        if !self.query.is_empty() {
            s.push('?');
            s.push_str(
                &form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(self.query.iter())
                    .finish(),
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_queries() {
        let r = Request::get(format!("/containers/{}/json", segment("a/../b c")))
            .query("all", true)
            .query_opt("limit", None::<u32>)
            .query("filters", r#"{"label":["x=y"]}"#);
        assert_eq!(
            r.path_and_query(Some("1.41")),
            "/v1.41/containers/a%2F..%2Fb%20c/json?all=true&filters=%7B%22label%22%3A%5B%22x%3Dy%22%5D%7D"
        );
        assert_eq!(
            Request::get("/_ping").unversioned().path_and_query(Some("1.41")),
            "/_ping"
        );
    }
}
