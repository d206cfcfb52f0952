//! Properties of the codecs and the meter over any input: round trips within each codec's
//! quantisation, payload and sample counts that always agree, and a level that matches the
//! arithmetic it stands for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use stream_doctor::audio::meter::Summary;
use stream_doctor::audio::{Codec, Decoder, Encoder, g711, l16};

/// The largest error G.711 may make for a sample: half its segment's step (µ-law's top
/// segment steps by 1024, A-law's by 1024 too).
fn g711_tolerance(sample: i16) -> i32 {
    let magnitude = i32::from(sample).abs();
    (magnitude / 16).max(16) + 8
}

proptest! {
    #[test]
    fn l16_round_trips_exactly(samples in proptest::collection::vec(any::<i16>(), 0..400)) {
        prop_assert_eq!(l16::decode(&l16::encode(&samples)), samples);
    }

    #[test]
    fn g711_stays_within_its_quantisation(sample in any::<i16>()) {
        let ulaw = i32::from(g711::ulaw_decode(g711::ulaw_encode(sample)));
        let alaw = i32::from(g711::alaw_decode(g711::alaw_encode(sample)));
        let clipped = i32::from(sample).clamp(-32635, 32635);
        prop_assert!((ulaw - clipped).abs() <= g711_tolerance(sample), "µ-law {} -> {}", sample, ulaw);
        prop_assert!((alaw - i32::from(sample)).abs() <= g711_tolerance(sample), "A-law {} -> {}", sample, alaw);
    }

    #[test]
    fn every_codec_turns_any_payload_into_its_number_of_samples(payload in proptest::collection::vec(any::<u8>(), 0..700)) {
        for (codec, per_byte) in [(Codec::Pcmu, 1.0), (Codec::Pcma, 1.0), (Codec::L16, 0.5), (Codec::G722, 2.0)] {
            let samples = Decoder::new(codec).decode(&payload);
            let expected = (payload.len() as f64 * per_byte).floor() as usize;
            prop_assert_eq!(samples.len(), expected, "{:?}", codec);
        }
    }

    #[test]
    fn every_codec_encodes_any_samples(samples in proptest::collection::vec(any::<i16>(), 0..700)) {
        for (codec, bytes) in [
            (Codec::Pcmu, samples.len()),
            (Codec::Pcma, samples.len()),
            (Codec::L16, samples.len() * 2),
            (Codec::G722, samples.len().div_ceil(2)),
        ] {
            prop_assert_eq!(Encoder::new(codec).encode(&samples).len(), bytes, "{:?}", codec);
        }
    }

    #[test]
    fn the_meter_is_the_arithmetic_it_stands_for(samples in proptest::collection::vec(any::<i16>(), 1..500)) {
        let summary = Summary::of(&samples);
        let mean_square = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / samples.len() as f64;
        let rms = mean_square.sqrt();
        let expected_rms = (rms > 0.0).then(|| 20.0 * (rms / 32768.0).log10());
        match (summary.rms_dbfs(), expected_rms) {
            (Some(got), Some(want)) => prop_assert!((got - want).abs() < 1e-9, "{} vs {}", got, want),
            (got, want) => prop_assert_eq!(got, want),
        }
        let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        let mut halves = Summary::of(&samples[..samples.len() / 2]);
        halves.merge(&Summary::of(&samples[samples.len() / 2..]));
        prop_assert_eq!(halves, summary, "merging two halves is measuring the whole");
        let expected_peak = (peak > 0).then(|| 20.0 * (f64::from(peak) / 32768.0).log10());
        prop_assert_eq!(summary.peak_dbfs(), expected_peak);
    }
}

#[test]
fn every_g711_byte_survives_a_round_trip() {
    for byte in 0..=255u8 {
        // µ-law has two zeros (0x7f, 0xff); both decode to 0, which encodes as 0xff.
        let expected = if byte == 0x7f { 0xff } else { byte };
        assert_eq!(
            g711::ulaw_encode(g711::ulaw_decode(byte)),
            expected,
            "µ-law {byte:#x}"
        );
        assert_eq!(
            g711::alaw_encode(g711::alaw_decode(byte)),
            byte,
            "A-law {byte:#x}"
        );
    }
}
