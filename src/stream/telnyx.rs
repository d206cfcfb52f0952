//! Telnyx media-stream messages, both directions (shapes in shared/design/telnyx-facts.md):
//! `stream_id` at the top level, `sequence_number`, `chunk` and `timestamp` as strings,
//! `media_format` inside `start`. Reading is tolerant (numbers or strings, unknown fields and
//! events); writing matches what Telnyx sends.

use serde::Deserialize;
use serde_json::{Value, json};

use super::flex::{flex_u32, flex_u64};
use super::{Inbound, MediaBody, StartInfo, text_field};
use crate::probe::AUTH_TOKEN_HEADER;
use crate::secret::Secret;

#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Event {
    Connected {},
    Start {
        stream_id: Option<String>,
        #[serde(default)]
        start: StartBody,
    },
    Media {
        #[serde(default, deserialize_with = "flex_u64")]
        sequence_number: Option<u64>,
        media: MediaBody,
    },
    Stop {},
    Dtmf {
        #[serde(default)]
        dtmf: Value,
    },
    Mark {
        #[serde(default)]
        mark: Value,
    },
    Error {
        #[serde(default)]
        payload: Value,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Default, Deserialize)]
pub struct StartBody {
    pub call_control_id: Option<String>,
    #[serde(default)]
    pub media_format: MediaFormat,
}

#[derive(Debug, Default, Deserialize)]
pub struct MediaFormat {
    pub encoding: Option<String>,
    #[serde(default, deserialize_with = "flex_u32")]
    pub sample_rate: Option<u32>,
    #[serde(default, deserialize_with = "flex_u32")]
    pub channels: Option<u32>,
}

impl Event {
    pub fn into_inbound(self) -> Inbound {
        match self {
            Event::Connected {} => Inbound::Connected,
            Event::Start { stream_id, start } => Inbound::Start(StartInfo {
                stream_id,
                call_id: start.call_control_id,
                encoding: start.media_format.encoding,
                sample_rate: start.media_format.sample_rate,
                channels: start.media_format.channels,
            }),
            Event::Media {
                sequence_number,
                media,
            } => Inbound::Media(media.into_media(sequence_number)),
            Event::Stop {} => Inbound::Stop,
            Event::Dtmf { dtmf } => Inbound::Dtmf(text_field(&dtmf, "digit")),
            Event::Mark { mark } => Inbound::Mark(text_field(&mark, "name")),
            Event::Error { payload } => Inbound::Error(payload.to_string()),
            Event::Unknown => Inbound::Unknown,
        }
    }
}

/// A Telnyx webhook's envelope (`{"data": {"event_type", "payload"}}`).
#[derive(Debug, Deserialize)]
pub struct Webhook {
    pub data: WebhookData,
}

#[derive(Debug, Deserialize)]
pub struct WebhookData {
    pub event_type: String,
    #[serde(default)]
    pub occurred_at: Option<String>,
    #[serde(default)]
    pub payload: WebhookPayload,
}

/// The fields of `streaming.started/stopped/failed` a diagnosis uses; unknown ones are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct WebhookPayload {
    pub call_control_id: Option<String>,
    pub stream_id: Option<String>,
    pub failure_reason: Option<String>,
    /// `streaming.started` carries the URL at the top level, `streaming.failed` in `stream_params`.
    pub stream_url: Option<String>,
    pub stream_params: Option<StreamParams>,
}

#[derive(Debug, Default, Deserialize)]
pub struct StreamParams {
    pub stream_url: Option<String>,
    /// The SDK model calls it `track`, the docs' example `stream_track`: both are read.
    #[serde(alias = "stream_track")]
    pub track: Option<String>,
}

impl WebhookPayload {
    pub fn stream_url(&self) -> Option<&str> {
        self.stream_url.as_deref().or_else(|| {
            self.stream_params
                .as_ref()
                .and_then(|p| p.stream_url.as_deref())
        })
    }
}

/// The frames Telnyx sends, for the provider stand-in.
pub fn connected(token: Option<&Secret>) -> String {
    let mut frame = json!({"event": "connected", "version": "1.0.0"});
    if let Some(token) = token {
        frame["connected"] = json!({ AUTH_TOKEN_HEADER: token.expose() });
    }
    frame.to_string()
}

pub fn start(stream_id: &str, call_id: &str, encoding: &str, sample_rate: u32) -> String {
    json!({
        "event": "start",
        "sequence_number": "1",
        "stream_id": stream_id,
        "start": {
            "user_id": "stream-doctor",
            "call_control_id": call_id,
            "call_session_id": stream_id,
            "from": "+15550100001",
            "to": "+15550100002",
            "tags": [],
            "custom_parameters": {},
            "media_format": {"encoding": encoding, "sample_rate": sample_rate, "channels": 1}
        }
    })
    .to_string()
}

pub fn media(
    stream_id: &str,
    sequence: u64,
    track: &str,
    chunk: u64,
    timestamp_ms: u64,
    payload_b64: &str,
) -> String {
    json!({
        "event": "media",
        "sequence_number": sequence.to_string(),
        "stream_id": stream_id,
        "media": {
            "track": track,
            "chunk": chunk.to_string(),
            "timestamp": timestamp_ms.to_string(),
            "payload": payload_b64,
        }
    })
    .to_string()
}

pub fn stop(stream_id: &str, call_id: &str, sequence: u64) -> String {
    json!({
        "event": "stop",
        "sequence_number": sequence.to_string(),
        "stream_id": stream_id,
        "stop": {"user_id": "stream-doctor", "call_control_id": call_id}
    })
    .to_string()
}

pub fn mark(stream_id: &str, sequence: u64, name: &str) -> String {
    json!({"event": "mark", "sequence_number": sequence.to_string(), "stream_id": stream_id, "mark": {"name": name}}).to_string()
}

/// What a server sends back to Telnyx in a bidirectional stream.
pub fn reply_media(payload_b64: &str) -> String {
    json!({"event": "media", "media": {"payload": payload_b64}}).to_string()
}

pub fn reply_mark(name: &str) -> String {
    json!({"event": "mark", "mark": {"name": name}}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_failed_reads_either_track_field() {
        for key in ["track", "stream_track"] {
            let body = format!(
                r#"{{"data":{{"record_type":"event","event_type":"streaming.failed","id":"e1","occurred_at":"2026-11-25T14:00:00Z",
                "payload":{{"call_control_id":"v2:C","failure_reason":"connection_failed","stream_id":"S",
                "stream_params":{{"stream_url":"wss://h.example/a","{key}":"inbound_track"}},"stream_type":"websocket"}}}},
                "meta":{{"attempt":1}}}}"#
            );
            let hook: Webhook = serde_json::from_str(&body).expect("parses");
            assert_eq!(hook.data.event_type, "streaming.failed");
            assert_eq!(
                hook.data.payload.failure_reason.as_deref(),
                Some("connection_failed")
            );
            assert_eq!(hook.data.payload.stream_url(), Some("wss://h.example/a"));
            let track = hook.data.payload.stream_params.and_then(|p| p.track);
            assert_eq!(track.as_deref(), Some("inbound_track"), "{key}");
        }
    }
}
