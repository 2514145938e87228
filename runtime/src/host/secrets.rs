//! `tug:engine/secrets`: swarm secrets. Creates and updates are stamped with the run's labels (no
//! reserved labels, no secret drivers), a call on a secret needs it to be the run's own (resolved to its full
//! id), lists show the run's secrets.

use wasmtime::component::Resource;

use super::{
    bindings::secrets::{self, ListOptions, UpdateOptions},
    call::HostEngine,
    error::HostResult,
    query::QueryExt,
    state::HostState,
};
use crate::{
    engine::{segment, Request},
    policy::{canonical::BodyKind, Op},
};

/// `/secrets/{id}{rest}`.
fn secret_path(id: &str, rest: &str) -> String {
    format!("/secrets/{}{rest}", segment(id))
}

impl secrets::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        self.engine_call(Op::SecretList, &e, move |_, call| {
            Box::pin(async move {
                let filters = call.gate().scope_filters(o.filters);
                let list = call
                    .text(Request::get("/secrets").filters(filters.as_ref()))
                    .await?;
                Ok(call.gate().keep_owned(list, &["Spec", "Labels"]))
            })
        })
        .await
    }

    async fn create(&mut self, e: Resource<HostEngine>, spec: String) -> HostResult<String> {
        self.engine_call(Op::SecretCreate, &e, move |_, call| {
            Box::pin(async move {
                let body = call.gate().secret_spec(BodyKind::SecretCreate, &spec)?;
                call.text(Request::post("/secrets/create").json_bytes(body)).await
            })
        })
        .await
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<String> {
        self.engine_call(Op::SecretInspect, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                call.text(Request::get(secret_path(&id, ""))).await
            })
        })
        .await
    }

    async fn remove(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        self.engine_call(Op::SecretDelete, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                call.unit(Request::delete(secret_path(&id, ""))).await
            })
        })
        .await
    }

    async fn update(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        spec: String,
        o: UpdateOptions,
    ) -> HostResult<()> {
        self.engine_call(Op::SecretUpdate, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                let body = call.gate().secret_spec(BodyKind::SecretUpdate, &spec)?;
                let req = Request::post(secret_path(&id, "/update"))
                    .query("version", o.version)
                    .json_bytes(body);
                call.unit(req).await
            })
        })
        .await
    }
}
