//! What `stream-doctor telnyx ...` prints: the provider's answer for people (one row per
//! delivery or event, a call's state, an application's webhook settings) or for scripts (the
//! request, the provider's `data` unchanged, and the findings as cause records).

use std::fmt::Write;

use serde::Serialize;

use crate::catalog::FoundBy;
use crate::diagnosis::Cause;
use crate::records::telnyx_api::{
    ActionResult, Answer, Application, CallEvent, CallStatus, Delivery, Item, RequestRecord, Typed,
};

fn causes(answer: &Answer) -> Vec<Cause> {
    answer
        .findings
        .iter()
        .map(|f| Cause::of(f, FoundBy::ProviderSide, &[]))
        .collect()
}

/// `--format json`: `{"request", "data", "findings"}`.
pub fn json(answer: &Answer) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        request: &'a RequestRecord,
        data: &'a serde_json::Value,
        findings: Vec<Cause>,
    }
    let out = Out {
        request: &answer.request,
        data: &answer.data,
        findings: causes(answer),
    };
    serde_json::to_string_pretty(&out).unwrap_or_default() + "\n"
}

fn or_dash(value: Option<&str>) -> &str {
    value.unwrap_or("-")
}

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not said",
    }
}

/// An item that could not be read, shown rather than dropped.
fn unreadable(out: &mut String, why: &str, excerpt: &str) {
    let _ = writeln!(out, "  (unreadable: {why}) {excerpt}");
}

fn deliveries(out: &mut String, list: &[Item<Delivery>]) {
    if list.is_empty() {
        out.push_str("No webhook deliveries match (the log keeps recent ones only).\n");
        return;
    }
    let _ = writeln!(
        out,
        "{} webhook deliveries (attempts most recent first):",
        list.len()
    );
    for item in list {
        match item {
            Item::Read(delivery) => {
                let _ = writeln!(
                    out,
                    "  {:<24} {:<22} {:<10} {:<40} {}",
                    or_dash(delivery.started_at.as_deref()),
                    delivery.webhook.event_type,
                    delivery.status,
                    delivery.call_id().unwrap_or_else(|| "-".into()),
                    delivery.attempt_results().join(", ")
                );
            }
            Item::Unreadable { why, excerpt } => unreadable(out, why, excerpt),
        }
    }
}

fn events(out: &mut String, list: &[Item<CallEvent>]) {
    if list.is_empty() {
        out.push_str("No events for this call (the provider keeps them for a limited time).\n");
        return;
    }
    let mut read: Vec<&CallEvent> = list.iter().filter_map(Item::read).collect();
    // RFC 3339 stamps of one offset sort as text.
    read.sort_by(|a, b| a.event_timestamp.cmp(&b.event_timestamp));
    let _ = writeln!(out, "{} events, oldest first (* = streaming):", list.len());
    for event in read {
        let _ = writeln!(
            out,
            "{} {:<24} {:<8} {}",
            if event.is_streaming() { "*" } else { " " },
            or_dash(event.event_timestamp.as_deref()),
            event.kind,
            event.name
        );
    }
    for item in list {
        if let Item::Unreadable { why, excerpt } = item {
            unreadable(out, why, excerpt);
        }
    }
}

fn call(out: &mut String, status: &CallStatus) {
    let alive = match status.is_alive {
        Some(true) => "alive: a stream can still start on it",
        Some(false) => "ended (or not yet answered): no stream can start on it",
        None => "state not said",
    };
    let _ = writeln!(
        out,
        "call {}: {alive}",
        or_dash(status.call_control_id.as_deref())
    );
    let duration = status
        .call_duration
        .map(|s| format!("{s:.0} s"))
        .unwrap_or_else(|| "-".into());
    let _ = writeln!(out, "  duration  {duration}");
    let _ = writeln!(out, "  started   {}", or_dash(status.start_time.as_deref()));
    let _ = writeln!(out, "  ended     {}", or_dash(status.end_time.as_deref()));
    let _ = writeln!(
        out,
        "  leg       {}",
        or_dash(status.call_leg_id.as_deref())
    );
    let _ = writeln!(
        out,
        "  session   {}",
        or_dash(status.call_session_id.as_deref())
    );
}

fn app(out: &mut String, app: &Application) {
    let _ = writeln!(
        out,
        "application {} ({})",
        or_dash(app.id.as_deref()),
        or_dash(app.application_name.as_deref())
    );
    let _ = writeln!(out, "  active               {}", yes_no(app.active));
    let _ = writeln!(
        out,
        "  webhook URL          {}",
        or_dash(app.webhook_event_url.as_deref())
    );
    let _ = writeln!(
        out,
        "  failover URL         {}",
        or_dash(app.webhook_event_failover_url.as_deref())
    );
    let _ = writeln!(
        out,
        "  webhook API version  {}",
        or_dash(app.webhook_api_version.as_deref())
    );
    let timeout = app
        .webhook_timeout_secs
        .map(|s| format!("{s} s"))
        .unwrap_or_else(|| "-".into());
    let _ = writeln!(out, "  webhook timeout      {timeout}");
    if app.active == Some(false) {
        out.push_str(
            "  The application is not active: calls on it send no webhooks and take no commands.\n",
        );
    }
}

fn action(out: &mut String, answer: &Answer, result: &ActionResult) {
    let _ = writeln!(
        out,
        "{} {}: the API answered {}",
        answer.request.method,
        answer.request.path,
        or_dash(result.result.as_deref())
    );
}

/// `--format text`: the answer for people (as it was decoded once, with `answer`), then each
/// finding with its fix.
pub fn text(answer: &Answer) -> String {
    let mut out = String::new();
    match &answer.typed {
        Typed::Deliveries(list) => deliveries(&mut out, list),
        Typed::Events(list) => events(&mut out, list),
        Typed::Call(Item::Read(status)) => call(&mut out, status),
        Typed::App(Item::Read(application)) => app(&mut out, application),
        Typed::Action(Item::Read(result)) => action(&mut out, answer, result),
        Typed::Call(Item::Unreadable { why, excerpt })
        | Typed::App(Item::Unreadable { why, excerpt })
        | Typed::Action(Item::Unreadable { why, excerpt }) => {
            out.push_str("The answer did not read as documented:\n");
            unreadable(&mut out, why, excerpt);
        }
        Typed::Raw => {
            let _ = writeln!(out, "{}", answer.data);
        }
    }
    for cause in causes(answer) {
        let _ = writeln!(
            out,
            "Finding {} ({}): {}\n   fix: {}",
            cause.id.as_str(),
            cause.severity.as_str(),
            cause.summary,
            cause.fix
        );
    }
    out
}
