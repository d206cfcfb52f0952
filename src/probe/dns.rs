//! The `dns` check: resolves the host to every address (or takes a `--resolve` pin, or the
//! literal in the URL), times it, and flags addresses the provider on the internet cannot reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use serde_json::json;

use super::ResolvePin;
use super::url::Target;
use crate::check::{CheckId, CheckResult, Finding, millis};
use crate::diagnosis::CauseId;

/// Where an address sits, as far as a provider on the internet is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Public,
    Loopback,
    Private,
    LinkLocal,
    Unspecified,
}

impl Scope {
    pub fn of(addr: IpAddr) -> Scope {
        match addr {
            IpAddr::V4(v4) => scope_v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => scope_v4(v4),
                None => scope_v6(v6),
            },
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Public => "public",
            Scope::Loopback => "loopback",
            Scope::Private => "private",
            Scope::LinkLocal => "link-local",
            Scope::Unspecified => "unspecified",
        }
    }
}

fn scope_v4(a: Ipv4Addr) -> Scope {
    let [first, second, ..] = a.octets();
    if a.is_loopback() {
        Scope::Loopback
    } else if a.is_unspecified() {
        Scope::Unspecified
    } else if a.is_link_local() {
        Scope::LinkLocal
    } else if a.is_private() || (first == 100 && (64..128).contains(&second)) {
        Scope::Private
    } else {
        Scope::Public
    }
}

fn scope_v6(a: Ipv6Addr) -> Scope {
    let first = a.segments()[0];
    if a.is_loopback() {
        Scope::Loopback
    } else if a.is_unspecified() {
        Scope::Unspecified
    } else if first & 0xffc0 == 0xfe80 {
        Scope::LinkLocal
    } else if first & 0xfe00 == 0xfc00 {
        Scope::Private
    } else {
        Scope::Public
    }
}

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
    let pinned: Vec<IpAddr> = pins
        .iter()
        .filter(|p| p.host == host && p.port == target.port)
        .map(|p| p.addr)
        .collect();
    let (source, lookup) = if let Ok(literal) = host.parse::<IpAddr>() {
        ("address literal", Lookup::Found(vec![literal]))
    } else if !pinned.is_empty() {
        ("--resolve", Lookup::Found(pinned))
    } else if host == "invalid" || host.ends_with(".invalid") {
        // RFC 6761: `.invalid` never resolves, so no resolver is asked.
        (
            "RFC 6761",
            Lookup::NoRecords("'.invalid' names never resolve".into()),
        )
    } else {
        (
            "system resolver",
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
    let unreachable: Vec<String> = addrs
        .iter()
        .filter(|a| Scope::of(**a) != Scope::Public)
        .map(|a| format!("{a} ({})", Scope::of(*a).as_str()))
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
        _ => format!("{host} -> {} ({source})", listed.join(", ")),
    };
    let details = json!({
        "host": host,
        "source": source,
        "addresses": addrs.iter().map(|a| json!({
            "address": a.to_string(),
            "family": if a.is_ipv4() { "ipv4" } else { "ipv6" },
            "scope": Scope::of(*a).as_str(),
        })).collect::<Vec<_>>(),
        "resolve_ms": millis(elapsed),
    });
    let result =
        CheckResult::from_findings(CheckId::Dns, summary, millis(elapsed), details, findings);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        let table = [
            ("127.0.0.1", Scope::Loopback),
            ("10.1.2.3", Scope::Private),
            ("172.16.0.1", Scope::Private),
            ("192.168.1.1", Scope::Private),
            ("100.64.0.1", Scope::Private),
            ("169.254.1.1", Scope::LinkLocal),
            ("0.0.0.0", Scope::Unspecified),
            ("203.0.113.7", Scope::Public),
            ("::1", Scope::Loopback),
            ("fe80::1", Scope::LinkLocal),
            ("fd00::1", Scope::Private),
            ("::ffff:10.0.0.1", Scope::Private),
            ("2001:db8::1", Scope::Public),
        ];
        for (addr, scope) in table {
            let ip: IpAddr = addr.parse().expect("address");
            assert_eq!(Scope::of(ip), scope, "{addr}");
        }
    }
}
