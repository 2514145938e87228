//! `tug:engine/container-streams`: logs, export, streaming stats, attach and archives.

use serde_json::Value;
use wasmtime::component::Resource;
use wasmtime_wasi::p2::DynInputStream;

use super::{
    bindings::container_streams::{self, Archive, AttachOptions, LogsOptions, PutArchiveOptions},
    containers::{container_path, own},
    error::{HostResult, IntoHost},
    query::QueryExt,
    resources::{
        BodyInputStream, Frames, HostAttachedSocket, HostEngine, HostFrameReader, HostJsonStream, HostUpload,
        ResizeTarget,
    },
    state::HostState,
    system::path_stat,
};
use crate::engine::{self, Client, Request};

/// Whether a container has a TTY (its logs and attach output are then raw), as docker-py finds out.
async fn container_tty(client: &Client, id: &str) -> engine::Result<bool> {
    let v: Value = client.json(Request::get(container_path(id, "/json"))).await?;
    Ok(v["Config"]["Tty"].as_bool().unwrap_or(false))
}

impl HostState {
    /// A `raw-stream` download as a `wasi:io` input-stream.
    pub(crate) async fn input_stream(
        &mut self,
        e: &Resource<HostEngine>,
        req: Request,
    ) -> HostResult<Resource<DynInputStream>> {
        let client = self.client(e)?;
        let result = client.download(req).await.map_err(super::error::wit_error);
        match self.ended(result, 0) {
            Ok(dl) => {
                let stream: DynInputStream = Box::new(BodyInputStream::new(dl.body));
                Ok(Ok(self.table.push(stream)?))
            }
            Err(err) => Ok(Err(err)),
        }
    }

    /// Starts an `upload` and returns its handle.
    pub(crate) async fn upload(
        &mut self,
        e: &Resource<HostEngine>,
        req: Request,
    ) -> HostResult<Resource<HostUpload>> {
        let client = self.client(e)?;
        let result = client.upload(req).await.map_err(super::error::wit_error);
        match self.ended(result, 0) {
            Ok(up) => Ok(Ok(self.table.push(HostUpload::new(up))?)),
            Err(err) => Ok(Err(err)),
        }
    }
}

impl container_streams::Host for HostState {
    async fn logs(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: LogsOptions,
    ) -> HostResult<Resource<HostFrameReader>> {
        let id = own!(self, e, "ContainerLogs", id);
        let client = self.client(&e)?;
        let tty = match container_tty(&client, &id).await {
            Ok(t) => t,
            Err(err) => return Err(err).into_host(),
        };
        let req = Request::get(container_path(&id, "/logs"))
            .opt("follow", o.follow)
            .opt("stdout", o.stdout)
            .opt("stderr", o.stderr)
            .opt("since", o.since)
            .opt("until", o.until)
            .opt("timestamps", o.timestamps)
            .opt("tail", o.tail);
        match client.download(req).await {
            Ok(dl) => Ok(Ok(self
                .table
                .push(HostFrameReader(Frames::new(Box::new(dl.body), tty)))?)),
            Err(err) => Err(err).into_host(),
        }
    }

    async fn export(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<Resource<DynInputStream>> {
        let id = own!(self, e, "ContainerExport", id);
        self.input_stream(&e, Request::get(container_path(&id, "/export")))
            .await
    }

    async fn stats(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<Resource<HostJsonStream>> {
        let id = own!(self, e, "ContainerStats", id);
        self.json_stream(
            &e,
            Request::get(container_path(&id, "/stats")).query("stream", true),
        )
        .await
    }

    async fn attach(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: AttachOptions,
    ) -> HostResult<Resource<HostAttachedSocket>> {
        let id = own!(self, e, "ContainerAttach", id);
        let client = self.client(&e)?;
        let tty = match container_tty(&client, &id).await {
            Ok(t) => t,
            Err(err) => return Err(err).into_host(),
        };
        let stdin = o.stdin.unwrap_or(false);
        let req = Request::post(container_path(&id, "/attach"))
            .opt("stream", o.stream)
            .opt("stdin", o.stdin)
            .opt("stdout", o.stdout)
            .opt("stderr", o.stderr)
            .opt("logs", o.logs)
            .opt("detachKeys", o.detach_keys);
        match client.hijack(req).await {
            Ok(socket) => {
                let resize = ResizeTarget {
                    client,
                    path: container_path(&id, "/resize"),
                };
                Ok(Ok(self
                    .table
                    .push(HostAttachedSocket::new(socket, tty, stdin, resize))?))
            }
            Err(err) => Err(err).into_host(),
        }
    }

    async fn attach_websocket(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: AttachOptions,
    ) -> HostResult<Resource<HostAttachedSocket>> {
        let id = own!(self, e, "ContainerAttachWebsocket", id);
        let client = self.client(&e)?;
        let stdin = o.stdin.unwrap_or(false);
        let req = Request::get(container_path(&id, "/attach/ws"))
            .opt("stream", o.stream)
            .opt("stdin", o.stdin)
            .opt("stdout", o.stdout)
            .opt("stderr", o.stderr)
            .opt("logs", o.logs)
            .opt("detachKeys", o.detach_keys);
        let result = client.websocket(req).await.map_err(super::error::wit_error);
        match self.ended(result, 0) {
            Ok(stream) => {
                let resize = ResizeTarget {
                    client,
                    path: container_path(&id, "/resize"),
                };
                // WebSocket attach output is never multiplexed.
                Ok(Ok(self
                    .table
                    .push(HostAttachedSocket::new(stream, true, stdin, resize))?))
            }
            Err(err) => Ok(Err(err)),
        }
    }

    async fn get_archive(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        path: String,
    ) -> HostResult<Archive> {
        let id = own!(self, e, "ContainerArchive", id);
        let client = self.client(&e)?;
        match client
            .download(Request::get(container_path(&id, "/archive")).query("path", path))
            .await
        {
            Ok(dl) => {
                let stat = path_stat(dl.headers.get("x-docker-container-path-stat"));
                let stream: DynInputStream = Box::new(BodyInputStream::new(dl.body));
                Ok(Ok(Archive {
                    stat,
                    content: self.table.push(stream)?,
                }))
            }
            Err(err) => Err(err).into_host(),
        }
    }

    async fn put_archive(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        path: String,
        o: PutArchiveOptions,
    ) -> HostResult<Resource<HostUpload>> {
        let id = own!(self, e, "PutContainerArchive", id);
        let req = Request::put(container_path(&id, "/archive"))
            .query("path", path)
            .opt("noOverwriteDirNonDir", o.no_overwrite_dir_non_dir)
            .opt("copyUIDGID", o.copy_uid_gid)
            .content_type("application/x-tar");
        self.upload(&e, req).await
    }
}
