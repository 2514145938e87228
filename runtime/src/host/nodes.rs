//! `tug:engine/nodes`: the swarm's nodes. Reading them needs `swarm` read access, updating and removing
//! them `swarm` write access (row 28); nodes carry no run labels, so they are not narrowed to the run.

use wasmtime::component::Resource;

use super::{
    bindings::nodes::{self, ListOptions, RemoveOptions, UpdateOptions},
    error::{check, HostResult},
    query::QueryExt,
    resources::HostEngine,
    state::HostState,
};
use crate::{
    engine::{segment, Request},
    policy::canonical::BodyKind,
};

fn node_path(id: &str, rest: &str) -> String {
    format!("/nodes/{}{rest}", segment(id))
}

impl nodes::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        check!(self, self.allow("NodeList"));
        self.json_text(&e, Request::get("/nodes").filters(o.filters.as_ref()))
            .await
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<String> {
        check!(self, self.allow("NodeInspect"));
        self.target(&id);
        self.json_text(&e, Request::get(node_path(&id, ""))).await
    }

    async fn remove(&mut self, e: Resource<HostEngine>, id: String, o: RemoveOptions) -> HostResult<()> {
        check!(self, self.allow("NodeDelete"));
        self.target(&id);
        self.json_unit(&e, Request::delete(node_path(&id, "")).opt("force", o.force))
            .await
    }

    async fn update(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        spec: String,
        o: UpdateOptions,
    ) -> HostResult<()> {
        check!(self, self.allow("NodeUpdate"));
        self.target(&id);
        let body = check!(self, self.gate.swarm_request(BodyKind::NodeUpdate, &spec));
        let req = Request::post(node_path(&id, "/update"))
            .query("version", o.version)
            .json_bytes(body);
        self.json_unit(&e, req).await
    }
}
