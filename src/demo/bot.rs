//! The demo's voice bot, for `converse --demo`, the window's "Talk to it" and the tests: it
//! listens to the caller as voice bots do (speech is 20 ms frames above -40 dBFS; 400 ms of
//! quiet after it ends a turn) and answers each turn with a little over a second of speech (cut
//! from the demo clip) and a `mark`, and stops with a `clear` when the caller speaks over it, the
//! way a healthy bot does; or with one of the faults the way back suffers in the field. `Bot` is
//! socket-free: fed the caller's messages, it says when to answer or stop and writes the answer;
//! the demo server paces it.

use base64::Engine;
use serde_json::{Value, json};

use crate::audio::meter::Summary;
use crate::audio::{Codec, Decoder, Encoder, tone};
use crate::catalog::Provider;

/// How the bot answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BotStyle {
    /// A second of tone in the stream's codec, 20 ms frames in real time, then a mark.
    Good,
    /// Never answers: a one-way stream.
    OneWay,
    /// A-law bytes on a μ-law stream.
    Alaw,
    /// The whole answer as a WAV file in one payload.
    Wav,
    /// Answers after 2.5 s.
    Late,
    /// 24 kHz audio in 8 kHz frames: three times the bytes, in real time.
    Fast,
    /// Twilio replies without `streamSid`.
    NoStreamSid,
    /// Stalls 300 ms in the middle of each answer, as a blocking send loop does.
    Stutter,
    /// Answers silence.
    Silent,
    /// Closes the stream (1011) after its first answer.
    HangUp,
    /// Sends a message that is not JSON, a nameless mark, and chunks of 100 bytes.
    Sloppy,
    /// Answers its first call well and never another (state an earlier call left behind).
    FirstCallOnly,
}

/// One thing the bot does, after a pause (ms).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Say {
    Text(u64, String),
    /// Close the stream with this code and reason.
    Close(u64, u16, &'static str),
}

impl BotStyle {
    pub const ALL: [BotStyle; 12] = [
        BotStyle::Good,
        BotStyle::OneWay,
        BotStyle::Alaw,
        BotStyle::Wav,
        BotStyle::Late,
        BotStyle::Fast,
        BotStyle::NoStreamSid,
        BotStyle::Stutter,
        BotStyle::Silent,
        BotStyle::HangUp,
        BotStyle::Sloppy,
        BotStyle::FirstCallOnly,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BotStyle::Good => "good",
            BotStyle::OneWay => "one-way",
            BotStyle::Alaw => "alaw",
            BotStyle::Wav => "wav",
            BotStyle::Late => "late",
            BotStyle::Fast => "fast",
            BotStyle::NoStreamSid => "no-stream-sid",
            BotStyle::Stutter => "stutter",
            BotStyle::Silent => "silent",
            BotStyle::HangUp => "hang-up",
            BotStyle::Sloppy => "sloppy",
            BotStyle::FirstCallOnly => "first-call-only",
        }
    }

    /// How long after the turn ends the answer starts, in ms.
    pub(crate) fn delay_ms(self) -> u64 {
        if self == BotStyle::Late { 2500 } else { 300 }
    }
}

impl std::str::FromStr for BotStyle {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BotStyle::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = BotStyle::ALL.iter().map(|b| b.name()).collect();
                format!("unknown bot '{s}' (one of: {})", names.join(", "))
            })
    }
}

/// What the caller's message meant to the bot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Heard {
    Nothing,
    /// The caller's turn ended: answer it.
    TurnEnded,
    /// The caller speaks over the answer: a bot that handles it stops and sends `clear`.
    Interrupted,
}

/// The speech the bot answers with, cut from the demo clip.
const SPEECH: &[u8] = include_bytes!("../../assets/demo-speech.wav");
/// How much of it each answer says.
const ANSWER_SAMPLES: usize = 9600;
/// Loud frames over an answer that count as an interruption.
const BARGE_IN_FRAMES: u32 = 3;
/// Frames of quiet after speech that end the caller's turn.
const QUIET_FRAMES: u32 = 20;
/// Frames of speech a turn needs before quiet ends it.
const SPEECH_FRAMES: u32 = 10;

pub(crate) struct Bot {
    style: BotStyle,
    provider: Provider,
    codec: Codec,
    stream_sid: String,
    decoder: Decoder,
    speech: u32,
    quiet: u32,
    turn: u32,
    /// The demo clip at 8 kHz: what the bot says.
    voice: Vec<i16>,
}

impl Bot {
    pub(crate) fn new(style: BotStyle) -> Self {
        Self {
            style,
            provider: Provider::Telnyx,
            codec: Codec::Pcmu,
            stream_sid: String::new(),
            decoder: Decoder::new(Codec::Pcmu),
            speech: 0,
            quiet: 0,
            turn: 0,
            voice: crate::audio::wav::read_clip(SPEECH, "demo-speech.wav")
                .map(|clip| clip.resampled(8000).samples)
                .unwrap_or_else(|_| tone(300.0, 0.3, 8000, 16_000)),
        }
    }

    /// The `turn`th answer's speech at `rate_hz`, a different cut of the clip each turn.
    fn words(&self, rate_hz: u32) -> Vec<i16> {
        let room = self.voice.len().saturating_sub(ANSWER_SAMPLES).max(1);
        let from = (self.turn as usize * 7919) % room;
        let cut = &self.voice[from..(from + ANSWER_SAMPLES).min(self.voice.len())];
        crate::audio::wav::Clip {
            rate_hz: 8000,
            samples: cut.to_vec(),
        }
        .resampled(rate_hz)
        .samples
    }

    /// One message from the caller, heard while the bot is `answering` or not.
    pub(crate) fn hear(&mut self, text: &str, answering: bool) -> Heard {
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            return Heard::Nothing;
        };
        match value.get("event").and_then(Value::as_str) {
            Some("start") => {
                if let Some(sid) = value.get("streamSid").and_then(Value::as_str) {
                    self.provider = Provider::Twilio;
                    self.stream_sid = sid.to_string();
                }
                let encoding = value
                    .pointer("/start/media_format/encoding")
                    .or_else(|| value.pointer("/start/mediaFormat/encoding"))
                    .and_then(Value::as_str)
                    .unwrap_or("PCMU");
                self.codec = Codec::from_encoding(encoding).unwrap_or(Codec::Pcmu);
                self.decoder = Decoder::new(self.codec);
                Heard::Nothing
            }
            Some("media") => {
                let payload = value
                    .pointer("/media/payload")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let engine = base64::engine::general_purpose::STANDARD;
                let Ok(bytes) = engine.decode(payload) else {
                    return Heard::Nothing;
                };
                let loud = Summary::of(&self.decoder.decode(&bytes))
                    .rms_dbfs()
                    .is_some_and(|db| db > -40.0);
                if loud {
                    self.speech += 1;
                    self.quiet = 0;
                    let heard_over = answering && self.speech == BARGE_IN_FRAMES;
                    return if heard_over && self.style == BotStyle::Good {
                        Heard::Interrupted
                    } else {
                        Heard::Nothing
                    };
                }
                self.quiet += 1;
                if self.speech >= SPEECH_FRAMES && self.quiet >= QUIET_FRAMES {
                    self.speech = 0;
                    self.turn += 1;
                    if self.style != BotStyle::OneWay {
                        return Heard::TurnEnded;
                    }
                }
                Heard::Nothing
            }
            _ => Heard::Nothing,
        }
    }

    /// The answer, each step with the pause before it: the demo server plays it.
    pub(crate) fn answer(&self) -> Vec<Say> {
        let rate = self.codec.audio_rate(8000);
        let per_frame = rate as usize / 50;
        let samples = self.words(rate);
        let mut out = Vec::new();
        match self.style {
            BotStyle::Silent => {
                let mut encoder = Encoder::new(self.codec);
                for frame in vec![0i16; samples.len()].chunks(per_frame) {
                    out.push((20, self.media(&encoder.encode(frame))));
                }
            }
            BotStyle::Sloppy => {
                out.push((0, "hello, provider".to_string()));
                out.push((0, self.message("mark", json!({}))));
                let mut encoder = Encoder::new(self.codec);
                for frame in samples.chunks(100) {
                    out.push((12, self.media(&encoder.encode(frame))));
                }
            }
            BotStyle::Wav => {
                let pcm: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
                let mut file = Vec::with_capacity(44 + pcm.len());
                file.extend_from_slice(b"RIFF");
                file.extend_from_slice(&(36 + pcm.len() as u32).to_le_bytes());
                file.extend_from_slice(b"WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00");
                file.extend_from_slice(&8000u32.to_le_bytes());
                file.extend_from_slice(&16000u32.to_le_bytes());
                file.extend_from_slice(b"\x02\x00\x10\x00data");
                file.extend_from_slice(&(pcm.len() as u32).to_le_bytes());
                file.extend_from_slice(&pcm);
                out.push((0, self.media(&file)));
            }
            BotStyle::Fast => {
                let fast = self.words(24_000);
                let mut encoder = Encoder::new(self.codec);
                for frame in fast.chunks(480) {
                    out.push((20, self.media(&encoder.encode(frame))));
                }
            }
            _ => {
                let codec = if self.style == BotStyle::Alaw {
                    Codec::Pcma
                } else {
                    self.codec
                };
                let mut encoder = Encoder::new(codec);
                for (n, frame) in samples.chunks(per_frame).enumerate() {
                    let stall = if self.style == BotStyle::Stutter && n == 25 {
                        300
                    } else {
                        0
                    };
                    out.push((20 + stall, self.media(&encoder.encode(frame))));
                }
            }
        }
        out.push((
            0,
            self.message("mark", json!({ "name": format!("turn-{}", self.turn) })),
        ));
        let mut said: Vec<Say> = out
            .into_iter()
            .map(|(pause, text)| Say::Text(pause, text))
            .collect();
        if self.style == BotStyle::HangUp {
            said.push(Say::Close(200, 1011, "internal error"));
        }
        said
    }

    /// The `clear` that drops what the provider queued.
    pub(crate) fn clear(&self) -> String {
        self.message("clear", json!({}))
    }

    fn media(&self, bytes: &[u8]) -> String {
        let payload = base64::engine::general_purpose::STANDARD.encode(bytes);
        self.message("media", json!({ "payload": payload }))
    }

    fn message(&self, event: &str, body: Value) -> String {
        let mut message = json!({ "event": event, event: body });
        if self.provider == Provider::Twilio && self.style != BotStyle::NoStreamSid {
            message["streamSid"] = self.stream_sid.clone().into();
        }
        message.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::script::Script;

    #[test]
    fn a_turn_ends_after_speech_and_quiet() {
        let mut script = Script::new(Provider::Twilio);
        let mut bot = Bot::new(BotStyle::Good);
        let started = bot.hear(&script.start(Codec::Pcmu, 8000, &["inbound"]), false);
        assert_eq!(started, Heard::Nothing);
        let mut encoder = Encoder::new(Codec::Pcmu);
        let loud = encoder.encode(&tone(300.0, 0.3, 8000, 160));
        let quiet = encoder.encode(&[0; 160]);
        let mut ended = Vec::new();
        for n in 1..=40u64 {
            let frame = if n <= 15 { &loud } else { &quiet };
            ended.push(bot.hear(&script.media("inbound", n, frame), false) == Heard::TurnEnded);
        }
        let over: Vec<Heard> = (41..=44u64)
            .map(|n| bot.hear(&script.media("inbound", n, &loud), true))
            .collect();
        assert_eq!(
            over[2],
            Heard::Interrupted,
            "the third loud frame over an answer"
        );
        assert_eq!(ended.iter().filter(|e| **e).count(), 1);
        assert!(ended[15 + 19], "after 20 quiet frames");
        let answer = bot.answer();
        assert_eq!(answer.len(), 61, "60 frames of speech and a mark");
        let Say::Text(_, first) = &answer[0] else {
            panic!("{answer:?}");
        };
        assert!(
            first.contains(&script.ids.stream_id),
            "Twilio replies name the stream"
        );
    }
}
