//! The `tcp` check: connects to the resolved addresses in Happy-Eyeballs order (families
//! interleaved, a new attempt every 250 ms while earlier ones are pending), keeps every
//! failure, and hands the first connection that succeeds to the next check.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::catalog::{CauseId, CheckId, Finding};
use crate::check::CheckResult;
use crate::check::evidence::{Attempt, AttemptResult, TcpEvidence};
use crate::clock::millis;

/// RFC 8305's recommended delay between connection attempts.
const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Families alternate, starting with the family of the first address.
pub(crate) fn happy_eyeballs_order(addrs: &[IpAddr]) -> Vec<IpAddr> {
    let Some(first) = addrs.first() else {
        return Vec::new();
    };
    let (mut same, mut other): (Vec<IpAddr>, Vec<IpAddr>) =
        addrs.iter().partition(|a| a.is_ipv4() == first.is_ipv4());
    same.reverse();
    other.reverse();
    let mut ordered = Vec::with_capacity(addrs.len());
    while !same.is_empty() || !other.is_empty() {
        ordered.extend(same.pop());
        ordered.extend(other.pop());
    }
    ordered
}

pub(crate) async fn check(
    addrs: &[IpAddr],
    port: u16,
    timeout: Duration,
) -> (CheckResult, Option<(TcpStream, SocketAddr)>) {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pending = happy_eyeballs_order(addrs)
        .into_iter()
        .map(|ip| SocketAddr::new(ip, port));
    let mut attempts = JoinSet::new();
    let mut tried: Vec<SocketAddr> = Vec::new();
    let mut failures: Vec<(SocketAddr, std::io::Error, Duration)> = Vec::new();
    let mut winner = None;
    let mut more = true;
    loop {
        if more {
            match pending.next() {
                Some(addr) => {
                    tried.push(addr);
                    attempts.spawn(async move {
                        let attempt = Instant::now();
                        (addr, TcpStream::connect(addr).await, attempt.elapsed())
                    });
                }
                None => more = false,
            }
        }
        if attempts.is_empty() {
            break;
        }
        tokio::select! {
            joined = attempts.join_next() => match joined {
                Some(Ok((addr, Ok(stream), took))) => {
                    winner = Some((stream, addr, took));
                    break;
                }
                Some(Ok((addr, Err(e), took))) => failures.push((addr, e, took)),
                Some(Err(_)) | None => {}
            },
            _ = tokio::time::sleep(ATTEMPT_DELAY), if more => {}
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    attempts.abort_all();
    let elapsed = started.elapsed();
    let timed_out: Vec<SocketAddr> = tried
        .iter()
        .filter(|a| winner.as_ref().is_none_or(|(_, w, _)| w != *a))
        .filter(|a| !failures.iter().any(|(f, _, _)| f == *a))
        .copied()
        .collect();
    let attempts = tried
        .iter()
        .map(|address| {
            let won = winner.as_ref().filter(|(_, w, _)| w == address);
            let failed = failures.iter().find(|(f, _, _)| f == address);
            let (result, took) = match (won, failed) {
                (Some((_, _, took)), _) => (AttemptResult::Connected, Some(*took)),
                (None, Some((_, e, took))) => (AttemptResult::Failed(e.to_string()), Some(*took)),
                (None, None) => (AttemptResult::NoAnswer, None),
            };
            Attempt {
                address: *address,
                result,
                connect_ms: took.map(millis),
            }
        })
        .collect();
    let evidence = TcpEvidence { attempts };
    let mut findings = Vec::new();
    let summary = match &winner {
        Some((_, addr, took)) => {
            let mut s = format!("connected to {addr} in {:.1} ms", millis(*took));
            if !failures.is_empty() {
                s.push_str(&format!(" ({} other address(es) failed)", failures.len()));
            }
            s
        }
        None => {
            let refused = failures
                .iter()
                .filter(|f| f.1.kind() == std::io::ErrorKind::ConnectionRefused);
            let listed = |addrs: Vec<String>| addrs.join(", ");
            let (cause, summary) = if !timed_out.is_empty() || failures.is_empty() {
                let addrs = listed(timed_out.iter().map(|a| a.to_string()).collect());
                (
                    CauseId::TcpTimeout,
                    format!("no answer from {addrs} within {timeout:?}"),
                )
            } else if refused.clone().count() == failures.len() {
                let addrs = listed(refused.map(|f| f.0.to_string()).collect());
                (
                    CauseId::TcpRefused,
                    format!("connection refused by {addrs}"),
                )
            } else {
                let addrs = listed(
                    failures
                        .iter()
                        .map(|f| format!("{}: {}", f.0, f.1))
                        .collect(),
                );
                (CauseId::TcpUnreachable, addrs)
            };
            findings.push(Finding {
                cause,
                summary: summary.clone(),
                severity: None,
            });
            summary
        }
    };
    let result =
        CheckResult::from_findings(CheckId::Tcp, summary, millis(elapsed), evidence, findings);
    let connected = winner.map(|(stream, addr, _)| {
        let _ = stream.set_nodelay(true);
        (stream, addr)
    });
    (result, connected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_interleave_from_the_first() {
        let addrs: Vec<IpAddr> = ["::1", "::2", "10.0.0.1", "10.0.0.2", "::3"]
            .iter()
            .map(|a| a.parse().expect("ip"))
            .collect();
        let ordered: Vec<String> = happy_eyeballs_order(&addrs)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(ordered, ["::1", "10.0.0.1", "::2", "10.0.0.2", "::3"]);
    }
}
