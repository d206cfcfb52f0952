//! The replay: stands in for the provider. It resolves the URL, then runs `caller` streams to
//! it, N at once: what Telnyx or Twilio sends, from a tone or a WAV clip, on one or both
//! tracks, in real time or as fast as the socket takes it, and reports what each stream sent
//! and got back.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;

use super::Provider;
use super::caller::{self, CLOCK_RATE_HZ, Call, Dial, Plan};
use crate::audio::wav::Clip;
use crate::audio::{Codec, tone};
use crate::clock::millis;
use crate::net::target::Target;
use crate::records::address::ResolvePin;
use crate::records::call::{ReplaySummary, StreamOutcome};
use crate::secret::Secret;

pub use super::caller::Pace;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tracks {
    Inbound,
    Outbound,
    Both,
}

impl Tracks {
    pub(crate) fn names(self) -> &'static [&'static str] {
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

impl Source {
    /// The samples to send, at `rate_hz`.
    fn samples(&self, rate_hz: u32) -> Vec<i16> {
        match self {
            Source::Tone { freq_hz, seconds } => tone(
                *freq_hz,
                0.5,
                rate_hz,
                (seconds * f64::from(rate_hz)) as usize,
            ),
            Source::Clip(clip) => clip.resampled(rate_hz).samples,
        }
    }
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
    /// The Twilio account's auth token: with `protocol` Twilio, the upgrade is signed with it.
    pub twilio_auth_token: Option<Secret>,
    /// The call id the streams carry, as a live call's would (random when not given).
    pub call_id: Option<String>,
    /// The custom parameters `start` carries, as a stream started with them does.
    pub custom_parameters: BTreeMap<String, String>,
}

/// Runs every stream at once and reports what each sent and got back.
pub async fn run(
    options: &ReplayOptions,
    notify: &(dyn Fn(String) + Send + Sync),
) -> ReplaySummary {
    let started = Instant::now();
    let samples = options
        .source
        .samples(options.codec.audio_rate(CLOCK_RATE_HZ));
    let outcomes = futures_util::future::join_all(
        (1..=options.streams.max(1)).map(|n| one_stream(options, &samples, n, notify)),
    )
    .await;
    let media_frames_sent: u64 = outcomes.iter().map(|o| o.sent.media).sum();
    let duration_ms = millis(started.elapsed());
    ReplaySummary {
        url: options.url.clone(),
        protocol: options.protocol,
        codec: options.codec,
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
    samples: &[i16],
    n: usize,
    notify: &(dyn Fn(String) + Send + Sync),
) -> StreamOutcome {
    let started = Instant::now();
    let mut outcome = StreamOutcome {
        stream: n,
        ..StreamOutcome::default()
    };
    match send_stream(options, samples, n, notify).await {
        Ok(Call {
            outcome: Ok(stream),
            ..
        }) => {
            notify(format!(
                "stream {n}: sent {} media frame(s); {} message(s) back",
                stream.sent.media,
                stream.replies.count()
            ));
            outcome.error = stream.cut_short();
            outcome.sent = stream.sent;
            outcome.received = stream.replies;
            outcome.close = Some(stream.ending.close);
        }
        Ok(Call {
            outcome: Err(e), ..
        }) => outcome.error = Some(e.to_string()),
        Err(e) => outcome.error = Some(e),
    }
    if let Some(e) = &outcome.error {
        notify(format!("stream {n}: {e}"));
    }
    outcome.duration_ms = millis(started.elapsed());
    outcome
}

async fn send_stream(
    options: &ReplayOptions,
    samples: &[i16],
    n: usize,
    notify: &(dyn Fn(String) + Send + Sync),
) -> Result<Call, String> {
    let target = Target::parse(&options.url)
        .map_err(|e| format!("'{}' is not a ws:// or wss:// URL: {e}", options.url))?;
    let addr = target
        .address(&options.resolve, options.timeout)
        .await
        .map_err(|e| e.to_string())?;
    let dial = Dial {
        addr,
        target: &target,
        extra_roots: &options.extra_roots,
        auth_token: options.auth_token.as_ref(),
        account_token: options.twilio_auth_token.as_ref(),
        timeout: options.timeout,
    };
    let plan = Plan {
        provider: options.protocol,
        codec: options.codec,
        tracks: options.tracks.names(),
        samples,
        pace: options.pace,
        start_mark: false,
        call_id: options.call_id.as_deref(),
        parameters: &options.custom_parameters,
    };
    let on_open = || notify(format!("stream {n}: connected to {}", options.url));
    Ok(caller::call(&dial, &plan, &on_open).await)
}
