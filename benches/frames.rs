//! The listener's work per media frame, without sockets: parse the provider's JSON, decode the
//! base64 payload and the codec, meter the level, update the stream's record. One core, Telnyx
//! and Twilio shapes, 20 ms PCMU and L16 frames. The frames are all distinct (a noisy tone,
//! their own numbers), 50,000 of them, far more than the caches hold, as a long call's are.
//! Prints frames per second over 15 windows of 0.4 s: min, median and max. Then the reading
//! alone, beside its baseline on the same frames: the hand-written scanner (`stream::read`)
//! against the full JSON reading (`stream::parse`).
//! Run with `cargo bench --bench frames`.

use std::time::{Duration, Instant};

use stream_doctor::audio::{Codec, Encoder, tone};
use stream_doctor::catalog::Provider;
use stream_doctor::records::live::StreamState;
use stream_doctor::server::receiver::{Receiver, ReceiverOptions};
use stream_doctor::stream::script::Script;
use stream_doctor::stream::{parse, read};

const DISTINCT: usize = 50_000;
const WINDOWS: usize = 15;
const WINDOW: Duration = Duration::from_millis(400);

/// A tone with noise on it, so no two frames carry the same payload.
fn noisy_tone(rate: usize, count: usize) -> Vec<i16> {
    let mut state: u32 = 0x9e37_79b9;
    tone(440.0, 0.4, rate as u32, count)
        .into_iter()
        .map(|sample| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            sample.saturating_add((state % 2001) as i16 - 1000)
        })
        .collect()
}

/// Frames per second of `work` over the frames, in windows: sorted rates.
fn windows(frames: &[String], mut work: impl FnMut(&str)) -> Vec<f64> {
    let mut next = frames.iter().cycle();
    let mut rates = Vec::with_capacity(WINDOWS);
    for _ in 0..WINDOWS {
        let started = Instant::now();
        let mut count: u64 = 0;
        while started.elapsed() < WINDOW {
            for frame in next.by_ref().take(1000) {
                work(frame);
            }
            count += 1000;
        }
        rates.push(count as f64 / started.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    rates
}

fn spread(rates: &[f64]) -> String {
    let median = rates[rates.len() / 2];
    format!(
        "min {:.2} M/s, median {:.2} M/s ({:.3} us/frame), max {:.2} M/s",
        rates[0] / 1e6,
        median / 1e6,
        1e6 / median,
        rates[rates.len() - 1] / 1e6
    )
}

fn main() {
    for provider in [Provider::Telnyx, Provider::Twilio] {
        for codec in [Codec::Pcmu, Codec::L16] {
            let mut script = Script::new(provider);
            let rate = codec.audio_rate(8000) as usize;
            let per_frame = rate / 50;
            let samples = noisy_tone(rate, per_frame * DISTINCT);
            let mut encoder = Encoder::new(codec);
            let frames: Vec<String> = samples
                .chunks(per_frame)
                .enumerate()
                .map(|(i, frame)| script.media("inbound", i as u64 + 1, &encoder.encode(frame)))
                .collect();
            let mut receiver = Receiver::new(1, ReceiverOptions::default());
            let mut state = StreamState::new(1, "/bench".into(), "127.0.0.1:1".into());
            let now = Instant::now();
            receiver.text(&script.connected(None), now, &mut state);
            receiver.text(&script.start(codec, 8000, &["inbound"]), now, &mut state);
            let mut total: u64 = 0;
            let rates = windows(&frames, |frame| {
                receiver.text(frame, now, &mut state);
                total += 1;
            });
            let counted = state.tracks.get("inbound").map_or(0, |t| t.frames);
            assert_eq!(counted, total, "every frame metered");
            println!(
                "{:<6} {:<4} parse + decode + meter, {DISTINCT} distinct frames, {WINDOWS} windows of {:.1} s: {}",
                provider.name(),
                codec.name(),
                WINDOW.as_secs_f64(),
                spread(&rates)
            );
            if codec == Codec::Pcmu {
                let scanned = windows(&frames, |frame| {
                    assert!(read(frame, Some(provider)).is_ok());
                });
                let full = windows(&frames, |frame| {
                    assert!(parse(frame, Some(provider)).is_ok());
                });
                println!(
                    "{:<6} PCMU reading alone, the scanner:   {}",
                    provider.name(),
                    spread(&scanned)
                );
                println!(
                    "{:<6} PCMU reading alone, full JSON:     {}",
                    provider.name(),
                    spread(&full)
                );
            }
        }
    }
}
