//! The `websocket` check: a real WebSocket session with tokio-tungstenite, continued on the
//! connection the `upgrade` check opened (a fresh one when that upgrade needed more than one
//! attempt): a ping/pong round trip, then a watch (`--observe`) for the server closing on its
//! own before any provider message was sent. The close of a session that stayed open is
//! written, not awaited.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::http::HeaderMap;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::upgrade::Opened;
use crate::catalog::{CauseId, CheckId, Finding};
use crate::check::CheckResult;
use crate::check::evidence::{ServerClose, Watch, WebsocketEvidence};
use crate::check::options::CheckOptions;
use crate::clock::millis;
use crate::edge::{self, AnsweredBy, AnswererKind, Platform};
use crate::net::close::{self, CloseWitness};
use crate::net::connect::{self, BoxedIo, Verify};
use crate::net::target::Target;
use crate::net::upgrade::client_request;
use crate::records::close::Close;

const PING_PAYLOAD: &[u8] = b"stream-doctor";

/// The headers of a handshake response, as the fingerprints read them.
pub(crate) fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_string(), value)
        })
        .collect()
}

/// `platform` is the hosting platform the earlier checks saw, if any: its idle limit is
/// weighed against a server that never pings. `opened` is the upgrade check's session, when it
/// left one open.
pub(crate) async fn check(
    addr: SocketAddr,
    target: &Target,
    options: &CheckOptions,
    platform: Option<Platform>,
    opened: Option<Opened>,
) -> CheckResult {
    let started = Instant::now();
    let (ws, answered_by, witness) = match opened {
        Some(Opened {
            upgraded,
            answered_by,
        }) => {
            let ws = WebSocketStream::from_partially_read(
                upgraded.io,
                upgraded.leftover,
                Role::Client,
                None,
            )
            .await;
            (ws, answered_by, upgraded.witness)
        }
        None => match open_fresh(addr, target, options, started).await {
            Ok(fresh) => fresh,
            Err(result) => return *result,
        },
    };
    watch(ws, answered_by, witness, options, platform, started).await
}

type Session = WebSocketStream<BoxedIo>;

/// A session on a connection of its own, for an upgrade that took more than one attempt.
async fn open_fresh(
    addr: SocketAddr,
    target: &Target,
    options: &CheckOptions,
    started: Instant,
) -> Result<(Session, Option<AnsweredBy>, CloseWitness), Box<CheckResult>> {
    let timeout = options.timeout;
    let fail = |cause: CauseId, summary: String| {
        Box::new(CheckResult::found(
            CheckId::Websocket,
            cause,
            summary,
            millis(started.elapsed()),
            WebsocketEvidence::NotOpened {},
        ))
    };
    let headers = super::request_headers(options, target.url.as_str());
    let request = match client_request(target, &headers) {
        Ok(r) => r,
        Err(e) => {
            let elapsed = millis(started.elapsed());
            return Err(Box::new(CheckResult::broken(
                CheckId::Websocket,
                e.to_string(),
                elapsed,
            )));
        }
    };
    let verify = Verify::Provider(&options.extra_roots);
    let io = match connect::open(addr, target, verify, timeout).await {
        Ok(io) => io,
        Err(e) => {
            return Err(fail(
                CauseId::WsClosedOnConnect,
                format!("a second connection failed: {e}"),
            ));
        }
    };
    let (io, witness) = close::sniff(io);
    let io: BoxedIo = Box::new(io);
    let handshake =
        tokio::time::timeout(timeout, tokio_tungstenite::client_async(request, io)).await;
    match handshake {
        Ok(Ok((ws, response))) => {
            let headers = header_pairs(response.headers());
            let response = edge::Response {
                status: 101,
                headers: &headers,
                body: "",
            };
            Ok((ws, edge::from_response(&response), witness))
        }
        Ok(Err(e)) => {
            let summary = format!("the WebSocket handshake failed on a second connection: {e}");
            Err(fail(CauseId::HttpUpgradeRejected, summary))
        }
        Err(_) => {
            let summary = format!("no handshake on a second connection within {timeout:?}");
            Err(fail(CauseId::WsHandshakeTimeout, summary))
        }
    }
}

/// The ping, the watch, and the verdict on an open session.
async fn watch(
    mut ws: Session,
    mut answered_by: Option<AnsweredBy>,
    witness: CloseWitness,
    options: &CheckOptions,
    platform: Option<Platform>,
    started: Instant,
) -> CheckResult {
    let timeout = options.timeout;
    let opened = Instant::now();
    let mut received: Vec<String> = Vec::new();
    let mut closed: Option<(Close, Duration)> = None;
    let mut rtt = None;
    let mut server_pinged = false;
    let ping_sent = Instant::now();
    let ping = Message::Ping(PING_PAYLOAD.to_vec().into());
    match tokio::time::timeout(timeout, ws.send(ping)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => closed = Some((Close::error(e.to_string()), opened.elapsed())),
        Err(_) => closed = Some((Close::error("the server stopped reading"), opened.elapsed())),
    }
    let observe_until = tokio::time::Instant::now() + options.observe;
    let pong_deadline = tokio::time::Instant::now() + timeout;
    while closed.is_none() {
        let waiting_for_pong = rtt.is_none();
        let until = if waiting_for_pong {
            pong_deadline.max(observe_until)
        } else {
            observe_until
        };
        let next = match tokio::time::timeout_at(until, ws.next()).await {
            Err(_) => break,
            Ok(next) => next,
        };
        match next {
            Some(Ok(Message::Pong(payload))) if payload.as_ref() == PING_PAYLOAD => {
                rtt = Some(ping_sent.elapsed());
                if tokio::time::Instant::now() >= observe_until {
                    break;
                }
            }
            Some(Ok(Message::Ping(_))) => server_pinged = true,
            Some(Ok(Message::Close(frame))) => {
                let close = witness
                    .close()
                    .unwrap_or_else(|| close::of_frame(frame.as_ref()));
                closed = Some((close, opened.elapsed()));
            }
            Some(Ok(Message::Text(text))) => received.push(text.chars().take(200).collect()),
            Some(Ok(Message::Binary(bytes))) => {
                received.push(format!("<{} binary bytes>", bytes.len()))
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                // A close frame the library refused (a reason that is not UTF-8) is still
                // what the server sent.
                let close = witness
                    .close()
                    .unwrap_or_else(|| Close::error(e.to_string()));
                closed = Some((close, opened.elapsed()));
            }
            None => closed = Some((Close::no_frame(), opened.elapsed())),
        }
    }
    if closed.is_none() {
        let _ = tokio::time::timeout(Duration::from_millis(500), ws.close(None)).await;
    }
    let mut findings = Vec::new();
    let engine_io = received.first().filter(|text| edge::engine_io_open(text));
    let summary = if let Some(open) = engine_io {
        let summary = format!(
            "the session opened and the server's first message is an Engine.IO open packet ({}): a Socket.IO server, which plain WebSocket clients such as the provider cannot use",
            open.chars().take(60).collect::<String>()
        );
        answered_by = Some(AnsweredBy::new(
            AnswererKind::App,
            "socket.io",
            "its first message opened an Engine.IO session",
        ));
        findings.push(Finding {
            cause: CauseId::AppSocketioProtocol,
            summary: summary.clone(),
            severity: None,
        });
        summary
    } else if let Some((how, after)) = &closed {
        let summary = format!(
            "the server closed the session after {:.0} ms: {}",
            millis(*after),
            how
        );
        findings.push(Finding {
            cause: CauseId::WsClosedOnConnect,
            summary: summary.clone(),
            severity: None,
        });
        summary
    } else if let Some(rtt) = rtt {
        let summary = format!(
            "session open, ping/pong {:.1} ms, no close in {:.1} s",
            millis(rtt),
            options.observe.as_secs_f64()
        );
        let limit = platform.and_then(|p| p.idle_limit_secs().map(|secs| (p, secs)));
        if let Some((platform, secs)) = limit.filter(|_| !server_pinged) {
            findings.push(Finding {
                cause: CauseId::WsIdleTimeoutRisk,
                summary: format!(
                    "{} closes connections that carry nothing for {secs} s, and the server sent no ping in the {:.1} s watched",
                    platform.title(),
                    options.observe.as_secs_f64()
                ), severity: None,
            });
        }
        summary
    } else {
        let summary = format!("no pong to a ping within {timeout:?}");
        findings.push(Finding {
            cause: CauseId::WsNoPong,
            summary: summary.clone(),
            severity: None,
        });
        summary
    };
    let evidence = WebsocketEvidence::Watched(Watch {
        answered_by,
        ping_rtt_ms: rtt.map(millis),
        observe_secs: options.observe.as_secs_f64(),
        closed_by_server: closed.map(|(close, after)| ServerClose {
            close,
            after_ms: millis(after),
        }),
        received,
    });
    CheckResult::from_findings(
        CheckId::Websocket,
        summary,
        millis(started.elapsed()),
        evidence,
        findings,
    )
}
