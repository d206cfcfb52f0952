//! A watched listener in the window: the loop that follows it, reconnecting (`follow`), and
//! the `Mirror` that rebuilds its streams in a local store from its events, so remote streams
//! are shown exactly like local ones. The client itself is `watch`'s.

use std::time::Duration;

use super::monitor::{Happening, MonitorEvent};
use super::watch::{WatchEnd, WatchError, WatchOptions, connect};
use crate::catalog::Provider;
use crate::clock::millis;
use crate::records::live::{LiveStore, StreamState};

/// How following a listener goes, for whoever shows it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Following {
    Connected,
    /// The link dropped or could not be made; another try comes after `after`.
    Reconnecting {
        why: String,
        after: Duration,
    },
    /// A refusal or a bad URL: trying again would not help.
    Stopped {
        why: String,
    },
}

/// The longest pause between two tries.
pub(crate) const FOLLOW_BACKOFF_MAX: Duration = Duration::from_secs(15);

/// Follows a listener into `mirror` until it refuses (or the future is dropped), reconnecting
/// with a pause that doubles up to `FOLLOW_BACKOFF_MAX`; every event the mirror did not have
/// (a webhook, a finding) goes to `news`, every change of the link to `state`.
pub(crate) async fn follow(
    options: &WatchOptions,
    mirror: &mut Mirror,
    state: &(dyn Fn(Following) + Send + Sync),
    news: &mut (dyn FnMut(MonitorEvent) + Send),
) {
    let mut pause = Duration::from_secs(1);
    loop {
        let why = match connect(options).await {
            Ok(monitor) => {
                state(Following::Connected);
                pause = Duration::from_secs(1);
                let mut unreadable = 0;
                let mut on_event = |event: MonitorEvent| {
                    if mirror.apply(&event) != News::Nothing {
                        news(event);
                    }
                };
                match monitor.run(&mut on_event, &mut unreadable).await {
                    WatchEnd::Closed(reason) => {
                        format!("the listener closed the monitor: {reason}")
                    }
                    WatchEnd::Lost(why) => format!("the link dropped: {why}"),
                }
            }
            Err(e @ (WatchError::Refused(..) | WatchError::BadUrl(_))) => {
                state(Following::Stopped { why: e.to_string() });
                return;
            }
            Err(e) => e.to_string(),
        };
        state(Following::Reconnecting { why, after: pause });
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(FOLLOW_BACKOFF_MAX);
    }
}

/// A local copy of a remote listener's streams, built from its events. Events replayed after
/// a reconnect are recognised: a stream is added once, a level point once.
#[derive(Default)]
pub(crate) struct Mirror {
    pub store: LiveStore,
}

/// What an event added that the rest of the window should hear about.
#[derive(Debug, PartialEq)]
pub(crate) enum News {
    Nothing,
    Webhook(Box<crate::records::webhook::WebhookRecord>),
    Finding(crate::catalog::Finding),
}

impl Mirror {
    pub(crate) fn apply(&mut self, event: &MonitorEvent) -> News {
        let Ok(mut live) = self.store.lock() else {
            return News::Nothing;
        };
        let number = event.stream.unwrap_or(0);
        if let Happening::Connect {
            path, remote, edge, ..
        } = &event.what
            && live.stream_mut(number).is_none()
        {
            let mut state = StreamState::new(number, path.clone(), remote.clone());
            if let Some(edge) = edge {
                state.note(format!("through {} ({})", edge.name, edge.because));
            }
            live.add_stream(state);
        }
        match &event.what {
            Happening::Webhook(record) if !live.webhooks.contains(record) => {
                live.add_webhook((**record).clone());
                return News::Webhook(record.clone());
            }
            Happening::Finding(finding) if !live.findings.contains(finding) => {
                live.add_finding(finding.clone());
                return News::Finding(finding.clone());
            }
            Happening::Refused { .. } if !event.replayed => live.refused += 1,
            _ => {}
        }
        let Some(state) = live.stream_mut(number) else {
            return News::Nothing;
        };
        match &event.what {
            Happening::Start {
                protocol,
                stream_id,
                call_id,
                media_format,
            } => {
                state.protocol = protocol.as_deref().and_then(|p| p.parse::<Provider>().ok());
                state.stream_id.clone_from(stream_id);
                state.call_id.clone_from(call_id);
                state.media_format.clone_from(media_format);
                state.note("start");
            }
            Happening::Levels { tracks } => {
                for (name, levels) in tracks {
                    let track = state.tracks.entry(name.clone()).or_default();
                    track.frames = track.frames.max(levels.frames);
                    track.sequence_gaps = track.sequence_gaps.max(levels.sequence_gaps);
                    track.late_frames = track.late_frames.max(levels.late_frames);
                    let newest = track.recent.back().map_or(f64::NEG_INFINITY, |p| p.at_ms);
                    for point in levels.points.iter().filter(|p| p.at_ms > newest) {
                        track.push_level(*point);
                    }
                }
            }
            Happening::Stop => state.note("stop"),
            Happening::Note { text } => state.note(text.clone()),
            Happening::Close(closed) if state.closed.is_none() => {
                state.duration_ms = Some(millis(state.opened.elapsed()));
                state.note(closed.to_string());
                state.closed = Some(closed.clone());
            }
            _ => {}
        }
        News::Nothing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::meter::LevelPoint;
    use crate::records::live::{Closed, ClosedBy};
    use crate::server::monitor::TrackLevels;

    fn event(stream: u64, what: Happening, replayed: bool) -> MonitorEvent {
        MonitorEvent {
            what,
            stream: Some(stream),
            at: crate::clock::now(),
            replayed,
        }
    }

    fn levels(at: &[f64]) -> Happening {
        let points = at
            .iter()
            .map(|&at_ms| LevelPoint {
                at_ms,
                rms_dbfs: Some(-20.0),
                peak_dbfs: Some(-10.0),
            })
            .collect();
        Happening::Levels {
            tracks: [(
                "inbound".to_string(),
                TrackLevels {
                    frames: at.len() as u64,
                    points,
                    sequence_gaps: 0,
                    late_frames: 0,
                },
            )]
            .into(),
        }
    }

    #[test]
    fn the_mirror_rebuilds_streams_once_across_a_replay() {
        let mut mirror = Mirror::default();
        let connect = Happening::Connect {
            path: "/stream".into(),
            remote: "198.51.100.7:5555".into(),
            headers: Vec::new(),
            edge: None,
        };
        let first = [
            event(3, connect.clone(), false),
            event(3, levels(&[20.0, 40.0]), false),
        ];
        for e in &first {
            mirror.apply(e);
        }
        // A reconnect replays what the journal holds, then goes on.
        for e in &first {
            mirror.apply(&MonitorEvent {
                replayed: true,
                ..e.clone()
            });
        }
        mirror.apply(&event(3, levels(&[40.0, 60.0]), false));
        mirror.apply(&event(
            3,
            Happening::Close(Closed::new(ClosedBy::Remote, Some(1000), "")),
            false,
        ));
        let live = mirror.store.lock().expect("store");
        assert_eq!(live.streams.len(), 1);
        let stream = &live.streams[0];
        assert_eq!(stream.number, 3);
        let at: Vec<f64> = stream.tracks["inbound"]
            .recent
            .iter()
            .map(|p| p.at_ms)
            .collect();
        assert_eq!(at, [20.0, 40.0, 60.0]);
        assert!(!stream.is_open());
    }
}
