//! Where a stream URL points: the parsed `ws`/`wss` target (host as sent in SNI, port, path),
//! `--resolve` pins as curl means them, and the one lookup a stand-in needs to connect.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use url::Url;

use crate::records::address::ResolvePin;

/// Why a string is not a usable stream URL; the text is what a person reads.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the URL is empty")]
    Empty,
    #[error("the URL has no host")]
    NoHost,
    #[error("not a URL ({reason}): '{input}'")]
    NotAUrl { reason: String, input: String },
    #[error("scheme is {0}://, a WebSocket URL starts with wss:// (or ws://)")]
    HttpScheme(String),
    #[error("scheme '{0}' is not ws or wss")]
    OtherScheme(String),
}

/// A stream URL that is usable for connecting.
#[derive(Clone, Debug)]
pub struct Target {
    pub url: Url,
    pub secure: bool,
    /// Host as resolved and sent in SNI: no brackets around IPv6 literals.
    pub host: String,
    pub port: u16,
    /// Path and query as sent in the request line.
    pub path_and_query: String,
}

impl Target {
    pub fn parse(raw: &str) -> Result<Target, TargetError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(TargetError::Empty);
        }
        // The WHATWG parser reads `wss:///x` as host `x`; a person meant an empty host.
        if trimmed
            .split_once("://")
            .is_some_and(|(_, rest)| rest.starts_with('/'))
        {
            return Err(TargetError::NoHost);
        }
        let url = Url::parse(trimmed).map_err(|e| TargetError::NotAUrl {
            reason: e.to_string(),
            input: trimmed.to_string(),
        })?;
        let secure = match url.scheme() {
            "wss" => true,
            "ws" => false,
            scheme @ ("https" | "http") => return Err(TargetError::HttpScheme(scheme.into())),
            other => return Err(TargetError::OtherScheme(other.into())),
        };
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            _ => return Err(TargetError::NoHost),
        };
        let port = url
            .port_or_known_default()
            .unwrap_or(if secure { 443 } else { 80 });
        let path_and_query = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        Ok(Target {
            secure,
            host,
            port,
            path_and_query,
            url,
        })
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    pub fn host_header(&self) -> String {
        let host = match self.url.host() {
            Some(url::Host::Ipv6(addr)) => format!("[{addr}]"),
            _ => self.host.clone(),
        };
        if self.url.port().is_some() {
            format!("{host}:{}", self.port)
        } else {
            host
        }
    }

    /// The addresses `--resolve` pins for this host and port.
    pub(crate) fn pinned(&self, pins: &[ResolvePin]) -> Vec<IpAddr> {
        let host = self.host.to_ascii_lowercase();
        pins.iter()
            .filter(|p| p.host == host && p.port == self.port)
            .map(|p| p.addr)
            .collect()
    }

    /// One address to connect to: a pin, the literal in the URL, else the system resolver's
    /// first answer, all within `timeout`.
    pub(crate) async fn address(
        &self,
        pins: &[ResolvePin],
        timeout: Duration,
    ) -> Result<SocketAddr, LookupError> {
        if let Some(pin) = self.pinned(pins).first() {
            return Ok(SocketAddr::new(*pin, self.port));
        }
        let host = self.host.to_ascii_lowercase();
        if let Ok(ip) = host.parse() {
            return Ok(SocketAddr::new(ip, self.port));
        }
        let lookup = tokio::net::lookup_host((host.clone(), self.port));
        let found = tokio::time::timeout(timeout, lookup).await;
        match found {
            Ok(Ok(mut found)) => found.next().ok_or(LookupError::NoAddress(host)),
            Ok(Err(e)) => Err(LookupError::Failed(host, e.to_string())),
            Err(_) => Err(LookupError::Timeout(host, timeout)),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LookupError {
    #[error("{0} has no address")]
    NoAddress(String),
    #[error("{0} does not resolve: {1}")]
    Failed(String, String),
    #[error("no DNS answer for {0} within {1:?}")]
    Timeout(String, Duration),
}

/// The placeholders a templating slip leaves behind, as written in the URL.
pub fn template_leftovers(raw: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = raw;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let start = if open > 0 && rest.as_bytes()[open - 1] == b'$' {
            open - 1
        } else {
            open
        };
        found.push(rest[start..open + close + 1].to_string());
        rest = &rest[open + close + 1..];
    }
    let lower = raw.to_ascii_lowercase();
    let mut from = 0;
    while let Some(open) = lower[from..].find("%7b") {
        let open = from + open;
        let Some(close) = lower[open..].find("%7d") else {
            break;
        };
        found.push(raw[open..open + close + 3].to_string());
        from = open + close + 3;
    }
    let after_authority = raw.find("://").map_or(raw, |i| &raw[i + 3..]);
    let path_and_query = after_authority
        .find('/')
        .map_or("", |i| &after_authority[i..]);
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    for segment in path.split('/') {
        let is_param = segment.len() > 1
            && segment.starts_with(':')
            && segment[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if is_param || segment == "undefined" || segment == "null" {
            found.push(segment.to_string());
        }
    }
    for pair in query.split('&') {
        if let Some((_, value)) = pair.split_once('=')
            && (value == "undefined" || value == "null")
        {
            found.push(pair.to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_fields() {
        let target = Target::parse("wss://[::1]:9443/x/y?z=1").expect("parses");
        assert_eq!(target.host, "::1");
        assert_eq!(target.port, 9443);
        assert_eq!(target.path_and_query, "/x/y?z=1");
        assert_eq!(target.host_header(), "[::1]:9443");
        let plain = Target::parse("wss://example.com/s").expect("parses");
        assert_eq!(
            (plain.port, plain.host_header()),
            (443, "example.com".into())
        );
    }

    #[test]
    fn bad_urls_say_why() {
        let table = [
            ("", TargetError::Empty),
            ("wss:///path-only", TargetError::NoHost),
            (
                "https://h.example/a",
                TargetError::HttpScheme("https".into()),
            ),
            ("ftp://h.example/a", TargetError::OtherScheme("ftp".into())),
        ];
        for (raw, error) in table {
            assert_eq!(Target::parse(raw).err(), Some(error), "{raw}");
        }
        assert!(matches!(
            Target::parse("not a url"),
            Err(TargetError::NotAUrl { .. })
        ));
    }

    #[tokio::test]
    async fn a_pin_wins_over_the_resolver() {
        let target = Target::parse("wss://Name.test:8443/a").expect("parses");
        let pins = vec!["name.test:8443:127.0.0.2".parse().expect("pin")];
        let addr = target
            .address(&pins, Duration::from_secs(1))
            .await
            .expect("pinned");
        assert_eq!(addr, "127.0.0.2:8443".parse().expect("addr"));
    }
}
