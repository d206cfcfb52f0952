//! Telnyx media streams (shapes in shared/design/telnyx-facts.md): `stream_id` at the top
//! level, `sequence_number`, `chunk` and `timestamp` as strings, `media_format` inside `start`,
//! the auth token in the `x-telnyx-streaming-auth-token` header and in `connected`; and the
//! webhooks Telnyx sends about a stream.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Provider;
use super::protocol::{Ids, Keys, Protocol};
use crate::audio::Codec;
use crate::secret::Secret;

/// The header Telnyx sends the `stream_auth_token` in (and the key of it in `connected`).
pub const AUTH_TOKEN_HEADER: &str = "x-telnyx-streaming-auth-token";

pub struct Telnyx;

static KEYS: Keys = Keys {
    stream_id: "stream_id",
    sequence: "sequence_number",
    call_id: "call_control_id",
    media_format: "media_format",
    sample_rate: "sample_rate",
};

impl Protocol for Telnyx {
    fn provider(&self) -> Provider {
        Provider::Telnyx
    }

    fn keys(&self) -> &'static Keys {
        &KEYS
    }

    fn new_ids(&self) -> Ids {
        let call = uuid::Uuid::new_v4().simple().to_string();
        Ids {
            stream_id: uuid::Uuid::new_v4().to_string(),
            call_id: format!("v2:stream-doctor-{}", &call[..12]),
        }
    }

    fn connected(&self, token: Option<&Secret>) -> Value {
        let mut frame = json!({"event": "connected", "version": "1.0.0"});
        if let Some(token) = token {
            frame["connected"] = json!({ AUTH_TOKEN_HEADER: token.expose() });
        }
        frame
    }

    fn start_fields(&self, ids: &Ids, _tracks: &[&str]) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("user_id".into(), "stream-doctor".into());
        fields.insert("call_session_id".into(), ids.stream_id.clone().into());
        fields.insert("from".into(), "+15550100001".into());
        fields.insert("to".into(), "+15550100002".into());
        fields.insert("tags".into(), json!([]));
        fields.insert("custom_parameters".into(), json!({}));
        fields
    }

    fn stop_body(&self, ids: &Ids) -> Value {
        json!({"user_id": "stream-doctor", "call_control_id": ids.call_id})
    }

    fn encoding(&self, codec: Codec) -> &'static str {
        codec.name()
    }

    fn upgrade_headers(&self, token: Option<&Secret>) -> Vec<(String, String)> {
        token
            .map(|t| (AUTH_TOKEN_HEADER.to_string(), t.expose().to_string()))
            .into_iter()
            .collect()
    }

    fn replies_name_the_stream(&self) -> bool {
        false
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
