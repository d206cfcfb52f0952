//! The checks, one file each, and the runner that chains them in the order a connection is
//! built. TLS, the upgrade and the WebSocket session share one connection; the provider's
//! stream opens beside it from the start, and the `paths` check reads the target's row from
//! the upgrade's answer (its variants run only when that failed). A check whose dependency
//! failed is `skip` with the reason. Its product is a `CheckReport`: what `check --format
//! json` prints. The round trips each check costs are counted in `docs/speed.md`.

pub mod dns;
pub mod paths;
pub mod provider;
pub mod tcp;
pub mod tls;
pub mod upgrade;
pub mod url;
pub mod websocket;

use std::net::SocketAddr;
use std::time::Instant;

use tokio::net::TcpStream;

use crate::catalog::{CauseId, CheckId};
use crate::check::evidence::{RetryReason, WebsocketEvidence};
use crate::check::options::CheckOptions;
use crate::check::{CheckResult, Status, ToolInfo};
use crate::clock::{self, millis};
use crate::diagnosis::{CheckReport, diagnose};
use crate::edge::AnsweredBy;
use crate::net::connect::BoxedIo;
use crate::net::target::Target;
use crate::records::exchange::{Exchange, UpgradeAuth};

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

/// After the chain: whether the provider's stream counts, and how to read it.
struct ProviderTurn {
    /// The `websocket` check got its pong: the server answers pings.
    pings_answered: bool,
    /// The stream that ran beside the checks does not stand for this target: it went to
    /// another address than the one that answered, or ran while the service was still waking.
    again_at: Option<SocketAddr>,
}

async fn run_checks(
    raw_url: &str,
    options: &CheckOptions,
    scope: Option<CheckId>,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Vec<CheckResult> {
    let wanted = |id: CheckId| scope.is_none_or(|s| s.needs().contains(&id));
    let mut results = Tally::new(&wanted, progress);

    progress(Progress::Started(CheckId::Url));
    let (url_result, target) = url::check(raw_url);
    results.finish(url_result);
    let Some(target) = target else {
        results.skip_rest(&CheckId::ALL[1..], "the URL is not usable");
        return results.list;
    };
    if !wanted(CheckId::Dns) {
        return results.list;
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
    results.finish(dns_result);
    let Some(&first_addr) = addrs.first() else {
        results.skip_rest(&CheckId::ALL[2..], "the name did not resolve");
        return results.list;
    };
    if !wanted(CheckId::Tcp) {
        return results.list;
    }
    let dns_answer = results
        .list
        .iter()
        .find_map(|r| r.details.answered_by())
        .cloned();

    // The provider's stream opens now, beside the first connection: its TCP, TLS, upgrade and
    // start round trips overlap the other checks'. It counts only when the session stayed
    // open, and is dropped unread when it does not.
    let streams = wanted(CheckId::Provider) && options.provider;
    let early_addr = SocketAddr::new(first_addr, target.port);
    if streams {
        progress(Progress::Started(CheckId::Provider));
    }
    let early = async {
        if streams {
            Some(provider::stream(early_addr, &target, options).await)
        } else {
            None
        }
    };
    let checks = async {
        let mut results = Tally::new(&wanted, progress);
        progress(Progress::Started(CheckId::Tcp));
        let (tcp_result, connected) = tcp::check(&addrs, target.port, options.timeout).await;
        results.finish(tcp_result);
        let Some((stream, addr)) = connected else {
            results.skip_rest(&CheckId::ALL[3..], "no TCP connection");
            return (results.list, None);
        };
        // The upgrade's first answer is the `paths` check's answer for the target too.
        let (first_answer, target_answer) = tokio::sync::oneshot::channel();
        let chain = chain(
            Link {
                stream,
                addr,
                early_addr,
                target: &target,
                options,
                dns_answer,
                wanted: &wanted,
                progress,
            },
            first_answer,
        );
        let paths = async {
            if !wanted(CheckId::Paths) {
                return None;
            }
            progress(Progress::Started(CheckId::Paths));
            let known = target_answer
                .await
                .unwrap_or(paths::Known::Nothing { slow: false });
            let result = paths::check(addr, &target, options, known).await;
            progress(Progress::Finished(Box::new(result.clone())));
            Some(result)
        };
        let ((chain_results, turn), paths_result) = tokio::join!(chain, paths);
        results.list.extend(chain_results);
        results.list.extend(paths_result);
        (results.list, turn)
    };
    tokio::pin!(early, checks);
    let mut streamed = None;
    let (checked, turn) = loop {
        tokio::select! {
            done = &mut checks => break done,
            attempt = &mut early, if streamed.is_none() => streamed = Some(attempt),
        }
    };
    results.list.extend(checked);
    if let Some(turn) = turn {
        let early = match (turn.again_at, streamed) {
            (Some(_), _) => None,
            (None, Some(got)) => got,
            (None, None) => early.await,
        };
        let attempt = match early {
            Some(attempt) => attempt,
            None => {
                let addr = turn.again_at.unwrap_or(early_addr);
                provider::stream(addr, &target, options).await
            }
        };
        results.finish(provider::judge(attempt, turn.pings_answered));
    }
    results.list.sort_by_key(|r| r.id);
    results.list
}

/// The results so far; each is told to `progress` as it is added.
struct Tally<'a> {
    list: Vec<CheckResult>,
    wanted: &'a (dyn Fn(CheckId) -> bool + Send + Sync),
    progress: &'a (dyn Fn(Progress) + Send + Sync),
}

impl<'a> Tally<'a> {
    fn new(
        wanted: &'a (dyn Fn(CheckId) -> bool + Send + Sync),
        progress: &'a (dyn Fn(Progress) + Send + Sync),
    ) -> Self {
        Self {
            list: Vec::new(),
            wanted,
            progress,
        }
    }

    fn finish(&mut self, result: CheckResult) {
        (self.progress)(Progress::Finished(Box::new(result.clone())));
        self.list.push(result);
    }

    /// The checks of `from` that were asked for, skipped for `reason`.
    fn skip_rest(&mut self, from: &[CheckId], reason: &str) {
        for &id in from.iter().filter(|id| (self.wanted)(**id)) {
            self.finish(CheckResult::skipped(id, reason));
        }
    }
}

/// What the TLS → upgrade → WebSocket chain starts from.
struct Link<'a> {
    stream: TcpStream,
    addr: SocketAddr,
    /// Where the provider's stream went.
    early_addr: SocketAddr,
    target: &'a Target,
    options: &'a CheckOptions,
    dns_answer: Option<AnsweredBy>,
    wanted: &'a (dyn Fn(CheckId) -> bool + Send + Sync),
    progress: &'a (dyn Fn(Progress) + Send + Sync),
}

/// TLS, the upgrade and the WebSocket session, on one connection; the provider's slot is
/// filled here when the chain stops short of it, and handed back otherwise.
async fn chain(
    link: Link<'_>,
    first_answer: tokio::sync::oneshot::Sender<paths::Known>,
) -> (Vec<CheckResult>, Option<ProviderTurn>) {
    let Link {
        stream,
        addr,
        early_addr,
        target,
        options,
        dns_answer,
        wanted,
        progress,
    } = link;
    let mut results = Tally::new(&wanted, progress);
    let first_answer = std::sync::Mutex::new(Some(first_answer));
    let tell_paths = |known: paths::Known| {
        if let Some(sender) = first_answer.lock().ok().and_then(|mut s| s.take()) {
            let _ = sender.send(known);
        }
    };
    if !wanted(CheckId::Tls) {
        return (results.list, None);
    }
    let io: BoxedIo = if target.secure {
        progress(Progress::Started(CheckId::Tls));
        let (tls_result, tls_stream) =
            tls::check(stream, addr, target, &options.extra_roots, options.timeout).await;
        if tls_stream.is_none() {
            let slow = tls_result.has_cause(CauseId::TlsHandshakeTimeout);
            tell_paths(paths::Known::Nothing { slow });
        }
        results.finish(tls_result);
        match tls_stream {
            Some(io) => io,
            None => {
                let rest = [CheckId::Upgrade, CheckId::Websocket, CheckId::Provider];
                results.skip_rest(&rest, "TLS did not complete");
                return (results.list, None);
            }
        }
    } else {
        let reason = "ws:// does not use TLS";
        results.finish(CheckResult::skipped(CheckId::Tls, reason));
        Box::new(stream)
    };

    if !wanted(CheckId::Upgrade) {
        return (results.list, None);
    }
    progress(Progress::Started(CheckId::Upgrade));
    let waking = |attempt| {
        progress(Progress::Retrying {
            check: CheckId::Upgrade,
            why: RetryReason::ColdStart,
            attempt,
        })
    };
    let heard = |exchange: &Exchange| tell_paths(paths::Known::Answer(exchange.clone()));
    let upgrade = upgrade::check(io, addr, target, options, &waking, &heard).await;
    // A warning (a service that needed waking) still upgraded.
    let upgraded = matches!(upgrade.result.status, Status::Pass | Status::Warn);
    results.finish(upgrade.result);
    if !upgraded {
        let rest = [CheckId::Websocket, CheckId::Provider];
        results.skip_rest(&rest, "the upgrade did not succeed");
        return (results.list, None);
    }

    if !wanted(CheckId::Websocket) {
        return (results.list, None);
    }
    progress(Progress::Started(CheckId::Websocket));
    let platform = dns_answer
        .iter()
        .chain(results.list.iter().filter_map(|r| r.details.answered_by()))
        .find_map(AnsweredBy::platform);
    // An upgrade that passed on a later attempt left no session open, and the provider's
    // stream, which ran while the service woke, is run again.
    let woke = upgrade.opened.is_none();
    let ws_result = websocket::check(addr, target, options, platform, upgrade.opened).await;
    let session_ok = ws_result.status != Status::Fail && ws_result.status != Status::Error;
    let pings_answered = ws_result
        .details
        .websocket()
        .is_some_and(WebsocketEvidence::answered_ping);
    results.finish(ws_result);

    if !wanted(CheckId::Provider) {
        return (results.list, None);
    }
    if !options.provider {
        let reason = "turned off with --no-provider";
        results.finish(CheckResult::skipped(CheckId::Provider, reason));
        return (results.list, None);
    }
    if !session_ok {
        let reason = "the WebSocket session did not stay open";
        results.finish(CheckResult::skipped(CheckId::Provider, reason));
        return (results.list, None);
    }
    let again_at = (woke || addr != early_addr).then_some(addr);
    let turn = ProviderTurn {
        pings_answered,
        again_at,
    };
    (results.list, Some(turn))
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
