//! The native Docker Engine API client.
//!
//! - [`config`]: endpoints (`unix://`, `tcp://`, `https://`, `ssh://`), TLS, API version, timeouts, and
//!   configuration from the environment and docker CLI contexts;
//! - [`transport`]: the connector behind hyper-util's pooling client, one connection type for all;
//! - [`client`]: one method per transport shape — [`Client::call`]/[`Client::json`] (`json`),
//!   [`Client::json_stream`], [`Client::download`] (`raw-stream`), [`Client::upload`],
//!   [`Client::multiplexed`] and [`Client::hijack`];
//! - [`decode`]: the json-stream and stdcopy decoders;
//! - [`error`]: one typed error that keeps the daemon's message;
//! - [`in_flight`]: changing requests carried to their answer when their caller goes.

pub mod client;
pub mod config;
pub mod decode;
mod direct;
pub mod error;
pub mod hijack;
pub mod in_flight;
pub mod request;
mod tls;
pub mod transport;
pub mod upload;
pub mod websocket;

pub use client::{BodyReader, Client, Download, Ping};
pub use config::{ApiVersion, Endpoint, EngineConfig, TlsConfig, VersionPolicy};
pub use decode::{Frame, FrameReader, JsonStream, StreamKind};
pub use error::{Error, Result};
pub use hijack::Hijacked;
pub use in_flight::InFlight;
pub use request::{segment, Request};
pub use upload::{BodyWriter, PendingResponse, Upload};
