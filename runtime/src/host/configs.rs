//! `tug:engine/configs`: swarm configs. Creates and updates are stamped with the run's labels (no
//! reserved labels), a call on a config needs it to be the run's own, lists show the run's
//! configs.

use wasmtime::component::Resource;

use super::{
    bindings::configs::{self, ListOptions, UpdateOptions},
    error::{check, HostResult},
    query::QueryExt,
    resources::HostEngine,
    services::own_object,
    state::HostState,
};
use crate::{
    engine::{segment, Request},
    policy::{canonical::BodyKind, rules_swarm::SwarmObject},
};

/// `/configs/{id}{rest}`.
fn config_path(id: &str, rest: &str) -> String {
    format!("/configs/{}{rest}", segment(id))
}

impl configs::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        check!(self, self.allow("ConfigList"));
        let filters = self.gate.scope_filters(o.filters);
        self.json_text(&e, Request::get("/configs").filters(filters.as_ref()))
            .await
    }

    async fn create(&mut self, e: Resource<HostEngine>, spec: String) -> HostResult<String> {
        check!(self, self.allow("ConfigCreate"));
        let body = check!(self, self.gate.secret_spec(BodyKind::ConfigCreate, &spec));
        self.json_text(&e, Request::post("/configs/create").json_bytes(body))
            .await
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<String> {
        let (id, _) = own_object!(self, e, "ConfigInspect", SwarmObject::Config, id);
        self.json_text(&e, Request::get(config_path(&id, ""))).await
    }

    async fn remove(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        let (id, _) = own_object!(self, e, "ConfigDelete", SwarmObject::Config, id);
        self.json_unit(&e, Request::delete(config_path(&id, ""))).await
    }

    async fn update(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        spec: String,
        o: UpdateOptions,
    ) -> HostResult<()> {
        let (id, _) = own_object!(self, e, "ConfigUpdate", SwarmObject::Config, id);
        let body = check!(self, self.gate.secret_spec(BodyKind::ConfigUpdate, &spec));
        let req = Request::post(config_path(&id, "/update"))
            .query("version", o.version)
            .json_bytes(body);
        self.json_unit(&e, req).await
    }
}
