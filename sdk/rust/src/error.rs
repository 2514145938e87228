//! `types::Error`, written by hand so that it can have a readable `Display`.
//!
//! wit-bindgen would generate this enum itself, with a `Display` that prints its `Debug` form; the
//! `generate!` call in `lib.rs` maps `tug:engine/types/error` here instead. The shape must stay exactly
//! the one wit-bindgen generates for the WIT `variant error` (same cases, same order, same payloads),
//! because the generated code lifts results straight into it.

use crate::bindings::tug::engine::types::{ApiError, Denial};
use std::fmt;

/// The error every Engine API function returns; the cases mirror docker-py's exceptions.
///
/// `Display` gives one readable line, e.g. `not found: No such container: x` or
/// `denied by rule containers.privileged (field HostConfig.Privileged): privileged containers are not allowed`.
#[derive(Clone, Debug)]
pub enum Error {
    /// 404: no such container, image, network, volume, exec instance… (the daemon's message).
    NotFound(String),
    /// 409: the name is in use, the container is running or paused… (the daemon's message).
    Conflict(String),
    /// 400: the daemon rejected a parameter (the daemon's message).
    BadRequest(String),
    /// 304: the container was already started or stopped.
    NotModified,
    /// The policy refused the call before anything reached the engine.
    Denied(Denial),
    /// Any other error status from the engine.
    Api(ApiError),
    /// The connection to the engine failed or broke.
    Transport(String),
    /// The call did not finish within its time limit.
    Timeout(String),
    /// The operation or parameter needs another Engine API version than the engine speaks.
    ApiVersion(String),
    /// The plugin passed something unusable: malformed JSON, a closed handle, an out-of-range value.
    InvalidArgument(String),
    /// Bytes from a registry did not match their digest or size (the blob and both digests are named);
    /// nothing made of them was kept.
    Integrity(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound(message) => write!(f, "not found: {message}"),
            Error::Conflict(message) => write!(f, "conflict: {message}"),
            Error::BadRequest(message) => write!(f, "bad request: {message}"),
            Error::NotModified => f.write_str("not modified: the container was already started or stopped"),
            Error::Denied(Denial {
                rule,
                field: Some(field),
                reason,
            }) => {
                write!(f, "denied by rule {rule} (field {field}): {reason}")
            }
            Error::Denied(Denial {
                rule,
                field: None,
                reason,
            }) => write!(f, "denied by rule {rule}: {reason}"),
            Error::Api(ApiError { status, message }) => write!(f, "engine error {status}: {message}"),
            Error::Transport(message) => write!(f, "transport error: {message}"),
            Error::Timeout(message) => write!(f, "timed out: {message}"),
            Error::ApiVersion(message) => write!(f, "API version: {message}"),
            Error::InvalidArgument(message) => write!(f, "invalid argument: {message}"),
            Error::Integrity(message) => write!(f, "integrity: {message}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_readable() {
        assert_eq!(
            Error::NotFound("No such container: x".into()).to_string(),
            "not found: No such container: x"
        );
        let denial = Denial {
            rule: "R".into(),
            field: Some("F".into()),
            reason: "reason".into(),
        };
        assert_eq!(
            Error::Denied(denial).to_string(),
            "denied by rule R (field F): reason"
        );
        let denial = Denial {
            rule: "ownership".into(),
            field: None,
            reason: "not yours".into(),
        };
        assert_eq!(
            Error::Denied(denial).to_string(),
            "denied by rule ownership: not yours"
        );
        let api = ApiError {
            status: 500,
            message: "boom".into(),
        };
        assert_eq!(Error::Api(api).to_string(), "engine error 500: boom");
        assert_eq!(
            Error::NotModified.to_string(),
            "not modified: the container was already started or stopped"
        );
    }
}
