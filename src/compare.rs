//! Two reports of the same URL from two places, side by side (docs/outside-in.md): check by
//! check, with what only the difference can show named as causes: a firewall between the
//! internet and the server (`network.blocked_from_outside`, or `network.blocked_from_here`),
//! a name that answers privately in one place and publicly in the other (`dns.split_horizon`),
//! and two different certificates (`tls.different_edge`). The first report is "here".

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde::Serialize;

use crate::catalog::{CauseId, CheckId, Finding, FoundBy};
use crate::check::evidence::{DnsSource, TlsEvidence};
use crate::check::{CheckResult, Status};
use crate::diagnosis::{Cause, Diagnosis};
use crate::records::address::Scope;
use crate::records::certificate::ChainEntry;
use crate::session::Session;
use crate::vantage::Vantage;

#[derive(Debug, thiserror::Error)]
#[error(
    "the reports are of different URLs: '{here}' and '{there}'; compare two checks of the same URL"
)]
pub struct DifferentUrls {
    pub here: String,
    pub there: String,
}

/// One place's side: where, and its verdict (the first cause's id).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Side {
    pub vantage: Vantage,
    pub verdict: Option<CauseId>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Seen {
    pub status: Status,
    pub summary: String,
}

/// A check whose status differs between the two places.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Difference {
    pub check: CheckId,
    pub here: Seen,
    pub there: Seen,
    pub meaning: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub target: String,
    pub here: Side,
    pub there: Side,
    /// Every check, both places (for the side-by-side view).
    #[serde(skip)]
    pub rows: Vec<(CheckId, Option<Seen>, Option<Seen>)>,
    pub differences: Vec<Difference>,
    pub diagnosis: Diagnosis,
}

impl Comparison {
    /// 1 when a `fail` cause results, as `check`'s exit status.
    pub fn exit_code(&self) -> u8 {
        u8::from(
            self.diagnosis
                .causes
                .iter()
                .any(|c| c.severity == crate::catalog::Severity::Fail),
        )
    }
}

/// A URL as two reports of "the same URL" must agree on: scheme and host in lower case, the
/// default port left out, no trailing slash.
fn normalised(url: &str) -> String {
    match url::Url::parse(url.trim()) {
        Ok(parsed) => {
            let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
            let query = parsed.query().map(|q| format!("?{q}")).unwrap_or_default();
            format!(
                "{}://{}{port}{}{query}",
                parsed.scheme(),
                parsed.host_str().unwrap_or_default(),
                parsed.path().trim_end_matches('/')
            )
        }
        Err(_) => url.trim().trim_end_matches('/').to_string(),
    }
}

fn unknown() -> Vantage {
    Vantage {
        label: "unknown".into(),
        hostname: "unknown".into(),
        ipv6: false,
    }
}

fn seen(result: Option<&CheckResult>) -> Option<Seen> {
    result.map(|r| Seen {
        status: r.status,
        summary: r.summary.clone(),
    })
}

fn passes(result: Option<&CheckResult>) -> bool {
    result.is_some_and(|r| matches!(r.status, Status::Pass | Status::Warn))
}

fn fails(result: Option<&CheckResult>) -> bool {
    result.is_some_and(|r| r.status == Status::Fail)
}

fn result(session: &Session, id: CheckId) -> Option<&CheckResult> {
    session.checks.iter().find(|c| c.id == id)
}

/// The addresses a dns check found, whether all are private, and whether they were pinned.
/// The addresses a session resolved, whether all are private, and where they came from when
/// it was not a name server (a reader weighs a pin or a hosts file differently).
fn addresses(session: &Session) -> Option<(BTreeSet<IpAddr>, bool, Option<&'static str>)> {
    let dns = result(session, CheckId::Dns)?.details.dns()?;
    let set: BTreeSet<IpAddr> = dns.addresses.iter().map(|a| a.address).collect();
    if set.is_empty() {
        return None;
    }
    let private = dns.addresses.iter().all(|a| a.scope != Scope::Public);
    let from = match dns.source {
        DnsSource::Pinned => Some("pinned with --resolve"),
        DnsSource::HostsFile => Some("hosts file"),
        _ => None,
    };
    Some((set, private, from))
}

fn leaf(session: &Session) -> Option<(&TlsEvidence, String)> {
    let tls = result(session, CheckId::Tls)?.details.tls()?;
    match tls.chain.first()? {
        ChainEntry::Cert(cert) if !cert.sha256.is_empty() => Some((tls, cert.sha256.clone())),
        _ => None,
    }
}

fn describe_leaf(tls: &TlsEvidence, sha: &str) -> String {
    match tls.chain.first() {
        Some(ChainEntry::Cert(cert)) => format!(
            "{} issued by {} (sha256 {}…)",
            cert.subject,
            cert.issuer,
            &sha[..sha.len().min(16)]
        ),
        _ => format!("sha256 {sha}"),
    }
}

pub fn compare(here: &Session, there: &Session) -> Result<Comparison, DifferentUrls> {
    if normalised(&here.target) != normalised(&there.target) {
        return Err(DifferentUrls {
            here: here.target.clone(),
            there: there.target.clone(),
        });
    }
    let here_at = here.vantage.clone().unwrap_or_else(unknown);
    let there_at = there.vantage.clone().unwrap_or_else(unknown);
    let (a, b) = (&here_at.label, &there_at.label);
    let mut findings = Vec::new();

    // The first layer whose outcome differs is where the path between differs.
    for layer in [CheckId::Tcp, CheckId::Tls] {
        let (h, t) = (result(here, layer), result(there, layer));
        let (cause, passing, failing, from_pass, from_fail) = if passes(h) && fails(t) {
            (CauseId::NetworkBlockedFromOutside, h, t, a, b)
        } else if fails(h) && passes(t) {
            (CauseId::NetworkBlockedFromHere, t, h, b, a)
        } else {
            continue;
        };
        let summary = |r: Option<&CheckResult>| r.map(|r| r.summary.clone()).unwrap_or_default();
        findings.push(Finding {
            cause,
            summary: format!(
                "the {} check passes from {from_pass} ({}) and fails from {from_fail}: {}",
                layer.as_str(),
                summary(passing),
                summary(failing)
            ),
            severity: None,
        });
        break;
    }

    if let (Some((h_set, h_private, h_from)), Some((t_set, t_private, t_from))) =
        (addresses(here), addresses(there))
        && h_set != t_set
        && h_private != t_private
    {
        let list = |set: &BTreeSet<IpAddr>, from: Option<&str>| {
            let listed: Vec<String> = set.iter().map(IpAddr::to_string).collect();
            let from = from.map(|f| format!(" ({f})")).unwrap_or_default();
            format!("{}{from}", listed.join(", "))
        };
        findings.push(Finding {
            cause: CauseId::DnsSplitHorizon,
            summary: format!(
                "from {a} the name resolves to {} ({}); from {b} to {} ({})",
                list(&h_set, h_from),
                if h_private { "private" } else { "public" },
                list(&t_set, t_from),
                if t_private { "private" } else { "public" },
            ),
            severity: None,
        });
    }

    if let (Some((h_tls, h_sha)), Some((t_tls, t_sha))) = (leaf(here), leaf(there))
        && h_sha != t_sha
    {
        findings.push(Finding {
            cause: CauseId::TlsDifferentEdge,
            summary: format!(
                "{a} was served {}; {b} was served {}",
                describe_leaf(h_tls, &h_sha),
                describe_leaf(t_tls, &t_sha)
            ),
            severity: None,
        });
    }

    let mut causes: Vec<Cause> = findings
        .iter()
        .map(|f| Cause::of(f, FoundBy::Compare, &here.checks))
        .collect();
    causes.sort_by_key(|c| c.severity);
    let meaning = |id: CheckId| {
        causes
            .iter()
            .find(|c| match (c.id, id) {
                (CauseId::NetworkBlockedFromOutside | CauseId::NetworkBlockedFromHere, _) => {
                    c.summary.starts_with(&format!("the {} check", id.as_str()))
                }
                (CauseId::DnsSplitHorizon, CheckId::Dns) => true,
                (CauseId::TlsDifferentEdge, CheckId::Tls) => true,
                _ => false,
            })
            .map(|c| c.title.clone())
            .unwrap_or_else(|| {
                format!(
                    "the {} check answers differently in the two places",
                    id.as_str()
                )
            })
    };
    let rows: Vec<(CheckId, Option<Seen>, Option<Seen>)> = CheckId::ALL
        .iter()
        .map(|&id| (id, seen(result(here, id)), seen(result(there, id))))
        .collect();
    let differences = rows
        .iter()
        .filter_map(|(id, h, t)| match (h, t) {
            (Some(h), Some(t)) if h.status != t.status => Some(Difference {
                check: *id,
                here: h.clone(),
                there: t.clone(),
                meaning: meaning(*id),
            }),
            _ => None,
        })
        .collect();
    let verdict = |s: &Session| s.diagnosis.as_ref().and_then(|d| d.verdict()).map(|c| c.id);
    let reachable = !causes
        .iter()
        .any(|c| c.severity == crate::catalog::Severity::Fail);
    Ok(Comparison {
        target: here.target.clone(),
        here: Side {
            vantage: here_at,
            verdict: verdict(here),
        },
        there: Side {
            vantage: there_at,
            verdict: verdict(there),
        },
        rows,
        differences,
        diagnosis: Diagnosis { reachable, causes },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_url_is_recognised_however_it_is_written() {
        assert_eq!(
            normalised("WSS://API.Example.com:443/api/calls/1/audio/"),
            normalised("wss://api.example.com/api/calls/1/audio")
        );
        assert_ne!(
            normalised("wss://api.example.com:8443/a"),
            normalised("wss://api.example.com/a")
        );
        let here = Session::new("wss://a.example.com/x");
        let there = Session::new("wss://b.example.com/x");
        let refused = compare(&here, &there).expect_err("different hosts");
        assert!(refused.to_string().contains("different URLs"), "{refused}");
        let same = compare(&here, &Session::new("wss://A.example.com/x/")).expect("same URL");
        assert_eq!(
            same.here.vantage.label, "unknown",
            "reports without a vantage"
        );
        assert!(same.diagnosis.causes.is_empty());
    }
}
