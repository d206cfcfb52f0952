//! The provider's REST API (`stream-doctor telnyx ...` and the client under it) against a
//! stand-in on 127.0.0.1 that answers with the documented shapes: pagination, filters, the
//! error envelope, rate limits, a call that never answers, and a stream started on a live call
//! that does (or does not) reach the listener. The API key must appear in no output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::free_port;

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use stream_doctor::catalog::{CauseId, FoundBy, Severity};
use stream_doctor::diagnosis::Cause;
use stream_doctor::provider::api::{Api, DeliveryFilter};
use stream_doctor::secret::Secret;
use support::telnyx_api::{FakeTelnyx, KEY};

const AUTH_TOKEN: &str = "stream-auth-TOKEN-never-printed";

/// Runs the binary with the key in its environment, off the async runtime.
async fn telnyx(fake: &FakeTelnyx, key: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stream-doctor"));
    command
        .arg("telnyx")
        .args(args)
        .env("TELNYX_API_BASE", fake.base())
        .env_remove("TELNYX_API_KEY")
        .env_remove("STREAM_DOCTOR_AUTH_TOKEN")
        .env_remove("STREAM_DOCTOR_TOKEN");
    if let Some(key) = key {
        command.env("TELNYX_API_KEY", key);
    }
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(!text.contains(KEY), "the API key leaked: {text}");
        assert!(!text.contains(AUTH_TOKEN), "the auth token leaked: {text}");
    }
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(out), stderr(out)))
}

fn finding_ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn deliveries_follow_pages_up_to_the_limit_and_support_findings() {
    let fake = FakeTelnyx::start().await;
    let api = Api::new(Secret::new(KEY), Some(&fake.base()), Duration::from_secs(5)).unwrap();
    let filter = DeliveryFilter {
        limit: 3,
        ..DeliveryFilter::default()
    };
    let answer = api.deliveries(&filter).await.unwrap();
    let ids: Vec<&str> = answer
        .data
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["d-1", "d-2", "d-3"],
        "two items a page: three items take two pages"
    );
    let pages: Vec<String> = fake
        .seen()
        .iter()
        .map(|s| {
            s.query
                .iter()
                .find(|(n, _)| n == "page[number]")
                .unwrap()
                .1
                .clone()
        })
        .collect();
    assert_eq!(pages, ["1", "2"]);
    let causes: Vec<Cause> = answer
        .findings
        .iter()
        .map(|f| Cause::of(f, FoundBy::ProviderSide, &[]))
        .collect();
    let seen: Vec<(CauseId, Severity)> = causes.iter().map(|c| (c.id, c.severity)).collect();
    assert_eq!(
        seen,
        [
            (CauseId::ProviderStreamFailed, Severity::Fail),
            (CauseId::ProviderWebhooksNotDelivered, Severity::Warn),
            (CauseId::ProviderWebhooksNotDelivered, Severity::Fail),
        ],
        "late is a warning, never is a failure"
    );
    assert!(
        causes[0].summary.contains("connection_failed"),
        "{}",
        causes[0].summary
    );
    assert!(
        causes[0].summary.contains("${id}"),
        "the URL the provider used: {}",
        causes[0].summary
    );
    assert!(
        causes[0]
            .summary
            .contains("stream-doctor telnyx app 1684641123236054244"),
        "the application to read next: {}",
        causes[0].summary
    );
    assert!(
        causes[2].summary.contains("HTTP 502"),
        "{}",
        causes[2].summary
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deliveries_json_passes_the_data_through_with_the_request_and_findings() {
    let fake = FakeTelnyx::start().await;
    let out = telnyx(
        &fake,
        Some(KEY),
        &[
            "deliveries",
            "--event",
            "streaming.failed",
            "--since",
            "2026-11-25T00:00:00Z",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed stream is a failing finding: {}",
        stderr(&out)
    );
    let report = json(&out);
    assert_eq!(report["request"]["method"], "GET");
    assert_eq!(report["request"]["path"], "/webhook_deliveries");
    assert_eq!(
        report["request"]["query"]["filter[event_type]"],
        "streaming.failed"
    );
    assert_eq!(
        report["request"]["query"]["filter[started_at][gte]"],
        "2026-11-25T00:00:00Z"
    );
    assert_eq!(report["request"]["query"]["page[number]"], "1");
    let data = report["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "the unreadable one is passed through too");
    assert_eq!(
        data[0],
        support::telnyx_api::deliveries()[1],
        "unchanged, unknown fields and header pairs kept"
    );
    assert_eq!(data[1], support::telnyx_api::deliveries()[5]);
    assert_eq!(
        finding_ids(&report),
        ["provider.stream_failed", "provider.webhooks_not_delivered"]
    );
    assert_eq!(report["findings"][0]["check"], "provider-side");
    assert!(
        report["findings"][0]["fix"]
            .as_str()
            .is_some_and(|f| !f.is_empty())
    );
    let asked = &fake.seen()[0];
    assert_eq!(
        asked.authorization.as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deliveries_text_has_a_row_per_delivery_and_every_attempt() {
    let fake = FakeTelnyx::start().await;
    let out = telnyx(&fake, Some(KEY), &["deliveries", "--status", "failed"]).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("2 webhook deliveries (attempts most recent first):"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.contains("call.hangup"))
        .expect(&text);
    for part in [
        "2026-11-25T14:03:00Z",
        "failed",
        "v3:ended",
        r#"HTTP 502: "Bad Gateway", HTTP 401: "Unauthorized""#,
    ] {
        assert!(row.contains(part), "{part} missing from {row}");
    }
    assert!(
        text.contains("Finding provider.webhooks_not_delivered (fail)"),
        "{text}"
    );
    // The delivery that does not read is shown with an excerpt, not dropped.
    assert!(
        text.contains("(unreadable: invalid type: string \"not a list\"")
            && text.contains("\"id\":\"d-6\""),
        "{text}"
    );
    assert_eq!(
        fake.seen()[0]
            .query
            .iter()
            .find(|(n, _)| n == "filter[status][eq]")
            .unwrap()
            .1,
        "failed"
    );
    let none = telnyx(&fake, Some(KEY), &["deliveries", "--call", "v3:nobody"]).await;
    assert_eq!(none.status.code(), Some(0));
    assert!(
        stdout(&none).contains("No webhook deliveries match"),
        "{}",
        stdout(&none)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn events_of_a_call_look_up_its_leg_then_list_oldest_first() {
    let fake = FakeTelnyx::start().await;
    let out = telnyx(
        &fake,
        Some(KEY),
        &["events", "--call", "v3:alive", "--format", "json"],
    )
    .await;
    let report = json(&out);
    assert_eq!(
        report["request"]["path"], "/calls/v3:alive",
        "the first request made"
    );
    let seen = fake.seen();
    assert_eq!(seen[1].path, "/v2/call_events");
    assert!(
        seen[1]
            .query
            .contains(&("filter[leg_id]".into(), "leg-1".into()))
    );
    assert_eq!(
        report["data"].as_array().unwrap().len(),
        4,
        "across two pages"
    );
    assert_eq!(finding_ids(&report), ["provider.stream_failed"]);
    let out = telnyx(&fake, Some(KEY), &["events", "--leg", "leg-1"]).await;
    let text = stdout(&out);
    let names: Vec<&str> = text
        .lines()
        .skip(1)
        .take(4)
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "call.answered",
            "streaming_start",
            "streaming.started",
            "streaming.failed"
        ],
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with('*')).count(),
        3,
        "streaming ones marked: {text}"
    );
    let usage = telnyx(&fake, Some(KEY), &["events"]).await;
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));
}

#[tokio::test(flavor = "multi_thread")]
async fn call_status_and_application_read_as_sentences() {
    let fake = FakeTelnyx::start().await;
    let alive = stdout(&telnyx(&fake, Some(KEY), &["call", "v3:alive"]).await);
    assert!(alive.contains("call v3:alive: alive"), "{alive}");
    assert!(alive.contains("duration  42 s"), "{alive}");
    let ended = stdout(&telnyx(&fake, Some(KEY), &["call", "v3:ended"]).await);
    assert!(ended.contains("ended (or not yet answered)"), "{ended}");
    assert!(ended.contains("2026-11-25T13:01:01Z"), "{ended}");
    let app = telnyx(&fake, Some(KEY), &["app", "app-1"]).await;
    let text = stdout(&app);
    assert_eq!(app.status.code(), Some(0));
    for part in [
        "voice-bot",
        "https://app.example.com/webhooks",
        "webhook API version  2",
        "25 s",
        "active               no",
        "not active",
    ] {
        assert!(text.contains(part), "{part} missing: {text}");
    }
    let app = json(&telnyx(&fake, Some(KEY), &["app", "app-1", "--format", "json"]).await);
    assert_eq!(
        app["data"]["anchorsite_override"], "Latency",
        "unknown fields kept"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_refusal_is_one_sentence_with_its_http_status() {
    let fake = FakeTelnyx::start().await;
    let cases: [(Option<&str>, &[&str], &str); 5] = [
        (
            Some("wrong-key"),
            &["call", "v3:alive"],
            "the API key was refused (HTTP 401, code 10009)",
        ),
        (
            Some(KEY),
            &["call", "v3:nobody"],
            "no such call (or it is older than the API keeps) (HTTP 404, code 10005)",
        ),
        (
            Some(KEY),
            &[
                "stream-start",
                "v3:ended",
                "--url",
                "wss://app.example.com/s",
                "--auth-token",
                AUTH_TOKEN,
            ],
            "the call has already ended (HTTP 422, code 90018)",
        ),
        (
            Some(KEY),
            &["app", "jammed"],
            "rate limit was reached (HTTP 429, code 10011)",
        ),
        (
            Some(KEY),
            &["app", "garbage"],
            "is not the JSON it documents",
        ),
    ];
    for (key, args, said) in cases {
        let out = telnyx(&fake, key, args).await;
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(said), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
    }
    let jammed = stderr(&telnyx(&fake, Some(KEY), &["app", "jammed"]).await);
    assert!(jammed.contains("resets in 30 s"), "{jammed}");
    let start = fake
        .seen()
        .into_iter()
        .find(|s| s.path.ends_with("streaming_start"))
        .unwrap();
    assert_eq!(
        start.body["stream_auth_token"], AUTH_TOKEN,
        "the token reaches the API, and only it"
    );
    assert_eq!(start.body["stream_track"], "inbound_track");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limit_is_waited_out_and_a_silent_api_times_out() {
    let fake = FakeTelnyx::start().await;
    let out = telnyx(&fake, Some(KEY), &["app", "busy"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let asked = fake
        .seen()
        .iter()
        .filter(|s| s.path.ends_with("/busy"))
        .count();
    assert_eq!(asked, 2, "one 429, then the answer");
    let out = telnyx(&fake, Some(KEY), &["call", "v3:hang", "--timeout", "1"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("did not answer /calls/v3:hang within 1 s"),
        "{}",
        stderr(&out)
    );
    let asked = fake
        .seen()
        .iter()
        .filter(|s| s.path.ends_with("/v3:hang"))
        .count();
    assert_eq!(asked, 1, "a timed-out request is not retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_key_is_a_usage_error() {
    let fake = FakeTelnyx::start().await;
    let out = telnyx(&fake, None, &["call", "v3:alive"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("TELNYX_API_KEY"), "{}", stderr(&out));
    assert!(fake.seen().is_empty(), "nothing is sent without a key");
}

#[tokio::test(flavor = "multi_thread")]
async fn stream_start_help_says_answer_cannot_carry_a_token() {
    let fake = FakeTelnyx::start().await;
    let out = telnyx(&fake, Some(KEY), &["stream-start", "--help"]).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("a stream started on answer cannot carry one"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_started_stream_is_confirmed_or_reported_missing() {
    let fake = FakeTelnyx::start().await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let url = format!("ws://127.0.0.1:{port}/api/calls/1/audio");
    let args = [
        "stream-start",
        "v3:alive",
        "--url",
        &url,
        "--listen",
        &listen,
        "--wait",
        "5",
    ];
    let out = telnyx(&fake, Some(KEY), &args).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("the stream for v3:alive arrived"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("streaming_start: the API answered ok"),
        "{}",
        stdout(&out)
    );

    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let url = "wss://tunnel.example/api/calls/1/audio".to_string();
    let args = [
        "stream-start",
        "v3:silent",
        "--url",
        &url,
        "--listen",
        &listen,
        "--wait",
        "1",
        "--format",
        "json",
    ];
    let out = telnyx(&fake, Some(KEY), &args).await;
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(finding_ids(&report), ["provider.started_not_connected"]);
    let summary = report["findings"][0]["summary"].as_str().unwrap();
    assert!(
        summary.contains(&url) && summary.contains("v3:silent"),
        "{summary}"
    );

    // Through the gate: the listener's token goes to the provider as the stream_auth_token, the
    // stream carries it in its header, and the listener admits a path without it.
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let url = format!("ws://127.0.0.1:{port}/api/calls/1/audio");
    let gated = [
        "stream-start",
        "v3:alive",
        "--url",
        &url,
        "--listen",
        &listen,
        "--token",
        "gate-t0ken-5150",
        "--wait",
        "5",
    ];
    let out = telnyx(&fake, Some(KEY), &gated).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("the stream for v3:alive arrived"));
    let start = fake
        .seen()
        .into_iter()
        .rfind(|s| s.path.ends_with("streaming_start"))
        .unwrap();
    assert_eq!(start.body["stream_auth_token"], "gate-t0ken-5150");
    assert!(!stderr(&out).contains("gate-t0ken-5150") && !stdout(&out).contains("gate-t0ken-5150"));

    // Off loopback without a token: usage error before the port opens or the API is called.
    let asked = fake.seen().len();
    let open = format!("0.0.0.0:{}", free_port());
    let out = telnyx(
        &fake,
        Some(KEY),
        &["stream-start", "v3:alive", "--url", &url, "--listen", &open],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("needs a token"), "{}", stderr(&out));
    assert_eq!(fake.seen().len(), asked, "the API was called");

    let out = telnyx(
        &fake,
        Some(KEY),
        &[
            "stream-stop",
            "v3:alive",
            "--stream-id",
            "s-1",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["data"]["result"], "ok");
    let stop = fake
        .seen()
        .into_iter()
        .find(|s| s.path.ends_with("streaming_stop"))
        .unwrap();
    assert_eq!(stop.body["stream_id"], "s-1");
}

/// `--bidirectional`, `--bidirectional-codec` and `--custom-parameter` reach streaming_start in
/// the API's documented fields (telnyx-python `action_start_streaming_params.py`:
/// `stream_bidirectional_mode`, `stream_bidirectional_codec`, `custom_parameters` as
/// `[{name, value}]`); the parameters come back in the stream's `start`, so the listener's line
/// names the test stream. A codec without rtp mode is a usage error.
#[tokio::test(flavor = "multi_thread")]
async fn stream_start_asks_for_the_way_back_and_tags_the_test_stream() {
    let fake = FakeTelnyx::start().await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let url = format!("ws://127.0.0.1:{port}/api/calls/1/audio");
    let args = [
        "stream-start",
        "v3:alive",
        "--url",
        &url,
        "--bidirectional",
        "rtp",
        "--bidirectional-codec",
        "PCMU",
        "--custom-parameter",
        "test_run=42",
        "--listen",
        &listen,
        "--wait",
        "5",
    ];
    let out = telnyx(&fake, Some(KEY), &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let start = fake
        .seen()
        .into_iter()
        .rfind(|s| s.path.ends_with("streaming_start"))
        .unwrap();
    assert_eq!(start.body["stream_bidirectional_mode"], "rtp");
    assert_eq!(start.body["stream_bidirectional_codec"], "PCMU");
    assert_eq!(
        start.body["custom_parameters"],
        serde_json::json!([{"name": "test_run", "value": "42"}])
    );
    let printed = format!("{}{}", stdout(&out), stderr(&out));
    assert!(printed.contains("parameters test_run=42"), "{printed}");

    let asked = fake.seen().len();
    let mp3_codec = [
        "stream-start",
        "v3:alive",
        "--url",
        "wss://app.example/s",
        "--bidirectional",
        "mp3",
        "--bidirectional-codec",
        "PCMU",
    ];
    let out = telnyx(&fake, Some(KEY), &mp3_codec).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--bidirectional rtp"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fake.seen().len(), asked, "the API was not called");
}
