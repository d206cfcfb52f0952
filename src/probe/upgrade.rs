//! The `upgrade` check: the upgrade request written by hand over the connection the earlier
//! checks opened (`net::upgrade` records exactly what came back), judged by its status,
//! `Sec-WebSocket-Accept` and who answered (a platform's edge page, a proxy, the app). Where
//! a second attempt could change the verdict it makes one: after a pause, for a service that
//! may be asleep; with an `Origin` header, for a server that refused without one. An upgrade
//! that passes hands its connection on, open, to the `websocket` check.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::catalog::{CauseId, CheckId, Finding, Provider};
use crate::check::CheckResult;
use crate::check::evidence::{Retry, RetryReason, UpgradeEvidence};
use crate::check::options::CheckOptions;
use crate::clock::millis;
use crate::edge::{self, AnsweredBy, AnswererKind, EdgeSignal};
use crate::net::connect::{self, BoxedIo, Verify};
use crate::net::target::Target;
use crate::net::upgrade::{self, Ask, Upgraded, exchange};
use crate::records::exchange::{Exchange, Problem};

/// The cause a non-upgrading HTTP status points at.
pub(crate) fn status_cause(status: u16) -> CauseId {
    match status {
        300..=399 => CauseId::HttpRedirect,
        401 | 403 => CauseId::HttpAuthRequired,
        404 => CauseId::HttpNotFound,
        400..=499 if status != 426 => CauseId::HttpUpgradeRejected,
        500..=599 => CauseId::HttpServerError,
        _ => CauseId::HttpUpgradeIgnored,
    }
}

/// Who answered an exchange, where it can be told.
pub(crate) fn answered_by(exchange: &Exchange) -> Option<AnsweredBy> {
    exchange.status?;
    edge::from_response(&response(exchange))
}

fn response(exchange: &Exchange) -> edge::Response<'_> {
    edge::Response {
        status: exchange.status.unwrap_or_default(),
        headers: &exchange.headers,
        body: &exchange.body_excerpt,
    }
}

/// " from Railway's edge", " from your app (uvicorn)", or nothing when it cannot be told.
fn from_whom(by: Option<&AnsweredBy>) -> String {
    by.map(|b| format!(" from {}", b.describe()))
        .unwrap_or_default()
}

/// Whether `location` sends the client back to the target itself (scheme aside).
fn points_back(location: &str, target: &Target) -> bool {
    let Ok(resolved) = target.url.join(location) else {
        return false;
    };
    let port = |url: &url::Url| {
        url.port().unwrap_or(match url.scheme() {
            "https" | "wss" => 443,
            _ => 80,
        })
    };
    let same_port = port(&resolved) == target.port
        || (target.url.port().is_none() && matches!(port(&resolved), 80 | 443));
    resolved.host_str() == target.url.host_str()
        && same_port
        && resolved.path() == target.url.path()
}

/// The finding for an exchange that did not upgrade (None when it did).
pub(crate) fn finding(exchange: &Exchange, target: &Target) -> Option<Finding> {
    let found = |cause, summary| {
        Some(Finding {
            cause,
            summary,
            severity: None,
        })
    };
    if let Some(problem) = &exchange.problem {
        let cause = match problem {
            Problem::Timeout(_) => CauseId::WsHandshakeTimeout,
            Problem::Malformed(_) | Problem::Closed(_) | Problem::Io(_) => {
                CauseId::HttpMalformedResponse
            }
        };
        return found(cause, problem.to_string());
    }
    let status = exchange.status?;
    let line = exchange.status_line.clone().unwrap_or_default();
    if status == 101 {
        if exchange.accept_ok {
            return None;
        }
        let got = exchange
            .header("Sec-WebSocket-Accept")
            .unwrap_or("(missing)");
        let summary = format!(
            "101 with Sec-WebSocket-Accept '{got}', expected '{}'",
            exchange.accept_expected
        );
        return found(CauseId::WsBadAccept, summary);
    }
    if let Some((signal, by)) = edge::edge_answer(&response(exchange)) {
        let from = by.describe();
        let (cause, meaning) = match signal {
            EdgeSignal::AppNotListening => (
                CauseId::PlatformAppNotListening,
                "nothing listens on the port the platform forwards to",
            ),
            EdgeSignal::NoAppForDomain => (
                CauseId::PlatformNoAppForDomain,
                "the edge knows no running app for this host",
            ),
            EdgeSignal::TunnelOffline => (
                CauseId::PlatformNoAppForDomain,
                "the tunnel's agent is not running, or the URL is an old one",
            ),
            EdgeSignal::Challenge => (
                CauseId::PlatformWafChallenge,
                "a bot check that only browsers pass",
            ),
        };
        return found(cause, format!("'{line}' from {from}: {meaning}"));
    }
    let by = answered_by(exchange);
    let from = from_whom(by.as_ref());
    if by.as_ref().is_some_and(|b| b.name == "uvicorn") {
        // With a WebSocket library installed, uvicorn hands every upgrade to it, and its
        // refusals carry no `server: uvicorn`; this answer is uvicorn's plain HTTP path.
        let summary = format!(
            "'{line}'{from}: uvicorn answered the upgrade as plain HTTP, which it does when no WebSocket library is installed"
        );
        return found(CauseId::AppWebsocketSupportMissing, summary);
    }
    if status == 400 && exchange.body_excerpt.contains("Transport unknown") {
        let summary = format!(
            "'{line}' with \"Transport unknown\": a Socket.IO (Engine.IO) server, which refuses plain WebSocket clients"
        );
        return found(CauseId::AppSocketioProtocol, summary);
    }
    let mut cause = status_cause(status);
    let mut summary = format!("'{line}'{from}");
    if let Some(location) = exchange.header("Location") {
        if points_back(location, target) {
            cause = CauseId::HttpRedirectLoop;
            summary.push_str(&format!(
                " to {location}: the same address again, so no client ever arrives"
            ));
        } else {
            summary.push_str(&format!(" to {location}"));
        }
    }
    if let Some(auth) = exchange.header("WWW-Authenticate") {
        summary.push_str(&format!(" (WWW-Authenticate: {auth})"));
    }
    if cause == CauseId::HttpUpgradeIgnored {
        summary.push_str(" instead of 101 Switching Protocols");
    }
    found(cause, summary)
}

/// Words of a refusal that speaks of credentials: a server that checks them says so.
const CREDENTIAL_WORDS: [&str; 9] = [
    "token",
    "auth",
    "credential",
    "login",
    "signature",
    "api key",
    "apikey",
    "jwt",
    "password",
];

/// A 403 that asks for nothing: no `WWW-Authenticate`, and a body that is empty or says
/// nothing of credentials. Frameworks answer so to a WebSocket at a route they do not have.
fn bare_refusal(exchange: &Exchange) -> bool {
    let body = exchange.body_excerpt.to_ascii_lowercase();
    exchange.status == Some(403)
        && exchange.header("WWW-Authenticate").is_none()
        && !CREDENTIAL_WORDS.iter().any(|word| body.contains(word))
}

/// The dummy credential a bare 403 is asked again with: any value a credential check would
/// refuse differently from a missing route.
const DUMMY_AUTHORIZATION: &str = "Bearer stream-doctor-probe";

/// Where Engine.IO answers its handshake, whatever path the app's other routes use.
const SOCKET_IO_PROBE: &str = "/socket.io/?EIO=4&transport=polling";

/// Whether a Socket.IO server answers beside the target: it drops a plain WebSocket upgrade at
/// any other path (after a second, with no answer) and opens its own session at its path.
async fn socket_io(addr: SocketAddr, target: &Target, options: &CheckOptions) -> Option<Exchange> {
    let verify = Verify::Provider(&options.extra_roots);
    let io = connect::open(addr, target, verify, options.timeout)
        .await
        .ok()?;
    let probe = upgrade::get(io, target, SOCKET_IO_PROBE, options.timeout).await;
    let engine_io = probe.status == Some(200) && edge::engine_io_open(&probe.body_excerpt);
    engine_io.then_some(probe)
}

/// A server that did not answer is given this long before the second attempt (less when the
/// deadline is short).
const WAKE_PAUSE: Duration = Duration::from_secs(3);
/// A platform's edge page for a sleeping service is asked again after this pause, doubled for
/// each attempt up to `WAKE_MAX_PAUSE`, for `WAKE_BUDGET` (or the check's deadline when that is
/// longer): Railway answers "Application failed to respond" or "Application not found" for
/// several seconds while a service wakes.
const WAKE_FIRST_PAUSE: Duration = Duration::from_millis(500);
const WAKE_MAX_PAUSE: Duration = Duration::from_secs(3);
const WAKE_BUDGET: Duration = Duration::from_secs(10);

/// Whether `finding` is a platform edge's own page for an app that is not (yet) there: the
/// answer a sleeping service gives while it wakes.
fn cold_answer(finding: &Finding, exchange: &Exchange) -> bool {
    matches!(
        finding.cause,
        CauseId::PlatformAppNotListening | CauseId::PlatformNoAppForDomain
    ) || (finding.cause == CauseId::HttpServerError
        && answered_by(exchange).is_some_and(|b| b.kind != AnswererKind::App))
}

/// Why a second attempt could change the verdict, if it could.
fn retry_reason(first: &Finding, exchange: &Exchange, origin_sent: bool) -> Option<RetryReason> {
    let no_answer = exchange.received_bytes == 0
        && matches!(
            exchange.problem,
            Some(Problem::Timeout(_)) | Some(Problem::Closed(_))
        );
    if no_answer || cold_answer(first, exchange) {
        return Some(RetryReason::ColdStart);
    }
    let refused = matches!(exchange.status, Some(400 | 401 | 403));
    (refused && !origin_sent && first.cause != CauseId::HttpRedirectLoop)
        .then_some(RetryReason::WithOrigin)
}

/// "a second one", "attempt 4" (counting the first).
fn nth_attempt(attempts: usize) -> String {
    match attempts {
        1 => "a second one".into(),
        n => format!("attempt {}", n + 1),
    }
}

/// The verdict once the last of `attempts` more attempts is in, `after` the first answer.
fn after_retry(
    first: Finding,
    why: RetryReason,
    after: Duration,
    attempts: usize,
    last: &Exchange,
) -> Finding {
    let secs = after.as_secs_f64();
    let second = last;
    if second.upgraded() {
        return match why {
            RetryReason::ColdStart => Finding {
                cause: CauseId::PlatformColdStart,
                summary: format!(
                    "the first upgrade got {}; {} ({secs:.1} s later) switched to WebSocket: the service was asleep, and the provider tries only once",
                    first.summary,
                    nth_attempt(attempts)
                ),
                severity: None,
            },
            RetryReason::WithOrigin => Finding {
                cause: CauseId::HttpOriginRequired,
                summary: format!(
                    "{} without an Origin header; with one it switches to WebSocket: the server checks Origin, and providers send none",
                    first.summary
                ),
                severity: None,
            },
            RetryReason::WithAuthorization => Finding {
                cause: CauseId::HttpAuthRequired,
                summary: format!(
                    "{} without an Authorization header; with one it switches to WebSocket",
                    first.summary
                ),
                severity: None,
            },
        };
    }
    let again = second
        .status_line
        .clone()
        .or_else(|| second.problem.as_ref().map(ToString::to_string))
        .unwrap_or_else(|| "no answer".into());
    let summary = match (why, first.cause) {
        (RetryReason::ColdStart, CauseId::PlatformNoAppForDomain) if attempts > 1 => format!(
            "{}; {attempts} more attempts over {secs:.1} s got the same, so it is not a sleeping service",
            first.summary
        ),
        (RetryReason::ColdStart, CauseId::PlatformNoAppForDomain) => format!(
            "{}; a second attempt {secs:.1} s later got the same, so it is not a sleeping service",
            first.summary
        ),
        (RetryReason::ColdStart, _) if attempts > 1 => format!(
            "{} ({attempts} more attempts over {secs:.1} s, the last: {again})",
            first.summary
        ),
        (RetryReason::ColdStart, _) => {
            format!(
                "{} (a second attempt {secs:.1} s later: {again})",
                first.summary
            )
        }
        (RetryReason::WithOrigin, _) => {
            format!("{} (with an Origin header too: {again})", first.summary)
        }
        (RetryReason::WithAuthorization, _) => {
            format!("{} (with an Authorization header: {again})", first.summary)
        }
    };
    Finding {
        cause: first.cause,
        summary,
        severity: None,
    }
}

/// Asks a platform's sleeping service again and again, with a growing pause, until it
/// upgrades, answers something other than the edge's cold page, or the budget is spent.
/// `on_attempt` hears the number of each attempt (the first upgrade was 1) as it starts.
async fn wake(
    addr: SocketAddr,
    target: &Target,
    ask: Ask<'_>,
    options: &CheckOptions,
    on_attempt: &(dyn Fn(u32) + Send + Sync),
) -> Vec<Retry> {
    let budget = WAKE_BUDGET.max(options.timeout);
    let started = Instant::now();
    let mut pause = WAKE_FIRST_PAUSE;
    let mut attempts = Vec::new();
    loop {
        tokio::time::sleep(pause).await;
        let after = started.elapsed();
        on_attempt(attempts.len() as u32 + 2);
        let exchange = again(addr, target, ask, options).await;
        let cold = finding(&exchange, target).is_some_and(|f| cold_answer(&f, &exchange));
        attempts.push(Retry {
            why: RetryReason::ColdStart,
            after_ms: millis(after),
            answered_by: answered_by(&exchange),
            exchange,
        });
        pause = (pause * 2).min(WAKE_MAX_PAUSE);
        if !cold || started.elapsed() + pause > budget {
            return attempts;
        }
    }
}

/// The upgrade once more on a new connection (a problem connecting is the exchange's).
async fn again(
    addr: SocketAddr,
    target: &Target,
    ask: Ask<'_>,
    options: &CheckOptions,
) -> Exchange {
    let verify = Verify::Provider(&options.extra_roots);
    match connect::open(addr, target, verify, options.timeout).await {
        Ok(io) => exchange(io, target, &target.path_and_query, ask, options.timeout).await,
        Err(e) => Exchange {
            problem: Some(Problem::Io(e.to_string())),
            ..Exchange::default()
        },
    }
}

/// The verdict on a bare 403 once it was asked again with a dummy Authorization header.
fn after_authorization(first: &Exchange, tried_origin: bool, third: &Exchange) -> Finding {
    let line = first.status_line.clone().unwrap_or_default();
    let from = from_whom(answered_by(first).as_ref());
    let again = third
        .status_line
        .clone()
        .or_else(|| third.problem.as_ref().map(ToString::to_string))
        .unwrap_or_else(|| "no answer".into());
    let (cause, summary) = if third.upgraded() {
        (
            CauseId::HttpAuthRequired,
            format!(
                "'{line}'{from} without an Authorization header; with one (any value) it switches to WebSocket: the server wants an Authorization header, which the provider does not send"
            ),
        )
    } else if bare_refusal(third) {
        let origin = if tried_origin {
            " with an Origin header and"
        } else {
            ""
        };
        (
            CauseId::AppNoWebsocketRoute,
            format!(
                "'{line}'{from}, and the same{origin} with an Authorization header: no credential changes it, so no WebSocket route answers at this path"
            ),
        )
    } else {
        (
            CauseId::HttpAuthRequired,
            format!("'{line}'{from} (with an Authorization header: {again})"),
        )
    };
    Finding {
        cause,
        summary,
        severity: None,
    }
}

/// A session the upgrade opened, for the `websocket` check to continue.
pub(crate) struct Opened {
    pub upgraded: Upgraded,
    pub answered_by: Option<AnsweredBy>,
}

/// What the upgrade check hands on: its result, and the open session when it passed.
pub(crate) struct Upgrade {
    pub result: CheckResult,
    pub opened: Option<Opened>,
}

/// `on_attempt` hears each further attempt at waking a sleeping service, by number;
/// `on_first` hears the first answer at once (the `paths` check reads the target's row from it
/// instead of asking again).
pub(crate) async fn check(
    io: BoxedIo,
    addr: SocketAddr,
    target: &Target,
    options: &CheckOptions,
    on_attempt: &(dyn Fn(u32) + Send + Sync),
    on_first: &(dyn Fn(&Exchange) + Send + Sync),
) -> Upgrade {
    let started = Instant::now();
    let timeout = options.timeout;
    let headers = super::request_headers(options, target.url.as_str());
    let origin_sent = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("origin"));
    let ask = Ask {
        headers: &headers,
        origin: None,
    };
    let path = &target.path_and_query;
    let (first, upgraded) = upgrade::exchange_open(io, target, path, ask, timeout).await;
    on_first(&first);
    let mut finding = finding(&first, target);
    let mut answered = answered_by(&first);
    let suspect_socket_io = !first.upgraded()
        && (first.received_bytes == 0
            || matches!(first.status, Some(400 | 404))
            || bare_refusal(&first));
    let socket_io = match &finding {
        Some(f) if suspect_socket_io && f.cause != CauseId::AppSocketioProtocol => {
            socket_io(addr, target, options).await
        }
        _ => None,
    };
    if let Some(probe) = &socket_io {
        let answer = first
            .status_line
            .clone()
            .or_else(|| first.problem.as_ref().map(ToString::to_string))
            .unwrap_or_default();
        finding = Some(Finding {
            cause: CauseId::AppSocketioProtocol,
            summary: format!(
                "the upgrade got {answer}, while {SOCKET_IO_PROBE} answers as Socket.IO (Engine.IO) does: the server speaks Socket.IO, which plain WebSocket clients such as the provider cannot use"
            ),
            severity: None,
        });
        answered = Some(AnsweredBy::new(
            AnswererKind::App,
            "socket.io",
            format!(
                "{SOCKET_IO_PROBE} opened an Engine.IO session ({})",
                probe.status_line.as_deref().unwrap_or_default()
            ),
        ));
    }
    let mut retries = Vec::new();
    let waking = socket_io.is_none() && finding.as_ref().is_some_and(|f| cold_answer(f, &first));
    if waking {
        retries = wake(addr, target, ask, options, on_attempt).await;
        if let Some(last) = retries.last() {
            let after = Duration::from_secs_f64(last.after_ms / 1000.0);
            let (why, count) = (RetryReason::ColdStart, retries.len());
            finding = finding.map(|f| after_retry(f, why, after, count, &last.exchange));
        }
    }
    if let Some(why) = finding
        .as_ref()
        .filter(|_| socket_io.is_none() && retries.is_empty())
        .and_then(|f| retry_reason(f, &first, origin_sent))
    {
        let pause = match why {
            RetryReason::ColdStart => WAKE_PAUSE.min(timeout / 2),
            RetryReason::WithOrigin | RetryReason::WithAuthorization => Duration::ZERO,
        };
        tokio::time::sleep(pause).await;
        let origin = format!("https://{}", target.host_header());
        let ask = Ask {
            origin: (why == RetryReason::WithOrigin).then_some(origin.as_str()),
            ..ask
        };
        let second = again(addr, target, ask, options).await;
        finding = finding.map(|f| after_retry(f, why, pause, 1, &second));
        retries.push(Retry {
            why,
            after_ms: millis(pause),
            answered_by: answered_by(&second),
            exchange: second,
        });
    }
    let authorization_sent = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
    let still_bare = retries.iter().all(|r| bare_refusal(&r.exchange));
    let auth_verdict = finding
        .as_ref()
        .is_some_and(|f| f.cause == CauseId::HttpAuthRequired);
    // A server that validates Twilio's signature refuses a missing or wrong one with the same
    // bare 403 whatever else is sent; no dummy header tells that apart from a missing route.
    let twilio_signature =
        (options.protocol == Provider::Twilio).then_some(options.twilio_auth_token.is_some());
    let asks = auth_verdict && bare_refusal(&first) && still_bare && !authorization_sent;
    if asks && twilio_signature.is_none() {
        let mut with_authorization = headers.clone();
        with_authorization.push(("Authorization".into(), DUMMY_AUTHORIZATION.into()));
        let ask = Ask {
            headers: &with_authorization,
            origin: None,
        };
        let third = again(addr, target, ask, options).await;
        let tried_origin = origin_sent || !retries.is_empty();
        finding = Some(after_authorization(&first, tried_origin, &third));
        retries.push(Retry {
            why: RetryReason::WithAuthorization,
            after_ms: 0.0,
            answered_by: answered_by(&third),
            exchange: third,
        });
    }
    let mut retries = retries.into_iter();
    let retry = retries.next().map(Box::new);
    let further = retries.collect();
    let summary = match &finding {
        Some(f) => f.summary.clone(),
        None => format!(
            "{}{} in {:.1} ms, Sec-WebSocket-Accept correct",
            first.status_line.clone().unwrap_or_default(),
            from_whom(answered_by(&first).as_ref()),
            first.response_ms
        ),
    };
    let opened = match upgraded {
        Some(upgraded) if finding.is_none() => Some(Opened {
            upgraded,
            answered_by: answered.clone(),
        }),
        Some(unused) => {
            unused.close().await;
            None
        }
        None => None,
    };
    let evidence = UpgradeEvidence {
        answered_by: answered,
        exchange: first,
        retry,
        further,
        twilio_signature,
    };
    let result = CheckResult::from_findings(
        CheckId::Upgrade,
        summary,
        millis(started.elapsed()),
        evidence,
        finding.into_iter().collect(),
    );
    Upgrade { result, opened }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_to_the_same_address_is_a_loop() {
        let target = Target::parse("wss://api.example.com/api/calls/1/audio").expect("url");
        for location in [
            "https://api.example.com/api/calls/1/audio",
            "https://api.example.com:443/api/calls/1/audio",
            "/api/calls/1/audio",
        ] {
            assert!(points_back(location, &target), "{location}");
        }
        for location in [
            "https://api.example.com/other",
            "https://www.example.com/api/calls/1/audio",
            "https://api.example.com:8443/api/calls/1/audio",
        ] {
            assert!(!points_back(location, &target), "{location}");
        }
    }

    #[test]
    fn statuses_map_to_causes() {
        let table = [
            (301, CauseId::HttpRedirect),
            (308, CauseId::HttpRedirect),
            (401, CauseId::HttpAuthRequired),
            (403, CauseId::HttpAuthRequired),
            (404, CauseId::HttpNotFound),
            (400, CauseId::HttpUpgradeRejected),
            (426, CauseId::HttpUpgradeIgnored),
            (200, CauseId::HttpUpgradeIgnored),
            (502, CauseId::HttpServerError),
        ];
        for (status, cause) in table {
            assert_eq!(status_cause(status), cause, "{status}");
        }
    }
}
