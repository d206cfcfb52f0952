//! The diagnosis: a pure function from check results to the causes, ordered so that the first
//! is the verdict, each with the evidence summary and a fix a person can act on. Cause ids are a
//! public contract (docs/checks.md): add new ones, never rename or reuse one.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::catalog::{CauseId, CheckId, Finding, FoundBy, Severity};
use crate::check::evidence::{Evidence, VariantKind};
use crate::check::{CheckResult, Status, ToolInfo};

/// One named cause with its evidence and fix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    pub id: CauseId,
    /// The check that found it, or `provider-side`, or `compare`.
    pub check: FoundBy,
    pub severity: Severity,
    pub title: String,
    pub summary: String,
    pub fix: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// True when no cause stops the provider and no probe broke.
    pub reachable: bool,
    pub causes: Vec<Cause>,
}

impl Diagnosis {
    /// The first cause is the verdict.
    pub fn verdict(&self) -> Option<&Cause> {
        self.causes.first()
    }
}

/// Causes that only describe the symptom of a route mismatch, and give way to it.
const ROUTING_SYMPTOMS: [CauseId; 4] = [
    CauseId::HttpNotFound,
    CauseId::AppNoWebsocketRoute,
    CauseId::HttpUpgradeRejected,
    CauseId::HttpUpgradeIgnored,
];

impl Cause {
    /// The cause record of a finding, with its title and fix.
    pub fn of(finding: &Finding, found_by: FoundBy, checks: &[CheckResult]) -> Cause {
        Cause {
            id: finding.cause,
            check: found_by,
            severity: finding.severity(),
            title: finding.cause.title().to_string(),
            summary: finding.summary.clone(),
            fix: fix(finding.cause, checks),
        }
    }
}

/// The causes of the check results, and of `outside` findings (the provider's own record,
/// a comparison of vantage points), ordered so that the first is the verdict.
pub(crate) fn diagnose(checks: &[CheckResult], outside: &[Finding]) -> Diagnosis {
    let path_mismatch = checks
        .iter()
        .flat_map(|c| &c.findings)
        .any(|f| f.cause == CauseId::WsPathMismatch);
    let mut causes: Vec<Cause> = Vec::new();
    for check in checks {
        for finding in &check.findings {
            if path_mismatch && ROUTING_SYMPTOMS.contains(&finding.cause) {
                continue;
            }
            if causes.iter().any(|c| c.id == finding.cause) {
                continue;
            }
            causes.push(Cause::of(finding, FoundBy::Check(check.id), checks));
        }
    }
    for finding in outside {
        if !causes
            .iter()
            .any(|c| c.id == finding.cause && c.summary == finding.summary)
        {
            causes.push(Cause::of(finding, finding.cause.found_by(), checks));
        }
    }
    causes.sort_by_key(|c| (c.severity, c.check));
    let broken = checks.iter().find(|c| c.status == Status::Error);
    let fails = causes.iter().any(|c| c.severity == Severity::Fail);
    let spoke_websocket = checks
        .iter()
        .any(|c| c.id == CheckId::Websocket && c.status == Status::Pass);
    if !fails && broken.is_none() && spoke_websocket {
        causes.push(Cause {
            id: CauseId::OkReachable,
            check: FoundBy::Check(CheckId::Provider),
            severity: Severity::Info,
            title: CauseId::OkReachable.title().to_string(),
            summary: reachable_summary(checks),
            fix: fix(CauseId::OkReachable, checks),
        });
    }
    Diagnosis {
        reachable: !fails && broken.is_none(),
        causes,
    }
}

fn reachable_summary(checks: &[CheckResult]) -> String {
    match checks.iter().find(|c| c.id == CheckId::Provider) {
        Some(provider) if provider.status == Status::Pass => provider.summary.clone(),
        _ => "the WebSocket upgrade and session succeed from here".to_string(),
    }
}

fn evidence(checks: &[CheckResult], id: CheckId) -> &Evidence {
    checks
        .iter()
        .find(|c| c.id == id)
        .map_or(&Evidence::None, |c| &c.details)
}

fn fix(cause: CauseId, checks: &[CheckResult]) -> String {
    use CauseId::*;
    match cause {
        UrlInvalid => "Give the provider a full URL of the form wss://host[:port]/path (https:// and http:// are not WebSocket URLs).".into(),
        UrlTemplateUnexpanded => "Fill in the placeholder before calling streaming_start: build the URL with the real id (e.g. `wss://host/api/calls/${callSessionId}/audio` in a JavaScript template literal with backticks), and log the exact stream_url you send.".into(),
        UrlInsecureScheme => "Use wss:// on port 443 with a publicly trusted certificate; hosting platforms route TLS there, and some providers accept only wss.".into(),
        UrlQueryString => "Pass values as custom_parameters on streaming_start (they arrive in the `start` message) instead of in the query string.".into(),
        DnsNoRecords => "Check the spelling of the host, and that its DNS record (A/AAAA or CNAME to your platform) exists publicly: `dig +short HOST`.".into(),
        DnsTimeout => "The resolver here did not answer; retry, or pin the address with --resolve HOST:PORT:ADDR to check the server itself.".into(),
        DnsPrivateAddress => "The provider connects from the internet: give it a public host name (a tunnel such as `ngrok http PORT` for a local server), not a loopback or private address.".into(),
        TcpRefused => "Start the server, or check the port: the platform may expose the app on 443 while it listens on $PORT internally; make the app listen on the port the platform forwards.".into(),
        TcpTimeout => "Open the port in the firewall or security group for inbound traffic from the internet, and check the host and port are the ones the platform exposes.".into(),
        TcpUnreachable => "Check the address and the network path (VPN, routing); the provider needs a publicly routable address.".into(),
        TlsHandshakeFailed => tls_handshake_fix(checks),
        TlsHandshakeTimeout => "Something accepts TCP but does not speak TLS: check the port is the TLS port, and that the proxy or load balancer in front terminates TLS (or passes it through) for WebSocket traffic.".into(),
        TlsExpired => "Renew the certificate and reload the server (certbot renew && nginx -s reload, or let the platform re-issue it).".into(),
        TlsHostnameMismatch => "Issue a certificate that covers this host name (add it to the certificate's names), or give the provider the host name the certificate covers.".into(),
        TlsSelfSigned => "Use a certificate from a public authority (Let's Encrypt, or the platform's managed certificate); providers reject self-signed ones.".into(),
        TlsUntrustedRoot => "Use a certificate from a public authority; a private or corporate CA is not in the provider's trust store.".into(),
        TlsIncompleteChain => "Serve the full chain (leaf + intermediates): in nginx `ssl_certificate /etc/letsencrypt/live/HOST/fullchain.pem;` (not cert.pem); in Node `https.createServer({ cert: fs.readFileSync('fullchain.pem'), key })`.".into(),
        TlsNoHttp11 => "Allow HTTP/1.1 in ALPN on the WebSocket host: WebSocket upgrades need it (nginx: do not restrict to `http2 only`; Node http2 servers: `allowHTTP1: true`).".into(),
        HttpRedirect => "Give the provider the final URL (after the redirect); check http→https and trailing-slash redirects in the proxy and the framework.".into(),
        HttpNotFound => "Register a WebSocket route for this exact path, or give the provider the path the server does route (the `paths` check shows which answer).".into(),
        HttpAuthRequired if twilio_signed(checks) == Some(false) => "Twilio signs its stream's upgrade (X-Twilio-Signature: HMAC-SHA1 of the stream URL under the account's auth token), and a server that validates it, as Twilio advises, refuses an unsigned one like this check's. Run the check again with --twilio-auth-token (or TWILIO_AUTH_TOKEN) so it signs as Twilio does.".into(),
        HttpAuthRequired if twilio_signed(checks) == Some(true) => "The upgrade carried Twilio's signature of this URL and was still refused: the server validates with another account's auth token, or against another form of the URL (behind a proxy or a platform's edge, rebuild the public wss:// URL the provider was given, from X-Forwarded-Proto and Host, before validating).".into(),
        HttpAuthRequired => "Let the upgrade through without Authorization or cookies: Telnyx sends no Authorization header. Authenticate with stream_auth_token instead (it arrives as the `x-telnyx-streaming-auth-token` header and in the `connected` message); it can be set on streaming_start and on dial, not on answer, which has no such parameter.".into(),
        HttpUpgradeIgnored => "Pass the upgrade through the proxy: nginx needs `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\";` on this location; in Node attach the WebSocket server to the same http server (`server.on('upgrade', ...)`), not only to Express routes.".into(),
        HttpUpgradeRejected => upgrade_rejected_fix(checks),
        HttpServerError => "The app crashed or the proxy could not reach it: read the platform's logs at the time of the check for the exception, and check the upstream address in the proxy.".into(),
        HttpMalformedResponse => "Something other than an HTTP server answers on this port (another protocol, a broken proxy): check what listens there and the proxy's upstream.".into(),
        WsBadAccept => "Let the WebSocket library answer the handshake: Sec-WebSocket-Accept must be base64(SHA-1(key + 258EAFA5-E914-47DA-95CA-C5AB0DC85B11)); a proxy that rewrites headers can also break it.".into(),
        WsHandshakeTimeout => "The server holds the upgrade request without answering: check the app's upgrade handler calls handleUpgrade (or destroys the socket), and the proxy's upgrade timeout.".into(),
        WsPathMismatch => path_mismatch_fix(checks),
        WsClosedOnConnect => "Read the server's logs for why it closes new connections: often an auth check on the upgrade or on the first message, or a handler that throws. The close code and reason in the evidence say which.".into(),
        WsNoPong => "Answer pings (most libraries do by default); a proxy with an idle timeout may drop streams that never see traffic back.".into(),
        StreamRejected => "The server rejects the provider's messages: check its parser against the provider's shapes (Telnyx: `stream_id` is top level, `sequence_number` is a string, `media_format` is in `start`) and the codec it expects.".into(),
        TlsPlatformDefaultCert => "The custom domain has no certificate of its own yet, so the platform presents its default one. Check the domain's status in the platform's dashboard (Railway: the service's Networking settings; issuing can take up to 72 h), that the domain's CNAME points at the target the platform gave, and, behind Cloudflare, set SSL/TLS to Full (strict).".into(),
        PlatformAppNotListening => "The platform's edge is up but nothing answers behind it: make the app listen on 0.0.0.0 (or ::) at the port the platform forwards to ($PORT on Railway, Render and Heroku; `internal_port` on Fly), check the domain's target port, and read the deploy logs for a crash at start-up.".into(),
        PlatformNoAppForDomain => "The edge has no running service for this host: check that the domain is attached to the service that runs the WebSocket server, that its deployment is active (not removed or paused), and the spelling of the host the provider is given.".into(),
        PlatformColdStart => "The service sleeps when idle and the provider tries only once: turn sleeping off (Railway: Serverless off; Render: a paid instance type; Fly: `min_machines_running = 1`), or wake it with a request of your own before starting the stream.".into(),
        PlatformWafChallenge => "Let the stream path past the bot check: the provider is not a browser and cannot solve it (Railway: `railway waf under-attack disable`; Cloudflare: a WAF skip rule for the path, or Bot Fight Mode off).".into(),
        HttpRedirectLoop => "The redirect points back at the same URL: usually a CDN in 'Flexible' SSL mode talking plain HTTP to a platform that redirects to HTTPS. Set Cloudflare's SSL/TLS mode to Full (strict), or remove the redirect for this path.".into(),
        HttpOriginRequired => "Accept upgrades without an Origin header on the stream route: providers are not browsers and send none. Keep origin checks for browser routes only (Node ws: no origin test in `verifyClient` for this path).".into(),
        AppSocketioProtocol => "Socket.IO is its own protocol on top of WebSocket; the provider speaks plain WebSocket. Add a plain WebSocket route beside Socket.IO (Node: `new WebSocketServer({ noServer: true })` on the same http server, routed in `server.on('upgrade')`; Python: a FastAPI `@app.websocket(...)` route) and give the provider that path.".into(),
        AppNoWebsocketRoute => "No credential changes this answer, so it is not about credentials: frameworks refuse so a WebSocket at a route they do not have (Starlette/FastAPI answer 403 when no `@app.websocket` route matches this exact path), or one the app closed before accepting it (an exception or a failed check before `accept()`). Compare the path with the app's WebSocket routes (the paths check lists the common ones it tried), and read the server's log for this request.".into(),
        AppWebsocketSupportMissing => "Install the WebSocket support the app server needs, then redeploy: `pip install 'uvicorn[standard]'` (or `pip install websockets`) for uvicorn; the upgrade then reaches the app's WebSocket route.".into(),
        WsIdleTimeoutRisk => "Have the server ping the provider every 20 to 30 seconds (Node ws: `setInterval(() => ws.ping(), 25000)`), so a quiet stretch does not let the platform's idle timeout end the stream.".into(),
        ProviderStartedNotConnected => "The provider meant to connect and nothing arrived here: compare the stream_url it names with the URL you checked (a placeholder, another host or path, an old tunnel), check that the URL is reachable from the internet (a second vantage point: the deployed listener), and look for a streaming.failed webhook with its failure_reason.".into(),
        ProviderStreamFailed => "Take the failure_reason and the stream_url from the webhook: run `stream-doctor check` on exactly that URL, and `stream-doctor explain` on the reason; connection_failed means the name, the connection, TLS or the upgrade failed from the provider's side.".into(),
        ProviderUrlDiffers => "Send the provider the URL you checked: log the exact stream_url your code passes to streaming_start, and build it from the real call id (a template literal with backticks in JavaScript).".into(),
        ProviderWebhooksNotDelivered => "The provider cannot reach your webhook URL either: check that URL the same way (a public https address, a certificate clients trust, a 2xx answer within a few seconds), and the app's logs for the delivery times the API shows.".into(),
        NetworkBlockedFromOutside => "A firewall, security group or allow-list lets this machine in and keeps others out: open the port to the provider's addresses (or to everyone, with the token guarding the stream), and check the platform's or cloud's network rules and any IP allow-list on the domain.".into(),
        NetworkBlockedFromHere => "This machine's own network (an office firewall, a VPN, a proxy) stops it from reaching the server; the provider is not affected. Trust the other vantage point's report for what the provider sees.".into(),
        DnsSplitHorizon => "The name has one answer inside a private network and another outside: the provider sees the public one. Check the public DNS record (dig @1.1.1.1 HOST) points at the server's public address, and that no internal-only record is what you tested.".into(),
        TlsDifferentEdge => "Two edges (a CDN and the origin, two regions, a stale node) present different certificates: make every edge serve the same valid, complete chain, and renew or purge the stale one.".into(),
        OkReachable => "The server answers as the provider needs from here. Check the provider side: the exact stream_url sent to streaming_start, that the host is reachable from the public internet, and the `failure_reason` of a `streaming.failed` webhook.".into(),
        StreamLaterCallFails => "Something left over from the earlier call breaks the next one: a session, an audio pipeline or a global flag not reset when a stream closes. Read the server's log for the second call, and release per-call state on `stop` and on close.".into(),
        StreamClosedMidCall => "Find who closes the stream: the close code and the second it came say which. A close near 55, 60 or 100 s is a platform or proxy idle limit (raise it; ping every 20 to 30 s); a close right after the caller spoke is the app's handler failing (read its log).".into(),
        ReplyNone => "Make the stream bidirectional and send audio back on it: on Telnyx start it with stream_bidirectional_mode (rtp for raw audio in the call's codec); on Twilio use <Connect><Stream>, not <Start><Stream>, which is one-way. Then send `media` messages with base64 audio.".into(),
        ReplySilent => "The bot sends audio, but silence: check that the text-to-speech output reaches the encoder (an empty buffer, a volume of zero, or samples scaled to nothing), and that it is encoded as the stream's codec.".into(),
        ReplyContainerInPayload => "Send raw audio, not a file: strip the WAV (RIFF) header or the MP3/ID3 container before base64 (ask the text-to-speech service for raw ulaw_8000 or pcm output).".into(),
        ReplyCodecMismatch => "Encode the reply in the codec the stream declared (its `start.media_format`): μ-law for PCMU, A-law for PCMA, big-endian 16-bit for L16. The summary names what was sent instead.".into(),
        ReplySampleRateMismatch => "Resample the reply to the stream's rate before encoding (8000 Hz for PCMU/PCMA): audio at 16 or 24 kHz labelled 8 kHz plays two or three times too slow.".into(),
        ReplyStreamSidMissing => "Put the stream's streamSid (from the `start` message) in every `media`, `mark` and `clear` you send: Twilio ignores messages without it (error 31951).".into(),
        ReplyInvalidMessage => "Send only the provider's own messages back (`media`, `mark`, `clear`) as JSON text frames: the summary shows the first one that is not.".into(),
        ReplyUnderrun => "Send the reply audio ahead of the playback clock: a steady queue of at least a few hundred ms, not chunk by chunk as it is synthesised; a blocking call in the send loop also starves it.".into(),
        ReplyFrameSize => "Send whole 20 ms frames (160 bytes of PCMU or PCMA), or larger multiples of them, evenly: odd chunks play with clicks.".into(),
        ReplyLate => "Shorten the time to the first word: stream the text-to-speech output as it comes (do not wait for the whole sentence), and cut the speech-to-text endpointing delay.".into(),
        ReplyNoClearOnBargeIn => "When the caller speaks over the bot, send `clear` (and stop sending that reply): without it the provider plays the queued audio to the end.".into(),
        ReplyMarkMalformed => "Give every `mark` a name (`{\"event\":\"mark\",\"mark\":{\"name\":\"…\"}}`, with the streamSid on Twilio): the provider echoes it back by that name.".into(),
        OkConversation => "The bot hears the caller and answers in the stream's format, on time. If calls still fail on the phone, compare with a real call's recording and the provider's call events.".into(),
    }
}

/// Configuration lines a person can paste, where a cause has a typical fix in config or code.
pub(crate) fn snippet(cause: CauseId) -> Option<&'static str> {
    use CauseId::*;
    match cause {
        TlsIncompleteChain => Some(
            "# nginx: serve the leaf and the intermediates\nssl_certificate     /etc/letsencrypt/live/HOST/fullchain.pem;\nssl_certificate_key /etc/letsencrypt/live/HOST/privkey.pem;",
        ),
        HttpUpgradeIgnored => Some(
            "# nginx: pass the WebSocket upgrade to the app\nlocation /api/calls/ {\n    proxy_pass http://app;\n    proxy_http_version 1.1;\n    proxy_set_header Upgrade $http_upgrade;\n    proxy_set_header Connection \"upgrade\";\n    proxy_read_timeout 3600s;\n}",
        ),
        WsPathMismatch | HttpUpgradeRejected => Some(
            "// Node ws: route the upgrade yourself; `path` only matches literal text\nconst wss = new WebSocketServer({ noServer: true });\nserver.on('upgrade', (req, socket, head) => {\n  const { pathname } = new URL(req.url, 'http://localhost');\n  if (/^\\/api\\/calls\\/[^/]+\\/audio$/.test(pathname)) {\n    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));\n  } else {\n    socket.destroy();\n  }\n});",
        ),
        HttpAuthRequired => Some(
            "// Node: accept Telnyx's token instead of an Authorization header\nserver.on('upgrade', (req, socket, head) => {\n  if (req.headers['x-telnyx-streaming-auth-token'] !== process.env.STREAM_TOKEN) {\n    return socket.destroy();\n  }\n  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));\n});",
        ),
        UrlTemplateUnexpanded => Some(
            "// JavaScript: backticks fill the placeholder; quotes do not\nconst streamUrl = `wss://${host}/api/calls/${callSessionId}/audio`;\nconsole.log('stream_url', streamUrl);",
        ),
        TlsNoHttp11 => Some(
            "# nginx: keep HTTP/1.1 available on the WebSocket host\nlisten 443 ssl;\nhttp2 on;   # h2 is fine as long as http/1.1 is still offered",
        ),
        _ => None,
    }
}

/// In a Twilio-shaped run, whether the upgrade was signed; `None` for other runs.
fn twilio_signed(checks: &[CheckResult]) -> Option<bool> {
    evidence(checks, CheckId::Upgrade)
        .upgrade()
        .and_then(|upgrade| upgrade.twilio_signature)
}

fn tls_handshake_fix(checks: &[CheckResult]) -> String {
    let plain_http = evidence(checks, CheckId::Tls)
        .tls()
        .is_some_and(|tls| tls.plain_http_answer.is_some());
    if plain_http {
        "The port speaks plain HTTP, not TLS: terminate TLS there (listen 443 ssl in nginx, or the platform's HTTPS endpoint), or use ws:// to a plain port for a local test.".into()
    } else {
        "Allow TLS 1.2 or 1.3 with modern ciphers, and check the certificate and key the server loads; `openssl s_client -connect HOST:443 -servername HOST` shows the server's side.".into()
    }
}

fn upgrade_rejected_fix(checks: &[CheckResult]) -> String {
    let status = evidence(checks, CheckId::Upgrade)
        .upgrade()
        .and_then(|x| x.exchange.status);
    if status == Some(400) {
        "A 400 to a well-formed upgrade usually means the WebSocket server did not match the path: Node `ws` with `path: '/api/calls/:id/audio'` compares the path exactly (no parameters). Use `new WebSocketServer({ noServer: true })` and route in `server.on('upgrade', ...)` by matching req.url (snippet).".into()
    } else {
        "Read what the server's upgrade handler checks (origin, headers, subprotocol) in its logs; the provider sends only the standard upgrade headers.".into()
    }
}

fn path_mismatch_fix(checks: &[CheckResult]) -> String {
    let upgraded: Vec<VariantKind> = evidence(checks, CheckId::Paths)
        .paths()
        .map(|p| p.upgraded_kinds().collect())
        .unwrap_or_default();
    let has = |kind: VariantKind| upgraded.contains(&kind);
    if has(VariantKind::RoutePattern) {
        "The server routes the literal pattern, not the ids it stands for: Node `ws`'s `path` option is an exact match, so `new WebSocketServer({ server, path: '/api/calls/:id/audio' })` accepts only that literal text. Create the server with `{ noServer: true }` and route in `server.on('upgrade', ...)` by matching the path (snippet).".into()
    } else if has(VariantKind::TrailingSlash) {
        "The route differs by a trailing slash: accept both forms, or give the provider the form the server routes.".into()
    } else if has(VariantKind::CommonPath) {
        "The server's WebSocket route is at another path (the one that upgrades above): give the provider that path, or add a route for this one.".into()
    } else if has(VariantKind::Root) {
        "The WebSocket server listens only at `/`: mount it at the target path, or give the provider the root URL and pass ids as custom_parameters.".into()
    } else if has(VariantKind::OtherId) {
        "The route accepts other ids but not this one: the server looks the id up before upgrading; make sure the call exists on the server (same instance, same store) when the provider connects.".into()
    } else {
        "Route the WebSocket upgrade for the exact path the provider is given.".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::evidence::{PathsEvidence, Reached, VariantOutcome};

    fn check(id: CheckId, status: Status, findings: &[(CauseId, &str)]) -> CheckResult {
        CheckResult {
            id,
            status,
            summary: String::new(),
            duration_ms: 1.0,
            details: Evidence::None,
            findings: findings
                .iter()
                .map(|(cause, summary)| Finding {
                    cause: *cause,
                    summary: summary.to_string(),
                    severity: None,
                })
                .collect(),
        }
    }

    #[test]
    fn fail_comes_before_warn_and_earlier_layers_first() {
        let checks = vec![
            check(
                CheckId::Url,
                Status::Warn,
                &[(CauseId::UrlQueryString, "q")],
            ),
            check(
                CheckId::Dns,
                Status::Warn,
                &[(CauseId::DnsPrivateAddress, "p")],
            ),
            check(
                CheckId::Tls,
                Status::Fail,
                &[(CauseId::TlsIncompleteChain, "c")],
            ),
            check(
                CheckId::Upgrade,
                Status::Fail,
                &[(CauseId::HttpNotFound, "n")],
            ),
        ];
        let diagnosis = diagnose(&checks, &[]);
        let ids: Vec<_> = diagnosis.causes.iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            [
                CauseId::TlsIncompleteChain,
                CauseId::HttpNotFound,
                CauseId::UrlQueryString,
                CauseId::DnsPrivateAddress
            ]
        );
        assert!(!diagnosis.reachable);
    }

    #[test]
    fn path_mismatch_replaces_its_symptom() {
        let mut paths = check(
            CheckId::Paths,
            Status::Fail,
            &[(CauseId::WsPathMismatch, "only ':id' upgrades")],
        );
        paths.details = PathsEvidence {
            variants: vec![VariantOutcome {
                path: "/api/calls/:id/audio".into(),
                kind: VariantKind::RoutePattern,
                status: Some(101),
                upgraded: true,
                reached: Reached::Answered {
                    status_line: None,
                    problem: None,
                },
            }],
        }
        .into();
        let checks = vec![
            check(
                CheckId::Upgrade,
                Status::Fail,
                &[(CauseId::HttpUpgradeRejected, "400")],
            ),
            paths,
        ];
        let diagnosis = diagnose(&checks, &[]);
        assert_eq!(diagnosis.causes.len(), 1);
        let verdict = diagnosis.verdict().map(|c| c.id);
        assert_eq!(verdict, Some(CauseId::WsPathMismatch));
        assert!(diagnosis.causes[0].fix.contains("noServer"));
    }

    #[test]
    fn healthy_run_is_reachable_with_warnings_kept() {
        let checks = vec![
            check(
                CheckId::Dns,
                Status::Warn,
                &[(CauseId::DnsPrivateAddress, "127.0.0.1")],
            ),
            check(CheckId::Websocket, Status::Pass, &[]),
            check(CheckId::Provider, Status::Pass, &[]),
        ];
        let diagnosis = diagnose(&checks, &[]);
        assert!(diagnosis.reachable);
        let ids: Vec<_> = diagnosis.causes.iter().map(|c| c.id).collect();
        assert_eq!(ids, [CauseId::DnsPrivateAddress, CauseId::OkReachable]);
    }

    #[test]
    fn a_broken_probe_is_never_reachable() {
        let checks = vec![
            check(CheckId::Websocket, Status::Pass, &[]),
            check(CheckId::Provider, Status::Error, &[]),
        ];
        let diagnosis = diagnose(&checks, &[]);
        assert!(!diagnosis.reachable);
        assert!(diagnosis.causes.is_empty());
    }

    #[test]
    fn duplicate_causes_are_reported_once() {
        let checks = vec![
            check(
                CheckId::Upgrade,
                Status::Fail,
                &[(CauseId::HttpAuthRequired, "401 here")],
            ),
            check(
                CheckId::Provider,
                Status::Fail,
                &[(CauseId::HttpAuthRequired, "401 there")],
            ),
        ];
        let diagnosis = diagnose(&checks, &[]);
        assert_eq!(diagnosis.causes.len(), 1);
        assert_eq!(diagnosis.causes[0].summary, "401 here");
    }

    /// Every cause the contract names can be produced, has a fix, and keeps its id.
    #[test]
    fn every_cause_id_is_produced_with_a_fix() {
        for &cause in CauseId::ALL {
            let diagnosis = if cause == CauseId::OkReachable {
                diagnose(&[check(CheckId::Websocket, Status::Pass, &[])], &[])
            } else if let Some(by) = cause.check() {
                diagnose(&[check(by, Status::Fail, &[(cause, "seen")])], &[])
            } else {
                let finding = Finding {
                    cause,
                    summary: "seen".into(),
                    severity: None,
                };
                diagnose(&[], &[finding])
            };
            let found = diagnosis.causes.iter().find(|c| c.id == cause);
            let Some(found) = found else {
                panic!("{} not produced", cause.as_str());
            };
            assert!(!found.fix.is_empty(), "{} has no fix", cause.as_str());
            let json = serde_json::to_value(found.id).unwrap_or_default();
            assert_eq!(json.as_str(), Some(cause.as_str()));
        }
    }

    #[test]
    fn contract_ids_are_stable() {
        let ids: Vec<_> = CauseId::ALL.iter().map(|c| c.as_str()).collect();
        for id in [
            "url.invalid",
            "url.template_unexpanded",
            "url.insecure_scheme",
            "url.query_string",
            "dns.no_records",
            "dns.private_address",
            "tcp.refused",
            "tcp.timeout",
            "tls.handshake_failed",
            "tls.handshake_timeout",
            "tls.expired",
            "tls.hostname_mismatch",
            "tls.self_signed",
            "tls.untrusted_root",
            "tls.incomplete_chain",
            "tls.no_http11",
            "http.redirect",
            "http.not_found",
            "http.auth_required",
            "http.upgrade_ignored",
            "http.upgrade_rejected",
            "http.server_error",
            "ws.bad_accept",
            "ws.handshake_timeout",
            "ws.path_mismatch",
            "ws.closed_on_connect",
            "ws.no_pong",
            "stream.rejected",
            "ok.reachable",
        ] {
            assert!(ids.contains(&id), "{id} missing");
        }
    }
}

/// The whole answer of `check`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    pub tool: ToolInfo,
    pub target: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub duration_ms: f64,
    pub checks: Vec<CheckResult>,
    pub diagnosis: Diagnosis,
}

impl CheckReport {
    /// 0 when nothing stops the provider; 1 when a cause is `fail` or a probe broke.
    pub fn exit_code(&self) -> i32 {
        if self.diagnosis.reachable { 0 } else { 1 }
    }

    pub fn check(&self, id: CheckId) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }
}
