//! How many media frames a second `listen` takes in, decoding and metering every one, with
//! `replay --pace max --streams 8` sending into it on the same machine. Prints the figure.
//! Run with `cargo bench --bench listen`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use stream_doctor::audio::Codec;
use stream_doctor::catalog::Provider;
use stream_doctor::server::listener::{ListenOptions, Listener};
use stream_doctor::stream::replay::{self, Pace, ReplayOptions, Source, Tracks};

const STREAMS: usize = 8;
const SECONDS_OF_AUDIO: f64 = 60.0;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        for codec in [Codec::Pcmu, Codec::L16, Codec::G722] {
            let options = ListenOptions {
                bind: "127.0.0.1:0".parse()?,
                ..ListenOptions::default()
            };
            let mut listener = Listener::start(options, Arc::new(|_| {})).await?;
            let replay_options = ReplayOptions {
                url: format!("ws://{}/bench", listener.addr()),
                protocol: Provider::Telnyx,
                codec,
                source: Source::Tone { freq_hz: 440.0, seconds: SECONDS_OF_AUDIO },
                tracks: Tracks::Inbound,
                pace: Pace::Max,
                streams: STREAMS,
                timeout: Duration::from_secs(30),
                resolve: Vec::new(),
                extra_roots: Vec::new(),
                auth_token: None,
                twilio_auth_token: None,
                call_id: None,
                custom_parameters: Default::default(),
            };
            let started = Instant::now();
            let sent = replay::run(&replay_options, &|_| {}).await;
            listener.wait_for_closed(STREAMS as u64).await;
            let elapsed = started.elapsed();
            let summary = listener.stop();
            let received: u64 = summary.streams.iter().flat_map(|s| s.tracks.values()).map(|t| t.frames).sum();
            if received != sent.media_frames_sent {
                return Err(format!("sent {} frames, listen counted {received}", sent.media_frames_sent).into());
            }
            println!(
                "listen, {STREAMS} streams of {SECONDS_OF_AUDIO} s {:<4} at --pace max: {received} frames in {:.2} s = {:.0} frames/s ({:.0}x real time)",
                codec.name(),
                elapsed.as_secs_f64(),
                received as f64 / elapsed.as_secs_f64(),
                received as f64 / elapsed.as_secs_f64() / 50.0
            );
        }
        Ok(())
    })
}
