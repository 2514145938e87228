//! `tug:engine/swarm`: init, join, leave, inspect and update the swarm, and its unlock key. Every write
//! needs `swarm` write access; init and join bodies are checked by `policy/rules_swarm.rs` (row 28).

use wasmtime::component::Resource;

use super::{
    bindings::swarm::{self, LeaveOptions, UpdateOptions},
    error::{check, HostResult},
    query::QueryExt,
    resources::HostEngine,
    state::HostState,
};
use crate::{engine::Request, policy::canonical::BodyKind};

impl swarm::Host for HostState {
    async fn inspect(&mut self, e: Resource<HostEngine>) -> HostResult<String> {
        check!(self, self.allow("SwarmInspect"));
        self.json_text(&e, Request::get("/swarm")).await
    }

    async fn init(&mut self, e: Resource<HostEngine>, request: String) -> HostResult<String> {
        check!(self, self.allow("SwarmInit"));
        let body = check!(self, self.gate.swarm_request(BodyKind::SwarmInit, &request));
        self.json_text(&e, Request::post("/swarm/init").json_bytes(body))
            .await
    }

    async fn join(&mut self, e: Resource<HostEngine>, request: String) -> HostResult<()> {
        check!(self, self.allow("SwarmJoin"));
        let body = check!(self, self.gate.swarm_request(BodyKind::SwarmJoin, &request));
        self.json_unit(&e, Request::post("/swarm/join").json_bytes(body))
            .await
    }

    async fn leave(&mut self, e: Resource<HostEngine>, o: LeaveOptions) -> HostResult<()> {
        check!(self, self.allow("SwarmLeave"));
        self.json_unit(&e, Request::post("/swarm/leave").opt("force", o.force))
            .await
    }

    async fn update(&mut self, e: Resource<HostEngine>, spec: String, o: UpdateOptions) -> HostResult<()> {
        check!(self, self.allow("SwarmUpdate"));
        let body = check!(self, self.gate.swarm_request(BodyKind::SwarmUpdate, &spec));
        let req = Request::post("/swarm/update")
            .query("version", o.version)
            .opt("rotateWorkerToken", o.rotate_worker_token)
            .opt("rotateManagerToken", o.rotate_manager_token)
            .opt("rotateManagerUnlockKey", o.rotate_manager_unlock_key)
            .json_bytes(body);
        self.json_unit(&e, req).await
    }

    async fn unlock_key(&mut self, e: Resource<HostEngine>) -> HostResult<String> {
        check!(self, self.allow("SwarmUnlockkey"));
        self.json_text(&e, Request::get("/swarm/unlockkey")).await
    }

    async fn unlock(&mut self, e: Resource<HostEngine>, request: String) -> HostResult<()> {
        check!(self, self.allow("SwarmUnlock"));
        let body = check!(self, self.gate.swarm_request(BodyKind::SwarmUnlock, &request));
        self.json_unit(&e, Request::post("/swarm/unlock").json_bytes(body))
            .await
    }
}
