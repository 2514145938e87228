//! `tug:engine/images`: image operations answered by one JSON document, and build-cache prune.

use wasmtime::component::Resource;

use super::{
    bindings::images::{
        self, BuildPruneOptions, CommitOptions, ListOptions, PruneOptions, RemoveOptions, SearchOptions,
        TagOptions,
    },
    error::{HostResult, IntoHost},
    query::{json_body, QueryExt},
    resources::HostEngine,
    state::HostState,
};
use crate::engine::Request;

/// `/images/{name}{rest}`. Image names keep their slashes (`registry:5000/repo/name:tag`): the daemon
/// routes `/images/{name:.*}/json`.
pub(crate) fn image_path(name: &str, rest: &str) -> String {
    let encoded: Vec<String> = name.split('/').map(crate::engine::segment).collect();
    format!("/images/{}{rest}", encoded.join("/"))
}

impl images::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        let req = Request::get("/images/json")
            .opt("all", o.all)
            .filters(o.filters.as_ref())
            .opt("digests", o.digests);
        self.json_text(&e, req).await
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, name: String) -> HostResult<String> {
        self.json_text(&e, Request::get(image_path(&name, "/json"))).await
    }

    async fn history(&mut self, e: Resource<HostEngine>, name: String) -> HostResult<String> {
        self.json_text(&e, Request::get(image_path(&name, "/history")))
            .await
    }

    async fn tag(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        repo: String,
        o: TagOptions,
    ) -> HostResult<()> {
        let req = Request::post(image_path(&name, "/tag"))
            .query("repo", repo)
            .opt("tag", o.tag);
        self.json_unit(&e, req).await
    }

    async fn remove(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        o: RemoveOptions,
    ) -> HostResult<String> {
        let req = Request::delete(image_path(&name, ""))
            .opt("force", o.force)
            .opt("noprune", o.noprune);
        self.json_text(&e, req).await
    }

    async fn search(
        &mut self,
        e: Resource<HostEngine>,
        term: String,
        o: SearchOptions,
    ) -> HostResult<String> {
        let req = Request::get("/images/search")
            .query("term", term)
            .opt("limit", o.limit)
            .filters(o.filters.as_ref());
        self.json_text(&e, req).await
    }

    async fn prune(&mut self, e: Resource<HostEngine>, o: PruneOptions) -> HostResult<String> {
        self.json_text(&e, Request::post("/images/prune").filters(o.filters.as_ref()))
            .await
    }

    async fn commit(
        &mut self,
        e: Resource<HostEngine>,
        container: String,
        config: Option<String>,
        o: CommitOptions,
    ) -> HostResult<String> {
        let mut req = Request::post("/commit")
            .query("container", container)
            .opt("repo", o.repo)
            .opt("tag", o.tag)
            .opt("comment", o.comment)
            .opt("author", o.author)
            .opt("pause", o.pause)
            .each("changes", o.changes.as_ref());
        if let Some(config) = config {
            match json_body("images.commit config", &config) {
                Ok(b) => req = req.json_bytes(b),
                Err(err) => return Err(err).into_host(),
            }
        }
        self.json_text(&e, req).await
    }

    async fn build_prune(&mut self, e: Resource<HostEngine>, o: BuildPruneOptions) -> HostResult<String> {
        let req = Request::post("/build/prune")
            .opt("keep-storage", o.keep_storage)
            .opt("all", o.all)
            .filters(o.filters.as_ref());
        self.json_text(&e, req).await
    }
}
