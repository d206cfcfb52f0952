//! The demo stream: what the window's Live tab plays into its own listener so a person sees
//! levels without a provider. The recorded speech once, on both tracks, in real time; or, to
//! measure the window under load, any number of tone streams.

use std::net::SocketAddr;
use std::time::Duration;

use crate::audio::Codec;
use crate::audio::wav::{WavError, read_clip};
use crate::catalog::Provider;
use crate::stream::replay::{self, Pace, ReplayOptions, Source, Tracks};

/// The demo clip the demo stream plays (made by scripts/make-demo-speech).
pub(crate) const DEMO_SPEECH: &[u8] = include_bytes!("../../assets/demo-speech.wav");

/// Replays into the listener at `addr` in real time, both tracks: the demo speech once, or
/// `load` (streams, seconds) of a tone; the number of media frames sent.
/// Why the demo stream did not play.
#[derive(Debug, thiserror::Error)]
pub enum PlaybackError {
    #[error("the demo clip does not read: {0}")]
    Clip(#[from] WavError),
    #[error("{0}")]
    Stream(String),
}

pub(crate) async fn play(
    addr: SocketAddr,
    load: Option<(usize, f64)>,
) -> Result<u64, PlaybackError> {
    let (source, streams) = match load {
        Some((count, seconds)) => (
            Source::Tone {
                freq_hz: 440.0,
                seconds,
            },
            count,
        ),
        None => {
            let clip = read_clip(DEMO_SPEECH, "the demo clip")?;
            (Source::Clip(clip), 1)
        }
    };
    let options = ReplayOptions {
        url: format!("ws://{addr}/demo/stream"),
        protocol: Provider::Telnyx,
        codec: Codec::Pcmu,
        source,
        tracks: Tracks::Both,
        pace: Pace::Realtime,
        streams,
        timeout: Duration::from_secs(10),
        resolve: Vec::new(),
        extra_roots: Vec::new(),
        auth_token: None,
        twilio_auth_token: None,
        call_id: None,
        custom_parameters: Default::default(),
    };
    let summary = replay::run(&options, &|_| {}).await;
    match summary.streams.first().and_then(|s| s.error.clone()) {
        Some(e) => Err(PlaybackError::Stream(e)),
        None => Ok(summary.media_frames_sent),
    }
}
