//! The server side of an HTTP/1.1 exchange, shared by the demo target and the listener: reading
//! a request head under a size and time limit, and writing the short answers both give.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// A request head larger than this is refused.
pub(crate) const REQUEST_LIMIT_BYTES: usize = 16 * 1024;

/// What a server needs from a request head.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    pub method: String,
    /// As requested, query included.
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// Bytes read past the head (the start of a body or of WebSocket frames).
    pub leftover: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without its query string.
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// A WebSocket upgrade request carries its key.
    pub(crate) fn websocket_key(&self) -> Option<&str> {
        let upgrade = self
            .header("Upgrade")
            .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
        self.header("Sec-WebSocket-Key").filter(|_| upgrade)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The peer closed, or said nothing in time.
    Gone,
    /// Not HTTP (a TLS ClientHello, garbage), or too large.
    Malformed,
}

/// Reads one request head within `timeout`.
pub async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    timeout: Duration,
) -> Result<Request, ReadError> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    let reading = async {
        loop {
            let n = stream.read(&mut chunk).await.map_err(|_| ReadError::Gone)?;
            if n == 0 {
                return Err(ReadError::Gone);
            }
            buf.extend_from_slice(&chunk[..n]);
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut request = httparse::Request::new(&mut headers);
            match request.parse(&buf) {
                Ok(httparse::Status::Complete(used)) => {
                    return Ok(Request {
                        method: request.method.unwrap_or_default().to_string(),
                        target: request.path.unwrap_or("/").to_string(),
                        headers: request
                            .headers
                            .iter()
                            .map(|h| {
                                (
                                    h.name.to_string(),
                                    String::from_utf8_lossy(h.value).into_owned(),
                                )
                            })
                            .collect(),
                        leftover: buf[used..].to_vec(),
                    });
                }
                Ok(httparse::Status::Partial) if buf.len() < REQUEST_LIMIT_BYTES => {}
                _ => return Err(ReadError::Malformed),
            }
        }
    };
    tokio::time::timeout(timeout, reading)
        .await
        .unwrap_or(Err(ReadError::Gone))
}

/// A complete short answer with a plain-text body, closing the connection.
pub(crate) fn response(status: u16, reason: &str, extra_headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status} {reason}\r\n{extra_headers}Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The 101 that accepts a WebSocket with this key.
pub(crate) fn switching_protocols(key: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    )
}

/// Writes `text` and closes the sending side; a peer that has gone is not an error here.
pub(crate) async fn answer<S: AsyncWrite + Unpin>(stream: &mut S, text: &str) {
    let _ = stream.write_all(text.as_bytes()).await;
    let _ = stream.shutdown().await;
}
