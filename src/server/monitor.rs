//! The listener's monitor: what it sees, as JSON events a person at their desk can watch while
//! the listener runs somewhere else (docs/outside-in.md). The `Journal` keeps the last ten
//! minutes (at most 10,000 events) for a watcher that connects late and hands every new event
//! to the watchers connected; `serve` runs one watcher's WebSocket: the journal first
//! (`replayed: true`), then live events, with pings so a platform's idle timeout never cuts a
//! quiet link.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::clock;
pub use crate::records::event::{Happening, MonitorEvent, TrackLevels};
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
    /// The number of the last event published.
    seq: u64,
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
        let mut event = MonitorEvent {
            what,
            stream,
            at: clock::now(),
            replayed: false,
            seq: 0,
        };
        let now = Instant::now();
        let Ok(mut kept) = self.kept.lock() else {
            return event;
        };
        kept.seq += 1;
        event.seq = kept.seq;
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
    use std::collections::BTreeMap;

    use super::*;
    use crate::audio::meter::LevelPoint;

    #[test]
    fn the_journal_keeps_the_newest_and_replays_them_marked() {
        let journal = Journal::default();
        for n in 0..(JOURNAL_EVENTS as u64 + 5) {
            journal.publish(Some(n), Happening::Stop);
        }
        let (earlier, _) = journal.subscribe();
        assert_eq!(earlier.len(), JOURNAL_EVENTS);
        assert_eq!(earlier[0].stream, Some(5), "the oldest went first");
        assert_eq!(earlier[0].seq, 6, "numbered from 1 as published");
        assert!(earlier.windows(2).all(|w| w[1].seq == w[0].seq + 1));
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
