//! Addresses as evidence: where an address sits for a provider on the internet (`Scope`), and
//! a `--resolve` pin as curl means it (`HOST:PORT:ADDR`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// `--resolve HOST:PORT:ADDR`, as curl means it: connect to ADDR for HOST:PORT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvePin {
    pub host: String,
    pub port: u16,
    pub addr: IpAddr,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("--resolve wants HOST:PORT:ADDR, got '{0}'")]
pub struct PinError(String);

impl FromStr for ResolvePin {
    type Err = PinError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || PinError(s.to_string());
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

impl std::fmt::Display for ResolvePin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.host, self.port, self.addr)
    }
}

/// Where an address sits, as far as a provider on the internet is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    Public,
    Loopback,
    Private,
    LinkLocal,
    Unspecified,
}

impl Scope {
    pub(crate) fn of(addr: IpAddr) -> Scope {
        match addr {
            IpAddr::V4(v4) => scope_v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => scope_v4(v4),
                None => scope_v6(v6),
            },
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
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
