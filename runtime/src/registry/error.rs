//! The one error type of the registry client and the image model.

use http::StatusCode;

/// Everything that can go wrong pulling, editing, saving or pushing an image.
///
/// Every message names the thing at fault (the reference, the registry, the blob digest) and, for
/// answers from a registry, the HTTP status and the registry's own `errors[].code/message`. Credentials
/// never appear in a message.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A reference (`registry/repository:tag@digest`) that does not parse.
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference {
        /// The text given.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A platform (`os/arch[/variant]`) that does not parse.
    #[error("invalid platform {platform:?}: expected os/arch[/variant]")]
    InvalidPlatform {
        /// The text given.
        platform: String,
    },
    /// The registry refused the credentials, or asked for some and none were configured (HTTP 401/403).
    #[error("{registry}: {what}: unauthorized ({status}){}: {detail}", if *.had_credentials { " with the configured credentials" } else { ", and no credentials are configured for it" })]
    Unauthorized {
        /// The registry host.
        registry: String,
        /// What tug was doing (`GET manifest library/busybox:latest`).
        what: String,
        /// 401 or 403.
        status: StatusCode,
        /// Whether tug had credentials for this registry.
        had_credentials: bool,
        /// The registry's error JSON (`CODE: message; …`), or the body's first line.
        detail: String,
    },
    /// Any other error answer from a registry (or its token service).
    #[error("{registry}: {what}: HTTP {status}: {detail}")]
    Api {
        /// The registry host.
        registry: String,
        /// What tug was doing.
        what: String,
        /// The HTTP status.
        status: StatusCode,
        /// The registry's error JSON (`CODE: message; …`), or the body's first line.
        detail: String,
    },
    /// Connecting, sending or receiving failed.
    #[error("{registry}: {what}: {cause}")]
    Transport {
        /// The registry host (or storage host a blob was redirected to).
        registry: String,
        /// What tug was doing.
        what: String,
        /// The root cause, as text.
        cause: String,
    },
    /// A blob's (or manifest's) content does not hash to its digest.
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The blob (`blob sha256:… of 127.0.0.1:5000/a/b`), manifest or layer at fault.
        what: String,
        /// The digest it should have.
        expected: String,
        /// The digest of the bytes received (or read).
        actual: String,
    },
    /// A blob's content is longer or shorter than its descriptor says.
    #[error("{what}: size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        /// The blob at fault.
        what: String,
        /// The size in the descriptor.
        expected: u64,
        /// The bytes received (or read); for a longer body, at least this many.
        actual: u64,
    },
    /// A manifest or index that tug cannot use (unknown media type, bad JSON, missing fields).
    #[error("manifest of {reference}: {message}")]
    Manifest {
        /// The reference (or digest) it was fetched for.
        reference: String,
        /// What is wrong.
        message: String,
    },
    /// An index (manifest list) has no manifest for the platform asked for.
    #[error("{reference}: no manifest for platform {wanted}; available: {}", if .available.is_empty() { "none".to_owned() } else { .available.join(", ") })]
    NoMatchingPlatform {
        /// The reference pulled.
        reference: String,
        /// The platform asked for.
        wanted: String,
        /// The platforms the index lists.
        available: Vec<String>,
    },
    /// The image configuration is not usable (not an object, diff_ids that do not match the layers…).
    #[error("image config: {0}")]
    Config(String),
    /// Reading the docker configuration or running a credential helper failed.
    #[error("credentials for {registry}: {message}")]
    Credentials {
        /// The registry (or configuration file) concerned.
        registry: String,
        /// What went wrong (never a secret).
        message: String,
    },
    /// A layer cannot be built or used (bad path in the image, unsupported file, unknown layer index).
    #[error("layer: {0}")]
    Layer(String),
    /// Something tug does not do (a zstd layer in a docker archive, a schema 1 manifest…).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A local file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What tug was doing, with the path.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The result type of the registry layer.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

impl RegistryError {
    /// An I/O error with the context it happened in.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        RegistryError::Io {
            context: context.into(),
            source,
        }
    }

    /// The HTTP status of an answer from a registry, if the error is one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            RegistryError::Unauthorized { status, .. } | RegistryError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the registry answered 404 (no such manifest, blob or repository).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }
}

/// Formats a registry's error body: `errors[].code: message` joined by `; `, or the first line of the
/// text, or `(empty body)`.
pub(crate) fn describe_error_body(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(errors) = v.get("errors").and_then(|e| e.as_array()) {
            let parts: Vec<String> = errors
                .iter()
                .map(|e| {
                    let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("?");
                    let message = e.get("message").and_then(|c| c.as_str()).unwrap_or("");
                    match e.get("detail") {
                        Some(d) if !d.is_null() => format!("{code}: {message} ({d})"),
                        _ => format!("{code}: {message}"),
                    }
                })
                .collect();
            if !parts.is_empty() {
                return parts.join("; ");
            }
        }
        for key in ["error", "message", "details"] {
            if let Some(m) = v.get(key).and_then(|m| m.as_str()) {
                return m.to_owned();
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    if line.is_empty() {
        "(empty body)".to_owned()
    } else {
        line.chars().take(300).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies() {
        let body =
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#;
        assert_eq!(
            describe_error_body(body),
            r#"MANIFEST_UNKNOWN: manifest unknown ({"Tag":"x"})"#
        );
        assert_eq!(describe_error_body(b""), "(empty body)");
        assert_eq!(
            describe_error_body(b"\n404 page not found\n"),
            "404 page not found"
        );
    }

    #[test]
    fn unauthorized_names_the_registry() {
        let e = RegistryError::Unauthorized {
            registry: "127.0.0.1:5001".into(),
            what: "GET manifest a/b:latest".into(),
            status: StatusCode::UNAUTHORIZED,
            had_credentials: false,
            detail: "UNAUTHORIZED: authentication required".into(),
        };
        let text = e.to_string();
        assert!(text.contains("127.0.0.1:5001") && text.contains("401") && text.contains("no credentials"));
    }
}
