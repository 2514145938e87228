//! The one edge where errors become the WIT `error` variant a plugin sees: engine, registry and gate
//! errors convert with `From`, so host code returns `Result<T, WitError>` and uses `?` (and the permit,
//! `host/call.rs`, records every one of them in the audit log).

use super::bindings::types::{ApiError, Denial as WitDenial, Error as WitError};
use crate::{engine, policy, registry::RegistryError};

/// What a host function returns: a trap (`Err` of the outer result) or the WIT result.
pub type HostResult<T> = wasmtime::Result<Result<T, WitError>>;

/// Maps a client error to the WIT error a plugin sees, keeping the daemon's message.
pub fn wit_error(e: engine::Error) -> WitError {
    use engine::Error as E;
    match e {
        E::NotFound { message } => WitError::NotFound(message),
        E::Conflict { message } => WitError::Conflict(message),
        E::BadRequest { message } => WitError::BadRequest(message),
        E::NotModified => WitError::NotModified,
        E::VersionTooNew { message } => WitError::ApiVersion(message),
        E::Server { status, message } | E::Api { status, message } => WitError::Api(ApiError {
            status: status.as_u16(),
            message,
        }),
        E::Timeout { .. } => WitError::Timeout(e.to_string()),
        E::InvalidArgument(m) => WitError::InvalidArgument(m),
        e @ (E::Transport { .. } | E::Decode { .. } | E::Config(_)) => WitError::Transport(e.to_string()),
    }
}

impl From<engine::Error> for WitError {
    fn from(e: engine::Error) -> Self {
        wit_error(e)
    }
}

impl From<policy::Denial> for WitError {
    fn from(d: policy::Denial) -> Self {
        WitError::Denied(WitDenial {
            rule: d.rule,
            field: d.field,
            reason: d.reason,
        })
    }
}

impl From<policy::GateError> for WitError {
    fn from(e: policy::GateError) -> Self {
        match e {
            policy::GateError::Denied(d) => d.into(),
            policy::GateError::Engine(e) => e.into(),
        }
    }
}

impl From<RegistryError> for WitError {
    /// A registry error, its message naming the registry, reference or blob.
    fn from(e: RegistryError) -> Self {
        use RegistryError as E;
        let message = e.to_string();
        match e {
            E::InvalidReference { .. }
            | E::InvalidPlatform { .. }
            | E::Config(_)
            | E::Layer(_)
            | E::Manifest { .. }
            | E::Unsupported(_) => WitError::InvalidArgument(message),
            E::NoMatchingPlatform { .. } => WitError::NotFound(message),
            E::DigestMismatch { .. } | E::SizeMismatch { .. } => WitError::Integrity(message),
            E::Api { status, .. } if status == http::StatusCode::NOT_FOUND => WitError::NotFound(message),
            E::Unauthorized { status, .. } | E::Api { status, .. } => WitError::Api(ApiError {
                status: status.as_u16(),
                message,
            }),
            E::Credentials { .. } => WitError::Api(ApiError { status: 401, message }),
            E::Transport { .. } | E::Io { .. } => WitError::Transport(message),
        }
    }
}

/// `engine::Result<T>` → [`HostResult<T>`], for the methods of handles a permitted call handed out.
pub trait IntoHost<T> {
    /// Converts, never trapping.
    fn into_host(self) -> HostResult<T>;
}

impl<T> IntoHost<T> for engine::Result<T> {
    fn into_host(self) -> HostResult<T> {
        Ok(self.map_err(wit_error))
    }
}

/// An invalid-argument error for the plugin.
pub fn invalid<T>(message: impl Into<String>) -> HostResult<T> {
    Ok(Err(WitError::InvalidArgument(message.into())))
}
