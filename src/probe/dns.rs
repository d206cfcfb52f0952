//! The `dns` check: resolves the host to every address (or takes a `--resolve` pin, or the
//! literal in the URL), times it, and flags addresses the provider on the internet cannot reach.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::catalog::{CauseId, CheckId};
use crate::check::evidence::{Address, DnsEvidence, DnsSource};
use crate::check::{CheckResult, Finding};
use crate::clock::millis;
use crate::net::target::{ResolvePin, Scope, Target};

enum Lookup {
    Found(Vec<IpAddr>),
    NoRecords(String),
    TimedOut,
}

/// Resolves the target's host; the addresses are empty when it did not resolve.
pub async fn check(
    target: &Target,
    pins: &[ResolvePin],
    timeout: Duration,
) -> (CheckResult, Vec<IpAddr>) {
    let started = Instant::now();
    let host = target.host.to_ascii_lowercase();
    let pinned = target.pinned(pins);
    let (source, lookup) = if let Ok(literal) = host.parse::<IpAddr>() {
        (DnsSource::Literal, Lookup::Found(vec![literal]))
    } else if !pinned.is_empty() {
        (DnsSource::Pinned, Lookup::Found(pinned))
    } else if host == "invalid" || host.ends_with(".invalid") {
        (
            DnsSource::Rfc6761,
            Lookup::NoRecords("'.invalid' names never resolve".into()),
        )
    } else {
        (
            DnsSource::System,
            system_lookup(&host, target.port, timeout).await,
        )
    };
    let elapsed = started.elapsed();
    let mut findings = Vec::new();
    let addrs = match lookup {
        Lookup::Found(addrs) => addrs,
        Lookup::NoRecords(reason) => {
            findings.push(Finding {
                cause: CauseId::DnsNoRecords,
                summary: format!("{host} does not resolve: {reason}"),
            });
            Vec::new()
        }
        Lookup::TimedOut => {
            findings.push(Finding {
                cause: CauseId::DnsTimeout,
                summary: format!("no answer for {host} within {timeout:?}"),
            });
            Vec::new()
        }
    };
    let addresses: Vec<Address> = addrs.iter().copied().map(Address::of).collect();
    let unreachable: Vec<String> = addresses
        .iter()
        .filter(|a| a.scope != Scope::Public)
        .map(|a| format!("{} ({})", a.address, a.scope.as_str()))
        .collect();
    if !unreachable.is_empty() {
        findings.push(Finding {
            cause: CauseId::DnsPrivateAddress,
            summary: format!(
                "{host} -> {}: not reachable from the internet",
                unreachable.join(", ")
            ),
        });
    }
    let listed: Vec<String> = addrs.iter().map(IpAddr::to_string).collect();
    let summary = match findings.first() {
        Some(f) if addrs.is_empty() => f.summary.clone(),
        _ => format!("{host} -> {} ({})", listed.join(", "), source.as_str()),
    };
    let evidence = DnsEvidence {
        host,
        source,
        addresses,
        resolve_ms: millis(elapsed),
        cname_chain: Vec::new(),
        answered_by: None,
    };
    let result =
        CheckResult::from_findings(CheckId::Dns, summary, millis(elapsed), evidence, findings);
    (result, addrs)
}

async fn system_lookup(host: &str, port: u16, timeout: Duration) -> Lookup {
    match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
        Err(_) => Lookup::TimedOut,
        Ok(Err(e)) => Lookup::NoRecords(e.to_string()),
        Ok(Ok(found)) => {
            let mut addrs: Vec<IpAddr> = Vec::new();
            for sa in found {
                if !addrs.contains(&sa.ip()) {
                    addrs.push(sa.ip());
                }
            }
            if addrs.is_empty() {
                Lookup::NoRecords("no A or AAAA record".into())
            } else {
                Lookup::Found(addrs)
            }
        }
    }
}
