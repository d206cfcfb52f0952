//! The `dns` check: resolves the host to every address as the system does (the hosts file
//! first, then a real resolver, hickory, reading the system's configuration), or asks only
//! `--dns-server` when one is given; follows the CNAME chain (which names a hosting platform
//! even when nothing answers), or takes a `--resolve` pin or the literal in the URL; times it,
//! and flags addresses the provider on the internet cannot reach.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::op::Query;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::proto::rr::{Name, RecordType};
use hickory_resolver::{Hosts, TokioResolver};

use crate::catalog::{CauseId, CheckId, Finding};
use crate::check::CheckResult;
use crate::check::evidence::{Address, DnsEvidence, DnsSource};
use crate::clock::millis;
use crate::edge;
use crate::net::target::Target;
use crate::records::address::{ResolvePin, Scope};

/// A name server as a person types it is not an IP address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an IP address (such as 1.1.1.1 or 127.0.0.1:5353)")]
pub struct NameServerError(String);

/// A name server as a person types it: an IP address, port 53 unless one is given.
pub fn name_server(typed: &str) -> Result<SocketAddr, NameServerError> {
    let typed = typed.trim();
    typed
        .parse()
        .or_else(|_| typed.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
        .map_err(|_| NameServerError(typed.to_string()))
}

enum Lookup {
    /// The addresses, and the names followed to them (the host first).
    Found(Vec<IpAddr>, Vec<String>),
    NoRecords(String),
    TimedOut,
}

/// Resolves the target's host; the addresses are empty when it did not resolve.
/// `dns_server` is asked instead of the system's resolvers, when given.
/// The check's result and the addresses the `tcp` check should try: all of them, except
/// AAAA ones when `ipv6_route` says this machine cannot reach IPv6 and IPv4 ones exist.
pub(crate) async fn check(
    target: &Target,
    pins: &[ResolvePin],
    dns_server: Option<SocketAddr>,
    timeout: Duration,
    ipv6_route: Option<bool>,
) -> (CheckResult, Vec<IpAddr>) {
    let started = Instant::now();
    let host = target.host.to_ascii_lowercase();
    let pinned = target.pinned(pins);
    let (source, lookup) = if let Ok(literal) = host.parse::<IpAddr>() {
        (DnsSource::Literal, Lookup::Found(vec![literal], Vec::new()))
    } else if !pinned.is_empty() {
        (DnsSource::Pinned, Lookup::Found(pinned, Vec::new()))
    } else if host == "invalid" || host.ends_with(".invalid") {
        (
            DnsSource::Rfc6761,
            Lookup::NoRecords("'.invalid' names never resolve".into()),
        )
    } else if let Some(server) = dns_server {
        (
            DnsSource::Server(server),
            resolve(&host, Some(server), timeout).await,
        )
    } else if let Some(listed) = hosts_file(&host) {
        (
            DnsSource::HostsFile,
            Lookup::Found(listed, vec![host.clone()]),
        )
    } else {
        (DnsSource::System, resolve(&host, None, timeout).await)
    };
    let elapsed = started.elapsed();
    let mut findings = Vec::new();
    let mut cname_chain = Vec::new();
    let addrs = match lookup {
        Lookup::Found(addrs, chain) => {
            cname_chain = chain;
            addrs
        }
        Lookup::NoRecords(reason) => {
            findings.push(Finding {
                cause: CauseId::DnsNoRecords,
                summary: format!("{host} does not resolve: {reason}"),
                severity: None,
            });
            Vec::new()
        }
        Lookup::TimedOut => {
            findings.push(Finding {
                cause: CauseId::DnsTimeout,
                summary: format!("no answer for {host} within {timeout:?}"),
                severity: None,
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
            severity: None,
        });
    }
    let listed: Vec<String> = addrs.iter().map(IpAddr::to_string).collect();
    let answered_by = edge::from_names(cname_chain.iter().map(String::as_str));
    let via = match (cname_chain.last(), &answered_by) {
        (Some(last), Some(by)) if cname_chain.len() > 1 => {
            format!(" via {last} ({})", by.describe())
        }
        (Some(last), None) if cname_chain.len() > 1 => format!(" via {last}"),
        _ => String::new(),
    };
    let summary = match findings.first() {
        Some(f) if addrs.is_empty() => format!("{}{via}", f.summary),
        _ => format!(
            "{host} -> {}{via} ({})",
            listed.join(", "),
            source.describe()
        ),
    };
    let v6 = addrs.iter().filter(|a| a.is_ipv6()).count();
    let untried = ipv6_route == Some(false) && v6 > 0 && v6 < addrs.len();
    let aaaa_not_tried = untried.then(|| {
        format!("this machine has no route to the IPv6 internet: its {v6} AAAA address(es) were not tried from here")
    });
    let evidence = DnsEvidence {
        host,
        source,
        addresses,
        aaaa_not_tried,
        resolve_ms: millis(elapsed),
        cname_chain: if cname_chain.len() > 1 {
            cname_chain
        } else {
            Vec::new()
        },
        answered_by,
    };
    let result =
        CheckResult::from_findings(CheckId::Dns, summary, millis(elapsed), evidence, findings);
    let to_try = if untried {
        addrs.into_iter().filter(IpAddr::is_ipv4).collect()
    } else {
        addrs
    };
    (result, to_try)
}

/// The addresses the hosts file gives `host`, when it lists it. The system's resolver reads it
/// before asking any name server (`hosts: files dns`), so a name listed there resolves even
/// when the name servers are silent; hickory would ask them for the family the file lacks
/// and wait out their silence.
fn hosts_file(host: &str) -> Option<Vec<IpAddr>> {
    let hosts = Hosts::from_system().ok()?;
    let name = Name::from_ascii(host).ok()?;
    let mut addrs = Vec::new();
    for kind in [RecordType::A, RecordType::AAAA] {
        let Some(found) = hosts.lookup_static_host(&Query::query(name.clone(), kind)) else {
            continue;
        };
        for record in found.answers() {
            if let Some(ip) = record.data.ip_addr()
                && !addrs.contains(&ip)
            {
                addrs.push(ip);
            }
        }
    }
    (!addrs.is_empty()).then_some(addrs)
}

fn resolver(dns_server: Option<SocketAddr>, timeout: Duration) -> Result<TokioResolver, NetError> {
    let mut builder = match dns_server {
        Some(server) => {
            let connection = |mut config: ConnectionConfig| {
                config.port = server.port();
                config
            };
            let name_server = NameServerConfig::new(
                server.ip(),
                true,
                vec![
                    connection(ConnectionConfig::udp()),
                    connection(ConnectionConfig::tcp()),
                ],
            );
            let config = ResolverConfig::from_parts(None, Vec::new(), vec![name_server]);
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
        }
        None => TokioResolver::builder_tokio()?,
    };
    let options = builder.options_mut();
    options.timeout = timeout;
    options.attempts = 1;
    builder.build()
}

/// Every address of `host` and the names followed to them, within `timeout`.
async fn resolve(host: &str, dns_server: Option<SocketAddr>, timeout: Duration) -> Lookup {
    let resolver = match resolver(dns_server, timeout) {
        Ok(resolver) => resolver,
        Err(e) => return Lookup::NoRecords(format!("no resolver could be set up ({e})")),
    };
    // A name without a dot at the end would be tried with search domains first.
    let fqdn = format!("{}.", host.trim_end_matches('.'));
    let found = match tokio::time::timeout(timeout, resolver.lookup_ip(fqdn)).await {
        Err(_) => return Lookup::TimedOut,
        Ok(Err(NetError::Timeout)) => return Lookup::TimedOut,
        Ok(Err(e)) if e.is_nx_domain() => {
            return Lookup::NoRecords("no such name (NXDOMAIN)".into());
        }
        Ok(Err(e)) if e.is_no_records_found() => {
            return Lookup::NoRecords("no A or AAAA record".into());
        }
        Ok(Err(e)) => return Lookup::NoRecords(e.to_string()),
        Ok(Ok(found)) => found,
    };
    let mut addrs: Vec<IpAddr> = Vec::new();
    for addr in found.iter() {
        if !addrs.contains(&addr) {
            addrs.push(addr);
        }
    }
    let mut chain = vec![host.to_string()];
    let answers = found.as_lookup().answers();
    while chain.len() <= answers.len() {
        let Some(current) = chain.last() else { break };
        let next = answers.iter().find_map(|record| match &record.data {
            RData::CNAME(alias) if same_name(&record.name.to_string(), current) => {
                Some(alias.0.to_string().trim_end_matches('.').to_string())
            }
            _ => None,
        });
        match next {
            Some(name) if !chain.contains(&name) => chain.push(name),
            _ => break,
        }
    }
    if addrs.is_empty() {
        return Lookup::NoRecords("no A or AAAA record".into());
    }
    Lookup::Found(addrs, chain)
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}
