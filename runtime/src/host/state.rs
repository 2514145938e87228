//! The per-run host state: WASI, the resource table, and the engines this run was given.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::resources::HostEngine;
use crate::{engine::Client, policy::Gate};

/// The name of the engine `tug run` was given.
pub const DEFAULT_ENGINE: &str = "default";

/// Everything one plugin run owns. One `Store<HostState>` per run; dropping it closes every handle and
/// connection the plugin had open.
pub struct HostState {
    /// The plugin's WASI context (args, env, stdio; no filesystem or sockets unless granted).
    pub wasi: WasiCtx,
    /// Every resource the plugin holds.
    pub table: ResourceTable,
    /// The engines this run may reach, by name.
    pub engines: BTreeMap<String, Client>,
    /// Memory (summed over all memories), table and instance limits.
    pub limiter: crate::policy::limits::MemoryLimiter,
    /// The plugin's name, for messages.
    pub plugin: String,
    /// The policy gate every Engine API call passes.
    pub gate: Arc<Gate>,
    /// Image references this run made (built, pulled, tagged, imported, loaded, committed): the ones it
    /// may remove.
    pub images: BTreeSet<String>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl HostState {
    /// Checks that the policy grants an operation (by operationId) before anything reaches the engine.
    pub fn allow(&self, operation: &str) -> Result<(), crate::policy::Denial> {
        self.gate.allow(operation)
    }

    /// The client behind an engine handle.
    pub fn client(&self, engine: &Resource<HostEngine>) -> wasmtime::Result<Client> {
        Ok(self.table.get(engine)?.client.clone())
    }
}
