//! ContainerAttachWebsocket: a WebSocket on a connection of its own, bridged to a plain byte stream so
//! that it is used like a hijacked connection (binary and text messages in, binary messages out).

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_tungstenite::{
    client_async,
    tungstenite::{self, Message},
    WebSocketStream,
};

use super::{
    client::Client,
    error::{Error, Result},
    request::Request,
    transport::Conn,
};

impl Client {
    /// Opens a WebSocket to `req`'s path and returns the byte stream it carries: reading gives what the
    /// daemon sends, writing sends binary messages, shutting down sends a close message.
    pub async fn websocket(&self, req: Request) -> Result<DuplexStream> {
        let version = self.api_version().await?.to_string();
        let url = format!("ws://api.moby.localhost{}", req.path_and_query(Some(&version)));
        let what = format!("{} {}", req.method, req.path);
        let conn = self.connector().connect().await?;
        let timeout = self.config().timeout;
        let handshake = tokio::time::timeout(timeout, client_async(url.as_str(), conn))
            .await
            .map_err(|_| Error::Timeout {
                what: what.clone(),
                after: timeout,
            })?;
        let (ws, _) = handshake.map_err(|e| match e {
            tungstenite::Error::Http(resp) => {
                let body = resp.body().clone().unwrap_or_default();
                Error::from_status(resp.status(), &body)
            }
            other => Error::transport(format!("WebSocket {what}"), other),
        })?;
        let (mine, theirs) = tokio::io::duplex(64 * 1024);
        tokio::spawn(pump(ws, theirs));
        Ok(mine)
    }
}

/// Moves bytes between the WebSocket and the caller's end of the duplex until both directions end.
async fn pump(ws: WebSocketStream<Conn>, io: DuplexStream) {
    let (mut sink, mut stream) = ws.split();
    let (mut rd, mut wr) = tokio::io::split(io);
    let outgoing = async move {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = sink.send(Message::Close(None)).await;
                    return;
                }
                Ok(n) => {
                    if sink
                        .send(Message::Binary(buf[..n].to_vec().into()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    };
    let incoming = async move {
        while let Some(Ok(msg)) = stream.next().await {
            let data = match msg {
                Message::Binary(b) => b.to_vec(),
                Message::Text(t) => t.as_bytes().to_vec(),
                Message::Close(_) => break,
                _ => continue,
            };
            if wr.write_all(&data).await.is_err() {
                break;
            }
        }
        let _ = wr.shutdown().await;
    };
    tokio::join!(outgoing, incoming);
}
