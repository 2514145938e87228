//! The per-run host state: WASI, the resource table, and the engines this run was given.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::call::{Engines, RegistryState};
use super::observe::Observers;
use crate::policy::Gate;

/// The name of the engine `tug run` was given.
pub const DEFAULT_ENGINE: &str = "default";

/// Everything one plugin run owns. One `Store<HostState>` per run; dropping it closes every handle and
/// connection the plugin had open.
pub struct HostState {
    /// The plugin's WASI context (args, env, stdio; no filesystem or sockets unless granted).
    pub wasi: WasiCtx,
    /// Every resource the plugin holds.
    pub table: ResourceTable,
    /// The engines this run may reach, by name (their clients only through a permit, `host/call.rs`).
    pub engines: Engines,
    /// Memory (summed over all memories), table and instance limits.
    pub limiter: crate::policy::limits::MemoryLimiter,
    /// The plugin's name, for messages and the audit log.
    pub plugin: Arc<str>,
    /// The policy gate every call passes.
    pub gate: Arc<Gate>,
    /// Who is told about each call and watched stream (the audit log, `tug run`'s report).
    pub observers: Observers,
    /// The daemonless `registry` interface: its client (the host's credentials), only through a permit.
    pub registry: RegistryState,
    /// Bytes of new layers staged so far by the `registry` interface, against `registry.staging`.
    pub staging: std::sync::OnceLock<Arc<crate::policy::rules_registry::StagingBudget>>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
