//! A provider's own error code as a starting point: Twilio's Media Streams codes (319xx,
//! docs/providers.md) and Telnyx's `failure_reason` values, each with what it
//! means in plain words and which checks answer it, so a person can go from the code in the
//! provider's console to the checks that find the cause.

use serde::Serialize;

use crate::catalog::{CauseId, CheckId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Twilio,
    Telnyx,
}

/// One code the tool can explain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub source: Source,
    pub code: &'static str,
    pub title: &'static str,
    pub meaning: &'static str,
    /// The checks that look at what the code is about, in the order a connection is built.
    pub checks: &'static [CheckId],
    /// The causes those checks would name for it.
    pub causes: &'static [CauseId],
}

impl Explanation {
    /// The deepest check named: running it runs every check it needs.
    pub fn scope(&self) -> Option<CheckId> {
        self.checks.iter().copied().max()
    }
}

use CauseId as C;
use CheckId::*;

const ALL_CHECKS: &[CheckId] = &CheckId::ALL;

pub const CODES: &[Explanation] = &[
    Explanation {
        source: Source::Twilio,
        code: "31900",
        title: "Stream - Unknown Error",
        meaning: "Twilio gives no reason. Run every check: they show the first step that fails.",
        checks: ALL_CHECKS,
        causes: &[],
    },
    Explanation {
        source: Source::Twilio,
        code: "31901",
        title: "Stream - WebSocket - Connection Timeout",
        meaning: "Twilio's connection got no answer: the server is down, the host or port is wrong, a tunnel or proxy does not forward, or a firewall drops port 443.",
        checks: &[Dns, Tcp],
        causes: &[C::TcpTimeout, C::DnsPrivateAddress],
    },
    Explanation {
        source: Source::Twilio,
        code: "31902",
        title: "Stream - WebSocket - Connection Refused",
        meaning: "Nothing accepted the connection: wrong host, port or path, a server that is not listening, or an endpoint that does not take wss.",
        checks: &[Tcp, Paths],
        causes: &[C::TcpRefused, C::WsPathMismatch],
    },
    Explanation {
        source: Source::Twilio,
        code: "31903",
        title: "Stream - WebSocket - Connection Broken Pipe",
        meaning: "The server ended the connection mid-stream: a restart or crash, or a firewall, proxy or load balancer with an idle timeout.",
        checks: &[Websocket, Provider],
        causes: &[C::WsIdleTimeoutRisk, C::StreamRejected],
    },
    Explanation {
        source: Source::Twilio,
        code: "31904",
        title: "Stream - WebSocket - Host Unreachable",
        meaning: "The host could not be reached: a wrong IP or name, a private address the internet cannot route to, or a host that is down.",
        checks: &[Dns, Tcp],
        causes: &[C::DnsPrivateAddress, C::DnsNoRecords, C::TcpUnreachable],
    },
    Explanation {
        source: Source::Twilio,
        code: "31910",
        title: "Stream - WebSocket - SSL Protocol Error",
        meaning: "TLS failed: the URL is not wss, the port does not speak TLS, or the certificate is one standard clients refuse.",
        checks: &[Tls],
        causes: &[
            C::TlsSelfSigned,
            C::TlsIncompleteChain,
            C::TlsExpired,
            C::TlsHostnameMismatch,
            C::TlsPlatformDefaultCert,
            C::TlsHandshakeFailed,
        ],
    },
    Explanation {
        source: Source::Twilio,
        code: "31920",
        title: "Stream - WebSocket - Handshake Error",
        meaning: "The server answered the WebSocket handshake with something other than 101: no WebSocket on that route, a wrong path, a query string in the URL, or a proxy that drops the upgrade.",
        checks: &[Url, Upgrade, Paths],
        causes: &[
            C::UrlQueryString,
            C::HttpNotFound,
            C::HttpUpgradeIgnored,
            C::HttpUpgradeRejected,
            C::HttpOriginRequired,
            C::WsPathMismatch,
        ],
    },
    Explanation {
        source: Source::Twilio,
        code: "31921",
        title: "Stream - WebSocket - Close Error",
        meaning: "The server closed the WebSocket; with <Connect><Stream> that ends the stream. The close code says why.",
        checks: &[Websocket, Provider],
        causes: &[C::WsClosedOnConnect, C::StreamRejected],
    },
    Explanation {
        source: Source::Twilio,
        code: "31922",
        title: "Stream - WebSocket - URL Schema Not Supported",
        meaning: "The URL's scheme is not wss:// (Twilio's error page is about the scheme only; a query string in the URL is 31920's).",
        checks: &[Url],
        causes: &[C::UrlInsecureScheme, C::UrlInvalid],
    },
    Explanation {
        source: Source::Twilio,
        code: "31923",
        title: "Stream - WebSocket - Malformed URL",
        meaning: "The stream URL is not a well-formed URL.",
        checks: &[Url],
        causes: &[C::UrlInvalid, C::UrlTemplateUnexpanded],
    },
    Explanation {
        source: Source::Twilio,
        code: "31924",
        title: "Stream - WebSocket - Protocol Error",
        meaning: "The server broke the WebSocket protocol or sent an invalid media, mark or clear message back.",
        checks: &[Websocket, Provider],
        causes: &[C::StreamRejected],
    },
    Explanation {
        source: Source::Twilio,
        code: "31930",
        title: "Stream - Media - Buffer Overflow (warning)",
        meaning: "The connection to the server is congested, so Twilio discards audio: the server reads too slowly.",
        checks: &[Provider],
        causes: &[],
    },
    Explanation {
        source: Source::Twilio,
        code: "31931",
        title: "Stream - Media - Media Discarded (warning)",
        meaning: "The server sent audio back faster than real time; more than ten minutes are buffered and Twilio takes no more.",
        checks: &[Provider],
        causes: &[],
    },
    Explanation {
        source: Source::Twilio,
        code: "31941",
        title: "Stream - Invalid Track configuration",
        meaning: "The track setting does not fit the verb: <Connect><Stream> takes only inbound_track, and a <Start><Stream> with a track value Twilio does not know fails the same way. A provider setting, not the server.",
        checks: &[],
        causes: &[],
    },
    Explanation {
        source: Source::Twilio,
        code: "31950",
        title: "Stream - Protocol - Malformed Message (warning)",
        meaning: "The server sent binary frames or raw audio; Twilio takes JSON text `media` messages.",
        checks: &[Provider],
        causes: &[],
    },
    Explanation {
        source: Source::Twilio,
        code: "31951",
        title: "Stream - Protocol - Invalid Message (warning)",
        meaning: "The server sent a message that is not JSON, an unsupported event, missing or extra fields, or the wrong streamSid.",
        checks: &[Provider],
        causes: &[],
    },
    Explanation {
        source: Source::Twilio,
        code: "31953",
        title: "Stream - Media - RTP timeout (warning)",
        meaning: "The call's audio stopped: the call ended, or the carrier stopped sending. Not the stream server.",
        checks: &[],
        causes: &[],
    },
    Explanation {
        source: Source::Telnyx,
        code: "connection_failed",
        title: "streaming.failed: connection_failed",
        meaning: "Telnyx could not open the WebSocket to the stream URL: the name, the connection, TLS or the upgrade failed. Every step up to the upgrade is a suspect. A server that demands a token refuses a stream started on `answer`: that command has no stream_auth_token parameter (streaming_start and dial do).",
        checks: &[Url, Dns, Tcp, Tls, Upgrade, Paths],
        causes: &[
            C::DnsNoRecords,
            C::TcpRefused,
            C::TcpTimeout,
            C::TlsHandshakeFailed,
            C::HttpUpgradeRejected,
            C::WsPathMismatch,
        ],
    },
    Explanation {
        source: Source::Telnyx,
        code: "Connection timeout",
        title: "TeXML stream-error: Connection timeout",
        meaning: "The TeXML stream status callback's StreamError: the connection or the handshake got no answer in time.",
        checks: &[Dns, Tcp, Tls, Upgrade],
        causes: &[C::TcpTimeout, C::TlsHandshakeTimeout, C::WsHandshakeTimeout],
    },
];

/// The explanation of what a person pasted: `31920`, `Error 31920`, `twilio 31920`,
/// `connection_failed`.
pub fn explain(pasted: &str) -> Option<&'static Explanation> {
    let text = pasted.trim().to_ascii_lowercase();
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    CODES.iter().find(|e| {
        let code = e.code.to_ascii_lowercase();
        text == code || (digits.len() == 5 && digits == code) || text.ends_with(&code)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As Twilio's error pages say: 31922 is the scheme only (a query string is 31920's), and
    /// 31941's title names a stream and covers <Start> as well as <Connect>.
    #[test]
    fn twilio_codes_say_what_their_pages_say() {
        let scheme = explain("31922").expect("31922");
        assert!(!scheme.causes.contains(&C::UrlQueryString));
        assert!(scheme.causes.contains(&C::UrlInsecureScheme));
        let handshake = explain("31920").expect("31920");
        assert!(handshake.causes.contains(&C::UrlQueryString));
        let track = explain("31941").expect("31941");
        assert_eq!(track.title, "Stream - Invalid Track configuration");
        assert!(track.meaning.contains("<Start><Stream>"));
        // Telnyx's answer command has no stream_auth_token parameter.
        let failed = explain("connection_failed").expect("connection_failed");
        assert!(failed.meaning.contains("no stream_auth_token parameter"));
    }

    #[test]
    fn codes_are_found_however_they_are_pasted() {
        for pasted in ["31920", "Error 31920", "twilio 31920", " 31920 "] {
            assert_eq!(explain(pasted).map(|e| e.code), Some("31920"), "{pasted}");
        }
        assert_eq!(
            explain("CONNECTION_FAILED").map(|e| e.source),
            Some(Source::Telnyx)
        );
        assert_eq!(
            explain("connection timeout").map(|e| e.code),
            Some("Connection timeout")
        );
        assert!(explain("12345").is_none());
        assert!(explain("").is_none());
    }

    /// Every explanation points at checks whose causes it names.
    #[test]
    fn each_cause_named_is_found_by_a_check_listed() {
        for e in CODES {
            for cause in e.causes {
                let found = cause.check().is_some_and(|c| e.checks.contains(&c));
                assert!(
                    found,
                    "{}: {} is found by {}, not listed",
                    e.code,
                    cause.as_str(),
                    cause.found_by().as_str()
                );
            }
            assert_eq!(e.scope(), e.checks.iter().copied().max());
        }
    }
}
