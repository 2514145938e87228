//! `tug:engine/types`: the methods of the handle resources.

use bytes::Bytes;
use wasmtime::component::Resource;
use wasmtime_wasi::p2::{subscribe, DynInputStream, DynOutputStream, DynPollable};

use super::{
    bindings::types::{self, Error as WitError, Frame, StreamKind},
    error::{invalid, HostResult, IntoHost},
    input_streams::WireInputStream,
    observe::Tap,
    query::QueryExt,
    resources::{self as res, close, ChannelOutputStream},
    state::HostState,
};
use crate::engine::{self, Request};

impl types::Host for HostState {}

/// A document's bytes as text (the daemon sends UTF-8 JSON).
pub(crate) fn text(doc: Bytes) -> String {
    String::from_utf8(doc.into()).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn frame(f: engine::Frame) -> Frame {
    Frame {
        stream: match f.stream {
            engine::StreamKind::Stdin => StreamKind::Stdin,
            engine::StreamKind::Stdout => StreamKind::Stdout,
            engine::StreamKind::Stderr => StreamKind::Stderr,
            engine::StreamKind::System => StreamKind::System,
        },
        data: f.data.into(),
    }
}

impl types::HostJsonStream for HostState {
    async fn next(&mut self, this: Resource<res::HostJsonStream>) -> HostResult<Option<String>> {
        let s = self.table.get_mut(&this)?;
        s.next().await.map(|d| d.map(text)).into_host()
    }

    async fn subscribe(
        &mut self,
        this: Resource<res::HostJsonStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        subscribe(&mut self.table, this)
    }

    async fn drop(&mut self, this: Resource<res::HostJsonStream>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl types::HostFrameReader for HostState {
    async fn tty(&mut self, this: Resource<res::HostFrameReader>) -> wasmtime::Result<bool> {
        Ok(self.table.get(&this)?.0.tty())
    }

    async fn next(
        &mut self,
        this: Resource<res::HostFrameReader>,
        max_bytes: u32,
    ) -> HostResult<Option<Frame>> {
        let r = self.table.get_mut(&this)?;
        r.0.next(max_bytes as usize)
            .await
            .map(|f| f.map(frame))
            .into_host()
    }

    async fn read_multiplexed(
        &mut self,
        this: Resource<res::HostFrameReader>,
        max_bytes: u32,
    ) -> HostResult<Option<Vec<u8>>> {
        let r = self.table.get_mut(&this)?;
        r.0.next_multiplexed(max_bytes as usize).await.into_host()
    }

    async fn into_stream(
        &mut self,
        this: Resource<res::HostFrameReader>,
    ) -> wasmtime::Result<Resource<DynInputStream>> {
        let reader = self.table.delete(this)?;
        let stream: DynInputStream = Box::new(WireInputStream::new(reader.0));
        Ok(self.table.push(stream)?)
    }

    async fn subscribe(
        &mut self,
        this: Resource<res::HostFrameReader>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        subscribe(&mut self.table, this)
    }

    async fn drop(&mut self, this: Resource<res::HostFrameReader>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

/// The pending answer of an upload whose body has ended: from the upload itself, or from its filter once
/// the filter has checked and passed on the whole body (told that the plugin finished, by `commit`).
/// Refused by the filter, the request is already aborted and the engine acts on nothing.
async fn answer(
    response: Option<crate::engine::PendingResponse>,
    filter: Option<tokio::task::JoinHandle<Result<crate::engine::PendingResponse, WitError>>>,
    commit: Option<tokio::sync::oneshot::Sender<()>>,
) -> Result<crate::engine::PendingResponse, WitError> {
    if let Some(commit) = commit {
        let _ = commit.send(());
    }
    match (response, filter) {
        (Some(r), _) => Ok(r),
        (None, Some(task)) => match task.await {
            Ok(verdict) => verdict,
            Err(e) => Err(WitError::Transport(format!("the upload's filter stopped: {e}"))),
        },
        (None, None) => Err(WitError::InvalidArgument(
            "this upload has no answer to wait for".into(),
        )),
    }
}

/// Marks an upload's body as taken and returns its channel; it can be taken once.
fn claim_body(up: &mut res::HostUpload) -> Result<(res::SharedSender, Option<Tap>), WitError> {
    if up.body_taken {
        return Err(WitError::InvalidArgument(
            "the body of this upload was already taken".into(),
        ));
    }
    up.body_taken = true;
    Ok((up.sender.clone(), up.call.as_ref().and_then(|c| c.tap())))
}

/// The body output-stream over a claimed channel.
fn body_stream(
    state: &mut HostState,
    claimed: Result<(res::SharedSender, Option<Tap>), WitError>,
) -> HostResult<Resource<DynOutputStream>> {
    match claimed {
        Ok((sender, tap)) => {
            let stream: DynOutputStream =
                Box::new(ChannelOutputStream::new(sender, "upload body").tapped(tap));
            Ok(Ok(state.table.push(stream)?))
        }
        Err(e) => Ok(Err(e)),
    }
}

impl types::HostUpload for HostState {
    async fn body(&mut self, this: Resource<res::HostUpload>) -> HostResult<Resource<DynOutputStream>> {
        let claimed = claim_body(self.table.get_mut(&this)?);
        body_stream(self, claimed)
    }

    async fn finish(&mut self, this: Resource<res::HostUpload>) -> HostResult<String> {
        let up = self.table.delete(this)?.finishing();
        let result = match answer(up.response, up.filter, up.commit).await {
            Ok(response) => response.bytes().await.map(text).map_err(WitError::from),
            Err(e) => Err(e),
        };
        Ok(match up.call {
            Some(call) => call.end(result),
            None => result,
        })
    }

    async fn drop(&mut self, this: Resource<res::HostUpload>) -> wasmtime::Result<()> {
        // Dropping an unfinished upload abandons the request mid-body (`HostUpload`'s drop): the engine
        // acts on nothing.
        self.table.delete(this)?;
        Ok(())
    }
}

impl types::HostProgressUpload for HostState {
    async fn body(
        &mut self,
        this: Resource<res::HostProgressUpload>,
    ) -> HostResult<Resource<DynOutputStream>> {
        let claimed = claim_body(&mut self.table.get_mut(&this)?.upload);
        body_stream(self, claimed)
    }

    async fn finish(
        &mut self,
        this: Resource<res::HostProgressUpload>,
    ) -> HostResult<Resource<res::HostJsonStream>> {
        let res::HostProgressUpload { upload, watch } = self.table.delete(this)?;
        let res::Finishing {
            response,
            filter,
            commit,
            call,
        } = upload.finishing();
        let result = match answer(response, filter, commit).await {
            Ok(response) => response.json_stream().await.map_err(WitError::from),
            Err(e) => Err(e),
        };
        let tap = call.as_ref().and_then(|c| c.tap());
        let result = match call {
            Some(call) => call.end(result),
            None => result,
        };
        match result {
            Ok(s) => {
                let stream = res::HostJsonStream::watched(s, watch.unwrap_or(res::Watch::None)).tapped(tap);
                Ok(Ok(self.table.push(stream)?))
            }
            Err(e) => Ok(Err(e)),
        }
    }

    async fn drop(&mut self, this: Resource<res::HostProgressUpload>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl types::HostAttachedSocket for HostState {
    async fn tty(&mut self, this: Resource<res::HostAttachedSocket>) -> wasmtime::Result<bool> {
        Ok(self.table.get(&this)?.frames.tty())
    }

    async fn stdin(
        &mut self,
        this: Resource<res::HostAttachedSocket>,
    ) -> HostResult<Resource<DynOutputStream>> {
        let s = self.table.get_mut(&this)?;
        let Some(sender) = s.stdin.clone() else {
            return invalid("this socket was opened without stdin");
        };
        if s.stdin_taken {
            return invalid("the stdin of this socket was already taken");
        }
        s.stdin_taken = true;
        let stream: DynOutputStream = Box::new(ChannelOutputStream::new(sender, "stdin"));
        Ok(Ok(self.table.push(stream)?))
    }

    async fn close_stdin(&mut self, this: Resource<res::HostAttachedSocket>) -> HostResult<()> {
        match &self.table.get(&this)?.stdin {
            Some(sender) => {
                close(sender);
                Ok(Ok(()))
            }
            None => invalid("this socket was opened without stdin"),
        }
    }

    async fn next(
        &mut self,
        this: Resource<res::HostAttachedSocket>,
        max_bytes: u32,
    ) -> HostResult<Option<Frame>> {
        let s = self.table.get_mut(&this)?;
        s.frames
            .next(max_bytes as usize)
            .await
            .map(|f| f.map(frame))
            .into_host()
    }

    async fn subscribe(
        &mut self,
        this: Resource<res::HostAttachedSocket>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        subscribe(&mut self.table, this)
    }

    async fn resize(
        &mut self,
        this: Resource<res::HostAttachedSocket>,
        height: u32,
        width: u32,
    ) -> HostResult<()> {
        let reentry = self.table.get(&this)?.resize.clone();
        let (mut call, path) = match reentry.call(self) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let result = call
            .unit(Request::post(path).opt("h", Some(height)).opt("w", Some(width)))
            .await;
        Ok(call.end(result))
    }

    async fn drop(&mut self, this: Resource<res::HostAttachedSocket>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
