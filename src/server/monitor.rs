//! The listener's monitor: what it sees, as JSON events a person at their desk can watch while
//! the listener runs somewhere else (docs/outside-in.md). The `Journal` keeps the last ten
//! minutes (at most 10,000 events) for a watcher that connects late and hands every new event
//! to the watchers connected; `serve` runs one watcher's WebSocket: the journal first
//! (`replayed: true`), then live events, with pings so a platform's idle timeout never cuts a
//! quiet link.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::audio::meter::LevelPoint;
use crate::catalog::Finding;
use crate::clock;
use crate::edge::AnsweredBy;
use crate::records::live::{Closed, MediaFormat};
use crate::records::webhook::WebhookRecord;
use crate::secret::Redactor;

/// The journal keeps at most this many events, none older than `JOURNAL_AGE`, and at most
/// `JOURNAL_POINTS` level points in all: a listener with many streams would otherwise hold
/// ten minutes of every track's levels (about 1 MB a minute per 10 tracks).
pub(crate) const JOURNAL_EVENTS: usize = 10_000;
pub(crate) const JOURNAL_AGE: Duration = Duration::from_secs(600);
pub(crate) const JOURNAL_POINTS: usize = 60_000;
/// Events a slow watcher may fall behind by before it skips ahead.
const LIVE_BACKLOG: usize = 4096;
/// Platforms close WebSockets that stay quiet for about a minute.
const PING_EVERY: Duration = Duration::from_secs(20);
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// What happened, as the monitor says it (`event` names it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Happening {
    /// A stream's upgrade: its path and headers (secrets shown as `[redacted]`), and the edge
    /// it crossed.
    Connect {
        path: String,
        remote: String,
        headers: Vec<(String, String)>,
        #[serde(default)]
        edge: Option<AnsweredBy>,
    },
    Start {
        protocol: Option<String>,
        stream_id: Option<String>,
        call_id: Option<String>,
        media_format: Option<MediaFormat>,
    },
    /// A second of one stream: every track's frames so far and its new level points.
    Levels {
        tracks: BTreeMap<String, TrackLevels>,
    },
    Stop,
    Close(Closed),
    Webhook(Box<WebhookRecord>),
    Finding(Finding),
    /// A request turned away (wrong token, not an upgrade, too many connections).
    Refused {
        remote: String,
        path: String,
        why: String,
    },
    /// A line of a stream's timeline that no other event says: a protocol error, a sequence
    /// gap, an unknown event, a mark's round trip, a recording written.
    Note {
        text: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackLevels {
    pub frames: u64,
    /// One per 20 ms frame since the last `levels`.
    pub points: Vec<LevelPoint>,
    /// Frames missing from the sequence, and frames that arrived late, so far.
    #[serde(default)]
    pub sequence_gaps: u64,
    #[serde(default)]
    pub late_frames: u64,
}

/// One message on the monitor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonitorEvent {
    #[serde(flatten)]
    pub what: Happening,
    /// The stream's number at the listener, for the events of a stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<u64>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Sent from the journal, not as it happened.
    #[serde(default)]
    pub replayed: bool,
}

impl MonitorEvent {
    /// The event as a line, without its time: what the window's log shows.
    pub(crate) fn line(&self) -> String {
        let number = self.stream.map(|n| format!("#{n} ")).unwrap_or_default();
        let replayed = if self.replayed { " (earlier)" } else { "" };
        format!("{number}{}{replayed}", self.what)
    }
}

/// The one line `listen` and `watch` print for an event: its time, then its `line`.
impl std::fmt::Display for MonitorEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", clock::rfc3339(self.at), self.line())
    }
}

impl std::fmt::Display for Happening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Happening::Connect {
                path, remote, edge, ..
            } => {
                write!(f, "connect from {remote} {path}")?;
                if let Some(edge) = edge {
                    write!(f, " through {} ({})", edge.name, edge.because)?;
                }
                Ok(())
            }
            Happening::Start {
                protocol,
                stream_id,
                media_format,
                ..
            } => {
                write!(f, "start: {}", protocol.as_deref().unwrap_or("unknown"))?;
                if let Some(format) = media_format {
                    write!(f, " {}/{}", format.encoding, format.sample_rate)?;
                }
                write!(f, ", stream {}", stream_id.as_deref().unwrap_or("(no id)"))
            }
            Happening::Levels { tracks } => {
                let parts: Vec<String> = tracks
                    .iter()
                    .map(|(name, track)| {
                        let loudest = |level: fn(&LevelPoint) -> Option<f64>| {
                            let max = track
                                .points
                                .iter()
                                .filter_map(level)
                                .fold(f64::NEG_INFINITY, f64::max);
                            if max.is_finite() {
                                format!("{max:.1}")
                            } else {
                                "-inf".into()
                            }
                        };
                        format!(
                            "{name} rms {} dBFS peak {} dBFS, frames {}, gaps {}, late {}",
                            loudest(|p| p.rms_dbfs),
                            loudest(|p| p.peak_dbfs),
                            track.frames,
                            track.sequence_gaps,
                            track.late_frames
                        )
                    })
                    .collect();
                write!(f, "levels {}", parts.join("; "))
            }
            Happening::Stop => f.write_str("stop"),
            Happening::Close(closed) => write!(f, "{closed}"),
            Happening::Webhook(record) => {
                write!(
                    f,
                    "webhook {} signature {}",
                    record.event_type,
                    record.signature.as_str()
                )?;
                if let Some(problem) = record
                    .signature_problem
                    .as_ref()
                    .or(record.problem.as_ref())
                {
                    write!(f, " ({problem})")?;
                }
                if let Some(reason) = &record.failure_reason {
                    write!(f, ", failure_reason {reason}")?;
                }
                if let Some(url) = &record.stream_url {
                    write!(f, ", stream_url {url}")?;
                }
                Ok(())
            }
            Happening::Finding(finding) => {
                write!(f, "finding {}: {}", finding.cause.as_str(), finding.summary)
            }
            Happening::Refused { remote, path, why } => write!(f, "refused {remote} {path}: {why}"),
            Happening::Note { text } => f.write_str(text),
        }
    }
}

/// The listener's recent events, and the watchers' live feed.
pub(crate) struct Journal {
    kept: Mutex<Kept>,
    live: broadcast::Sender<MonitorEvent>,
}

#[derive(Default)]
struct Kept {
    events: VecDeque<(Instant, MonitorEvent)>,
    /// Level points held in `events`.
    points: usize,
}

impl Default for Journal {
    fn default() -> Self {
        Self {
            kept: Mutex::new(Kept::default()),
            live: broadcast::channel(LIVE_BACKLOG).0,
        }
    }
}

/// The level points an event holds.
fn points(what: &Happening) -> usize {
    match what {
        Happening::Levels { tracks } => tracks.values().map(|t| t.points.len()).sum(),
        _ => 0,
    }
}

impl Journal {
    /// Keeps `what` as an event of `stream` (now) and hands it to the watchers; the event made.
    pub(crate) fn publish(&self, stream: Option<u64>, what: Happening) -> MonitorEvent {
        let event = MonitorEvent {
            what,
            stream,
            at: clock::now(),
            replayed: false,
        };
        let now = Instant::now();
        let Ok(mut kept) = self.kept.lock() else {
            return event;
        };
        kept.points += points(&event.what);
        while kept.events.len() >= JOURNAL_EVENTS
            || kept.points > JOURNAL_POINTS
            || kept
                .events
                .front()
                .is_some_and(|(at, _)| now.duration_since(*at) > JOURNAL_AGE)
        {
            let Some((_, old)) = kept.events.pop_front() else {
                break;
            };
            kept.points -= points(&old.what);
        }
        kept.events.push_back((now, event.clone()));
        // Sent under the lock, so a watcher subscribing meanwhile misses nothing and sees
        // nothing twice.
        let _ = self.live.send(event.clone());
        event
    }

    /// What a new watcher is sent first, and its feed of what comes after.
    pub(crate) fn subscribe(&self) -> (Vec<MonitorEvent>, broadcast::Receiver<MonitorEvent>) {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let earlier = kept
            .events
            .iter()
            .map(|(_, event)| MonitorEvent {
                replayed: true,
                ..event.clone()
            })
            .collect();
        (earlier, self.live.subscribe())
    }
}

/// Sends one event, masked: the monitor is an output like any other, and what it carries
/// (webhooks' URLs, findings, refused paths) can hold the listener's secrets.
async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    event: &MonitorEvent,
    redactor: &Redactor,
) -> bool {
    let Ok(text) = serde_json::to_string(event) else {
        return true;
    };
    let text = redactor.mask(&text);
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, ws.send(Message::text(text))).await,
        Ok(Ok(()))
    )
}

/// Runs one watcher until it leaves, stops reading, or `stopping` fires.
pub(crate) async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut ws: WebSocketStream<S>,
    journal: &Journal,
    redactor: &Redactor,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let (earlier, mut live) = journal.subscribe();
    for event in &earlier {
        if !send(&mut ws, event, redactor).await {
            return;
        }
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            next = live.recv() => match next {
                Ok(event) => {
                    if !send(&mut ws, &event, redactor).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            },
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if tokio::time::timeout(SEND_TIMEOUT, ws.send(Message::Ping(Vec::new().into()))).await.is_err() {
                    return;
                }
            }
            _ = stopping.changed() => break,
        }
    }
    let frame = CloseFrame {
        code: CloseCode::Away,
        reason: "the listener stopped".into(),
    };
    let _ = tokio::time::timeout(SEND_TIMEOUT, ws.close(Some(frame))).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CauseId;

    #[test]
    fn every_event_reads_back_as_sent() {
        let events = [
            Happening::Connect {
                path: "/stream/[redacted]".into(),
                remote: "203.0.113.9:443".into(),
                headers: vec![("authorization".into(), "[redacted]".into())],
                edge: None,
            },
            Happening::Start {
                protocol: Some("telnyx".into()),
                stream_id: Some("s".into()),
                call_id: Some("v3:c".into()),
                media_format: Some(MediaFormat {
                    encoding: "PCMU".into(),
                    sample_rate: 8000,
                    channels: 1,
                }),
            },
            Happening::Levels {
                tracks: BTreeMap::from([(
                    "inbound".to_string(),
                    TrackLevels {
                        frames: 50,
                        sequence_gaps: 0,
                        late_frames: 0,
                        points: vec![LevelPoint {
                            at_ms: 20.0,
                            rms_dbfs: Some(-20.0),
                            peak_dbfs: None,
                        }],
                    },
                )]),
            },
            Happening::Stop,
            Happening::Close(Closed::new(
                crate::records::live::ClosedBy::Remote,
                Some(1000),
                "",
            )),
            Happening::Finding(Finding {
                cause: CauseId::ProviderStreamFailed,
                summary: "x".into(),
                severity: None,
            }),
        ];
        for what in events {
            let event = MonitorEvent {
                what,
                stream: Some(1),
                at: time::macros::datetime!(2026-11-25 14:00:00 UTC),
                replayed: false,
            };
            let json = serde_json::to_value(&event).expect("json");
            assert!(json["event"].is_string(), "{json}");
            assert_eq!(json["at"], "2026-11-25T14:00:00Z");
            let back: MonitorEvent = serde_json::from_value(json).expect("reads back");
            assert_eq!(back, event);
        }
    }

    #[test]
    fn the_journal_keeps_the_newest_and_replays_them_marked() {
        let journal = Journal::default();
        for n in 0..(JOURNAL_EVENTS as u64 + 5) {
            journal.publish(Some(n), Happening::Stop);
        }
        let (earlier, _) = journal.subscribe();
        assert_eq!(earlier.len(), JOURNAL_EVENTS);
        assert_eq!(earlier[0].stream, Some(5), "the oldest went first");
        assert!(earlier.iter().all(|e| e.replayed));
    }

    #[test]
    fn the_journal_holds_a_bounded_number_of_level_points() {
        let journal = Journal::default();
        let second = |n: u64| {
            let points = (0..50)
                .map(|i| LevelPoint {
                    at_ms: (n * 1000 + i * 20) as f64,
                    rms_dbfs: Some(-20.0),
                    peak_dbfs: None,
                })
                .collect();
            Happening::Levels {
                tracks: BTreeMap::from([(
                    "inbound".to_string(),
                    TrackLevels {
                        frames: 50,
                        points,
                        sequence_gaps: 0,
                        late_frames: 0,
                    },
                )]),
            }
        };
        for n in 0..3000 {
            journal.publish(Some(1), second(n));
        }
        let (earlier, _) = journal.subscribe();
        let held: usize = earlier.iter().map(|e| points(&e.what)).sum();
        assert!(held <= JOURNAL_POINTS, "{held}");
        assert_eq!(
            held,
            JOURNAL_POINTS / 50 * 50,
            "as many whole seconds as fit"
        );
        assert!(
            matches!(&earlier.last().expect("kept").what, Happening::Levels { tracks } if tracks["inbound"].points[0].at_ms == 2_999_000.0)
        );
    }
}
