//! The `upgrade` check: the upgrade request written by hand over the connection the earlier
//! checks opened (`net::upgrade` records exactly what came back), judged by its status and
//! `Sec-WebSocket-Accept`. The judgement is shared with the `paths` check.

use std::time::Instant;

use super::CheckOptions;
use crate::catalog::{CauseId, CheckId};
use crate::check::{CheckResult, Finding};
use crate::clock::millis;
use crate::net::connect::BoxedIo;
use crate::net::target::Target;
use crate::net::upgrade::{Exchange, Problem, exchange};

/// The cause a non-upgrading HTTP status points at.
pub fn status_cause(status: u16) -> CauseId {
    match status {
        300..=399 => CauseId::HttpRedirect,
        401 | 403 => CauseId::HttpAuthRequired,
        404 => CauseId::HttpNotFound,
        400..=499 if status != 426 => CauseId::HttpUpgradeRejected,
        500..=599 => CauseId::HttpServerError,
        _ => CauseId::HttpUpgradeIgnored,
    }
}

/// The finding for an exchange that did not upgrade (None when it did).
pub fn finding(exchange: &Exchange) -> Option<Finding> {
    if let Some(problem) = &exchange.problem {
        let (cause, text) = match problem {
            Problem::Timeout(t) => (CauseId::WsHandshakeTimeout, t.clone()),
            Problem::Malformed(t) => (CauseId::HttpMalformedResponse, t.clone()),
            Problem::Closed(t) | Problem::Io(t) => (CauseId::HttpMalformedResponse, t.clone()),
        };
        return Some(Finding {
            cause,
            summary: text,
        });
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
        return Some(Finding {
            cause: CauseId::WsBadAccept,
            summary: format!(
                "101 with Sec-WebSocket-Accept '{got}', expected '{}'",
                exchange.accept_expected
            ),
        });
    }
    let cause = status_cause(status);
    let mut summary = format!("'{line}'");
    if let Some(location) = exchange.header("Location") {
        summary.push_str(&format!(" to {location}"));
    }
    if let Some(auth) = exchange.header("WWW-Authenticate") {
        summary.push_str(&format!(" (WWW-Authenticate: {auth})"));
    }
    if cause == CauseId::HttpUpgradeIgnored {
        summary.push_str(" instead of 101 Switching Protocols");
    }
    Some(Finding { cause, summary })
}

pub async fn check(io: BoxedIo, target: &Target, options: &CheckOptions) -> CheckResult {
    let started = Instant::now();
    let exchange = exchange(
        io,
        target,
        &target.path_and_query,
        &options.request_headers(),
        options.timeout,
    )
    .await;
    let finding = finding(&exchange);
    let summary = match &finding {
        Some(f) => f.summary.clone(),
        None => format!(
            "{} in {:.1} ms, Sec-WebSocket-Accept correct",
            exchange.status_line.clone().unwrap_or_default(),
            exchange.response_ms
        ),
    };
    CheckResult::from_findings(
        CheckId::Upgrade,
        summary,
        millis(started.elapsed()),
        exchange,
        finding.into_iter().collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
