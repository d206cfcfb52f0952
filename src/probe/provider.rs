//! The `provider` check: connects as Telnyx does (only the headers it sends, the auth token
//! where one is set), sends `connected`, `start` with a PCMU media format, a second of 20 ms
//! `media` frames of a tone, and `stop`, then closes; records everything the server sends back
//! and when and how it closes. The messages come from the replay's `Script`, so the check and
//! `stream-doctor replay` speak exactly the same protocol.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::connect::{self, Verify};
use super::url::Target;
use super::{AUTH_TOKEN_HEADER, CheckOptions, upgrade, websocket};
use crate::audio::{Codec, g711, tone};
use crate::check::{CheckId, CheckResult, millis};
use crate::diagnosis::CauseId;
use crate::stream::Provider;
use crate::stream::replay::Script;

const SAMPLE_RATE_HZ: u32 = 8000;
const FRAME_SAMPLES: usize = 160;
const FRAME_MS: u64 = 20;
const FRAMES: usize = 50;
/// After `start`, how long to give the server to object before media follows.
const START_GRACE: Duration = Duration::from_millis(100);
const MAX_RECORDED_MESSAGES: usize = 20;

/// A second of a 440 Hz tone at half scale, as 20 ms PCMU frames.
fn tone_frames() -> Vec<Vec<u8>> {
    tone(440.0, 0.5, SAMPLE_RATE_HZ, FRAME_SAMPLES * FRAMES)
        .chunks(FRAME_SAMPLES)
        .map(|frame| frame.iter().map(|s| g711::ulaw_encode(*s)).collect())
        .collect()
}

fn fail(
    started: Instant,
    cause: CauseId,
    summary: String,
    details: serde_json::Value,
) -> CheckResult {
    CheckResult::found(
        CheckId::Provider,
        cause,
        summary,
        millis(started.elapsed()),
        details,
    )
}

pub async fn check(addr: SocketAddr, target: &Target, options: &CheckOptions) -> CheckResult {
    let started = Instant::now();
    let timeout = options.timeout;
    let headers: Vec<(String, String)> = options
        .auth_token
        .iter()
        .map(|t| (AUTH_TOKEN_HEADER.to_string(), t.expose().to_string()))
        .collect();
    let request = match websocket::request(target, &headers) {
        Ok(r) => r,
        Err(e) => return CheckResult::broken(CheckId::Provider, e, millis(started.elapsed())),
    };
    let sent_headers: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    let io = match connect::open(
        addr,
        target,
        Verify::Provider(&options.extra_roots),
        timeout,
    )
    .await
    {
        Ok(io) => io,
        Err(e) => {
            return fail(
                started,
                CauseId::StreamRejected,
                format!("could not connect as the provider: {e}"),
                json!({}),
            );
        }
    };
    let ws = match tokio::time::timeout(timeout, tokio_tungstenite::client_async(request, io)).await
    {
        Ok(Ok((ws, _))) => ws,
        Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response))) => {
            let status = response.status().as_u16();
            let details = json!({"status": status, "headers_sent": sent_headers});
            let summary = format!(
                "the provider's upgrade (headers it sends: {}) gets {status}",
                if sent_headers.is_empty() {
                    "standard only".to_string()
                } else {
                    sent_headers.join(", ")
                }
            );
            return fail(started, upgrade::status_cause(status), summary, details);
        }
        Ok(Err(e)) => {
            return fail(
                started,
                CauseId::StreamRejected,
                format!("the provider's upgrade failed: {e}"),
                json!({}),
            );
        }
        Err(_) => {
            return fail(
                started,
                CauseId::WsHandshakeTimeout,
                format!("the provider's upgrade got no answer within {timeout:?}"),
                json!({}),
            );
        }
    };
    let (mut sink, mut stream) = ws.split();
    let closed = Arc::new(AtomicBool::new(false));
    let reader_closed = closed.clone();
    let opened = Instant::now();
    let reader = tokio::spawn(async move {
        let mut received = Vec::new();
        let mut close = None;
        let mut count = 0usize;
        while let Some(next) = stream.next().await {
            let at_ms = millis(opened.elapsed());
            match next {
                Ok(Message::Close(frame)) => {
                    close = Some(
                        json!({"close": websocket::close_json(frame.as_ref()), "at_ms": at_ms}),
                    );
                    reader_closed.store(true, Ordering::SeqCst);
                    break;
                }
                Ok(Message::Text(text)) => {
                    count += 1;
                    if received.len() < MAX_RECORDED_MESSAGES {
                        received.push(json!({"at_ms": at_ms, "text": text.chars().take(300).collect::<String>()}));
                    }
                }
                Ok(Message::Binary(bytes)) => {
                    count += 1;
                    if received.len() < MAX_RECORDED_MESSAGES {
                        received.push(json!({"at_ms": at_ms, "binary_bytes": bytes.len()}));
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    close = Some(json!({"close": {"error": e.to_string()}, "at_ms": at_ms}));
                    reader_closed.store(true, Ordering::SeqCst);
                    break;
                }
            }
        }
        if close.is_none() {
            close = Some(
                json!({"close": {"error": "connection ended without a close frame"}, "at_ms": millis(opened.elapsed())}),
            );
            reader_closed.store(true, Ordering::SeqCst);
        }
        (received, count, close)
    });

    let mut stream_frames = Script::new(Provider::Telnyx, 0);
    let frames = tone_frames();
    let mut sent: Vec<&'static str> = Vec::new();
    let mut send_error = None;
    let mut script: Vec<(&'static str, String)> = vec![
        (
            "connected",
            stream_frames.connected(options.auth_token.as_ref()),
        ),
        (
            "start",
            stream_frames.start(Codec::Pcmu, SAMPLE_RATE_HZ, &["inbound"]),
        ),
    ];
    for (i, frame) in frames.iter().enumerate() {
        script.push(("media", stream_frames.media("inbound", i as u64 + 1, frame)));
    }
    script.push(("stop", stream_frames.stop()));
    let send_deadline = tokio::time::Instant::now() + timeout;
    for (name, text) in script {
        if closed.load(Ordering::SeqCst) {
            break;
        }
        match tokio::time::timeout_at(send_deadline, sink.send(Message::text(text))).await {
            Ok(Ok(())) => sent.push(name),
            Ok(Err(e)) => {
                send_error = Some(e.to_string());
                break;
            }
            Err(_) => {
                send_error = Some(format!(
                    "the server stopped reading: sending took longer than {timeout:?}"
                ));
                break;
            }
        }
        if name == "start" {
            let grace_until = tokio::time::Instant::now() + START_GRACE;
            while tokio::time::Instant::now() < grace_until && !closed.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
    let completed = sent.last() == Some(&"stop");
    if completed {
        let bye = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        let _ = tokio::time::timeout(
            Duration::from_millis(500),
            sink.send(Message::Close(Some(bye))),
        )
        .await;
    }
    let reader_wait = Duration::from_secs(2).min(timeout);
    let (received, received_count, close) = match tokio::time::timeout(reader_wait, reader).await {
        Ok(Ok(outcome)) => outcome,
        _ => (
            Vec::new(),
            0,
            Some(json!({"close": {"error": "the server did not answer our close"}})),
        ),
    };
    let media_sent = sent.iter().filter(|n| **n == "media").count();
    let last = sent.last().copied().unwrap_or("nothing");
    let close_text = close
        .as_ref()
        .and_then(|c| c.get("close"))
        .map(websocket::describe_close)
        .unwrap_or_else(|| "no close".into());
    let details = json!({
        "headers_sent": sent_headers,
        "media_format": {"encoding": "PCMU", "sample_rate": SAMPLE_RATE_HZ, "channels": 1},
        "sent": {
            "connected": sent.contains(&"connected"),
            "start": sent.contains(&"start"),
            "media": media_sent,
            "stop": sent.contains(&"stop"),
        },
        "last_sent": last,
        "send_error": send_error,
        "received_count": received_count,
        "received": received,
        "close": close,
    });
    if !completed {
        let summary = format!(
            "the server ended the stream after `{last}` ({media_sent} media frame(s) sent): {}",
            send_error.clone().unwrap_or(close_text)
        );
        return fail(started, CauseId::StreamRejected, summary, details);
    }
    let summary = format!(
        "sent connected, start (PCMU/8000), {media_sent} media frames ({:.1} s), stop; the server sent {received_count} message(s) back; {close_text}",
        (media_sent as u64 * FRAME_MS) as f64 / 1000.0
    );
    CheckResult::from_findings(
        CheckId::Provider,
        summary,
        millis(started.elapsed()),
        details,
        Vec::new(),
    )
}
