//! `tug:engine/container-streams`: logs, export, streaming stats, attach and archives.

use serde_json::Value;
use wasmtime::component::Resource;
use wasmtime_wasi::p2::DynInputStream;

use super::{
    bindings::{
        container_streams::{self, Archive, AttachOptions, LogsOptions, PutArchiveOptions},
        types::Error as WitError,
    },
    call::{Call, HostEngine, Reentry},
    containers::container_path,
    error::HostResult,
    input_streams::BodyInputStream,
    query::QueryExt,
    resources::{HostAttachedSocket, HostFrameReader, HostJsonStream, HostUpload},
    state::HostState,
    system::path_stat,
};
use crate::{engine::Request, policy::Op};

/// Whether a container has a TTY (its logs and attach output are then raw), as docker-py finds out.
async fn container_tty(call: &Call, id: &str) -> Result<bool, WitError> {
    let v: Value = call
        .client()?
        .json(Request::get(container_path(id, "/json")))
        .await?;
    Ok(v["Config"]["Tty"].as_bool().unwrap_or(false))
}

/// An attach request's query.
fn attach_query(req: Request, o: &AttachOptions) -> Request {
    req.opt("stream", o.stream)
        .opt("stdin", o.stdin)
        .opt("stdout", o.stdout)
        .opt("stderr", o.stderr)
        .opt("logs", o.logs)
        .opt("detachKeys", o.detach_keys.clone())
}

impl container_streams::Host for HostState {
    async fn logs(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: LogsOptions,
    ) -> HostResult<Resource<HostFrameReader>> {
        let r = self
            .engine_call(Op::ContainerLogs, &e, move |_, call| {
                Box::pin(async move {
                    let id = call.own(&id).await?;
                    let tty = container_tty(call, &id).await?;
                    let req = Request::get(container_path(&id, "/logs"))
                        .opt("follow", o.follow)
                        .opt("stdout", o.stdout)
                        .opt("stderr", o.stderr)
                        .opt("since", o.since)
                        .opt("until", o.until)
                        .opt("timestamps", o.timestamps)
                        .opt("tail", o.tail);
                    call.frames(req, tty).await
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn export(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<Resource<DynInputStream>> {
        let r = self
            .engine_call(Op::ContainerExport, &e, move |_, call| {
                Box::pin(async move {
                    let id = call.own(&id).await?;
                    let dl = call
                        .download(Request::get(container_path(&id, "/export")))
                        .await?;
                    Ok(Box::new(BodyInputStream::new(dl.body).tapped(call.tap())) as DynInputStream)
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn stats(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<Resource<HostJsonStream>> {
        let r = self
            .engine_call(Op::ContainerStats, &e, move |_, call| {
                Box::pin(async move {
                    let id = call.own(&id).await?;
                    let req = Request::get(container_path(&id, "/stats")).query("stream", true);
                    Ok(HostJsonStream::new(call.json_stream(req).await?))
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn attach(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: AttachOptions,
    ) -> HostResult<Resource<HostAttachedSocket>> {
        let engine = self.table.get(&e)?.clone();
        let r = self
            .engine_call(Op::ContainerAttach, &e, move |_, call| {
                Box::pin(async move {
                    let id = call.own(&id).await?;
                    let tty = container_tty(call, &id).await?;
                    let stdin = o.stdin.unwrap_or(false);
                    let req = attach_query(Request::post(container_path(&id, "/attach")), &o);
                    let socket = call.client()?.hijack(req).await?;
                    let resize =
                        Reentry::new(&engine, Op::ContainerResize, &id, container_path(&id, "/resize"));
                    Ok(HostAttachedSocket::new(socket, tty, stdin, resize))
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn attach_websocket(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: AttachOptions,
    ) -> HostResult<Resource<HostAttachedSocket>> {
        let engine = self.table.get(&e)?.clone();
        let r = self
            .engine_call(Op::ContainerAttachWebsocket, &e, move |_, call| {
                Box::pin(async move {
                    let id = call.own(&id).await?;
                    let stdin = o.stdin.unwrap_or(false);
                    let req = attach_query(Request::get(container_path(&id, "/attach/ws")), &o);
                    let stream = call.client()?.websocket(req).await?;
                    let resize =
                        Reentry::new(&engine, Op::ContainerResize, &id, container_path(&id, "/resize"));
                    // WebSocket attach output is never multiplexed.
                    Ok(HostAttachedSocket::new(stream, true, stdin, resize))
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn get_archive(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        path: String,
    ) -> HostResult<Archive> {
        let r = self
            .engine_call(Op::ContainerArchive, &e, move |_, call| {
                Box::pin(async move {
                    let id = call.own(&id).await?;
                    let dl = call
                        .download(Request::get(container_path(&id, "/archive")).query("path", path))
                        .await?;
                    let stat = path_stat(dl.headers.get("x-docker-container-path-stat"));
                    Ok((
                        stat,
                        Box::new(BodyInputStream::new(dl.body).tapped(call.tap())) as DynInputStream,
                    ))
                })
            })
            .await;
        match r? {
            Ok((stat, stream)) => Ok(Ok(Archive {
                stat,
                content: self.table.push(stream)?,
            })),
            Err(err) => Ok(Err(err)),
        }
    }

    async fn put_archive(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        path: String,
        o: PutArchiveOptions,
    ) -> HostResult<Resource<HostUpload>> {
        let r = self
            .engine_call(Op::PutContainerArchive, &e, move |_, call| {
                Box::pin(async move {
                    let id = call.own(&id).await?;
                    let req = Request::put(container_path(&id, "/archive"))
                        .query("path", path)
                        .opt("noOverwriteDirNonDir", o.no_overwrite_dir_non_dir)
                        .opt("copyUIDGID", o.copy_uid_gid)
                        .content_type("application/x-tar");
                    let up = call.upload(req).await?;
                    Ok(HostUpload::new(up, Some(call.defer())))
                })
            })
            .await;
        self.hand_out(r)
    }
}
