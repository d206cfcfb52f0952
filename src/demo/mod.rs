//! A real WebSocket target on 127.0.0.1 with selectable faults: the app's built-in demo (so a
//! newcomer sees every check run with no setup) and the servers the integration tests probe.
//! It speaks HTTP/1.1 and WebSocket over real sockets, with or without TLS.

pub mod bot;
pub mod certs;
#[cfg(feature = "gui")]
pub mod playback;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rustls::ServerConfig;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use self::bot::{Bot, BotStyle, Heard, Say};
use self::certs::{CertError, Pki, Served};
use crate::net::http;
use crate::records::address::ResolvePin;
use crate::stream::telnyx::AUTH_TOKEN_HEADER;

/// The host name the demo target answers to (pinned to 127.0.0.1, never looked up).
pub(crate) const DEMO_HOST: &str = "demo.stream-doctor.test";
/// The path of the demo stream, shaped like the one in the troubleshooting page.
pub(crate) const DEMO_PATH: &str = "/api/calls/123/audio";

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How the target answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// Upgrades any path, answers pings, accepts a provider stream.
    Healthy,
    /// Answers every request with these raw bytes (status line, headers, body).
    Respond(String),
    /// Switches protocols with a wrong `Sec-WebSocket-Accept`.
    WrongAccept,
    /// Upgrades, then closes at once (1008).
    CloseOnConnect,
    /// Upgrades, then closes (1003) when the provider's `start` arrives.
    CloseAfterStart,
    /// Upgrades only this literal path and answers 400 elsewhere, as Node `ws` with `path` does.
    ExactPath(String),
    /// Upgrades only requests carrying this `x-telnyx-streaming-auth-token`, and closes (1008)
    /// a stream whose `connected` message does not carry it too.
    RequireToken(String),
    /// Accepts TCP and never says a word.
    Silent,
    /// Answers with bytes that are not HTTP.
    Garbage,
    /// Answers with a 10 MB header block.
    HugeHeaders,
    /// Answers a 101 one byte a second.
    Trickle,
    /// Answers a 101 whose header block is over 64 KiB, in one write.
    HugeHeadOnce,
    /// Answers every request with this page until the instant, then is healthy: a sleeping
    /// service behind a platform's edge.
    Sleeping { page: String, wakes_at: Instant },
    /// Refuses (403) an upgrade without an `Origin` header.
    RequireOrigin,
    /// Healthy, with these raw header lines added to the 101, as an edge adds its own.
    Behind(String),
    /// Upgrades, then sends a close frame with exactly this payload (code bytes and reason).
    CloseWith(Vec<u8>),
    /// Answers a 101, then header lines without end, as fast as they are taken.
    HeadersForever,
    /// Upgrades, then sends bytes that are no WebSocket frame.
    UpgradeThenGarbage,
    /// Upgrades, then never sends, answers or closes anything.
    UpgradeThenSilence,
    /// Upgrades, then starts a binary frame announced as 100 MB and keeps sending it.
    UpgradeThenHugeFrame,
    /// Sends half a 101 and resets the connection.
    ResetMidHandshake,
    /// Closes every connection as soon as it is accepted.
    EofOnAccept,
    /// A voice bot that answers each of the caller's turns, well or with a fault.
    Bot(BotStyle),
}

impl Behavior {
    /// A canned HTTP answer with `status` and a short body.
    pub fn status(status: u16, reason: &str, extra_headers: &str) -> Behavior {
        Behavior::Respond(http::response(
            status,
            reason,
            extra_headers,
            &format!("{status} {reason}"),
        ))
    }
}

/// The demo's modes a person can flip between to watch a diagnosis happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoMode {
    Healthy,
    /// Routes only the literal `/api/calls/:id/audio` (Node `ws` exact-match `path`).
    PathMismatch,
    /// A proxy that drops the `Upgrade` header: 200 instead of 101.
    NoUpgrade,
    /// Demands an `Authorization` header the provider never sends.
    AuthRequired,
    /// Closes the stream when the provider's `start` arrives.
    ClosesStream,
}

impl DemoMode {
    pub(crate) const ALL: [DemoMode; 5] = [
        DemoMode::Healthy,
        DemoMode::PathMismatch,
        DemoMode::NoUpgrade,
        DemoMode::AuthRequired,
        DemoMode::ClosesStream,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DemoMode::Healthy => "healthy",
            DemoMode::PathMismatch => "path-mismatch",
            DemoMode::NoUpgrade => "no-upgrade",
            DemoMode::AuthRequired => "auth-required",
            DemoMode::ClosesStream => "closes-stream",
        }
    }

    pub fn behavior(self) -> Behavior {
        match self {
            DemoMode::Healthy => Behavior::Healthy,
            DemoMode::PathMismatch => Behavior::ExactPath("/api/calls/:id/audio".into()),
            DemoMode::NoUpgrade => Behavior::status(200, "OK", ""),
            DemoMode::AuthRequired => {
                Behavior::status(401, "Unauthorized", "WWW-Authenticate: Bearer\r\n")
            }
            DemoMode::ClosesStream => Behavior::CloseAfterStart,
        }
    }
}

impl std::str::FromStr for DemoMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DemoMode::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = DemoMode::ALL.iter().map(|m| m.name()).collect();
                format!("unknown demo mode '{s}' (one of: {})", names.join(", "))
            })
    }
}

/// A running target; dropping it stops the listener and every connection.
pub struct DemoServer {
    addr: SocketAddr,
    behavior: Arc<RwLock<Behavior>>,
    accepted: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl DemoServer {
    /// Listens on 127.0.0.1 on a port the OS picks; TLS when `tls` is given.
    pub async fn start(
        behavior: Behavior,
        tls: Option<Arc<ServerConfig>>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let behavior = Arc::new(RwLock::new(behavior));
        let shared = behavior.clone();
        let accepted = Arc::new(AtomicU64::new(0));
        let counter = accepted.clone();
        let acceptor = tls.map(TlsAcceptor::from);
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let current = shared.read().map(|b| b.clone());
                        if let (Ok((tcp, _)), Ok(current)) = (accepted, current) {
                            let count = counter.fetch_add(1, Ordering::Relaxed) + 1;
                            connections.spawn(serve(tcp, Arc::new(current), acceptor.clone(), count));
                        }
                    }
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        });
        Ok(Self {
            addr,
            behavior,
            accepted,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections it has accepted: what a check cost the server.
    pub fn connections(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Changes how new connections are answered; the address stays the same.
    pub fn set_behavior(&self, behavior: Behavior) {
        if let Ok(mut current) = self.behavior.write() {
            *current = behavior;
        }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The built-in demo: a TLS target under a private root the checks are told to trust.
pub struct DemoTarget {
    pub server: DemoServer,
    pub url: String,
    pub pin: ResolvePin,
    pub root: CertificateDer<'static>,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Certs(#[from] CertError),
    #[error("the demo target could not listen: {0}")]
    Listen(#[from] std::io::Error),
}

impl DemoTarget {
    pub async fn start(behavior: Behavior) -> Result<Self, DemoError> {
        let pki = Pki::generate()?;
        let config =
            certs::server_config(pki.serve(DEMO_HOST, Served::FullChain)?, &[b"http/1.1"])?;
        let server = DemoServer::start(behavior, Some(config)).await?;
        let port = server.addr().port();
        Ok(Self {
            url: format!("wss://{DEMO_HOST}:{port}{DEMO_PATH}"),
            pin: ResolvePin {
                host: DEMO_HOST.to_string(),
                port,
                addr: server.addr().ip(),
            },
            root: pki.root_der(),
            server,
        })
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Pseudo-random bytes (xorshift), the same every time.
fn noise(count: usize) -> Vec<u8> {
    let mut state: u32 = 0x9e37_79b9;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// Serves connection number `nth` (from 1) to this server.
async fn serve(tcp: TcpStream, behavior: Arc<Behavior>, tls: Option<TlsAcceptor>, nth: u64) {
    match *behavior {
        Behavior::EofOnAccept => return,
        Behavior::ResetMidHandshake => {
            let mut tcp = tcp;
            if http::read_request(&mut tcp, REQUEST_TIMEOUT).await.is_ok() {
                let _ = tcp.write_all(b"HTTP/1.1 101 Switching Pro").await;
            }
            // Linger 0: the close is a reset, not a goodbye.
            let _ = tcp.set_zero_linger();
            return;
        }
        _ => {}
    }
    if *behavior == Behavior::Silent {
        let mut tcp = tcp;
        let mut sink = [0u8; 1024];
        while let Ok(n) = tcp.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
        return;
    }
    let _ = tcp.set_nodelay(true);
    match tls {
        Some(acceptor) => {
            if let Ok(Ok(stream)) =
                tokio::time::timeout(REQUEST_TIMEOUT, acceptor.accept(tcp)).await
            {
                http(Box::new(stream), &behavior, nth).await;
            }
        }
        None => http(Box::new(tcp), &behavior, nth).await,
    }
}

async fn http(mut stream: Box<dyn Stream>, behavior: &Behavior, nth: u64) {
    // Not HTTP (a TLS ClientHello on a plain port, say): answer as an HTTP server would.
    let request = match http::read_request(&mut stream, REQUEST_TIMEOUT).await {
        Ok(request) => request,
        Err(http::ReadError::Malformed) => http::Request::default(),
        Err(http::ReadError::Gone) => return,
    };
    let bare_path = request.path();
    match behavior {
        Behavior::Respond(raw) => http::answer(&mut stream, raw).await,
        Behavior::Garbage => {
            let _ = stream.write_all(&noise(2048)).await;
            let _ = stream.shutdown().await;
        }
        Behavior::HeadersForever => {
            let _ = stream
                .write_all(b"HTTP/1.1 101 Switching Protocols\r\n")
                .await;
            let line = format!("X-Forever: {}\r\n", "b".repeat(100));
            while stream.write_all(line.as_bytes()).await.is_ok() {}
        }
        Behavior::HugeHeaders => {
            let _ = stream
                .write_all(b"HTTP/1.1 101 Switching Protocols\r\n")
                .await;
            let line = format!("X-Filler: {}\r\n", "a".repeat(1000));
            for _ in 0..10_000 {
                if stream.write_all(line.as_bytes()).await.is_err() {
                    return;
                }
            }
            let _ = stream.write_all(b"\r\n").await;
        }
        Behavior::HugeHeadOnce => {
            let filler = format!("X-Filler: {}\r\n", "a".repeat(70 * 1024));
            let head = format!("HTTP/1.1 101 Switching Protocols\r\n{filler}\r\n");
            http::answer(&mut stream, &head).await;
        }
        Behavior::Sleeping { page, wakes_at } if Instant::now() < *wakes_at => {
            http::answer(&mut stream, page).await;
        }
        Behavior::RequireOrigin if request.header("Origin").is_none() => {
            let refusal = http::response(403, "Forbidden", "", "Origin not allowed");
            http::answer(&mut stream, &refusal).await;
        }
        Behavior::Trickle => {
            for byte in b"HTTP/1.1 101 Switching Protocols\r\n\r\n" {
                if stream.write_all(&[*byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        Behavior::ExactPath(only) if bare_path != only => {
            // What Node `ws` writes from abortHandshake when `path` does not match.
            let body = "Bad Request";
            let answer = format!(
                "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            http::answer(&mut stream, &answer).await;
        }
        Behavior::RequireToken(token)
            if request.header(AUTH_TOKEN_HEADER) != Some(token.as_str()) =>
        {
            let refusal = http::response(401, "Unauthorized", "", "401 Unauthorized");
            http::answer(&mut stream, &refusal).await;
        }
        _ => upgrade(stream, request, behavior, nth).await,
    }
}

/// Keeps a connection open without a word until the peer goes (or a minute passes).
async fn hold(mut stream: Box<dyn Stream>) {
    let mut sink = [0u8; 1024];
    let reading = async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(60), reading).await;
}

async fn upgrade(
    mut stream: Box<dyn Stream>,
    request: http::Request,
    behavior: &Behavior,
    nth: u64,
) {
    let Some(key) = request.websocket_key() else {
        let refusal = http::response(
            426,
            "Upgrade Required",
            "Upgrade: websocket\r\n",
            "Upgrade Required",
        );
        http::answer(&mut stream, &refusal).await;
        return;
    };
    let answer = match behavior {
        Behavior::WrongAccept => http::switching_protocols("not the client's key"),
        Behavior::Behind(headers) => http::switching_protocols(key).replacen(
            "\r\n\r\n",
            &format!("\r\n{}\r\n\r\n", headers.trim_end()),
            1,
        ),
        _ => http::switching_protocols(key),
    };
    if stream.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    match behavior {
        Behavior::UpgradeThenGarbage => {
            let _ = stream.write_all(&noise(4096)).await;
            hold(stream).await;
            return;
        }
        Behavior::UpgradeThenSilence => {
            hold(stream).await;
            return;
        }
        Behavior::UpgradeThenHugeFrame => {
            let mut head = vec![0x82, 127];
            head.extend_from_slice(&(100u64 * 1024 * 1024).to_be_bytes());
            if stream.write_all(&head).await.is_ok() {
                let chunk = vec![0x55u8; 64 * 1024];
                for _ in 0..1600 {
                    if stream.write_all(&chunk).await.is_err() {
                        break;
                    }
                }
            }
            return;
        }
        _ => {}
    }
    if let Behavior::CloseWith(payload) = behavior {
        // Written by hand: the library would not send an invalid code or reason.
        let mut frame = vec![0x88, payload.len().min(125) as u8];
        frame.extend_from_slice(&payload[..payload.len().min(125)]);
        let _ = stream.write_all(&frame).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        return;
    }
    let mut ws =
        WebSocketStream::from_partially_read(stream, request.leftover, Role::Server, None).await;
    if let Behavior::Bot(style) = behavior {
        // A bot that answers only its first call: every later one finds it mute.
        let style = match style {
            BotStyle::FirstCallOnly if nth > 1 => BotStyle::OneWay,
            other => *other,
        };
        converse(ws, style).await;
        return;
    }
    if *behavior == Behavior::CloseOnConnect {
        let frame = CloseFrame {
            code: CloseCode::Policy,
            reason: "no session for this call".into(),
        };
        let _ = ws.close(Some(frame)).await;
    }
    while let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::from_secs(60), ws.next()).await
    {
        let Message::Text(text) = &message else {
            continue;
        };
        let refusal = match behavior {
            Behavior::CloseAfterStart if text.contains("\"event\":\"start\"") => {
                Some((CloseCode::Unsupported, "unsupported media format"))
            }
            Behavior::RequireToken(token)
                if text.contains("\"event\":\"connected\"") && !text.contains(token.as_str()) =>
            {
                Some((CloseCode::Policy, "auth token missing from connected"))
            }
            _ => None,
        };
        if let Some((code, reason)) = refusal {
            let _ = ws
                .close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                }))
                .await;
        }
    }
}

/// What the bot's speaker is asked to do.
enum Speak {
    Answer(Vec<Say>),
    /// Stop the answer being said, and tell the provider to drop what it queued.
    Clear(String),
}

/// A bot's side of a call: hears the caller, and answers each turn it hears end, paced as its
/// style says, while it goes on listening; stops an answer the caller speaks over.
async fn converse<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    ws: WebSocketStream<S>,
    style: BotStyle,
) {
    let (mut sink, mut source) = ws.split();
    let (speak, mut queue) = tokio::sync::mpsc::unbounded_channel::<Speak>();
    let answering = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let saying = answering.clone();
    let speaker = tokio::spawn(async move {
        let mut next = queue.recv().await;
        while let Some(speak) = next.take() {
            let answer = match speak {
                Speak::Answer(answer) => answer,
                Speak::Clear(clear) => {
                    let _ = sink.send(Message::text(clear)).await;
                    next = queue.recv().await;
                    continue;
                }
            };
            tokio::time::sleep(Duration::from_millis(style.delay_ms())).await;
            saying.store(true, std::sync::atomic::Ordering::Relaxed);
            let began = tokio::time::Instant::now();
            let mut due = 0;
            for say in answer {
                let (pause, message) = match say {
                    Say::Text(pause, text) => (pause, Message::text(text)),
                    Say::Close(pause, code, reason) => {
                        let frame = CloseFrame {
                            code: CloseCode::from(code),
                            reason: reason.into(),
                        };
                        (pause, Message::Close(Some(frame)))
                    }
                };
                due += pause;
                tokio::select! {
                    interrupt = queue.recv() => {
                        next = interrupt;
                        break;
                    }
                    _ = tokio::time::sleep_until(began + Duration::from_millis(due)) => {}
                }
                if sink.send(message).await.is_err() {
                    return;
                }
            }
            saying.store(false, std::sync::atomic::Ordering::Relaxed);
            if next.is_none() {
                next = queue.recv().await;
            }
        }
    });
    let mut bot = Bot::new(style);
    while let Ok(Some(Ok(message))) =
        tokio::time::timeout(Duration::from_secs(60), source.next()).await
    {
        let Message::Text(text) = message else {
            continue;
        };
        let busy = answering.load(std::sync::atomic::Ordering::Relaxed);
        match bot.hear(text.as_str(), busy) {
            Heard::TurnEnded => {
                let _ = speak.send(Speak::Answer(bot.answer()));
            }
            Heard::Interrupted => {
                let _ = speak.send(Speak::Clear(bot.clear()));
            }
            Heard::Nothing => {}
        }
    }
    speaker.abort();
}
