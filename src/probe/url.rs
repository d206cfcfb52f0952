//! The `url` check: parses the stream URL and lints it for what breaks providers (wrong scheme,
//! no host, query strings, and leftovers of templating such as `{id}`, `:id` or `undefined`).

use std::time::Instant;

use serde_json::json;
use url::Url;

use crate::check::{CheckId, CheckResult, Finding, millis};
use crate::diagnosis::CauseId;

/// A stream URL that is usable for the later checks.
#[derive(Clone, Debug)]
pub struct Target {
    pub url: Url,
    pub secure: bool,
    /// Host as resolved and sent in SNI: no brackets around IPv6 literals.
    pub host: String,
    pub port: u16,
    /// Path and query as sent in the request line.
    pub path_and_query: String,
}

impl Target {
    /// The `Host` header: the port only when it is not the scheme's default.
    pub fn host_header(&self) -> String {
        let host = match self.url.host() {
            Some(url::Host::Ipv6(addr)) => format!("[{addr}]"),
            _ => self.host.clone(),
        };
        if self.url.port().is_some() {
            format!("{host}:{}", self.port)
        } else {
            host
        }
    }
}

pub fn check(raw: &str) -> (CheckResult, Option<Target>) {
    let started = Instant::now();
    let mut findings = Vec::new();
    let target = match parse(raw) {
        Ok(target) => Some(target),
        Err(problem) => {
            findings.push(Finding {
                cause: CauseId::UrlInvalid,
                summary: problem,
            });
            None
        }
    };
    let leftovers = template_leftovers(raw);
    if !leftovers.is_empty() {
        findings.push(Finding {
            cause: CauseId::UrlTemplateUnexpanded,
            summary: format!("placeholder left in the URL: {}", leftovers.join(", ")),
        });
    }
    let details = match &target {
        Some(t) => {
            if !t.secure {
                findings.push(Finding {
                    cause: CauseId::UrlInsecureScheme,
                    summary: "ws:// sends audio unencrypted; use wss://".into(),
                });
            }
            if let Some(query) = t.url.query() {
                findings.push(Finding {
                    cause: CauseId::UrlQueryString,
                    summary: format!("query string '?{query}'"),
                });
            }
            json!({
                "scheme": t.url.scheme(),
                "host": t.host,
                "port": t.port,
                "path": t.url.path(),
                "query": t.url.query(),
                "template_leftovers": leftovers,
            })
        }
        None => json!({ "input": raw, "template_leftovers": leftovers }),
    };
    let summary = match (&target, findings.first()) {
        (Some(t), None) => format!("{}://{}:{}{}", t.url.scheme(), t.host, t.port, t.url.path()),
        (_, Some(first)) => first.summary.clone(),
        (None, None) => "not a URL".into(),
    };
    let result = CheckResult::from_findings(
        CheckId::Url,
        summary,
        millis(started.elapsed()),
        details,
        findings,
    );
    (result, target)
}

fn parse(raw: &str) -> Result<Target, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("the URL is empty".into());
    }
    // The WHATWG parser reads `wss:///x` as host `x`; a person meant an empty host.
    if trimmed
        .split_once("://")
        .is_some_and(|(_, rest)| rest.starts_with('/'))
    {
        return Err("the URL has no host".into());
    }
    let url = Url::parse(trimmed).map_err(|e| format!("not a URL ({e}): '{trimmed}'"))?;
    let secure = match url.scheme() {
        "wss" => true,
        "ws" => false,
        "https" | "http" => {
            return Err(format!(
                "scheme is {}://, a WebSocket URL starts with wss:// (or ws://)",
                url.scheme()
            ));
        }
        other => return Err(format!("scheme '{other}' is not ws or wss")),
    };
    let host = match url.host() {
        Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
        Some(url::Host::Ipv4(a)) => a.to_string(),
        Some(url::Host::Ipv6(a)) => a.to_string(),
        _ => return Err("the URL has no host".into()),
    };
    let port = url
        .port_or_known_default()
        .unwrap_or(if secure { 443 } else { 80 });
    let path_and_query = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    Ok(Target {
        secure,
        host,
        port,
        path_and_query,
        url,
    })
}

/// The placeholders a templating slip leaves behind, as written in the URL.
pub fn template_leftovers(raw: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = raw;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let start = if open > 0 && rest.as_bytes()[open - 1] == b'$' {
            open - 1
        } else {
            open
        };
        found.push(rest[start..open + close + 1].to_string());
        rest = &rest[open + close + 1..];
    }
    let lower = raw.to_ascii_lowercase();
    let mut from = 0;
    while let Some(open) = lower[from..].find("%7b") {
        let open = from + open;
        let Some(close) = lower[open..].find("%7d") else {
            break;
        };
        found.push(raw[open..open + close + 3].to_string());
        from = open + close + 3;
    }
    let after_authority = raw.find("://").map_or(raw, |i| &raw[i + 3..]);
    let path_and_query = after_authority
        .find('/')
        .map_or("", |i| &after_authority[i..]);
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    for segment in path.split('/') {
        let is_param = segment.len() > 1
            && segment.starts_with(':')
            && segment[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if is_param || segment == "undefined" || segment == "null" {
            found.push(segment.to_string());
        }
    }
    for pair in query.split('&') {
        if let Some((_, value)) = pair.split_once('=')
            && (value == "undefined" || value == "null")
        {
            found.push(pair.to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;

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
    }

    #[test]
    fn target_fields() {
        let (result, target) = check("wss://[::1]:9443/x/y?z=1");
        let target = target.expect("parses");
        assert_eq!(result.status, Status::Warn);
        assert_eq!(target.host, "::1");
        assert_eq!(target.port, 9443);
        assert_eq!(target.path_and_query, "/x/y?z=1");
        assert_eq!(target.host_header(), "[::1]:9443");
        let (_, plain) = check("wss://example.com/s");
        assert_eq!(
            plain.map(|t| (t.port, t.host_header())),
            Some((443, "example.com".into()))
        );
    }
}
