//! `tug:engine/engines`: the engine capabilities a run was given.

use wasmtime::component::Resource;

use super::{
    bindings::engines::{self, Error as WitError},
    call::HostEngine,
    error::HostResult,
    state::{HostState, DEFAULT_ENGINE},
};
use crate::policy::Op;

impl engines::Host for HostState {
    async fn default(&mut self) -> HostResult<Resource<HostEngine>> {
        self.open(DEFAULT_ENGINE.to_owned()).await
    }

    async fn open(&mut self, name: String) -> HostResult<Resource<HostEngine>> {
        // The run was given its engines by whoever started it (`--engine NAME=URL`, `--context`, the
        // policy's `[engines]`): each is granted, and each call on it passes that engine's own gate.
        let Some(engine) = self.open_engine(&name) else {
            let known: Vec<&str> = self.engines.names().collect();
            return Ok(Err(WitError::NotFound(format!(
                "plugin {}: no engine named {name:?} was given to this run (given: {})",
                self.plugin,
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ))));
        };
        Ok(Ok(self.table.push(engine)?))
    }

    async fn names(&mut self) -> wasmtime::Result<Vec<String>> {
        // Names only (what the plugin's own arguments could name anyway): no engine is reached, so there
        // is no call to gate or audit.
        let mut names: Vec<String> = self.engines.names().map(str::to_owned).collect();
        if let Some(i) = names.iter().position(|n| n == DEFAULT_ENGINE) {
            let d = names.remove(i);
            names.insert(0, d);
        }
        Ok(names)
    }
}

impl engines::HostEngine for HostState {
    async fn name(&mut self, this: Resource<HostEngine>) -> wasmtime::Result<String> {
        Ok(self.table.get(&this)?.name().to_owned())
    }

    async fn api_version(&mut self, this: Resource<HostEngine>) -> wasmtime::Result<String> {
        // The version is negotiated once per client (with a ping): a call like any other, which the
        // policy may refuse; a refusal or an engine that cannot be reached gives "".
        let r = self
            .engine_call(Op::SystemPing, &this, |_, call| {
                Box::pin(async move { Ok(call.client()?.api_version().await?.to_string()) })
            })
            .await?;
        Ok(r.unwrap_or_default())
    }

    async fn drop(&mut self, this: Resource<HostEngine>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
