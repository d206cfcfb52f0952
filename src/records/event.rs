//! The listener's event language: each thing a listener sees, said once (`Happening`, with
//! the one line `listen`, `watch` and the window print for it), and the reducer that turns
//! events into the stream store (`LiveStreams::apply`). The local listener and a mirror of a
//! remote one both fill their store through it, so a stream reads the same wherever it ran.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::audio::meter::LevelPoint;
use crate::catalog::Finding;
use crate::catalog::Provider;
use crate::clock;
use crate::clock::millis;
use crate::edge::AnsweredBy;
use crate::records::live::{Closed, LiveStreams, MediaFormat, StreamState, UpgradeSeen};
use crate::records::webhook::WebhookRecord;

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
        /// The names and values the stream was started with.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        custom_parameters: BTreeMap<String, String>,
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
    /// The event's number at its listener, from 1 and one more each time: a mirror that
    /// reconnects is sent the journal again and skips what it already has. 0 where unknown (an
    /// older listener).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seq: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
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
                custom_parameters,
                ..
            } => {
                write!(f, "start: {}", protocol.as_deref().unwrap_or("unknown"))?;
                if let Some(format) = media_format {
                    write!(f, " {}/{}", format.encoding, format.sample_rate)?;
                }
                write!(f, ", stream {}", stream_id.as_deref().unwrap_or("(no id)"))?;
                if !custom_parameters.is_empty() {
                    let pairs: Vec<String> = custom_parameters
                        .iter()
                        .map(|(name, value)| format!("{name}={value}"))
                        .collect();
                    write!(f, ", parameters {}", pairs.join(" "))?;
                }
                Ok(())
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
                write!(f, "webhook {}", record.event_type)?;
                if let Some(shape) = record.shape {
                    write!(f, " ({})", shape.describe())?;
                }
                write!(f, " signature {}", record.signature.as_str())?;
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

/// What an event added to a store that had not been there: what the rest of a window, beside
/// the store, should hear about.
#[derive(Debug, PartialEq)]
pub enum Fresh {
    Nothing,
    Webhook(Box<WebhookRecord>),
    Finding(Finding),
}

impl LiveStreams {
    /// The reducer: applies one event to the store, the same way for the listener that saw it
    /// and for a mirror of that listener elsewhere. Each stream's timeline is the lines of its
    /// events (levels aside, which are points, not lines). An event the store already has (a
    /// journal replayed after a reconnect) changes nothing.
    ///
    /// The listener's receiver writes what only its frames say beside this: the counts, each
    /// track's meter and levels, recordings, the mark's round trip. A mirror gets the levels
    /// and counts from `levels` events, which this merges.
    pub fn apply(&mut self, event: &MonitorEvent) -> Fresh {
        if event.seq != 0 {
            if event.replayed && event.seq <= self.applied {
                return Fresh::Nothing;
            }
            self.applied = self.applied.max(event.seq);
        }
        match &event.what {
            Happening::Webhook(record) => {
                if !self.webhooks.contains(record) {
                    self.add_webhook((**record).clone());
                    return Fresh::Webhook(record.clone());
                }
                return Fresh::Nothing;
            }
            Happening::Finding(finding) => {
                if !self.findings.contains(finding) {
                    self.add_finding(finding.clone());
                    return Fresh::Finding(finding.clone());
                }
                return Fresh::Nothing;
            }
            Happening::Refused { .. } => {
                self.refused += 1;
                return Fresh::Nothing;
            }
            Happening::Connect {
                path,
                remote,
                headers,
                edge,
            } => {
                let number = event.stream.unwrap_or(0);
                if self.stream_mut(number).is_none() {
                    let mut state = StreamState::new(number, path.clone(), remote.clone());
                    state.request = Some(UpgradeSeen {
                        edge: edge.clone(),
                        ..UpgradeSeen::of(headers)
                    });
                    self.add_stream(state);
                }
            }
            _ => {}
        }
        let Some(state) = event.stream.and_then(|n| self.stream_mut(n)) else {
            return Fresh::Nothing;
        };
        match &event.what {
            Happening::Start {
                protocol,
                stream_id,
                call_id,
                media_format,
                custom_parameters,
            } => {
                state.custom_parameters.clone_from(custom_parameters);
                if state.protocol.is_none() {
                    state.protocol = protocol.as_deref().and_then(|p| p.parse::<Provider>().ok());
                }
                state.stream_id.clone_from(stream_id);
                state.call_id.clone_from(call_id);
                state.media_format.clone_from(media_format);
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
                return Fresh::Nothing;
            }
            Happening::Close(closed) => {
                if state.closed.is_some() {
                    return Fresh::Nothing;
                }
                state.duration_ms = Some(millis(state.opened.elapsed()));
                state.closed = Some(closed.clone());
            }
            _ => {}
        }
        state.note(event.what.to_string());
        Fresh::Nothing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CauseId;
    use crate::records::live::ClosedBy;

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
                custom_parameters: BTreeMap::from([("test".into(), "stream-doctor".into())]),
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
            Happening::Close(Closed::new(ClosedBy::Remote, Some(1000), "")),
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
                seq: 7,
            };
            let json = serde_json::to_value(&event).expect("json");
            assert!(json["event"].is_string(), "{json}");
            assert_eq!(json["at"], "2026-11-25T14:00:00Z");
            let back: MonitorEvent = serde_json::from_value(json).expect("reads back");
            assert_eq!(back, event);
        }
    }

    fn event(stream: u64, what: Happening, seq: u64) -> MonitorEvent {
        MonitorEvent {
            what,
            stream: Some(stream),
            at: crate::clock::now(),
            replayed: false,
            seq,
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
    fn a_store_rebuilds_streams_once_across_a_replay() {
        let mut live = LiveStreams::default();
        let connect = Happening::Connect {
            path: "/stream".into(),
            remote: "198.51.100.7:5555".into(),
            headers: Vec::new(),
            edge: None,
        };
        let first = [
            event(3, connect.clone(), 1),
            event(3, levels(&[20.0, 40.0]), 2),
            event(
                3,
                Happening::Note {
                    text: "dtmf '5'".into(),
                },
                3,
            ),
        ];
        for e in &first {
            live.apply(e);
        }
        // A reconnect replays what the journal holds, then goes on.
        for e in &first {
            live.apply(&MonitorEvent {
                replayed: true,
                ..e.clone()
            });
        }
        live.apply(&event(3, levels(&[40.0, 60.0]), 4));
        live.apply(&event(
            3,
            Happening::Close(Closed::new(ClosedBy::Remote, Some(1000), "")),
            5,
        ));
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
        let lines: Vec<&str> = stream.timeline.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            lines,
            [
                "connect from 198.51.100.7:5555 /stream",
                "dtmf '5'",
                "closed by remote, code 1000 ''"
            ],
            "each line once"
        );
    }
}
