//! The public ids: the checks, in the order a connection is built, and the causes the
//! diagnosis names, each with its check, severity and title in plain words. Scripts and saved
//! reports depend on these strings (docs/checks.md): add new ones, never rename or reuse one.
//! Everything that judges or renders a check reads its words from here.

use serde::{Deserialize, Serialize};

/// The checks, in the order a connection is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckId {
    Url,
    Dns,
    Tcp,
    Tls,
    Upgrade,
    Websocket,
    Paths,
    Provider,
}

impl CheckId {
    pub const ALL: [CheckId; 8] = [
        CheckId::Url,
        CheckId::Dns,
        CheckId::Tcp,
        CheckId::Tls,
        CheckId::Upgrade,
        CheckId::Websocket,
        CheckId::Paths,
        CheckId::Provider,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Url => "url",
            CheckId::Dns => "dns",
            CheckId::Tcp => "tcp",
            CheckId::Tls => "tls",
            CheckId::Upgrade => "upgrade",
            CheckId::Websocket => "websocket",
            CheckId::Paths => "paths",
            CheckId::Provider => "provider",
        }
    }

    /// The checks that must run for this one to run, itself last.
    pub(crate) fn needs(self) -> &'static [CheckId] {
        use CheckId::*;
        match self {
            Url => &[Url],
            Dns => &[Url, Dns],
            Tcp => &[Url, Dns, Tcp],
            Tls => &[Url, Dns, Tcp, Tls],
            Upgrade => &[Url, Dns, Tcp, Tls, Upgrade],
            Websocket => &[Url, Dns, Tcp, Tls, Upgrade, Websocket],
            Paths => &[Url, Dns, Tcp, Paths],
            Provider => &[Url, Dns, Tcp, Tls, Upgrade, Websocket, Provider],
        }
    }

    /// What the check does, in words for someone who does not know the protocols.
    pub(crate) const fn title(self) -> &'static str {
        match self {
            CheckId::Url => "The stream URL is well formed",
            CheckId::Dns => "The host name resolves",
            CheckId::Tcp => "The server accepts a connection",
            CheckId::Tls => "The certificate is one the provider trusts",
            CheckId::Upgrade => "The server agrees to switch to WebSocket",
            CheckId::Websocket => "A WebSocket session stays open",
            CheckId::Paths => "The route matches the exact path",
            CheckId::Provider => "The server accepts a provider-style stream",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The provider cannot stream.
    Fail,
    /// Risky, or only true from where the check ran.
    Warn,
    Info,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Fail => "fail",
            Severity::Warn => "warn",
            Severity::Info => "info",
        }
    }
}

/// What finds a cause: one of the checks, the provider's own record (its webhooks, its API),
/// or the comparison of two vantage points. Written as the check's id, `provider-side` or
/// `compare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum FoundBy {
    Check(CheckId),
    ProviderSide,
    Compare,
    /// A call placed as the provider (`converse`).
    Converse,
}

impl FoundBy {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FoundBy::Check(check) => check.as_str(),
            FoundBy::ProviderSide => "provider-side",
            FoundBy::Compare => "compare",
            FoundBy::Converse => "converse",
        }
    }

    /// The check, when a check finds it.
    pub(crate) fn check(self) -> Option<CheckId> {
        match self {
            FoundBy::Check(check) => Some(check),
            _ => None,
        }
    }
}

impl From<FoundBy> for String {
    fn from(found: FoundBy) -> Self {
        found.as_str().to_string()
    }
}

impl TryFrom<String> for FoundBy {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        match text.as_str() {
            "provider-side" => Ok(FoundBy::ProviderSide),
            "compare" => Ok(FoundBy::Compare),
            "converse" => Ok(FoundBy::Converse),
            _ => CheckId::ALL
                .into_iter()
                .find(|c| c.as_str() == text)
                .map(FoundBy::Check)
                .ok_or_else(|| format!("unknown check '{text}'")),
        }
    }
}

/// The providers whose media streams and webhooks the tool speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Telnyx,
    Twilio,
}

impl Provider {
    pub(crate) const ALL: [Provider; 2] = [Provider::Telnyx, Provider::Twilio];

    pub fn name(self) -> &'static str {
        match self {
            Provider::Telnyx => "telnyx",
            Provider::Twilio => "twilio",
        }
    }
}

impl std::str::FromStr for Provider {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown protocol '{s}' (telnyx or twilio)"))
    }
}

/// Something observed (by a check, in the provider's record, in a comparison) that the
/// diagnosis turns into a named cause: the cause and what was seen, in a sentence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub cause: CauseId,
    pub summary: String,
    /// Where what was seen makes the cause milder or graver than its catalogue severity
    /// (a webhook delivered late rather than never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
}

impl Finding {
    /// How grave it is: its own severity where given, else the cause's.
    pub fn severity(&self) -> Severity {
        self.severity.unwrap_or(self.cause.severity())
    }
}

macro_rules! causes {
    ($($variant:ident = $id:literal, $found:expr, $severity:ident, $title:literal;)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum CauseId {
            $(#[serde(rename = $id)] $variant,)*
        }

        impl CauseId {
            pub const ALL: &'static [CauseId] = &[$(CauseId::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(CauseId::$variant => $id,)* }
            }

            /// What finds this cause.
            pub fn found_by(self) -> FoundBy {
                use CheckId::*;
                use FoundBy::*;
                match self { $(CauseId::$variant => $found,)* }
            }

            /// The check that finds this cause, when a check does.
            pub fn check(self) -> Option<CheckId> {
                self.found_by().check()
            }

            pub fn severity(self) -> Severity {
                match self { $(CauseId::$variant => Severity::$severity,)* }
            }

            /// The verdict in plain words, as the first line of every rendering shows it.
            pub fn title(self) -> &'static str {
                match self { $(CauseId::$variant => $title,)* }
            }
        }
    };
}

causes! {
    UrlInvalid = "url.invalid", Check(Url), Fail, "the stream URL is not a usable WebSocket URL";
    UrlTemplateUnexpanded = "url.template_unexpanded", Check(Url), Fail, "the stream URL still holds a template placeholder";
    UrlInsecureScheme = "url.insecure_scheme", Check(Url), Warn, "the stream URL is unencrypted (ws://)";
    UrlQueryString = "url.query_string", Check(Url), Warn, "the stream URL carries a query string";
    DnsNoRecords = "dns.no_records", Check(Dns), Fail, "the host name does not resolve";
    DnsTimeout = "dns.timeout", Check(Dns), Fail, "the name resolver did not answer in time";
    DnsPrivateAddress = "dns.private_address", Check(Dns), Warn, "the host resolves to a private address the provider cannot reach";
    TcpRefused = "tcp.refused", Check(Tcp), Fail, "nothing listens on that port (connection refused)";
    TcpTimeout = "tcp.timeout", Check(Tcp), Fail, "the server does not answer connection attempts";
    TcpUnreachable = "tcp.unreachable", Check(Tcp), Fail, "there is no network route to the server";
    TlsHandshakeFailed = "tls.handshake_failed", Check(Tls), Fail, "a secure (TLS) connection could not be set up";
    TlsHandshakeTimeout = "tls.handshake_timeout", Check(Tls), Fail, "the server accepted the connection but never completed TLS";
    TlsExpired = "tls.expired", Check(Tls), Fail, "the certificate has expired (or is not valid yet)";
    TlsHostnameMismatch = "tls.hostname_mismatch", Check(Tls), Fail, "the certificate is for another host name";
    TlsSelfSigned = "tls.self_signed", Check(Tls), Fail, "the certificate is self-signed";
    TlsUntrustedRoot = "tls.untrusted_root", Check(Tls), Fail, "the certificate comes from a private authority the provider does not trust";
    TlsIncompleteChain = "tls.incomplete_chain", Check(Tls), Fail, "the certificate chain is incomplete";
    TlsNoHttp11 = "tls.no_http11", Check(Tls), Fail, "the server speaks only HTTP/2, where WebSocket upgrades do not exist";
    TlsPlatformDefaultCert = "tls.platform_default_cert", Check(Tls), Fail, "the certificate is the hosting platform's own, not one for this domain";
    HttpRedirect = "http.redirect", Check(Upgrade), Fail, "the server answers with a redirect, which providers do not follow";
    HttpNotFound = "http.not_found", Check(Upgrade), Fail, "the server has no route for this path (404)";
    HttpAuthRequired = "http.auth_required", Check(Upgrade), Fail, "the server demands credentials the provider does not send";
    HttpUpgradeIgnored = "http.upgrade_ignored", Check(Upgrade), Fail, "the server answered without switching to WebSocket";
    HttpUpgradeRejected = "http.upgrade_rejected", Check(Upgrade), Fail, "the server rejects the WebSocket upgrade";
    HttpServerError = "http.server_error", Check(Upgrade), Fail, "the server fails with an internal error (5xx)";
    HttpMalformedResponse = "http.malformed_response", Check(Upgrade), Fail, "the server's answer is not valid HTTP";
    WsBadAccept = "ws.bad_accept", Check(Upgrade), Fail, "the server's WebSocket handshake is wrong (Sec-WebSocket-Accept)";
    WsHandshakeTimeout = "ws.handshake_timeout", Check(Upgrade), Fail, "the server never answered the WebSocket upgrade";
    PlatformAppNotListening = "platform.app_not_listening", Check(Upgrade), Fail, "the hosting platform found nothing listening for the app";
    PlatformNoAppForDomain = "platform.no_app_for_domain", Check(Upgrade), Fail, "the hosting platform knows no app for this domain";
    PlatformColdStart = "platform.cold_start", Check(Upgrade), Warn, "the service was asleep: the first attempt failed, a second one worked";
    PlatformWafChallenge = "platform.waf_challenge", Check(Upgrade), Fail, "the edge answers with a bot check the provider cannot pass";
    HttpRedirectLoop = "http.redirect_loop", Check(Upgrade), Fail, "the URL redirects to itself";
    HttpOriginRequired = "http.origin_required", Check(Upgrade), Fail, "the server wants an Origin header, which providers do not send";
    AppSocketioProtocol = "app.socketio_protocol", Check(Upgrade), Fail, "the server speaks Socket.IO, not the plain WebSocket providers use";
    AppWebsocketSupportMissing = "app.websocket_support_missing", Check(Upgrade), Fail, "the app's server runs without WebSocket support";
    AppNoWebsocketRoute = "app.no_websocket_route", Check(Upgrade), Fail, "no WebSocket route answers at this path: the server refuses the same way with credentials and without";
    WsPathMismatch = "ws.path_mismatch", Check(Paths), Fail, "the server's route does not match this path";
    WsClosedOnConnect = "ws.closed_on_connect", Check(Websocket), Fail, "the server closes the WebSocket right after it opens";
    WsNoPong = "ws.no_pong", Check(Websocket), Warn, "the server does not answer WebSocket pings";
    WsIdleTimeoutRisk = "ws.idle_timeout_risk", Check(Websocket), Warn, "the platform closes quiet connections sooner than a call may last";
    StreamRejected = "stream.rejected", Check(Provider), Fail, "the server drops the stream once the provider's messages arrive";
    OkReachable = "ok.reachable", Check(Provider), Info, "the server accepts a provider-style stream from here";
    ProviderStartedNotConnected = "provider.started_not_connected", ProviderSide, Fail, "the provider says it started the stream, and it never arrived";
    ProviderStreamFailed = "provider.stream_failed", ProviderSide, Fail, "the provider reports that the stream failed";
    ProviderUrlDiffers = "provider.url_differs", ProviderSide, Fail, "the provider streams to a different URL than the one checked";
    ProviderWebhooksNotDelivered = "provider.webhooks_not_delivered", ProviderSide, Warn, "the provider's webhooks do not reach your server";
    NetworkBlockedFromOutside = "network.blocked_from_outside", Compare, Fail, "something between the internet and the server blocks it from outside";
    NetworkBlockedFromHere = "network.blocked_from_here", Compare, Warn, "this machine's own network blocks the server";
    DnsSplitHorizon = "dns.split_horizon", Compare, Fail, "the name resolves to a private address in one place and a public one in the other";
    TlsDifferentEdge = "tls.different_edge", Compare, Warn, "the two places were served different certificates";
    StreamLaterCallFails = "stream.later_call_fails", Converse, Fail, "the first call works and a later one does not";
    StreamClosedMidCall = "stream.closed_mid_call", Converse, Fail, "the stream was closed while the caller was still on the line";
    ReplyNone = "reply.none", Converse, Fail, "the caller spoke and the server sent no audio back";
    ReplySilent = "reply.silent", Converse, Fail, "the server's audio back is silence";
    ReplyContainerInPayload = "reply.container_in_payload", Converse, Fail, "the audio back carries a file header where raw audio belongs";
    ReplyCodecMismatch = "reply.codec_mismatch", Converse, Fail, "the audio back is not in the codec the stream declared";
    ReplySampleRateMismatch = "reply.sample_rate_mismatch", Converse, Fail, "the audio back is at another sample rate than the stream's";
    ReplyStreamSidMissing = "reply.stream_sid_missing", Converse, Fail, "the replies do not name the stream (Twilio ignores them)";
    ReplyInvalidMessage = "reply.invalid_message", Converse, Fail, "the server sends messages the provider does not accept";
    ReplyUnderrun = "reply.underrun", Converse, Warn, "the reply's audio runs out mid-sentence (the caller hears a stutter)";
    ReplyFrameSize = "reply.frame_size", Converse, Warn, "the reply's chunks are not whole 20 ms frames";
    ReplyLate = "reply.late", Converse, Warn, "the bot takes too long to answer";
    ReplyNoClearOnBargeIn = "reply.no_clear_on_barge_in", Converse, Warn, "the bot keeps talking when the caller interrupts";
    ReplyMarkMalformed = "reply.mark_malformed", Converse, Warn, "the server sends a mark without a name";
    OkConversation = "ok.conversation", Converse, Info, "the way back works";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids are a public contract: a rename, a removal or a change of check or severity must
    /// fail here. A new id is added to the snapshot on purpose, in the same change.
    #[test]
    fn ids_match_the_committed_snapshot() {
        let mut listed = String::from("# check ids\n");
        for check in CheckId::ALL {
            listed.push_str(&format!("{}\n", check.as_str()));
        }
        listed.push_str("# cause ids: id check severity\n");
        for cause in CauseId::ALL {
            listed.push_str(&format!(
                "{} {} {}\n",
                cause.as_str(),
                cause.found_by().as_str(),
                cause.severity().as_str()
            ));
        }
        let snapshot = include_str!("../tests/golden/ids.txt");
        assert_eq!(
            listed, snapshot,
            "the public ids differ from tests/golden/ids.txt: add new ids there, never rename one"
        );
    }
}
