//! A call placed as the provider (`converse`), as data: each call's turns, what came back on the
//! way back (its format read from the bytes, its pacing against the provider's playback clock,
//! its control messages) and how the stream ended. The JSON is a public contract
//! (docs/converse.md): fields are added, never renamed.

use serde::{Deserialize, Serialize};

use crate::audio::detect::Detected;
use crate::audio::meter::LevelPoint;

/// One call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// From 1.
    pub call: u32,
    pub connected: bool,
    /// Why the stream did not open, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub close: Option<CallClose>,
    pub turns: Vec<TurnRecord>,
    pub reply: ReplyRecord,
    /// How far this side's 20 ms send clock strayed (the instrument's own precision).
    pub send_jitter_ms: Spread,
    /// The caller's and the bot's levels on one clock, decimated.
    #[serde(default)]
    pub levels: CallLevels,
}

/// Levels of the two sides of a call, on the stream's clock (ms since it opened): the caller's
/// frames as sent, the bot's as they play (only while it plays).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallLevels {
    pub caller: Vec<LevelPoint>,
    pub bot: Vec<LevelPoint>,
}

/// Points further apart than this are drawn as separate runs: the bot's replies with nothing
/// drawn between them.
const RUN_GAP_MS: f64 = 200.0;

/// `points` cut into runs where they are more than `RUN_GAP_MS` apart, for drawing.
pub fn runs(points: &[LevelPoint]) -> Vec<&[LevelPoint]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=points.len() {
        if i == points.len() || points[i].at_ms - points[i - 1].at_ms > RUN_GAP_MS {
            out.push(&points[start..i]);
            start = i;
        }
    }
    out.retain(|run| !run.is_empty());
    out
}

impl CallRecord {
    /// The call heard some reply audio.
    pub fn replied(&self) -> bool {
        self.reply.frames > 0
    }

    /// The server (or a hop before it) closed the stream before the caller hung up.
    pub fn cut(&self) -> Option<&CallClose> {
        self.close.as_ref().filter(|c| c.by != ClosedBy::Client)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClosedBy {
    /// This side hung up, as the provider does at the end of a call.
    Client,
    Server,
    /// The connection broke without a close.
    Error,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallClose {
    pub by: ClosedBy,
    /// Since the stream opened.
    pub at_ms: f64,
    pub code: Option<u16>,
    pub reason: String,
}

/// One exchange: the caller's utterance and the bot's answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TurnRecord {
    pub turn: u32,
    pub caller_speech_ms: f64,
    /// From the end of the utterance to the first reply frame that is not silence.
    pub first_reply_ms: Option<f64>,
    /// Reply audio that arrived in this turn, at the declared rate.
    pub reply_audio_ms: f64,
    pub reply_frames: u64,
    /// When the caller stopped speaking and when the reply's first words came, on the
    /// stream's clock: the latency as a span on the timeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spoke_until_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replied_at_ms: Option<f64>,
}

/// Everything the server sent back over the call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplyRecord {
    /// `media` messages.
    pub frames: u64,
    /// Payload bytes, decoded from base64.
    pub bytes: u64,
    pub declared: Declared,
    pub detected: Option<Detected>,
    pub chunk_bytes: ChunkBytes,
    pub interval_ms: Spread,
    /// How far the server ran ahead of the playback clock, at most.
    pub ahead_ms_max: f64,
    pub underruns: Underruns,
    pub marks: Marks,
    pub clear: Clear,
    /// When the caller spoke over queued reply audio (`--barge-in`), since the stream opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barge_in_at_ms: Option<f64>,
    pub invalid_messages: u64,
    /// The first message that was not one the provider takes, cut short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_invalid: Option<String>,
    /// Twilio: replies that do not carry the stream's `streamSid`.
    pub missing_stream_sid: u64,
    /// Of the reply audio, decoded as declared.
    pub rms_dbfs: Option<f64>,
    /// Payload bytes a second over the longest stretch the server sent at the pace it plays
    /// (a second or more, no burst ahead of the clock); `None` without such a stretch.
    pub paced_bytes_per_second: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Declared {
    pub encoding: String,
    pub sample_rate: u32,
    /// `rtp` (raw audio in the codec) or `mp3` (Telnyx's other bidirectional mode).
    pub mode: String,
}

/// Calls placed at once (`--concurrent N`): how many failed (did not connect, got no reply, or
/// were cut) and the turn latency over all their turns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Concurrency {
    pub calls: u32,
    pub failed: u32,
    pub first_reply_ms: Spread,
}

impl Concurrency {
    pub fn of(calls: &[CallRecord]) -> Concurrency {
        let latencies: Vec<f64> = calls
            .iter()
            .flat_map(|c| &c.turns)
            .filter_map(|t| t.first_reply_ms)
            .collect();
        Concurrency {
            calls: calls.len() as u32,
            failed: calls
                .iter()
                .filter(|c| !c.connected || !c.replied() || c.cut().is_some())
                .count() as u32,
            first_reply_ms: Spread::of(&latencies),
        }
    }
}

/// Smallest, middle and largest; with `p95` where it is a spread of times.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub min: f64,
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        if values.is_empty() {
            return Spread::default();
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        Spread {
            min: sorted[0],
            p50: at(0.5),
            p95: at(0.95),
            max: sorted[sorted.len() - 1],
        }
    }
}

/// The sizes of the `media` payloads, in bytes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChunkBytes {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl ChunkBytes {
    pub fn of(sizes: &[f64]) -> ChunkBytes {
        let spread = Spread::of(sizes);
        ChunkBytes {
            min: spread.min,
            median: spread.p50,
            max: spread.max,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Underruns {
    pub count: u64,
    pub total_ms: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Marks {
    pub sent: u64,
    pub echoed: u64,
    pub malformed: u64,
    /// From a mark's arrival to its echo, once the audio before it had played.
    pub rtt_ms_p50: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Clear {
    pub sent: bool,
    /// From the caller starting to speak over the reply to the `clear`.
    pub after_barge_in_ms: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_cut_into_runs_at_gaps() {
        let at = |ms: f64| LevelPoint {
            at_ms: ms,
            rms_dbfs: Some(-20.0),
            peak_dbfs: None,
        };
        let points = [at(0.0), at(20.0), at(40.0), at(3000.0), at(3020.0)];
        let cut: Vec<usize> = runs(&points).iter().map(|r| r.len()).collect();
        assert_eq!(cut, [3, 2]);
        assert!(runs(&[]).is_empty());
    }

    #[test]
    fn a_spread_reads_its_quantiles() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let spread = Spread::of(&values);
        assert_eq!((spread.min, spread.max), (1.0, 100.0));
        assert_eq!(spread.p50, 51.0);
        assert_eq!(spread.p95, 95.0);
        assert_eq!(Spread::of(&[]), Spread::default());
    }
}
