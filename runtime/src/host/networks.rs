//! `tug:engine/networks`. Every call runs under a permit: area access, the network (and the container a
//! connect or disconnect names) resolved to the run's own by full id, checked create bodies, scoped lists.

use wasmtime::component::Resource;

use super::{
    bindings::networks::{self, InspectOptions, ListOptions, PruneOptions},
    call::HostEngine,
    error::HostResult,
    query::QueryExt,
    state::HostState,
};
use crate::{
    engine::{segment, Request},
    policy::{canonical::BodyKind, Op},
};

/// `/networks/{id}{rest}`.
fn network_path(id: &str, rest: &str) -> String {
    format!("/networks/{}{rest}", segment(id))
}

impl networks::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        self.engine_call(Op::NetworkList, &e, move |_, call| {
            Box::pin(async move {
                let filters = call.gate().scope_filters(o.filters);
                let list = call
                    .text(Request::get("/networks").filters(filters.as_ref()))
                    .await?;
                Ok(call.gate().keep_owned(list, &["Labels"]))
            })
        })
        .await
    }

    async fn inspect(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: InspectOptions,
    ) -> HostResult<String> {
        self.engine_call(Op::NetworkInspect, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                let req = Request::get(network_path(&id, ""))
                    .opt("verbose", o.verbose)
                    .opt("scope", o.scope);
                call.text(req).await
            })
        })
        .await
    }

    async fn remove(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        self.engine_call(Op::NetworkDelete, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                call.unit(Request::delete(network_path(&id, ""))).await
            })
        })
        .await
    }

    async fn create(&mut self, e: Resource<HostEngine>, config: String) -> HostResult<String> {
        self.engine_call(Op::NetworkCreate, &e, move |_, call| {
            Box::pin(async move {
                let client = call.client()?.clone();
                let body = call.gate().network_create(&client, &config).await?;
                call.text(Request::post("/networks/create").json_bytes(body))
                    .await
            })
        })
        .await
    }

    async fn connect(&mut self, e: Resource<HostEngine>, id: String, request: String) -> HostResult<()> {
        self.engine_call(Op::NetworkConnect, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                let client = call.client()?.clone();
                let body = call
                    .gate()
                    .network_endpoint(&client, BodyKind::NetworkConnect, &request)
                    .await?;
                call.unit(Request::post(network_path(&id, "/connect")).json_bytes(body))
                    .await
            })
        })
        .await
    }

    async fn disconnect(&mut self, e: Resource<HostEngine>, id: String, request: String) -> HostResult<()> {
        self.engine_call(Op::NetworkDisconnect, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                let client = call.client()?.clone();
                let body = call
                    .gate()
                    .network_endpoint(&client, BodyKind::NetworkDisconnect, &request)
                    .await?;
                call.unit(Request::post(network_path(&id, "/disconnect")).json_bytes(body))
                    .await
            })
        })
        .await
    }

    async fn prune(&mut self, e: Resource<HostEngine>, o: PruneOptions) -> HostResult<String> {
        self.engine_call(Op::NetworkPrune, &e, move |_, call| {
            Box::pin(async move {
                let filters = call.gate().scope_filters(o.filters);
                call.text(Request::post("/networks/prune").filters(filters.as_ref()))
                    .await
            })
        })
        .await
    }
}
