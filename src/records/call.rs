//! One stream from the provider's side, as evidence: what went out (by kind), what the server
//! sent back (by kind, the names of its marks, the first messages), how it ended; and what
//! `replay` reports of each stream and all of them. Running the stream is `stream::caller`'s.

use serde::{Deserialize, Serialize};

use crate::audio::Codec;
use crate::catalog::Provider;
use crate::records::close::Close;

/// Messages the server sent back that are kept word for word (all are counted).
/// The first messages a server sent back are kept as evidence, this many.
pub(crate) const KEPT_MESSAGES: usize = 20;

/// One of the messages a stream is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sent {
    Connected,
    Start,
    Media,
    Mark,
    Stop,
}

/// What was sent, by kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SentCounts {
    pub connected: bool,
    pub start: bool,
    pub media: u64,
    pub stop: bool,
}

impl SentCounts {
    /// Counts one message that went out.
    pub(crate) fn note(&mut self, sent: Sent) {
        match sent {
            Sent::Connected => self.connected = true,
            Sent::Start => self.start = true,
            Sent::Media => self.media += 1,
            Sent::Mark => {}
            Sent::Stop => self.stop = true,
        }
    }
}

/// A message the server sent back, as kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Received {
    Text { at_ms: f64, text: String },
    Binary { at_ms: f64, binary_bytes: usize },
}

/// What the server sent back, by kind, the names of its marks, and the first messages.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Replies {
    pub media: u64,
    pub mark: u64,
    pub clear: u64,
    pub other: u64,
    pub marks: Vec<String>,
    #[serde(default)]
    pub messages: Vec<Received>,
}

impl Replies {
    pub(crate) fn count(&self) -> u64 {
        self.media + self.mark + self.clear + self.other
    }

    /// Keeps `message` among the first ones (at most `KEPT_MESSAGES`).
    pub(crate) fn keep(&mut self, message: Received) {
        if self.messages.len() < KEPT_MESSAGES {
            self.messages.push(message);
        }
    }
}

/// How the stream ended, and when (from the opening; unknown when the server never answered
/// our close).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ending {
    pub close: Close,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<f64>,
}

impl Sent {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Sent::Connected => "connected",
            Sent::Start => "start",
            Sent::Media => "media",
            Sent::Mark => "mark",
            Sent::Stop => "stop",
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct StreamOutcome {
    pub stream: usize,
    pub sent: SentCounts,
    pub received: Replies,
    pub close: Option<Close>,
    pub error: Option<String>,
    pub duration_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReplaySummary {
    pub url: String,
    pub protocol: Provider,
    pub codec: Codec,
    pub streams: Vec<StreamOutcome>,
    pub media_frames_sent: u64,
    pub duration_ms: f64,
    pub frames_per_sec: f64,
}
