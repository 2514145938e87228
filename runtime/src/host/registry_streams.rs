//! `tug:engine/registry-streams`: layers a plugin streams into an image, and images written out as tars.

use std::{
    io,
    pin::Pin,
    sync::{Arc, Mutex as StdMutex},
    task::{Context, Poll},
};

use bytes::Bytes;
use tokio::{
    io::{AsyncRead, ReadBuf},
    sync::{mpsc, OwnedMutexGuard},
    task::JoinHandle,
};
use wasmtime::component::Resource;
use wasmtime_wasi::p2::{pipe::AsyncReadStream, DynInputStream, DynOutputStream};

use super::{
    bindings::{
        registry::LayerInfo as WitLayer,
        registry_streams::{self, ArchiveFormat},
        types::Error as WitError,
    },
    error::HostResult,
    registry::{busy, layer, HostImage, BUSY_WAIT},
    resources::{close, ChannelOutputStream, SharedSender},
    state::HostState,
};
use crate::{
    policy::{rules_registry::StagingBudget, Denial, Op},
    registry::{Image, LayerInfo, RegistryError},
};

/// How many chunks of a layer may wait between the plugin and the compressor.
const LAYER_CHUNKS: usize = 8;

/// Bytes buffered between a save task and the plugin reading it.
const SAVE_BUFFER: usize = 1 << 20;

/// A `layer-upload` handle: the tar body the plugin writes, and the task staging it into the image.
pub struct HostLayerUpload {
    sender: SharedSender,
    body_taken: bool,
    task: Option<JoinHandle<Result<Staged, UploadError>>>,
}

/// A layer upload whose tar has ended: the image (still locked) and its copy with the new layer.
struct Staged {
    guard: OwnedMutexGuard<Image>,
    staged: Image,
    layer: LayerInfo,
}

impl Drop for HostLayerUpload {
    fn drop(&mut self) {
        // Dropped without `finish`: nothing is added (the staged copy, if any, is dropped with the task).
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Why a layer upload failed.
enum UploadError {
    Registry(RegistryError),
    Staging(Denial),
}

/// The plugin's tar, chunk by chunk, charged to the staging budget as it arrives.
struct ChunkReader {
    rx: mpsc::Receiver<Bytes>,
    chunk: Bytes,
    budget: Arc<StagingBudget>,
    charged: u64,
    over: Arc<StdMutex<Option<Denial>>>,
}

impl AsyncRead for ChunkReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while this.chunk.is_empty() {
            match this.rx.poll_recv(cx) {
                Poll::Ready(Some(chunk)) => {
                    if let Err(d) = this.budget.charge(chunk.len() as u64) {
                        let message = d.to_string();
                        *this.over.lock().unwrap_or_else(|p| p.into_inner()) = Some(d);
                        return Poll::Ready(Err(io::Error::other(message)));
                    }
                    this.charged += chunk.len() as u64;
                    this.chunk = chunk;
                }
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = this.chunk.len().min(buf.remaining());
        buf.put_slice(&this.chunk.split_to(n));
        Poll::Ready(Ok(()))
    }
}

impl Drop for ChunkReader {
    fn drop(&mut self) {
        // What was charged is staged on disk only while the layer lives; a failed or abandoned upload
        // gives it back (a committed layer keeps its charge through `committed`).
        if self.charged > 0 {
            self.budget.refund(self.charged);
        }
    }
}

/// The end of a save stream: the bytes the task wrote, then the task's error if it failed, so that a
/// broken image is never mistaken for a short one.
struct SaveReader {
    inner: tokio::io::DuplexStream,
    result: Arc<StdMutex<Option<Result<(), String>>>>,
    task: tokio::task::AbortHandle,
}

impl Drop for SaveReader {
    fn drop(&mut self) {
        // Dropped before the end: stop fetching layers for no one, and let go of the image.
        self.task.abort();
    }
}

impl AsyncRead for SaveReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) if buf.filled().len() == before => {
                // End of the pipe: the task has finished and recorded how.
                match self.result.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                    Some(Err(message)) => Poll::Ready(Err(io::Error::other(message.clone()))),
                    _ => Poll::Ready(Ok(())),
                }
            }
            other => other,
        }
    }
}

/// Locks an image for a task, waiting as long as a method would.
async fn lock_owned(image: Arc<tokio::sync::Mutex<Image>>) -> Result<OwnedMutexGuard<Image>, WitError> {
    tokio::time::timeout(BUSY_WAIT, image.lock_owned())
        .await
        .map_err(|_| busy())
}

impl registry_streams::Host for HostState {
    async fn add_layer_tar(
        &mut self,
        image: Resource<HostImage>,
        comment: String,
    ) -> HostResult<Resource<HostLayerUpload>> {
        let image = self.table.get(&image)?.image.clone();
        let budget = self.staging();
        let r = self
            .local_call(Op::RegistryEdit, move |_, _call| {
                Box::pin(async move {
                    let guard = lock_owned(image).await?;
                    let (tx, rx) = mpsc::channel::<Bytes>(LAYER_CHUNKS);
                    let over = Arc::new(StdMutex::new(None));
                    let mut reader = ChunkReader {
                        rx,
                        chunk: Bytes::new(),
                        budget,
                        charged: 0,
                        over: over.clone(),
                    };
                    // The layer is staged on a copy of the image; `finish` puts the copy in place, so an
                    // upload dropped without `finish` adds nothing, even when its tar had ended.
                    let task = tokio::spawn(async move {
                        let mut staged: Image = guard.clone();
                        let added = staged.add_layer_tar(&mut reader, &comment).await;
                        if added.is_ok() {
                            // The layer stays (once committed): its bytes stay charged.
                            reader.charged = 0;
                        }
                        drop(reader);
                        let denial = over.lock().unwrap_or_else(|p| p.into_inner()).take();
                        match (added, denial) {
                            (_, Some(d)) => Err(UploadError::Staging(d)),
                            (Ok(l), None) => Ok(Staged {
                                guard,
                                staged,
                                layer: l,
                            }),
                            (Err(e), None) => Err(UploadError::Registry(e)),
                        }
                    });
                    Ok(HostLayerUpload {
                        sender: Arc::new(std::sync::Mutex::new(Some(tx))),
                        body_taken: false,
                        task: Some(task),
                    })
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn save(
        &mut self,
        image: Resource<HostImage>,
        format: ArchiveFormat,
    ) -> HostResult<Resource<DynInputStream>> {
        let image = self.table.get(&image)?.image.clone();
        let r = self
            .registry_call(Op::RegistrySave, move |_, call| {
                Box::pin(async move {
                    let guard = lock_owned(image).await?;
                    let client = call.registry()?.clone();
                    let (writer, reader) = tokio::io::duplex(SAVE_BUFFER);
                    let result = Arc::new(StdMutex::new(None));
                    let slot = result.clone();
                    let task = tokio::spawn(async move {
                        let mut writer = writer;
                        let written = match format {
                            ArchiveFormat::Docker => guard.write_docker_archive(&client, &mut writer).await,
                            ArchiveFormat::Oci => guard.write_oci_archive(&client, &mut writer).await,
                        };
                        drop(guard);
                        *slot.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some(written.map_err(|e| e.to_string()));
                        drop(writer);
                    });
                    Ok(Box::new(AsyncReadStream::new(SaveReader {
                        inner: reader,
                        result,
                        task: task.abort_handle(),
                    })) as DynInputStream)
                })
            })
            .await;
        self.hand_out(r)
    }
}

impl registry_streams::HostLayerUpload for HostState {
    async fn body(&mut self, this: Resource<HostLayerUpload>) -> HostResult<Resource<DynOutputStream>> {
        let up = self.table.get_mut(&this)?;
        if up.body_taken {
            return Ok(Err(WitError::InvalidArgument(
                "the body of this layer upload was already taken".into(),
            )));
        }
        up.body_taken = true;
        let stream: DynOutputStream = Box::new(ChannelOutputStream::new(up.sender.clone(), "layer"));
        Ok(Ok(self.table.push(stream)?))
    }

    async fn finish(&mut self, this: Resource<HostLayerUpload>) -> HostResult<WitLayer> {
        let mut up = self.table.delete(this)?;
        close(&up.sender);
        let Some(task) = up.task.take() else {
            return Ok(Err(WitError::InvalidArgument(
                "this layer upload has already finished".into(),
            )));
        };
        let result = match task.await {
            Ok(Ok(Staged {
                mut guard,
                staged,
                layer: l,
            })) => {
                *guard = staged;
                Ok(layer(l))
            }
            Ok(Err(UploadError::Registry(e))) => Err(e.into()),
            Ok(Err(UploadError::Staging(d))) => Err(d.into()),
            Err(e) => Err(WitError::Transport(format!("the layer upload stopped: {e}"))),
        };
        Ok(result)
    }

    async fn drop(&mut self, this: Resource<HostLayerUpload>) -> wasmtime::Result<()> {
        let mut up = self.table.delete(this)?;
        // Nothing is added: the task is stopped (or its staged copy dropped) and the image let go of
        // before the plugin's next call.
        if let Some(task) = up.task.take() {
            task.abort();
            let _ = task.await;
        }
        Ok(())
    }
}
