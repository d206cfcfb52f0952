//! The evidence of each check, one type per check: what was sent, what came back, and when.
//! Every reader (the diagnosis, the reports, the window) uses these fields. The serde
//! attributes keep the JSON of `check`, of sessions and of saved reports exactly as it was
//! when the evidence was untyped (the golden files in tests/golden pin it).

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::catalog::CheckId;
use crate::edge::AnsweredBy;
use crate::records::address::Scope;
use crate::records::call::{Ending, Received, Sent, SentCounts};
use crate::records::certificate::ChainEntry;
use crate::records::close::Close;
use crate::records::exchange::{Exchange, Problem};
use crate::records::live::MediaFormat;

/// The `Evidence` enum, one variant per check (named as the check is), with its reader, its
/// accessors, its JSON (the inner type's, `null` for none) and `From` each evidence type.
macro_rules! evidence {
    ($($check:ident($ty:ty) => $accessor:ident,)*) => {
        /// What a check recorded; `None` for a check that did not run or broke before it could.
        #[derive(Clone, Debug, Default, PartialEq)]
        pub enum Evidence {
            #[default]
            None,
            // Boxed: the evidence of some checks is large, and results travel in events.
            $($check(Box<$ty>),)*
        }

        impl Evidence {
            /// Reads the saved evidence of check `id`.
            pub fn read(
                id: CheckId,
                value: serde_json::Value,
            ) -> Result<Evidence, serde_json::Error> {
                if value.is_null() {
                    return Ok(Evidence::None);
                }
                Ok(match id {
                    $(CheckId::$check => Evidence::$check(Box::new(serde_json::from_value(value)?)),)*
                })
            }

            $(pub fn $accessor(&self) -> Option<&$ty> {
                match self {
                    Evidence::$check(evidence) => Some(evidence),
                    _ => None,
                }
            })*
        }

        impl Serialize for Evidence {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    Evidence::None => serializer.serialize_unit(),
                    $(Evidence::$check(evidence) => evidence.serialize(serializer),)*
                }
            }
        }

        $(impl From<$ty> for Evidence {
            fn from(evidence: $ty) -> Self {
                Evidence::$check(Box::new(evidence))
            }
        })*
    };
}

evidence! {
    Url(UrlEvidence) => url,
    Dns(DnsEvidence) => dns,
    Tcp(TcpEvidence) => tcp,
    Tls(TlsEvidence) => tls,
    Upgrade(UpgradeEvidence) => upgrade,
    Websocket(WebsocketEvidence) => websocket,
    Paths(PathsEvidence) => paths,
    Provider(ProviderEvidence) => provider,
}

impl Evidence {
    /// Who answered, where the check could tell.
    pub fn answered_by(&self) -> Option<&AnsweredBy> {
        match self {
            Evidence::Dns(dns) => dns.answered_by.as_ref(),
            Evidence::Tls(tls) => tls.answered_by.as_ref(),
            Evidence::Upgrade(upgrade) => upgrade.answered_by.as_ref(),
            Evidence::Websocket(websocket) => match websocket.as_ref() {
                WebsocketEvidence::Watched(watch) => watch.answered_by.as_ref(),
                WebsocketEvidence::NotOpened {} => None,
            },
            Evidence::Provider(provider) => match provider.as_ref() {
                ProviderEvidence::Refused { answered_by, .. } => answered_by.as_ref(),
                _ => None,
            },
            _ => None,
        }
    }
}

/// `url`: the parts of the URL, or what was given when it is not one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UrlEvidence {
    #[serde(flatten)]
    pub parts: UrlParts,
    /// Placeholders a template left in the URL, as written.
    pub template_leftovers: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UrlParts {
    Parsed {
        scheme: String,
        host: String,
        port: u16,
        path: String,
        query: Option<String>,
    },
    Unparsed {
        input: String,
    },
}

/// `dns`: where the addresses came from and what each is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DnsEvidence {
    pub host: String,
    pub source: DnsSource,
    pub addresses: Vec<Address>,
    /// Said when this machine cannot reach IPv6, so its AAAA addresses were left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aaaa_not_tried: Option<String>,
    pub resolve_ms: f64,
    /// The host and each name it is an alias of (CNAME), in the order followed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cname_chain: Vec<String>,
    /// A platform or CDN the name leads to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<AnsweredBy>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum DnsSource {
    Literal,
    Pinned,
    /// `.invalid` names never resolve, so no resolver is asked.
    Rfc6761,
    /// The hosts file, read first as the system's resolver does (`files` before `dns`).
    HostsFile,
    System,
    /// The name server given with `--dns-server`.
    Server(SocketAddr),
}

impl DnsSource {
    pub(crate) fn describe(self) -> String {
        match self {
            DnsSource::Literal => "address literal".into(),
            DnsSource::Pinned => "--resolve".into(),
            DnsSource::Rfc6761 => "RFC 6761".into(),
            DnsSource::HostsFile => "hosts file".into(),
            DnsSource::System => "system resolver".into(),
            DnsSource::Server(addr) => format!("name server {addr}"),
        }
    }
}

impl From<DnsSource> for String {
    fn from(source: DnsSource) -> Self {
        source.describe()
    }
}

impl TryFrom<String> for DnsSource {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Ok(match text.as_str() {
            "address literal" => DnsSource::Literal,
            "--resolve" => DnsSource::Pinned,
            "RFC 6761" => DnsSource::Rfc6761,
            "hosts file" => DnsSource::HostsFile,
            "system resolver" => DnsSource::System,
            other => other
                .strip_prefix("name server ")
                .and_then(|addr| addr.parse().ok())
                .map(DnsSource::Server)
                .ok_or_else(|| format!("unknown DNS source '{text}'"))?,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ipv4,
    Ipv6,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub address: IpAddr,
    pub family: Family,
    pub scope: Scope,
}

impl Address {
    pub(crate) fn of(address: IpAddr) -> Self {
        Self {
            address,
            family: if address.is_ipv4() {
                Family::Ipv4
            } else {
                Family::Ipv6
            },
            scope: Scope::of(address),
        }
    }
}

/// `tcp`: every connection attempt, in the order made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TcpEvidence {
    pub attempts: Vec<Attempt>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub address: SocketAddr,
    pub result: AttemptResult,
    /// Unknown when the attempt never got an answer.
    pub connect_ms: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum AttemptResult {
    Connected,
    /// The error the attempt ended with.
    Failed(String),
    NoAnswer,
}

impl From<String> for AttemptResult {
    fn from(text: String) -> Self {
        match text.as_str() {
            "connected" => AttemptResult::Connected,
            "no answer" => AttemptResult::NoAnswer,
            _ => AttemptResult::Failed(text),
        }
    }
}

impl From<AttemptResult> for String {
    fn from(result: AttemptResult) -> Self {
        result.to_string()
    }
}

impl std::fmt::Display for AttemptResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttemptResult::Connected => f.write_str("connected"),
            AttemptResult::Failed(error) => f.write_str(error),
            AttemptResult::NoAnswer => f.write_str("no answer"),
        }
    }
}

/// `tls`: what was offered, the chain the server sent (readable or not), and either what
/// was negotiated or why the handshake failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TlsEvidence {
    pub server_name: String,
    pub alpn_offered: Vec<String>,
    pub handshake_ms: f64,
    pub chain: Vec<ChainEntry>,
    /// How many extra roots (`--ca-file`, the demo's own) were trusted beside the public ones.
    pub extra_roots: usize,
    /// Present when the handshake completed.
    #[serde(flatten)]
    pub session: Option<TlsSession>,
    /// The handshake's error, for the engineer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The status line a plain HTTP server sent back to the TLS hello.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plain_http_answer: Option<String>,
    /// The ALPN protocols the server accepts when it refused `http/1.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn_server: Option<Vec<String>>,
    /// The platform whose certificate the server presents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<AnsweredBy>,
}

/// `upgrade`: the exchange, who answered it, and the second attempt when one was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpgradeEvidence {
    #[serde(flatten)]
    pub exchange: Exchange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<AnsweredBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Box<Retry>>,
    /// Attempts after `retry`, in order: a bare 403 is asked again with an Authorization
    /// header once `retry` (with an Origin header) got the same.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub further: Vec<Retry>,
    /// With `--protocol twilio`: whether the upgrade carried Twilio's signature (false when no
    /// `--twilio-auth-token` was given, so a server that validates it refuses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twilio_signature: Option<bool>,
}

/// A second upgrade, made because the first one's answer suggests a different outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Retry {
    pub why: RetryReason,
    /// How long after the first answer the second attempt started.
    pub after_ms: f64,
    pub exchange: Exchange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<AnsweredBy>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryReason {
    /// The edge answered with an error or nothing came: a sleeping service wakes.
    ColdStart,
    /// Refused without an `Origin` header: tried once with one.
    WithOrigin,
    /// A bare 403 (no `WWW-Authenticate`, nothing about credentials): tried once with a dummy
    /// `Authorization` header, to tell a credential check from a route that is not there.
    WithAuthorization,
}

impl RetryReason {
    pub fn describe(self) -> &'static str {
        match self {
            RetryReason::ColdStart => "in case the service was asleep",
            RetryReason::WithOrigin => "with an Origin header",
            RetryReason::WithAuthorization => "with a dummy Authorization header",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TlsSession {
    pub version: String,
    pub cipher: String,
    pub alpn: Option<String>,
    /// The chain verifies only with an extra root, not with the public ones.
    pub trusted_only_via_ca_file: bool,
}

/// `websocket`: the ping round trip and whether the server closed on its own; nothing when no
/// session could be opened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WebsocketEvidence {
    Watched(Watch),
    NotOpened {},
}

impl WebsocketEvidence {
    /// Whether the session's ping got its pong.
    pub(crate) fn answered_ping(&self) -> bool {
        matches!(self, WebsocketEvidence::Watched(watch) if watch.ping_rtt_ms.is_some())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Watch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<AnsweredBy>,
    pub ping_rtt_ms: Option<f64>,
    pub observe_secs: f64,
    pub closed_by_server: Option<ServerClose>,
    /// Messages the server sent unasked, shortened.
    pub received: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerClose {
    pub close: Close,
    pub after_ms: f64,
}

/// `paths`: the upgrade at the target path and at each variant of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PathsEvidence {
    pub variants: Vec<VariantOutcome>,
}

impl PathsEvidence {
    /// The kinds of variant that upgraded.
    pub(crate) fn upgraded_kinds(&self) -> impl Iterator<Item = VariantKind> + '_ {
        self.variants.iter().filter(|v| v.upgraded).map(|v| v.kind)
    }
}

/// How a path differs from the one the provider is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariantKind {
    Target,
    /// Another value where the id is.
    OtherId,
    /// A route pattern (`:id`, `{id}`, `*`) where the id is.
    RoutePattern,
    TrailingSlash,
    Root,
    /// A path media-stream servers commonly use (`/ws`, `/media-stream`, …).
    CommonPath,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VariantOutcome {
    pub path: String,
    pub kind: VariantKind,
    pub status: Option<u16>,
    pub upgraded: bool,
    #[serde(flatten)]
    pub reached: Reached,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Reached {
    /// No connection to send the request on.
    NotConnected { problem: String },
    /// The request went out; the answer's status line, or why there was no answer.
    Answered {
        status_line: Option<String>,
        problem: Option<Problem>,
    },
}

/// `provider`: the stream as the provider would send it, and what the server did with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProviderEvidence {
    Streamed(SentStream),
    /// The provider's upgrade was answered with this status.
    Refused {
        status: u16,
        headers_sent: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        answered_by: Option<AnsweredBy>,
    },
    /// No WebSocket could be opened.
    NotOpened {},
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentStream {
    /// Names of the headers the upgrade carried beside the standard ones.
    pub headers_sent: Vec<String>,
    pub media_format: MediaFormat,
    pub sent: SentCounts,
    #[serde(with = "last_sent")]
    pub last_sent: Option<Sent>,
    pub send_error: Option<String>,
    pub received_count: u64,
    pub received: Vec<Received>,
    pub close: Ending,
}

/// The last message sent, `nothing` when none went out.
mod last_sent {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        sent: &Option<Sent>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(sent.map_or("nothing", Sent::name))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Sent>, D::Error> {
        let name = String::deserialize(deserializer)?;
        if name == "nothing" {
            return Ok(None);
        }
        Sent::deserialize(serde::de::value::StringDeserializer::<D::Error>::new(name)).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each shape of evidence reads back as what was written.
    #[test]
    fn evidence_round_trips_through_its_json() {
        let cases: Vec<(CheckId, Evidence)> = vec![
            (
                CheckId::Url,
                UrlEvidence {
                    parts: UrlParts::Unparsed {
                        input: "not a url".into(),
                    },
                    template_leftovers: vec![],
                }
                .into(),
            ),
            (
                CheckId::Tcp,
                TcpEvidence {
                    attempts: vec![Attempt {
                        address: "127.0.0.1:9".parse().expect("addr"),
                        result: AttemptResult::Failed("Connection refused".into()),
                        connect_ms: Some(0.2),
                    }],
                }
                .into(),
            ),
            (
                CheckId::Tls,
                TlsEvidence {
                    server_name: "h.example".into(),
                    alpn_offered: vec!["http/1.1".into()],
                    handshake_ms: 1.0,
                    chain: vec![ChainEntry::Unreadable {
                        error: "certificate does not parse".into(),
                    }],
                    extra_roots: 0,
                    session: None,
                    error: Some("bad".into()),
                    plain_http_answer: None,
                    alpn_server: None,
                    answered_by: None,
                }
                .into(),
            ),
            (CheckId::Websocket, WebsocketEvidence::NotOpened {}.into()),
            (
                CheckId::Paths,
                PathsEvidence {
                    variants: vec![
                        VariantOutcome {
                            path: "/a".into(),
                            kind: VariantKind::Target,
                            status: None,
                            upgraded: false,
                            reached: Reached::NotConnected {
                                problem: "refused".into(),
                            },
                        },
                        VariantOutcome {
                            path: "/:id".into(),
                            kind: VariantKind::RoutePattern,
                            status: Some(101),
                            upgraded: true,
                            reached: Reached::Answered {
                                status_line: Some("HTTP/1.1 101 Switching Protocols".into()),
                                problem: None,
                            },
                        },
                    ],
                }
                .into(),
            ),
            (
                CheckId::Provider,
                ProviderEvidence::Refused {
                    status: 401,
                    headers_sent: vec![],
                    answered_by: None,
                }
                .into(),
            ),
            (CheckId::Provider, ProviderEvidence::NotOpened {}.into()),
            (CheckId::Dns, Evidence::None),
        ];
        for (id, evidence) in cases {
            let json = serde_json::to_value(&evidence).expect("serialises");
            let back = Evidence::read(id, json.clone()).expect("reads back");
            assert_eq!(back, evidence, "{json}");
        }
    }
}
