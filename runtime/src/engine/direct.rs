//! Streamed responses on a connection of their own, driven by whoever reads the body.
//!
//! Through hyper-util's pooling client, a response body is fed by the connection's task: every chunk the
//! daemon sends (a log line is one chunk) is handed from that task to the reader's task through a
//! channel, and on a multi-threaded runtime each hand-off is a wake-up of another thread — tens of
//! microseconds per log line, five to ten times slower than the daemon. Here the connection future lives
//! inside the [`BodyReader`](super::BodyReader): reading the body polls the connection in the same task,
//! so a chunk costs a parse and no hand-off. Streams are long-lived and end with their connection, so the
//! pool loses little; what is gained is the daemon's own speed.

use std::{future::Future, pin::Pin};

use http::{header, HeaderValue, Response};
use hyper::{body::Incoming, client::conn::http1};
use hyper_util::rt::TokioIo;

use super::{
    client::{Client, ReqBody},
    error::{Error, Result},
    request::Request,
    transport::Conn,
};

/// The connection behind a streamed body: poll it while reading the body.
pub(crate) type Driver = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Sends `req` on a new connection and returns the response head and the connection's driver. The
/// caller polls the driver while it waits for the body (see `BodyReader::with_driver`).
pub(crate) async fn send(
    client: &Client,
    req: Request,
    body: ReqBody,
) -> Result<(Response<Incoming>, Driver)> {
    let version = if req.versioned {
        Some(client.api_version().await?.to_string())
    } else {
        None
    };
    let what = || format!("{} {} on {}", req.method, req.path, client.config().endpoint);
    let mut builder = req.http_head("", version.as_deref())?;
    let Some(headers) = builder.headers_mut() else {
        return Err(Error::InvalidArgument(format!(
            "{} {}: not a valid request",
            req.method, req.path
        )));
    };
    let host = HeaderValue::from_str(client.authority())
        .map_err(|e| Error::InvalidArgument(format!("host {}: {e}", client.authority())))?;
    headers.insert(header::HOST, host);
    let request = builder
        .body(body)
        .map_err(|e| Error::InvalidArgument(format!("request {}: {e}", req.path)))?;

    let conn: Conn = client.connector().connect().await?;
    let (mut sender, conn) = http1::handshake::<_, ReqBody>(TokioIo::new(conn))
        .await
        .map_err(|e| Error::transport(what(), e))?;
    let mut conn = Box::pin(conn);
    let response = sender.send_request(request);
    tokio::pin!(response);
    let head = tokio::select! {
        r = &mut response => r,
        c = &mut conn => match c {
            Err(e) => return Err(Error::transport(what(), e)),
            // The connection ended first: the response says why.
            Ok(()) => response.await,
        },
    };
    let head = head.map_err(|e| Error::transport(what(), e))?;
    let driver: Driver = Box::pin(async move {
        // Keep the sender: dropping it could end the connection before the body.
        let _sender = sender;
        if let Err(e) = conn.await {
            tracing::debug!("a streamed response's connection: {e}");
        }
    });
    Ok((head, driver))
}
