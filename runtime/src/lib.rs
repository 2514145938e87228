//! tug: a runtime in which sandboxed WebAssembly plugins script Docker container workflows.
//!
//! The crate has three layers, each in its own folder:
//! - [`engine`]: the native Docker Engine API client (HTTP over unix, tcp, TLS and ssh; the six
//!   transport shapes of the Engine API);
//! - `policy`: what a plugin may do (later);
//! - `host`: the wasmtime component host (later);
//! - [`registry`]: the daemonless registry backend (pull, edit, save and push images without a daemon).

pub mod cli;
pub mod engine;
pub mod host;
pub mod policy;
pub mod registry;
