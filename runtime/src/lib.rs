//! tug: a runtime in which sandboxed WebAssembly plugins script Docker container workflows.
//!
//! The crate's layers, each in its own folder:
//! - [`engine`]: the native Docker Engine API client (HTTP over unix, tcp, TLS and ssh; the six
//!   transport shapes of the Engine API);
//! - [`policy`]: what a plugin may do (canonical bodies, ownership, rules, limits, cleanup, audit);
//! - [`host`]: the wasmtime component host, one module per WIT interface;
//! - [`registry`]: the daemonless registry backend (pull, edit, save and push images without a daemon);
//! - [`cli`]: the `tug` command.

pub mod cli;
pub mod engine;
pub mod host;
pub mod policy;
pub mod registry;
