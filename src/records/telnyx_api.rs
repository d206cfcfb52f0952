//! What the provider's REST API answered, as records: the request made, the `data` got, and
//! that `data` decoded once (`Typed`) into typed views (a webhook delivery and its attempts, a
//! call event, a call's status, a Call Control application) which both the findings and the
//! printouts read. Views are lenient (every field optional, `null` as absent, unknown fields
//! ignored, both documented shapes of an attempt's errors), and an item that still does not
//! read is kept as unreadable with an excerpt, never dropped. Asking the API is
//! `provider::api`'s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::{CauseId, Finding, Severity};
use crate::records::webhook::failure_context;

/// `null` reads as the default, as an absent field does: a provider may send either.
fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// One item of an answer: read into its view, or kept with why it could not be.
#[derive(Clone, Debug, PartialEq)]
pub enum Item<T> {
    Read(T),
    Unreadable { why: String, excerpt: String },
}

/// How much of an unreadable item is shown.
const EXCERPT_CHARS: usize = 160;

impl<T: serde::de::DeserializeOwned> Item<T> {
    pub(crate) fn of(value: &Value) -> Self {
        match serde_json::from_value(value.clone()) {
            Ok(read) => Item::Read(read),
            Err(e) => Item::Unreadable {
                why: e.to_string(),
                excerpt: value.to_string().chars().take(EXCERPT_CHARS).collect(),
            },
        }
    }
}

impl<T> Item<T> {
    pub(crate) fn read(&self) -> Option<&T> {
        match self {
            Item::Read(read) => Some(read),
            Item::Unreadable { .. } => None,
        }
    }
}

/// Every item of a list answer, in order.
fn list<T: serde::de::DeserializeOwned>(data: &Value) -> Vec<Item<T>> {
    data.as_array()
        .map(|items| items.iter().map(Item::of).collect())
        .unwrap_or_default()
}

/// An answer's `data`, decoded once into what it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Typed {
    /// Not decoded: an answer no view reads.
    #[default]
    Raw,
    Deliveries(Vec<Item<Delivery>>),
    Events(Vec<Item<CallEvent>>),
    Call(Item<CallStatus>),
    App(Item<Application>),
    Action(Item<ActionResult>),
}

impl Typed {
    pub(crate) fn deliveries(data: &Value) -> Self {
        Typed::Deliveries(list(data))
    }

    pub(crate) fn events(data: &Value) -> Self {
        Typed::Events(list(data))
    }

    pub(crate) fn call(data: &Value) -> Self {
        Typed::Call(Item::of(data))
    }

    pub(crate) fn app(data: &Value) -> Self {
        Typed::App(Item::of(data))
    }

    pub(crate) fn action(data: &Value) -> Self {
        Typed::Action(Item::of(data))
    }

    /// The findings the answer supports.
    pub(crate) fn findings(&self) -> Vec<Finding> {
        match self {
            Typed::Deliveries(items) => delivery_findings(items.iter().filter_map(Item::read)),
            Typed::Events(items) => event_findings(items.iter().filter_map(Item::read)),
            _ => Vec::new(),
        }
    }
}

/// A webhook delivery and its attempts, most recent first as the provider lists them.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Delivery {
    #[serde(default, deserialize_with = "or_default")]
    pub status: String,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default, deserialize_with = "or_default")]
    pub webhook: DeliveredWebhook,
    #[serde(default, deserialize_with = "or_default")]
    pub attempts: Vec<Attempt>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct DeliveredWebhook {
    #[serde(default, deserialize_with = "or_default")]
    pub event_type: String,
    #[serde(default)]
    pub payload: Value,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Attempt {
    #[serde(default, deserialize_with = "or_default")]
    pub status: String,
    #[serde(default, deserialize_with = "or_default")]
    pub errors: Vec<AttemptError>,
    #[serde(default)]
    pub http: Option<AttemptHttp>,
}

/// An attempt's error, in either shape the provider documents: a bare code (`75499`, the SDK
/// and the newer reference) or an object (`{"code": "75499", "title": …}`, the older one).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum AttemptError {
    Code(i64),
    Detailed {
        #[serde(default)]
        code: Value,
        #[serde(default)]
        title: Option<String>,
    },
    Text(String),
}

impl std::fmt::Display for AttemptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttemptError::Code(code) => write!(f, "{code}"),
            AttemptError::Detailed { code, title } => {
                match code {
                    Value::String(code) => f.write_str(code)?,
                    Value::Null => f.write_str("?")?,
                    other => write!(f, "{other}")?,
                }
                match title {
                    Some(title) => write!(f, " {title}"),
                    None => Ok(()),
                }
            }
            AttemptError::Text(text) => f.write_str(text),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct AttemptHttp {
    #[serde(default)]
    pub request: Option<Value>,
    #[serde(default)]
    pub response: Option<AttemptResponse>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct AttemptResponse {
    #[serde(default)]
    pub status: Option<u16>,
    /// What the user's server answered (the provider keeps up to 10 kB): often its own error
    /// page.
    #[serde(default)]
    pub body: Option<String>,
}

impl Delivery {
    pub(crate) fn call_id(&self) -> Option<String> {
        StreamingPayload::read(&self.webhook.payload).call_control_id
    }

    /// What each attempt got, most recent first: an HTTP status (with the first line of the
    /// body the user's server answered), or its errors.
    pub(crate) fn attempt_results(&self) -> Vec<String> {
        self.attempts
            .iter()
            .map(|a| {
                let response = a.http.as_ref().and_then(|h| h.response.as_ref());
                match response.and_then(|r| r.status) {
                    Some(status) => {
                        let said = response
                            .and_then(|r| r.body.as_deref())
                            .and_then(|b| b.lines().map(str::trim).find(|l| !l.is_empty()))
                            .map(|line| {
                                let line: String = line.chars().take(80).collect();
                                format!(": {line:?}")
                            })
                            .unwrap_or_default();
                        format!("HTTP {status}{said}")
                    }
                    None if !a.errors.is_empty() => {
                        let codes: Vec<String> = a.errors.iter().map(ToString::to_string).collect();
                        format!("error {}", codes.join(", "))
                    }
                    None => a.status.clone(),
                }
            })
            .collect()
    }
}

/// One entry of `GET /call_events`: a command the provider received or a webhook it sent.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct CallEvent {
    #[serde(default)]
    pub event_timestamp: Option<String>,
    #[serde(default, deserialize_with = "or_default")]
    pub name: String,
    /// `command` or `webhook`.
    #[serde(default, rename = "type", deserialize_with = "or_default")]
    pub kind: String,
    #[serde(default)]
    pub call_leg_id: Option<String>,
    /// The raw event plus extras.
    #[serde(default)]
    pub metadata: Value,
}

impl CallEvent {
    pub(crate) fn is_streaming(&self) -> bool {
        self.name.contains("streaming")
    }

    /// The event's payload, wherever in `metadata` this kind of entry keeps it.
    fn payload(&self) -> &Value {
        ["/payload", "/data/payload", "/body/data/payload"]
            .iter()
            .find_map(|p| self.metadata.pointer(p))
            .unwrap_or(&Value::Null)
    }
}

/// `GET /calls/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct CallStatus {
    #[serde(default)]
    pub call_control_id: Option<String>,
    #[serde(default)]
    pub call_leg_id: Option<String>,
    #[serde(default)]
    pub call_session_id: Option<String>,
    #[serde(default)]
    pub is_alive: Option<bool>,
    /// Seconds.
    #[serde(default)]
    pub call_duration: Option<f64>,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
}

/// `GET /call_control_applications/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Application {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub application_name: Option<String>,
    #[serde(default)]
    pub webhook_event_url: Option<String>,
    #[serde(default)]
    pub webhook_event_failover_url: Option<String>,
    /// "1" or "2".
    #[serde(default)]
    pub webhook_api_version: Option<String>,
    #[serde(default)]
    pub webhook_timeout_secs: Option<u64>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub first_command_timeout: Option<bool>,
    #[serde(default)]
    pub first_command_timeout_secs: Option<u64>,
}

/// The answer to a call action (`streaming_start`, `streaming_stop`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct ActionResult {
    #[serde(default)]
    pub result: Option<String>,
}

/// The payload of a streaming webhook, as far as a finding reads it.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StreamingPayload {
    #[serde(default)]
    pub call_control_id: Option<String>,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub stream_url: Option<String>,
    #[serde(default)]
    pub stream_params: StreamParams,
    #[serde(default)]
    pub stream_type: Option<String>,
    #[serde(default)]
    pub connection_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct StreamParams {
    #[serde(default)]
    pub stream_url: Option<String>,
}

impl StreamingPayload {
    pub(crate) fn read(payload: &Value) -> Self {
        serde_json::from_value(payload.clone()).unwrap_or_default()
    }

    /// Why it failed, and the URL it was for (`stream_params.stream_url` in the SDK,
    /// `stream_url` elsewhere).
    fn failure(&self) -> (&str, &str) {
        let reason = self.failure_reason.as_deref().unwrap_or("no reason given");
        let url = self
            .stream_params
            .stream_url
            .as_deref()
            .or(self.stream_url.as_deref())
            .unwrap_or("not given");
        (reason, url)
    }
}

/// A `streaming.failed` among a call's events means the stream failed.
fn event_findings<'a>(events: impl Iterator<Item = &'a CallEvent>) -> Vec<Finding> {
    events
        .filter(|e| e.kind == "webhook" && e.name == "streaming.failed")
        .map(|event| {
            let payload = StreamingPayload::read(event.payload());
            let (reason, url) = payload.failure();
            Finding {
                cause: CauseId::ProviderStreamFailed,
                summary: format!(
                    "the call's events have streaming.failed at {}: {reason} (stream_url {url}){}",
                    event
                        .event_timestamp
                        .as_deref()
                        .unwrap_or("an unknown time"),
                    failure_context(
                        payload.stream_type.as_deref(),
                        payload.connection_id.as_deref()
                    )
                ),
                severity: None,
            }
        })
        .collect()
}

/// A `streaming.failed` delivered means the stream failed; deliveries that failed (or needed
/// several attempts) mean the webhook URL itself is hard to reach.
fn delivery_findings<'a>(deliveries: impl Iterator<Item = &'a Delivery>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for delivery in deliveries {
        let call = delivery
            .call_id()
            .unwrap_or_else(|| "an unknown call".into());
        if delivery.webhook.event_type == "streaming.failed" {
            let payload = StreamingPayload::read(&delivery.webhook.payload);
            let (reason, url) = payload.failure();
            findings.push(Finding {
                cause: CauseId::ProviderStreamFailed,
                summary: format!(
                    "the delivery log has streaming.failed for {call} at {}: {reason} (stream_url {url}){}",
                    delivery.started_at.as_deref().unwrap_or("an unknown time"),
                    failure_context(payload.stream_type.as_deref(), payload.connection_id.as_deref())
                ), severity: None,
            });
        }
        let failed_attempts = delivery
            .attempts
            .iter()
            .filter(|a| a.status == "failed")
            .count();
        if delivery.status == "failed" || failed_attempts > 0 {
            let never = delivery.status == "failed";
            let outcome = if never {
                "never delivered".to_string()
            } else {
                format!("delivered after {failed_attempts} failed attempt(s)")
            };
            findings.push(Finding {
                cause: CauseId::ProviderWebhooksNotDelivered,
                summary: format!(
                    "{} for {call}: {outcome} ({})",
                    delivery.webhook.event_type,
                    delivery.attempt_results().join(", ")
                ),
                severity: never.then_some(Severity::Fail),
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_support_findings() {
        let data = serde_json::json!([
            {"id": "d1", "status": "delivered", "started_at": "2026-11-25T14:02:11Z",
             "webhook": {"event_type": "streaming.failed", "payload": {"call_control_id": "v3:A",
                "failure_reason": "connection_failed", "stream_params": {"stream_url": "wss://h/a"}}},
             "attempts": [{"status": "delivered", "http": {"response": {"status": 200, "headers": [["a", "b"]], "body": "ok"}}},
                          {"status": "failed", "errors": [{"code": "75499", "title": "Webhook host returned HTTP 4XX"}],
                           "http": {"request": {"url": "https://app/hook", "headers": [["content-type", "application/json"]]}}}]},
            {"id": "d2", "status": "failed", "webhook": {"event_type": "streaming.started", "payload": {"call_control_id": "v3:B"}},
             "attempts": [{"status": "failed", "errors": [75499], "http": {"response": {"status": 502}}}]},
            {"id": "d3", "status": null, "webhook": null, "attempts": null},
            {"id": "d4", "attempts": 7}
        ]);
        let typed = Typed::deliveries(&data);
        let Typed::Deliveries(items) = &typed else {
            panic!("deliveries");
        };
        assert_eq!(items.len(), 4, "every delivery is kept");
        assert!(matches!(items[2], Item::Read(_)), "nulls read as absent");
        assert!(
            matches!(&items[3], Item::Unreadable { excerpt, .. } if excerpt.contains("\"d4\"")),
            "{:?}",
            items[3]
        );
        let findings = typed.findings();
        let causes: Vec<CauseId> = findings.iter().map(|f| f.cause).collect();
        assert_eq!(
            causes,
            [
                CauseId::ProviderStreamFailed,
                CauseId::ProviderWebhooksNotDelivered,
                CauseId::ProviderWebhooksNotDelivered
            ]
        );
        assert!(
            findings[0].summary.contains("connection_failed")
                && findings[0].summary.contains("wss://h/a")
        );
        assert!(
            findings[1]
                .summary
                .contains(r#"after 1 failed attempt(s) (HTTP 200: "ok", error 75499 Webhook host returned HTTP 4XX)"#),
            "{}",
            findings[1].summary
        );
        assert!(
            findings[2].summary.contains("never delivered (HTTP 502)"),
            "{}",
            findings[2].summary
        );
    }
}

/// The first request a command made, as its JSON output echoes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequestRecord {
    pub method: String,
    /// Relative to the API base.
    pub path: String,
    pub query: BTreeMap<String, String>,
}

/// What a command got: its first request, the provider's `data` (pages concatenated, every
/// field kept), that data decoded once, and the findings it supports.
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    pub request: RequestRecord,
    pub data: Value,
    #[serde(skip)]
    pub typed: Typed,
    pub findings: Vec<Finding>,
}

impl Answer {
    /// An answer whose `data` is decoded by `view`, with the findings that supports.
    pub(crate) fn new(request: RequestRecord, data: Value, view: fn(&Value) -> Typed) -> Self {
        let typed = view(&data);
        let findings = typed.findings();
        Self {
            request,
            data,
            typed,
            findings,
        }
    }
}
