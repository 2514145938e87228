//! `tug:engine/configs`: swarm configs. Creates and updates are stamped with the run's labels (no
//! reserved labels), a call on a config needs it to be the run's own (resolved to its full
//! id), lists show the run's configs.

use wasmtime::component::Resource;

use super::{
    bindings::configs::{self, ListOptions, UpdateOptions},
    call::HostEngine,
    error::HostResult,
    query::QueryExt,
    state::HostState,
};
use crate::{
    engine::{segment, Request},
    policy::{canonical::BodyKind, Op},
};

/// `/configs/{id}{rest}`.
fn config_path(id: &str, rest: &str) -> String {
    format!("/configs/{}{rest}", segment(id))
}

impl configs::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        self.engine_call(Op::ConfigList, &e, move |_, call| {
            Box::pin(async move {
                let filters = call.gate().scope_filters(o.filters);
                let list = call
                    .text(Request::get("/configs").filters(filters.as_ref()))
                    .await?;
                Ok(call.gate().keep_owned(list, &["Spec", "Labels"]))
            })
        })
        .await
    }

    async fn create(&mut self, e: Resource<HostEngine>, spec: String) -> HostResult<String> {
        self.engine_call(Op::ConfigCreate, &e, move |_, call| {
            Box::pin(async move {
                let body = call.gate().secret_spec(BodyKind::ConfigCreate, &spec)?;
                call.text(Request::post("/configs/create").json_bytes(body)).await
            })
        })
        .await
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<String> {
        self.engine_call(Op::ConfigInspect, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                call.text(Request::get(config_path(&id, ""))).await
            })
        })
        .await
    }

    async fn remove(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        self.engine_call(Op::ConfigDelete, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                call.unit(Request::delete(config_path(&id, ""))).await
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
        self.engine_call(Op::ConfigUpdate, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                let body = call.gate().secret_spec(BodyKind::ConfigUpdate, &spec)?;
                let req = Request::post(config_path(&id, "/update"))
                    .query("version", o.version)
                    .json_bytes(body);
                call.unit(req).await
            })
        })
        .await
    }
}
