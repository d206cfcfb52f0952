//! One stream from the provider's side: connect as the provider does (only the headers it
//! sends), send `connected`, `start`, the media frames and `stop`, return every `mark` the
//! server sends as a provider does, record what comes back, and close. `replay` and the
//! `provider` check both run it; what they make of the outcome is theirs.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::CertificateDer;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::script::{FRAME_MS, Script};
use super::{Provider, Reply, parse_reply};
use crate::audio::{Codec, Encoder};
use crate::clock::millis;
use crate::edge::{self, AnsweredBy};
use crate::net::close::{self, CloseWitness, Sniffed};
use crate::net::connect::{self, ConnectError, Verify};
use crate::net::target::Target;
use crate::net::upgrade::{RequestError, client_request};
use crate::records::call::{Ending, Received, Replies, Sent, SentCounts};
use crate::records::close::Close;
use crate::records::exchange::UpgradeAuth;
use crate::secret::Secret;

const KEPT_TEXT_CHARS: usize = 300;
/// How long our close frame and the server's answer to it may take.
const CLOSE_WAIT: Duration = Duration::from_millis(500);
const READER_WAIT: Duration = Duration::from_secs(2);

/// Where and how to connect.
pub(crate) struct Dial<'a> {
    pub addr: SocketAddr,
    pub target: &'a Target,
    pub extra_roots: &'a [CertificateDer<'static>],
    pub auth_token: Option<&'a Secret>,
    /// The account's auth token, for a provider that signs its upgrade (Twilio).
    pub account_token: Option<&'a Secret>,
    /// Deadline of the connection, of the handshake, and of each message sent.
    pub timeout: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// One frame every 20 ms, as a call does.
    Realtime,
    /// As fast as the socket takes them.
    Max,
}

/// What to send.
pub(crate) struct Plan<'a> {
    pub provider: Provider,
    pub codec: Codec,
    pub tracks: &'a [&'a str],
    /// The audio, at the codec's audio rate; with two tracks, the second carries it half its
    /// length later, so the tracks are told apart at a glance.
    pub samples: &'a [i16],
    pub pace: Pace,
    /// After `start`, a ping whose pong proves the server has read `start` (frames are read in
    /// order). Media follows at once, without waiting a round trip for the pong; a server that
    /// closes before that pong stopped reading at `start` (`Streamed::read_by_server`).
    pub start_mark: bool,
    /// The call id to carry, as a live call's would (random when not given).
    pub call_id: Option<&'a str>,
    /// The custom parameters `start` carries.
    pub parameters: &'a BTreeMap<String, String>,
}

/// Providers announce an 8 kHz clock for the codecs here, G.722 included (RFC 3551).
pub(crate) const CLOCK_RATE_HZ: u32 = 8000;

#[derive(Debug, thiserror::Error)]
pub(crate) enum OpenError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("the server answered the upgrade with {status}")]
    Refused {
        status: u16,
        answered_by: Option<AnsweredBy>,
    },
    #[error("the WebSocket handshake failed: {0}")]
    Handshake(String),
    #[error("no WebSocket handshake within {0:?}")]
    Timeout(Duration),
}

/// Everything one stream did.
#[derive(Debug)]
pub(crate) struct Call {
    /// Names of the headers the upgrade carried beside the standard ones.
    pub headers_sent: Vec<String>,
    pub outcome: Result<Streamed, OpenError>,
}

/// A stream that opened: what went out, what came back, how it ended.
#[derive(Debug)]
pub(crate) struct Streamed {
    pub sent: SentCounts,
    /// The last message that went out.
    pub last_sent: Option<Sent>,
    /// Why sending stopped early, when it did.
    pub send_error: Option<String>,
    pub replies: Replies,
    pub ending: Ending,
    /// With `start_mark`: whether the pong to the ping after `start` came before the end.
    pub start_read: Option<bool>,
}

impl Streamed {
    /// The stream as the server read it, for a server that answers pings: one that closed
    /// before the pong to the ping after `start` read nothing after `start`, whatever went out
    /// in the meantime (and a send that failed then failed because it had closed).
    pub(crate) fn read_by_server(mut self) -> Self {
        if self.start_read == Some(false) && self.sent.start {
            self.sent = SentCounts {
                connected: self.sent.connected,
                start: true,
                media: 0,
                stop: false,
            };
            self.last_sent = Some(Sent::Start);
            self.send_error = None;
        }
        self
    }

    /// Every message of the plan went out, `stop` included.
    pub(crate) fn completed(&self) -> bool {
        self.sent.stop
    }

    /// Why the stream ended before `stop`, in words; `None` when it completed.
    pub(crate) fn cut_short(&self) -> Option<String> {
        if self.completed() {
            return None;
        }
        let last = self.last_sent.map_or("nothing", Sent::name);
        let why = self
            .send_error
            .clone()
            .unwrap_or_else(|| self.ending.close.to_string());
        Some(format!(
            "the server ended the stream after `{last}` ({} media frame(s) sent): {why}",
            self.sent.media
        ))
    }
}

/// What the sender has done so far.
#[derive(Default)]
struct Progress {
    sent: SentCounts,
    last_sent: Option<Sent>,
}

/// Runs one stream; `on_open` is called once the WebSocket is open, before anything is sent.
pub(crate) async fn call(dial: &Dial<'_>, plan: &Plan<'_>, on_open: &(dyn Fn() + Sync)) -> Call {
    let auth = UpgradeAuth {
        stream_token: dial.auth_token,
        account_token: dial.account_token,
        url: dial.target.url.as_str(),
    };
    let headers = plan.provider.protocol().upgrade_headers(&auth);
    let headers_sent = headers.iter().map(|(name, _)| name.clone()).collect();
    let outcome = match open(dial, &headers).await {
        Ok((ws, witness)) => {
            on_open();
            Ok(stream(ws, witness, dial, plan).await)
        }
        Err(e) => Err(e),
    };
    Call {
        headers_sent,
        outcome,
    }
}

async fn stream(ws: Ws, witness: CloseWitness, dial: &Dial<'_>, plan: &Plan<'_>) -> Streamed {
    let opened = Instant::now();
    let (mut sink, source) = ws.split();
    let (closed_tx, closed) = watch::channel(false);
    let (marks_tx, mut marks) = mpsc::unbounded_channel();
    let signals = Signals {
        marks: marks_tx,
        closed: closed_tx,
    };
    let reader = tokio::spawn(read_replies(source, witness, opened, signals));

    let mut script = Script::new(plan.provider);
    if let Some(call_id) = plan.call_id {
        script.ids.call_id = call_id.to_string();
    }
    script.parameters.clone_from(plan.parameters);
    let timeout = dial.timeout;
    let mut progress = Progress::default();
    // A message, counted as `kind` when it is one of the provider's (the start mark's ping is
    // not).
    let mut send = async |message: Message, kind: Option<Sent>, progress: &mut Progress| {
        match tokio::time::timeout(timeout, sink.send(message)).await {
            Ok(Ok(())) => {
                if let Some(kind) = kind {
                    progress.sent.note(kind);
                    progress.last_sent = Some(kind);
                }
                Ok(())
            }
            Ok(Err(e)) => Err(format!("sending failed: {e}")),
            Err(_) => Err(format!(
                "the server stopped reading (no progress in {timeout:?})"
            )),
        }
    };
    let sending = async {
        let p = &mut progress;
        send(
            Message::text(script.connected(dial.auth_token)),
            Some(Sent::Connected),
            p,
        )
        .await?;
        let start = script.start(plan.codec, CLOCK_RATE_HZ, plan.tracks);
        send(Message::text(start), Some(Sent::Start), p).await?;
        if plan.start_mark {
            send(Message::Ping(START_MARK.into()), None, p).await?;
        }
        let rate_hz = plan.codec.audio_rate(CLOCK_RATE_HZ);
        let per_frame = (rate_hz as usize * FRAME_MS as usize) / 1000;
        let frames: Vec<&[i16]> = plan.samples.chunks(per_frame.max(1)).collect();
        let mut encoders: Vec<Encoder> = plan
            .tracks
            .iter()
            .map(|_| Encoder::new(plan.codec))
            .collect();
        let began = tokio::time::Instant::now();
        for index in 0..frames.len() {
            if *closed.borrow() {
                return Ok(());
            }
            if plan.pace == Pace::Realtime {
                let due = began + Duration::from_millis(index as u64 * FRAME_MS);
                tokio::time::sleep_until(due).await;
            }
            for (t, (track, encoder)) in plan.tracks.iter().zip(&mut encoders).enumerate() {
                let frame = frames[(index + t * frames.len() / 2) % frames.len()];
                let media = script.media(track, index as u64 + 1, &encoder.encode(frame));
                send(Message::text(media), Some(Sent::Media), p).await?;
            }
            while let Ok(name) = marks.try_recv() {
                send(Message::text(script.mark(&name)), Some(Sent::Mark), p).await?;
            }
        }
        while let Ok(name) = marks.try_recv() {
            send(Message::text(script.mark(&name)), Some(Sent::Mark), p).await?;
        }
        if *closed.borrow() {
            return Ok(());
        }
        send(Message::text(script.stop()), Some(Sent::Stop), p).await
    };
    let send_error = sending.await.err();
    if progress.sent.stop {
        let bye = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        let _ = tokio::time::timeout(CLOSE_WAIT, sink.send(Message::Close(Some(bye)))).await;
    }
    let (replies, ending, pong) = match tokio::time::timeout(READER_WAIT.min(timeout), reader).await
    {
        Ok(Ok(read)) => read,
        _ => (
            Replies::default(),
            Ending {
                close: Close::error("the server did not answer our close"),
                at_ms: None,
            },
            false,
        ),
    };
    Streamed {
        sent: progress.sent,
        last_sent: progress.last_sent,
        send_error,
        replies,
        ending,
        start_read: plan.start_mark.then_some(pong),
    }
}

pub(crate) type Ws = tokio_tungstenite::WebSocketStream<Sniffed<connect::BoxedIo>>;

/// Opens the provider's WebSocket with `headers` beside the standard ones.
pub(crate) async fn open(
    dial: &Dial<'_>,
    headers: &[(String, String)],
) -> Result<(Ws, CloseWitness), OpenError> {
    let request = client_request(dial.target, headers)?;
    let verify = Verify::Provider(dial.extra_roots);
    let io = connect::open(dial.addr, dial.target, verify, dial.timeout).await?;
    let (io, witness) = close::sniff(io);
    let handshake = tokio_tungstenite::client_async(request, io);
    match tokio::time::timeout(dial.timeout, handshake).await {
        Ok(Ok((ws, _))) => Ok((ws, witness)),
        Ok(Err(WsError::Http(response))) => {
            let headers: Vec<(String, String)> = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                    (n.as_str().to_string(), value)
                })
                .collect();
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default());
            let status = response.status().as_u16();
            let answered_by = edge::from_response(&edge::Response {
                status,
                headers: &headers,
                body: &body,
            });
            Err(OpenError::Refused {
                status,
                answered_by,
            })
        }
        Ok(Err(e)) => Err(OpenError::Handshake(e.to_string())),
        Err(_) => Err(OpenError::Timeout(dial.timeout)),
    }
}

/// The payload of the ping sent after `start`.
const START_MARK: &[u8] = b"stream-doctor: start read?";

/// What the reader tells the sender: marks to answer, the end.
struct Signals {
    marks: mpsc::UnboundedSender<String>,
    closed: watch::Sender<bool>,
}

/// Reads until the server closes: counts and keeps replies, hands marks to the sender, and
/// raises `closed` when the stream ends. Also says whether the start mark's pong came.
async fn read_replies(
    mut source: futures_util::stream::SplitStream<Ws>,
    witness: CloseWitness,
    opened: Instant,
    signals: Signals,
) -> (Replies, Ending, bool) {
    let Signals { marks, closed } = signals;
    let mut replies = Replies::default();
    let mut pong = false;
    let close = loop {
        let Some(next) = source.next().await else {
            break Close::no_frame();
        };
        let at_ms = millis(opened.elapsed());
        match next {
            Ok(Message::Text(text)) => {
                let kept = text.chars().take(KEPT_TEXT_CHARS).collect();
                replies.keep(Received::Text { at_ms, text: kept });
                match parse_reply(text.as_str()) {
                    Ok(Reply::Media) => replies.media += 1,
                    Ok(Reply::Mark(name)) => {
                        replies.mark += 1;
                        replies.marks.push(name.clone());
                        let _ = marks.send(name);
                    }
                    Ok(Reply::Clear) => replies.clear += 1,
                    Ok(Reply::Other(_)) | Err(_) => replies.other += 1,
                }
            }
            Ok(Message::Binary(bytes)) => {
                replies.other += 1;
                let binary_bytes = bytes.len();
                replies.keep(Received::Binary {
                    at_ms,
                    binary_bytes,
                });
            }
            Ok(Message::Close(frame)) => {
                break witness
                    .close()
                    .unwrap_or_else(|| close::of_frame(frame.as_ref()));
            }
            Ok(Message::Pong(payload)) if payload.as_ref() == START_MARK => pong = true,
            Ok(_) => {}
            Err(e) => {
                break witness
                    .close()
                    .unwrap_or_else(|| Close::error(e.to_string()));
            }
        }
    };
    let ending = Ending {
        close,
        at_ms: Some(millis(opened.elapsed())),
    };
    let _ = closed.send(true);
    (replies, ending, pong)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streamed(start_read: Option<bool>) -> Streamed {
        Streamed {
            sent: SentCounts {
                connected: true,
                start: true,
                media: 50,
                stop: true,
            },
            last_sent: Some(Sent::Stop),
            send_error: Some("sending failed: broken pipe".into()),
            replies: Replies::default(),
            ending: Ending {
                close: Close::decoded(Some(1003), "unsupported media format"),
                at_ms: Some(1.0),
            },
            start_read,
        }
    }

    /// A close before the start mark's pong means the server read nothing after `start`.
    #[test]
    fn a_close_before_the_start_marks_pong_ends_the_stream_at_start() {
        let read = streamed(Some(false)).read_by_server();
        assert_eq!(read.last_sent, Some(Sent::Start));
        assert_eq!(read.sent.media, 0);
        assert!(!read.sent.stop);
        assert_eq!(read.send_error, None);
        assert!(
            read.cut_short()
                .is_some_and(|why| why.contains("after `start`"))
        );
        for kept in [Some(true), None] {
            let read = streamed(kept).read_by_server();
            assert_eq!(read.sent.media, 50, "{kept:?}");
            assert_eq!(read.last_sent, Some(Sent::Stop));
        }
    }
}
