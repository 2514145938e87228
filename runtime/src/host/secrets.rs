//! `tug:engine/secrets`: swarm secrets. Creates and updates are stamped with the run's labels (no
//! reserved labels, no secret drivers), a call on a secret needs it to be the run's own, lists show the
//! run's secrets.

use wasmtime::component::Resource;

use super::{
    bindings::secrets::{self, ListOptions, UpdateOptions},
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

/// `/secrets/{id}{rest}`.
fn secret_path(id: &str, rest: &str) -> String {
    format!("/secrets/{}{rest}", segment(id))
}

impl secrets::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        check!(self, self.allow("SecretList"));
        let filters = self.gate.scope_filters(o.filters);
        self.json_text(&e, Request::get("/secrets").filters(filters.as_ref()))
            .await
    }

    async fn create(&mut self, e: Resource<HostEngine>, spec: String) -> HostResult<String> {
        check!(self, self.allow("SecretCreate"));
        let body = check!(self, self.gate.secret_spec(BodyKind::SecretCreate, &spec));
        self.json_text(&e, Request::post("/secrets/create").json_bytes(body))
            .await
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<String> {
        let (id, _) = own_object!(self, e, "SecretInspect", SwarmObject::Secret, id);
        self.json_text(&e, Request::get(secret_path(&id, ""))).await
    }

    async fn remove(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        let (id, _) = own_object!(self, e, "SecretDelete", SwarmObject::Secret, id);
        self.json_unit(&e, Request::delete(secret_path(&id, ""))).await
    }

    async fn update(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        spec: String,
        o: UpdateOptions,
    ) -> HostResult<()> {
        let (id, _) = own_object!(self, e, "SecretUpdate", SwarmObject::Secret, id);
        let body = check!(self, self.gate.secret_spec(BodyKind::SecretUpdate, &spec));
        let req = Request::post(secret_path(&id, "/update"))
            .query("version", o.version)
            .json_bytes(body);
        self.json_unit(&e, req).await
    }
}
