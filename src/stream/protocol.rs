//! One small interface both providers implement: the field names their messages use, the ids a
//! new stream carries, the parts of their messages that differ (`connected`, the provider's own
//! fields in `start`, the body of `stop`, how a codec is named), and what their upgrade request
//! sends. What the two share (reading a message, the envelope of event, sequence number and
//! stream id) is written once, here and in `script`.

use serde::Deserialize;
use serde_json::{Map, Value};

use time::OffsetDateTime;

use super::flex::{flex_u64, number};
use super::{Inbound, Media, ParseError, Provider, StartInfo};
use crate::audio::Codec;
use crate::provider::webhook;
use crate::records::exchange::UpgradeAuth;
use crate::records::webhook::WebhookRecord;
use crate::secret::Secret;

/// The field names a provider gives the parts of its messages.
pub(crate) struct Keys {
    /// Top level (and, for Twilio, inside `start` too).
    pub stream_id: &'static str,
    pub sequence: &'static str,
    /// Inside `start`.
    pub call_id: &'static str,
    pub media_format: &'static str,
    /// Inside the media format.
    pub sample_rate: &'static str,
    /// Inside `start`: the names and values the stream was started with.
    pub custom_parameters: &'static str,
}

/// One webhook POST as the listener read it, for the provider it claims to come from.
pub(crate) struct WebhookPost<'a> {
    pub keys: &'a webhook::Keys,
    /// A GET carries its fields in the URL's query, and no body.
    pub get: bool,
    pub headers: &'a [(String, String)],
    /// The URL the provider called, as the edge in front received it.
    pub url: &'a str,
    pub body: &'a [u8],
    pub received_at: OffsetDateTime,
}

/// The ids one stream carries in its messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ids {
    pub stream_id: String,
    pub call_id: String,
}

pub(crate) trait Protocol: Sync {
    fn provider(&self) -> Provider;
    fn keys(&self) -> &'static Keys;
    /// Fresh ids in the provider's own shapes.
    fn new_ids(&self) -> Ids;
    /// The first message of a stream (the auth token rides in it where the provider sends one).
    fn connected(&self, token: Option<&Secret>) -> Value;
    /// The provider's own fields inside `start`, beside the call id and the media format.
    fn start_fields(&self, ids: &Ids, tracks: &[&str]) -> Map<String, Value>;
    /// What `stop` carries.
    fn stop_body(&self, ids: &Ids) -> Value;
    /// The name `media_format.encoding` gives this codec.
    fn encoding(&self, codec: Codec) -> &'static str;
    /// Headers the provider's upgrade request carries beside the standard ones.
    fn upgrade_headers(&self, auth: &UpgradeAuth<'_>) -> Vec<(String, String)>;
    /// Whether the server's replies must name the stream they belong to.
    fn replies_name_the_stream(&self) -> bool;
    /// Reads one webhook this provider sent, its signature judged with the keys given.
    fn webhook(&self, post: &WebhookPost<'_>) -> WebhookRecord;
}

/// The `media` object both providers send, with the same field names.
#[derive(Debug, Deserialize)]
struct MediaBody {
    track: Option<String>,
    #[serde(default, deserialize_with = "flex_u64")]
    chunk: Option<u64>,
    #[serde(default, deserialize_with = "flex_u64")]
    timestamp: Option<u64>,
    payload: String,
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

/// The string at `path` inside `value`, empty when absent.
pub(crate) fn text_at(value: &Value, path: &[&str]) -> String {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// What an `error` message says: its `payload`'s code, title and detail where it has them (the
/// shape Telnyx's older docs give; the body is not confirmed), else the payload, else the whole
/// message as sent: never a bare `null`.
fn error_detail(value: &Value) -> String {
    let Some(payload) = value.get("payload").filter(|p| !p.is_null()) else {
        return value.to_string();
    };
    let field = |key: &str| match payload.get(key) {
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    };
    match (field("code"), field("title"), field("detail")) {
        (None, None, None) => payload.to_string(),
        (code, title, detail) => {
            let head: Vec<String> = [code, title].into_iter().flatten().collect();
            match detail {
                Some(detail) if head.is_empty() => detail,
                Some(detail) => format!("{}: {detail}", head.join(" ")),
                None => head.join(" "),
            }
        }
    }
}

/// Reads a message whose `event` is known, with the field names `keys` gives.
pub(crate) fn read(keys: &Keys, value: &Value, event: String) -> Result<Inbound, ParseError> {
    Ok(match event.as_str() {
        "connected" => Inbound::Connected,
        "start" => {
            let start = value.get("start").unwrap_or(&Value::Null);
            let format = start.get(keys.media_format).unwrap_or(&Value::Null);
            let small = |v: Option<&Value>| number(v).and_then(|n| u32::try_from(n).ok());
            Inbound::Start(StartInfo {
                stream_id: text(value, keys.stream_id).or_else(|| text(start, keys.stream_id)),
                call_id: text(start, keys.call_id),
                encoding: text(format, "encoding"),
                sample_rate: small(format.get(keys.sample_rate)),
                channels: small(format.get("channels")),
                custom_parameters: start
                    .get(keys.custom_parameters)
                    .and_then(Value::as_object)
                    .map(|object| {
                        object
                            .iter()
                            .map(|(name, value)| {
                                let value = match value {
                                    Value::String(text) => text.clone(),
                                    other => other.to_string(),
                                };
                                (name.clone(), value)
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        }
        "media" => {
            let media = value
                .get("media")
                .ok_or_else(|| ParseError::WrongShape("a media event without `media`".into()))?;
            let body = MediaBody::deserialize(media)
                .map_err(|e| ParseError::WrongShape(format!("media: {e}")))?;
            Inbound::Media(Media {
                // A frame without a track is the inbound one.
                track: body.track.unwrap_or_else(|| "inbound".into()),
                sequence: number(value.get(keys.sequence)),
                chunk: body.chunk,
                timestamp_ms: body.timestamp,
                payload_b64: body.payload,
            })
        }
        "stop" => Inbound::Stop,
        "dtmf" => Inbound::Dtmf(text_at(value, &["dtmf", "digit"])),
        "mark" => Inbound::Mark(text_at(value, &["mark", "name"])),
        "error" => Inbound::Error(error_detail(value)),
        _ => Inbound::Unknown(event),
    })
}
