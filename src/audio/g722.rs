//! G.722: 16 kHz wideband audio at 64 kbit/s, sub-band ADPCM. The codec itself comes from the
//! `ezk-g722` crate (a port of SpanDSP's ITU implementation); this file holds the per-track
//! state, because G.722 decoding depends on every byte before.

use ezk_g722::libg722::{Bitrate, decoder::Decoder, encoder::Encoder};

/// G.722's audio rate; RTP and some providers announce 8000 for it (RFC 3551's clock rate).
pub(crate) const SAMPLE_RATE_HZ: u32 = 16_000;

pub struct G722Decoder(Decoder);

impl G722Decoder {
    pub fn new() -> Self {
        Self(Decoder::new(Bitrate::Mode1_64000, false, false))
    }

    /// Two samples per payload byte.
    pub(crate) fn decode(&mut self, payload: &[u8]) -> Vec<i16> {
        self.0.decode(payload)
    }
}

impl Default for G722Decoder {
    fn default() -> Self {
        Self::new()
    }
}

pub struct G722Encoder(Encoder);

impl G722Encoder {
    pub fn new() -> Self {
        Self(Encoder::new(Bitrate::Mode1_64000, false, false))
    }

    /// One byte per two samples. An odd last sample (the end of a clip whose length is not
    /// whole frames) is paired with silence: the codec itself refuses an odd count, and
    /// panics on one (found by `cargo fuzz`).
    pub(crate) fn encode(&mut self, samples: &[i16]) -> Vec<u8> {
        if samples.len().is_multiple_of(2) {
            return self.0.encode(samples);
        }
        let mut even = samples.to_vec();
        even.push(0);
        self.0.encode(&even)
    }
}

impl Default for G722Encoder {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{meter::Summary, tone};

    #[test]
    fn an_odd_number_of_samples_is_padded_not_a_panic() {
        let mut encoder = G722Encoder::new();
        assert_eq!(encoder.encode(&[100, -100, 300]).len(), 2);
        assert_eq!(encoder.encode(&[1]).len(), 1);
        assert!(encoder.encode(&[]).is_empty());
    }

    #[test]
    fn a_tone_survives_the_codec_at_its_level_and_pitch() {
        let input = tone(1000.0, 0.5, SAMPLE_RATE_HZ, 16_000);
        let mut encoder = G722Encoder::new();
        let mut decoder = G722Decoder::new();
        let mut output = Vec::new();
        for frame in input.chunks(320) {
            let bytes = encoder.encode(frame);
            assert_eq!(bytes.len(), 160, "64 kbit/s is one byte per two samples");
            output.extend(decoder.decode(&bytes));
        }
        assert_eq!(output.len(), input.len());
        // Skip the codec's start-up; compare levels after it settles.
        let settled = &output[1600..];
        let summary = Summary::of(settled);
        let expected = 20.0 * (0.5f64 / 2f64.sqrt()).log10();
        let got = summary.rms_dbfs().unwrap_or(f64::NEG_INFINITY);
        assert!(
            (got - expected).abs() < 0.5,
            "rms {got:.2} dBFS, tone {expected:.2}"
        );
        // The pitch survives: 1 kHz crosses zero 2000 times a second.
        let crossings = settled
            .windows(2)
            .filter(|w| (w[0] < 0) != (w[1] < 0))
            .count();
        let per_second = crossings as f64 * f64::from(SAMPLE_RATE_HZ) / settled.len() as f64;
        assert!(
            (per_second - 2000.0).abs() < 20.0,
            "{per_second} crossings/s"
        );
    }
}
