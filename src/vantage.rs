//! Where a check ran: a label a person gives it, the machine's name, and whether the machine
//! can reach the IPv6 internet at all (so a report from a runner without IPv6 says that its
//! AAAA addresses were not tried, rather than failing them).

use std::net::UdpSocket;

use serde::{Deserialize, Serialize};

/// A well-known public IPv6 address; "connecting" a UDP socket to it sends nothing, it only
/// asks the kernel for a route.
const IPV6_PROBE: &str = "[2001:4860:4860::8888]:53";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vantage {
    pub label: String,
    pub hostname: String,
    pub ipv6: bool,
}

impl Vantage {
    /// This machine, labelled `label` (its host name when none is given).
    pub fn here(label: Option<&str>) -> Self {
        let hostname = hostname();
        Self {
            label: label
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .unwrap_or(&hostname)
                .to_string(),
            hostname,
            ipv6: ipv6_route(),
        }
    }
}

/// The machine's name, as the kernel (or the environment) has it.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Whether the kernel has a route to the IPv6 internet.
pub(crate) fn ipv6_route() -> bool {
    UdpSocket::bind("[::]:0")
        .and_then(|socket| socket.connect(IPV6_PROBE))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vantage_is_labelled_by_the_person_or_the_host() {
        let named = Vantage::here(Some("ci-eu"));
        assert_eq!(named.label, "ci-eu");
        assert!(!named.hostname.is_empty());
        let unnamed = Vantage::here(Some("  "));
        assert_eq!(unnamed.label, unnamed.hostname);
        let json = serde_json::to_value(&named).expect("json");
        assert!(json["ipv6"].is_boolean());
    }
}
