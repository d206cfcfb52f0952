//! The webhook side of the listener: `POST /webhooks/telnyx` and `POST /webhooks/twilio`
//! (under the token's path when one is set), so one tunnel serves both URLs a provider needs.
//! The body is read under a size and time limit and answered at once (200 `{}`; 400 for what
//! is not JSON, 411 without a length, 413 over 1 MiB, 405 for another method); every POST gets
//! a record, its signature judged by `provider::webhook`.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::catalog::Provider;
use crate::clock;
use crate::net::http::{self, Request};
use crate::provider::webhook::{Keys, MAX_BODY_BYTES};
use crate::records::webhook::WebhookRecord;
use crate::stream::protocol::WebhookPost;

/// The provider whose webhook path this request names, if it names one.
pub(crate) fn route(request: &Request) -> Option<Provider> {
    let path = request.path().trim_end_matches('/');
    Provider::ALL
        .into_iter()
        .find(|p| path.ends_with(&format!("/webhooks/{}", p.name())))
}

/// The URL the provider called, for Twilio's signature: as the edge in front received it.
fn called_url(request: &Request, tls: bool) -> String {
    let scheme = request
        .header("X-Forwarded-Proto")
        .map(|p| p.split(',').next().unwrap_or(p).trim().to_string())
        .unwrap_or_else(|| if tls { "https" } else { "http" }.into());
    let host = request
        .header("X-Forwarded-Host")
        .or_else(|| request.header("Host"))
        .unwrap_or_default();
    format!("{scheme}://{host}{}", request.target)
}

async fn read_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    request: &Request,
    length: usize,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let mut body = request.leftover.clone();
    body.truncate(length);
    let mut rest = vec![0u8; length - body.len()];
    match tokio::time::timeout(timeout, stream.read_exact(&mut rest)).await {
        Ok(Ok(_)) => {
            body.extend_from_slice(&rest);
            Ok(body)
        }
        Ok(Err(e)) => Err(format!("the body ended early: {e}")),
        Err(_) => Err(format!("the body did not arrive within {timeout:?}")),
    }
}

/// Reads, answers and records one webhook POST.
pub(crate) async fn receive<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &Request,
    provider: Provider,
    keys: &Keys,
    tls: bool,
    timeout: Duration,
) -> WebhookRecord {
    let received_at = clock::now();
    let unread = |answer: String, problem: String| {
        (
            answer,
            WebhookRecord::unread(provider, problem, received_at),
        )
    };
    let ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    let (answer, record) = if request.method.eq_ignore_ascii_case("GET") {
        // Telnyx (`webhook_url_method`) and Twilio (StatusCallbackMethod) can deliver by GET;
        // a 405 would count as a failed delivery.
        let url = called_url(request, tls);
        let record = provider.protocol().webhook(&WebhookPost {
            keys,
            get: true,
            headers: &request.headers,
            url: &url,
            body: &[],
            received_at,
        });
        (ok.to_string(), record)
    } else if !request.method.eq_ignore_ascii_case("POST") {
        let problem = format!("a {} request, where webhooks are POSTed", request.method);
        unread(
            http::response(
                405,
                "Method Not Allowed",
                "Allow: GET, POST\r\n",
                "POST webhooks here",
            ),
            problem,
        )
    } else {
        match request
            .header("Content-Length")
            .map(|v| v.trim().parse::<usize>())
        {
            None => unread(
                http::response(411, "Length Required", "", "Content-Length required"),
                "no Content-Length header".into(),
            ),
            Some(Err(_)) => unread(
                http::response(
                    400,
                    "Bad Request",
                    "",
                    "a Content-Length that is not a number",
                ),
                "a Content-Length that is not a number".into(),
            ),
            Some(Ok(length)) if length > MAX_BODY_BYTES => unread(
                http::response(413, "Content Too Large", "", "over 1 MiB"),
                format!("a body of {length} bytes, over the 1 MiB allowed"),
            ),
            Some(Ok(length)) => match read_body(stream, request, length, timeout).await {
                Err(problem) => unread(
                    http::response(400, "Bad Request", "", "incomplete body"),
                    problem,
                ),
                Ok(body) => {
                    let url = called_url(request, tls);
                    let record = provider.protocol().webhook(&WebhookPost {
                        keys,
                        get: false,
                        headers: &request.headers,
                        url: &url,
                        body: &body,
                        received_at,
                    });
                    let answer = if record.readable() {
                        ok.to_string()
                    } else {
                        http::response(400, "Bad Request", "", "not a webhook this listener reads")
                    };
                    (answer, record)
                }
            },
        }
    };
    http::answer(stream, &answer).await;
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_paths_are_routed_under_any_prefix() {
        let request = |target: &str| Request {
            method: "POST".into(),
            target: target.into(),
            ..Request::default()
        };
        assert_eq!(route(&request("/webhooks/telnyx")), Some(Provider::Telnyx));
        assert_eq!(
            route(&request("/tok123/webhooks/twilio/")),
            Some(Provider::Twilio)
        );
        assert_eq!(
            route(&request("/webhooks/telnyx?x=1")),
            Some(Provider::Telnyx)
        );
        assert_eq!(route(&request("/api/calls/1/audio")), None);
    }

    #[test]
    fn the_signed_url_is_the_one_the_edge_received() {
        let request = Request {
            method: "POST".into(),
            target: "/webhooks/twilio?a=1".into(),
            headers: vec![
                ("Host".into(), "127.0.0.1:5001".into()),
                ("X-Forwarded-Proto".into(), "https".into()),
                ("X-Forwarded-Host".into(), "abc.ngrok-free.app".into()),
            ],
            leftover: Vec::new(),
        };
        assert_eq!(
            called_url(&request, false),
            "https://abc.ngrok-free.app/webhooks/twilio?a=1"
        );
    }
}
