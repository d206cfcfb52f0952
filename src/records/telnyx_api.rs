//! What the provider's REST API answered, as records: the request made and the `data` got
//! (`Answer`), typed views of it (a webhook delivery and its attempts, a call event, a call's
//! status, a Call Control application), read leniently: every field optional, unknown ones
//! ignored, since the raw `data` is what the JSON output passes through. And the findings those
//! answers support. Asking the API is `provider::api`'s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::{CauseId, Finding, Severity};

/// A delivery as far as the findings read it.
#[derive(Debug, Default, Deserialize)]
pub struct Delivery {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub webhook: DeliveredWebhook,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DeliveredWebhook {
    #[serde(default)]
    pub event_type: String,
    #[serde(default)]
    pub payload: Value,
}

#[derive(Debug, Default, Deserialize)]
pub struct Attempt {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub errors: Vec<i64>,
    #[serde(default)]
    pub http: Option<AttemptHttp>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AttemptHttp {
    #[serde(default)]
    pub request: Option<Value>,
    #[serde(default)]
    pub response: Option<AttemptResponse>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AttemptResponse {
    #[serde(default)]
    pub status: Option<u16>,
}

impl Delivery {
    pub fn call_id(&self) -> Option<String> {
        StreamingPayload::read(&self.webhook.payload).call_control_id
    }

    /// What each attempt got: an HTTP status, or its error codes.
    pub fn attempt_results(&self) -> Vec<String> {
        self.attempts
            .iter()
            .map(|a| {
                match a
                    .http
                    .as_ref()
                    .and_then(|h| h.response.as_ref())
                    .and_then(|r| r.status)
                {
                    Some(status) => format!("HTTP {status}"),
                    None if !a.errors.is_empty() => {
                        let codes: Vec<String> = a.errors.iter().map(i64::to_string).collect();
                        format!("error {}", codes.join(","))
                    }
                    None => a.status.clone(),
                }
            })
            .collect()
    }
}

/// Reads the items of a list answer, skipping what does not look like one.
pub fn items<T: serde::de::DeserializeOwned>(data: &Value) -> Vec<T> {
    data.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| serde_json::from_value(item.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// One entry of `GET /call_events`: a command the provider received or a webhook it sent.
#[derive(Debug, Default, Deserialize)]
pub struct CallEvent {
    #[serde(default)]
    pub event_timestamp: Option<String>,
    #[serde(default)]
    pub name: String,
    /// `command` or `webhook`.
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub call_leg_id: Option<String>,
    /// The raw event plus extras.
    #[serde(default)]
    pub metadata: Value,
}

impl CallEvent {
    pub fn is_streaming(&self) -> bool {
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
#[derive(Debug, Default, Deserialize)]
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
#[derive(Debug, Default, Deserialize)]
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
#[derive(Debug, Default, Deserialize)]
pub struct ActionResult {
    #[serde(default)]
    pub result: Option<String>,
}

/// The payload of a streaming webhook, as far as a finding reads it.
#[derive(Debug, Default, Deserialize)]
pub struct StreamingPayload {
    #[serde(default)]
    pub call_control_id: Option<String>,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub stream_url: Option<String>,
    #[serde(default)]
    pub stream_params: StreamParams,
}

#[derive(Debug, Default, Deserialize)]
pub struct StreamParams {
    #[serde(default)]
    pub stream_url: Option<String>,
}

impl StreamingPayload {
    pub fn read(payload: &Value) -> Self {
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
pub fn event_findings(data: &Value) -> Vec<Finding> {
    items::<CallEvent>(data)
        .iter()
        .filter(|e| e.kind == "webhook" && e.name == "streaming.failed")
        .map(|event| {
            let payload = StreamingPayload::read(event.payload());
            let (reason, url) = payload.failure();
            Finding {
                cause: CauseId::ProviderStreamFailed,
                summary: format!(
                    "the call's events have streaming.failed at {}: {reason} (stream_url {url})",
                    event
                        .event_timestamp
                        .as_deref()
                        .unwrap_or("an unknown time")
                ),
                severity: None,
            }
        })
        .collect()
}

/// A `streaming.failed` delivered means the stream failed; deliveries that failed (or needed
/// several attempts) mean the webhook URL itself is hard to reach.
pub fn delivery_findings(data: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for delivery in items::<Delivery>(data) {
        let call = delivery
            .call_id()
            .unwrap_or_else(|| "an unknown call".into());
        if delivery.webhook.event_type == "streaming.failed" {
            let payload = StreamingPayload::read(&delivery.webhook.payload);
            let (reason, url) = payload.failure();
            findings.push(Finding {
                cause: CauseId::ProviderStreamFailed,
                summary: format!(
                    "the delivery log has streaming.failed for {call} at {}: {reason} (stream_url {url})",
                    delivery.started_at.as_deref().unwrap_or("an unknown time")
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
             "attempts": [{"status": "failed", "errors": [75499], "http": {"request": {"url": "https://app/hook", "headers": [["content-type", "application/json"]]}}},
                          {"status": "delivered", "http": {"response": {"status": 200, "headers": [["a", "b"]], "body": "ok"}}}]},
            {"id": "d2", "status": "failed", "webhook": {"event_type": "streaming.started", "payload": {"call_control_id": "v3:B"}},
             "attempts": [{"status": "failed", "http": {"response": {"status": 502}}}]}
        ]);
        let findings = delivery_findings(&data);
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
                .contains("after 1 failed attempt(s) (error 75499, HTTP 200)"),
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
/// field kept), and the findings that data supports.
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    pub request: RequestRecord,
    pub data: Value,
    pub findings: Vec<Finding>,
}
