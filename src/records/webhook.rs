//! A provider's webhook as the listener records it (one record per POST, whatever it held) and
//! how its signature was judged. Reading the body and judging the signature are `provider`'s.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::catalog::Provider;

/// How a webhook's signature was judged; the signature itself is never kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureVerdict {
    Valid,
    /// Wrong key, changed body, a timestamp too far away, or malformed (the problem says).
    Invalid,
    /// The provider's signature headers were not there.
    Missing,
    /// No key was given to judge it with.
    Unchecked,
}

impl SignatureVerdict {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SignatureVerdict::Valid => "valid",
            SignatureVerdict::Invalid => "invalid",
            SignatureVerdict::Missing => "missing",
            SignatureVerdict::Unchecked => "unchecked",
        }
    }
}

/// A webhook in a shape other than its provider's usual one (Telnyx: a JSON POST of API v2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookShape {
    /// A TeXML status callback: form fields (`StreamEvent`, `StreamSid`, `CallSid`, ...).
    TexmlForm,
    /// Delivered by GET (`webhook_url_method`), its fields in the query.
    GetQuery,
    /// A `webhook_api_version` 1 payload: no `data` wrapper.
    ApiV1,
}

impl WebhookShape {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            WebhookShape::TexmlForm => "a TeXML form callback",
            WebhookShape::GetQuery => "delivered by GET",
            WebhookShape::ApiV1 => "webhook API v1",
        }
    }
}

/// A verdict and, when it is not `valid`, the step that decided it.
pub(crate) type Judged = (SignatureVerdict, Option<String>);

/// One webhook as received (the `webhooks` array of docs/streams.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookRecord {
    /// `streaming.started`, `stream-error`, … or what the body was instead of a webhook.
    pub event_type: String,
    pub signature: SignatureVerdict,
    /// The step that decided a verdict other than `valid`.
    #[serde(default)]
    pub signature_problem: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    pub call_control_id: Option<String>,
    pub stream_id: Option<String>,
    pub failure_reason: Option<String>,
    pub stream_url: Option<String>,
    /// `websocket`, or `dialogflow` (then no WebSocket was tried at all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_type: Option<String>,
    /// The Call Control application the call belongs to (`telnyx app ID` reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    /// Why the body could not be read as a webhook, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Its shape, when not the provider's usual one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<WebhookShape>,
}

impl WebhookRecord {
    /// An empty record of a POST from `provider`, its signature judged.
    pub(crate) fn new(provider: Provider, judged: Judged, received_at: OffsetDateTime) -> Self {
        Self {
            event_type: String::new(),
            signature: judged.0,
            signature_problem: judged.1,
            received_at,
            call_control_id: None,
            stream_id: None,
            failure_reason: None,
            stream_url: None,
            stream_type: None,
            connection_id: None,
            provider: Some(provider),
            remote: None,
            problem: None,
            shape: None,
        }
    }

    /// A POST that was not read: too large, or cut off.
    pub(crate) fn unread(provider: Provider, problem: String, received_at: OffsetDateTime) -> Self {
        let judged = (
            SignatureVerdict::Unchecked,
            Some("the body was not read".into()),
        );
        Self {
            event_type: "(unread)".into(),
            problem: Some(problem),
            ..Self::new(provider, judged, received_at)
        }
    }

    /// The `streaming.started` (Telnyx) or `stream-started` (Twilio) of a stream.
    pub(crate) fn is_started(&self) -> bool {
        matches!(
            self.event_type.as_str(),
            "streaming.started" | "stream-started"
        )
    }

    /// What a failure's finding adds to its reason: a Dialogflow stream (no WebSocket tried),
    /// and the application to read next.
    pub fn failure_context(&self) -> String {
        failure_context(self.stream_type.as_deref(), self.connection_id.as_deref())
    }

    /// A failure the provider reports for a stream.
    pub(crate) fn is_failed(&self) -> bool {
        matches!(
            self.event_type.as_str(),
            "streaming.failed" | "stream-error" | "stream-failed"
        )
    }

    /// The body could be read as the provider's webhook.
    pub(crate) fn readable(&self) -> bool {
        self.problem.is_none()
    }
}

/// What a `streaming.failed` adds to its reason, from its `stream_type` and `connection_id`.
pub fn failure_context(stream_type: Option<&str>, connection_id: Option<&str>) -> String {
    let mut context = String::new();
    if stream_type == Some("dialogflow") {
        context.push_str("; a Dialogflow stream: no WebSocket was tried at all");
    }
    if let Some(id) = connection_id {
        context.push_str(&format!(
            "; application {id} (`stream-doctor telnyx app {id}` shows where its webhooks go)"
        ));
    }
    context
}
