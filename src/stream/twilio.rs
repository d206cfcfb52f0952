//! Twilio Media Streams: camelCase fields, `streamSid`, `sequenceNumber` as a string,
//! `mediaFormat` with a MIME encoding inside `start`, and replies that name their stream.

use serde_json::{Map, Value, json};

use super::Provider;
use super::protocol::{Ids, Keys, Protocol, WebhookPost};
use crate::audio::Codec;
use crate::provider::signature::twilio_sign;
use crate::provider::webhook;
use crate::records::exchange::UpgradeAuth;
use crate::records::webhook::WebhookRecord;
use crate::secret::Secret;

/// The header Twilio's signature rides in, spelled as Twilio sends it.
const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

pub(crate) struct Twilio;

static KEYS: Keys = Keys {
    stream_id: "streamSid",
    sequence: "sequenceNumber",
    call_id: "callSid",
    media_format: "mediaFormat",
    sample_rate: "sampleRate",
    custom_parameters: "customParameters",
};

const ACCOUNT_SID: &str = "ACstreamdoctor";

impl Protocol for Twilio {
    fn provider(&self) -> Provider {
        Provider::Twilio
    }

    fn keys(&self) -> &'static Keys {
        &KEYS
    }

    fn new_ids(&self) -> Ids {
        Ids {
            stream_id: format!("MZ{}", uuid::Uuid::new_v4().simple()),
            call_id: format!("CA{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// Twilio has no stream auth token: its `connected` is always the same.
    fn connected(&self, _token: Option<&Secret>) -> Value {
        json!({"event": "connected", "protocol": "Call", "version": "1.0.0"})
    }

    fn start_fields(&self, ids: &Ids, tracks: &[&str]) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("accountSid".into(), ACCOUNT_SID.into());
        fields.insert("streamSid".into(), ids.stream_id.clone().into());
        fields.insert("tracks".into(), json!(tracks));
        fields
    }

    fn stop_body(&self, ids: &Ids) -> Value {
        json!({"accountSid": ACCOUNT_SID, "callSid": ids.call_id})
    }

    fn encoding(&self, codec: Codec) -> &'static str {
        codec.mime()
    }

    /// Twilio signs the stream's upgrade as it signs a request without POST parameters:
    /// HMAC-SHA1 of the URL under the account's auth token, base64, in `X-Twilio-Signature`
    /// (its security page tells Media Streams servers to validate it). Which exact form of the
    /// URL it signs is not documented; field reports say the `wss://` URL as given, query
    /// included, which is what is signed here.
    fn upgrade_headers(&self, auth: &UpgradeAuth<'_>) -> Vec<(String, String)> {
        auth.account_token
            .map(|token| {
                let signature = twilio_sign(token.expose(), auth.url, &[]);
                (SIGNATURE_HEADER.to_string(), signature)
            })
            .into_iter()
            .collect()
    }

    fn replies_name_the_stream(&self) -> bool {
        true
    }

    fn webhook(&self, post: &WebhookPost<'_>) -> WebhookRecord {
        webhook::twilio(
            post.keys.twilio_auth_token.as_ref(),
            post.headers,
            post.url,
            post.body,
            post.received_at,
        )
    }
}
