//! `tug:engine/swarm`: init, join, leave, inspect and update the swarm, and its unlock key. Every write
//! needs `swarm` write access; init and join bodies are checked by `policy/rules_swarm.rs` (row 28).

use wasmtime::component::Resource;

use super::{
    bindings::swarm::{self, LeaveOptions, UpdateOptions},
    call::HostEngine,
    error::HostResult,
    query::QueryExt,
    state::HostState,
};
use crate::{
    engine::Request,
    policy::{canonical::BodyKind, Op},
};

impl swarm::Host for HostState {
    async fn inspect(&mut self, e: Resource<HostEngine>) -> HostResult<String> {
        self.engine_call(Op::SwarmInspect, &e, |_, call| {
            Box::pin(async move { call.text(Request::get("/swarm")).await })
        })
        .await
    }

    async fn init(&mut self, e: Resource<HostEngine>, request: String) -> HostResult<String> {
        self.engine_call(Op::SwarmInit, &e, move |_, call| {
            Box::pin(async move {
                let body = call.gate().swarm_request(BodyKind::SwarmInit, &request)?;
                call.text(Request::post("/swarm/init").json_bytes(body)).await
            })
        })
        .await
    }

    async fn join(&mut self, e: Resource<HostEngine>, request: String) -> HostResult<()> {
        self.engine_call(Op::SwarmJoin, &e, move |_, call| {
            Box::pin(async move {
                let body = call.gate().swarm_request(BodyKind::SwarmJoin, &request)?;
                call.unit(Request::post("/swarm/join").json_bytes(body)).await
            })
        })
        .await
    }

    async fn leave(&mut self, e: Resource<HostEngine>, o: LeaveOptions) -> HostResult<()> {
        self.engine_call(Op::SwarmLeave, &e, move |_, call| {
            Box::pin(async move {
                call.unit(Request::post("/swarm/leave").opt("force", o.force))
                    .await
            })
        })
        .await
    }

    async fn update(&mut self, e: Resource<HostEngine>, spec: String, o: UpdateOptions) -> HostResult<()> {
        self.engine_call(Op::SwarmUpdate, &e, move |_, call| {
            Box::pin(async move {
                let body = call.gate().swarm_request(BodyKind::SwarmUpdate, &spec)?;
                let req = Request::post("/swarm/update")
                    .query("version", o.version)
                    .opt("rotateWorkerToken", o.rotate_worker_token)
                    .opt("rotateManagerToken", o.rotate_manager_token)
                    .opt("rotateManagerUnlockKey", o.rotate_manager_unlock_key)
                    .json_bytes(body);
                call.unit(req).await
            })
        })
        .await
    }

    async fn unlock_key(&mut self, e: Resource<HostEngine>) -> HostResult<String> {
        self.engine_call(Op::SwarmUnlockkey, &e, |_, call| {
            Box::pin(async move { call.text(Request::get("/swarm/unlockkey")).await })
        })
        .await
    }

    async fn unlock(&mut self, e: Resource<HostEngine>, request: String) -> HostResult<()> {
        self.engine_call(Op::SwarmUnlock, &e, move |_, call| {
            Box::pin(async move {
                let body = call.gate().swarm_request(BodyKind::SwarmUnlock, &request)?;
                call.unit(Request::post("/swarm/unlock").json_bytes(body)).await
            })
        })
        .await
    }
}
