//! The wasmtime component host: one module per WIT interface (`containers` ↔ `tug:engine/containers`),
//! the backing types of the resources, the linker glue, and running a plugin.
//!
//! Every host import is async; a plugin runs in its own `Store`; handles are cancel-safe and close their
//! connections when dropped. No host function reaches an engine or a registry but through a permit
//! (`call.rs`), which the gate grants per operation and which writes the call's audit line.

pub mod bindings;
mod build_context;
pub mod cache;
pub mod call;
mod configs;
mod container_streams;
mod containers;
mod distribution;
mod engines;
pub mod error;
mod exec;
mod image_streams;
mod images;
pub mod input_streams;
pub mod linker;
mod load;
mod networks;
mod nodes;
pub mod observe;
pub mod output;
mod plugin_streams;
mod plugins;
mod query;
pub mod registry;
pub mod registry_streams;
pub mod resources;
pub mod run;
mod secrets;
mod services;
pub mod state;
mod swarm;
mod system;
mod system_views;
mod tar_filter;
mod tasks;
mod types_impl;
mod volumes;

pub use call::RunEngine;
pub use run::{CacheMode, HostOptions};
pub use run::{Outcome, Plugin, PluginHost, RunLimits, RunRequest};
pub use state::{HostState, DEFAULT_ENGINE};
