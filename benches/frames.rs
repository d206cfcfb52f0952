//! The listener's work per media frame, without sockets: parse the provider's JSON, decode the
//! base64 payload and the codec, meter the level, update the stream's record. One core, Telnyx
//! and Twilio shapes, 20 ms PCMU and L16 frames. Prints frames per second.
//! Run with `cargo bench --bench frames`.

use std::time::{Duration, Instant};

use stream_doctor::audio::{Codec, Encoder, tone};
use stream_doctor::catalog::Provider;
use stream_doctor::records::live::StreamState;
use stream_doctor::server::receiver::{Receiver, ReceiverOptions};
use stream_doctor::stream::script::Script;

/// Distinct frames cycled through, so the payloads are not one cached string.
const DISTINCT: usize = 500;
const MEASURE: Duration = Duration::from_secs(3);

fn main() {
    for provider in [Provider::Telnyx, Provider::Twilio] {
        for codec in [Codec::Pcmu, Codec::L16] {
            let mut script = Script::new(provider);
            let rate = codec.audio_rate(8000) as usize;
            let samples = tone(440.0, 0.5, rate as u32, rate * 10);
            let per_frame = rate / 50;
            let mut encoder = Encoder::new(codec);
            let frames: Vec<String> = samples
                .chunks(per_frame)
                .take(DISTINCT)
                .enumerate()
                .map(|(i, frame)| script.media("inbound", i as u64 + 1, &encoder.encode(frame)))
                .collect();
            let mut receiver = Receiver::new(1, ReceiverOptions::default());
            let mut state = StreamState::new(1, "/bench".into(), "127.0.0.1:1".into());
            let now = Instant::now();
            receiver.text(&script.connected(None), now, &mut state);
            receiver.text(&script.start(codec, 8000, &["inbound"]), now, &mut state);
            let started = Instant::now();
            let mut count: u64 = 0;
            while started.elapsed() < MEASURE {
                for frame in &frames {
                    receiver.text(frame, now, &mut state);
                }
                count += frames.len() as u64;
            }
            let elapsed = started.elapsed().as_secs_f64();
            let counted = state.tracks.get("inbound").map_or(0, |t| t.frames);
            assert_eq!(counted, count, "every frame metered");
            println!(
                "{:<6} {:<4} media frames: {:>9.0} frames/s on one core ({:.2} us/frame)",
                provider.name(),
                codec.name(),
                count as f64 / elapsed,
                elapsed * 1e6 / count as f64
            );
        }
    }
}
