//! The listener: stands in for the user's server, as the page's "test locally with a tunnel"
//! step asks. It accepts WebSocket media streams on any path (only paths holding `--token`
//! when one is set) and runs the socket side of each: TLS, the upgrade, reading frames and
//! stamping their arrival, sending replies, closing. Who gets in (places, deadlines, the token)
//! is `admission`'s; what a stream's frames mean is the `receiver`'s. Bad input is counted and
//! shown; it never stops the listener or another stream.
//! Deployed, it also answers `/healthz` (open) and `/monitor` (the `monitor`'s events, behind
//! the token), and takes the token from the provider's auth-token header as well as the path.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, Stream, StreamExt};
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::admission::{
    self, Admitted, Doors, HANDSHAKE_TIMEOUT, accept, has_token, redacted_headers, shown_path,
};
use super::monitor::{self, Happening, Journal, MonitorEvent, TrackLevels};
use super::receiver::{Outgoing, Receiver, ReceiverOptions, ReplyMode, Step};
use super::webhooks;
use crate::catalog::Finding;
use crate::net::connect::Io;
use crate::net::http;
use crate::provider::correlate::{Correlator, DEFAULT_STARTED_GRACE};
use crate::provider::webhook;
use crate::records::live::{Closed, ClosedBy, ListenSummary, LiveStore, LiveStreams, StreamState};
use crate::records::webhook::WebhookRecord;
use crate::secret::{Redactor, Secret};

/// A frame larger than this closes its stream with 1009.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 1024 * 1024;
/// Connections served at once. A newcomer past it takes the place of one that has sent no
/// complete request head for `SHED_AFTER`, or is turned away after `SHED_WAIT`.
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// A client that stops reading gets this long per reply frame before its stream is closed.
const SEND_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the correlation looks for started streams that never came.
const CORRELATION_TICK: Duration = Duration::from_millis(250);
/// Replies go out one every 20 ms, the pace of the audio they carry.
const REPLY_INTERVAL: Duration = Duration::from_millis(20);
/// Bytes asked of the socket per read. tungstenite zero-fills this much before every read, and
/// a provider's frames are a few hundred bytes: its 128 KiB default spent a tenth of the
/// listener's CPU clearing memory.
const READ_BUFFER_BYTES: usize = 16 * 1024;
/// The monitor gets each stream's levels once a second.
const LEVELS_EVERY: Duration = Duration::from_secs(1);
/// How long a stopped listener gives its monitors to send their close.
const GOODBYE: Duration = Duration::from_secs(1);

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
    /// What the reply tone is sent as.
    pub reply_mode: ReplyMode,
    /// What the webhooks' signatures are judged with.
    pub webhook_keys: webhook::Keys,
    /// How long a stream the provider says it started may take to arrive.
    pub started_grace: Duration,
    /// The URL checked, which the provider's `stream_url`s are compared with.
    pub expect_url: Option<String>,
    /// Values to mask in what the listener itself sends out (the monitor, recording names)
    /// besides its own token and the Twilio auth token, which it always masks.
    pub redactor: Redactor,
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
            reply_mode: ReplyMode::Rtp,
            webhook_keys: webhook::Keys::default(),
            started_grace: DEFAULT_STARTED_GRACE,
            expect_url: None,
            redactor: Redactor::new(),
        }
    }
}

/// Who hears each event as it happens (`listen`'s lines, the window's log), beside the monitor.
pub(crate) type Notify = Arc<dyn Fn(&MonitorEvent) + Send + Sync>;

struct Shared {
    options: ListenOptions,
    store: LiveStore,
    notify: Notify,
    doors: Doors,
    closed: watch::Sender<u64>,
    correlator: Mutex<Correlator>,
    journal: Journal,
    /// Raised when the listener stops, so the monitors say goodbye.
    stopping: watch::Sender<bool>,
    /// What the listener masks in everything it sends out.
    redactor: Arc<Redactor>,
}

impl Shared {
    /// Says what happened, once: to the monitor's journal and watchers, to the store (through
    /// the reducer a mirror uses too), and to `notify`.
    fn publish(&self, stream: Option<u64>, what: Happening) {
        self.publish_with(|_| (stream, what));
    }

    /// Publishes the event `what` makes from the store, under the store's lock: a new stream
    /// takes its number and is added in one step, and the store applies events in the
    /// journal's order.
    fn publish_with(
        &self,
        what: impl FnOnce(&LiveStreams) -> (Option<u64>, Happening),
    ) -> Option<u64> {
        let event = {
            let mut live = self.store.lock().ok()?;
            let (stream, what) = what(&live);
            let event = self.journal.publish(stream, what);
            live.apply(&event);
            event
        };
        (self.notify)(&event);
        event.stream
    }

    /// Keeps findings and tells about them.
    fn found(&self, findings: Vec<Finding>) {
        for finding in findings {
            self.publish(None, Happening::Finding(finding));
        }
    }

    /// One `levels` event per stream with new level points: each track's frames and points.
    fn publish_levels(&self, sent: &mut HashMap<(u64, String), f64>) {
        let mut events = Vec::new();
        if let Ok(live) = self.store.lock() {
            for stream in &live.streams {
                let mut tracks = BTreeMap::new();
                for (name, track) in &stream.tracks {
                    let key = (stream.number, name.clone());
                    let last = sent.get(&key).copied().unwrap_or(f64::NEG_INFINITY);
                    let points: Vec<_> = track
                        .recent
                        .iter()
                        .filter(|p| p.at_ms > last)
                        .copied()
                        .collect();
                    if let Some(newest) = points.last() {
                        sent.insert(key, newest.at_ms);
                        tracks.insert(
                            name.clone(),
                            TrackLevels {
                                frames: track.frames,
                                points,
                                sequence_gaps: track.sequence_gaps,
                                late_frames: track.late_frames,
                            },
                        );
                    }
                }
                if !tracks.is_empty() {
                    events.push((stream.number, tracks));
                }
            }
        }
        for (number, tracks) in events {
            self.publish(Some(number), Happening::Levels { tracks });
        }
    }

    fn webhook(&self, record: WebhookRecord) {
        let findings = self
            .correlator
            .lock()
            .map(|mut c| c.webhook(&record, Instant::now()))
            .unwrap_or_default();
        self.publish(None, Happening::Webhook(Box::new(record)));
        self.found(findings);
    }

    fn tick(&self) {
        let findings = self
            .correlator
            .lock()
            .map(|mut c| c.tick(Instant::now()))
            .unwrap_or_default();
        self.found(findings);
    }
}

/// Waits up to `within` for a stream of call `call_id` to start in `store`; true when one did.
pub(crate) async fn wait_for_call(store: &LiveStore, call_id: &str, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let arrived = store.lock().is_ok_and(|live| {
            live.streams
                .iter()
                .any(|s| s.call_id.as_deref() == Some(call_id))
        });
        if arrived {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(ARRIVAL_POLL).await;
    }
}

/// How often `wait_for_call` looks at the streams.
const ARRIVAL_POLL: Duration = Duration::from_millis(50);

/// A running listener; dropping it stops it and every stream.
pub struct Listener {
    addr: SocketAddr,
    shared: Arc<Shared>,
    closed: watch::Receiver<u64>,
    task: JoinHandle<()>,
}

impl Listener {
    pub async fn start(options: ListenOptions, notify: Notify) -> std::io::Result<Listener> {
        let socket = admission::bind(options.bind)?;
        let addr = socket.local_addr()?;
        let (closed_tx, closed) = watch::channel(0);
        let (stopping, _) = watch::channel(false);
        let mut correlator = Correlator::new(options.started_grace);
        correlator.expect_url(options.expect_url.clone());
        let mut redactor = options.redactor.clone();
        let own = [&options.token, &options.webhook_keys.twilio_auth_token];
        for secret in own.into_iter().flatten() {
            redactor.add_secret(secret);
        }
        let shared = Arc::new(Shared {
            redactor: Arc::new(redactor),
            doors: Doors::new(options.max_connections, options.tls.clone()),
            options,
            store: LiveStore::default(),
            notify,
            closed: closed_tx,
            correlator: Mutex::new(correlator),
            journal: Journal::default(),
            stopping,
        });
        let accepting = shared.clone();
        let mut stopping = shared.stopping.subscribe();
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            let mut ticker = tokio::time::interval(CORRELATION_TICK);
            let mut levels = tokio::time::interval(LEVELS_EVERY);
            let mut sent = HashMap::new();
            loop {
                tokio::select! {
                    accepted = socket.accept() => {
                        if let Ok((tcp, remote)) = accepted {
                            connections.spawn(connection(tcp, remote, accepting.clone()));
                        }
                    }
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                    _ = ticker.tick() => accepting.tick(),
                    _ = levels.tick() => accepting.publish_levels(&mut sent),
                    _ = stopping.changed() => break,
                }
            }
            // Stopped: the monitors say goodbye (a close frame) before the rest is dropped.
            let _ = tokio::time::timeout(GOODBYE, async {
                while connections.join_next().await.is_some() {}
            })
            .await;
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

    #[cfg(feature = "gui")]
    /// The URL checked, which the provider's `stream_url`s are compared with from now on.
    pub(crate) fn expect_url(&self, url: Option<String>) {
        if let Ok(mut correlator) = self.shared.correlator.lock() {
            correlator.expect_url(url);
        }
    }

    /// Waits until `count` streams have closed.
    pub async fn wait_for_closed(&mut self, count: u64) {
        let _ = self.closed.wait_for(|closed| *closed >= count).await;
    }

    /// Stops listening; streams still open are closed by the listener in the summary. The
    /// monitors are told at once and get `GOODBYE` to close (`stopped` waits for that).
    pub fn stop(&self) -> ListenSummary {
        let open: Vec<u64> = {
            let live = self.shared.store.lock().unwrap_or_else(|e| e.into_inner());
            live.streams
                .iter()
                .filter(|s| s.is_open())
                .map(|s| s.number)
                .collect()
        };
        // Said before the monitors are told to go, so a watcher's copy ends as this one does.
        for number in open {
            let closed = Closed::new(ClosedBy::Listener, None, "the listener stopped");
            self.shared.publish(Some(number), Happening::Close(closed));
        }
        let _ = self.shared.stopping.send(true);
        let live = self.shared.store.lock().unwrap_or_else(|e| e.into_inner());
        ListenSummary {
            listen: self.addr.to_string(),
            refused: live.refused,
            streams: live.streams.iter().map(StreamState::summary).collect(),
            webhooks: live.webhooks.clone(),
            findings: live.findings.clone(),
            dropped: live.dropped,
        }
    }
}

impl Listener {
    /// After `stop`: waits until the monitors have said goodbye, at most `GOODBYE`. A process
    /// about to exit calls it, or its watchers see a reset instead of a close.
    pub async fn stopped(&mut self) {
        let _ = tokio::time::timeout(GOODBYE, &mut self.task).await;
        self.task.abort();
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `/monitor`: with the token as a Bearer token (when the listener has one), the listener's
/// events over a WebSocket; without it, 401 before any upgrade.
async fn monitor(
    mut stream: Box<dyn Io>,
    request: http::Request,
    remote: SocketAddr,
    path: String,
    shared: &Shared,
) {
    let bearer = request
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let allowed = shared
        .options
        .token
        .as_ref()
        .is_none_or(|t| bearer.is_some_and(|b| admission::same(b, t)));
    if !allowed {
        let answer = http::response(
            401,
            "Unauthorized",
            "WWW-Authenticate: Bearer\r\n",
            "the monitor needs the listener's token as a Bearer token",
        );
        http::answer(&mut stream, &answer).await;
        refuse(
            shared,
            remote,
            path,
            "the monitor was asked without the token",
        );
        return;
    }
    let Some(ws) = accept(stream, &request, "the monitor is a WebSocket", None).await else {
        return;
    };
    monitor::serve(
        ws,
        &shared.journal,
        &shared.redactor,
        shared.stopping.subscribe(),
    )
    .await;
}

fn refuse(shared: &Shared, remote: SocketAddr, path: String, why: &str) {
    shared.publish(
        None,
        Happening::Refused {
            remote: remote.to_string(),
            path,
            why: why.to_string(),
        },
    );
}

async fn connection(tcp: TcpStream, remote: SocketAddr, shared: Arc<Shared>) {
    let Admitted {
        place: _place,
        mut stream,
        request,
    } = match shared.doors.admit(tcp).await {
        Ok(admitted) => admitted,
        Err(turned) => {
            if let Some(why) = turned.why() {
                refuse(&shared, remote, String::new(), why);
            }
            return;
        }
    };
    let token = shared.options.token.as_ref();
    let path = shown_path(&request.target, token);
    if request.path() == "/healthz" {
        http::answer(&mut stream, &http::response(200, "OK", "", "ok")).await;
        return;
    }
    if request.path() == "/monitor" {
        monitor(stream, request, remote, path, &shared).await;
        return;
    }
    let webhook = webhooks::route(&request);
    if !has_token(&request, token, webhook.is_some()) {
        http::answer(
            &mut stream,
            &http::response(404, "Not Found", "", "nothing here"),
        )
        .await;
        refuse(
            &shared,
            remote,
            path,
            "the token is in neither the path nor the auth-token header",
        );
        return;
    }
    if let Some(provider) = webhook {
        let keys = &shared.options.webhook_keys;
        let tls = shared.options.tls.is_some();
        let mut record = webhooks::receive(
            &mut stream,
            &request,
            provider,
            keys,
            tls,
            HANDSHAKE_TIMEOUT,
        )
        .await;
        record.remote = Some(remote.to_string());
        shared.webhook(record);
        return;
    }
    let max = shared.options.max_frame_bytes;
    let config = WebSocketConfig::default()
        .max_frame_size(Some(max))
        .max_message_size(Some(max))
        .read_buffer_size(READ_BUFFER_BYTES);
    let not_upgrade = "this path takes WebSocket media streams";
    if request.websocket_key().is_none() {
        refuse(&shared, remote, path.clone(), "not a WebSocket upgrade");
    }
    let Some(ws) = accept(stream, &request, not_upgrade, Some(config)).await else {
        return;
    };
    let connect = Happening::Connect {
        path,
        remote: remote.to_string(),
        headers: redacted_headers(&request.headers, token),
        edge: crate::edge::from_request(&request.headers),
    };
    let Some(number) = shared.publish_with(|live| (Some(live.next_number()), connect)) else {
        return;
    };
    let options = ReceiverOptions {
        reply_tone: shared.options.reply_tone,
        reply_mode: shared.options.reply_mode,
        record_dir: shared.options.record_dir.clone(),
        redactor: shared.redactor.clone(),
    };
    let mut stream = LiveStream {
        number,
        shared: shared.clone(),
        receiver: Receiver::new(number, options),
        meter: StreamState::new(number, String::new(), remote.to_string()),
        metered: false,
        replies: VecDeque::new(),
    };
    let closed = stream.serve(ws).await;
    stream.flush();
    shared.publish(Some(number), Happening::Close(closed));
    let recorded = stream.update(|receiver, state| receiver.finish(state));
    stream.flush();
    for text in recorded {
        shared.publish(Some(number), Happening::Note { text });
    }
    shared.closed.send_modify(|count| *count += 1);
}

/// Stamps each frame with when it reached the listener, as far as it can tell: a frame that was
/// already waiting when the listener asked arrived no later than the last time the listener had
/// to wait for data. So a listener that falls behind never makes the sender look late.
struct Stamped<S> {
    inner: S,
    waited: bool,
    last_wait: Instant,
}

impl<S: Stream + Unpin> Stream for Stamped<S> {
    type Item = (S::Item, Instant);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Pending => {
                self.waited = true;
                Poll::Pending
            }
            Poll::Ready(item) => {
                if self.waited {
                    self.waited = false;
                    self.last_wait = Instant::now();
                }
                let arrived = self.last_wait;
                Poll::Ready(item.map(|item| (item, arrived)))
            }
        }
    }
}

/// The socket side of one stream: frames in to its `Receiver`, replies out, the close.
struct LiveStream {
    number: u64,
    shared: Arc<Shared>,
    receiver: Receiver,
    /// What the receiver measures, frame by frame, outside the store's lock: the store takes
    /// it in batches (`flush`), so the streams and the window do not contend for the lock on
    /// every frame.
    meter: StreamState,
    /// The meter holds frames the store has not taken yet.
    metered: bool,
    replies: VecDeque<Outgoing>,
}

/// How often the store takes a stream's meter while frames arrive (the window plots from it).
const METER_EVERY: Duration = Duration::from_millis(50);

impl LiveStream {
    /// Runs `f` on the receiver and this stream's meter.
    fn update<R>(&mut self, f: impl FnOnce(&mut Receiver, &mut StreamState) -> R) -> R {
        self.metered = true;
        f(&mut self.receiver, &mut self.meter)
    }

    /// Hands the meter to the store, under its lock, when it holds anything new.
    fn flush(&mut self) {
        if !std::mem::take(&mut self.metered) {
            return;
        }
        if let Ok(mut live) = self.shared.store.lock()
            && let Some(state) = live.stream_mut(self.number)
        {
            state.take_meter(&self.meter);
        }
    }

    /// Publishes what a frame said, tells the correlation of a start, queues the replies. The
    /// store takes the meter first, so what an event says and the counts beside it agree.
    fn apply(&mut self, step: Step) {
        if !step.said.is_empty() {
            self.flush();
        }
        for what in step.said {
            self.shared.publish(Some(self.number), what);
        }
        if let Some((call_id, stream_id)) = step.started
            && let Ok(mut correlator) = self.shared.correlator.lock()
        {
            correlator.stream(call_id, stream_id);
        }
        self.replies.extend(step.replies);
    }

    fn say(&mut self, text: String) {
        self.shared
            .publish(Some(self.number), Happening::Note { text });
    }

    async fn serve<S: AsyncRead + AsyncWrite + Unpin>(&mut self, ws: WebSocketStream<S>) -> Closed {
        let (mut sink, source) = ws.split();
        let mut source = Stamped {
            inner: source,
            waited: true,
            last_wait: Instant::now(),
        };
        let mut ticker = tokio::time::interval(REPLY_INTERVAL);
        let mut metering = tokio::time::interval(METER_EVERY);
        loop {
            tokio::select! {
                _ = metering.tick() => self.flush(),
                next = source.next() => {
                    let (message, arrived) = match next {
                        None => return Closed::new(ClosedBy::Remote, None, "the connection ended without a close frame"),
                        Some((Err(WsError::Capacity(e)), _)) => {
                            let frame = CloseFrame { code: CloseCode::Size, reason: "frame too large".into() };
                            let _ = tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
                            self.say(format!("frame over the limit ({e}): closing with 1009"));
                            return Closed::new(ClosedBy::Listener, Some(1009), "frame too large");
                        }
                        Some((Err(e), _)) => return Closed::new(ClosedBy::Error, None, &e.to_string()),
                        Some((Ok(message), arrived)) => (message, arrived),
                    };
                    match message {
                        Message::Text(text) => {
                            let step = self.update(|receiver, state| receiver.text(text.as_str(), arrived, state));
                            self.apply(step);
                        }
                        Message::Binary(bytes) => {
                            let step = self.update(|receiver, state| receiver.binary(bytes.len(), state));
                            self.apply(step);
                        }
                        Message::Close(frame) => {
                            let (code, reason) = frame.map(|f| (Some(u16::from(f.code)), f.reason.to_string())).unwrap_or((None, String::new()));
                            // Sends the close reply tungstenite queued, completing the handshake.
                            let _ = tokio::time::timeout(SEND_TIMEOUT, sink.close()).await;
                            return Closed::new(ClosedBy::Remote, code, &reason);
                        }
                        _ => {}
                    }
                }
                _ = ticker.tick(), if !self.replies.is_empty() => {
                    let Some(reply) = self.replies.pop_front() else { continue };
                    let (text, is_mark) = match reply {
                        Outgoing::Media(text) => (text, false),
                        Outgoing::Mark(text) => (text, true),
                    };
                    match tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::text(text))).await {
                        Ok(Ok(())) if is_mark => self.receiver.mark_sent(Instant::now()),
                        Ok(Ok(())) => {}
                        _ => {
                            self.say("the client stopped reading our replies: closing the stream".into());
                            return Closed::new(ClosedBy::Listener, None, "the client stopped reading");
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_through_an_edge_says_which_and_a_monitor_never_sees_credentials() {
        let headers: Vec<(String, String)> = [
            ("Host", "l.example.com"),
            ("Authorization", "Bearer t0k"),
            ("Referer", "https://x/stream/t0k"),
            ("X-Railway-Edge", "railway/us-west2"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
        let token = Secret::new("t0k");
        let shown = redacted_headers(&headers, Some(&token));
        assert!(shown.iter().all(|(_, v)| !v.contains("t0k")), "{shown:?}");
        assert_eq!(shown[0].1, "l.example.com");
        let seen = crate::records::live::UpgradeSeen::of(&headers);
        let opened = Happening::Connect {
            path: "/stream/[redacted]".into(),
            remote: "127.0.0.1:9".into(),
            headers: shown,
            edge: seen.edge,
        };
        let line = opened.to_string();
        assert!(line.contains("through railway"), "{line}");
    }
}
