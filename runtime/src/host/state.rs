//! The per-run host state: WASI, the resource table, and the engines this run was given.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::resources::HostEngine;
use std::time::Instant;

use super::bindings::types::Error as WitError;
use crate::{
    engine::Client,
    policy::{
        audit::{AuditEntry, AuditLog, Decision},
        Gate,
    },
};

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
    /// The audit log, when `tug run --audit FILE` asked for one.
    pub audit: Option<Arc<AuditLog>>,
    /// The call under way, for its audit line.
    pub call: Option<CallRecord>,
    /// Image references this run made (built, pulled, tagged, imported, loaded, committed): the ones it
    /// may remove.
    pub images: BTreeSet<String>,
    /// The daemonless `registry` interface: its client (the host's credentials) and staging budget.
    pub registry: super::registry::RegistryState,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A call under way: what the audit line will say.
pub struct CallRecord {
    /// The operationId.
    pub operation: &'static str,
    /// The object it is about.
    pub target: Option<String>,
    /// When it began.
    pub start: Instant,
}

impl HostState {
    /// Begins a call (by operationId) and checks that the policy grants it before anything reaches the
    /// engine; a refusal is recorded in the audit log.
    pub fn allow(&mut self, operation: &'static str) -> Result<(), crate::policy::Denial> {
        // A call that ended without its own record (a stream handed out) is recorded as it stands.
        self.end_call(None, 0);
        self.call = Some(CallRecord {
            operation,
            target: None,
            start: Instant::now(),
        });
        self.gate.allow(operation)
    }

    /// Names the object the call under way is about.
    pub fn target(&mut self, target: &str) {
        if let Some(c) = &mut self.call {
            c.target = Some(target.to_owned());
        }
    }

    /// Ends the call under way: one audit line with the decision (a denial names its rule and field),
    /// the duration, the bytes and the engine's error if any.
    pub fn end_call(&mut self, error: Option<&WitError>, bytes: u64) {
        let Some(call) = self.call.take() else { return };
        let Some(log) = &self.audit else { return };
        let message = error.map(|e| format!("{e:?}"));
        let decision = match error {
            Some(WitError::Denied(d)) => Decision::Deny {
                rule: &d.rule,
                field: d.field.as_deref(),
                reason: &d.reason,
            },
            _ => Decision::Allow,
        };
        let denied = matches!(decision, Decision::Deny { .. });
        let entry = AuditEntry {
            plugin: &self.plugin,
            run: &self.gate.run_id,
            operation: call.operation,
            target: call.target.as_deref(),
            decision,
            duration: call.start.elapsed(),
            bytes,
            error: if denied { None } else { message.as_deref() },
        };
        if let Err(e) = log.record(&entry) {
            tracing::warn!("writing the audit log {}: {e}", log.path().display());
        }
    }

    /// Ends the call under way with its result, passing the result on.
    pub fn ended<T>(&mut self, result: Result<T, WitError>, bytes: u64) -> Result<T, WitError> {
        self.end_call(result.as_ref().err(), bytes);
        result
    }

    /// The client behind an engine handle.
    pub fn client(&self, engine: &Resource<HostEngine>) -> wasmtime::Result<Client> {
        Ok(self.table.get(engine)?.client.clone())
    }
}
