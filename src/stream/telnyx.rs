//! Telnyx media streams (shapes in docs/providers.md): `stream_id` at the top
//! level, `sequence_number`, `chunk` and `timestamp` as strings, `media_format` inside `start`,
//! the auth token in the `x-telnyx-streaming-auth-token` header and in `connected`. Its
//! webhooks are the provider module's.

use serde_json::{Map, Value, json};

use super::Provider;
use super::protocol::{Ids, Keys, Protocol, WebhookPost};
use crate::audio::Codec;
use crate::provider::webhook;
use crate::records::exchange::UpgradeAuth;
use crate::records::webhook::WebhookRecord;
use crate::secret::Secret;

/// The header Telnyx sends the `stream_auth_token` in (and the key of it in `connected`).
pub(crate) const AUTH_TOKEN_HEADER: &str = "x-telnyx-streaming-auth-token";

pub(crate) struct Telnyx;

static KEYS: Keys = Keys {
    stream_id: "stream_id",
    sequence: "sequence_number",
    call_id: "call_control_id",
    media_format: "media_format",
    sample_rate: "sample_rate",
    custom_parameters: "custom_parameters",
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
        fields
    }

    fn stop_body(&self, ids: &Ids) -> Value {
        json!({"user_id": "stream-doctor", "call_control_id": ids.call_id})
    }

    fn encoding(&self, codec: Codec) -> &'static str {
        codec.name()
    }

    fn upgrade_headers(&self, auth: &UpgradeAuth<'_>) -> Vec<(String, String)> {
        auth.stream_token
            .map(|t| (AUTH_TOKEN_HEADER.to_string(), t.expose().to_string()))
            .into_iter()
            .collect()
    }

    fn replies_name_the_stream(&self) -> bool {
        false
    }

    fn webhook(&self, post: &WebhookPost<'_>) -> WebhookRecord {
        if post.get {
            let query = post.url.split_once('?').map_or("", |(_, q)| q);
            return webhook::telnyx_get(query, post.headers, post.received_at);
        }
        webhook::telnyx(
            post.keys.telnyx_public_key.as_ref(),
            post.headers,
            post.body,
            post.received_at,
        )
    }
}
