//! The `upload` shape: a request body streamed from the caller with backpressure (a tar into a container,
//! an image to load, a build context). Only a few chunks are ever in flight; nothing is buffered whole.

use std::{
    io,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{Context, Poll},
};

use bytes::Bytes;
use futures_util::SinkExt;
use http::Response;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use tokio::{
    io::{AsyncRead, AsyncWrite, AsyncWriteExt},
    sync::mpsc,
    task::JoinHandle,
};
use tokio_util::{
    io::{CopyToBytes, SinkWriter},
    sync::{PollSendError, PollSender},
};

use super::{
    client::{check_status, BodyReader, Client, ReqBody},
    decode::JsonStream,
    error::{Error, Result},
    request::Request,
};

/// How many chunks may wait between the writer and the connection.
const IN_FLIGHT_CHUNKS: usize = 4;

type ChunkSink = futures_util::sink::SinkMapErr<PollSender<Bytes>, fn(PollSendError<Bytes>) -> io::Error>;

/// A request in flight whose body is being written: the body channel and the pending answer.
pub struct Upload {
    sender: mpsc::Sender<Bytes>,
    response: PendingResponse,
}

/// The body of an upload, as an `AsyncWrite`. A write waits while the daemon is not reading; after the
/// daemon has answered early (an error), writes fail with `BrokenPipe` and [`PendingResponse`] has the
/// reason.
pub struct BodyWriter {
    inner: SinkWriter<CopyToBytes<ChunkSink>>,
}

/// The response of an upload.
pub struct PendingResponse {
    what: String,
    task: JoinHandle<Result<Response<Incoming>>>,
    finished: Arc<AtomicBool>,
}

/// The error a body ends with when its sender went without [`PendingResponse::finish_body`].
#[derive(Debug, thiserror::Error)]
#[error("the upload was abandoned before its body was finished")]
struct Abandoned;

pub(crate) fn start(client: Client, req: Request) -> Upload {
    let (tx, rx) = mpsc::channel::<Bytes>(IN_FLIGHT_CHUNKS);
    let finished = Arc::new(AtomicBool::new(false));
    let done = finished.clone();
    // The body ends cleanly only when the writer said it finished; a sender dropped otherwise ends it
    // with an error, so the connection is cut mid-body and the engine acts on nothing (a tar cut at an
    // entry's end would otherwise read as a whole, shorter one).
    let stream = futures_util::stream::unfold(Some(rx), move |rx| {
        let done = done.clone();
        async move {
            let mut rx = rx?;
            match rx.recv().await {
                Some(chunk) => Some((Ok::<_, super::client::BoxError>(Frame::data(chunk)), Some(rx))),
                None if done.load(Ordering::SeqCst) => None,
                None => Some((Err(Box::new(Abandoned) as super::client::BoxError), None)),
            }
        }
    });
    let body: ReqBody = BodyExt::boxed(StreamBody::new(stream));
    let what = format!("{} {}", req.method, req.path);
    let task = tokio::spawn(async move { check_status(client.send_untimed(req, body).await?).await });
    Upload {
        sender: tx,
        response: PendingResponse { what, task, finished },
    }
}

impl BodyWriter {
    /// A writer feeding a body channel.
    pub fn new(sender: mpsc::Sender<Bytes>) -> Self {
        let to_io: fn(PollSendError<Bytes>) -> io::Error =
            |_| io::Error::new(io::ErrorKind::BrokenPipe, "the engine stopped reading the upload");
        let sink = PollSender::new(sender).sink_map_err(to_io);
        BodyWriter {
            inner: SinkWriter::new(CopyToBytes::new(sink)),
        }
    }

    /// Writes one chunk without copying it.
    pub async fn send(&mut self, chunk: Bytes) -> io::Result<()> {
        self.inner.get_mut().get_mut().send(chunk).await
    }
}

impl AsyncWrite for BodyWriter {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl PendingResponse {
    /// Waits for the response head (the body must have ended: shut down or drop the writer first).
    pub async fn head(self) -> Result<Response<Incoming>> {
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(Error::transport(format!("upload {}", self.what), e)),
        }
    }

    /// Says the body is complete: once its sender is dropped, it ends cleanly. (Without this, a dropped
    /// sender cuts the request mid-body.)
    pub fn finish_body(&self) {
        self.finished.store(true, Ordering::SeqCst);
    }

    /// Abandons the request mid-body: the connection is dropped, so the engine sees a broken body rather
    /// than a shorter one that ends cleanly.
    pub fn abort(self) {
        self.task.abort();
    }

    /// Like [`PendingResponse::abort`], returning once the request is gone: whatever the body's sender does
    /// after this, the engine never sees the body end cleanly.
    pub async fn cancel(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    /// Waits for the whole response body (the `json` answer of an upload; empty for 200/204 without one).
    pub async fn bytes(self) -> Result<Bytes> {
        let body = self.head().await?.into_body();
        Ok(body
            .collect()
            .await
            .map_err(|e| Error::transport("reading an upload's response", e))?
            .to_bytes())
    }

    /// The response as a stream of JSON progress documents (build, load, import).
    pub async fn json_stream(self) -> Result<JsonStream<BodyReader>> {
        Ok(JsonStream::new(BodyReader::new(self.head().await?.into_body())))
    }
}

impl Upload {
    /// The body as an `AsyncWrite` and the pending answer. Call [`PendingResponse::finish_body`], then
    /// shut the writer down or drop it, to end the body; dropped without, the request is cut mid-body.
    pub fn into_parts(self) -> (BodyWriter, PendingResponse) {
        (BodyWriter::new(self.sender), self.response)
    }

    /// The body as a channel of chunks — at most a few wait in it — and the pending answer. Dropping the
    /// sender ends the body cleanly after [`PendingResponse::finish_body`], and cuts the request otherwise.
    pub fn into_channel(self) -> (mpsc::Sender<Bytes>, PendingResponse) {
        (self.sender, self.response)
    }

    /// Streams everything `source` yields as the body, then waits for the whole response body. When the
    /// daemon answers early with an error, that error is returned rather than the broken pipe.
    pub async fn send_all(self, source: impl AsyncRead + Unpin) -> Result<Bytes> {
        let mut source = source;
        let (mut body, response) = self.into_parts();
        let copied = tokio::io::copy(&mut source, &mut body).await;
        if copied.is_ok() {
            response.finish_body();
        }
        let ended = body.shutdown().await;
        drop(body);
        let answer = response.bytes().await;
        match (copied.and(ended), answer) {
            (_, Err(daemon)) => Err(daemon),
            (Err(e), Ok(_)) => Err(Error::transport("streaming an upload body", e)),
            (Ok(()), Ok(bytes)) => Ok(bytes),
        }
    }
}
