//! How the checks run: the deadline of each step, how long to watch a new WebSocket, pins,
//! extra trust roots, extra headers and the auth token, and whether to stream as the provider.

use std::net::SocketAddr;
use std::time::Duration;

use rustls_pki_types::CertificateDer;

use crate::catalog::Provider;
use crate::records::address::ResolvePin;
use crate::secret::Secret;

/// An extra request header given with `-H 'Name: value'`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a header wants 'Name: value', got '{0}'")]
pub struct HeaderError(String);

pub fn parse_header(s: &str) -> Result<(String, String), HeaderError> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| HeaderError(s.to_string()))?;
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(HeaderError(s.to_string()));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Deadline of each step.
    pub timeout: Duration,
    /// How long the `websocket` check watches for the server closing on its own.
    pub observe: Duration,
    pub resolve: Vec<ResolvePin>,
    /// A name server to ask instead of the system's (`--dns-server`).
    pub dns_server: Option<SocketAddr>,
    pub extra_roots: Vec<CertificateDer<'static>>,
    pub headers: Vec<(String, String)>,
    pub auth_token: Option<Secret>,
    /// Whose upgrade and stream the checks send (`--protocol`): Telnyx unless asked.
    pub protocol: Provider,
    /// The Twilio account's auth token: with `protocol` Twilio, every upgrade is signed with it
    /// as Twilio signs its stream's.
    pub twilio_auth_token: Option<Secret>,
    /// Run the `provider` check (off with `--no-provider`).
    pub provider: bool,
    /// Whether this machine can reach the IPv6 internet; when it cannot (`Some(false)`),
    /// AAAA addresses are not tried and the dns evidence says so. `None`: not asked.
    pub ipv6_route: Option<bool>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            observe: Duration::from_secs(2),
            resolve: Vec::new(),
            dns_server: None,
            extra_roots: Vec::new(),
            headers: Vec::new(),
            auth_token: None,
            protocol: Provider::Telnyx,
            twilio_auth_token: None,
            provider: true,
            ipv6_route: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse() {
        let header = parse_header("X-Test:  value : with colon").expect("parses");
        assert_eq!(header, ("X-Test".into(), "value : with colon".into()));
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: v").is_err());
    }
}
