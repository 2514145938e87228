//! `tug:engine/nodes`: the swarm's nodes. Reading them needs `swarm` read access, updating and removing
//! them `swarm` write access (row 28); nodes carry no run labels, so they are not narrowed to the run.

use wasmtime::component::Resource;

use super::{
    bindings::nodes::{self, ListOptions, RemoveOptions, UpdateOptions},
    call::HostEngine,
    error::HostResult,
    query::QueryExt,
    state::HostState,
};
use crate::{
    engine::{segment, Request},
    policy::{canonical::BodyKind, Op},
};

fn node_path(id: &str, rest: &str) -> String {
    format!("/nodes/{}{rest}", segment(id))
}

impl nodes::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        self.engine_call(Op::NodeList, &e, move |_, call| {
            Box::pin(async move {
                call.text(Request::get("/nodes").filters(o.filters.as_ref()))
                    .await
            })
        })
        .await
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<String> {
        self.engine_call(Op::NodeInspect, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                call.text(Request::get(node_path(&id, ""))).await
            })
        })
        .await
    }

    async fn remove(&mut self, e: Resource<HostEngine>, id: String, o: RemoveOptions) -> HostResult<()> {
        self.engine_call(Op::NodeDelete, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                call.unit(Request::delete(node_path(&id, "")).opt("force", o.force))
                    .await
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
        self.engine_call(Op::NodeUpdate, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                let body = call.gate().swarm_request(BodyKind::NodeUpdate, &spec)?;
                let req = Request::post(node_path(&id, "/update"))
                    .query("version", o.version)
                    .json_bytes(body);
                call.unit(req).await
            })
        })
        .await
    }
}
