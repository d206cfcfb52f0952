//! One stream as the listener sees it, without a socket: fed the stream's frames with their
//! arrival times, it recognises the provider, decodes and meters every media frame into the
//! stream's live record, counts what is wrong, and says what to tell a person and what to send
//! back. Unit tests drive it frame by frame; the listener's socket loop feeds it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine;

use crate::audio::meter::{LevelPoint, Summary};
use crate::audio::wav::Recorder;
use crate::audio::{Codec, Decoder, Encoder, tone};
use crate::catalog::Provider;
use crate::clock::millis;
use crate::records::event::Happening;
use crate::records::live::TrackState;
use crate::records::live::{MediaFormat, MessageKind, StreamState};
use crate::secret::Redactor;
use crate::stream::script::{FRAME_MS, reply_mark, reply_media};
use crate::stream::{Inbound, MediaRef, Read, StartInfo};

/// A frame arriving this much later than its media timestamp says, beyond the stream's most
/// punctual frame, is late.
pub(crate) const LATE_AFTER_MS: f64 = 200.0;
/// The name of the `mark` sent after the reply tone.
pub(crate) const REPLY_MARK: &str = "stream-doctor-tone";

/// What the reply tone is sent as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReplyMode {
    /// The call's codec in 20 ms frames: Telnyx started with `stream_bidirectional_mode=rtp`,
    /// and Twilio, which takes nothing else.
    #[default]
    Rtp,
    /// One base64 MP3 message: Telnyx started without `stream_bidirectional_mode` plays MP3,
    /// at most one message a second.
    Mp3,
}

/// A second of 660 Hz, 8 kHz mono MP3 at 16 kbit/s, made once by `scripts/make-reply-tone`.
const REPLY_TONE_MP3: &[u8] = include_bytes!("../../assets/reply-tone.mp3");

#[derive(Clone, Debug, Default)]
pub struct ReceiverOptions {
    /// Send a second of tone back as `media` frames, then a `mark`, once a stream starts.
    pub reply_tone: bool,
    pub reply_mode: ReplyMode,
    /// Write one WAV per track into this folder.
    pub record_dir: Option<PathBuf>,
    /// What recording names must not show (a stream id or track name may echo the token).
    pub redactor: Arc<Redactor>,
}

/// A message to send back to the provider.
#[derive(Clone, Debug, PartialEq)]
pub enum Outgoing {
    Media(String),
    /// The mark after the reply tone: its round trip is timed from when it goes out.
    Mark(String),
}

/// What one frame asks of the socket loop.
#[derive(Debug, Default, PartialEq)]
pub struct Step {
    /// What the frame said, in order, for the listener to publish.
    pub said: Vec<Happening>,
    /// Messages to send back, in order.
    pub replies: Vec<Outgoing>,
    /// The call and stream ids a `start` carried, when this frame was one.
    pub started: Option<(Option<String>, Option<String>)>,
    /// This frame was the provider's `stop`.
    pub stopped: bool,
}

struct Track {
    decoder: Decoder,
    recorder: Option<Recorder>,
    /// Why the recording could not start or stopped, until it has been told.
    recording_failed: Option<String>,
}

/// How late the sender is. Each frame's offset is its arrival minus its media timestamp; the
/// smallest offset seen is the stream's punctual baseline, and a frame whose offset exceeds it
/// by more than `LATE_AFTER_MS` is late. Arrival times come from the socket loop, which stamps
/// a frame that was already waiting with the last time it had to wait for data, so the
/// listener's own lag never counts against the sender.
#[derive(Default)]
struct Lateness {
    origin: Option<Instant>,
    baseline_ms: Option<f64>,
}

impl Lateness {
    fn is_late(&mut self, arrived: Instant, timestamp_ms: u64) -> bool {
        let origin = *self.origin.get_or_insert(arrived);
        let offset = millis(arrived.saturating_duration_since(origin)) - timestamp_ms as f64;
        let baseline = self.baseline_ms.map_or(offset, |b| b.min(offset));
        self.baseline_ms = Some(baseline);
        offset - baseline > LATE_AFTER_MS
    }
}

pub struct Receiver {
    options: ReceiverOptions,
    /// Order of arrival at the listener, for recording names.
    number: u64,
    provider: Option<Provider>,
    codec: Option<Codec>,
    rate_hz: u32,
    stream_id: String,
    /// A `start` came: media before it cannot be measured.
    started: bool,
    /// A stream has one or two tracks: comparing their names costs less than hashing one.
    tracks: BTreeMap<String, Track>,
    lateness: Lateness,
    mark_sent: Option<Instant>,
    /// A frame's bytes and samples, kept between frames so reading one allocates nothing.
    payload: Vec<u8>,
    samples: Vec<i16>,
}

/// Keeps `text` as a line of the stream's timeline, for the listener to publish.
fn say(step: &mut Step, text: String) {
    step.said.push(Happening::Note { text });
}

impl Receiver {
    pub fn new(number: u64, options: ReceiverOptions) -> Self {
        Self {
            options,
            number,
            provider: None,
            codec: None,
            rate_hz: 8000,
            stream_id: String::new(),
            started: false,
            tracks: BTreeMap::new(),
            lateness: Lateness::default(),
            mark_sent: None,
            payload: Vec::new(),
            samples: Vec::new(),
        }
    }

    /// The reply mark went out at `at`.
    pub(crate) fn mark_sent(&mut self, at: Instant) {
        self.mark_sent = Some(at);
    }

    /// A binary frame: no provider sends one; counted, and said once.
    pub fn binary(&mut self, len: usize, live: &mut StreamState) -> Step {
        let mut step = Step::default();
        live.bytes += len as u64;
        live.messages.count(MessageKind::Binary);
        if live.messages.binary == 1 {
            let text = format!("binary frame ({len} bytes): not part of the protocol, counted");
            say(&mut step, text);
        }
        step
    }

    /// A text frame that reached the listener at `arrived`.
    pub fn text(&mut self, text: &str, arrived: Instant, live: &mut StreamState) -> Step {
        let mut step = Step::default();
        live.bytes += text.len() as u64;
        let (provider, read) = match crate::stream::read(text, self.provider) {
            Ok(parsed) => parsed,
            Err(e) => {
                live.messages.count(MessageKind::Invalid);
                let count = live.messages.invalid;
                if count <= 5 || count.is_multiple_of(100) {
                    let excerpt: String = text.chars().take(60).collect();
                    let line = format!("invalid message #{count}: {e} ({excerpt:?})");
                    say(&mut step, line);
                }
                return step;
            }
        };
        if self.provider.is_none()
            && let Some(p) = provider
        {
            self.provider = Some(p);
            live.protocol = Some(p);
            say(&mut step, format!("protocol: {}", p.name()));
        }
        let inbound = match read {
            Read::Media(media) => {
                live.messages.count(MessageKind::Media);
                self.media(&media, arrived, live, &mut step);
                return step;
            }
            Read::Message(inbound) => inbound,
        };
        live.messages.count(inbound.kind());
        match inbound {
            Inbound::Connected => say(&mut step, "connected".into()),
            Inbound::Start(info) => self.start(info, live, &mut step),
            Inbound::Media(media) => self.media(&media.as_ref(), arrived, live, &mut step),
            Inbound::Stop => {
                step.stopped = true;
                step.said.push(Happening::Stop);
                for line in self.finish(live) {
                    say(&mut step, line);
                }
            }
            Inbound::Dtmf(digit) => say(&mut step, format!("dtmf '{digit}'")),
            Inbound::Mark(name) => {
                let round_trip = self
                    .mark_sent
                    .filter(|_| name == REPLY_MARK)
                    .map(|sent| millis(arrived.saturating_duration_since(sent)));
                let line = match round_trip {
                    Some(ms) => {
                        live.mark_round_trip_ms = Some(ms);
                        format!("mark '{name}' returned {ms:.0} ms after it was sent")
                    }
                    None => format!("mark '{name}'"),
                };
                say(&mut step, line);
            }
            Inbound::Error(detail) => say(&mut step, format!("error from the provider: {detail}")),
            Inbound::Unknown(event) => say(&mut step, format!("unknown event '{event}': counted")),
        }
        step
    }

    /// Closes the recordings; what was written, for the timeline.
    pub(crate) fn finish(&mut self, live: &mut StreamState) -> Vec<String> {
        let mut written = Vec::new();
        for track in self.tracks.values_mut() {
            if let Some(recorder) = track.recorder.take() {
                match recorder.finish() {
                    Ok(path) => written.push(path.display().to_string()),
                    Err(e) => written.push(format!("recording failed: {e}")),
                }
            }
        }
        written.sort();
        live.recordings.extend(written.iter().cloned());
        written
            .into_iter()
            .map(|path| format!("recorded {path}"))
            .collect()
    }

    fn start(&mut self, info: StartInfo, live: &mut StreamState, step: &mut Step) {
        let encoding = info.encoding.clone().unwrap_or_else(|| "(none)".into());
        let codec = Codec::from_encoding(&encoding);
        let announced = info.sample_rate.unwrap_or(8000);
        self.codec = codec;
        self.rate_hz = codec.map_or(announced, |c| c.audio_rate(announced));
        self.stream_id = info.stream_id.clone().unwrap_or_default();
        self.tracks.clear();
        self.started = true;
        step.started = Some((info.call_id.clone(), info.stream_id.clone()));
        step.said.push(Happening::Start {
            protocol: live.protocol.map(|p| p.name().to_string()),
            stream_id: info.stream_id,
            call_id: info.call_id,
            media_format: Some(MediaFormat {
                encoding: encoding.clone(),
                sample_rate: announced,
                channels: info.channels.unwrap_or(1),
            }),
            custom_parameters: info.custom_parameters,
        });
        if codec.is_none() {
            let text = format!(
                "{encoding} is a codec this tool cannot decode: frames are counted, not measured"
            );
            say(step, text);
        }
        let mp3 = self.options.reply_mode == ReplyMode::Mp3;
        if self.options.reply_tone && mp3 && self.provider == Some(Provider::Telnyx) {
            let engine = base64::engine::general_purpose::STANDARD;
            let payload = engine.encode(REPLY_TONE_MP3);
            let text = reply_media(Provider::Telnyx, &self.stream_id, &payload);
            step.replies.push(Outgoing::Media(text));
            let mark = reply_mark(Provider::Telnyx, &self.stream_id, REPLY_MARK);
            step.replies.push(Outgoing::Mark(mark));
            say(
                step,
                "replying with a second of MP3 tone (one message) and a mark".into(),
            );
        } else if self.options.reply_tone
            && let Some(codec) = codec
        {
            if mp3 {
                let text = "this provider takes its own codec back, never MP3: replying in it";
                say(step, text.into());
            }
            self.reply_tone(codec, step);
            say(step, "replying with a second of tone and a mark".into());
        }
    }

    fn reply_tone(&mut self, codec: Codec, step: &mut Step) {
        let samples_per_frame = (self.rate_hz as usize * FRAME_MS as usize) / 1000;
        let mut encoder = Encoder::new(codec);
        let engine = base64::engine::general_purpose::STANDARD;
        let provider = self.provider.unwrap_or(crate::stream::DEFAULT_PROVIDER);
        let samples = tone(660.0, 0.3, self.rate_hz, samples_per_frame * 50);
        for frame in samples.chunks(samples_per_frame) {
            let payload = engine.encode(encoder.encode(frame));
            let text = reply_media(provider, &self.stream_id, &payload);
            step.replies.push(Outgoing::Media(text));
        }
        let mark = reply_mark(provider, &self.stream_id, REPLY_MARK);
        step.replies.push(Outgoing::Mark(mark));
    }

    /// Says `text` only the first time a problem is counted.
    fn first_time(count: u64, text: impl FnOnce() -> String, step: &mut Step) {
        if count == 1 {
            say(step, text());
        }
    }

    fn media(
        &mut self,
        media: &MediaRef<'_>,
        arrived: Instant,
        live: &mut StreamState,
        step: &mut Step,
    ) {
        if !self.started {
            live.media_problems.before_start += 1;
            let count = live.media_problems.before_start;
            let text = || "media before start: no format yet, not measured".to_string();
            Self::first_time(count, text, step);
            return;
        }
        let engine = base64::engine::general_purpose::STANDARD;
        self.payload.clear();
        if let Err(e) = engine.decode_vec(media.payload_b64.as_bytes(), &mut self.payload) {
            live.media_problems.bad_base64 += 1;
            let count = live.media_problems.bad_base64;
            let text = || format!("media payload is not base64 ({e}): counted");
            Self::first_time(count, text, step);
            return;
        }
        let name: &str = &media.track;
        let Some(codec) = self.codec else {
            live.media_problems.undecodable_codec += 1;
            track_state(live, name).frames += 1;
            return;
        };
        if codec == Codec::L16 && self.payload.len() % 2 == 1 {
            live.media_problems.odd_length += 1;
            let count = live.media_problems.odd_length;
            let length = self.payload.len();
            let text =
                || format!("L16 payload of odd length ({length} bytes): the last byte is dropped");
            Self::first_time(count, text, step);
        }
        let rate_hz = self.rate_hz;
        let mut samples = std::mem::take(&mut self.samples);
        let payload = std::mem::take(&mut self.payload);
        let recording_failed = self.track(name, codec).decode_into(&payload, &mut samples);
        self.payload = payload;
        if let Some(why) = recording_failed {
            let why = self.options.redactor.mask(&why);
            live.recordings.push(why.clone());
            say(step, why);
        }
        let late = media
            .timestamp_ms
            .is_some_and(|ts| self.lateness.is_late(arrived, ts));
        let at_ms = media.timestamp_ms.map_or_else(
            || {
                let origin = *self.lateness.origin.get_or_insert(arrived);
                millis(arrived.saturating_duration_since(origin))
            },
            |ts| ts as f64,
        );
        let track = track_state(live, name);
        track.rate_hz = rate_hz;
        track.frames += 1;
        let frame = Summary::of(&samples);
        track.summary.merge(&frame);
        track.push_level(LevelPoint::measured(at_ms, &frame));
        self.samples = samples;
        if late {
            track.late_frames += 1;
        }
        let gaps_before = track.sequence_gaps;
        if let Some(chunk) = media.chunk.or(media.sequence) {
            track.note_chunk(chunk);
        }
        let missing = track.sequence_gaps - gaps_before;
        if missing > 0 {
            let text = format!("sequence gap on {name}: {missing} frame(s) missing");
            say(step, text);
        }
    }

    /// The decoder (and recorder) of `name`, made on its first frame.
    fn track(&mut self, name: &str, codec: Codec) -> TrackDecoder<'_> {
        // Looked up first: the name is copied only the first time a track is seen.
        if self.tracks.contains_key(name) {
            return TrackDecoder(self.tracks.get_mut(name).expect("present: just looked"));
        }
        let recording = self.options.record_dir.as_ref().map(|dir| {
            let redactor = &self.options.redactor;
            let stream = file_part(&redactor.mask(&self.stream_id), "stream");
            let track = file_part(&redactor.mask(name), "track");
            Recorder::create(
                dir.join(format!("{:03}-{stream}-{track}.wav", self.number)),
                self.rate_hz,
            )
            .map_err(|e| format!("recording {name} could not start: {e}"))
        });
        let (recorder, recording_failed) = match recording {
            Some(Ok(recorder)) => (Some(recorder), None),
            Some(Err(why)) => (None, Some(why)),
            None => (None, None),
        };
        let track = self
            .tracks
            .entry(name.to_string())
            .or_insert_with(|| Track {
                decoder: Decoder::new(codec),
                recorder,
                recording_failed,
            });
        TrackDecoder(track)
    }
}

/// A stream id or track name as part of a file name: what a peer sent, so only letters,
/// digits, `-` and `_` (no separator, no `..`), at most 40 of them.
fn file_part(raw: &str, instead: &str) -> String {
    let part: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(40)
        .collect();
    if part.is_empty() {
        instead.to_string()
    } else {
        part
    }
}

/// Decodes a track's payload and writes it to the track's recording, if any.
struct TrackDecoder<'a>(&'a mut Track);

impl TrackDecoder<'_> {
    /// Decodes into `samples` and records them; a recording that could not start or just
    /// failed is said once, never dropped in silence.
    fn decode_into(self, payload: &[u8], samples: &mut Vec<i16>) -> Option<String> {
        let track = self.0;
        track.decoder.decode_into(payload, samples);
        if let Some(recorder) = track.recorder.as_mut()
            && let Err(e) = recorder.write(samples)
        {
            track.recorder = None;
            track.recording_failed = Some(format!("recording stopped: {e}"));
        }
        track.recording_failed.take()
    }
}

/// The live record of track `name`, made on its first frame (the name copied only then).
fn track_state<'a>(live: &'a mut StreamState, name: &str) -> &'a mut TrackState {
    if !live.tracks.contains_key(name) {
        live.tracks.insert(name.to_string(), TrackState::default());
    }
    live.tracks.get_mut(name).expect("present: just made")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::stream::script::Script;

    fn live() -> StreamState {
        StreamState::new(1, "/a".into(), "127.0.0.1:1".into())
    }

    impl Step {
        fn lines(&self) -> Vec<String> {
            self.said.iter().map(ToString::to_string).collect()
        }
    }

    fn started(provider: Provider, options: ReceiverOptions) -> (Receiver, Script, StreamState) {
        let mut receiver = Receiver::new(1, options);
        let mut script = Script::new(provider);
        let mut live = live();
        let now = Instant::now();
        receiver.text(&script.connected(None), now, &mut live);
        receiver.text(
            &script.start(Codec::Pcmu, 8000, &["inbound"]),
            now,
            &mut live,
        );
        (receiver, script, live)
    }

    #[test]
    fn a_recording_that_cannot_be_made_is_said_once_and_names_stay_inside_the_folder() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let gone = dir.path().join("removed");
        let options = ReceiverOptions {
            record_dir: Some(gone.clone()),
            redactor: Arc::new(Redactor::of(["t0ken-in-a-name"])),
            ..ReceiverOptions::default()
        };
        let (mut receiver, mut script, mut live) = started(Provider::Telnyx, options);
        let mut encoder = Encoder::new(Codec::Pcmu);
        let frame = encoder.encode(&tone(440.0, 0.5, 8000, 160));
        let first = receiver.text(
            &script.media("inbound", 1, &frame),
            Instant::now(),
            &mut live,
        );
        let lines = first.lines();
        let said: Vec<&String> = lines
            .iter()
            .filter(|e| e.contains("recording inbound could not start"))
            .collect();
        assert_eq!(said.len(), 1, "{lines:?}");
        assert!(
            live.recordings
                .iter()
                .any(|r| r.contains("could not start"))
        );
        let second = receiver.text(
            &script.media("inbound", 2, &frame),
            Instant::now(),
            &mut live,
        );
        assert!(second.said.is_empty(), "said once: {:?}", second.said);
        assert_eq!(
            live.tracks["inbound"].frames, 2,
            "the stream goes on unrecorded"
        );

        // A track name from the peer never leaves the folder, and a secret in it is masked.
        let options = ReceiverOptions {
            record_dir: Some(dir.path().to_path_buf()),
            redactor: Arc::new(Redactor::of(["t0ken-in-a-name"])),
            ..ReceiverOptions::default()
        };
        let (mut receiver, mut script, mut live) = started(Provider::Telnyx, options);
        for name in ["../../escape", "t0ken-in-a-name"] {
            receiver.text(&script.media(name, 1, &frame), Instant::now(), &mut live);
        }
        receiver.finish(&mut live);
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("the folder")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".wav"))
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(
            names
                .iter()
                .all(|n| !n.contains("..") && !n.contains("t0ken")),
            "{names:?}"
        );
        assert!(
            names.iter().any(|n| n.ends_with("-escape.wav")),
            "{names:?}"
        );
        assert!(
            !dir.path()
                .parent()
                .expect("parent")
                .join("escape.wav")
                .exists()
        );
    }

    #[test]
    fn a_stream_is_recognised_counted_and_metered() {
        for provider in Provider::ALL {
            let (mut receiver, mut script, mut live) =
                started(provider, ReceiverOptions::default());
            let origin = Instant::now();
            let mut encoder = Encoder::new(Codec::Pcmu);
            let frame = tone(440.0, 0.5, 8000, 160);
            for chunk in 1..=10u64 {
                let media = script.media("inbound", chunk, &encoder.encode(&frame));
                let arrived = origin + Duration::from_millis(chunk * 20);
                receiver.text(&media, arrived, &mut live);
            }
            let step = receiver.text(&script.stop(), origin, &mut live);
            assert_eq!(live.protocol, Some(provider));
            assert_eq!(
                (
                    live.messages.connected,
                    live.messages.start,
                    live.messages.media
                ),
                (1, 1, 10)
            );
            let track = &live.tracks["inbound"];
            assert_eq!(
                (track.frames, track.late_frames, track.sequence_gaps),
                (10, 0, 0)
            );
            let rms = track.summary.rms_dbfs().expect("a level");
            assert!((rms - -9.0).abs() < 0.2, "{rms}");
            assert!(step.stopped, "{step:?}");
            assert_eq!(step.said, [Happening::Stop]);
            assert!(
                live.timeline.is_empty(),
                "the timeline is the reducer's, from the published events"
            );
        }
    }

    /// Lateness is the sender's: a frame sent 500 ms behind its timestamp is late, frames the
    /// listener read late from its own backlog (stamped with when it last waited) are not.
    #[test]
    fn late_frames_are_the_senders_not_the_listeners() {
        let (mut receiver, mut script, mut live) =
            started(Provider::Telnyx, ReceiverOptions::default());
        let origin = Instant::now();
        let payload = [0xffu8; 160];
        for chunk in 1..=20u64 {
            let delay = if chunk == 8 { 500 } else { 0 };
            let arrived = origin + Duration::from_millis(chunk * 20 + delay);
            receiver.text(
                &script.media("inbound", chunk, &payload),
                arrived,
                &mut live,
            );
        }
        assert_eq!(live.tracks["inbound"].late_frames, 1);
        // A backlog: thirty frames the listener got to at once, stamped with its last wait.
        let backlog = origin + Duration::from_millis(21 * 20);
        for chunk in 21..=50u64 {
            receiver.text(
                &script.media("inbound", chunk, &payload),
                backlog,
                &mut live,
            );
        }
        assert_eq!(live.tracks["inbound"].late_frames, 1);
    }

    #[test]
    fn bad_input_is_counted_and_said_once() {
        let mut receiver = Receiver::new(1, ReceiverOptions::default());
        let mut live = live();
        let now = Instant::now();
        let early = r#"{"event":"media","stream_id":"S","media":{"payload":"AAAA"}}"#;
        assert_eq!(
            receiver.text(early, now, &mut live).lines(),
            [
                "protocol: telnyx",
                "media before start: no format yet, not measured"
            ]
        );
        assert!(receiver.text(early, now, &mut live).said.is_empty());
        let unknown = receiver.text(r#"{"event":"surprise"}"#, now, &mut live);
        assert_eq!(unknown.lines(), ["unknown event 'surprise': counted"]);
        receiver.text("not json", now, &mut live);
        receiver.binary(3, &mut live);
        assert!(receiver.binary(3, &mut live).said.is_empty());
        let m = &live.messages;
        assert_eq!((m.media, m.other, m.invalid, m.binary), (2, 1, 1, 2));
        assert_eq!(live.media_problems.before_start, 2);
    }

    #[test]
    fn the_reply_tone_ends_with_a_mark_whose_round_trip_is_timed() {
        let options = ReceiverOptions {
            reply_tone: true,
            ..ReceiverOptions::default()
        };
        let mut receiver = Receiver::new(1, options);
        let mut script = Script::new(Provider::Twilio);
        let mut live = live();
        let now = Instant::now();
        let step = receiver.text(
            &script.start(Codec::Pcmu, 8000, &["inbound"]),
            now,
            &mut live,
        );
        assert_eq!(step.replies.len(), 51);
        let Some(Outgoing::Mark(mark)) = step.replies.last() else {
            panic!("no mark last: {:?}", step.replies.last());
        };
        assert!(
            mark.contains(&script.ids.stream_id),
            "Twilio replies name the stream"
        );
        receiver.mark_sent(now);
        let back = script.mark(REPLY_MARK);
        receiver.text(&back, now + Duration::from_millis(120), &mut live);
        assert_eq!(live.mark_round_trip_ms, Some(120.0));
    }
}
