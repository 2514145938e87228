//! `tug:engine/exec` and `tug:engine/exec-streams`. An exec instance is the run's when its container is.

use serde_json::json;
use wasmtime::component::Resource;

use super::{
    bindings::{
        exec,
        exec_streams::{self, StartOptions},
    },
    call::{HostEngine, Reentry},
    containers::container_path,
    error::HostResult,
    query::QueryExt,
    resources::HostAttachedSocket,
    state::HostState,
};
use crate::{
    engine::{segment, Request},
    policy::Op,
};

/// `/exec/{id}{rest}`.
fn exec_path(id: &str, rest: &str) -> String {
    format!("/exec/{}{rest}", segment(id))
}

impl exec::Host for HostState {
    async fn create(&mut self, e: Resource<HostEngine>, id: String, config: String) -> HostResult<String> {
        self.engine_call(Op::ContainerExec, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                let client = call.client()?.clone();
                let body = call.gate().exec_create(&client, &id, &config).await?;
                call.text(Request::post(container_path(&id, "/exec")).json_bytes(body))
                    .await
            })
        })
        .await
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<String> {
        self.engine_call(Op::ExecInspect, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                call.text(Request::get(exec_path(&id, "/json"))).await
            })
        })
        .await
    }

    async fn resize(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        height: u32,
        width: u32,
    ) -> HostResult<()> {
        self.engine_call(Op::ExecResize, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                let req = Request::post(exec_path(&id, "/resize"))
                    .opt("h", Some(height))
                    .opt("w", Some(width));
                call.unit(req).await
            })
        })
        .await
    }

    async fn start_detached(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        self.engine_call(Op::ExecStart, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                let req =
                    Request::post(exec_path(&id, "/start")).json(&json!({ "Detach": true, "Tty": false }))?;
                call.unit(req).await
            })
        })
        .await
    }
}

impl exec_streams::Host for HostState {
    async fn start(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: StartOptions,
    ) -> HostResult<Resource<HostAttachedSocket>> {
        let engine = self.table.get(&e)?.clone();
        let r = self
            .engine_call(Op::ExecStart, &e, move |_, call| {
                Box::pin(async move {
                    let resolved = call.resolve(&id).await?;
                    let id = resolved.id;
                    // As the exec instance was created (docker-py asks the caller; the gate read it).
                    let tty = o
                        .tty
                        .unwrap_or_else(|| resolved.doc["ProcessConfig"]["tty"].as_bool().unwrap_or(false));
                    let req = Request::post(exec_path(&id, "/start"))
                        .json(&json!({ "Detach": false, "Tty": tty }))?;
                    let socket = call.client()?.hijack(req).await?;
                    let resize = Reentry::new(&engine, Op::ExecResize, &id, exec_path(&id, "/resize"));
                    let stdin = o.stdin.unwrap_or(false);
                    let mut s = HostAttachedSocket::new(socket, tty, true, resize);
                    if !stdin {
                        // The WIT contract: without stdin, the process reads end-of-file at once.
                        if let Some(tx) = &s.stdin {
                            super::resources::close(tx);
                        }
                        s.stdin = None;
                    }
                    Ok(s)
                })
            })
            .await;
        self.hand_out(r)
    }
}
