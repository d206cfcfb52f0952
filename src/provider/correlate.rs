//! The correlation: what the provider says it did (its webhooks) against what reached this
//! listener (the streams), raising findings as events arrive:
//! - `provider.started_not_connected`: a `streaming.started` whose stream did not connect
//!   within the grace period. `streaming.started` carries no `stream_id`, so events and streams
//!   match on `call_control_id`; where both carry a `stream_id`, it decides; a stream matches
//!   at most one event;
//! - `provider.stream_failed`: a `streaming.failed` (or Twilio's `stream-error`);
//! - `provider.url_differs`: a `stream_url` other than the URL checked, the difference spelled
//!   out.
//!
//! Socket-free: the listener feeds it webhooks, streams and the time.

use std::time::{Duration, Instant};

use crate::catalog::{CauseId, Finding};
use crate::clock;
use crate::net::target::template_leftovers;
use crate::records::webhook::SignatureVerdict;
use crate::records::webhook::WebhookRecord;

/// How long a started stream may take to arrive before it is reported missing.
pub(crate) const DEFAULT_STARTED_GRACE: Duration = Duration::from_secs(10);

struct Started {
    record: WebhookRecord,
    at: Instant,
    matched: bool,
    reported: bool,
}

struct Arrived {
    call_id: Option<String>,
    stream_id: Option<String>,
    matched: bool,
}

pub(crate) struct Correlator {
    grace: Duration,
    expect_url: Option<String>,
    started: Vec<Started>,
    arrived: Vec<Arrived>,
}

fn same(a: &Option<String>, b: &Option<String>) -> Option<bool> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a == b),
        _ => None,
    }
}

fn belongs(started: &WebhookRecord, arrived: &Arrived) -> bool {
    same(&started.stream_id, &arrived.stream_id)
        .or_else(|| same(&started.call_control_id, &arrived.call_id))
        .unwrap_or(false)
}

/// " (its signature is missing: it may not come from the provider)" for an untrusted webhook.
fn trust_note(record: &WebhookRecord) -> String {
    match record.signature {
        SignatureVerdict::Valid => String::new(),
        SignatureVerdict::Unchecked => " (its signature was not checked: no key given)".into(),
        verdict => format!(
            " (its signature is {}: it may not come from the provider)",
            verdict.as_str()
        ),
    }
}

/// How `got` differs from `expected`, in words; `None` when they are the same URL.
pub(crate) fn url_difference(expected: &str, got: &str) -> Option<String> {
    if expected.trim() == got.trim() {
        return None;
    }
    let leftovers = template_leftovers(got);
    if !leftovers.is_empty() {
        return Some(format!(
            "it still holds {}, a placeholder where the id belongs",
            leftovers.join(", ")
        ));
    }
    let (Ok(want), Ok(have)) = (url::Url::parse(expected), url::Url::parse(got)) else {
        return Some(format!("'{got}' is not the URL checked, '{expected}'"));
    };
    let mut parts = Vec::new();
    let mut differs = |what: &str, have: String, want: String| {
        if have != want {
            parts.push(format!("the {what} is {have}, not {want}"));
        }
    };
    differs("scheme", have.scheme().into(), want.scheme().into());
    let host = |u: &url::Url| u.host_str().unwrap_or_default().to_ascii_lowercase();
    differs("host", host(&have), host(&want));
    let port = |u: &url::Url| {
        u.port_or_known_default()
            .map(|p| p.to_string())
            .unwrap_or_default()
    };
    differs("port", port(&have), port(&want));
    differs("path", have.path().into(), want.path().into());
    let query = |u: &url::Url| u.query().map_or("none".into(), |q| format!("'?{q}'"));
    differs("query string", query(&have), query(&want));
    (!parts.is_empty()).then(|| parts.join("; "))
}

impl Correlator {
    pub(crate) fn new(grace: Duration) -> Self {
        Self {
            grace,
            expect_url: None,
            started: Vec::new(),
            arrived: Vec::new(),
        }
    }

    /// The URL checked, which the provider's `stream_url`s are compared with.
    pub(crate) fn expect_url(&mut self, url: Option<String>) {
        self.expect_url = url;
    }

    /// A webhook arrived at `now`: the findings it raises at once.
    pub(crate) fn webhook(&mut self, record: &WebhookRecord, now: Instant) -> Vec<Finding> {
        let mut findings = Vec::new();
        if !record.readable() {
            return findings;
        }
        let note = trust_note(record);
        let call = record
            .call_control_id
            .as_deref()
            .unwrap_or("an unknown call");
        if let (Some(expected), Some(got)) = (&self.expect_url, &record.stream_url)
            && let Some(difference) = url_difference(expected, got)
        {
            findings.push(Finding {
                cause: CauseId::ProviderUrlDiffers,
                summary: format!(
                    "{} for {call} names {got}: {difference}{note}",
                    record.event_type
                ),
                severity: None,
            });
        }
        if record.is_failed() {
            findings.push(Finding {
                cause: CauseId::ProviderStreamFailed,
                summary: format!(
                    "{} at {} for {call}: {} (stream_url {}){}{note}",
                    record.event_type,
                    clock::rfc3339(record.received_at),
                    record
                        .failure_reason
                        .as_deref()
                        .unwrap_or("no reason given"),
                    record.stream_url.as_deref().unwrap_or("not given"),
                    record.failure_context(),
                ),
                severity: None,
            });
        }
        if record.is_started() {
            self.started.push(Started {
                record: record.clone(),
                at: now,
                matched: false,
                reported: false,
            });
            self.settle();
        }
        findings
    }

    /// A stream reached the listener, with the ids its `start` carried.
    pub(crate) fn stream(&mut self, call_id: Option<String>, stream_id: Option<String>) {
        self.arrived.push(Arrived {
            call_id,
            stream_id,
            matched: false,
        });
        self.settle();
    }

    /// Pairs events with streams, each at most once.
    fn settle(&mut self) {
        for started in self.started.iter_mut().filter(|s| !s.matched) {
            if let Some(arrived) = self
                .arrived
                .iter_mut()
                .find(|a| !a.matched && belongs(&started.record, a))
            {
                arrived.matched = true;
                started.matched = true;
            }
        }
    }

    /// The findings due at `now`: started streams that have not arrived within the grace.
    pub(crate) fn tick(&mut self, now: Instant) -> Vec<Finding> {
        let grace = self.grace;
        self.started
            .iter_mut()
            .filter(|s| !s.matched && !s.reported && now.duration_since(s.at) >= grace)
            .map(|started| {
                started.reported = true;
                let r = &started.record;
                let ids = match &r.stream_id {
                    Some(stream) => format!(
                        "call {}, stream {stream}",
                        r.call_control_id.as_deref().unwrap_or("?")
                    ),
                    None => format!("call {}", r.call_control_id.as_deref().unwrap_or("?")),
                };
                Finding {
                    cause: CauseId::ProviderStartedNotConnected,
                    summary: format!(
                        "the provider says it started a stream to {} at {} ({ids}), and nothing arrived here in {} s{}",
                        r.stream_url.as_deref().unwrap_or("an unnamed URL"),
                        clock::rfc3339(r.received_at),
                        grace.as_secs_f64(),
                        trust_note(r)
                    ), severity: None,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Provider;

    fn hook(event: &str, call: &str, url: &str) -> WebhookRecord {
        WebhookRecord {
            event_type: event.into(),
            signature: SignatureVerdict::Valid,
            signature_problem: None,
            received_at: time::macros::datetime!(2026-11-25 14:02:11 UTC),
            call_control_id: Some(call.into()),
            stream_id: None,
            failure_reason: None,
            stream_url: Some(url.into()),
            stream_type: None,
            connection_id: None,
            provider: Some(Provider::Telnyx),
            remote: None,
            problem: None,
            shape: None,
        }
    }

    #[test]
    fn a_started_stream_that_never_arrives_is_reported_once() {
        let mut correlator = Correlator::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let url = "wss://api.example.com/api/calls/{callSessionId}/audio";
        assert!(
            correlator
                .webhook(&hook("streaming.started", "v3:A", url), t0)
                .is_empty()
        );
        assert!(correlator.tick(t0 + Duration::from_secs(9)).is_empty());
        let due = correlator.tick(t0 + Duration::from_secs(10));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].cause, CauseId::ProviderStartedNotConnected);
        assert!(due[0].summary.contains(url) && due[0].summary.contains("14:02:11"));
        assert!(correlator.tick(t0 + Duration::from_secs(30)).is_empty());
    }

    #[test]
    fn a_stream_that_arrives_matches_its_event_by_call_and_only_once() {
        let mut correlator = Correlator::new(Duration::from_secs(1));
        let t0 = Instant::now();
        correlator.webhook(&hook("streaming.started", "v3:A", "wss://h/a"), t0);
        correlator.webhook(&hook("streaming.started", "v3:A", "wss://h/a"), t0);
        correlator.stream(Some("v3:A".into()), Some("S1".into()));
        let due = correlator.tick(t0 + Duration::from_secs(5));
        assert_eq!(due.len(), 1, "one stream answers one event");
        correlator.stream(Some("v3:B".into()), None);
        assert!(correlator.tick(t0 + Duration::from_secs(6)).is_empty());
    }

    #[test]
    fn a_failure_and_a_different_url_are_raised_at_once() {
        let mut correlator = Correlator::new(Duration::from_secs(10));
        correlator.expect_url(Some("wss://api.example.com/api/calls/123/audio".into()));
        let mut failed = hook(
            "streaming.failed",
            "v3:A",
            "wss://api.example.com/api/calls/{callSessionId}/audio",
        );
        failed.failure_reason = Some("connection_failed".into());
        failed.signature = SignatureVerdict::Missing;
        failed.stream_type = Some("dialogflow".into());
        failed.connection_id = Some("1684641123236054244".into());
        let found = correlator.webhook(&failed, Instant::now());
        let causes: Vec<CauseId> = found.iter().map(|f| f.cause).collect();
        assert_eq!(
            causes,
            [CauseId::ProviderUrlDiffers, CauseId::ProviderStreamFailed]
        );
        assert!(found[0].summary.contains("{callSessionId}"));
        assert!(found[1].summary.contains("connection_failed"));
        assert!(found[1].summary.contains("signature is missing"));
        assert!(
            found[1].summary.contains("no WebSocket was tried")
                && found[1]
                    .summary
                    .contains("stream-doctor telnyx app 1684641123236054244"),
            "{}",
            found[1].summary
        );
    }

    #[test]
    fn url_differences_are_spelled_out() {
        let want = "wss://api.example.com/api/calls/123/audio";
        assert_eq!(url_difference(want, want), None);
        let got = url_difference(want, "ws://api.example.com:8080/api/calls/123/audio?x=1")
            .unwrap_or_default();
        assert!(got.contains("the scheme is ws, not wss"), "{got}");
        assert!(got.contains("the port is 8080, not 443"), "{got}");
        assert!(
            got.contains("the query string is '?x=1', not none"),
            "{got}"
        );
        let host = url_difference(want, "wss://old.ngrok-free.app/api/calls/123/audio")
            .unwrap_or_default();
        assert!(
            host.contains("host is old.ngrok-free.app, not api.example.com"),
            "{host}"
        );
    }
}
