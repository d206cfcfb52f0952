//! A stand-in for the Telnyx REST API on 127.0.0.1, answering with the shapes its docs and SDK
//! give (docs/providers.md): bearer auth, the error envelope, `page[number]`/`page[size]` with
//! `meta.total_pages` (at most two items a page, so every list spans pages), webhook
//! deliveries with attempts and header pairs, call events, call status, an application, the
//! streaming actions, 429s with their headers, and a call that never answers. A
//! `streaming_start` toward a `ws://127.0.0.1` URL on `v3:alive` is followed, as the provider
//! would, by a real stream carrying that call id.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use stream_doctor::net::http::read_request;
use stream_doctor::stream::replay::{self, Pace};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const KEY: &str = "KEYtest0123456789abcdefSECRET";
/// The most items a page holds, whatever `page[size]` asks.
const PAGE_MAX: usize = 2;

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct State {
    seen: Vec<Seen>,
    busy_answered: bool,
}

pub struct FakeTelnyx {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeTelnyx {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeTelnyx {
    pub async fn start() -> Self {
        let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = socket.accept().await {
                tokio::spawn(serve(tcp, shared.clone()));
            }
        });
        Self { addr, state, task }
    }

    /// The base the client is pointed at.
    pub fn base(&self) -> String {
        format!("http://{}/v2", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

pub fn deliveries() -> Vec<Value> {
    let pairs = json!([
        ["content-type", "application/json"],
        ["telnyx-timestamp", "1764079331"]
    ]);
    vec![
        json!({"record_type": "webhook_delivery", "id": "d-1", "user_id": "u-1", "status": "delivered",
            "started_at": "2026-11-25T14:02:10Z", "finished_at": "2026-11-25T14:02:10Z",
            "webhook": {"event_type": "streaming.started", "id": "e-1", "occurred_at": "2026-11-25T14:02:10Z",
                "payload": {"call_control_id": "v3:alive", "stream_url": "wss://app.example.com/api/calls/1/audio"}},
            "attempts": [{"status": "delivered", "started_at": "2026-11-25T14:02:10Z", "finished_at": "2026-11-25T14:02:10Z", "errors": [],
                "http": {"request": {"url": "https://app.example.com/webhooks", "headers": pairs},
                         "response": {"status": 200, "headers": [["content-length", "2"]], "body": "{}"}}}]}),
        json!({"record_type": "webhook_delivery", "id": "d-2", "user_id": "u-1", "status": "delivered",
            "started_at": "2026-11-25T14:02:12Z", "finished_at": "2026-11-25T14:02:20Z",
            "webhook": {"event_type": "streaming.failed", "id": "e-2", "occurred_at": "2026-11-25T14:02:12Z",
                "payload": {"call_control_id": "v3:alive", "failure_reason": "connection_failed", "stream_id": "s-9",
                    "stream_type": "websocket", "connection_id": "1684641123236054244",
                    "stream_params": {"stream_url": "wss://app.example.com/api/calls/${id}/audio", "track": "inbound_track"}}},
            // Attempts most recent first; 75499 is the provider's "webhook host returned 4XX",
            // here in the object form of the older reference.
            "attempts": [
                {"status": "delivered", "errors": [], "http": {"request": {"url": "https://app.example.com/webhooks", "headers": pairs},
                    "response": {"status": 200, "headers": [], "body": ""}}},
                {"status": "failed", "errors": [{"code": "75499", "title": "Webhook host returned HTTP 4XX", "detail": "404"}],
                    "http": {"request": {"url": "https://app.example.com/webhooks", "headers": pairs},
                    "response": {"status": 404, "headers": [], "body": "Cannot POST /webhooks\n<html>"}}}]}),
        json!({"record_type": "webhook_delivery", "id": "d-3", "user_id": "u-1", "status": "failed",
            "started_at": "2026-11-25T14:03:00Z", "finished_at": "2026-11-25T14:03:30Z",
            "webhook": {"event_type": "call.hangup", "id": "e-3", "payload": {"call_control_id": "v3:ended"}},
            "attempts": [
                {"status": "failed", "errors": [], "http": {"request": {"url": "https://app.example.com/webhooks", "headers": pairs},
                    "response": {"status": 502, "headers": [["server", "railway-edge"]], "body": "Bad Gateway"}}},
                {"status": "failed", "errors": [75499], "http": {"request": {"url": "https://app.example.com/webhooks", "headers": pairs},
                    "response": {"status": 401, "headers": [], "body": "Unauthorized"}}}]}),
        json!({"record_type": "webhook_delivery", "id": "d-4", "user_id": "u-1", "status": "delivered",
            "started_at": "2026-11-25T14:04:00Z",
            "webhook": {"event_type": "streaming.stopped", "payload": {"call_control_id": "v3:alive"}},
            "attempts": [{"status": "delivered", "http": {"response": {"status": 204}}}]}),
        // A null where a value is expected reads as absent.
        json!({"record_type": "webhook_delivery", "id": "d-5", "user_id": "u-1", "status": "delivered",
            "started_at": "2026-11-25T14:05:00Z", "finished_at": null,
            "webhook": {"event_type": "call.initiated", "payload": {"call_control_id": "v3:other"}},
            "attempts": [{"status": "delivered", "errors": null, "http": {"response": {"status": 200}}}]}),
        // A record that does not read at all is shown as unreadable, never dropped.
        json!({"record_type": "webhook_delivery", "id": "d-6", "user_id": "u-1", "status": "failed",
            "started_at": "2026-11-25T14:06:00Z",
            "webhook": {"event_type": "streaming.failed", "payload": {"call_control_id": "v3:odd"}},
            "attempts": "not a list"}),
    ]
}

fn call_events() -> Vec<Value> {
    let event = |at: &str, name: &str, kind: &str, metadata: Value| {
        json!({"record_type": "call_event", "call_leg_id": "leg-1", "call_session_id": "session-1",
               "event_timestamp": at, "name": name, "type": kind, "metadata": metadata})
    };
    vec![
        event(
            "2026-11-25T14:02:12Z",
            "streaming.failed",
            "webhook",
            json!({"payload": {
            "call_control_id": "v3:alive", "failure_reason": "connection_failed",
            "stream_params": {"stream_url": "wss://app.example.com/api/calls/${id}/audio"}}}),
        ),
        event(
            "2026-11-25T14:02:00Z",
            "call.answered",
            "webhook",
            json!({}),
        ),
        event(
            "2026-11-25T14:02:09Z",
            "streaming_start",
            "command",
            json!({"stream_url": "wss://app.example.com/api/calls/${id}/audio"}),
        ),
        event(
            "2026-11-25T14:02:10Z",
            "streaming.started",
            "webhook",
            json!({}),
        ),
    ]
}

fn envelope(code: &str, title: &str, detail_key: &str, detail: &str) -> Value {
    json!({"errors": [{"code": code, "title": title, detail_key: detail}]})
}

/// A list answer: the page asked for, at most `PAGE_MAX` items.
fn page(items: Vec<Value>, query: &[(String, String)]) -> Value {
    let number: usize = param(query, "page[number]")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let size: usize = param(query, "page[size]")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
        .clamp(1, PAGE_MAX);
    let total_pages = items.len().div_ceil(size).max(1);
    let data: Vec<Value> = items
        .iter()
        .skip((number - 1) * size)
        .take(size)
        .cloned()
        .collect();
    json!({"data": data, "meta": {"page_number": number, "page_size": size,
           "total_pages": total_pages, "total_results": items.len()}})
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

async fn serve(mut tcp: TcpStream, state: Arc<Mutex<State>>) {
    let Ok(request) = read_request(&mut tcp, Duration::from_secs(5)).await else {
        return;
    };
    let length: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = request.leftover.clone();
    while body.len() < length {
        let mut chunk = vec![0u8; length - body.len()];
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let url = url::Url::parse(&format!("http://fake{}", request.target)).unwrap();
    let seen = Seen {
        method: request.method.clone(),
        path: url.path().to_string(),
        query: url.query_pairs().into_owned().collect(),
        authorization: request.header("authorization").map(str::to_string),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    state.lock().unwrap().seen.push(seen.clone());
    let Some(reply) = route(&seen, &state).await else {
        return;
    };
    let reason = match reply.status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        _ => "Whatever",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = tcp.write_all(head.as_bytes()).await;
    let _ = tcp.write_all(reply.body.as_bytes()).await;
    let _ = tcp.shutdown().await;
}

async fn route(seen: &Seen, state: &Arc<Mutex<State>>) -> Option<Reply> {
    if seen.authorization.as_deref() != Some(&format!("Bearer {KEY}")) {
        return Some(reply(
            401,
            envelope(
                "10009",
                "Authentication failed",
                "detail",
                "Could not understand the provided credentials.",
            ),
        ));
    }
    let path = seen.path.strip_prefix("/v2").unwrap_or(&seen.path);
    let q = &seen.query;
    let not_found = || {
        reply(
            404,
            envelope(
                "10005",
                "Resource not found",
                "description",
                "The requested resource or URL could not be found.",
            ),
        )
    };
    Some(match (seen.method.as_str(), path) {
        ("GET", "/webhook_deliveries") => {
            let items = deliveries()
                .into_iter()
                .filter(|d| {
                    param(q, "filter[event_type]").is_none_or(|e| d["webhook"]["event_type"] == e)
                })
                .filter(|d| param(q, "filter[status][eq]").is_none_or(|s| d["status"] == s))
                .filter(|d| {
                    param(q, "filter[started_at][gte]")
                        .is_none_or(|t| d["started_at"].as_str().unwrap_or_default() >= t)
                })
                .filter(|d| {
                    param(q, "filter[webhook][contains]")
                        .is_none_or(|c| d["webhook"].to_string().contains(c))
                })
                .collect();
            reply(200, page(items, q))
        }
        ("GET", "/call_events") => {
            let items = if param(q, "filter[leg_id]") == Some("leg-1") {
                call_events()
            } else {
                Vec::new()
            };
            reply(200, page(items, q))
        }
        ("GET", "/calls/v3:alive") => reply(
            200,
            json!({"data": {"record_type": "call",
            "call_control_id": "v3:alive", "call_leg_id": "leg-1", "call_session_id": "session-1",
            "is_alive": true, "call_duration": 42, "start_time": "2026-11-25T14:01:30Z", "end_time": null}}),
        ),
        ("GET", "/calls/v3:ended") => reply(
            200,
            json!({"data": {"record_type": "call",
            "call_control_id": "v3:ended", "call_leg_id": "leg-2", "call_session_id": "session-2",
            "is_alive": false, "call_duration": 61, "start_time": "2026-11-25T13:00:00Z",
            "end_time": "2026-11-25T13:01:01Z"}}),
        ),
        ("GET", "/calls/v3:hang") => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return None;
        }
        ("GET", "/call_control_applications/app-1") => reply(
            200,
            json!({"data": {
            "record_type": "call_control_application", "id": "app-1", "application_name": "voice-bot",
            "webhook_event_url": "https://app.example.com/webhooks", "webhook_event_failover_url": "",
            "webhook_api_version": "2", "webhook_timeout_secs": 25, "active": false,
            "first_command_timeout": true, "first_command_timeout_secs": 10, "anchorsite_override": "Latency"}}),
        ),
        ("GET", "/call_control_applications/garbage") => Reply {
            status: 200,
            headers: Vec::new(),
            body: "<html>maintenance</html>".into(),
        },
        ("GET", "/call_control_applications/busy") => {
            let first = {
                let mut state = state.lock().unwrap();
                !std::mem::replace(&mut state.busy_answered, true)
            };
            if first {
                Reply {
                    status: 429,
                    headers: vec![
                        ("retry-after", "0".into()),
                        ("x-ratelimit-limit", "100".into()),
                        ("x-ratelimit-remaining", "0".into()),
                    ],
                    body: envelope(
                        "10011",
                        "Too many requests",
                        "detail",
                        "Rate limit exceeded.",
                    )
                    .to_string(),
                }
            } else {
                reply(200, json!({"data": {"id": "busy", "active": true}}))
            }
        }
        ("GET", "/call_control_applications/jammed") => Reply {
            status: 429,
            headers: vec![
                ("x-ratelimit-reset", "30".into()),
                ("x-ratelimit-remaining", "0".into()),
            ],
            body: envelope(
                "10011",
                "Too many requests",
                "detail",
                "Rate limit exceeded.",
            )
            .to_string(),
        },
        ("POST", "/calls/v3:alive/actions/streaming_start") => {
            if let Some(url) = seen.body["stream_url"]
                .as_str()
                .filter(|u| u.starts_with("ws://127.0.0.1"))
            {
                let token = seen.body["stream_auth_token"].as_str().map(str::to_string);
                // `custom_parameters` (an array of {name, value}) reach the `start` message
                // as an object (telnyx-python `action_start_streaming_params.py`).
                let parameters = seen.body["custom_parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| {
                        Some((
                            p["name"].as_str()?.to_string(),
                            p["value"].as_str()?.to_string(),
                        ))
                    })
                    .collect();
                tokio::spawn(stream_to(url.to_string(), "v3:alive", token, parameters));
            }
            reply(200, json!({"data": {"result": "ok"}}))
        }
        ("POST", "/calls/v3:silent/actions/streaming_start") => {
            reply(200, json!({"data": {"result": "ok"}}))
        }
        ("POST", "/calls/v3:ended/actions/streaming_start") => reply(
            422,
            envelope(
                "90018",
                "Call has already ended",
                "detail",
                "This call is no longer active and can't receive commands.",
            ),
        ),
        ("POST", "/calls/v3:alive/actions/streaming_stop") => {
            reply(200, json!({"data": {"result": "ok"}}))
        }
        _ => not_found(),
    })
}

/// What the provider does after an accepted `streaming_start`: connect and stream, with the
/// `stream_auth_token` it was given in the auth header and the `connected` message.
async fn stream_to(
    url: String,
    call: &str,
    token: Option<String>,
    parameters: std::collections::BTreeMap<String, String>,
) {
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut options = super::tone_replay(url, 0.3, Pace::Max, Some(call));
    options.auth_token = token.map(stream_doctor::secret::Secret::new);
    options.custom_parameters = parameters;
    replay::run(&options, &|_| {}).await;
}
