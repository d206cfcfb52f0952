//! What the caller hears, without a socket: each message the server sends back, at the moment
//! it arrived, against the provider's playback clock. Reply audio plays at the declared rate
//! from when it arrives or when the audio before it ends, whichever is later; a `mark` is echoed
//! once the audio before it has played; a `clear` drops what is queued and echoes the pending
//! marks at once. From that it keeps the turns' timing, the underruns, the pacing, the control
//! messages and the bytes whose format the judge reads. Times are ms since the stream opened.

use base64::Engine;
use serde_json::Value;

use crate::audio::detect::{Format, detect};
use crate::audio::meter::{LevelPoint, Summary};
use crate::audio::{Codec, Decoder};
use crate::catalog::Provider;
use crate::records::conversation::{ChunkBytes, Declared, ReplyRecord, Spread, TurnRecord};

/// A reply ends when no reply audio is due for this long.
pub(crate) const REPLY_IDLE_MS: f64 = 1000.0;
/// A reply frame at or above this RMS (dBFS) is not silence: the reply has started.
const SPEECH_DBFS: f64 = -40.0;
/// A gap in the queued audio shorter than this is jitter, not a stutter.
const UNDERRUN_MIN_MS: f64 = 20.0;
/// The format is read from at most this many reply bytes.
const DETECT_BYTES: usize = 64 * 1024;
/// A stretch paced as it plays: at least this much audio, arriving over at least half as long,
/// with no more than this share of its bytes in its first 100 ms.
const PACED_MIN_MS: f64 = 1000.0;
const BURST_SHARE: f64 = 0.2;

/// How the provider plays what comes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Raw audio in the stream's codec.
    Rtp,
    /// Base64 MP3, at most one message a second (Telnyx without `rtp`).
    Mp3,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Rtp => "rtp",
            Mode::Mp3 => "mp3",
        }
    }
}

/// One turn's reply as it arrives.
#[derive(Default)]
struct Turn {
    number: u32,
    speech_ms: f64,
    /// When the caller stopped speaking.
    spoke_until: Option<f64>,
    first_reply: Option<f64>,
    audio_ms: f64,
    frames: u64,
    /// The stretch of messages of this reply: first and last arrival, bytes, bytes in the first
    /// 100 ms, and the last message's bytes (which arrive at the end of the stretch).
    first_at: Option<f64>,
    last_at: f64,
    bytes: u64,
    early_bytes: u64,
    /// How long the last message plays.
    last_ms: f64,
}

pub(crate) struct Ear {
    provider: Provider,
    codec: Codec,
    mode: Mode,
    stream_sid: String,
    decoder: Decoder,
    samples: Vec<i16>,
    level: Summary,
    /// When the queued reply audio runs out.
    playing_until: f64,
    /// Marks waiting for the audio before them to play: (name, due, arrived).
    pending: Vec<(String, f64, f64)>,
    mark_rtts: Vec<f64>,
    turn: Turn,
    turns: Vec<TurnRecord>,
    paced: Vec<(f64, f64)>,
    reply: ReplyRecord,
    chunk_sizes: Vec<f64>,
    intervals: Vec<f64>,
    last_media: Option<f64>,
    detect_bytes: Vec<u8>,
    /// When the caller began speaking over queued reply audio, if it did.
    barged_in: Option<f64>,
    /// The bot's level per message, where it plays.
    levels: Vec<LevelPoint>,
}

impl Ear {
    pub(crate) fn new(provider: Provider, codec: Codec, mode: Mode, stream_sid: &str) -> Self {
        let reply = ReplyRecord {
            declared: Declared {
                encoding: provider.protocol().encoding(codec).to_string(),
                sample_rate: codec.audio_rate(8000),
                mode: mode.name().to_string(),
            },
            ..ReplyRecord::default()
        };
        Self {
            provider,
            codec,
            mode,
            stream_sid: stream_sid.to_string(),
            decoder: Decoder::new(codec),
            samples: Vec::new(),
            level: Summary::default(),
            playing_until: 0.0,
            pending: Vec::new(),
            mark_rtts: Vec::new(),
            turn: Turn::default(),
            turns: Vec::new(),
            paced: Vec::new(),
            reply,
            chunk_sizes: Vec::new(),
            intervals: Vec::new(),
            last_media: None,
            detect_bytes: Vec::new(),
            barged_in: None,
            levels: Vec::new(),
        }
    }

    /// Bytes a second of reply audio at the declared rate.
    fn bytes_per_second(&self) -> f64 {
        match self.codec {
            Codec::L16 => 16_000.0,
            Codec::G722 => 8000.0,
            Codec::Pcmu | Codec::Pcma => 8000.0,
        }
    }

    /// A new turn: the caller starts speaking `speech_ms` of utterance.
    pub(crate) fn begin_turn(&mut self, number: u32, speech_ms: f64) {
        self.close_turn();
        self.turn = Turn {
            number,
            speech_ms,
            ..Turn::default()
        };
    }

    /// The caller stopped speaking at `at`.
    pub(crate) fn spoke_until(&mut self, at: f64) {
        self.turn.spoke_until = Some(at);
    }

    /// The caller starts speaking over the reply at `at` (barge-in).
    pub(crate) fn barge_in(&mut self, at: f64) {
        self.barged_in = Some(at);
        self.reply.barge_in_at_ms = Some(at);
    }

    /// Whether this turn's reply has started.
    pub(crate) fn replying(&self) -> bool {
        self.turn.first_reply.is_some()
    }

    /// When this turn's reply started, if it has.
    pub(crate) fn reply_started_at(&self) -> Option<f64> {
        self.turn.first_reply
    }

    /// Whether the reply is over at `now`: it started, and no reply audio is due for a second.
    pub(crate) fn reply_done(&self, now: f64) -> bool {
        self.replying()
            && now > self.playing_until + REPLY_IDLE_MS
            && self.turn.last_at + REPLY_IDLE_MS < now
    }

    /// Whether reply audio is still playing at `now`.
    pub(crate) fn playing(&self, now: f64) -> bool {
        now < self.playing_until
    }

    /// One message from the server, arrived at `at`.
    pub(crate) fn hear(&mut self, at: f64, text: &str) {
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            self.invalid(text);
            return;
        };
        let event = value
            .get("event")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !matches!(event, "media" | "mark" | "clear") {
            self.invalid(text);
            return;
        }
        if self.provider == Provider::Twilio
            && value.get("streamSid").and_then(Value::as_str) != Some(self.stream_sid.as_str())
        {
            self.reply.missing_stream_sid += 1;
        }
        match event {
            "media" => self.media(at, &value),
            "mark" => {
                let name = value
                    .pointer("/mark/name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty());
                match name {
                    Some(name) => {
                        self.reply.marks.sent += 1;
                        let due = self.playing_until.max(at);
                        self.pending.push((name.to_string(), due, at));
                    }
                    None => self.reply.marks.malformed += 1,
                }
            }
            _ => {
                self.reply.clear.sent = true;
                if let Some(barge) = self
                    .barged_in
                    .filter(|_| self.reply.clear.after_barge_in_ms.is_none())
                {
                    self.reply.clear.after_barge_in_ms = Some(at - barge);
                }
                self.playing_until = at;
                for pending in &mut self.pending {
                    pending.1 = at;
                }
            }
        }
    }

    fn invalid(&mut self, text: &str) {
        self.reply.invalid_messages += 1;
        if self.reply.first_invalid.is_none() {
            self.reply.first_invalid = Some(text.chars().take(120).collect());
        }
    }

    fn media(&mut self, at: f64, value: &Value) {
        let payload = value
            .pointer("/media/payload")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let engine = base64::engine::general_purpose::STANDARD;
        let Ok(bytes) = engine.decode(payload) else {
            self.invalid(&value.to_string());
            return;
        };
        self.reply.frames += 1;
        self.reply.bytes += bytes.len() as u64;
        self.chunk_sizes.push(bytes.len() as f64);
        if let Some(last) = self.last_media.replace(at) {
            self.intervals.push(at - last);
        }
        let room = DETECT_BYTES.saturating_sub(self.detect_bytes.len());
        self.detect_bytes
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        let (audible, duration_ms) = match self.mode {
            // An MP3 message is a second of audio or so; its level is not measured.
            Mode::Mp3 => (true, 1000.0),
            Mode::Rtp => {
                self.samples.clear();
                self.decoder.decode_into(&bytes, &mut self.samples);
                let frame = Summary::of(&self.samples);
                self.level.merge(&frame);
                let starts = self.playing_until.max(at);
                self.levels.push(LevelPoint::measured(starts, &frame));
                let loud = frame.rms_dbfs().is_some_and(|db| db >= SPEECH_DBFS);
                (loud, bytes.len() as f64 / self.bytes_per_second() * 1000.0)
            }
        };
        let gap = at - self.playing_until;
        if self.turn.frames > 0 && gap > UNDERRUN_MIN_MS && gap < REPLY_IDLE_MS {
            self.reply.underruns.count += 1;
            self.reply.underruns.total_ms += gap;
        }
        let start = self.playing_until.max(at);
        self.playing_until = start + duration_ms;
        self.reply.ahead_ms_max = self.reply.ahead_ms_max.max(self.playing_until - at);
        let turn = &mut self.turn;
        turn.frames += 1;
        turn.audio_ms += duration_ms;
        if audible && turn.first_reply.is_none() {
            turn.first_reply = Some(at);
        }
        let first = *turn.first_at.get_or_insert(at);
        turn.last_at = at;
        turn.bytes += bytes.len() as u64;
        turn.last_ms = duration_ms;
        if at - first <= 100.0 {
            turn.early_bytes += bytes.len() as u64;
        }
    }

    /// Marks whose audio has played by `now`, to echo.
    pub(crate) fn due_marks(&mut self, now: f64) -> Vec<String> {
        let (due, waiting): (Vec<_>, Vec<_>) =
            self.pending.drain(..).partition(|(_, at, _)| *at <= now);
        self.pending = waiting;
        due.into_iter()
            .map(|(name, _, arrived)| {
                self.reply.marks.echoed += 1;
                self.mark_rtts.push(now - arrived);
                name
            })
            .collect()
    }

    fn close_turn(&mut self) {
        let turn = std::mem::take(&mut self.turn);
        if turn.number == 0 {
            return;
        }
        if let Some(first) = turn.first_at {
            // From the first message's arrival to when the last one's audio would end, had it
            // arrived as it plays.
            let span = turn.last_at - first + turn.last_ms;
            let burst = turn.early_bytes as f64 > BURST_SHARE * turn.bytes as f64;
            if turn.audio_ms >= PACED_MIN_MS && span >= PACED_MIN_MS / 2.0 && !burst {
                self.paced.push((span, turn.bytes as f64 / span * 1000.0));
            }
        }
        self.turns.push(TurnRecord {
            turn: turn.number,
            caller_speech_ms: turn.speech_ms,
            first_reply_ms: turn
                .first_reply
                .zip(turn.spoke_until)
                .map(|(reply, spoke)| (reply - spoke).max(0.0)),
            reply_audio_ms: turn.audio_ms,
            reply_frames: turn.frames,
            spoke_until_ms: turn.spoke_until,
            replied_at_ms: turn.first_reply,
        });
    }

    /// The turns, the reply, and the bot's levels, once the call is over.
    pub(crate) fn finish(mut self) -> (Vec<TurnRecord>, ReplyRecord, Vec<LevelPoint>) {
        self.close_turn();
        let mut reply = self.reply;
        reply.chunk_bytes = ChunkBytes::of(&self.chunk_sizes);
        reply.interval_ms = Spread::of(&self.intervals);
        reply.marks.rtt_ms_p50 =
            (!self.mark_rtts.is_empty()).then(|| Spread::of(&self.mark_rtts).p50);
        let declared = match (self.mode, self.codec) {
            (Mode::Mp3, _) => Some(Format::Mp3),
            (Mode::Rtp, Codec::Pcmu) => Some(Format::Mulaw),
            (Mode::Rtp, Codec::Pcma) => Some(Format::Alaw),
            (Mode::Rtp, Codec::L16) => Some(Format::Pcm16be),
            (Mode::Rtp, Codec::G722) => Some(Format::G722),
        };
        reply.detected =
            (!self.detect_bytes.is_empty()).then(|| detect(&self.detect_bytes, declared));
        reply.rms_dbfs = self.level.rms_dbfs();
        reply.paced_bytes_per_second = self
            .paced
            .iter()
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, rate)| *rate);
        (self.turns, reply, self.levels)
    }
}
