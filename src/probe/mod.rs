//! The checks, one file each, and the runner that chains them in the order a connection is
//! built. Independent work runs concurrently (the `paths` check beside the TLS → upgrade →
//! WebSocket → provider chain); a check whose dependency failed is `skip` with the reason.

pub mod connect;
pub mod dns;
pub mod paths;
pub mod provider;
pub mod tcp;
pub mod tls;
pub mod upgrade;
pub mod url;
pub mod websocket;

use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::check::{CheckId, CheckReport, CheckResult, Status, ToolInfo, millis};
use crate::diagnosis::diagnose;
use crate::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum OptionError {
    #[error("--resolve wants HOST:PORT:ADDR, got '{0}'")]
    Resolve(String),
    #[error("cannot read the CA file {path}: {source}")]
    CaFile {
        path: String,
        source: std::io::Error,
    },
    #[error("the CA file {0} holds no PEM certificate")]
    CaFileEmpty(String),
    #[error("a header wants 'Name: value', got '{0}'")]
    Header(String),
}

/// `--resolve HOST:PORT:ADDR`, as curl means it: connect to ADDR for HOST:PORT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvePin {
    pub host: String,
    pub port: u16,
    pub addr: IpAddr,
}

impl FromStr for ResolvePin {
    type Err = OptionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || OptionError::Resolve(s.to_string());
        let (host, rest) = s.split_once(':').ok_or_else(bad)?;
        let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        Ok(Self {
            host: host.to_ascii_lowercase(),
            port: port.parse().map_err(|_| bad())?,
            addr: addr.parse().map_err(|_| bad())?,
        })
    }
}

/// An extra request header given with `-H 'Name: value'`.
pub fn parse_header(s: &str) -> Result<(String, String), OptionError> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| OptionError::Header(s.to_string()))?;
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(OptionError::Header(s.to_string()));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// Trust roots from a PEM file (`--ca-file`), for private CAs and tests.
pub fn load_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, OptionError> {
    let shown = path.display().to_string();
    let pem = std::fs::read(path).map_err(|source| OptionError::CaFile {
        path: shown.clone(),
        source,
    })?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(OptionError::CaFileEmpty(shown));
    }
    Ok(certs)
}

#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Deadline of each step.
    pub timeout: Duration,
    /// How long the `websocket` check watches for the server closing on its own.
    pub observe: Duration,
    pub resolve: Vec<ResolvePin>,
    pub extra_roots: Vec<CertificateDer<'static>>,
    pub headers: Vec<(String, String)>,
    pub auth_token: Option<Secret>,
    /// Run the `provider` check (off with `--no-provider`).
    pub provider: bool,
}

/// The header Telnyx sends the `stream_auth_token` in.
pub const AUTH_TOKEN_HEADER: &str = "x-telnyx-streaming-auth-token";

impl CheckOptions {
    /// Headers every upgrade request carries: `-H` ones, and the auth token as Telnyx sends it.
    pub fn request_headers(&self) -> Vec<(String, String)> {
        let mut headers = self.headers.clone();
        if let Some(token) = &self.auth_token {
            headers.push((AUTH_TOKEN_HEADER.to_string(), token.expose().to_string()));
        }
        headers
    }
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            observe: Duration::from_secs(2),
            resolve: Vec::new(),
            extra_roots: Vec::new(),
            headers: Vec::new(),
            auth_token: None,
            provider: true,
        }
    }
}

/// What the runner reports while it works, for progress displays.
#[derive(Clone, Debug)]
pub enum Progress {
    Started(CheckId),
    Finished(CheckResult),
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
    let started_at = now_rfc3339();
    let started = Instant::now();
    let checks = run_checks(raw_url, options, scope, progress).await;
    CheckReport {
        tool: ToolInfo::this(),
        target: raw_url.trim().to_string(),
        started_at,
        duration_ms: millis(started.elapsed()),
        diagnosis: diagnose(&checks),
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
        progress(Progress::Finished(result.clone()));
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
    let (dns_result, addrs) = dns::check(&target, &options.resolve, options.timeout).await;
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

    let chain = async {
        let mut chain_results = Vec::new();
        if !wanted(CheckId::Tls) {
            return chain_results;
        }
        let io: connect::BoxedIo = if target.secure {
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
        let upgrade_result = upgrade::check(io, &target, options).await;
        let upgraded = upgrade_result.status == Status::Pass;
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
        let ws_result = websocket::check(addr, &target, options).await;
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
        } else if session_ok {
            progress(Progress::Started(CheckId::Provider));
            finish(
                provider::check(addr, &target, options).await,
                &mut chain_results,
            );
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
        progress(Progress::Finished(result.clone()));
        Some(result)
    };
    let (chain_results, paths_result) = tokio::join!(chain, paths);
    results.extend(chain_results);
    results.extend(paths_result);
    results.sort_by_key(|r| r.id);
    results
}

/// The current time as RFC 3339 (UTC, seconds).
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    now.format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_pins_parse_like_curl() {
        let pin: ResolvePin = "Example.com:443:127.0.0.1".parse().expect("v4");
        assert_eq!(pin.host, "example.com");
        assert_eq!(pin.port, 443);
        let v6: ResolvePin = "h:8443:[::1]".parse().expect("v6");
        assert_eq!(v6.addr, "::1".parse::<IpAddr>().expect("ip"));
        for bad in ["h", "h:443", "h:x:127.0.0.1", "h:443:not-an-ip"] {
            assert!(bad.parse::<ResolvePin>().is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_parse() {
        let header = parse_header("X-Test:  value : with colon").expect("parses");
        assert_eq!(header, ("X-Test".into(), "value : with colon".into()));
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: v").is_err());
    }
}
