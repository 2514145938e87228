//! The `json-stream` shape: progress messages, events and stats arrive as JSON documents separated by
//! newlines, or simply concatenated, split across reads at arbitrary points.

use bytes::{Buf, Bytes, BytesMut};
use serde::de::{DeserializeOwned, IgnoredAny};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::READ_CHUNK;
use crate::engine::error::{Error, Result};

/// Yields one JSON document at a time from a byte stream.
///
/// Documents are objects or arrays, as the Engine API sends them (a bare top-level number could not be told
/// apart from one cut by a read boundary).
pub struct JsonStream<R> {
    reader: R,
    buf: BytesMut,
    eof: bool,
}

impl<R: AsyncRead + Unpin> JsonStream<R> {
    /// Decodes documents from `reader`.
    pub fn new(reader: R) -> Self {
        JsonStream {
            reader,
            buf: BytesMut::new(),
            eof: false,
        }
    }

    /// The next document's text, exactly as the daemon sent it (validated, without surrounding
    /// whitespace); `None` at the end of the stream.
    pub async fn next_document(&mut self) -> Result<Option<Bytes>> {
        loop {
            if let Some(doc) = self.try_split()? {
                return Ok(Some(doc));
            }
            if self.eof {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(Error::Decode {
                        context: "json stream".into(),
                        message: format!(
                            "the stream ended inside a document ({} bytes left)",
                            self.buf.len()
                        ),
                    })
                };
            }
            self.buf.reserve(READ_CHUNK);
            let n = self
                .reader
                .read_buf(&mut self.buf)
                .await
                .map_err(|e| Error::transport("reading a json stream", e))?;
            if n == 0 {
                self.eof = true;
            }
        }
    }

    /// The next document decoded as `T`; `None` at the end of the stream.
    pub async fn next_value<T: DeserializeOwned>(&mut self) -> Result<Option<T>> {
        match self.next_document().await? {
            None => Ok(None),
            Some(doc) => serde_json::from_slice(&doc).map(Some).map_err(|e| Error::Decode {
                context: "json stream document".into(),
                message: e.to_string(),
            }),
        }
    }

    /// Splits a complete document off the front of the buffer, if there is one.
    fn try_split(&mut self) -> Result<Option<Bytes>> {
        let ws = self.buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        self.buf.advance(ws);
        if self.buf.is_empty() {
            return Ok(None);
        }
        let mut it = serde_json::Deserializer::from_slice(&self.buf).into_iter::<IgnoredAny>();
        match it.next() {
            Some(Ok(_)) => {
                let end = it.byte_offset();
                Ok(Some(self.buf.split_to(end).freeze()))
            }
            Some(Err(e)) if e.is_eof() => Ok(None),
            Some(Err(e)) => Err(Error::Decode {
                context: "json stream".into(),
                message: e.to_string(),
            }),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// Feeds `input` in pieces of `step` bytes through a pipe and collects the documents.
    async fn decode(input: &'static [u8], step: usize) -> Result<Vec<String>> {
        let (mut w, r) = tokio::io::duplex(7);
        tokio::spawn(async move {
            for c in input.chunks(step) {
                w.write_all(c).await.unwrap();
            }
        });
        let mut s = JsonStream::new(r);
        let mut out = vec![];
        while let Some(d) = s.next_document().await? {
            out.push(String::from_utf8(d.to_vec()).unwrap());
        }
        Ok(out)
    }

    #[tokio::test]
    async fn newline_delimited_and_concatenated_across_partial_reads() {
        let input = b"{\"status\":\"a\"}\r\n{\"status\":\"b \\\"}{\\\" c\"}{\"id\":1}\n\n  [1,2]{\"n\":{\"deep\":[{}]}}\n";
        let want = [
            r#"{"status":"a"}"#,
            r#"{"status":"b \"}{\" c"}"#,
            r#"{"id":1}"#,
            "[1,2]",
            r#"{"n":{"deep":[{}]}}"#,
        ];
        for step in [1, 2, 3, 5, 64] {
            assert_eq!(decode(input, step).await.unwrap(), want, "step {step}");
        }
    }

    #[tokio::test]
    async fn truncated_and_malformed_streams_are_errors() {
        let e = decode(b"{\"a\":1}{\"b\":", 3).await.unwrap_err();
        assert!(e.to_string().contains("ended inside a document"), "{e}");
        let e = decode(b"{\"a\":1} nope", 4).await.unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{e}");
        assert!(decode(b"", 1).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn typed_values() {
        let (mut w, r) = tokio::io::duplex(64);
        w.write_all(b"{\"x\":1}\n{\"x\":2}").await.unwrap();
        drop(w);
        let mut s = JsonStream::new(r);
        let mut xs = vec![];
        while let Some(v) = s.next_value::<serde_json::Value>().await.unwrap() {
            xs.push(v["x"].as_i64().unwrap());
        }
        assert_eq!(xs, [1, 2]);
    }
}
