//! Engine errors as the WIT `error` variant, and the result type every host function returns.

use super::bindings::types::{ApiError, Error as WitError};
use crate::engine;

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

/// `engine::Result<T>` → [`HostResult<T>`].
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
