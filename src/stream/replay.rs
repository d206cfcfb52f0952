//! The replay: stands in for the provider. It connects to a stream URL and sends what Telnyx or
//! Twilio sends (`connected`, `start`, 20 ms `media` frames numbered and time-stamped, `stop`),
//! from a tone or a WAV clip, on one or both tracks, in real time or as fast as the socket
//! takes it, over N streams at once; it echoes `mark`s as a provider does and records
//! everything the server sends back. With both tracks, the outbound track carries the same
//! audio half its length later, so the two tracks are told apart at a glance.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::CertificateDer;
use serde::Serialize;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::{Inbound, Provider, telnyx, twilio};
use crate::audio::wav::Clip;
use crate::audio::{Codec, Encoder, tone};
use crate::check::millis;
use crate::probe::connect::{self, Verify};
use crate::probe::url::Target;
use crate::probe::{AUTH_TOKEN_HEADER, ResolvePin, websocket};
use crate::secret::Secret;

const FRAME_MS: u64 = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    Realtime,
    Max,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tracks {
    Inbound,
    Outbound,
    Both,
}

impl Tracks {
    pub fn names(self) -> &'static [&'static str] {
        match self {
            Tracks::Inbound => &["inbound"],
            Tracks::Outbound => &["outbound"],
            Tracks::Both => &["inbound", "outbound"],
        }
    }
}

#[derive(Clone, Debug)]
pub enum Source {
    Tone { freq_hz: f64, seconds: f64 },
    Clip(Clip),
}

#[derive(Clone, Debug)]
pub struct ReplayOptions {
    pub url: String,
    pub protocol: Provider,
    pub codec: Codec,
    pub source: Source,
    pub tracks: Tracks,
    pub pace: Pace,
    pub streams: usize,
    pub timeout: Duration,
    pub resolve: Vec<ResolvePin>,
    pub extra_roots: Vec<CertificateDer<'static>>,
    pub auth_token: Option<Secret>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Sent {
    pub connected: bool,
    pub start: bool,
    pub media: u64,
    pub stop: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Received {
    pub media: u64,
    pub mark: u64,
    pub clear: u64,
    pub other: u64,
    pub marks: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct StreamOutcome {
    pub stream: usize,
    pub sent: Sent,
    pub received: Received,
    pub close: Option<serde_json::Value>,
    pub error: Option<String>,
    pub duration_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReplaySummary {
    pub url: String,
    pub protocol: String,
    pub codec: String,
    pub streams: Vec<StreamOutcome>,
    pub media_frames_sent: u64,
    pub duration_ms: f64,
    pub frames_per_sec: f64,
}

/// The messages of one stream, in order, as the chosen provider writes them.
pub struct Script {
    pub protocol: Provider,
    pub stream_id: String,
    pub call_id: String,
    sequence: u64,
}

impl Script {
    pub fn new(protocol: Provider, n: usize) -> Self {
        use std::hash::{BuildHasher, Hasher};
        // Ids only need to differ between streams and runs: the std hasher's random keys do.
        let random = || {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_usize(n);
            hasher.finish()
        };
        let hex = format!("{:016x}{:016x}", random(), random());
        let stream_id = match protocol {
            Provider::Telnyx => format!(
                "{}-{}-4{}-8{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[13..16],
                &hex[17..20],
                &hex[20..32]
            ),
            Provider::Twilio => format!("MZ{hex}"),
        };
        let call_id = match protocol {
            Provider::Telnyx => format!("v2:stream-doctor-{}", &hex[20..32]),
            Provider::Twilio => format!("CA{hex}"),
        };
        Self {
            protocol,
            stream_id,
            call_id,
            sequence: 1,
        }
    }

    pub fn connected(&self, token: Option<&Secret>) -> String {
        match self.protocol {
            Provider::Telnyx => telnyx::connected(token),
            Provider::Twilio => twilio::connected(),
        }
    }

    pub fn start(&self, codec: Codec, sample_rate: u32, tracks: &[&str]) -> String {
        match self.protocol {
            Provider::Telnyx => {
                telnyx::start(&self.stream_id, &self.call_id, codec.name(), sample_rate)
            }
            Provider::Twilio => twilio::start(
                &self.stream_id,
                &self.call_id,
                codec.mime(),
                sample_rate,
                tracks,
            ),
        }
    }

    /// The `chunk`-th frame (from 1) of `track`.
    pub fn media(&mut self, track: &str, chunk: u64, payload: &[u8]) -> String {
        self.sequence += 1;
        let payload = base64::engine::general_purpose::STANDARD.encode(payload);
        let timestamp = (chunk - 1) * FRAME_MS;
        match self.protocol {
            Provider::Telnyx => telnyx::media(
                &self.stream_id,
                self.sequence,
                track,
                chunk,
                timestamp,
                &payload,
            ),
            Provider::Twilio => twilio::media(
                &self.stream_id,
                self.sequence,
                track,
                chunk,
                timestamp,
                &payload,
            ),
        }
    }

    pub fn mark(&mut self, name: &str) -> String {
        self.sequence += 1;
        match self.protocol {
            Provider::Telnyx => telnyx::mark(&self.stream_id, self.sequence, name),
            Provider::Twilio => twilio::mark(&self.stream_id, self.sequence, name),
        }
    }

    pub fn stop(&mut self) -> String {
        self.sequence += 1;
        match self.protocol {
            Provider::Telnyx => telnyx::stop(&self.stream_id, &self.call_id, self.sequence),
            Provider::Twilio => twilio::stop(&self.stream_id, &self.call_id, self.sequence),
        }
    }
}

/// The samples to send, at the codec's audio rate.
fn samples(source: &Source, rate_hz: u32) -> Vec<i16> {
    match source {
        Source::Tone { freq_hz, seconds } => tone(
            *freq_hz,
            0.5,
            rate_hz,
            (seconds * f64::from(rate_hz)) as usize,
        ),
        Source::Clip(clip) => clip.resampled(rate_hz).samples,
    }
}

/// Where to connect for `target`: a pin, else the resolver.
async fn address(
    target: &Target,
    pins: &[ResolvePin],
    timeout: Duration,
) -> Result<SocketAddr, String> {
    let host = target.host.to_ascii_lowercase();
    if let Some(pin) = pins
        .iter()
        .find(|p| p.host == host && p.port == target.port)
    {
        return Ok(SocketAddr::new(pin.addr, target.port));
    }
    if let Ok(ip) = host.parse() {
        return Ok(SocketAddr::new(ip, target.port));
    }
    match tokio::time::timeout(
        timeout,
        tokio::net::lookup_host((host.as_str(), target.port)),
    )
    .await
    {
        Ok(Ok(mut found)) => found.next().ok_or_else(|| format!("{host} has no address")),
        Ok(Err(e)) => Err(format!("{host} does not resolve: {e}")),
        Err(_) => Err(format!("no DNS answer for {host} within {timeout:?}")),
    }
}

/// Runs every stream at once and reports what each sent and got back.
pub async fn run(
    options: &ReplayOptions,
    notify: &(dyn Fn(String) + Send + Sync),
) -> ReplaySummary {
    let started = Instant::now();
    let outcomes = futures_util::future::join_all(
        (1..=options.streams.max(1)).map(|n| one_stream(options, n, notify)),
    )
    .await;
    let media_frames_sent: u64 = outcomes.iter().map(|o| o.sent.media).sum();
    let duration_ms = millis(started.elapsed());
    ReplaySummary {
        url: options.url.clone(),
        protocol: options.protocol.name().into(),
        codec: options.codec.name().into(),
        media_frames_sent,
        frames_per_sec: if duration_ms > 0.0 {
            (media_frames_sent as f64 / (duration_ms / 1000.0)).round()
        } else {
            0.0
        },
        duration_ms,
        streams: outcomes,
    }
}

async fn one_stream(
    options: &ReplayOptions,
    n: usize,
    notify: &(dyn Fn(String) + Send + Sync),
) -> StreamOutcome {
    let started = Instant::now();
    let mut outcome = StreamOutcome {
        stream: n,
        ..StreamOutcome::default()
    };
    if let Err(e) = send_stream(options, n, &mut outcome, notify).await {
        notify(format!("stream {n}: {e}"));
        outcome.error = Some(e);
    }
    outcome.duration_ms = millis(started.elapsed());
    outcome
}

async fn send_stream(
    options: &ReplayOptions,
    n: usize,
    outcome: &mut StreamOutcome,
    notify: &(dyn Fn(String) + Send + Sync),
) -> Result<(), String> {
    let (_, target) = crate::probe::url::check(&options.url);
    let target = target.ok_or_else(|| format!("'{}' is not a ws:// or wss:// URL", options.url))?;
    let addr = address(&target, &options.resolve, options.timeout).await?;
    let headers: Vec<(String, String)> = options
        .auth_token
        .iter()
        .map(|t| (AUTH_TOKEN_HEADER.to_string(), t.expose().to_string()))
        .collect();
    let request = websocket::request(&target, &headers)?;
    let io = connect::open(
        addr,
        &target,
        Verify::Provider(&options.extra_roots),
        options.timeout,
    )
    .await
    .map_err(|e| e.to_string())?;
    let (ws, _) = tokio::time::timeout(
        options.timeout,
        tokio_tungstenite::client_async(request, io),
    )
    .await
    .map_err(|_| format!("no WebSocket handshake within {:?}", options.timeout))?
    .map_err(|e| format!("the WebSocket handshake failed: {e}"))?;
    notify(format!("stream {n}: connected to {}", options.url));
    let (mut sink, mut source) = ws.split();
    let (marks_tx, mut marks_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let reader = tokio::spawn(async move {
        let mut received = Received::default();
        let mut close = None;
        let mut known = None;
        while let Some(next) = source.next().await {
            match next {
                Ok(Message::Text(text)) => match super::parse(text.as_str(), known) {
                    Ok((provider, inbound)) => {
                        known = known.or(provider);
                        match inbound {
                            Inbound::Media(_) => received.media += 1,
                            Inbound::Mark(name) => {
                                received.mark += 1;
                                received.marks.push(name.clone());
                                let _ = marks_tx.send(name);
                            }
                            Inbound::Unknown if text.contains("\"clear\"") => received.clear += 1,
                            _ => received.other += 1,
                        }
                    }
                    Err(_) => received.other += 1,
                },
                Ok(Message::Close(frame)) => {
                    close = Some(websocket::close_json(frame.as_ref()));
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    close = Some(serde_json::json!({"error": e.to_string()}));
                    break;
                }
            }
        }
        (received, close)
    });

    let mut script = Script::new(options.protocol, n);
    let rate_hz = options.codec.audio_rate(8000);
    let announced = if options.codec == Codec::G722 {
        8000
    } else {
        rate_hz
    };
    let samples = samples(&options.source, rate_hz);
    let per_frame = (rate_hz as usize * FRAME_MS as usize) / 1000;
    let tracks = options.tracks.names();
    let mut encoders: Vec<Encoder> = tracks.iter().map(|_| Encoder::new(options.codec)).collect();
    let send = |text: String| Message::text(text);
    let deadline = options.timeout;
    macro_rules! put {
        ($text:expr) => {
            tokio::time::timeout(deadline, sink.send(send($text)))
                .await
                .map_err(|_| format!("the server stopped reading (no progress in {deadline:?})"))?
                .map_err(|e| format!("sending failed: {e}"))?
        };
    }
    put!(script.connected(options.auth_token.as_ref()));
    outcome.sent.connected = true;
    put!(script.start(options.codec, announced, tracks));
    outcome.sent.start = true;
    let began = tokio::time::Instant::now();
    let frames: Vec<&[i16]> = samples.chunks(per_frame).collect();
    for index in 0..frames.len() {
        if options.pace == Pace::Realtime {
            tokio::time::sleep_until(began + Duration::from_millis(index as u64 * FRAME_MS)).await;
        }
        for (t, (track, encoder)) in tracks.iter().zip(encoders.iter_mut()).enumerate() {
            let frame = frames[(index + t * frames.len() / 2) % frames.len()];
            let payload = encoder.encode(frame);
            put!(script.media(track, index as u64 + 1, &payload));
            outcome.sent.media += 1;
        }
        while let Ok(name) = marks_rx.try_recv() {
            put!(script.mark(&name));
        }
    }
    while let Ok(name) = marks_rx.try_recv() {
        put!(script.mark(&name));
    }
    put!(script.stop());
    outcome.sent.stop = true;
    let bye = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    let _ =
        tokio::time::timeout(Duration::from_secs(1), sink.send(Message::Close(Some(bye)))).await;
    match tokio::time::timeout(Duration::from_secs(2), reader).await {
        Ok(Ok((received, close))) => {
            outcome.received = received;
            outcome.close = close;
        }
        _ => {
            outcome.close =
                Some(serde_json::json!({"error": "the server did not answer our close"}))
        }
    }
    notify(format!(
        "stream {n}: sent {} media frame(s); {} message(s) back",
        outcome.sent.media,
        outcome.received.media + outcome.received.mark + outcome.received.other
    ));
    Ok(())
}
