//! The provider's webhooks on a real listener: every way a signature can be right or wrong
//! (keys generated here), bodies that are not webhooks, and the correlation of what the
//! provider says with the streams that really arrive, one test per finding.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use stream_doctor::audio::Codec;
use stream_doctor::catalog::{CauseId, Provider};
use stream_doctor::provider::signature::{telnyx_sign, twilio_sign};
use stream_doctor::provider::webhook::Keys;
use stream_doctor::records::webhook::SignatureVerdict;
use stream_doctor::records::webhook::{WebhookRecord, WebhookShape};
use stream_doctor::secret::Secret;
use stream_doctor::server::listener::{ListenOptions, Listener};
use stream_doctor::stream::replay::{self, Pace, ReplayOptions, Source, Tracks};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "listen-t0ken-77";
const TWILIO_TOKEN: &str = "twilio-auth-s3cret";

fn signer() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

async fn listener(grace: Duration, expect_url: Option<String>) -> Listener {
    let options = ListenOptions {
        bind: "127.0.0.1:0".parse().unwrap(),
        token: Some(Secret::new(TOKEN)),
        webhook_keys: Keys {
            telnyx_public_key: Some(signer().verifying_key()),
            twilio_auth_token: Some(Secret::new(TWILIO_TOKEN)),
        },
        started_grace: grace,
        expect_url,
        ..ListenOptions::default()
    };
    Listener::start(options, Arc::new(|_| {})).await.unwrap()
}

/// Sends one HTTP request, returns the status code of the answer.
async fn post(addr: SocketAddr, path: &str, headers: &[(&str, String)], body: &[u8]) -> u16 {
    post_claiming(addr, path, headers, body, body.len()).await
}

/// A POST whose Content-Length says `length`, whatever body follows.
async fn post_claiming(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
    length: usize,
) -> u16 {
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {length}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    request(addr, &head, body).await
}

fn telnyx_body(event: &str, call: &str, url: &str) -> String {
    format!(
        r#"{{"data":{{"record_type":"event","event_type":"{event}","id":"e1","occurred_at":"2026-11-25T14:00:00Z","payload":{{"call_control_id":"{call}","failure_reason":"connection_failed","stream_url":"{url}"}}}},"meta":{{"attempt":1}}}}"#
    )
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn signed(key: &SigningKey, timestamp: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "Telnyx-Signature-Ed25519",
            telnyx_sign(key, timestamp, body.as_bytes()),
        ),
        ("Telnyx-Timestamp", timestamp.to_string()),
        ("Content-Type", "application/json".into()),
    ]
}

async fn webhooks(listener: &Listener, count: usize) -> Vec<WebhookRecord> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let hooks = listener.store().lock().unwrap().webhooks.clone();
        if hooks.len() >= count || Instant::now() > deadline {
            return hooks;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn findings(listener: &Listener, cause: CauseId, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let found: Vec<String> = listener
            .store()
            .lock()
            .unwrap()
            .findings
            .iter()
            .filter(|f| f.cause == cause)
            .map(|f| f.summary.clone())
            .collect();
        if !found.is_empty() || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every signature case, each answered at once, judged right, and recorded.
#[tokio::test(flavor = "multi_thread")]
async fn every_telnyx_signature_is_judged_and_recorded() {
    let listener = listener(Duration::from_secs(30), None).await;
    let addr = listener.addr();
    let path = format!("/{TOKEN}/webhooks/telnyx");
    let body = telnyx_body("streaming.started", "v3:sig", "wss://h.example/a");
    let now = now_unix().to_string();
    let stale = (now_unix() - 600).to_string();
    let future = (now_unix() + 600).to_string();
    let other = SigningKey::from_bytes(&[9; 32]);
    let mut bad_base64 = signed(&signer(), &now, &body);
    bad_base64[0].1 = "***".into();
    let changed = body.replace("v3:sig", "v3:changed");
    /// Headers, body, the HTTP status expected, the verdict expected, words of its problem.
    type Case<'a> = (
        Vec<(&'a str, String)>,
        String,
        u16,
        SignatureVerdict,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            signed(&signer(), &now, &body),
            body.clone(),
            200,
            SignatureVerdict::Valid,
            "",
        ),
        (
            signed(&other, &now, &body),
            body.clone(),
            200,
            SignatureVerdict::Invalid,
            "does not match",
        ),
        (
            signed(&signer(), &now, &body),
            changed,
            200,
            SignatureVerdict::Invalid,
            "does not match",
        ),
        (
            signed(&signer(), &stale, &body),
            body.clone(),
            200,
            SignatureVerdict::Invalid,
            "s old",
        ),
        (
            signed(&signer(), &future, &body),
            body.clone(),
            200,
            SignatureVerdict::Invalid,
            "in the future",
        ),
        (
            vec![],
            body.clone(),
            200,
            SignatureVerdict::Missing,
            "no telnyx-signature-ed25519",
        ),
        (
            bad_base64,
            body.clone(),
            200,
            SignatureVerdict::Invalid,
            "not padded standard base64",
        ),
        (
            signed(&signer(), &now, "not json"),
            "not json".into(),
            400,
            SignatureVerdict::Valid,
            "",
        ),
    ];
    for (i, (headers, body, status, _, _)) in cases.iter().enumerate() {
        assert_eq!(
            post(addr, &path, headers, body.as_bytes()).await,
            *status,
            "case {i}"
        );
    }
    // The listener refuses on the length alone, before any of the body is read.
    assert_eq!(
        post_claiming(addr, &path, &[], b"{", 2 * 1024 * 1024).await,
        413
    );
    let hooks = webhooks(&listener, cases.len() + 1).await;
    assert_eq!(hooks.len(), cases.len() + 1, "every POST is recorded");
    for (i, ((_, _, _, verdict, why), hook)) in cases.iter().zip(&hooks).enumerate() {
        assert_eq!(hook.signature, *verdict, "case {i}: {hook:?}");
        let problem = hook.signature_problem.clone().unwrap_or_default();
        assert!(problem.contains(why), "case {i}: {problem}");
    }
    assert_eq!(hooks[7].event_type, "(not JSON)");
    assert!(
        hooks[8]
            .problem
            .as_deref()
            .unwrap_or_default()
            .contains("over the 1 MiB")
    );

    // The listener and its streams go on: a stream still arrives and is measured.
    let replayed = replay::run(&replay_to(addr, None), &|_| {}).await;
    assert!(replayed.streams[0].error.is_none(), "{replayed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_twilio_callback_is_judged_on_the_url_twilio_called() {
    let listener = listener(Duration::from_secs(30), None).await;
    let params = vec![
        ("AccountSid".to_string(), "AC1".to_string()),
        ("CallSid".to_string(), "CA1".to_string()),
        ("StreamSid".to_string(), "MZ1".to_string()),
        ("StreamEvent".to_string(), "stream-error".to_string()),
        ("StreamError".to_string(), "Connection timeout".to_string()),
    ];
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    let path = format!("/{TOKEN}/webhooks/twilio");
    let public = format!("https://abc.ngrok-free.app{path}");
    let headers = vec![
        (
            "X-Twilio-Signature",
            twilio_sign(TWILIO_TOKEN, &public, &params),
        ),
        ("X-Forwarded-Proto", "https".to_string()),
        ("X-Forwarded-Host", "abc.ngrok-free.app".to_string()),
        (
            "Content-Type",
            "application/x-www-form-urlencoded".to_string(),
        ),
    ];
    assert_eq!(
        post(listener.addr(), &path, &headers, body.as_bytes()).await,
        200
    );
    let hooks = webhooks(&listener, 1).await;
    assert_eq!(
        hooks[0].signature,
        SignatureVerdict::Valid,
        "{:?}",
        hooks[0]
    );
    assert_eq!(hooks[0].provider, Some(Provider::Twilio));
    let failed = findings(
        &listener,
        CauseId::ProviderStreamFailed,
        Duration::from_secs(2),
    )
    .await;
    assert!(failed[0].contains("Connection timeout"), "{failed:?}");
}

fn replay_to(addr: SocketAddr, call_id: Option<&str>) -> ReplayOptions {
    ReplayOptions {
        url: format!("ws://{addr}/{TOKEN}/api/calls/1/audio"),
        protocol: Provider::Telnyx,
        codec: Codec::Pcmu,
        source: Source::Tone {
            freq_hz: 440.0,
            seconds: 0.2,
        },
        tracks: Tracks::Inbound,
        pace: Pace::Max,
        streams: 1,
        timeout: Duration::from_secs(5),
        resolve: Vec::new(),
        extra_roots: Vec::new(),
        auth_token: None,
        twilio_auth_token: None,
        call_id: call_id.map(str::to_string),
        custom_parameters: Default::default(),
    }
}

async fn started(listener: &Listener, call: &str, url: &str) {
    let body = telnyx_body("streaming.started", call, url);
    let now = now_unix().to_string();
    let path = format!("/{TOKEN}/webhooks/telnyx");
    assert_eq!(
        post(
            listener.addr(),
            &path,
            &signed(&signer(), &now, &body),
            body.as_bytes()
        )
        .await,
        200
    );
}

/// The seed's symptom: `streaming.started` arrives, the WebSocket never does.
#[tokio::test(flavor = "multi_thread")]
async fn started_but_never_connected_is_raised_after_the_grace() {
    let listener = listener(Duration::from_millis(400), None).await;
    let url = "wss://api.example.com/api/calls/{callSessionId}/audio";
    started(&listener, "v3:lonely", url).await;
    assert!(
        findings(
            &listener,
            CauseId::ProviderStartedNotConnected,
            Duration::from_millis(200)
        )
        .await
        .is_empty(),
        "not before the grace"
    );
    let raised = findings(
        &listener,
        CauseId::ProviderStartedNotConnected,
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert!(
        raised[0].contains(url) && raised[0].contains("v3:lonely"),
        "{}",
        raised[0]
    );
}

/// The same event, and the stream with its call id arrives: no finding.
#[tokio::test(flavor = "multi_thread")]
async fn a_stream_that_arrives_answers_its_started_event() {
    let listener = listener(Duration::from_millis(600), None).await;
    started(&listener, "v3:arrives", "wss://h.example/a").await;
    let replayed = replay::run(&replay_to(listener.addr(), Some("v3:arrives")), &|_| {}).await;
    assert!(replayed.streams[0].error.is_none());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let raised = findings(
        &listener,
        CauseId::ProviderStartedNotConnected,
        Duration::ZERO,
    )
    .await;
    assert!(raised.is_empty(), "{raised:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_stream_is_raised_at_once() {
    let listener = listener(Duration::from_secs(30), None).await;
    let body = telnyx_body("streaming.failed", "v3:failed", "wss://h.example/a");
    let now = now_unix().to_string();
    let path = format!("/{TOKEN}/webhooks/telnyx");
    post(
        listener.addr(),
        &path,
        &signed(&signer(), &now, &body),
        body.as_bytes(),
    )
    .await;
    let raised = findings(
        &listener,
        CauseId::ProviderStreamFailed,
        Duration::from_secs(2),
    )
    .await;
    assert!(raised[0].contains("connection_failed"), "{raised:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_url_other_than_the_one_checked_is_raised() {
    let expected = "wss://api.example.com/api/calls/123/audio".to_string();
    let listener = listener(Duration::from_secs(30), Some(expected)).await;
    started(
        &listener,
        "v3:elsewhere",
        "wss://old-tunnel.ngrok-free.app/api/calls/123/audio",
    )
    .await;
    let raised = findings(
        &listener,
        CauseId::ProviderUrlDiffers,
        Duration::from_secs(2),
    )
    .await;
    assert!(
        raised[0].contains("the host is old-tunnel.ngrok-free.app, not api.example.com"),
        "{raised:?}"
    );
    let summary = listener.stop();
    let json = stream_doctor::report::streams::listen_json(&summary);
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed["findings"][0]["id"], "provider.url_differs");
    assert_eq!(parsed["findings"][0]["check"], "provider-side");
    assert_eq!(parsed["webhooks"][0]["event_type"], "streaming.started");
    for secret in [TOKEN, TWILIO_TOKEN] {
        assert!(!json.contains(secret), "{secret} leaked");
        let text = stream_doctor::report::streams::listen(&summary);
        assert!(!text.contains(secret), "{secret} leaked");
    }
}

/// One raw request; the status code of the answer.
async fn request(addr: SocketAddr, head: &str, body: &[u8]) -> u16 {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"))
}

/// Telnyx as its pages say it can deliver, beside the usual JSON POST:
/// - a TeXML stream status callback, form-encoded and Ed25519-signed like any webhook
///   (developers.telnyx.com/api-reference/callbacks/texml-stream: `AccountSid`, `CallSid`,
///   `CallSidLegacy`, `StreamEvent`, `StreamName`, `StreamSid`, `Timestamp`, `StreamError`);
/// - a delivery by GET (`webhook_url_method`, the payload in the query;
///   developers.telnyx.com/docs/voice/programmable-voice/voice-api-webhooks), answered 200, not
///   405, which Telnyx would count as a failed delivery;
/// - a `webhook_api_version` 1 payload (the same page), read and named.
#[tokio::test(flavor = "multi_thread")]
async fn telnyx_webhooks_are_read_in_every_documented_shape() {
    let listener = listener(Duration::from_secs(30), None).await;
    let addr = listener.addr();
    let path = format!("/{TOKEN}/webhooks/telnyx");

    let form = "AccountSid=f5586561-8ff0-4291-a51b-c7dfe4139ff9&CallSid=v3%3ATX1&CallSidLegacy=v3%3ATX1&StreamEvent=stream-error&StreamName=bot&StreamSid=S-TX1&Timestamp=2026-12-06T08%3A00%3A00Z&StreamError=Connection+timeout";
    let timestamp = now_unix().to_string();
    let mut headers = signed(&signer(), &timestamp, form);
    headers[2].1 = "application/x-www-form-urlencoded".into();
    assert_eq!(post(addr, &path, &headers, form.as_bytes()).await, 200);
    let texml = webhooks(&listener, 1).await.pop().unwrap();
    assert_eq!(texml.shape, Some(WebhookShape::TexmlForm));
    assert_eq!(texml.signature, SignatureVerdict::Valid, "{texml:?}");
    assert_eq!(texml.event_type, "stream-error");
    assert_eq!(texml.call_control_id.as_deref(), Some("v3:TX1"));
    assert_eq!(texml.failure_reason.as_deref(), Some("Connection timeout"));
    let failed = findings(
        &listener,
        CauseId::ProviderStreamFailed,
        Duration::from_secs(2),
    )
    .await;
    assert!(
        failed.iter().any(|f| f.contains("Connection timeout")),
        "{failed:?}"
    );

    let query = "data%5Bevent_type%5D=streaming.failed&data%5Bpayload%5D%5Bcall_control_id%5D=v3%3AGET1&data%5Bpayload%5D%5Bfailure_reason%5D=connection_failed&data%5Bpayload%5D%5Bstream_url%5D=wss%3A%2F%2Fapp.example%2Fmedia";
    let head = format!("GET {path}?{query} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    assert_eq!(
        request(addr, &head, b"").await,
        200,
        "a GET delivery is taken"
    );
    let get = webhooks(&listener, 2).await.pop().unwrap();
    assert_eq!(get.shape, Some(WebhookShape::GetQuery));
    assert_eq!(get.event_type, "streaming.failed");
    assert_eq!(get.call_control_id.as_deref(), Some("v3:GET1"));
    assert_eq!(get.stream_url.as_deref(), Some("wss://app.example/media"));
    assert_eq!(get.signature, SignatureVerdict::Missing);

    let v1 = r#"{"record_type":"event","event_type":"streaming.started","id":"e9","occurred_at":"2026-12-06T08:00:00Z","payload":{"call_control_id":"v3:V1","stream_url":"wss://app.example/v1"}}"#;
    let headers = signed(&signer(), &timestamp, v1);
    assert_eq!(post(addr, &path, &headers, v1.as_bytes()).await, 200);
    let old = webhooks(&listener, 3).await.pop().unwrap();
    assert_eq!(old.shape, Some(WebhookShape::ApiV1));
    assert_eq!(old.event_type, "streaming.started");
    assert_eq!(old.stream_url.as_deref(), Some("wss://app.example/v1"));
    assert_eq!(old.signature, SignatureVerdict::Valid);

    let head = format!("PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(
        request(addr, &head, b"").await,
        405,
        "other methods are still refused"
    );
}
