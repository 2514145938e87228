//! `tug:engine/containers`: the container operations answered by one JSON document (or nothing). Every
//! call runs under a permit (`host/call.rs`): area access, the target resolved to the run's own container
//! by its full id, checked bodies, scoped lists.

use wasmtime::component::Resource;

use super::{
    bindings::{
        containers::{
            self, CreateOptions, InspectOptions, KillOptions, ListOptions, PruneOptions, RemoveOptions,
            RestartOptions, StartOptions, StatsOptions, StopOptions, TopOptions, WaitOptions,
        },
        types::Error as WitError,
    },
    call::{Call, HostEngine},
    error::HostResult,
    query::QueryExt,
    state::HostState,
    system::path_stat,
};
use crate::{
    engine::{segment, Request},
    policy::{rules, Op},
};

/// `/containers/{id}{rest}`.
pub(crate) fn container_path(id: &str, rest: &str) -> String {
    format!("/containers/{}{rest}", segment(id))
}

/// Checkpoints exist only on engines with experimental features: elsewhere a clear error.
async fn experimental(call: &Call) -> Result<(), WitError> {
    if call.client()?.ping().await?.experimental {
        return Ok(());
    }
    Err(WitError::ApiVersion(
        "checkpoints need an engine with experimental features; this one has none".into(),
    ))
}

/// A call on one container of the run's own: the container resolved to its full id, then `req` built
/// from it, its answer returned as text.
macro_rules! on_container {
    ($self:ident, $op:expr, $e:expr, $id:expr, |$full:ident| $req:expr) => {
        $self
            .engine_call($op, &$e, move |_, call| {
                Box::pin(async move {
                    let $full = call.own(&$id).await?;
                    call.text($req).await
                })
            })
            .await
    };
}

/// The same, for a call whose answer is discarded.
macro_rules! on_container_unit {
    ($self:ident, $op:expr, $e:expr, $id:expr, |$full:ident| $req:expr) => {
        $self
            .engine_call($op, &$e, move |_, call| {
                Box::pin(async move {
                    let $full = call.own(&$id).await?;
                    call.unit($req).await
                })
            })
            .await
    };
}

impl containers::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        self.engine_call(Op::ContainerList, &e, move |_, call| {
            Box::pin(async move {
                let client = call.client()?.clone();
                let named = call.gate().container_list_filters(&client, o.filters).await?;
                let filters = call.gate().scope_filters(named);
                let req = Request::get("/containers/json")
                    .opt("all", o.all)
                    .opt("limit", o.limit)
                    .opt("size", o.size)
                    .filters(filters.as_ref());
                let list = call.text(req).await?;
                Ok(call.gate().keep_owned(list, &["Labels"]))
            })
        })
        .await
    }

    async fn create(
        &mut self,
        e: Resource<HostEngine>,
        config: String,
        o: CreateOptions,
    ) -> HostResult<String> {
        self.engine_call(Op::ContainerCreate, &e, move |_, call| {
            Box::pin(async move {
                if let Some(name) = &o.name {
                    call.target(name);
                    call.gate().container_name(name, "name")?;
                }
                let client = call.client()?.clone();
                let body = call.gate().container_create(&client, &config).await?;
                let req = Request::post("/containers/create")
                    .opt("name", o.name)
                    .opt("platform", o.platform)
                    .json_bytes(body);
                let created = call.text(req).await?;
                let id = serde_json::from_str::<serde_json::Value>(&created)
                    .ok()
                    .and_then(|v| v["Id"].as_str().map(str::to_owned));
                if let Some(id) = id {
                    // Later calls naming this id need no ownership lookup (`Gate::container`).
                    call.gate().remember_container(&id);
                }
                Ok(created)
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
        on_container!(self, Op::ContainerInspect, e, id, |id| Request::get(
            container_path(&id, "/json")
        )
        .opt("size", o.size))
    }

    async fn top(&mut self, e: Resource<HostEngine>, id: String, o: TopOptions) -> HostResult<String> {
        self.engine_call(Op::ContainerTop, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                rules::top_args(call.gate(), o.ps_args.as_deref())?;
                call.text(Request::get(container_path(&id, "/top")).opt("ps_args", o.ps_args))
                    .await
            })
        })
        .await
    }

    async fn changes(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<String> {
        on_container!(self, Op::ContainerChanges, e, id, |id| Request::get(
            container_path(&id, "/changes")
        ))
    }

    async fn resize(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        height: u32,
        width: u32,
    ) -> HostResult<()> {
        on_container_unit!(self, Op::ContainerResize, e, id, |id| Request::post(
            container_path(&id, "/resize")
        )
        .opt("h", Some(height))
        .opt("w", Some(width)))
    }

    async fn start(&mut self, e: Resource<HostEngine>, id: String, o: StartOptions) -> HostResult<()> {
        on_container_unit!(self, Op::ContainerStart, e, id, |id| Request::post(
            container_path(&id, "/start")
        )
        .opt("detachKeys", o.detach_keys))
    }

    async fn stop(&mut self, e: Resource<HostEngine>, id: String, o: StopOptions) -> HostResult<()> {
        on_container_unit!(self, Op::ContainerStop, e, id, |id| Request::post(
            container_path(&id, "/stop")
        )
        .opt("t", o.t))
    }

    async fn restart(&mut self, e: Resource<HostEngine>, id: String, o: RestartOptions) -> HostResult<()> {
        on_container_unit!(self, Op::ContainerRestart, e, id, |id| Request::post(
            container_path(&id, "/restart")
        )
        .opt("t", o.t))
    }

    async fn kill(&mut self, e: Resource<HostEngine>, id: String, o: KillOptions) -> HostResult<()> {
        on_container_unit!(self, Op::ContainerKill, e, id, |id| Request::post(
            container_path(&id, "/kill")
        )
        .opt("signal", o.signal))
    }

    async fn update(&mut self, e: Resource<HostEngine>, id: String, update: String) -> HostResult<String> {
        self.engine_call(Op::ContainerUpdate, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                let body = call.gate().container_update(&update)?;
                call.text(Request::post(container_path(&id, "/update")).json_bytes(body))
                    .await
            })
        })
        .await
    }

    async fn rename(&mut self, e: Resource<HostEngine>, id: String, name: String) -> HostResult<()> {
        self.engine_call(Op::ContainerRename, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                call.gate().container_name(&name, "name")?;
                call.unit(Request::post(container_path(&id, "/rename")).query("name", name))
                    .await
            })
        })
        .await
    }

    async fn pause(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        on_container_unit!(self, Op::ContainerPause, e, id, |id| Request::post(
            container_path(&id, "/pause")
        ))
    }

    async fn unpause(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        on_container_unit!(self, Op::ContainerUnpause, e, id, |id| Request::post(
            container_path(&id, "/unpause")
        ))
    }

    async fn wait(&mut self, e: Resource<HostEngine>, id: String, o: WaitOptions) -> HostResult<String> {
        self.engine_call(Op::ContainerWait, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                // Waiting may take as long as the container runs: no call timeout (the run's deadline
                // still holds).
                let req = Request::post(container_path(&id, "/wait")).opt("condition", o.condition);
                let mut dl = call.download(req).await?;
                let mut body = Vec::new();
                tokio::io::AsyncReadExt::read_to_end(&mut dl.body, &mut body)
                    .await
                    .map_err(|err| crate::engine::Error::transport("reading the wait result", err))?;
                call.bytes(body.len() as u64);
                Ok(super::types_impl::text(body.into()))
            })
        })
        .await
    }

    async fn remove(&mut self, e: Resource<HostEngine>, id: String, o: RemoveOptions) -> HostResult<()> {
        self.engine_call(Op::ContainerDelete, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                // Anonymous volumes go with the container: they carry no labels, so nothing of the run
                // could reach them again, and they would outlive it.
                let v = if call.gate().unrestricted() {
                    o.v
                } else {
                    Some(true)
                };
                let req = Request::delete(container_path(&id, ""))
                    .opt("v", v)
                    .opt("force", o.force)
                    .opt("link", o.link);
                call.unit(req).await?;
                call.gate().forget_container(&id);
                Ok(())
            })
        })
        .await
    }

    async fn archive_info(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        path: String,
    ) -> HostResult<String> {
        self.engine_call(Op::ContainerArchiveInfo, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                let r = call
                    .client()?
                    .call(Request::head(container_path(&id, "/archive")).query("path", path))
                    .await?;
                Ok(path_stat(r.headers().get("x-docker-container-path-stat")))
            })
        })
        .await
    }

    async fn checkpoint_list(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<String> {
        self.engine_call(Op::CheckpointList, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                experimental(call).await?;
                call.text(Request::get(container_path(&id, "/checkpoints"))).await
            })
        })
        .await
    }

    async fn checkpoint_create(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        config: String,
    ) -> HostResult<()> {
        self.engine_call(Op::CheckpointCreate, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                experimental(call).await?;
                let body: serde_json::Value = serde_json::from_str(&config)
                    .map_err(|err| WitError::InvalidArgument(format!("checkpoint config: {err}")))?;
                let checked = serde_json::json!({
                    "CheckpointID": body["CheckpointID"],
                    "CheckpointDir": serde_json::Value::Null,
                    "Exit": body["Exit"],
                });
                let req = Request::post(container_path(&id, "/checkpoints")).json(&checked)?;
                call.unit(req).await
            })
        })
        .await
    }

    async fn checkpoint_delete(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        name: String,
    ) -> HostResult<()> {
        self.engine_call(Op::CheckpointDelete, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                experimental(call).await?;
                let path = container_path(&id, &format!("/checkpoints/{}", segment(&name)));
                call.unit(Request::delete(path)).await
            })
        })
        .await
    }

    async fn prune(&mut self, e: Resource<HostEngine>, o: PruneOptions) -> HostResult<String> {
        self.engine_call(Op::ContainerPrune, &e, move |_, call| {
            Box::pin(async move {
                let filters = call.gate().scope_filters(o.filters);
                call.text(Request::post("/containers/prune").filters(filters.as_ref()))
                    .await
            })
        })
        .await
    }

    async fn stats(&mut self, e: Resource<HostEngine>, id: String, o: StatsOptions) -> HostResult<String> {
        on_container!(self, Op::ContainerStats, e, id, |id| Request::get(
            container_path(&id, "/stats")
        )
        .query("stream", false)
        .opt("one-shot", o.one_shot))
    }
}
