//! The client half of a WebSocket upgrade: the RFC 6455 request written by hand over an
//! established stream, and exactly what came back (status line, headers, a body excerpt),
//! parsed with `httparse` under size and time limits. A 101 is closed politely with a close
//! frame, or handed back open for the session that follows (`exchange_open`). Also the request
//! tungstenite sends when a full session is wanted.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, Request};
use tokio_tungstenite::tungstenite::protocol::Role;

use super::close::{self, CloseWitness};
use super::connect::BoxedIo;
use super::target::Target;
use crate::clock::millis;
use crate::records::exchange::{Exchange, Problem};

/// A response header block larger than this is not a WebSocket handshake.
pub(crate) const MAX_HEADER_BYTES: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;
const BODY_EXCERPT_BYTES: usize = 1024;
/// How long to wait for a body after the headers of a refusal.
const BODY_WAIT: Duration = Duration::from_millis(300);

/// What to ask for beside the standard upgrade headers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ask<'a> {
    /// Extra headers, which may hold credentials: the recorded request masks their values.
    pub headers: &'a [(String, String)],
    /// An `Origin` header, as a browser sends it (providers do not).
    pub origin: Option<&'a str>,
}

/// The request line and headers of an upgrade to `path` on `target`.
pub(crate) fn request_text(target: &Target, path: &str, key: &str, ask: Ask<'_>) -> String {
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: stream-doctor/{}\r\n",
        target.host_header(),
        env!("CARGO_PKG_VERSION")
    );
    if let Some(origin) = ask.origin {
        request.push_str(&format!("Origin: {origin}\r\n"));
    }
    for (name, value) in ask.headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request
}

/// A connection whose upgrade was answered 101, left open for the session that follows.
pub(crate) struct Upgraded {
    /// The connection, sniffed from its first byte read (`witness` reads the peer's close).
    pub io: BoxedIo,
    /// What arrived after the response's head: the first WebSocket frames.
    pub leftover: Vec<u8>,
    pub witness: CloseWitness,
}

impl Upgraded {
    /// Ends the unused session with a close frame, without waiting for the answer.
    pub(crate) async fn close(self) {
        let mut ws = tokio_tungstenite::WebSocketStream::from_partially_read(
            self.io,
            self.leftover,
            Role::Client,
            None,
        )
        .await;
        let _ = tokio::time::timeout(CLOSE_WRITE, ws.close(None)).await;
    }
}

/// How long writing our close frame may take (its answer is not awaited).
const CLOSE_WRITE: Duration = Duration::from_millis(300);

/// Sends an upgrade request for `path` and reads the answer, all within `timeout`.
/// On 101 the connection is closed politely with a WebSocket close frame.
pub async fn exchange(
    io: BoxedIo,
    target: &Target,
    path: &str,
    ask: Ask<'_>,
    timeout: Duration,
) -> Exchange {
    let (exchange, upgraded) = exchange_open(io, target, path, ask, timeout).await;
    if let Some(upgraded) = upgraded {
        upgraded.close().await;
    }
    exchange
}

/// As `exchange`, but a 101 hands the connection back open: a session continues on it without
/// paying for another connection and upgrade.
pub(crate) async fn exchange_open(
    io: BoxedIo,
    target: &Target,
    path: &str,
    ask: Ask<'_>,
    timeout: Duration,
) -> (Exchange, Option<Upgraded>) {
    let key = generate_key();
    let request = request_text(target, path, &key, ask);
    let exchange = Exchange {
        accept_expected: derive_accept_key(key.as_bytes()),
        request: redact_request(&request, ask.headers),
        ..Exchange::default()
    };
    let (io, witness) = close::sniff(io);
    let (exchange, open) = send(Box::new(io), &request, exchange, timeout).await;
    let upgraded = open.map(|(io, leftover)| Upgraded {
        io,
        leftover,
        witness,
    });
    (exchange, upgraded)
}

/// A plain `GET` of `path` (no upgrade), read the same way: for probing what else answers.
pub(crate) async fn get(io: BoxedIo, target: &Target, path: &str, timeout: Duration) -> Exchange {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: stream-doctor/{}\r\nConnection: close\r\n\r\n",
        target.host_header(),
        env!("CARGO_PKG_VERSION")
    );
    let exchange = Exchange {
        request: request.clone(),
        ..Exchange::default()
    };
    send(io, &request, exchange, timeout).await.0
}

/// The answer to `request`; on 101, the connection and what was read past the head.
async fn send(
    io: BoxedIo,
    request: &str,
    mut exchange: Exchange,
    timeout: Duration,
) -> (Exchange, Option<(BoxedIo, Vec<u8>)>) {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let (io, leftover) =
        match tokio::time::timeout_at(deadline, talk(io, request, &mut exchange)).await {
            Ok(Some(rest)) => rest,
            Ok(None) => {
                exchange.response_ms = millis(started.elapsed());
                return (exchange, None);
            }
            Err(_) => {
                exchange.problem = Some(Problem::Timeout(format!(
                    "no complete answer within {timeout:?} ({} byte(s) received)",
                    exchange.received_bytes
                )));
                exchange.response_ms = millis(started.elapsed());
                return (exchange, None);
            }
        };
    exchange.response_ms = millis(started.elapsed());
    if exchange.status == Some(101) {
        return (exchange, Some((io, leftover)));
    }
    read_body(io, leftover, &mut exchange, deadline).await;
    (exchange, None)
}

/// Header values given with -H may hold credentials: the recorded request masks them.
fn redact_request(request: &str, headers: &[(String, String)]) -> String {
    let mut shown = request.to_string();
    for (name, value) in headers {
        if !value.is_empty() {
            shown = shown.replace(
                &format!("{name}: {value}\r\n"),
                &format!("{name}: {}\r\n", crate::secret::REDACTED),
            );
        }
    }
    shown
}

async fn talk(
    mut io: BoxedIo,
    request: &str,
    exchange: &mut Exchange,
) -> Option<(BoxedIo, Vec<u8>)> {
    if let Err(e) = io.write_all(request.as_bytes()).await {
        exchange.problem = Some(Problem::Io(format!("could not send the request: {e}")));
        return None;
    }
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = match io.read(&mut chunk).await {
            Ok(0) => {
                exchange.problem = Some(Problem::Closed(format!(
                    "the server closed the connection after {} byte(s){}",
                    buf.len(),
                    excerpt_note(&buf)
                )));
                return None;
            }
            Ok(n) => n,
            Err(e) => {
                exchange.problem = Some(Problem::Io(format!("reading the answer failed: {e}")));
                return None;
            }
        };
        buf.extend_from_slice(&chunk[..n]);
        exchange.received_bytes = buf.len();
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buf) {
            Ok(httparse::Status::Complete(used)) if used > MAX_HEADER_BYTES => {
                exchange.problem = Some(Problem::Malformed(format!(
                    "the header block is {} KiB, over the {} KiB a WebSocket handshake may take",
                    used / 1024,
                    MAX_HEADER_BYTES / 1024
                )));
                return None;
            }
            Ok(httparse::Status::Complete(used)) => {
                let status = response.code.unwrap_or_default();
                exchange.status = Some(status);
                exchange.status_line = Some(format!(
                    "HTTP/1.{} {status} {}",
                    response.version.unwrap_or(1),
                    response.reason.unwrap_or_default()
                ));
                exchange.headers = response
                    .headers
                    .iter()
                    .map(|h| {
                        let value = String::from_utf8_lossy(h.value);
                        let value = if h.name.eq_ignore_ascii_case("set-cookie") {
                            cookie_shown(&value)
                        } else {
                            value.into_owned()
                        };
                        (h.name.to_string(), value)
                    })
                    .collect();
                exchange.accept_ok = exchange.header("Sec-WebSocket-Accept")
                    == Some(exchange.accept_expected.as_str());
                let leftover = buf[used..].to_vec();
                return Some((io, leftover));
            }
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEADER_BYTES => {
                exchange.problem = Some(Problem::Malformed(format!(
                    "the header block exceeds {} KiB without ending",
                    MAX_HEADER_BYTES / 1024
                )));
                return None;
            }
            Ok(httparse::Status::Partial) => {}
            Err(e) => {
                exchange.problem = Some(Problem::Malformed(format!(
                    "not an HTTP response ({e}){}",
                    excerpt_note(&buf)
                )));
                return None;
            }
        }
    }
}

/// A `Set-Cookie` as evidence keeps it: the cookie's name (it tells who answered: `AWSALB`,
/// `__cf_bm`) and its attributes, never its value, which may be a session.
fn cookie_shown(value: &str) -> String {
    let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
    let name = pair.split_once('=').map_or(pair, |(name, _)| name).trim();
    let mut shown = format!("{name}={}", crate::secret::REDACTED);
    if !attributes.is_empty() {
        shown.push(';');
        shown.push_str(attributes);
    }
    shown
}

fn excerpt_note(buf: &[u8]) -> String {
    if buf.is_empty() {
        return String::new();
    }
    let shown = String::from_utf8_lossy(&buf[..buf.len().min(60)]).into_owned();
    format!(": {shown:?}")
}

async fn read_body(
    mut io: BoxedIo,
    mut body: Vec<u8>,
    exchange: &mut Exchange,
    deadline: tokio::time::Instant,
) {
    let wait_until = deadline.min(tokio::time::Instant::now() + BODY_WAIT);
    let wanted = exchange
        .header("Content-Length")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(BODY_EXCERPT_BYTES)
        .min(BODY_EXCERPT_BYTES);
    let mut chunk = [0u8; 1024];
    while body.len() < wanted {
        match tokio::time::timeout_at(wait_until, io.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => body.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    let chunked = exchange
        .header("Transfer-Encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    body.truncate(BODY_EXCERPT_BYTES);
    exchange.body_excerpt = String::from_utf8_lossy(&body).into_owned();
}

/// The data of a chunked body as far as it was read (a chunk cut short is kept as far as it
/// goes): an excerpt shows what the server wrote, not its framing.
fn dechunk(raw: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut rest = raw;
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let line = String::from_utf8_lossy(&rest[..end]);
        let size = line.split(';').next().unwrap_or_default().trim();
        let Ok(size) = usize::from_str_radix(size, 16) else {
            break;
        };
        if size == 0 {
            break;
        }
        let chunk = &rest[end + 2..];
        let take = size.min(chunk.len());
        data.extend_from_slice(&chunk[..take]);
        rest = chunk.get(take + 2..).unwrap_or_default();
    }
    data
}

/// A tungstenite client request for the target's URL with the given extra headers.
pub(crate) fn client_request(
    target: &Target,
    headers: &[(String, String)],
) -> Result<Request<()>, RequestError> {
    let mut request = target.url.as_str().into_client_request()?;
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| RequestError::HeaderName(name.clone()))?;
        let value = HeaderValue::from_str(value).map_err(|_| RequestError::HeaderValue)?;
        request.headers_mut().append(name, value);
    }
    Ok(request)
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RequestError {
    #[error("cannot build the request: {0}")]
    Build(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("header name '{0}' is not valid in HTTP")]
    HeaderName(String),
    // The value may be a credential: it is never part of the message.
    #[error("a header value holds characters HTTP does not allow")]
    HeaderValue,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_given_on_the_command_line_are_masked() {
        let target = Target::parse("wss://h.example/a").expect("target");
        let headers = vec![("Authorization".to_string(), "Bearer s3cret".to_string())];
        let ask = Ask {
            headers: &headers,
            origin: None,
        };
        let text = request_text(&target, "/a", "k", ask);
        let shown = redact_request(&text, &headers);
        assert!(text.contains("s3cret"));
        assert!(!shown.contains("s3cret"));
        assert!(shown.starts_with("GET /a HTTP/1.1\r\nHost: h.example\r\n"));
    }

    #[tokio::test]
    async fn a_cookie_the_server_sets_is_evidence_by_name_never_by_value() {
        let (client, mut server) = tokio::io::duplex(4096);
        tokio::spawn(async move {
            let mut request = [0u8; 1024];
            let _ = server.read(&mut request).await;
            let answer = "HTTP/1.1 403 Forbidden\r\nSet-Cookie: AWSALB=s3ssion-v4lue; Path=/; HttpOnly\r\nset-cookie: bare\r\nServer: awselb/2.0\r\nContent-Length: 0\r\n\r\n";
            let _ = server.write_all(answer.as_bytes()).await;
        });
        let target = Target::parse("wss://h.example/a").expect("target");
        let exchange = get(Box::new(client), &target, "/a", Duration::from_secs(5)).await;
        assert_eq!(exchange.status, Some(403), "{exchange:?}");
        assert_eq!(
            exchange.header("Set-Cookie"),
            Some("AWSALB=[redacted]; Path=/; HttpOnly")
        );
        assert_eq!(exchange.headers[1].1, "bare=[redacted]");
        assert_eq!(exchange.header("Server"), Some("awselb/2.0"));
        assert!(!format!("{exchange:?}").contains("s3ssion"));
    }

    #[test]
    fn a_chunked_body_is_shown_without_its_framing() {
        let raw = b"7\r\n0{\"sid\"\r\n3;ext=1\r\n:1}\r\n0\r\n\r\n";
        assert_eq!(dechunk(raw), b"0{\"sid\":1}");
        assert_eq!(dechunk(b"a\r\nshort"), b"short", "cut short, kept");
        assert_eq!(dechunk(b"zz\r\nx"), b"", "not chunked after all");
    }
}
