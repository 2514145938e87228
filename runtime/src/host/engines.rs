//! `tug:engine/engines`: the engine capabilities a run was given.

use wasmtime::component::Resource;

use super::{
    bindings::engines::{self, Error as WitError},
    error::HostResult,
    resources::HostEngine,
    state::{HostState, DEFAULT_ENGINE},
};

impl engines::Host for HostState {
    async fn default(&mut self) -> HostResult<Resource<HostEngine>> {
        self.open(DEFAULT_ENGINE.to_owned()).await
    }

    async fn open(&mut self, name: String) -> HostResult<Resource<HostEngine>> {
        let policy = &self.gate.policy;
        if name != DEFAULT_ENGINE && !policy.unrestricted && !policy.engines.contains(&name) {
            return Ok(Err(WitError::Denied(super::bindings::types::Denial {
                rule: "engines".into(),
                field: Some("name".into()),
                reason: format!("policy {} does not grant engine {name:?}", policy.name),
            })));
        }
        let Some(client) = self.engines.get(&name).cloned() else {
            let known: Vec<&str> = self.engines.keys().map(String::as_str).collect();
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
        Ok(Ok(self.table.push(HostEngine { name, client })?))
    }
}

impl engines::HostEngine for HostState {
    async fn name(&mut self, this: Resource<HostEngine>) -> wasmtime::Result<String> {
        Ok(self.table.get(&this)?.name.clone())
    }

    async fn api_version(&mut self, this: Resource<HostEngine>) -> wasmtime::Result<String> {
        let client = self.client(&this)?;
        // The version is negotiated once per client; a daemon that cannot be reached gives "" here and a
        // transport error on the first real call.
        Ok(client
            .api_version()
            .await
            .map(|v| v.to_string())
            .unwrap_or_default())
    }

    async fn drop(&mut self, this: Resource<HostEngine>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
