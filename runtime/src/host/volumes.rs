//! `tug:engine/volumes`. Every call passes the policy gate: area access, ownership of the volume, checked
//! create bodies, scoped lists.

use wasmtime::component::Resource;

use super::{
    bindings::volumes::{self, ListOptions, PruneOptions, RemoveOptions},
    error::{check, HostResult},
    query::QueryExt,
    resources::HostEngine,
    state::HostState,
};
use crate::engine::{segment, Request};

/// `/volumes/{name}`.
fn volume_path(name: &str) -> String {
    format!("/volumes/{}", segment(name))
}

impl HostState {
    /// Checks an operation on a volume: the run must own it. Volumes are addressed by their exact name.
    async fn own_volume(
        &mut self,
        e: &Resource<HostEngine>,
        operation: &'static str,
        name: &str,
    ) -> HostResult<()> {
        let allowed = self.allow(operation);
        self.target(name);
        check!(self, allowed);
        let client = self.client(e)?;
        check!(self, self.gate.volume(&client, name, "name").await);
        Ok(Ok(()))
    }
}

/// Unwraps `own_volume` inside a host function.
macro_rules! own_volume {
    ($self:ident, $e:expr, $op:expr, $name:expr) => {
        if let Err(err) = $self.own_volume(&$e, $op, &$name).await? {
            return Ok(Err(err));
        }
    };
}

impl volumes::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        check!(self, self.allow("VolumeList"));
        let filters = self.gate.scope_filters(o.filters);
        self.json_text(&e, Request::get("/volumes").filters(filters.as_ref()))
            .await
    }

    async fn create(&mut self, e: Resource<HostEngine>, config: String) -> HostResult<String> {
        check!(self, self.allow("VolumeCreate"));
        let client = self.client(&e)?;
        let body = check!(self, self.gate.volume_create(&client, &config).await);
        self.json_text(&e, Request::post("/volumes/create").json_bytes(body))
            .await
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, name: String) -> HostResult<String> {
        own_volume!(self, e, "VolumeInspect", name);
        self.json_text(&e, Request::get(volume_path(&name))).await
    }

    async fn remove(&mut self, e: Resource<HostEngine>, name: String, o: RemoveOptions) -> HostResult<()> {
        own_volume!(self, e, "VolumeDelete", name);
        self.json_unit(&e, Request::delete(volume_path(&name)).opt("force", o.force))
            .await
    }

    async fn update(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        version: i64,
        spec: String,
    ) -> HostResult<()> {
        let client = self.client(&e)?;
        let speaks = check!(self, client.api_version().await);
        if speaks < crate::engine::ApiVersion::new(1, 42) {
            check!(self, self.allow("VolumeUpdate"));
            check!(
                self,
                Err(crate::engine::Error::VersionTooNew {
                    message: format!(
                        "updating a volume (cluster volumes) needs API ≥ 1.42; this engine speaks {speaks}"
                    ),
                })
            );
        }
        own_volume!(self, e, "VolumeUpdate", name);
        // Only cluster volumes can be updated, and only through swarm, which no policy but an unrestricted
        // one grants: the body is canonicalized as a whole.
        let body = check!(self, self.gate.volume_update(&spec));
        self.json_unit(
            &e,
            Request::put(volume_path(&name))
                .query("version", version)
                .json_bytes(body),
        )
        .await
    }

    async fn prune(&mut self, e: Resource<HostEngine>, o: PruneOptions) -> HostResult<String> {
        check!(self, self.allow("VolumePrune"));
        let filters = self.gate.scope_filters(o.filters);
        self.json_text(&e, Request::post("/volumes/prune").filters(filters.as_ref()))
            .await
    }
}
