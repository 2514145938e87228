//! The one error type of the engine client.

use std::time::Duration;

use http::StatusCode;

/// Everything that can go wrong talking to a Docker engine.
///
/// Errors that come from the daemon keep its JSON `message` verbatim.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 404: no such object.
    #[error("not found: {message}")]
    NotFound {
        /// The daemon's message.
        message: String,
    },
    /// 409: a conflict (name in use, container running…).
    #[error("conflict: {message}")]
    Conflict {
        /// The daemon's message.
        message: String,
    },
    /// 400: the daemon rejected a parameter.
    #[error("bad request: {message}")]
    BadRequest {
        /// The daemon's message.
        message: String,
    },
    /// 304: nothing to do (container already started or stopped).
    #[error("not modified")]
    NotModified,
    /// A 5xx answer.
    #[error("server error {status}: {message}")]
    Server {
        /// The HTTP status.
        status: StatusCode,
        /// The daemon's message.
        message: String,
    },
    /// Any other error status (401, 403, …).
    #[error("engine answered {status}: {message}")]
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// The daemon's message.
        message: String,
    },
    /// The requested API version is newer than the daemon supports, or an operation needs a newer one.
    #[error("API version: {message}")]
    VersionTooNew {
        /// What the daemon (or tug) said.
        message: String,
    },
    /// Connecting, sending or receiving failed.
    #[error("transport: {context}: {cause}")]
    Transport {
        /// What tug was doing.
        context: String,
        /// The root cause, as text (e.g. `Connection refused (os error 111)`).
        cause: String,
    },
    /// A call did not finish in time.
    #[error("timed out after {after:?}: {what}")]
    Timeout {
        /// What timed out.
        what: String,
        /// The limit.
        after: Duration,
    },
    /// The daemon sent something tug could not decode.
    #[error("cannot decode the engine's answer ({context}): {message}")]
    Decode {
        /// What was being decoded.
        context: String,
        /// What is wrong with it.
        message: String,
    },
    /// The client configuration is unusable (bad `DOCKER_HOST`, missing certificate…).
    #[error("engine configuration: {0}")]
    Config(String),
    /// The caller passed something unusable (a request body that is not JSON…).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// The client's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Builds the error for an error status, from the daemon's JSON (`{"message": …}`) or plain-text body.
    pub fn from_status(status: StatusCode, body: &[u8]) -> Self {
        let message = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned());
        let message = if message.is_empty() {
            status.canonical_reason().unwrap_or("no message").to_owned()
        } else {
            message
        };
        match status {
            StatusCode::NOT_MODIFIED => Error::NotModified,
            StatusCode::NOT_FOUND => Error::NotFound { message },
            StatusCode::CONFLICT => Error::Conflict { message },
            StatusCode::BAD_REQUEST if is_version_message(&message) => Error::VersionTooNew { message },
            StatusCode::BAD_REQUEST => Error::BadRequest { message },
            s if s.is_server_error() => Error::Server { status, message },
            _ => Error::Api { status, message },
        }
    }

    /// A transport failure: what tug was doing, and the root cause of `source` (the innermost error of
    /// its chain, where the useful words are; the layers above it only repeat them).
    pub fn transport(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        let source = source.into();
        let mut root: &(dyn std::error::Error + 'static) = source.as_ref();
        while let Some(next) = root.source() {
            root = next;
        }
        // One of our own errors (from the connector) inside a hyper error keeps its words.
        if let Some(Error::Transport {
            context: inner,
            cause,
        }) = find_ours(source.as_ref())
        {
            return Error::Transport {
                context: format!("{}: {inner}", context.into()),
                cause: cause.clone(),
            };
        }
        if let Some(Error::Timeout { what, after }) = find_ours(source.as_ref()) {
            return Error::Timeout {
                what: format!("{}: {what}", context.into()),
                after: *after,
            };
        }
        Error::Transport {
            context: context.into(),
            cause: root.to_string(),
        }
    }

    /// The HTTP status, for errors that came from the daemon.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::NotFound { .. } => Some(StatusCode::NOT_FOUND),
            Error::Conflict { .. } => Some(StatusCode::CONFLICT),
            Error::BadRequest { .. } | Error::VersionTooNew { .. } => Some(StatusCode::BAD_REQUEST),
            Error::NotModified => Some(StatusCode::NOT_MODIFIED),
            Error::Server { status, .. } | Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

fn find_ours<'a>(mut e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Error> {
    loop {
        if let Some(ours) = e.downcast_ref::<Error>() {
            return Some(ours);
        }
        e = e.source()?;
    }
}

/// The daemon's "client version 1.55 is too new. Maximum supported API version is 1.41" (and the older
/// "client is newer than server") messages.
fn is_version_message(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    (m.contains("client version") && m.contains("too new")) || m.contains("client is newer than server")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_daemons_message() {
        let e = Error::from_status(StatusCode::NOT_FOUND, br#"{"message":"No such container: x"}"#);
        assert!(matches!(e, Error::NotFound { ref message } if message == "No such container: x"));
        let e = Error::from_status(StatusCode::CONFLICT, b"plain text\n");
        assert!(matches!(e, Error::Conflict { ref message } if message == "plain text"));
        let e = Error::from_status(StatusCode::INTERNAL_SERVER_ERROR, b"");
        assert!(matches!(e, Error::Server { ref message, .. } if message == "Internal Server Error"));
        assert_eq!(e.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    }

    #[test]
    fn recognises_version_too_new() {
        let e = Error::from_status(
            StatusCode::BAD_REQUEST,
            br#"{"message":"client version 1.55 is too new. Maximum supported API version is 1.41"}"#,
        );
        assert!(matches!(e, Error::VersionTooNew { .. }), "{e:?}");
        let e = Error::from_status(StatusCode::BAD_REQUEST, br#"{"message":"invalid filter"}"#);
        assert!(matches!(e, Error::BadRequest { .. }));
    }
}
