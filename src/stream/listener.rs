//! The listener: stands in for the user's server, as the page's "test locally with a tunnel"
//! step asks. It accepts WebSocket media streams on any path (only paths holding `--token`
//! when one is set), recognises the provider, decodes and meters every media frame, counts
//! what is wrong, and can answer with a tone and a `mark` to test the way back. Bad input is
//! counted and shown; it never stops the listener or another stream.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use rustls::ServerConfig;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::live::{Closed, LiveStore, MediaFormat, StreamState, StreamSummary};
use super::{Inbound, Media, Provider, StartInfo, telnyx, twilio};
use crate::audio::meter::LevelPoint;
use crate::audio::wav::Recorder;
use crate::audio::{Codec, Decoder, Encoder, tone};
use crate::check::millis;
use crate::http;
use crate::secret::{REDACTED, Secret};

/// A frame larger than this closes its stream with 1009.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 1024 * 1024;
/// Connections served at once; more are turned away at once, not queued.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// A frame arriving this much after its media timestamp (relative to the first) is late.
pub const LATE_AFTER_MS: f64 = 200.0;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A client that stops reading gets this long per reply frame before its stream is closed.
const SEND_TIMEOUT: Duration = Duration::from_secs(2);
/// The name of the `mark` sent after the reply tone.
pub const REPLY_MARK: &str = "stream-doctor-tone";
const FRAME_MS: u64 = 20;

#[derive(Clone)]
pub struct ListenOptions {
    pub bind: SocketAddr,
    pub token: Option<Secret>,
    pub tls: Option<Arc<ServerConfig>>,
    pub max_frame_bytes: usize,
    pub max_connections: usize,
    pub record_dir: Option<PathBuf>,
    /// Send a second of tone back as `media` frames, then a `mark`, once a stream starts.
    pub reply_tone: bool,
}

impl Default for ListenOptions {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 5001)),
            token: None,
            tls: None,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            record_dir: None,
            reply_tone: false,
        }
    }
}

/// Notable events, one line each in `listen`'s text output and the window's timeline.
#[derive(Clone, Debug)]
pub enum Notice {
    Refused {
        remote: SocketAddr,
        path: String,
        why: String,
    },
    Opened {
        number: u64,
        remote: SocketAddr,
        path: String,
    },
    Event {
        number: u64,
        text: String,
    },
    Closed {
        number: u64,
        how: String,
    },
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::Refused { remote, path, why } => write!(f, "refused {remote} {path}: {why}"),
            Notice::Opened {
                number,
                remote,
                path,
            } => write!(f, "#{number} connect from {remote} {path}"),
            Notice::Event { number, text } => write!(f, "#{number} {text}"),
            Notice::Closed { number, how } => write!(f, "#{number} {how}"),
        }
    }
}

pub type Notify = Arc<dyn Fn(Notice) + Send + Sync>;

/// What `listen` prints at the end (stream.md's JSON).
#[derive(Clone, Debug, Serialize)]
pub struct ListenSummary {
    pub listen: String,
    pub refused: u64,
    pub streams: Vec<StreamSummary>,
}

struct Shared {
    options: ListenOptions,
    store: LiveStore,
    notify: Notify,
    connections: Arc<Semaphore>,
    closed: watch::Sender<u64>,
}

/// A running listener; dropping it stops it and every stream.
pub struct Listener {
    addr: SocketAddr,
    shared: Arc<Shared>,
    closed: watch::Receiver<u64>,
    task: JoinHandle<()>,
}

impl Listener {
    pub async fn start(options: ListenOptions, notify: Notify) -> std::io::Result<Listener> {
        let socket = TcpListener::bind(options.bind).await?;
        let addr = socket.local_addr()?;
        let (closed_tx, closed) = watch::channel(0);
        let shared = Arc::new(Shared {
            connections: Arc::new(Semaphore::new(options.max_connections.max(1))),
            options,
            store: LiveStore::default(),
            notify,
            closed: closed_tx,
        });
        let accepting = shared.clone();
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = socket.accept() => {
                        if let Ok((tcp, remote)) = accepted {
                            connections.spawn(connection(tcp, remote, accepting.clone()));
                        }
                    }
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        });
        Ok(Listener {
            addr,
            shared,
            closed,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn store(&self) -> LiveStore {
        self.shared.store.clone()
    }

    /// Waits until `count` streams have closed.
    pub async fn wait_for_closed(&mut self, count: u64) {
        let _ = self.closed.wait_for(|closed| *closed >= count).await;
    }

    /// Stops listening; streams still open are closed by the listener in the summary.
    pub fn stop(&self) -> ListenSummary {
        self.task.abort();
        let mut live = self.shared.store.lock().unwrap_or_else(|e| e.into_inner());
        for stream in live.streams.iter_mut().filter(|s| s.is_open()) {
            stream.duration_ms = Some(millis(stream.opened.elapsed()));
            stream.closed = Some(Closed {
                by: "listener".into(),
                code: None,
                reason: "the listener stopped".into(),
            });
        }
        ListenSummary {
            listen: self.addr.to_string(),
            refused: live.refused,
            streams: live.streams.iter().map(StreamState::summary).collect(),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A path as shown anywhere: the token, if it is in there, masked.
fn shown_path(path: &str, token: Option<&Secret>) -> String {
    match token {
        Some(token) if !token.expose().is_empty() => path.replace(token.expose(), REDACTED),
        _ => path.to_string(),
    }
}

fn refuse(shared: &Shared, remote: SocketAddr, path: String, why: &str) {
    if let Ok(mut live) = shared.store.lock() {
        live.refused += 1;
    }
    (shared.notify)(Notice::Refused {
        remote,
        path,
        why: why.to_string(),
    });
}

async fn connection(tcp: TcpStream, remote: SocketAddr, shared: Arc<Shared>) {
    let Ok(_permit) = shared.connections.clone().try_acquire_owned() else {
        refuse(
            &shared,
            remote,
            String::new(),
            "too many connections at once",
        );
        return;
    };
    let _ = tcp.set_nodelay(true);
    let mut stream: Box<dyn Io> = match &shared.options.tls {
        Some(config) => match tokio::time::timeout(
            HANDSHAKE_TIMEOUT,
            TlsAcceptor::from(config.clone()).accept(tcp),
        )
        .await
        {
            Ok(Ok(tls)) => Box::new(tls),
            _ => {
                refuse(&shared, remote, String::new(), "TLS handshake failed");
                return;
            }
        },
        None => Box::new(tcp),
    };
    let request = match http::read_request(&mut stream, HANDSHAKE_TIMEOUT).await {
        Ok(request) => request,
        Err(http::ReadError::Malformed) => {
            http::answer(
                &mut stream,
                &http::response(400, "Bad Request", "", "not an HTTP request"),
            )
            .await;
            refuse(&shared, remote, String::new(), "not an HTTP request");
            return;
        }
        Err(http::ReadError::Gone) => return,
    };
    let token = shared.options.token.as_ref();
    let path = shown_path(&request.target, token);
    if token.is_some_and(|t| !request.target.contains(t.expose())) {
        http::answer(
            &mut stream,
            &http::response(404, "Not Found", "", "no stream here"),
        )
        .await;
        refuse(&shared, remote, path, "the path does not hold the token");
        return;
    }
    let Some(key) = request.websocket_key() else {
        let answer = http::response(
            426,
            "Upgrade Required",
            "Upgrade: websocket\r\n",
            "this path takes WebSocket media streams",
        );
        http::answer(&mut stream, &answer).await;
        refuse(&shared, remote, path, "not a WebSocket upgrade");
        return;
    };
    if tokio::io::AsyncWriteExt::write_all(&mut stream, http::switching_protocols(key).as_bytes())
        .await
        .is_err()
    {
        return;
    }
    let max = shared.options.max_frame_bytes;
    let config = WebSocketConfig::default()
        .max_frame_size(Some(max))
        .max_message_size(Some(max));
    let ws =
        WebSocketStream::from_partially_read(stream, request.leftover, Role::Server, Some(config))
            .await;
    let number = {
        let Ok(mut live) = shared.store.lock() else {
            return;
        };
        let number = live.streams.len() as u64 + 1;
        live.streams
            .push(StreamState::new(number, path.clone(), remote.to_string()));
        number
    };
    (shared.notify)(Notice::Opened {
        number,
        remote,
        path,
    });
    let closed = Session::new(number, shared.clone()).run(ws).await;
    let how = match &closed {
        Closed {
            code: Some(code),
            by,
            reason,
        } => format!("closed by {by}, code {code} '{reason}'"),
        Closed { by, reason, .. } => format!("closed by {by}: {reason}"),
    };
    let recordings = {
        let mut live = shared.store.lock().unwrap_or_else(|e| e.into_inner());
        let state = &mut live.streams[(number - 1) as usize];
        state.duration_ms = Some(millis(state.opened.elapsed()));
        state.note(how.clone());
        state.closed = Some(closed);
        state.recordings.clone()
    };
    (shared.notify)(Notice::Closed { number, how });
    for path in recordings {
        (shared.notify)(Notice::Event {
            number,
            text: format!("recorded {path}"),
        });
    }
    shared.closed.send_modify(|count| *count += 1);
}

struct Track {
    decoder: Decoder,
    recorder: Option<Recorder>,
}

/// One stream's reading state.
struct Session {
    number: u64,
    shared: Arc<Shared>,
    provider: Option<Provider>,
    codec: Option<Codec>,
    rate_hz: u32,
    stream_id: String,
    tracks: HashMap<String, Track>,
    /// The first media frame's arrival and timestamp, for lateness.
    base: Option<(Instant, u64)>,
    reply: std::collections::VecDeque<Message>,
    mark_sent: Option<Instant>,
}

impl Session {
    fn new(number: u64, shared: Arc<Shared>) -> Self {
        Self {
            number,
            shared,
            provider: None,
            codec: None,
            rate_hz: 8000,
            stream_id: String::new(),
            tracks: HashMap::new(),
            base: None,
            reply: Default::default(),
            mark_sent: None,
        }
    }

    fn with_state<R>(&self, f: impl FnOnce(&mut StreamState) -> R) -> Option<R> {
        let mut live = self.shared.store.lock().ok()?;
        live.streams.get_mut((self.number - 1) as usize).map(f)
    }

    fn event(&self, text: String) {
        self.with_state(|s| s.note(text.clone()));
        (self.shared.notify)(Notice::Event {
            number: self.number,
            text,
        });
    }

    async fn run<S: AsyncRead + AsyncWrite + Unpin>(mut self, ws: WebSocketStream<S>) -> Closed {
        let closed = self.serve(ws).await;
        self.finish_recordings();
        closed
    }

    async fn serve<S: AsyncRead + AsyncWrite + Unpin>(&mut self, ws: WebSocketStream<S>) -> Closed {
        let (mut sink, mut source) = ws.split();
        let mut ticker = tokio::time::interval(Duration::from_millis(FRAME_MS));
        loop {
            tokio::select! {
                next = source.next() => {
                    let message = match next {
                        None => return closed("remote", None, "the connection ended without a close frame"),
                        Some(Err(WsError::Capacity(e))) => {
                            let frame = CloseFrame { code: CloseCode::Size, reason: "frame too large".into() };
                            let _ = tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
                            self.event(format!("frame over the limit ({e}): closing with 1009"));
                            return closed("listener", Some(1009), "frame too large");
                        }
                        Some(Err(e)) => return closed("error", None, &e.to_string()),
                        Some(Ok(message)) => message,
                    };
                    match message {
                        Message::Text(text) => self.on_text(text.as_str()),
                        Message::Binary(bytes) => {
                            let first = self.with_state(|s| {
                                s.bytes += bytes.len() as u64;
                                s.messages.count("binary");
                                s.messages.binary == 1
                            });
                            if first == Some(true) {
                                self.event(format!("binary frame ({} bytes): not part of the protocol, counted", bytes.len()));
                            }
                        }
                        Message::Close(frame) => {
                            let (code, reason) = frame.map(|f| (Some(u16::from(f.code)), f.reason.to_string())).unwrap_or((None, String::new()));
                            // Sends the close reply tungstenite queued, completing the handshake.
                            let _ = tokio::time::timeout(SEND_TIMEOUT, sink.close()).await;
                            return closed("remote", code, &reason);
                        }
                        _ => {}
                    }
                }
                _ = ticker.tick(), if !self.reply.is_empty() => {
                    let Some(message) = self.reply.pop_front() else { continue };
                    let is_mark = matches!(&message, Message::Text(t) if t.contains(REPLY_MARK));
                    match tokio::time::timeout(SEND_TIMEOUT, sink.send(message)).await {
                        Ok(Ok(())) if is_mark => self.mark_sent = Some(Instant::now()),
                        Ok(Ok(())) => {}
                        _ => {
                            self.event("the client stopped reading our replies: closing the stream".into());
                            return closed("listener", None, "the client stopped reading");
                        }
                    }
                }
            }
        }
    }

    fn finish_recordings(&mut self) {
        let mut written = Vec::new();
        for track in self.tracks.values_mut() {
            if let Some(recorder) = track.recorder.take() {
                match recorder.finish() {
                    Ok(path) => written.push(path.display().to_string()),
                    Err(e) => written.push(format!("recording failed: {e}")),
                }
            }
        }
        if !written.is_empty() {
            written.sort();
            self.with_state(|s| s.recordings.extend(written));
        }
    }

    fn on_text(&mut self, text: &str) {
        self.with_state(|s| s.bytes += text.len() as u64);
        let (provider, inbound) = match super::parse(text, self.provider) {
            Ok(parsed) => parsed,
            Err(e) => {
                let count = self.with_state(|s| {
                    s.messages.count("invalid");
                    s.messages.invalid
                });
                if count.is_some_and(|n| n <= 5 || n % 100 == 0) {
                    let excerpt: String = text.chars().take(60).collect();
                    self.event(format!(
                        "invalid message #{}: {e} ({excerpt:?})",
                        count.unwrap_or_default()
                    ));
                }
                return;
            }
        };
        if self.provider.is_none()
            && let Some(p) = provider
        {
            self.provider = Some(p);
            self.with_state(|s| s.protocol = Some(p));
            self.event(format!("protocol: {}", p.name()));
        }
        self.with_state(|s| s.messages.count(inbound.kind()));
        match inbound {
            Inbound::Connected => self.event("connected".into()),
            Inbound::Start(info) => self.on_start(info),
            Inbound::Media(media) => self.on_media(media),
            Inbound::Stop => {
                self.event("stop".into());
                self.finish_recordings();
            }
            Inbound::Dtmf(digit) => self.event(format!("dtmf '{digit}'")),
            Inbound::Mark(name) => {
                let round_trip = self
                    .mark_sent
                    .filter(|_| name == REPLY_MARK)
                    .map(|sent| millis(sent.elapsed()));
                if let Some(ms) = round_trip {
                    self.with_state(|s| s.mark_round_trip_ms = Some(ms));
                    self.event(format!(
                        "mark '{name}' returned {ms:.0} ms after it was sent"
                    ));
                } else {
                    self.event(format!("mark '{name}'"));
                }
            }
            Inbound::Error(detail) => self.event(format!("error from the provider: {detail}")),
            Inbound::Unknown => {
                let event: String = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v.get("event").and_then(|e| e.as_str()).map(String::from))
                    .unwrap_or_default();
                self.event(format!("unknown event '{event}': counted"));
            }
        }
    }

    fn on_start(&mut self, info: StartInfo) {
        let encoding = info.encoding.clone().unwrap_or_else(|| "(none)".into());
        let codec = Codec::from_encoding(&encoding);
        let announced = info.sample_rate.unwrap_or(8000);
        self.codec = codec;
        self.rate_hz = codec.map_or(announced, |c| c.audio_rate(announced));
        self.stream_id = info.stream_id.clone().unwrap_or_default();
        self.tracks.clear();
        self.with_state(|s| {
            s.stream_id = info.stream_id.clone();
            s.call_id = info.call_id.clone();
            s.media_format = Some(MediaFormat {
                encoding: encoding.clone(),
                sample_rate: announced,
                channels: info.channels.unwrap_or(1),
            });
        });
        let mut text = format!(
            "start: {encoding}/{announced}, stream {}",
            info.stream_id.as_deref().unwrap_or("(no id)")
        );
        if codec.is_none() {
            text.push_str(" (a codec this tool cannot decode: frames are counted, not measured)");
        }
        self.event(text);
        if self.shared.options.reply_tone
            && let Some(codec) = codec
        {
            self.queue_reply_tone(codec);
        }
    }

    fn queue_reply_tone(&mut self, codec: Codec) {
        let samples_per_frame = (self.rate_hz as usize * FRAME_MS as usize) / 1000;
        let mut encoder = Encoder::new(codec);
        let engine = base64::engine::general_purpose::STANDARD;
        let provider = self.provider.unwrap_or(Provider::Telnyx);
        for frame in
            tone(660.0, 0.3, self.rate_hz, samples_per_frame * 50).chunks(samples_per_frame)
        {
            let payload = engine.encode(encoder.encode(frame));
            let text = match provider {
                Provider::Telnyx => telnyx::reply_media(&payload),
                Provider::Twilio => twilio::reply_media(&self.stream_id, &payload),
            };
            self.reply.push_back(Message::text(text));
        }
        let mark = match provider {
            Provider::Telnyx => telnyx::reply_mark(REPLY_MARK),
            Provider::Twilio => twilio::reply_mark(&self.stream_id, REPLY_MARK),
        };
        self.reply.push_back(Message::text(mark));
        self.event("replying with a second of tone and a mark".into());
    }

    fn on_media(&mut self, media: Media) {
        let arrived = Instant::now();
        let Some(codec_known) = self.with_state(|s| s.media_format.is_some()) else {
            return;
        };
        if !codec_known {
            let first = self.with_state(|s| {
                s.media_problems.before_start += 1;
                s.media_problems.before_start == 1
            });
            if first == Some(true) {
                self.event("media before start: no format yet, not measured".into());
            }
            return;
        }
        let payload =
            match base64::engine::general_purpose::STANDARD.decode(media.payload_b64.as_bytes()) {
                Ok(bytes) => bytes,
                Err(e) => {
                    let first = self.with_state(|s| {
                        s.media_problems.bad_base64 += 1;
                        s.media_problems.bad_base64 == 1
                    });
                    if first == Some(true) {
                        self.event(format!("media payload is not base64 ({e}): counted"));
                    }
                    return;
                }
            };
        let Some(codec) = self.codec else {
            self.with_state(|s| {
                s.media_problems.undecodable_codec += 1;
                s.tracks.entry(media.track.clone()).or_default().frames += 1;
            });
            return;
        };
        if codec == Codec::L16 && payload.len() % 2 == 1 {
            let first = self.with_state(|s| {
                s.media_problems.odd_length += 1;
                s.media_problems.odd_length == 1
            });
            if first == Some(true) {
                self.event(format!(
                    "L16 payload of odd length ({} bytes): the last byte is dropped",
                    payload.len()
                ));
            }
        }
        let record_dir = self.shared.options.record_dir.clone();
        let number = self.number;
        let stream_name: String = self
            .stream_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(40)
            .collect();
        let rate_hz = self.rate_hz;
        let track = self
            .tracks
            .entry(media.track.clone())
            .or_insert_with(|| Track {
                decoder: Decoder::new(codec),
                recorder: record_dir.and_then(|dir| {
                    let name = format!(
                        "{number:03}-{}-{}.wav",
                        if stream_name.is_empty() {
                            "stream"
                        } else {
                            &stream_name
                        },
                        media.track
                    );
                    Recorder::create(dir.join(name), rate_hz).ok()
                }),
            });
        let samples = track.decoder.decode(&payload);
        if let Some(recorder) = track.recorder.as_mut()
            && recorder.write(&samples).is_err()
        {
            track.recorder = None;
        }
        let (base_arrival, base_ts) = *self
            .base
            .get_or_insert((arrived, media.timestamp_ms.unwrap_or_default()));
        let since_first_ms = millis(arrived.duration_since(base_arrival));
        let late = media
            .timestamp_ms
            .is_some_and(|ts| since_first_ms - (ts.saturating_sub(base_ts)) as f64 > LATE_AFTER_MS);
        let at_ms = media.timestamp_ms.map_or(since_first_ms, |ts| ts as f64);
        let point = LevelPoint::of(at_ms, &samples);
        let gap = self.with_state(|s| {
            let track = s.tracks.entry(media.track.clone()).or_default();
            track.rate_hz = rate_hz;
            track.frames += 1;
            track.summary.add(&samples);
            track.push_level(point);
            if late {
                track.late_frames += 1;
            }
            let gaps_before = track.sequence_gaps;
            if let Some(chunk) = media.chunk.or(media.sequence) {
                track.note_chunk(chunk);
            }
            track.sequence_gaps - gaps_before
        });
        if let Some(missing) = gap.filter(|g| *g > 0) {
            self.event(format!(
                "sequence gap on {}: {missing} frame(s) missing",
                media.track
            ));
        }
    }
}

fn closed(by: &str, code: Option<u16>, reason: &str) -> Closed {
    Closed {
        by: by.to_string(),
        code,
        reason: reason.to_string(),
    }
}
