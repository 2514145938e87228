//! [`Error`]: one enum for everything the object layer can fail with — docker-py's exceptions
//! (`NotFound`, `APIError`, `ContainerError`, `BuildError`…) plus tug's policy denial.

use std::fmt;

use crate::types::{self, ApiError, Denial};

/// What a call of the object layer ([`crate::docker`]) can fail with.
///
/// The engine's and the host's errors ([`crate::types::Error`]) arrive as the cases of the same names;
/// the other cases are the object layer's own (a container that exited non-zero, a failed build, a
/// document that did not parse, a body that could not be written).
#[derive(Debug)]
pub enum Error {
    /// 404: no such container, image, network, volume… (the engine's message). docker-py's `NotFound`
    /// and `ImageNotFound`.
    NotFound(String),
    /// 409: the name is in use, the container is running… (the engine's message).
    Conflict(String),
    /// 400: the engine rejected a parameter (the engine's message).
    BadRequest(String),
    /// 304: the container was already started or stopped.
    NotModified,
    /// The run's policy refused the call before anything reached the engine: which rule, which field of
    /// the request (if one field is at fault) and why.
    Denied {
        /// The rule that refused the call (`containers.privileged`, `ownership`…).
        rule: String,
        /// The field at fault (`HostConfig.Privileged`), when one is.
        field: Option<String>,
        /// Why, in a sentence.
        reason: String,
    },
    /// Any other error status from the engine. docker-py's `APIError`.
    Api {
        /// The HTTP status.
        status: u16,
        /// The engine's message.
        message: String,
    },
    /// The connection to the engine failed or broke, or a stream could not be read or written.
    Transport(String),
    /// The call did not finish within its time limit.
    Timeout(String),
    /// The operation or parameter needs another Engine API version than the engine speaks.
    ApiVersion(String),
    /// The plugin passed something unusable: malformed JSON, a closed handle, an out-of-range value.
    InvalidArgument(String),
    /// Bytes from a registry did not match their digest or size; nothing made of them was kept.
    Integrity(String),
    /// A container run by [`crate::docker::Containers::run`] exited with a non-zero status: docker-py's
    /// `ContainerError`.
    Container {
        /// The container's ID (it still exists unless the run asked for it to be removed).
        id: String,
        /// Its exit status.
        exit_status: i64,
        /// The command it ran.
        command: Vec<String>,
        /// The image it ran.
        image: String,
        /// What it wrote to standard error.
        stderr: Vec<u8>,
    },
    /// A build ended with an error message in its progress: docker-py's `BuildError`.
    Build {
        /// The builder's message.
        reason: String,
        /// The progress messages up to the error, in order.
        log: Vec<String>,
    },
    /// The engine answered a document this SDK could not read as its type.
    Decode {
        /// What was being read (`containers.inspect`, `a pull progress message`…).
        what: String,
        /// What went wrong.
        message: String,
    },
}

/// The object layer's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether this is a 404 (docker-py's `NotFound`).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }

    /// Whether the run's policy refused the call.
    pub fn is_denied(&self) -> bool {
        matches!(self, Error::Denied { .. })
    }

    /// The HTTP status this error stands for, as docker-py's `APIError.status_code` gives it (403 for a
    /// denial; `None` for errors that are not an answer of the engine's).
    pub fn status_code(&self) -> Option<u16> {
        match self {
            Error::NotFound(_) => Some(404),
            Error::Conflict(_) => Some(409),
            Error::BadRequest(_) => Some(400),
            Error::NotModified => Some(304),
            Error::Denied { .. } => Some(403),
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// An error reading the document `what` the engine answered.
    pub(crate) fn decode(what: &str, e: impl fmt::Display) -> Self {
        Error::Decode {
            what: what.to_owned(),
            message: e.to_string(),
        }
    }
}

impl From<types::Error> for Error {
    fn from(e: types::Error) -> Self {
        match e {
            types::Error::NotFound(m) => Error::NotFound(m),
            types::Error::Conflict(m) => Error::Conflict(m),
            types::Error::BadRequest(m) => Error::BadRequest(m),
            types::Error::NotModified => Error::NotModified,
            types::Error::Denied(Denial { rule, field, reason }) => Error::Denied { rule, field, reason },
            types::Error::Api(ApiError { status, message }) => Error::Api { status, message },
            types::Error::Transport(m) => Error::Transport(m),
            types::Error::Timeout(m) => Error::Timeout(m),
            types::Error::ApiVersion(m) => Error::ApiVersion(m),
            types::Error::InvalidArgument(m) => Error::InvalidArgument(m),
            types::Error::Integrity(m) => Error::Integrity(m),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Transport(e.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound(m) => write!(f, "not found: {m}"),
            Error::Conflict(m) => write!(f, "conflict: {m}"),
            Error::BadRequest(m) => write!(f, "bad request: {m}"),
            Error::NotModified => f.write_str("not modified: the container was already started or stopped"),
            Error::Denied {
                rule,
                field: Some(field),
                reason,
            } => write!(f, "denied by rule {rule} (field {field}): {reason}"),
            Error::Denied {
                rule,
                field: None,
                reason,
            } => write!(f, "denied by rule {rule}: {reason}"),
            Error::Api { status, message } => write!(f, "engine error {status}: {message}"),
            Error::Transport(m) => write!(f, "transport error: {m}"),
            Error::Timeout(m) => write!(f, "timed out: {m}"),
            Error::ApiVersion(m) => write!(f, "API version: {m}"),
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::Integrity(m) => write!(f, "integrity: {m}"),
            Error::Container {
                id,
                exit_status,
                command,
                image,
                stderr,
            } => {
                let short = &id[..id.len().min(12)];
                write!(
                    f,
                    "container {short} (image {image}, command {command:?}) exited with status {exit_status}"
                )?;
                let stderr = String::from_utf8_lossy(stderr);
                match stderr.trim_end() {
                    "" => Ok(()),
                    text => write!(f, ": {text}"),
                }
            }
            Error::Build { reason, .. } => write!(f, "build failed: {reason}"),
            Error::Decode { what, message } => write!(f, "reading {what}: {message}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wit_errors_keep_their_case_and_message() {
        let denied: Error = types::Error::Denied(Denial {
            rule: "ownership".into(),
            field: Some("Volumes[0]".into()),
            reason: "not the run's".into(),
        })
        .into();
        assert!(denied.is_denied());
        assert_eq!(denied.status_code(), Some(403));
        assert_eq!(
            denied.to_string(),
            "denied by rule ownership (field Volumes[0]): not the run's"
        );
        let missing: Error = types::Error::NotFound("No such image: x".into()).into();
        assert!(missing.is_not_found());
        assert_eq!(missing.to_string(), "not found: No such image: x");
    }

    #[test]
    fn a_container_error_names_the_container_its_status_and_stderr() {
        let e = Error::Container {
            id: "0123456789abcdef".into(),
            exit_status: 3,
            command: vec!["sh".into(), "-c".into(), "exit 3".into()],
            image: "busybox".into(),
            stderr: b"boom\n".to_vec(),
        };
        assert_eq!(
            e.to_string(),
            "container 0123456789ab (image busybox, command [\"sh\", \"-c\", \"exit 3\"]) exited with status 3: boom"
        );
        assert_eq!(e.status_code(), None);
    }
}
