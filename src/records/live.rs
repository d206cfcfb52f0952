//! What a listener knows about each stream while it runs: counters, tracks with their levels
//! (the last 30 s at full rate, the whole stream decimated), a bounded timeline of protocol
//! events, and the store of them all, bounded too. The listener (or a watch mirror) writes it;
//! the window and `listen` read it. Its summary is `listen`'s JSON (docs/streams.md).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::audio::meter::{LevelPoint, Summary, decimate};
use crate::catalog::Finding;
use crate::catalog::Provider;
use crate::clock::millis;
use crate::edge::AnsweredBy;
use crate::records::webhook::WebhookRecord;

/// 30 s of 20 ms frames.
pub(crate) const RECENT_POINTS: usize = 1500;
/// The decimated history halves its resolution whenever it grows past this.
pub(crate) const HISTORY_POINTS: usize = 2000;
const TIMELINE_ENTRIES: usize = 500;

/// The whole stream's levels at a resolution that halves as it grows: hours stay cheap to draw.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Frames per point.
    pub bucket_frames: usize,
    pub points: Vec<LevelPoint>,
    pending: Option<(LevelPoint, usize)>,
}

impl History {
    pub(crate) fn push(&mut self, point: LevelPoint) {
        if self.bucket_frames == 0 {
            self.bucket_frames = 1;
        }
        let (merged, count) = match self.pending.take() {
            Some((p, n)) => (p.louder(point), n + 1),
            None => (point, 1),
        };
        if count < self.bucket_frames {
            self.pending = Some((merged, count));
            return;
        }
        self.points.push(merged);
        if self.points.len() > HISTORY_POINTS {
            self.points = decimate(&self.points, self.points.len().div_ceil(2));
            self.bucket_frames *= 2;
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackSummary {
    pub frames: u64,
    pub samples: u64,
    pub duration_ms: f64,
    pub rms_dbfs: Option<f64>,
    pub peak_dbfs: Option<f64>,
    pub sequence_gaps: u64,
    pub out_of_order: u64,
    pub late_frames: u64,
}

#[derive(Clone, Debug, Default)]
pub struct TrackState {
    pub rate_hz: u32,
    pub frames: u64,
    pub summary: Summary,
    pub sequence_gaps: u64,
    pub out_of_order: u64,
    pub late_frames: u64,
    pub last_chunk: Option<u64>,
    pub recent: VecDeque<LevelPoint>,
    pub history: History,
}

impl TrackState {
    pub(crate) fn push_level(&mut self, point: LevelPoint) {
        if self.recent.len() == RECENT_POINTS {
            self.recent.pop_front();
        }
        self.recent.push_back(point);
        self.history.push(point);
    }

    /// Counts a gap or a reordering from the frame's chunk number.
    pub(crate) fn note_chunk(&mut self, chunk: u64) {
        match self.last_chunk {
            Some(last) if chunk <= last => self.out_of_order += 1,
            Some(last) => {
                self.sequence_gaps += chunk - last - 1;
                self.last_chunk = Some(chunk);
            }
            None => self.last_chunk = Some(chunk),
        }
    }

    pub(crate) fn summary(&self) -> TrackSummary {
        let samples = self.summary.samples();
        TrackSummary {
            frames: self.frames,
            samples,
            duration_ms: if self.rate_hz > 0 {
                millis(std::time::Duration::from_secs_f64(
                    samples as f64 / f64::from(self.rate_hz),
                ))
            } else {
                0.0
            },
            rms_dbfs: self.summary.rms_dbfs().map(round2),
            peak_dbfs: self.summary.peak_dbfs().map(round2),
            sequence_gaps: self.sequence_gaps,
            out_of_order: self.out_of_order,
            late_frames: self.late_frames,
        }
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageCounts {
    pub connected: u64,
    pub start: u64,
    pub media: u64,
    pub stop: u64,
    pub dtmf: u64,
    pub mark: u64,
    pub other: u64,
    pub invalid: u64,
    pub binary: u64,
}

impl MessageCounts {
    pub(crate) fn count(&mut self, kind: MessageKind) {
        let counter = match kind {
            MessageKind::Connected => &mut self.connected,
            MessageKind::Start => &mut self.start,
            MessageKind::Media => &mut self.media,
            MessageKind::Stop => &mut self.stop,
            MessageKind::Dtmf => &mut self.dtmf,
            MessageKind::Mark => &mut self.mark,
            MessageKind::Other => &mut self.other,
            MessageKind::Invalid => &mut self.invalid,
            MessageKind::Binary => &mut self.binary,
        };
        *counter += 1;
    }
}

/// Media that could not be measured, by reason.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MediaProblems {
    pub before_start: u64,
    pub bad_base64: u64,
    pub odd_length: u64,
    pub undecodable_codec: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MediaFormat {
    pub encoding: String,
    pub sample_rate: u32,
    pub channels: u32,
}

/// Who ended a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClosedBy {
    /// The client (the provider) closed it.
    Remote,
    /// The listener closed it (too large a frame, a client that stopped reading, the end).
    Listener,
    /// The connection broke.
    Error,
}

impl ClosedBy {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ClosedBy::Remote => "remote",
            ClosedBy::Listener => "listener",
            ClosedBy::Error => "error",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Closed {
    pub by: ClosedBy,
    pub code: Option<u16>,
    pub reason: String,
}

impl Closed {
    pub(crate) fn new(by: ClosedBy, code: Option<u16>, reason: &str) -> Self {
        Self {
            by,
            code,
            reason: reason.to_string(),
        }
    }
}

/// How every view says how a stream ended.
impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let by = self.by.as_str();
        match self.code {
            Some(code) => write!(f, "closed by {by}, code {code} '{}'", self.reason),
            None => write!(f, "closed by {by}: {}", self.reason),
        }
    }
}

#[derive(Clone, Debug)]
pub struct TimelineEntry {
    pub at_ms: f64,
    pub text: String,
}

/// The provider's real upgrade request, as far as a diagnosis needs it (no secret values).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpgradeSeen {
    pub user_agent: Option<String>,
    pub origin: bool,
    /// The `x-telnyx-streaming-auth-token` header was there.
    pub auth_token_header: bool,
    /// The edge the request crossed (platform, CDN, proxy), told from its headers.
    pub edge: Option<AnsweredBy>,
}

impl UpgradeSeen {
    pub(crate) fn of(headers: &[(String, String)]) -> Self {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        Self {
            user_agent: header("user-agent"),
            origin: header("origin").is_some(),
            auth_token_header: header("x-telnyx-streaming-auth-token").is_some(),
            edge: crate::edge::from_request(headers),
        }
    }
}

#[derive(Clone, Debug)]
pub struct StreamState {
    /// Order of arrival at this listener, from 1.
    pub number: u64,
    pub path: String,
    pub remote: String,
    pub protocol: Option<Provider>,
    pub stream_id: Option<String>,
    pub call_id: Option<String>,
    pub media_format: Option<MediaFormat>,
    pub messages: MessageCounts,
    pub media_problems: MediaProblems,
    pub tracks: BTreeMap<String, TrackState>,
    pub timeline: VecDeque<TimelineEntry>,
    pub bytes: u64,
    pub opened: Instant,
    pub closed: Option<Closed>,
    pub duration_ms: Option<f64>,
    pub mark_round_trip_ms: Option<f64>,
    pub recordings: Vec<String>,
    pub request: Option<UpgradeSeen>,
    /// What the stream was started with (`custom_parameters`): a test stream's tag.
    pub custom_parameters: BTreeMap<String, String>,
}

impl StreamState {
    pub fn new(number: u64, path: String, remote: String) -> Self {
        Self {
            number,
            path,
            remote,
            protocol: None,
            stream_id: None,
            call_id: None,
            media_format: None,
            messages: MessageCounts::default(),
            media_problems: MediaProblems::default(),
            tracks: BTreeMap::new(),
            timeline: VecDeque::new(),
            bytes: 0,
            opened: Instant::now(),
            closed: None,
            duration_ms: None,
            mark_round_trip_ms: None,
            recordings: Vec::new(),
            request: None,
            custom_parameters: BTreeMap::new(),
        }
    }

    /// Takes what a receiver measured in its own copy (`meter`, written frame by frame outside
    /// the store's lock): the counts, the tracks and their levels, the recordings, the mark's
    /// round trip. What the events set (ids, format, timeline, the close) stays.
    pub(crate) fn take_meter(&mut self, meter: &StreamState) {
        self.bytes = meter.bytes;
        self.messages = meter.messages.clone();
        self.media_problems = meter.media_problems.clone();
        if meter.protocol.is_some() {
            self.protocol = meter.protocol;
        }
        self.tracks.clone_from(&meter.tracks);
        self.mark_round_trip_ms = meter.mark_round_trip_ms;
        self.recordings.clone_from(&meter.recordings);
    }

    pub(crate) fn note(&mut self, text: impl Into<String>) {
        if self.timeline.len() == TIMELINE_ENTRIES {
            self.timeline.pop_front();
        }
        self.timeline.push_back(TimelineEntry {
            at_ms: millis(self.opened.elapsed()),
            text: text.into(),
        });
    }

    pub(crate) fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    #[cfg(feature = "gui")]
    /// Bytes a second over the stream's life so far.
    pub(crate) fn bytes_per_sec(&self) -> f64 {
        let secs = self
            .duration_ms
            .map_or_else(|| self.opened.elapsed().as_secs_f64(), |ms| ms / 1000.0);
        if secs > 0.0 {
            self.bytes as f64 / secs
        } else {
            0.0
        }
    }

    pub fn summary(&self) -> StreamSummary {
        StreamSummary {
            protocol: self.protocol.map(|p| p.name().to_string()),
            path: self.path.clone(),
            remote: self.remote.clone(),
            stream_id: self.stream_id.clone(),
            call_control_id: self.call_id.clone(),
            media_format: self.media_format.clone(),
            messages: self.messages.clone(),
            media_problems: self.media_problems.clone(),
            tracks: self
                .tracks
                .iter()
                .map(|(name, t)| (name.clone(), t.summary()))
                .collect(),
            closed: self.closed.clone(),
            duration_ms: self
                .duration_ms
                .unwrap_or_else(|| millis(self.opened.elapsed())),
            mark_round_trip_ms: self.mark_round_trip_ms,
            recordings: self.recordings.clone(),
            request: self.request.clone(),
            custom_parameters: self.custom_parameters.clone(),
        }
    }
}

/// One stream in the `listen` summary (docs/streams.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamSummary {
    pub protocol: Option<String>,
    pub path: String,
    pub remote: String,
    pub stream_id: Option<String>,
    pub call_control_id: Option<String>,
    pub media_format: Option<MediaFormat>,
    pub messages: MessageCounts,
    #[serde(default)]
    pub media_problems: MediaProblems,
    pub tracks: BTreeMap<String, TrackSummary>,
    pub closed: Option<Closed>,
    pub duration_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_round_trip_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recordings: Vec<String>,
    /// The upgrade request as the provider sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<UpgradeSeen>,
    /// What the stream was started with (`custom_parameters`): a test stream's tag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_parameters: BTreeMap<String, String>,
}

/// A listener keeps every open stream and at least this many of the newest closed streams,
/// webhooks and findings: a deployed one runs for weeks.
pub(crate) const KEEP_CLOSED: usize = 1000;
/// Trimming waits for this many more, so it runs once per hundred arrivals, not on each.
const TRIM_SLACK: usize = KEEP_CLOSED / 10;

/// How many of the oldest records a listener let go to stay bounded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    pub streams: u64,
    pub webhooks: u64,
    pub findings: u64,
}

impl Dropped {
    pub(crate) fn any(&self) -> bool {
        self.streams + self.webhooks + self.findings > 0
    }
}

/// Everything a listener has seen, bounded: see `KEEP_CLOSED`.
#[derive(Debug, Default)]
pub struct LiveStreams {
    /// In order of arrival (so of `number`), the oldest closed ones trimmed.
    pub streams: Vec<StreamState>,
    /// Requests turned away (wrong path or token, not an upgrade, too many connections).
    pub refused: u64,
    pub webhooks: Vec<WebhookRecord>,
    pub findings: Vec<Finding>,
    pub dropped: Dropped,
    /// Streams ever opened here, trimmed ones included.
    opened: u64,
    /// The number of the newest event applied (`apply`).
    pub(crate) applied: u64,
}

impl LiveStreams {
    /// The number the next stream gets: one more than every stream ever opened.
    pub(crate) fn next_number(&self) -> u64 {
        self.opened + 1
    }

    /// Keeps a new stream (numbered by `next_number` or, for a mirror, by the remote listener).
    pub(crate) fn add_stream(&mut self, state: StreamState) {
        self.opened = self.opened.max(state.number);
        self.streams.push(state);
        let closed = self.streams.iter().filter(|s| !s.is_open()).count();
        if closed > KEEP_CLOSED + TRIM_SLACK {
            let mut surplus = closed - KEEP_CLOSED;
            self.dropped.streams += surplus as u64;
            self.streams.retain(|s| {
                let drop = surplus > 0 && !s.is_open();
                surplus -= usize::from(drop);
                !drop
            });
        }
    }

    /// Stream `number`, if it is still kept.
    pub(crate) fn stream_mut(&mut self, number: u64) -> Option<&mut StreamState> {
        // Numbers grow with arrival, so a binary search finds it; a mirror may have been told of
        // two streams out of order, which the scan from the newest still finds.
        match self.streams.binary_search_by_key(&number, |s| s.number) {
            Ok(at) => self.streams.get_mut(at),
            Err(_) => self.streams.iter_mut().rev().find(|s| s.number == number),
        }
    }

    pub(crate) fn add_webhook(&mut self, record: WebhookRecord) {
        self.webhooks.push(record);
        self.dropped.webhooks += trim(&mut self.webhooks);
    }

    pub(crate) fn add_finding(&mut self, finding: Finding) {
        self.findings.push(finding);
        self.dropped.findings += trim(&mut self.findings);
    }
}

/// Lets the oldest of `kept` go once it holds `TRIM_SLACK` more than `KEEP_CLOSED`; how many.
fn trim<T>(kept: &mut Vec<T>) -> u64 {
    if kept.len() <= KEEP_CLOSED + TRIM_SLACK {
        return 0;
    }
    let surplus = kept.len() - KEEP_CLOSED;
    kept.drain(..surplus);
    surplus as u64
}

pub(crate) type LiveStore = Arc<Mutex<LiveStreams>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn point(at_ms: f64, rms: f64) -> LevelPoint {
        LevelPoint {
            at_ms,
            rms_dbfs: Some(rms),
            peak_dbfs: Some(rms + 3.0),
        }
    }

    #[test]
    fn a_long_running_listener_keeps_every_open_stream_and_the_newest_closed_ones() {
        let mut live = LiveStreams::default();
        let open = [3, 1500, 2999];
        for _ in 0..3000 {
            let number = live.next_number();
            live.add_stream(StreamState::new(number, "/a".into(), "r".into()));
            if !open.contains(&number) {
                let stream = live.stream_mut(number).expect("just added");
                stream.closed = Some(Closed::new(ClosedBy::Remote, Some(1000), ""));
            }
            live.add_webhook(WebhookRecord::unread(
                Provider::Telnyx,
                format!("hook {number}"),
                time::OffsetDateTime::UNIX_EPOCH,
            ));
        }
        let closed = live.streams.iter().filter(|s| !s.is_open()).count();
        assert!(
            (KEEP_CLOSED..=KEEP_CLOSED + TRIM_SLACK).contains(&closed),
            "{closed}"
        );
        for number in open {
            assert!(
                live.stream_mut(number).is_some_and(|s| s.is_open()),
                "{number}"
            );
        }
        let newest = live.streams.last().expect("kept").number;
        assert_eq!(newest, 3000);
        assert_eq!(live.next_number(), 3001, "numbers go on after trimming");
        assert_eq!(
            live.dropped.streams as usize + live.streams.len(),
            3000,
            "every stream is kept or counted"
        );
        assert!(live.stream_mut(4).is_none(), "the oldest closed went first");
        assert!(live.webhooks.len() >= KEEP_CLOSED);
        assert_eq!(live.dropped.webhooks as usize + live.webhooks.len(), 3000);
        assert_eq!(
            live.webhooks.last().and_then(|w| w.problem.as_deref()),
            Some("hook 3000")
        );
    }

    #[test]
    fn history_stays_bounded_and_keeps_the_loudest() {
        let mut history = History::default();
        for i in 0..(HISTORY_POINTS * 8) {
            let rms = if i == 5000 { -1.0 } else { -40.0 };
            history.push(point(i as f64 * 20.0, rms));
        }
        assert!(
            history.points.len() <= HISTORY_POINTS,
            "{}",
            history.points.len()
        );
        assert!(history.bucket_frames >= 8);
        let loudest = history
            .points
            .iter()
            .filter_map(|p| p.rms_dbfs)
            .fold(f64::MIN, f64::max);
        assert_eq!(loudest, -1.0, "a one-frame burst survives decimation");
    }

    #[test]
    fn gaps_and_reordering_are_counted_apart() {
        let mut track = TrackState::default();
        for chunk in [1, 2, 3, 6, 5, 7] {
            track.note_chunk(chunk);
        }
        assert_eq!((track.sequence_gaps, track.out_of_order), (2, 1));
    }

    #[test]
    fn recent_levels_keep_30_seconds() {
        let mut track = TrackState::default();
        for i in 0..(RECENT_POINTS + 10) {
            track.push_level(point(i as f64 * 20.0, -20.0));
        }
        assert_eq!(track.recent.len(), RECENT_POINTS);
        assert_eq!(track.recent.front().map(|p| p.at_ms), Some(200.0));
    }
}

/// What a stream's messages are counted as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MessageKind {
    Connected,
    Start,
    Media,
    Stop,
    Dtmf,
    Mark,
    /// Provider errors and events this tool does not know.
    Other,
    /// Text that is not a provider message.
    Invalid,
    /// Binary frames, which no provider sends.
    Binary,
}

/// What `listen` prints at the end (docs/streams.md).
#[derive(Clone, Debug, Serialize)]
pub struct ListenSummary {
    pub listen: String,
    pub refused: u64,
    pub streams: Vec<StreamSummary>,
    /// In arrival order, one record per POST.
    pub webhooks: Vec<WebhookRecord>,
    /// What the webhooks and the streams say together (`provider.*`), as raised; written as
    /// cause records by the renderers, which know the fixes.
    #[serde(skip)]
    pub findings: Vec<Finding>,
    /// How many of the oldest closed streams, webhooks and findings were let go while the
    /// listener ran (it keeps every open stream and the newest `KEEP_CLOSED` of each).
    pub dropped: Dropped,
}
