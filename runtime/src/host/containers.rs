//! `tug:engine/containers`: the container operations answered by one JSON document (or nothing).

use wasmtime::component::Resource;

use super::{
    bindings::containers::{
        self, CreateOptions, InspectOptions, KillOptions, ListOptions, PruneOptions, RemoveOptions,
        RestartOptions, StartOptions, StatsOptions, StopOptions, TopOptions, WaitOptions,
    },
    error::{HostResult, IntoHost},
    query::{json_body, QueryExt},
    resources::HostEngine,
    state::HostState,
    system::path_stat,
};
use crate::engine::{segment, Request};

/// `/containers/{id}{rest}`.
pub(crate) fn container_path(id: &str, rest: &str) -> String {
    format!("/containers/{}{rest}", segment(id))
}

impl containers::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        let req = Request::get("/containers/json")
            .opt("all", o.all)
            .opt("limit", o.limit)
            .opt("size", o.size)
            .filters(o.filters.as_ref());
        self.json_text(&e, req).await
    }

    async fn create(
        &mut self,
        e: Resource<HostEngine>,
        config: String,
        o: CreateOptions,
    ) -> HostResult<String> {
        let body = match json_body("containers.create config", &config) {
            Ok(b) => b,
            Err(err) => return Err(err).into_host(),
        };
        let req = Request::post("/containers/create")
            .opt("name", o.name)
            .opt("platform", o.platform)
            .json_bytes(body);
        self.json_text(&e, req).await
    }

    async fn inspect(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: InspectOptions,
    ) -> HostResult<String> {
        self.json_text(&e, Request::get(container_path(&id, "/json")).opt("size", o.size))
            .await
    }

    async fn top(&mut self, e: Resource<HostEngine>, id: String, o: TopOptions) -> HostResult<String> {
        self.json_text(
            &e,
            Request::get(container_path(&id, "/top")).opt("ps_args", o.ps_args),
        )
        .await
    }

    async fn changes(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<String> {
        self.json_text(&e, Request::get(container_path(&id, "/changes")))
            .await
    }

    async fn resize(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        height: u32,
        width: u32,
    ) -> HostResult<()> {
        let req = Request::post(container_path(&id, "/resize"))
            .opt("h", Some(height))
            .opt("w", Some(width));
        self.json_unit(&e, req).await
    }

    async fn start(&mut self, e: Resource<HostEngine>, id: String, o: StartOptions) -> HostResult<()> {
        let req = Request::post(container_path(&id, "/start")).opt("detachKeys", o.detach_keys);
        self.json_unit(&e, req).await
    }

    async fn stop(&mut self, e: Resource<HostEngine>, id: String, o: StopOptions) -> HostResult<()> {
        self.json_unit(&e, Request::post(container_path(&id, "/stop")).opt("t", o.t))
            .await
    }

    async fn restart(&mut self, e: Resource<HostEngine>, id: String, o: RestartOptions) -> HostResult<()> {
        self.json_unit(&e, Request::post(container_path(&id, "/restart")).opt("t", o.t))
            .await
    }

    async fn kill(&mut self, e: Resource<HostEngine>, id: String, o: KillOptions) -> HostResult<()> {
        self.json_unit(
            &e,
            Request::post(container_path(&id, "/kill")).opt("signal", o.signal),
        )
        .await
    }

    async fn update(&mut self, e: Resource<HostEngine>, id: String, update: String) -> HostResult<String> {
        let body = match json_body("containers.update body", &update) {
            Ok(b) => b,
            Err(err) => return Err(err).into_host(),
        };
        self.json_text(&e, Request::post(container_path(&id, "/update")).json_bytes(body))
            .await
    }

    async fn rename(&mut self, e: Resource<HostEngine>, id: String, name: String) -> HostResult<()> {
        self.json_unit(
            &e,
            Request::post(container_path(&id, "/rename")).query("name", name),
        )
        .await
    }

    async fn pause(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        self.json_unit(&e, Request::post(container_path(&id, "/pause")))
            .await
    }

    async fn unpause(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        self.json_unit(&e, Request::post(container_path(&id, "/unpause")))
            .await
    }

    async fn wait(&mut self, e: Resource<HostEngine>, id: String, o: WaitOptions) -> HostResult<String> {
        let client = self.client(&e)?;
        // Waiting may take as long as the container runs: no call timeout (the run's deadline still holds).
        let req = Request::post(container_path(&id, "/wait")).opt("condition", o.condition);
        match client.download(req).await {
            Ok(mut dl) => {
                let mut body = Vec::new();
                match tokio::io::AsyncReadExt::read_to_end(&mut dl.body, &mut body).await {
                    Ok(_) => Ok(Ok(super::types_impl::text(body.into()))),
                    Err(err) => {
                        Err(crate::engine::Error::transport("reading the wait result", err)).into_host()
                    }
                }
            }
            Err(err) => Err(err).into_host(),
        }
    }

    async fn remove(&mut self, e: Resource<HostEngine>, id: String, o: RemoveOptions) -> HostResult<()> {
        let req = Request::delete(container_path(&id, ""))
            .opt("v", o.v)
            .opt("force", o.force)
            .opt("link", o.link);
        self.json_unit(&e, req).await
    }

    async fn archive_info(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        path: String,
    ) -> HostResult<String> {
        let client = self.client(&e)?;
        client
            .call(Request::head(container_path(&id, "/archive")).query("path", path))
            .await
            .map(|r| path_stat(r.headers().get("x-docker-container-path-stat")))
            .into_host()
    }

    async fn prune(&mut self, e: Resource<HostEngine>, o: PruneOptions) -> HostResult<String> {
        self.json_text(&e, Request::post("/containers/prune").filters(o.filters.as_ref()))
            .await
    }

    async fn stats(&mut self, e: Resource<HostEngine>, id: String, o: StatsOptions) -> HostResult<String> {
        let req = Request::get(container_path(&id, "/stats"))
            .query("stream", false)
            .opt("one-shot", o.one_shot);
        self.json_text(&e, req).await
    }
}
