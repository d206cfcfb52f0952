//! The `paths` check: the upgrade at the target path and, when it fails, variants of it all at
//! once, to expose routing that matches a literal or a different pattern (the Node `ws` `path` option
//! is an exact match, so `'/api/calls/:id/audio'` upgrades only that literal text).
//! Certificates are not judged here (the `tls` check does that), so a certificate fault does
//! not hide the routing. The target's own answer is the upgrade check's first one when that
//! check got one: asking again would only cost a connection.

use std::net::SocketAddr;
use std::time::Instant;

use crate::catalog::{CauseId, CheckId, Finding};
use crate::check::evidence::{PathsEvidence, Reached, VariantKind, VariantOutcome};
use crate::check::options::CheckOptions;
use crate::check::{CheckResult, Status};
use crate::clock::millis;
use crate::net::connect::{self, Verify};
use crate::net::target::Target;
use crate::net::upgrade::{self, Ask};
use crate::records::exchange::Exchange;

/// Route patterns people register by mistake in place of the value they stand for.
const ROUTE_PATTERNS: [&str; 3] = [":id", "{id}", "*"];

/// Paths media-stream servers are commonly given (the providers' and frameworks' examples):
/// a route at one of them explains a refusal at the target.
const COMMON_PATHS: [&str; 4] = ["/ws", "/media-stream", "/stream", "/websocket"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Variant {
    pub path: String,
    pub kind: VariantKind,
}

/// Whether a segment is a value rather than a word of the route: a number, a UUID, a
/// provider's call id (`v3:…`, `CA…`, `MZ…`), a short mix of letters and digits, a long token,
/// or a template leftover. Only used to try another value there; the route patterns are
/// tried in every segment whatever it looks like.
fn looks_like_id(segment: &str) -> bool {
    let has_digit = segment.chars().any(|c| c.is_ascii_digit());
    let has_letter = segment.chars().any(|c| c.is_ascii_alphabetic());
    let token_chars = segment
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '='));
    let digits = !segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit());
    let provider_id = segment.starts_with("v3:") || segment.starts_with("v2:");
    let mixed = token_chars && has_digit && has_letter;
    let template = segment.starts_with('{')
        || segment.starts_with(':')
        || segment.starts_with("%7B")
        || segment.starts_with("%7b");
    digits || provider_id || mixed || template || segment == "undefined" || segment == "null"
}

fn other_value(segment: &str) -> String {
    if !segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit()) {
        if segment == "1" {
            "2".into()
        } else {
            "1".into()
        }
    } else if segment.len() == 36 && segment.matches('-').count() == 4 {
        "00000000-0000-4000-8000-000000000000".into()
    } else {
        "test-connection".into()
    }
}

/// The target path and its variants, without duplicates, target first: another value where
/// an id seems to be, each route pattern in every segment, the trailing slash toggled, `/`.
pub(crate) fn variants(path: &str) -> Vec<Variant> {
    let mut out = vec![Variant {
        path: path.to_string(),
        kind: VariantKind::Target,
    }];
    let mut push = |path: String, kind: VariantKind| {
        if !out.iter().any(|v| v.path == path) {
            out.push(Variant { path, kind });
        }
    };
    let segments: Vec<&str> = path.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        if segment.is_empty() || ROUTE_PATTERNS.contains(segment) {
            continue;
        }
        let with = |value: &str| {
            let mut replaced = segments.clone();
            replaced[i] = value;
            replaced.join("/")
        };
        if looks_like_id(segment) {
            push(with(&other_value(segment)), VariantKind::OtherId);
        }
        for pattern in ROUTE_PATTERNS {
            push(with(pattern), VariantKind::RoutePattern);
        }
    }
    let toggled = match path.strip_suffix('/') {
        Some(stripped) if !stripped.is_empty() => stripped.to_string(),
        Some(_) => String::new(),
        None => format!("{path}/"),
    };
    if !toggled.is_empty() {
        push(toggled, VariantKind::TrailingSlash);
    }
    push("/".into(), VariantKind::Root);
    for common in COMMON_PATHS {
        push(common.into(), VariantKind::CommonPath);
    }
    out
}

/// What the connection chain learnt of the target before this check asks anything.
#[derive(Debug)]
pub(crate) enum Known {
    /// The upgrade check's first answer at the target.
    Answer(Exchange),
    /// Nothing: the chain stopped before the upgrade. `slow`: its TLS handshake timed out, so
    /// the target and its variants are asked at once rather than paying that wait twice.
    Nothing { slow: bool },
}

pub(crate) async fn check(
    addr: SocketAddr,
    target: &Target,
    options: &CheckOptions,
    known: Known,
) -> CheckResult {
    let started = Instant::now();
    let path = target.url.path();
    let query = target
        .url
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let all = variants(path);
    let attempt = |variant: &Variant| {
        let full = format!("{}{query}", variant.path);
        // A signature covers the URL, so each variant is signed for its own.
        let mut url = target.url.clone();
        url.set_path(&variant.path);
        let headers = super::request_headers(options, url.as_str());
        async move {
            let headers = &headers;
            match connect::open(addr, target, Verify::Nothing, options.timeout).await {
                Ok(io) => {
                    let ask = Ask {
                        headers,
                        origin: None,
                    };
                    Ok(upgrade::exchange(io, target, &full, ask, options.timeout).await)
                }
                Err(e) => Err(e.to_string()),
            }
        }
    };
    // The target first: the variants explain a target that fails, so a target that upgrades
    // spares the server (and the person waiting) a dozen more connections.
    let mut outcomes: Vec<Result<Exchange, String>> = match known {
        Known::Answer(exchange) => vec![Ok(exchange)],
        Known::Nothing { slow: true } => {
            futures_util::future::join_all(all.iter().map(attempt)).await
        }
        Known::Nothing { slow: false } => vec![attempt(&all[0]).await],
    };
    let variants: &[Variant] = if outcomes[0].as_ref().is_ok_and(Exchange::upgraded) {
        outcomes.truncate(1);
        &all[..1]
    } else {
        if outcomes.len() < all.len() {
            outcomes.extend(futures_util::future::join_all(all[1..].iter().map(attempt)).await);
        }
        &all
    };
    let rows = variants
        .iter()
        .zip(&outcomes)
        .map(|(variant, outcome)| match outcome {
            Ok(x) => VariantOutcome {
                path: variant.path.clone(),
                kind: variant.kind,
                status: x.status,
                upgraded: x.upgraded(),
                reached: Reached::Answered {
                    status_line: x.status_line.clone(),
                    problem: x.problem.clone(),
                },
            },
            Err(e) => VariantOutcome {
                path: variant.path.clone(),
                kind: variant.kind,
                status: None,
                upgraded: false,
                reached: Reached::NotConnected { problem: e.clone() },
            },
        })
        .collect();
    let answered = |o: &Result<Exchange, String>| o.as_ref().is_ok_and(|x| x.status.is_some());
    let upgraded = |o: &Result<Exchange, String>| o.as_ref().is_ok_and(Exchange::upgraded);
    let target_status = outcomes
        .first()
        .and_then(|o| o.as_ref().ok())
        .and_then(|x| x.status_line.clone());
    let winners: Vec<&Variant> = variants
        .iter()
        .zip(&outcomes)
        .skip(1)
        .filter(|(_, o)| upgraded(o))
        .map(|(v, _)| v)
        .collect();
    let evidence = PathsEvidence { variants: rows };
    let elapsed = millis(started.elapsed());
    if outcomes.first().is_some_and(upgraded) {
        let summary =
            "the target path upgrades (its variants are tried only when it does not)".to_string();
        return CheckResult::from_findings(CheckId::Paths, summary, elapsed, evidence, Vec::new());
    }
    if !winners.is_empty() {
        let listed: Vec<String> = winners.iter().map(|v| format!("'{}'", v.path)).collect();
        let mut summary = format!(
            "'{path}' gets '{}', while {} upgrades",
            target_status.unwrap_or_else(|| "no answer".into()),
            listed.join(", ")
        );
        if winners.iter().any(|v| v.kind == VariantKind::RoutePattern) {
            summary
                .push_str(": the server routes the literal pattern (Node ws exact-match `path`)");
        }
        let finding = Finding {
            cause: CauseId::WsPathMismatch,
            summary: summary.clone(),
            severity: None,
        };
        return CheckResult::from_findings(
            CheckId::Paths,
            summary,
            elapsed,
            evidence,
            vec![finding],
        );
    }
    if !outcomes.iter().any(answered) {
        let mut result = CheckResult::skipped(
            CheckId::Paths,
            "no path got an HTTP answer (see the upgrade check)",
        );
        result.duration_ms = elapsed;
        result.details = evidence.into();
        return result;
    }
    let mut result = CheckResult::from_findings(
        CheckId::Paths,
        format!(
            "no variant of the path upgrades either ({} tried): routing by path is not the difference",
            variants.len()
        ),
        elapsed,
        evidence,
        Vec::new(),
    );
    result.status = Status::Pass;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_of_an_id_path() {
        let got: Vec<(String, VariantKind)> = variants("/api/calls/123/audio")
            .into_iter()
            .map(|v| (v.path, v.kind))
            .collect();
        let at = |path: &str| got.iter().find(|(p, _)| p == path).map(|(_, k)| *k);
        assert_eq!(got[0], ("/api/calls/123/audio".into(), VariantKind::Target));
        assert_eq!(at("/api/calls/1/audio"), Some(VariantKind::OtherId));
        for pattern in [
            "/api/calls/:id/audio",
            "/:id/calls/123/audio",
            "/api/calls/123/*",
        ] {
            assert_eq!(at(pattern), Some(VariantKind::RoutePattern), "{pattern}");
        }
        assert_eq!(
            at("/api/calls/123/audio/"),
            Some(VariantKind::TrailingSlash)
        );
        assert_eq!(at("/"), Some(VariantKind::Root));
        assert_eq!(at("/media-stream"), Some(VariantKind::CommonPath));
        assert_eq!(got.len(), 1 + 1 + 4 * 3 + 2 + 4);
    }

    /// Ids as providers and apps make them are values; words of a route are not.
    #[test]
    fn ids_of_every_shape_are_values() {
        for id in [
            "123",
            "32de0dea-53cb-4b21-89a4-9e1819c043bc",
            "v3:Wn3Ydj0XrLk8J9dK3a-Fq_dAZq0m2xN0X1BqUSsYJk4KNtTGQ6zZ8w",
            "CA0123456789abcdef0123456789abcdef",
            "MZ0123456789abcdef0123456789abcdef",
            "a1B2",
            "v2T02llQabc123def456",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dBjftJeZ4CVPmB92K27uhbUJ",
            "{callSessionId}",
        ] {
            assert!(looks_like_id(id), "{id}");
        }
        for word in ["audio", "calls", "api", "stream", ""] {
            assert!(!looks_like_id(word), "{word}");
        }
        assert_eq!(variants("/").len(), 1 + 4);
        assert_eq!(
            variants("/ws").len(),
            1 + 3 + 1 + 1 + 3,
            "the target is not tried twice"
        );
        let slash = variants("/stream/");
        assert!(
            slash
                .iter()
                .any(|v| v.path == "/stream" && v.kind == VariantKind::TrailingSlash)
        );
    }
}
