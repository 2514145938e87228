//! Decoders for the Engine API's streaming formats, independent of the transport: they read from any
//! `AsyncRead` (a response body or a hijacked socket).

pub mod json_stream;
pub mod stdcopy;

pub use json_stream::JsonStream;
pub use stdcopy::{Frame, FrameReader, StreamKind};

/// How many bytes a decoder asks the transport for at a time.
pub(crate) const READ_CHUNK: usize = 64 * 1024;
