//! The `url` check: parses the stream URL and lints it for what breaks providers (wrong scheme,
//! no host, query strings, and leftovers of templating such as `{id}`, `:id` or `undefined`).

use std::time::Instant;

use crate::catalog::{CauseId, CheckId, Finding};
use crate::check::CheckResult;
use crate::check::evidence::{UrlEvidence, UrlParts};
use crate::clock::millis;
use crate::net::target::{Target, template_leftovers};

pub fn check(raw: &str) -> (CheckResult, Option<Target>) {
    let started = Instant::now();
    let mut findings = Vec::new();
    let target = match Target::parse(raw) {
        Ok(target) => Some(target),
        Err(problem) => {
            findings.push(Finding {
                cause: CauseId::UrlInvalid,
                summary: problem.to_string(),
                severity: None,
            });
            None
        }
    };
    let leftovers = template_leftovers(raw);
    if !leftovers.is_empty() {
        findings.push(Finding {
            cause: CauseId::UrlTemplateUnexpanded,
            summary: format!("placeholder left in the URL: {}", leftovers.join(", ")),
            severity: None,
        });
    }
    let parts = match &target {
        Some(t) => {
            if !t.secure {
                findings.push(Finding {
                    cause: CauseId::UrlInsecureScheme,
                    summary: "ws:// sends audio unencrypted; use wss://".into(),
                    severity: None,
                });
            }
            if let Some(query) = t.url.query() {
                findings.push(Finding {
                    cause: CauseId::UrlQueryString,
                    summary: format!("query string '?{query}'"),
                    severity: None,
                });
            }
            UrlParts::Parsed {
                scheme: t.url.scheme().to_string(),
                host: t.host.clone(),
                port: t.port,
                path: t.url.path().to_string(),
                query: t.url.query().map(str::to_string),
            }
        }
        None => UrlParts::Unparsed {
            input: raw.to_string(),
        },
    };
    let summary = match (&target, findings.first()) {
        (Some(t), None) => format!("{}://{}:{}{}", t.url.scheme(), t.host, t.port, t.url.path()),
        (_, Some(first)) => first.summary.clone(),
        (None, None) => "not a URL".into(),
    };
    let evidence = UrlEvidence {
        parts,
        template_leftovers: leftovers,
    };
    let result = CheckResult::from_findings(
        CheckId::Url,
        summary,
        millis(started.elapsed()),
        evidence,
        findings,
    );
    (result, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn causes(raw: &str) -> Vec<CauseId> {
        check(raw).0.findings.iter().map(|f| f.cause).collect()
    }

    #[test]
    fn lint_table() {
        use CauseId::*;
        let table: &[(&str, &[CauseId])] = &[
            ("wss://api.example.com/api/calls/123/audio", &[]),
            ("wss://api.example.com:8443/a", &[]),
            (
                "wss://api.tavarios.com/api/calls/{callSessionId}/audio",
                &[UrlTemplateUnexpanded],
            ),
            (
                "wss://h.example/api/calls/${id}/audio",
                &[UrlTemplateUnexpanded],
            ),
            (
                "wss://h.example/api/calls/%7BcallSessionId%7D/audio",
                &[UrlTemplateUnexpanded],
            ),
            (
                "wss://h.example/api/calls/:id/audio",
                &[UrlTemplateUnexpanded],
            ),
            (
                "wss://h.example/api/calls/undefined/audio",
                &[UrlTemplateUnexpanded],
            ),
            ("wss://h.example/api/calls/null", &[UrlTemplateUnexpanded]),
            ("wss://h.example/a?call=123", &[UrlQueryString]),
            (
                "wss://h.example/a?call=undefined",
                &[UrlTemplateUnexpanded, UrlQueryString],
            ),
            ("ws://h.example/a", &[UrlInsecureScheme]),
            ("https://h.example/a", &[UrlInvalid]),
            ("ftp://h.example/a", &[UrlInvalid]),
            ("not a url", &[UrlInvalid]),
            ("", &[UrlInvalid]),
            ("wss:///path-only", &[UrlInvalid]),
        ];
        for (raw, expected) in table {
            assert_eq!(&causes(raw), expected, "for {raw:?}");
        }
    }

    #[test]
    fn port_in_the_authority_is_not_a_route_parameter() {
        assert!(template_leftovers("wss://h.example:8443/a/b").is_empty());
        assert!(template_leftovers("wss://h.example/calls/v3:AbC-1_x/audio").is_empty());
    }
}
