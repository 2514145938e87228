//! `tug:engine/containers`: the container operations answered by one JSON document (or nothing). Every
//! call passes the policy gate: area access, ownership of the target, checked bodies, scoped lists.

use wasmtime::component::Resource;

use super::{
    bindings::containers::{
        self, CreateOptions, InspectOptions, KillOptions, ListOptions, PruneOptions, RemoveOptions,
        RestartOptions, StartOptions, StatsOptions, StopOptions, TopOptions, WaitOptions,
    },
    error::{check, HostResult, IntoHost},
    query::QueryExt,
    resources::HostEngine,
    state::HostState,
    system::path_stat,
};
use crate::engine::{segment, Request};

/// `/containers/{id}{rest}`.
pub(crate) fn container_path(id: &str, rest: &str) -> String {
    format!("/containers/{}{rest}", segment(id))
}

impl HostState {
    /// Checks an operation on a container and returns the container's full id (the run must own it).
    pub(crate) async fn own_container(
        &mut self,
        e: &Resource<HostEngine>,
        operation: &'static str,
        id: &str,
    ) -> wasmtime::Result<Result<String, super::bindings::types::Error>> {
        use super::error::IntoWit;
        let allowed = self.allow(operation);
        self.target(id);
        if let Err(d) = allowed {
            return Ok(self.ended(Err(d.into_wit()), 0));
        }
        let client = self.client(e)?;
        let owned = self
            .gate
            .container(&client, id, "id")
            .await
            .map_err(IntoWit::into_wit);
        if owned.is_err() {
            return Ok(self.ended(owned, 0));
        }
        Ok(owned)
    }
}

impl HostState {
    /// Checkpoints exist only on engines with experimental features: elsewhere a clear error.
    async fn experimental(
        &mut self,
        e: &Resource<HostEngine>,
    ) -> wasmtime::Result<Result<(), crate::engine::Error>> {
        let client = self.client(e)?;
        Ok(match client.ping().await {
            Ok(p) if p.experimental => Ok(()),
            Ok(_) => Err(crate::engine::Error::VersionTooNew {
                message: "checkpoints need an engine with experimental features; this one has none".into(),
            }),
            Err(err) => Err(err),
        })
    }
}

/// Unwraps `own_container`'s answer inside a host function.
macro_rules! own {
    ($self:ident, $e:expr, $op:expr, $id:expr) => {
        match $self.own_container(&$e, $op, &$id).await? {
            Ok(full) => full,
            Err(err) => return Ok(Err(err)),
        }
    };
}
pub(crate) use own;

impl containers::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        check!(self, self.allow("ContainerList"));
        let filters = self.gate.scope_filters(o.filters);
        let req = Request::get("/containers/json")
            .opt("all", o.all)
            .opt("limit", o.limit)
            .opt("size", o.size)
            .filters(filters.as_ref());
        self.json_text(&e, req).await
    }

    async fn create(
        &mut self,
        e: Resource<HostEngine>,
        config: String,
        o: CreateOptions,
    ) -> HostResult<String> {
        check!(self, self.allow("ContainerCreate"));
        if let Some(name) = &o.name {
            check!(self, self.gate.container_name(name, "name"));
        }
        let client = self.client(&e)?;
        let body = check!(self, self.gate.container_create(&client, &config).await);
        let req = Request::post("/containers/create")
            .opt("name", o.name)
            .opt("platform", o.platform)
            .json_bytes(body);
        let created = self.json_text(&e, req).await?;
        if let Ok(text) = &created {
            let id = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v["Id"].as_str().map(str::to_owned));
            if let Some(id) = id {
                // Later calls naming this id need no ownership lookup (`Gate::container`).
                self.gate.remember_container(&id);
            }
        }
        Ok(created)
    }

    async fn inspect(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: InspectOptions,
    ) -> HostResult<String> {
        let id = own!(self, e, "ContainerInspect", id);
        self.json_text(&e, Request::get(container_path(&id, "/json")).opt("size", o.size))
            .await
    }

    async fn top(&mut self, e: Resource<HostEngine>, id: String, o: TopOptions) -> HostResult<String> {
        let id = own!(self, e, "ContainerTop", id);
        self.json_text(
            &e,
            Request::get(container_path(&id, "/top")).opt("ps_args", o.ps_args),
        )
        .await
    }

    async fn changes(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<String> {
        let id = own!(self, e, "ContainerChanges", id);
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
        let id = own!(self, e, "ContainerResize", id);
        let req = Request::post(container_path(&id, "/resize"))
            .opt("h", Some(height))
            .opt("w", Some(width));
        self.json_unit(&e, req).await
    }

    async fn start(&mut self, e: Resource<HostEngine>, id: String, o: StartOptions) -> HostResult<()> {
        let id = own!(self, e, "ContainerStart", id);
        let req = Request::post(container_path(&id, "/start")).opt("detachKeys", o.detach_keys);
        self.json_unit(&e, req).await
    }

    async fn stop(&mut self, e: Resource<HostEngine>, id: String, o: StopOptions) -> HostResult<()> {
        let id = own!(self, e, "ContainerStop", id);
        self.json_unit(&e, Request::post(container_path(&id, "/stop")).opt("t", o.t))
            .await
    }

    async fn restart(&mut self, e: Resource<HostEngine>, id: String, o: RestartOptions) -> HostResult<()> {
        let id = own!(self, e, "ContainerRestart", id);
        self.json_unit(&e, Request::post(container_path(&id, "/restart")).opt("t", o.t))
            .await
    }

    async fn kill(&mut self, e: Resource<HostEngine>, id: String, o: KillOptions) -> HostResult<()> {
        let id = own!(self, e, "ContainerKill", id);
        self.json_unit(
            &e,
            Request::post(container_path(&id, "/kill")).opt("signal", o.signal),
        )
        .await
    }

    async fn update(&mut self, e: Resource<HostEngine>, id: String, update: String) -> HostResult<String> {
        let id = own!(self, e, "ContainerUpdate", id);
        let body = check!(self, self.gate.container_update(&update));
        self.json_text(&e, Request::post(container_path(&id, "/update")).json_bytes(body))
            .await
    }

    async fn rename(&mut self, e: Resource<HostEngine>, id: String, name: String) -> HostResult<()> {
        let id = own!(self, e, "ContainerRename", id);
        check!(self, self.gate.container_name(&name, "name"));
        self.json_unit(
            &e,
            Request::post(container_path(&id, "/rename")).query("name", name),
        )
        .await
    }

    async fn pause(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        let id = own!(self, e, "ContainerPause", id);
        self.json_unit(&e, Request::post(container_path(&id, "/pause")))
            .await
    }

    async fn unpause(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        let id = own!(self, e, "ContainerUnpause", id);
        self.json_unit(&e, Request::post(container_path(&id, "/unpause")))
            .await
    }

    async fn wait(&mut self, e: Resource<HostEngine>, id: String, o: WaitOptions) -> HostResult<String> {
        let id = own!(self, e, "ContainerWait", id);
        let client = self.client(&e)?;
        // Waiting may take as long as the container runs: no call timeout (the run's deadline still holds).
        let req = Request::post(container_path(&id, "/wait")).opt("condition", o.condition);
        let mut dl = check!(self, client.download(req).await);
        let mut body = Vec::new();
        if let Err(err) = tokio::io::AsyncReadExt::read_to_end(&mut dl.body, &mut body).await {
            return Err(crate::engine::Error::transport("reading the wait result", err)).into_host();
        }
        Ok(Ok(super::types_impl::text(body.into())))
    }

    async fn remove(&mut self, e: Resource<HostEngine>, id: String, o: RemoveOptions) -> HostResult<()> {
        let id = own!(self, e, "ContainerDelete", id);
        let req = Request::delete(container_path(&id, ""))
            .opt("v", o.v)
            .opt("force", o.force)
            .opt("link", o.link);
        let removed = self.json_unit(&e, req).await;
        if matches!(removed, Ok(Ok(()))) {
            self.gate.forget_container(&id);
        }
        removed
    }

    async fn archive_info(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        path: String,
    ) -> HostResult<String> {
        let id = own!(self, e, "ContainerArchiveInfo", id);
        let client = self.client(&e)?;
        client
            .call(Request::head(container_path(&id, "/archive")).query("path", path))
            .await
            .map(|r| path_stat(r.headers().get("x-docker-container-path-stat")))
            .into_host()
    }

    async fn checkpoint_list(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<String> {
        let id = own!(self, e, "CheckpointList", id);
        check!(self, self.experimental(&e).await?);
        self.json_text(&e, Request::get(container_path(&id, "/checkpoints")))
            .await
    }

    async fn checkpoint_create(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        config: String,
    ) -> HostResult<()> {
        let id = own!(self, e, "CheckpointCreate", id);
        check!(self, self.experimental(&e).await?);
        let body: serde_json::Value = check!(
            self,
            serde_json::from_str(&config)
                .map_err(|err| crate::engine::Error::InvalidArgument(format!("checkpoint config: {err}")))
        );
        let checked = serde_json::json!({
            "CheckpointID": body["CheckpointID"],
            "CheckpointDir": serde_json::Value::Null,
            "Exit": body["Exit"],
        });
        let req = check!(
            self,
            Request::post(container_path(&id, "/checkpoints")).json(&checked)
        );
        self.json_unit(&e, req).await
    }

    async fn checkpoint_delete(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        name: String,
    ) -> HostResult<()> {
        let id = own!(self, e, "CheckpointDelete", id);
        check!(self, self.experimental(&e).await?);
        let path = container_path(&id, &format!("/checkpoints/{}", segment(&name)));
        self.json_unit(&e, Request::delete(path)).await
    }

    async fn prune(&mut self, e: Resource<HostEngine>, o: PruneOptions) -> HostResult<String> {
        check!(self, self.allow("ContainerPrune"));
        let filters = self.gate.scope_filters(o.filters);
        self.json_text(&e, Request::post("/containers/prune").filters(filters.as_ref()))
            .await
    }

    async fn stats(&mut self, e: Resource<HostEngine>, id: String, o: StatsOptions) -> HostResult<String> {
        let id = own!(self, e, "ContainerStats", id);
        let req = Request::get(container_path(&id, "/stats"))
            .query("stream", false)
            .opt("one-shot", o.one_shot);
        self.json_text(&e, req).await
    }
}
