//! Audio: the codecs providers stream in (one file per codec), levels (`meter`), WAV files
//! (`wav`), and test signals. Everything here is pure computation, off any UI thread.

pub mod detect;
pub mod g711;
pub mod g722;
pub mod l16;
pub mod meter;
pub mod wav;

use serde::{Deserialize, Serialize};

/// `count` samples of a sine at `freq_hz`, `amplitude` of full scale, sampled at `rate_hz`.
pub fn tone(freq_hz: f64, amplitude: f64, rate_hz: u32, count: usize) -> Vec<i16> {
    (0..count)
        .map(|n| {
            let phase = 2.0 * std::f64::consts::PI * freq_hz * n as f64 / f64::from(rate_hz);
            (phase.sin() * amplitude * 32767.0).round() as i16
        })
        .collect()
}

/// The codecs a media stream can carry that Stream Doctor decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Codec {
    #[serde(rename = "PCMU")]
    Pcmu,
    #[serde(rename = "PCMA")]
    Pcma,
    #[serde(rename = "L16")]
    L16,
    #[serde(rename = "G722")]
    G722,
}

impl Codec {
    /// The name providers announce in `media_format.encoding`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::L16 => "L16",
            Codec::G722 => "G722",
        }
    }

    /// Reads an announced encoding: Telnyx names (`PCMU`) and Twilio MIME types (`audio/x-mulaw`).
    pub(crate) fn from_encoding(encoding: &str) -> Option<Codec> {
        match encoding.trim().to_ascii_lowercase().as_str() {
            "pcmu" | "audio/x-mulaw" | "audio/pcmu" | "mulaw" | "ulaw" => Some(Codec::Pcmu),
            "pcma" | "audio/x-alaw" | "audio/pcma" | "alaw" => Some(Codec::Pcma),
            "l16" | "audio/l16" | "linear16" => Some(Codec::L16),
            "g722" | "g.722" | "audio/g722" => Some(Codec::G722),
            _ => None,
        }
    }

    /// The real audio rate, given what was announced (G.722 is 16 kHz whatever its clock says).
    pub fn audio_rate(self, announced_hz: u32) -> u32 {
        match self {
            Codec::G722 => g722::SAMPLE_RATE_HZ,
            Codec::Pcmu | Codec::Pcma => 8000,
            Codec::L16 if announced_hz > 0 => announced_hz,
            Codec::L16 => 8000,
        }
    }

    /// The Twilio-style MIME name.
    pub(crate) fn mime(self) -> &'static str {
        match self {
            Codec::Pcmu => "audio/x-mulaw",
            Codec::Pcma => "audio/x-alaw",
            Codec::L16 => "audio/l16",
            Codec::G722 => "audio/g722",
        }
    }
}

impl std::str::FromStr for Codec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Codec::from_encoding(s)
            .ok_or_else(|| format!("unknown codec '{s}' (one of PCMU, PCMA, L16, G722)"))
    }
}

/// Decodes one track's payloads; holds the state codecs such as G.722 carry between frames.
pub enum Decoder {
    Pcmu,
    Pcma,
    L16,
    G722(Box<g722::G722Decoder>),
}

impl Decoder {
    pub fn new(codec: Codec) -> Self {
        match codec {
            Codec::Pcmu => Decoder::Pcmu,
            Codec::Pcma => Decoder::Pcma,
            Codec::L16 => Decoder::L16,
            Codec::G722 => Decoder::G722(Box::default()),
        }
    }

    pub fn decode(&mut self, payload: &[u8]) -> Vec<i16> {
        let mut samples = Vec::new();
        self.decode_into(payload, &mut samples);
        samples
    }

    /// Decodes into `samples` (cleared first), so a caller that keeps the buffer allocates
    /// nothing per frame.
    pub(crate) fn decode_into(&mut self, payload: &[u8], samples: &mut Vec<i16>) {
        samples.clear();
        match self {
            Decoder::Pcmu => g711::decode_ulaw_into(payload, samples),
            Decoder::Pcma => g711::decode_alaw_into(payload, samples),
            Decoder::L16 => l16::decode_into(payload, samples),
            Decoder::G722(decoder) => samples.extend(decoder.decode(payload)),
        }
    }
}

/// Encodes one track's samples for sending.
pub enum Encoder {
    Pcmu,
    Pcma,
    L16,
    G722(Box<g722::G722Encoder>),
}

impl Encoder {
    pub fn new(codec: Codec) -> Self {
        match codec {
            Codec::Pcmu => Encoder::Pcmu,
            Codec::Pcma => Encoder::Pcma,
            Codec::L16 => Encoder::L16,
            Codec::G722 => Encoder::G722(Box::default()),
        }
    }

    pub fn encode(&mut self, samples: &[i16]) -> Vec<u8> {
        match self {
            Encoder::Pcmu => samples.iter().map(|s| g711::ulaw_encode(*s)).collect(),
            Encoder::Pcma => samples.iter().map(|s| g711::alaw_encode(*s)).collect(),
            Encoder::L16 => l16::encode(samples),
            Encoder::G722(encoder) => encoder.encode(samples),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announced_names_are_understood() {
        assert_eq!(Codec::from_encoding("audio/x-mulaw"), Some(Codec::Pcmu));
        assert_eq!(Codec::from_encoding("PCMA"), Some(Codec::Pcma));
        assert_eq!(Codec::from_encoding("OPUS"), None);
        assert_eq!(Codec::G722.audio_rate(8000), 16_000);
        assert_eq!(Codec::L16.audio_rate(16_000), 16_000);
    }

    #[test]
    fn every_codec_round_trips_a_tone() {
        for codec in [Codec::Pcmu, Codec::Pcma, Codec::L16, Codec::G722] {
            let rate = codec.audio_rate(8000);
            let input = tone(440.0, 0.5, rate, rate as usize / 5);
            let mut encoder = Encoder::new(codec);
            let mut decoder = Decoder::new(codec);
            let output = decoder.decode(&encoder.encode(&input));
            assert_eq!(output.len(), input.len(), "{}", codec.name());
        }
    }
}
