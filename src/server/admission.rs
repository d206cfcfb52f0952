//! Who gets in, before any stream exists: the listening socket and its queue, the places
//! served at once (a newcomer at a full listener takes the place of a client idle before its
//! request head), TLS and the request head within their deadline, the token gate, and the
//! answer to an upgrade. It knows sockets and HTTP, not what a stream means.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::net::connect::Io;
use crate::net::http;
use crate::secret::{REDACTED, Secret};
use crate::stream::telnyx::AUTH_TOKEN_HEADER;

/// Deadline of TLS, of the request head, and of a webhook's body.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection still without its request head after this is shed when the listener is full:
/// a slow-loris client must not keep a provider's stream out for the whole handshake timeout.
const SHED_AFTER: Duration = Duration::from_secs(1);
/// How long a newcomer at a full listener waits for a shed connection's place.
const SHED_WAIT: Duration = Duration::from_millis(500);
/// Connections the kernel queues before the listener accepts them (tokio's default is 1024;
/// Linux caps it at `net.core.somaxconn`, 4096 by default).
const ACCEPT_BACKLOG: u32 = 4096;

/// The listening socket, with a deeper accept queue than tokio's default so a burst of
/// connections waits in the kernel instead of being reset.
pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG)
}

/// Why a connection got no further than its request head; `None` from `why` when the client
/// just left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TurnedAway {
    Full,
    TlsFailed,
    NotHttp,
    Shed,
    Left,
}

impl TurnedAway {
    pub(crate) fn why(self) -> Option<&'static str> {
        match self {
            TurnedAway::Full => Some("too many connections at once"),
            TurnedAway::TlsFailed => Some("TLS handshake failed"),
            TurnedAway::NotHttp => Some("not an HTTP request"),
            TurnedAway::Shed => {
                Some("no request head after 1 s while the listener was full: shed for a newcomer")
            }
            TurnedAway::Left => None,
        }
    }
}

/// A connection let in: its place (held until dropped), the stream and its request head.
pub(crate) struct Admitted {
    pub place: OwnedSemaphorePermit,
    pub stream: Box<dyn Io>,
    pub request: http::Request,
}

/// The places served at once, and the signal that asks idle clients to give theirs up.
pub(crate) struct Doors {
    places: Arc<Semaphore>,
    shed: watch::Sender<u64>,
    tls: Option<Arc<ServerConfig>>,
}

impl Doors {
    pub(crate) fn new(places: usize, tls: Option<Arc<ServerConfig>>) -> Self {
        Self {
            places: Arc::new(Semaphore::new(places.max(1))),
            shed: watch::channel(0).0,
            tls,
        }
    }

    /// A place, TLS when served, and the request head: the connection admitted, or why not.
    pub(crate) async fn admit(&self, tcp: TcpStream) -> Result<Admitted, TurnedAway> {
        let arrived = Instant::now();
        let place = self.place().await.ok_or(TurnedAway::Full)?;
        let mut shed = self.shed.subscribe();
        let (stream, request) = tokio::select! {
            head = self.head(tcp) => head?,
            () = shed_when_asked(&mut shed, arrived) => return Err(TurnedAway::Shed),
        };
        Ok(Admitted {
            place,
            stream,
            request,
        })
    }

    /// A place among the connections served at once: free, or freed by shedding a connection
    /// that has been idle before its request head.
    async fn place(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(permit) = self.places.clone().try_acquire_owned() {
            return Some(permit);
        }
        self.shed.send_modify(|n| *n = n.wrapping_add(1));
        let waiting = self.places.clone().acquire_owned();
        tokio::time::timeout(SHED_WAIT, waiting).await.ok()?.ok()
    }

    /// TLS (when served) and the request head, each within the handshake timeout.
    async fn head(&self, tcp: TcpStream) -> Result<(Box<dyn Io>, http::Request), TurnedAway> {
        let _ = tcp.set_nodelay(true);
        let mut stream: Box<dyn Io> = match &self.tls {
            Some(config) => {
                let accepting = TlsAcceptor::from(config.clone()).accept(tcp);
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, accepting).await {
                    Ok(Ok(tls)) => Box::new(tls),
                    _ => return Err(TurnedAway::TlsFailed),
                }
            }
            None => Box::new(tcp),
        };
        match http::read_request(&mut stream, HANDSHAKE_TIMEOUT).await {
            Ok(request) => Ok((stream, request)),
            Err(http::ReadError::Malformed) => {
                let answer = http::response(400, "Bad Request", "", "not an HTTP request");
                http::answer(&mut stream, &answer).await;
                Err(TurnedAway::NotHttp)
            }
            Err(http::ReadError::Gone) => Err(TurnedAway::Left),
        }
    }
}

/// Returns when this connection, arrived at `arrived` and still without its request head,
/// should give its place to a newcomer; never if no newcomer asks.
async fn shed_when_asked(shed: &mut watch::Receiver<u64>, arrived: Instant) {
    loop {
        if shed.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
        if arrived.elapsed() >= SHED_AFTER {
            return;
        }
    }
}

/// Whether a request carries the listener's token: as a whole segment of its path, or (for a
/// stream, never a webhook, whose path is all the provider lets a person set) in the
/// provider's auth header. A query string is not a path, and a segment that merely contains
/// the token is not it. Every comparison takes the same time whatever matches.
pub(crate) fn has_token(request: &http::Request, token: Option<&Secret>, webhook: bool) -> bool {
    let Some(token) = token else { return true };
    let path = request.target.split(['?', '#']).next().unwrap_or_default();
    let in_path = path
        .split('/')
        .fold(false, |found, segment| found | same(segment, token));
    let in_header = request
        .header(AUTH_TOKEN_HEADER)
        .is_some_and(|value| same(value, token));
    in_path || (in_header && !webhook)
}

/// `value == token` in time that depends on their lengths only.
pub(crate) fn same(value: &str, token: &Secret) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(value.as_bytes().ct_eq(token.expose().as_bytes()))
}

/// Switches `stream` to WebSocket for `request`; a request that is no upgrade gets 426 with
/// `not_upgrade` as the body. `None` when there is no WebSocket to serve.
pub(crate) async fn accept(
    mut stream: Box<dyn Io>,
    request: &http::Request,
    not_upgrade: &str,
    config: Option<WebSocketConfig>,
) -> Option<WebSocketStream<Box<dyn Io>>> {
    let Some(key) = request.websocket_key() else {
        let answer = http::response(
            426,
            "Upgrade Required",
            "Upgrade: websocket\r\n",
            not_upgrade,
        );
        http::answer(&mut stream, &answer).await;
        return None;
    };
    tokio::io::AsyncWriteExt::write_all(&mut stream, http::switching_protocols(key).as_bytes())
        .await
        .ok()?;
    let leftover = request.leftover.clone();
    Some(WebSocketStream::from_partially_read(stream, leftover, Role::Server, config).await)
}

/// A path as shown anywhere: the token, if it is in there, masked.
pub(crate) fn shown_path(path: &str, token: Option<&Secret>) -> String {
    match token {
        Some(token) if !token.expose().is_empty() => path.replace(token.expose(), REDACTED),
        _ => path.to_string(),
    }
}

/// Request headers whose values are shown: the upgrade's own, and what edges and proxies add
/// (which the edge fingerprint and a person reading the evidence need). Any other header may
/// be a credential of the caller's (`X-Api-Key`, a custom auth header) and is shown masked.
const SHOWN_HEADERS: [&str; 16] = [
    "host",
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
    "user-agent",
    "origin",
    "referer",
    "via",
    "forwarded",
    "x-real-ip",
    "x-request-id",
    "x-amzn-trace-id",
    "traceparent",
];

/// Families of edge headers shown whole (`x-forwarded-for`, `cf-ray`, `fly-region`, ...).
const SHOWN_PREFIXES: [&str; 6] = [
    "x-forwarded-",
    "cf-",
    "fly-",
    "x-railway-",
    "render-",
    "x-vercel-",
];

/// The request's headers as the monitor shows them: names always (they are evidence), values
/// of the headers in `SHOWN_HEADERS` and `SHOWN_PREFIXES` with the token masked, every other
/// value masked whole.
pub(crate) fn redacted_headers(
    headers: &[(String, String)],
    token: Option<&Secret>,
) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let lower = name.to_ascii_lowercase();
            let shown = SHOWN_HEADERS.contains(&lower.as_str())
                || SHOWN_PREFIXES.iter().any(|p| lower.starts_with(p));
            let value = if shown && lower != AUTH_TOKEN_HEADER {
                shown_path(value, token)
            } else {
                REDACTED.to_string()
            };
            (name.clone(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, headers: &[(&str, &str)]) -> http::Request {
        http::Request {
            method: "GET".into(),
            target: target.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            leftover: Vec::new(),
        }
    }

    #[test]
    fn the_token_opens_by_path_or_for_a_stream_by_the_providers_header() {
        let token = Secret::new("s3cret".to_string());
        let token = Some(&token);
        assert!(
            has_token(&request("/a", &[]), None, false),
            "no token, no gate"
        );
        assert!(has_token(&request("/s3cret/audio", &[]), token, false));
        assert!(has_token(
            &request("/webhooks/telnyx/s3cret", &[]),
            token,
            true
        ));
        assert!(!has_token(&request("/audio", &[]), token, false));
        let header = [(AUTH_TOKEN_HEADER, "s3cret")];
        assert!(has_token(&request("/audio", &header), token, false));
        assert!(
            !has_token(&request("/webhooks/telnyx", &header), token, true),
            "a webhook's token is in its path only"
        );
        assert!(!has_token(
            &request("/audio", &[(AUTH_TOKEN_HEADER, "other")]),
            token,
            false
        ));
        for near in [
            "/audio?token=s3cret",
            "/audio#s3cret",
            "/xs3cret/audio",
            "/s3cretx",
            "/s3cre/t",
        ] {
            assert!(
                !has_token(&request(near, &[]), token, false),
                "{near} is not the token as a path segment"
            );
        }
        assert!(has_token(&request("/a/s3cret?x=1", &[]), token, false));
    }

    #[test]
    fn the_monitor_sees_neither_credentials_nor_the_token() {
        let token = Secret::new("s3cret".to_string());
        let shown = redacted_headers(
            &[
                ("Authorization".into(), "Bearer s3cret".into()),
                ("Referer".into(), "https://x/s3cret/audio".into()),
                ("User-Agent".into(), "Telnyx".into()),
                ("X-Api-Key".into(), "the-callers-key".into()),
                ("Cookie".into(), "sid=abc".into()),
                ("X-Forwarded-For".into(), "203.0.113.9".into()),
            ],
            Some(&token),
        );
        assert_eq!(shown[0].1, REDACTED);
        assert_eq!(shown[1].1, format!("https://x/{REDACTED}/audio"));
        assert_eq!(shown[2].1, "Telnyx");
        assert_eq!(shown[3], ("X-Api-Key".into(), REDACTED.into()));
        assert_eq!(shown[4].1, REDACTED);
        assert_eq!(shown[5].1, "203.0.113.9");
    }

    #[test]
    fn a_client_that_just_left_is_not_a_refusal() {
        assert_eq!(TurnedAway::Left.why(), None);
        for turned in [
            TurnedAway::Full,
            TurnedAway::TlsFailed,
            TurnedAway::NotHttp,
            TurnedAway::Shed,
        ] {
            assert!(turned.why().is_some(), "{turned:?}");
        }
    }
}
