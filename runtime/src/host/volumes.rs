//! `tug:engine/volumes`. Every call runs under a permit: area access, the volume the run's own (volumes
//! are addressed by their exact name), checked create bodies, scoped lists.

use wasmtime::component::Resource;

use super::{
    bindings::{
        types::Error as WitError,
        volumes::{self, ListOptions, PruneOptions, RemoveOptions},
    },
    call::HostEngine,
    error::HostResult,
    query::QueryExt,
    state::HostState,
};
use crate::{
    engine::{segment, Request},
    policy::Op,
};

/// `/volumes/{name}`.
fn volume_path(name: &str) -> String {
    format!("/volumes/{}", segment(name))
}

impl volumes::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        self.engine_call(Op::VolumeList, &e, move |_, call| {
            Box::pin(async move {
                let filters = call.gate().scope_filters(o.filters);
                let list = call
                    .text(Request::get("/volumes").filters(filters.as_ref()))
                    .await?;
                Ok(call.gate().keep_owned(list, &["Labels"]))
            })
        })
        .await
    }

    async fn create(&mut self, e: Resource<HostEngine>, config: String) -> HostResult<String> {
        self.engine_call(Op::VolumeCreate, &e, move |_, call| {
            Box::pin(async move {
                let client = call.client()?.clone();
                let body = call.gate().volume_create(&client, &config).await?;
                call.text(Request::post("/volumes/create").json_bytes(body)).await
            })
        })
        .await
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, name: String) -> HostResult<String> {
        self.engine_call(Op::VolumeInspect, &e, move |_, call| {
            Box::pin(async move {
                let name = call.own(&name).await?;
                call.text(Request::get(volume_path(&name))).await
            })
        })
        .await
    }

    async fn remove(&mut self, e: Resource<HostEngine>, name: String, o: RemoveOptions) -> HostResult<()> {
        self.engine_call(Op::VolumeDelete, &e, move |_, call| {
            Box::pin(async move {
                let name = call.own(&name).await?;
                call.unit(Request::delete(volume_path(&name)).opt("force", o.force))
                    .await
            })
        })
        .await
    }

    async fn update(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        version: i64,
        spec: String,
    ) -> HostResult<()> {
        self.engine_call(Op::VolumeUpdate, &e, move |_, call| {
            Box::pin(async move {
                let speaks = call.client()?.api_version().await?;
                if speaks < crate::engine::ApiVersion::new(1, 42) {
                    return Err(WitError::ApiVersion(format!(
                        "updating a volume (cluster volumes) needs API ≥ 1.42; this engine speaks {speaks}"
                    )));
                }
                let name = call.own(&name).await?;
                // Only cluster volumes can be updated, and only through swarm, which no policy but an
                // unrestricted one grants: the body is canonicalized as a whole.
                let body = call.gate().volume_update(&spec)?;
                call.unit(
                    Request::put(volume_path(&name))
                        .query("version", version)
                        .json_bytes(body),
                )
                .await
            })
        })
        .await
    }

    async fn prune(&mut self, e: Resource<HostEngine>, o: PruneOptions) -> HostResult<String> {
        self.engine_call(Op::VolumePrune, &e, move |_, call| {
            Box::pin(async move {
                let filters = call.gate().scope_filters(o.filters);
                call.text(Request::post("/volumes/prune").filters(filters.as_ref()))
                    .await
            })
        })
        .await
    }
}
