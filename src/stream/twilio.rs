//! Twilio Media Streams messages, both directions: camelCase fields, `streamSid`,
//! `sequenceNumber` as a string, `mediaFormat` with a MIME encoding inside `start`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::flex::{flex_u32, flex_u64};
use super::{Inbound, MediaBody, StartInfo, text_field};

#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Event {
    Connected {},
    Start {
        #[serde(rename = "streamSid")]
        stream_sid: Option<String>,
        #[serde(default)]
        start: StartBody,
    },
    Media {
        #[serde(rename = "sequenceNumber", default, deserialize_with = "flex_u64")]
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
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartBody {
    pub stream_sid: Option<String>,
    pub call_sid: Option<String>,
    #[serde(default)]
    pub media_format: MediaFormat,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
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
            Event::Start { stream_sid, start } => Inbound::Start(StartInfo {
                stream_id: stream_sid.or(start.stream_sid),
                call_id: start.call_sid,
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
            Event::Unknown => Inbound::Unknown,
        }
    }
}

/// The frames Twilio sends, for the provider stand-in.
pub fn connected() -> String {
    json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}).to_string()
}

pub fn start(
    stream_sid: &str,
    call_sid: &str,
    mime: &str,
    sample_rate: u32,
    tracks: &[&str],
) -> String {
    json!({
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": stream_sid,
        "start": {
            "accountSid": "ACstreamdoctor",
            "streamSid": stream_sid,
            "callSid": call_sid,
            "tracks": tracks,
            "customParameters": {},
            "mediaFormat": {"encoding": mime, "sampleRate": sample_rate, "channels": 1}
        }
    })
    .to_string()
}

pub fn media(
    stream_sid: &str,
    sequence: u64,
    track: &str,
    chunk: u64,
    timestamp_ms: u64,
    payload_b64: &str,
) -> String {
    json!({
        "event": "media",
        "sequenceNumber": sequence.to_string(),
        "streamSid": stream_sid,
        "media": {"track": track, "chunk": chunk.to_string(), "timestamp": timestamp_ms.to_string(), "payload": payload_b64}
    })
    .to_string()
}

pub fn stop(stream_sid: &str, call_sid: &str, sequence: u64) -> String {
    json!({
        "event": "stop",
        "sequenceNumber": sequence.to_string(),
        "streamSid": stream_sid,
        "stop": {"accountSid": "ACstreamdoctor", "callSid": call_sid}
    })
    .to_string()
}

pub fn mark(stream_sid: &str, sequence: u64, name: &str) -> String {
    json!({"event": "mark", "sequenceNumber": sequence.to_string(), "streamSid": stream_sid, "mark": {"name": name}}).to_string()
}

pub fn reply_media(stream_sid: &str, payload_b64: &str) -> String {
    json!({"event": "media", "streamSid": stream_sid, "media": {"payload": payload_b64}})
        .to_string()
}

pub fn reply_mark(stream_sid: &str, name: &str) -> String {
    json!({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}}).to_string()
}
