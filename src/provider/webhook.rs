//! A provider's webhook as the listener records it: every POST gets a record, whatever it held.
//! Telnyx sends JSON (`{"data": {"event_type", "occurred_at", "payload"}}`, docs/providers.md);
//! Twilio sends its stream status callbacks form-encoded (`StreamEvent`, `StreamSid`,
//! `CallSid`, `StreamError`). Each signature is judged (`signature`) and never trusted silently.

use ed25519_dalek::VerifyingKey;
use serde::Deserialize;
use time::OffsetDateTime;

use super::signature;

use crate::catalog::Provider;
use crate::records::webhook::{SignatureVerdict, WebhookRecord, WebhookShape};
use crate::secret::Secret;

/// What judging a webhook needs: the keys each provider signs with.
#[derive(Clone, Debug, Default)]
pub struct Keys {
    pub telnyx_public_key: Option<VerifyingKey>,
    pub twilio_auth_token: Option<Secret>,
}

/// Bodies over this many bytes are refused (413) and recorded without their content.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The fields of a Telnyx webhook a diagnosis uses; unknown ones are ignored.
#[derive(Debug, Deserialize)]
struct TelnyxWebhook {
    data: TelnyxData,
}

#[derive(Debug, Deserialize)]
struct TelnyxData {
    event_type: String,
    #[serde(default)]
    payload: TelnyxPayload,
}

#[derive(Debug, Default, Deserialize)]
struct TelnyxPayload {
    call_control_id: Option<String>,
    stream_id: Option<String>,
    failure_reason: Option<String>,
    /// `streaming.started` carries the URL at the top level, `streaming.failed` in
    /// `stream_params`.
    stream_url: Option<String>,
    stream_params: Option<StreamParams>,
    stream_type: Option<String>,
    connection_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct StreamParams {
    stream_url: Option<String>,
}

/// A `webhook_api_version` 1 payload: the event at the top level, no `data` wrapper.
#[derive(Debug, Deserialize)]
struct TelnyxV1 {
    event_type: String,
    #[serde(default)]
    payload: TelnyxPayload,
}

/// Records a Telnyx webhook: its signature judged with `key` at `received_at`, its fields read.
/// A JSON POST of API v2 is the usual shape; a TeXML status callback is form-encoded, a
/// `webhook_url_method` GET carries its fields in the query (`query`, the body then empty), and
/// API v1 has no `data` wrapper (docs/providers.md).
pub fn telnyx(
    key: Option<&VerifyingKey>,
    headers: &[(String, String)],
    body: &[u8],
    received_at: OffsetDateTime,
) -> WebhookRecord {
    let judged = signature::telnyx(key, headers, body, received_at.unix_timestamp());
    let mut record = WebhookRecord::new(Provider::Telnyx, judged, received_at);
    let form = || {
        url::form_urlencoded::parse(body)
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect::<Vec<_>>()
    };
    if let Ok(hook) = serde_json::from_slice::<TelnyxWebhook>(body) {
        record.event_type = hook.data.event_type;
        read_payload(&mut record, hook.data.payload);
    } else if let Ok(hook) = serde_json::from_slice::<TelnyxV1>(body) {
        record.event_type = hook.event_type;
        record.shape = Some(WebhookShape::ApiV1);
        read_payload(&mut record, hook.payload);
    } else if let Err(e) = serde_json::from_slice::<TelnyxWebhook>(body)
        && serde_json::from_slice::<serde_json::Value>(body).is_ok()
    {
        record.event_type = "(not a Telnyx webhook)".into();
        record.problem = Some(format!("JSON, but not a Telnyx webhook: {e}"));
    } else if form().iter().any(|(name, _)| name == "StreamEvent") {
        read_texml(&mut record, &form());
        record.shape = Some(WebhookShape::TexmlForm);
    } else {
        record.event_type = "(not JSON)".into();
        record.problem = Some(format!(
            "the body ({} bytes) is neither JSON nor a TeXML callback's form",
            body.len()
        ));
    }
    record
}

/// A Telnyx webhook delivered by GET: its fields are in the query. A TeXML callback's form
/// fields, or an API v2 event flattened as `data[payload][call_control_id]=...`, are read by
/// their last name. Which bytes Telnyx signs for a GET is not documented: the signature is not
/// judged, and the record says so.
pub fn telnyx_get(
    query: &str,
    headers: &[(String, String)],
    received_at: OffsetDateTime,
) -> WebhookRecord {
    let judged = match signature::has_telnyx_signature(headers) {
        true => (
            SignatureVerdict::Unchecked,
            Some("a GET delivery: which bytes Telnyx signs for one is not documented".into()),
        ),
        false => (
            SignatureVerdict::Missing,
            Some("no telnyx-signature-ed25519 header".into()),
        ),
    };
    let mut record = WebhookRecord::new(Provider::Telnyx, judged, received_at);
    record.shape = Some(WebhookShape::GetQuery);
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    if fields.iter().any(|(name, _)| name == "StreamEvent") {
        read_texml(&mut record, &fields);
        return record;
    }
    let last = |wanted: &str| {
        fields
            .iter()
            .find(|(name, _)| name == wanted || name.ends_with(&format!("[{wanted}]")))
            .map(|(_, value)| value.clone())
    };
    match last("event_type") {
        Some(event) => {
            record.event_type = event;
            read_payload(
                &mut record,
                TelnyxPayload {
                    call_control_id: last("call_control_id"),
                    stream_id: last("stream_id"),
                    failure_reason: last("failure_reason"),
                    stream_url: last("stream_url"),
                    stream_params: None,
                    stream_type: last("stream_type"),
                    connection_id: last("connection_id"),
                },
            );
        }
        None => {
            record.event_type = "(not a Telnyx webhook)".into();
            record.problem = Some(format!(
                "a GET whose query has no event_type or StreamEvent ({} field(s))",
                fields.len()
            ));
        }
    }
    record
}

fn read_payload(record: &mut WebhookRecord, payload: TelnyxPayload) {
    record.call_control_id = payload.call_control_id;
    record.stream_id = payload.stream_id;
    record.failure_reason = payload.failure_reason;
    record.stream_url = payload
        .stream_url
        .or_else(|| payload.stream_params.and_then(|p| p.stream_url));
    record.stream_type = payload.stream_type;
    record.connection_id = payload.connection_id;
}

/// A TeXML stream status callback's fields (`StreamEvent`: `stream-started`, `stream-stopped`,
/// `stream-error`; the verb's page also shows `stream-failed`).
fn read_texml(record: &mut WebhookRecord, fields: &[(String, String)]) {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    record.event_type = field("StreamEvent").unwrap_or_default();
    record.stream_id = field("StreamSid");
    record.call_control_id = field("CallSid");
    record.failure_reason = field("StreamError");
}

/// Records a Twilio stream status callback; `url` is the URL the provider called.
pub fn twilio(
    auth_token: Option<&Secret>,
    headers: &[(String, String)],
    url: &str,
    body: &[u8],
    received_at: OffsetDateTime,
) -> WebhookRecord {
    // A JSON callback says so in its URL (bodySHA256); its fields are read from the object.
    let (params, judged) = if signature::twilio_body_hash(url).is_some() {
        let fields = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body)
            .map(|object| {
                object
                    .into_iter()
                    .filter_map(|(name, value)| match value {
                        serde_json::Value::String(text) => Some((name, text)),
                        serde_json::Value::Null => None,
                        other => Some((name, other.to_string())),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let judged = signature::twilio_json(auth_token, headers, url, body);
        (fields, judged)
    } else if body.is_empty() {
        // A GET (StatusCallbackMethod): the fields ride in the signed URL's query.
        let query = url.split_once('?').map_or("", |(_, q)| q);
        let fields = url::form_urlencoded::parse(query.as_bytes())
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        (fields, signature::twilio(auth_token, headers, url, &[]))
    } else {
        let params: Vec<(String, String)> = url::form_urlencoded::parse(body)
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        let judged = signature::twilio(auth_token, headers, url, &params);
        (params, judged)
    };
    let mut record = WebhookRecord::new(Provider::Twilio, judged, received_at);
    let field = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    match field("StreamEvent") {
        Some(event) => {
            record.event_type = event;
            record.stream_id = field("StreamSid");
            record.call_control_id = field("CallSid");
            record.failure_reason = field("StreamError");
            record.stream_url = field("StreamUrl");
        }
        None => {
            record.event_type = "(not a stream status callback)".into();
            record.problem = Some("no StreamEvent field in the form".into());
        }
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::webhook::SignatureVerdict;

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2026-11-25 14:00 UTC)
    }

    #[test]
    fn a_telnyx_failure_is_read_with_either_track_field() {
        for key in ["track", "stream_track"] {
            let body = format!(
                r#"{{"data":{{"record_type":"event","event_type":"streaming.failed","id":"e1","occurred_at":"2026-11-25T14:00:00Z",
                "payload":{{"call_control_id":"v3:C","failure_reason":"connection_failed","stream_id":"S",
                "stream_params":{{"stream_url":"wss://h.example/a","{key}":"inbound_track"}},"stream_type":"websocket"}}}},
                "meta":{{"attempt":1}}}}"#
            );
            let record = telnyx(None, &[], body.as_bytes(), now());
            assert_eq!(record.event_type, "streaming.failed");
            assert_eq!(record.stream_type.as_deref(), Some("websocket"));
            assert_eq!(record.failure_reason.as_deref(), Some("connection_failed"));
            assert_eq!(record.stream_url.as_deref(), Some("wss://h.example/a"));
            assert!(record.is_failed() && record.readable());
            assert_eq!(record.signature, SignatureVerdict::Missing);
        }
    }

    #[test]
    fn bodies_that_are_not_webhooks_are_still_recorded() {
        let garbage = telnyx(None, &[], b"\x00\xffnot json", now());
        assert_eq!(garbage.event_type, "(not JSON)");
        assert!(!garbage.readable());
        let other = telnyx(None, &[], br#"{"hello":1}"#, now());
        assert_eq!(other.event_type, "(not a Telnyx webhook)");
        let form = twilio(None, &[], "https://h/webhooks/twilio", b"a=1", now());
        assert_eq!(form.event_type, "(not a stream status callback)");
    }

    #[test]
    fn a_twilio_stream_error_is_read_from_its_form() {
        let body = b"AccountSid=AC1&CallSid=CA1&StreamSid=MZ1&StreamEvent=stream-error&StreamError=Connection+timeout&Timestamp=x";
        let record = twilio(None, &[], "https://h/webhooks/twilio", body, now());
        assert_eq!(record.event_type, "stream-error");
        assert_eq!(record.call_control_id.as_deref(), Some("CA1"));
        assert_eq!(record.stream_id.as_deref(), Some("MZ1"));
        assert_eq!(record.failure_reason.as_deref(), Some("Connection timeout"));
        assert!(record.is_failed());
    }
}
