//! The wasmtime component host: one module per WIT interface (`containers` ↔ `tug:engine/containers`),
//! the backing types of the resources, the linker glue, and running a plugin.
//!
//! Every host import is async; a plugin runs in its own `Store`; handles are cancel-safe and close their
//! connections when dropped.

pub mod bindings;
pub mod cache;
mod configs;
mod container_streams;
mod containers;
mod distribution;
mod engines;
pub mod error;
mod exec;
mod image_streams;
mod images;
pub mod linker;
mod networks;
mod nodes;
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
mod tasks;
mod types_impl;
mod volumes;

pub use run::{CacheMode, HostOptions};
pub use run::{Outcome, Plugin, PluginHost, RunLimits, RunRequest};
pub use state::{HostState, DEFAULT_ENGINE};
