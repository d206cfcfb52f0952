//! The checks, one file each, and the runner that chains them in the order a connection is
//! built. Independent work runs concurrently (the `paths` check beside the TLS → upgrade →
//! WebSocket → provider chain); a check whose dependency failed is `skip` with the reason.
//! Its product is a `CheckReport`: what `check --format json` prints.

pub mod dns;
pub mod paths;
pub mod provider;
pub mod tcp;
pub mod tls;
pub mod upgrade;
pub mod url;
pub mod websocket;

use std::time::Instant;

use crate::catalog::CheckId;
use crate::check::evidence::RetryReason;
use crate::check::options::CheckOptions;
use crate::check::{CheckResult, Status, ToolInfo};
use crate::clock::{self, millis};
use crate::diagnosis::{CheckReport, diagnose};
use crate::edge::AnsweredBy;
use crate::net::connect::BoxedIo;
use crate::records::exchange::UpgradeAuth;

/// What the runner reports while it works, for progress displays.
#[derive(Clone, Debug)]
pub enum Progress {
    Started(CheckId),
    /// A check asks again, and why: attempt `attempt`, counting the first.
    Retrying {
        check: CheckId,
        why: RetryReason,
        attempt: u32,
    },
    Finished(Box<CheckResult>),
}

/// Headers every upgrade to `url` carries: `-H` ones, then the provider's own (Telnyx's auth
/// token header, or Twilio's signature of `url`).
pub(crate) fn request_headers(options: &CheckOptions, url: &str) -> Vec<(String, String)> {
    let auth = UpgradeAuth {
        stream_token: options.auth_token.as_ref(),
        account_token: options.twilio_auth_token.as_ref(),
        url,
    };
    let provider = options.protocol.protocol().upgrade_headers(&auth);
    options.headers.iter().cloned().chain(provider).collect()
}

/// Runs every check against `raw_url` and diagnoses the results.
pub async fn run(
    raw_url: &str,
    options: &CheckOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> CheckReport {
    run_scoped(raw_url, options, None, progress).await
}

/// Runs the checks `scope` needs (all of them when `None`), for one step run on its own.
pub async fn run_scoped(
    raw_url: &str,
    options: &CheckOptions,
    scope: Option<CheckId>,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> CheckReport {
    let started_at = clock::now();
    let started = Instant::now();
    let checks = run_checks(raw_url, options, scope, progress).await;
    CheckReport {
        tool: ToolInfo::this(),
        target: raw_url.trim().to_string(),
        started_at,
        duration_ms: millis(started.elapsed()),
        diagnosis: diagnose(&checks, &[]),
        checks,
    }
}

async fn run_checks(
    raw_url: &str,
    options: &CheckOptions,
    scope: Option<CheckId>,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Vec<CheckResult> {
    let wanted = |id: CheckId| scope.is_none_or(|s| s.needs().contains(&id));
    let mut results = Vec::new();
    let finish = |result: CheckResult, results: &mut Vec<CheckResult>| {
        progress(Progress::Finished(Box::new(result.clone())));
        results.push(result);
    };
    let skip_rest = |from: &[CheckId], reason: &str, results: &mut Vec<CheckResult>| {
        for &id in from.iter().filter(|id| wanted(**id)) {
            finish(CheckResult::skipped(id, reason), results);
        }
    };

    progress(Progress::Started(CheckId::Url));
    let (url_result, target) = url::check(raw_url);
    finish(url_result, &mut results);
    let Some(target) = target else {
        skip_rest(&CheckId::ALL[1..], "the URL is not usable", &mut results);
        return results;
    };
    if !wanted(CheckId::Dns) {
        return results;
    }

    progress(Progress::Started(CheckId::Dns));
    let (dns_result, addrs) = dns::check(
        &target,
        &options.resolve,
        options.dns_server,
        options.timeout,
        options.ipv6_route,
    )
    .await;
    finish(dns_result, &mut results);
    if addrs.is_empty() {
        skip_rest(&CheckId::ALL[2..], "the name did not resolve", &mut results);
        return results;
    }
    if !wanted(CheckId::Tcp) {
        return results;
    }

    progress(Progress::Started(CheckId::Tcp));
    let (tcp_result, connected) = tcp::check(&addrs, target.port, options.timeout).await;
    finish(tcp_result, &mut results);
    let Some((stream, addr)) = connected else {
        skip_rest(&CheckId::ALL[3..], "no TCP connection", &mut results);
        return results;
    };

    let dns_answer = results
        .iter()
        .find_map(|r| r.details.answered_by())
        .cloned();
    let chain = async {
        let mut chain_results = Vec::new();
        if !wanted(CheckId::Tls) {
            return chain_results;
        }
        let io: BoxedIo = if target.secure {
            progress(Progress::Started(CheckId::Tls));
            let (tls_result, tls_stream) =
                tls::check(stream, addr, &target, &options.extra_roots, options.timeout).await;
            finish(tls_result, &mut chain_results);
            match tls_stream {
                Some(io) => io,
                None => {
                    let rest = [CheckId::Upgrade, CheckId::Websocket, CheckId::Provider];
                    skip_rest(&rest, "TLS did not complete", &mut chain_results);
                    return chain_results;
                }
            }
        } else {
            let reason = "ws:// does not use TLS";
            finish(
                CheckResult::skipped(CheckId::Tls, reason),
                &mut chain_results,
            );
            Box::new(stream)
        };

        if !wanted(CheckId::Upgrade) {
            return chain_results;
        }
        progress(Progress::Started(CheckId::Upgrade));
        let waking = |attempt| {
            progress(Progress::Retrying {
                check: CheckId::Upgrade,
                why: RetryReason::ColdStart,
                attempt,
            })
        };
        let upgrade_result = upgrade::check(io, addr, &target, options, &waking).await;
        // A warning (a service that needed waking) still upgraded.
        let upgraded = matches!(upgrade_result.status, Status::Pass | Status::Warn);
        finish(upgrade_result, &mut chain_results);
        if !upgraded {
            let rest = [CheckId::Websocket, CheckId::Provider];
            skip_rest(&rest, "the upgrade did not succeed", &mut chain_results);
            return chain_results;
        }

        if !wanted(CheckId::Websocket) {
            return chain_results;
        }
        progress(Progress::Started(CheckId::Websocket));
        let platform = dns_answer
            .iter()
            .chain(chain_results.iter().filter_map(|r| r.details.answered_by()))
            .find_map(AnsweredBy::platform);
        // The provider's stream opens side by side with the session, not after it: its TCP,
        // TLS and upgrade round trips overlap the session's. It only counts when the session
        // stayed open.
        let streams = wanted(CheckId::Provider) && options.provider;
        if streams {
            progress(Progress::Started(CheckId::Provider));
        }
        let stream = async {
            if streams {
                Some(provider::check(addr, &target, options).await)
            } else {
                None
            }
        };
        let (ws_result, streamed) =
            tokio::join!(websocket::check(addr, &target, options, platform), stream);
        let session_ok = ws_result.status != Status::Fail && ws_result.status != Status::Error;
        finish(ws_result, &mut chain_results);

        if !wanted(CheckId::Provider) {
            return chain_results;
        }
        if !options.provider {
            let reason = "turned off with --no-provider";
            finish(
                CheckResult::skipped(CheckId::Provider, reason),
                &mut chain_results,
            );
        } else if let Some(result) = streamed.filter(|_| session_ok) {
            finish(result, &mut chain_results);
        } else {
            let reason = "the WebSocket session did not stay open";
            finish(
                CheckResult::skipped(CheckId::Provider, reason),
                &mut chain_results,
            );
        }
        chain_results
    };
    let paths = async {
        if !wanted(CheckId::Paths) {
            return None;
        }
        progress(Progress::Started(CheckId::Paths));
        let result = paths::check(addr, &target, options).await;
        progress(Progress::Finished(Box::new(result.clone())));
        Some(result)
    };
    let (chain_results, paths_result) = tokio::join!(chain, paths);
    results.extend(chain_results);
    results.extend(paths_result);
    results.sort_by_key(|r| r.id);
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Provider;
    use crate::provider::signature::twilio_sign;
    use crate::secret::Secret;

    #[test]
    fn each_provider_sends_its_own_credential() {
        let telnyx = CheckOptions {
            headers: vec![("X-A".into(), "1".into())],
            auth_token: Some(Secret::new("t")),
            twilio_auth_token: Some(Secret::new("tw")),
            ..CheckOptions::default()
        };
        let url = "wss://h.example/media?call=1";
        let names: Vec<String> = request_headers(&telnyx, url)
            .into_iter()
            .map(|h| h.0)
            .collect();
        assert_eq!(names, ["X-A", "x-telnyx-streaming-auth-token"]);
        let twilio = CheckOptions {
            protocol: Provider::Twilio,
            ..telnyx
        };
        let headers = request_headers(&twilio, url);
        assert_eq!(headers[1].0, "X-Twilio-Signature");
        assert_eq!(headers[1].1, twilio_sign("tw", url, &[]));
        assert_eq!(headers.len(), 2, "no Telnyx token on a Twilio upgrade");
    }
}
