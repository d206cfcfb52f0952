//! The Telnyx REST API, read with the user's key (docs/providers.md): the
//! webhook delivery log, a call's events, its status, the Call Control application, and
//! starting or stopping a stream on a live call. A deadline per request; pagination
//! (`page[number]`, `page[size]`, `meta.total_pages`); 429 retried at most twice within 10 s
//! after `retry-after` or `x-ratelimit-reset`; each error envelope turned into one sentence
//! with its HTTP status. The key is a `Secret`: it reaches the `Authorization` header and
//! nothing else.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use crate::net::tls::{Verifier, client_config};
use crate::records::telnyx_api::{Answer, Item, RequestRecord, Typed};
use crate::secret::Secret;

pub const DEFAULT_BASE: &str = "https://api.telnyx.com/v2";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Items a page asks for.
const PAGE_SIZE: usize = 50;
/// A 429 is waited out at most this many times, and never past `RATE_LIMIT_BUDGET`.
const RATE_LIMIT_RETRIES: usize = 2;
const RATE_LIMIT_BUDGET: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The API answered with an error: one sentence, the HTTP status in it.
    #[error("{0}")]
    Refused(String),
    #[error("the API did not answer {path} within {secs} s")]
    Timeout { path: String, secs: f64 },
    #[error("the API could not be reached: {0}")]
    Unreachable(String),
    #[error("the API's answer to {path} is not the JSON it documents: {why}")]
    Shape { path: String, why: String },
    #[error("the HTTP client could not be set up: {0}")]
    Client(String),
}

/// One entry of the error envelope; the docs say `detail`, the SDK model `description`.
#[derive(Debug, Default, Deserialize)]
struct ApiErrorEntry {
    #[serde(default)]
    code: Value,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Envelope {
    #[serde(default)]
    errors: Vec<ApiErrorEntry>,
}

#[derive(Debug, Default, Deserialize)]
struct Meta {
    #[serde(default)]
    page_number: Option<u64>,
    #[serde(default)]
    total_pages: Option<u64>,
}

/// The one sentence an error answer becomes.
fn sentence(status: StatusCode, path: &str, body: &str) -> String {
    let envelope: Envelope = serde_json::from_str(body).unwrap_or_default();
    let first = envelope.errors.first();
    let code = first
        .map(|e| match &e.code {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        })
        .unwrap_or_default();
    let said = first
        .map(|e| {
            let title = e.title.clone().unwrap_or_default();
            let detail = e.detail.clone().or_else(|| e.description.clone());
            match detail {
                Some(detail) if !title.is_empty() => format!("{title}: {detail}"),
                Some(detail) => detail,
                None => title,
            }
        })
        .filter(|s| !s.is_empty());
    let http = status.as_u16();
    let meaning = match (http, code.as_str()) {
        (401, _) => "the API key was refused".to_string(),
        (403, _) => "the API key may not do this".to_string(),
        (404, _) if path.starts_with("/calls/") => {
            "no such call (or it is older than the API keeps)".to_string()
        }
        (404, _) => format!("the API has no {path}"),
        (422, "90018") => "the call has already ended".to_string(),
        (422, _) => "the API understood the request and refused it".to_string(),
        (429, _) => "the API's rate limit was reached".to_string(),
        (500..=599, _) => "the API failed on its side".to_string(),
        _ => format!("the API refused {path}"),
    };
    let code = if code.is_empty() {
        String::new()
    } else {
        format!(", code {code}")
    };
    match said {
        Some(said) => format!("{meaning} (HTTP {http}{code}): {said}"),
        None => format!("{meaning} (HTTP {http}{code})"),
    }
}

/// How long a 429 asks to wait: `retry-after-ms`, `retry-after` (seconds), or
/// `x-ratelimit-reset` (seconds from now, or a Unix time).
fn wait_for(headers: &reqwest::header::HeaderMap) -> Duration {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    if let Some(ms) = number("retry-after-ms") {
        return Duration::from_secs_f64(ms.max(0.0) / 1000.0);
    }
    if let Some(secs) = number("retry-after") {
        return Duration::from_secs_f64(secs.max(0.0));
    }
    if let Some(reset) = number("x-ratelimit-reset") {
        let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
        let secs = if reset > 1_000_000_000.0 {
            reset - now
        } else {
            reset
        };
        return Duration::from_secs_f64(secs.max(0.0));
    }
    Duration::from_secs(1)
}

pub struct Api {
    client: reqwest::Client,
    base: String,
    key: Secret,
    timeout: Duration,
}

impl Api {
    /// A client for `base` (the documented one when `None`), with one deadline per request.
    pub fn new(key: Secret, base: Option<&str>, timeout: Duration) -> Result<Self, ApiError> {
        let verifier = Verifier::provider(&[]).map_err(|e| ApiError::Client(e.to_string()))?;
        let tls = client_config(verifier as Arc<_>, &[b"http/1.1"])
            .map_err(|e| ApiError::Client(e.to_string()))?;
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(timeout)
            .user_agent(concat!("stream-doctor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Client(e.to_string()))?;
        Ok(Self {
            client,
            base: base
                .unwrap_or(DEFAULT_BASE)
                .trim_end_matches('/')
                .to_string(),
            key,
            timeout,
        })
    }

    /// One request, a 429 waited out at most twice within the budget.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let started = Instant::now();
        let mut waited = 0;
        loop {
            let mut request = self
                .client
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(self.key.expose())
                .query(query);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(|e| self.failure(path, &e))?;
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS && waited < RATE_LIMIT_RETRIES {
                let wait = wait_for(response.headers());
                if started.elapsed() + wait <= RATE_LIMIT_BUDGET {
                    waited += 1;
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            let reset =
                (status == StatusCode::TOO_MANY_REQUESTS).then(|| wait_for(response.headers()));
            let text = response.text().await.map_err(|e| self.failure(path, &e))?;
            if !status.is_success() {
                let mut said = sentence(status, path, &text);
                if let Some(reset) = reset {
                    said.push_str(&format!(
                        "; the limit resets in {:.0} s, try again then",
                        reset.as_secs_f64()
                    ));
                }
                return Err(ApiError::Refused(said));
            }
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text).map_err(|e| ApiError::Shape {
                path: path.to_string(),
                why: e.to_string(),
            });
        }
    }

    fn failure(&self, path: &str, error: &reqwest::Error) -> ApiError {
        if error.is_timeout() {
            ApiError::Timeout {
                path: path.to_string(),
                secs: self.timeout.as_secs_f64(),
            }
        } else {
            // The error's own text can carry the URL, never the key (it is a header).
            ApiError::Unreachable(error.to_string())
        }
    }

    fn data(path: &str, answer: Value) -> Result<Value, ApiError> {
        match answer {
            Value::Object(mut object) => Ok(object.remove("data").unwrap_or(Value::Null)),
            _ => Err(ApiError::Shape {
                path: path.to_string(),
                why: "no {\"data\": …} envelope".into(),
            }),
        }
    }

    /// A GET of one object's `data`, decoded by `view`.
    async fn get(&self, path: &str, view: fn(&Value) -> Typed) -> Result<Answer, ApiError> {
        let answer = self.call(Method::GET, path, &[], None).await?;
        let data = Self::data(path, answer)?;
        Ok(Answer::new(record("GET", path, &[]), data, view))
    }

    /// A list, page after page, until `limit` items or the last page.
    async fn list(
        &self,
        path: &str,
        filters: &[(String, String)],
        limit: usize,
        view: fn(&Value) -> Typed,
    ) -> Result<Answer, ApiError> {
        let size = limit.clamp(1, PAGE_SIZE);
        let mut items = Vec::new();
        let mut first = None;
        for page in 1.. {
            let mut query = filters.to_vec();
            query.push(("page[number]".into(), page.to_string()));
            query.push(("page[size]".into(), size.to_string()));
            first.get_or_insert_with(|| record("GET", path, &query));
            let answer = self.call(Method::GET, path, &query, None).await?;
            let meta: Meta = answer
                .get("meta")
                .and_then(|m| serde_json::from_value(m.clone()).ok())
                .unwrap_or_default();
            let data = Self::data(path, answer)?;
            let Value::Array(page_items) = data else {
                return Err(ApiError::Shape {
                    path: path.to_string(),
                    why: "data is not a list".into(),
                });
            };
            let empty = page_items.is_empty();
            items.extend(page_items);
            let last = meta.page_number.unwrap_or(page) >= meta.total_pages.unwrap_or(page);
            if items.len() >= limit || last || empty {
                break;
            }
        }
        items.truncate(limit);
        let request = first.unwrap_or_else(|| record("GET", path, filters));
        Ok(Answer::new(request, Value::Array(items), view))
    }

    /// `GET /webhook_deliveries`, with the findings the deliveries support.
    pub async fn deliveries(&self, filter: &DeliveryFilter) -> Result<Answer, ApiError> {
        let mut query = Vec::new();
        if let Some(event) = &filter.event {
            query.push(("filter[event_type]".into(), event.clone()));
        }
        if let Some(status) = &filter.status {
            query.push(("filter[status][eq]".into(), status.clone()));
        }
        if let Some(since) = &filter.since {
            query.push(("filter[started_at][gte]".into(), since.clone()));
        }
        if let Some(call) = &filter.call {
            query.push(("filter[webhook][contains]".into(), call.clone()));
        }
        self.list(
            "/webhook_deliveries",
            &query,
            filter.limit,
            Typed::deliveries,
        )
        .await
    }

    /// `GET /call_events` for a leg, a session, or a call (whose leg is looked up first).
    pub async fn events(&self, of: &EventsOf, limit: usize) -> Result<Answer, ApiError> {
        let mut first = None;
        let filter = match of {
            EventsOf::Leg(leg) => ("filter[leg_id]".to_string(), leg.clone()),
            EventsOf::Session(session) => (
                "filter[application_session_id]".to_string(),
                session.clone(),
            ),
            EventsOf::Call(call) => {
                let status = self.call_status(call).await?;
                first = Some(status.request);
                let leg = match status.typed {
                    Typed::Call(Item::Read(status)) => status.call_leg_id,
                    _ => None,
                };
                let leg = leg.ok_or_else(|| ApiError::Shape {
                    path: format!("/calls/{call}"),
                    why: "no call_leg_id".into(),
                })?;
                ("filter[leg_id]".to_string(), leg)
            }
        };
        let mut answer = self
            .list("/call_events", &[filter], limit, Typed::events)
            .await?;
        if let Some(first) = first {
            answer.request = first;
        }
        Ok(answer)
    }

    /// `GET /calls/{id}`: alive or not, duration, start and end.
    pub async fn call_status(&self, call: &str) -> Result<Answer, ApiError> {
        self.get(&format!("/calls/{call}"), Typed::call).await
    }

    /// `GET /call_control_applications/{id}`.
    pub async fn app(&self, id: &str) -> Result<Answer, ApiError> {
        self.get(&format!("/call_control_applications/{id}"), Typed::app)
            .await
    }

    /// `POST /calls/{id}/actions/streaming_start`.
    pub(crate) async fn stream_start(
        &self,
        call: &str,
        start: &StreamStart,
    ) -> Result<Answer, ApiError> {
        let path = format!("/calls/{call}/actions/streaming_start");
        let mut body = serde_json::json!({
            "stream_url": start.url,
            "stream_track": start.track,
        });
        if let Some(codec) = &start.codec {
            body["stream_codec"] = codec.clone().into();
        }
        if let Some(token) = &start.auth_token {
            body["stream_auth_token"] = token.expose().into();
        }
        if let Some(mode) = &start.bidirectional_mode {
            body["stream_bidirectional_mode"] = mode.clone().into();
        }
        if let Some(codec) = &start.bidirectional_codec {
            body["stream_bidirectional_codec"] = codec.clone().into();
        }
        if !start.custom_parameters.is_empty() {
            let parameters: Vec<serde_json::Value> = start
                .custom_parameters
                .iter()
                .map(|(name, value)| serde_json::json!({ "name": name, "value": value }))
                .collect();
            body["custom_parameters"] = parameters.into();
        }
        let answer = self.call(Method::POST, &path, &[], Some(&body)).await?;
        let data = Self::data(&path, answer)?;
        Ok(Answer::new(record("POST", &path, &[]), data, Typed::action))
    }

    /// `POST /calls/{id}/actions/streaming_stop`.
    pub async fn stream_stop(
        &self,
        call: &str,
        stream_id: Option<&str>,
    ) -> Result<Answer, ApiError> {
        let path = format!("/calls/{call}/actions/streaming_stop");
        let body = match stream_id {
            Some(id) => serde_json::json!({ "stream_id": id }),
            None => serde_json::json!({}),
        };
        let answer = self.call(Method::POST, &path, &[], Some(&body)).await?;
        let data = Self::data(&path, answer)?;
        Ok(Answer::new(record("POST", &path, &[]), data, Typed::action))
    }
}

fn record(method: &str, path: &str, query: &[(String, String)]) -> RequestRecord {
    RequestRecord {
        method: method.into(),
        path: path.into(),
        query: query.iter().cloned().collect(),
    }
}

#[derive(Clone, Debug)]
pub struct DeliveryFilter {
    pub event: Option<String>,
    pub status: Option<String>,
    /// RFC 3339.
    pub since: Option<String>,
    /// Only deliveries whose webhook mentions this (a call_control_id).
    pub call: Option<String>,
    pub limit: usize,
}

impl Default for DeliveryFilter {
    fn default() -> Self {
        Self {
            event: None,
            status: None,
            since: None,
            call: None,
            limit: 100,
        }
    }
}

#[derive(Clone, Debug)]
pub enum EventsOf {
    Call(String),
    Leg(String),
    Session(String),
}

#[derive(Clone, Debug)]
pub struct StreamStart {
    pub url: String,
    pub track: String,
    pub codec: Option<String>,
    pub auth_token: Option<Secret>,
    /// `rtp` (the call's codec back, 20 ms to 30 s chunks) or `mp3` (base64 MP3, at most one
    /// message a second); absent, Telnyx plays MP3.
    pub bidirectional_mode: Option<String>,
    /// The codec of what is sent back in `rtp` mode.
    pub bidirectional_codec: Option<String>,
    /// Names and values that reach the stream's `start` message, to tell a test stream apart.
    pub custom_parameters: Vec<(String, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_envelopes_become_one_sentence() {
        let cases = [
            (
                401,
                "/calls/x",
                r#"{"errors":[{"code":"10009","title":"Authentication failed","detail":"Could not understand the provided credentials."}]}"#,
                "the API key was refused (HTTP 401, code 10009): Authentication failed: Could not understand",
            ),
            (
                404,
                "/calls/v3:x",
                r#"{"errors":[{"code":"10005","title":"Resource not found","description":"The requested resource was not found."}]}"#,
                "no such call (or it is older than the API keeps) (HTTP 404, code 10005): Resource not found: The requested resource",
            ),
            (
                422,
                "/calls/v3:x/actions/streaming_start",
                r#"{"errors":[{"code":"90018","title":"Call has already ended"}]}"#,
                "the call has already ended (HTTP 422, code 90018): Call has already ended",
            ),
            (
                502,
                "/calls",
                "<html>bad gateway</html>",
                "the API failed on its side (HTTP 502)",
            ),
        ];
        for (status, path, body, expected) in cases {
            let status = StatusCode::from_u16(status).expect("status");
            let said = sentence(status, path, body);
            assert!(said.starts_with(expected), "{said}");
        }
    }
}
