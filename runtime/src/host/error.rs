//! Engine errors as the WIT `error` variant, and the result type every host function returns.

use super::bindings::types::{ApiError, Denial as WitDenial, Error as WitError};
use crate::{engine, policy};

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

/// Anything a host function can fail with before or instead of an engine answer, as the WIT error.
pub trait IntoWit {
    /// Converts.
    fn into_wit(self) -> WitError;
}

impl IntoWit for WitError {
    fn into_wit(self) -> WitError {
        self
    }
}

impl IntoWit for engine::Error {
    fn into_wit(self) -> WitError {
        wit_error(self)
    }
}

impl IntoWit for policy::Denial {
    fn into_wit(self) -> WitError {
        WitError::Denied(WitDenial {
            rule: self.rule,
            field: self.field,
            reason: self.reason,
        })
    }
}

impl IntoWit for policy::GateError {
    fn into_wit(self) -> WitError {
        match self {
            policy::GateError::Denied(d) => d.into_wit(),
            policy::GateError::Engine(e) => wit_error(e),
        }
    }
}

/// Unwraps a check, or records the failure in the audit log and returns it to the plugin from the
/// enclosing host function.
macro_rules! check {
    ($self:ident, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(err) => {
                let err = $crate::host::error::IntoWit::into_wit(err);
                $self.end_call(Some(&err), 0);
                return Ok(Err(err));
            }
        }
    };
}
pub(crate) use check;
