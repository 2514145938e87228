//! `tug:engine/exec` and `tug:engine/exec-streams`.

use serde_json::{json, Value};
use wasmtime::component::Resource;

use super::{
    bindings::{
        exec,
        exec_streams::{self, StartOptions},
    },
    containers::{container_path, own},
    error::{check, HostResult, IntoHost},
    query::QueryExt,
    resources::{HostAttachedSocket, HostEngine, ResizeTarget},
    state::HostState,
};
use crate::engine::{segment, Request};

/// `/exec/{id}{rest}`.
fn exec_path(id: &str, rest: &str) -> String {
    format!("/exec/{}{rest}", segment(id))
}

impl HostState {
    /// Checks an operation on an exec instance: it must run in a container the run owns.
    async fn own_exec(
        &mut self,
        e: &Resource<HostEngine>,
        operation: &'static str,
        id: &str,
    ) -> HostResult<()> {
        check!(self, self.allow(operation));
        let client = self.client(e)?;
        check!(self, self.gate.exec(&client, id).await);
        Ok(Ok(()))
    }
}

/// Unwraps `own_exec` inside a host function.
macro_rules! own_exec {
    ($self:ident, $e:expr, $op:expr, $id:expr) => {
        if let Err(err) = $self.own_exec(&$e, $op, &$id).await? {
            return Ok(Err(err));
        }
    };
}

impl exec::Host for HostState {
    async fn create(&mut self, e: Resource<HostEngine>, id: String, config: String) -> HostResult<String> {
        let id = own!(self, e, "ContainerExec", id);
        let body = check!(self, self.gate.exec_create(&config));
        self.json_text(&e, Request::post(container_path(&id, "/exec")).json_bytes(body))
            .await
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<String> {
        own_exec!(self, e, "ExecInspect", id);
        self.json_text(&e, Request::get(exec_path(&id, "/json"))).await
    }

    async fn resize(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        height: u32,
        width: u32,
    ) -> HostResult<()> {
        own_exec!(self, e, "ExecResize", id);
        let req = Request::post(exec_path(&id, "/resize"))
            .opt("h", Some(height))
            .opt("w", Some(width));
        self.json_unit(&e, req).await
    }

    async fn start_detached(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        own_exec!(self, e, "ExecStart", id);
        let req = match Request::post(exec_path(&id, "/start")).json(&json!({ "Detach": true, "Tty": false }))
        {
            Ok(r) => r,
            Err(err) => return Err(err).into_host(),
        };
        self.json_unit(&e, req).await
    }
}

impl exec_streams::Host for HostState {
    async fn start(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: StartOptions,
    ) -> HostResult<Resource<HostAttachedSocket>> {
        own_exec!(self, e, "ExecStart", id);
        let client = self.client(&e)?;
        let tty = match o.tty {
            Some(t) => t,
            // As the exec instance was created (docker-py asks the caller; we ask the daemon).
            None => match client.json::<Value>(Request::get(exec_path(&id, "/json"))).await {
                Ok(v) => v["ProcessConfig"]["tty"].as_bool().unwrap_or(false),
                Err(err) => return Err(err).into_host(),
            },
        };
        let req = match Request::post(exec_path(&id, "/start")).json(&json!({ "Detach": false, "Tty": tty }))
        {
            Ok(r) => r,
            Err(err) => return Err(err).into_host(),
        };
        match client.hijack(req).await {
            Ok(socket) => {
                let resize = ResizeTarget {
                    client,
                    path: exec_path(&id, "/resize"),
                };
                let stdin = o.stdin.unwrap_or(false);
                let mut s = HostAttachedSocket::new(socket, tty, true, resize);
                if !stdin {
                    // The WIT contract: without stdin, the process reads end-of-file at once.
                    if let Some(tx) = &s.stdin {
                        super::resources::close(tx);
                    }
                    s.stdin = None;
                }
                Ok(Ok(self.table.push(s)?))
            }
            Err(err) => Err(err).into_host(),
        }
    }
}
