//! Media streams from the provider's side: the providers' protocols (`protocol`, one file per
//! provider), the messages of one stream in order (`script`), and the provider's side of a
//! stream (`caller`, which `replay` and the `provider` check both run). The server's side (the
//! listener and everything beside it) is `server`'s.
//! Messages from either provider are read into one provider-neutral shape, `Inbound`.

pub mod caller;
mod flex;
pub mod protocol;
pub mod replay;
mod scan;
pub mod script;
pub mod telnyx;
pub mod twilio;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use self::protocol::Protocol;
use crate::catalog::Provider;
use crate::records::live::MessageKind;

/// Every provider's protocol: adding a provider adds its file and its line here.
static PROTOCOLS: [&dyn Protocol; 2] = [&telnyx::Telnyx, &twilio::Twilio];

/// Whose shapes a message is read in when nothing in it, or before it, says.
pub(crate) const DEFAULT_PROVIDER: Provider = Provider::Telnyx;

impl Provider {
    /// How this provider writes and reads its messages.
    pub(crate) fn protocol(self) -> &'static dyn Protocol {
        PROTOCOLS
            .iter()
            .copied()
            .find(|p| p.provider() == self)
            .unwrap_or(PROTOCOLS[0])
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartInfo {
    pub stream_id: Option<String>,
    pub call_id: Option<String>,
    pub encoding: Option<String>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u32>,
    /// What the stream was started with (`custom_parameters`, TeXML's `<Parameter>`, Twilio's
    /// `customParameters`), to tell a test stream from others.
    pub custom_parameters: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Media {
    pub track: String,
    pub sequence: Option<u64>,
    pub chunk: Option<u64>,
    pub timestamp_ms: Option<u64>,
    pub payload_b64: String,
}

/// A `media` message as read in place: its strings borrowed from the frame's text (unless
/// JSON escapes made a copy necessary), so a frame costs no allocation to read.
#[derive(Clone, Debug, PartialEq)]
pub struct MediaRef<'a> {
    pub track: Cow<'a, str>,
    pub sequence: Option<u64>,
    pub chunk: Option<u64>,
    pub timestamp_ms: Option<u64>,
    pub payload_b64: Cow<'a, str>,
}

impl Media {
    pub fn as_ref(&self) -> MediaRef<'_> {
        MediaRef {
            track: Cow::Borrowed(&self.track),
            sequence: self.sequence,
            chunk: self.chunk,
            timestamp_ms: self.timestamp_ms,
            payload_b64: Cow::Borrowed(&self.payload_b64),
        }
    }
}

/// One text frame read: a media frame in place, or any message.
#[derive(Clone, Debug, PartialEq)]
pub enum Read<'a> {
    Media(MediaRef<'a>),
    Message(Inbound),
}

/// A message from the provider, whichever provider sent it.
#[derive(Clone, Debug, PartialEq)]
pub enum Inbound {
    Connected,
    Start(StartInfo),
    Media(Media),
    Stop,
    Dtmf(String),
    Mark(String),
    Error(String),
    /// An event this tool does not know, by its name.
    Unknown(String),
}

impl Inbound {
    pub(crate) fn kind(&self) -> MessageKind {
        match self {
            Inbound::Connected => MessageKind::Connected,
            Inbound::Start(_) => MessageKind::Start,
            Inbound::Media(_) => MessageKind::Media,
            Inbound::Stop => MessageKind::Stop,
            Inbound::Dtmf(_) => MessageKind::Dtmf,
            Inbound::Mark(_) => MessageKind::Mark,
            Inbound::Error(_) | Inbound::Unknown(_) => MessageKind::Other,
        }
    }
}

/// A message the server sends back to the provider on a bidirectional stream.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Media,
    Mark(String),
    Clear,
    /// Any other event, by its name.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("JSON of the wrong shape: {0}")]
    WrongShape(String),
}

/// The object and its `event` name, or why the text is not a stream message.
fn event_object(text: &str) -> Result<(Value, String), ParseError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| ParseError::NotJson(e.to_string()))?;
    let event = value
        .get("event")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ParseError::WrongShape("no \"event\" field".into()))?;
    Ok((value, event))
}

/// Which provider wrote this object, where its field names tell.
pub(crate) fn detect(value: &Value) -> Option<Provider> {
    Provider::ALL.into_iter().find(|p| {
        let keys = p.protocol().keys();
        value.get(keys.stream_id).is_some() || value.get(keys.sequence).is_some()
    })
}

/// Reads one text frame; `known` is the provider seen so far, used when this frame does not say.
pub fn parse(
    text: &str,
    known: Option<Provider>,
) -> Result<(Option<Provider>, Inbound), ParseError> {
    let (value, event) = event_object(text)?;
    let provider = detect(&value).or(known);
    let protocol = provider.unwrap_or(DEFAULT_PROVIDER).protocol();
    let inbound = protocol::read(protocol.keys(), &value, event)?;
    Ok((provider, inbound))
}

/// The fields of a `media` frame, read without building a JSON tree. The top-level keys that
/// tell the provider (its stream id and sequence number) are each provider's own, from its
/// `Protocol::keys`: the reader knows no provider's field names.
struct MediaFrame<'a> {
    event: Option<Cow<'a, str>>,
    media: Option<MediaFields<'a>>,
    /// Per provider, in `Provider::ALL`'s order: whether its stream id or sequence key was
    /// there, and the number under its sequence key (`None`: none, or not a number). Arrays,
    /// not lists: a frame is read fifty times a second per track and should not allocate.
    owners: [bool; Provider::ALL.len()],
    sequences: [Option<u64>; Provider::ALL.len()],
}

/// Where `provider` stands in `Provider::ALL`.
fn slot(provider: Provider) -> usize {
    Provider::ALL
        .iter()
        .position(|p| *p == provider)
        .unwrap_or_default()
}

/// A top-level key one provider owns.
enum OwnedKey {
    Sequence(Provider),
    StreamId(Provider),
}

/// Whose sequence number or stream id `key` is, if any provider's.
fn owned_key(key: &str) -> Option<OwnedKey> {
    Provider::ALL.into_iter().find_map(|p| {
        let keys = p.protocol().keys();
        if key == keys.sequence {
            Some(OwnedKey::Sequence(p))
        } else if key == keys.stream_id {
            Some(OwnedKey::StreamId(p))
        } else {
            None
        }
    })
}

impl MediaFrame<'_> {
    fn new() -> Self {
        Self {
            event: None,
            media: None,
            owners: [false; Provider::ALL.len()],
            sequences: [None; Provider::ALL.len()],
        }
    }

    /// A key of `provider`'s was there.
    fn owned_by(&mut self, provider: Provider) {
        self.owners[slot(provider)] = true;
    }

    /// `provider`'s sequence key was there, holding `number`; of a key given twice the last
    /// one counts, as in a JSON tree.
    fn sequence(&mut self, provider: Provider, number: Option<u64>) {
        self.owned_by(provider);
        self.sequences[slot(provider)] = number;
    }

    /// The provider the frame names, picked as `detect` picks from a JSON tree: the first of
    /// `Provider::ALL` with a key there, wherever that key stands in the frame.
    fn provider(&self) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| self.owners[slot(*p)])
    }

    fn sequence_of(&self, provider: Provider) -> Option<u64> {
        self.sequences[slot(provider)]
    }
}

/// Reads a frame's top-level object with the providers' keys in hand.
struct MediaFrameSeed;

impl<'de> serde::de::DeserializeSeed<'de> for MediaFrameSeed {
    type Value = MediaFrame<'de>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for MediaFrameSeed {
    type Value = MediaFrame<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a provider's message object")
    }

    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut frame = MediaFrame::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "event" {
                frame.event = Some(map.next_value()?);
                continue;
            }
            if key == "media" {
                frame.media = Some(map.next_value()?);
                continue;
            }
            match owned_key(&key) {
                Some(OwnedKey::Sequence(provider)) => {
                    let sequence: flex::Flexible = map.next_value()?;
                    frame.sequence(provider, sequence.0);
                }
                Some(OwnedKey::StreamId(provider)) => {
                    map.next_value::<IgnoredAny>()?;
                    frame.owned_by(provider);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(frame)
    }
}

#[derive(Deserialize)]
struct MediaFields<'a> {
    #[serde(default, borrow)]
    track: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "flex::flex_u64")]
    chunk: Option<u64>,
    #[serde(default, deserialize_with = "flex::flex_u64")]
    timestamp: Option<u64>,
    #[serde(borrow)]
    payload: Cow<'a, str>,
}

/// The media frame `frame` holds, read as `parse` reads it, with its provider.
fn media_of<'a>(
    frame: MediaFrame<'a>,
    known: Option<Provider>,
) -> Option<(Option<Provider>, MediaRef<'a>)> {
    if frame.event.as_deref() != Some("media") {
        return None;
    }
    let provider = frame.provider().or(known);
    let sequence = frame.sequence_of(provider.unwrap_or(DEFAULT_PROVIDER));
    let media = frame.media?;
    let media = MediaRef {
        // A frame without a track is the inbound one.
        track: media.track.unwrap_or(Cow::Borrowed("inbound")),
        sequence,
        chunk: media.chunk,
        timestamp_ms: media.timestamp,
        payload_b64: media.payload,
    };
    Some((provider, media))
}

/// serde's reading of a frame's top level, in place.
fn serde_frame(text: &str) -> Option<MediaFrame<'_>> {
    let mut reader = serde_json::Deserializer::from_str(text);
    serde::de::DeserializeSeed::deserialize(MediaFrameSeed, &mut reader).ok()
}

/// Reads one text frame as `parse` does, a media frame in place (the frames that come fifty
/// a second per track): by the hand-written scanner, or serde's in-place reading where the
/// scanner gives up; anything else, or a media frame of an odd shape, the full way.
pub fn read(
    text: &str,
    known: Option<Provider>,
) -> Result<(Option<Provider>, Read<'_>), ParseError> {
    let frame = scan::media_frame(text).or_else(|| serde_frame(text));
    if let Some((provider, media)) = frame.and_then(|frame| media_of(frame, known)) {
        return Ok((provider, Read::Media(media)));
    }
    parse(text, known).map(|(provider, inbound)| (provider, Read::Message(inbound)))
}

/// A media frame read both in-place ways: the scanner's reading (`None` where it gives up)
/// beside serde's. They must agree wherever the scanner answers; the fuzz target
/// `provider_messages` holds them to it.
pub type InPlace<'a> = Option<(Option<Provider>, MediaRef<'a>)>;

#[doc(hidden)]
pub fn read_in_place(text: &str) -> (InPlace<'_>, InPlace<'_>) {
    let scanned = scan::media_frame(text).and_then(|frame| media_of(frame, None));
    let serde = serde_frame(text).and_then(|frame| media_of(frame, None));
    (scanned, serde)
}

/// Reads one text frame a server sent back to the provider.
pub fn parse_reply(text: &str) -> Result<Reply, ParseError> {
    let (value, event) = event_object(text)?;
    Ok(match event.as_str() {
        "media" => Reply::Media,
        "mark" => Reply::Mark(protocol::text_at(&value, &["mark", "name"])),
        "clear" => Reply::Clear,
        _ => Reply::Other(event),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telnyx_start_and_media_with_strings_for_numbers() {
        let start = r#"{"event":"start","sequence_number":"1","stream_id":"S1","start":{"call_control_id":"v2:C","media_format":{"encoding":"PCMU","sample_rate":"8000","channels":1},"extra":{"x":1}}}"#;
        let (provider, inbound) = parse(start, None).expect("parses");
        assert_eq!(provider, Some(Provider::Telnyx));
        let Inbound::Start(info) = inbound else {
            panic!("not start")
        };
        assert_eq!(info.stream_id.as_deref(), Some("S1"));
        assert_eq!(info.call_id.as_deref(), Some("v2:C"));
        assert_eq!(
            (info.encoding.as_deref(), info.sample_rate),
            (Some("PCMU"), Some(8000))
        );
        let media = r#"{"event":"media","sequence_number":4,"stream_id":"S1","media":{"track":"inbound","chunk":"2","timestamp":"20","payload":"AAA="}}"#;
        let (_, inbound) = parse(media, None).expect("parses");
        let Inbound::Media(m) = inbound else {
            panic!("not media")
        };
        assert_eq!(
            (m.sequence, m.chunk, m.timestamp_ms),
            (Some(4), Some(2), Some(20))
        );
    }

    #[test]
    fn twilio_is_recognised_by_its_field_names() {
        let start = r#"{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}"#;
        let (provider, inbound) = parse(start, None).expect("parses");
        assert_eq!(provider, Some(Provider::Twilio));
        let Inbound::Start(info) = inbound else {
            panic!("not start")
        };
        assert_eq!(info.stream_id.as_deref(), Some("MZ1"));
        assert_eq!(info.call_id.as_deref(), Some("CA1"));
        assert_eq!(info.encoding.as_deref(), Some("audio/x-mulaw"));
        assert_eq!(info.sample_rate, Some(8000));
    }

    #[test]
    fn connected_says_nothing_about_the_provider() {
        let (provider, inbound) = parse(
            r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#,
            None,
        )
        .expect("parses");
        assert_eq!((provider, inbound), (None, Inbound::Connected));
        let (provider, _) =
            parse(r#"{"event":"connected"}"#, Some(Provider::Twilio)).expect("parses");
        assert_eq!(provider, Some(Provider::Twilio));
    }

    /// The in-place reader learns each provider's keys from its `Protocol`, and agrees with the
    /// full reading on the provider and the sequence number, whatever the key order.
    #[test]
    fn a_media_frame_read_in_place_agrees_with_the_full_reading() {
        let frames = [
            (
                r#"{"event":"media","sequence_number":"7","stream_id":"s","media":{"track":"inbound","chunk":"3","timestamp":"40","payload":"AAAA"}}"#,
                Some(Provider::Telnyx),
            ),
            (
                r#"{"media":{"chunk":3,"payload":"AAAA"},"streamSid":"MZ1","event":"media","sequenceNumber":"9"}"#,
                Some(Provider::Twilio),
            ),
            (r#"{"event":"media","media":{"payload":"AAAA"}}"#, None),
        ];
        for (text, provider) in frames {
            for known in [None, Some(Provider::Twilio)] {
                let (fast_provider, fast) = read(text, known).expect("reads");
                let (full_provider, full) = parse(text, known).expect("parses");
                assert_eq!(fast_provider, provider.or(known), "{text}");
                assert_eq!(fast_provider, full_provider, "{text}");
                let (Read::Media(fast), Inbound::Media(full)) = (fast, full) else {
                    panic!("not media: {text}");
                };
                assert_eq!(fast, full.as_ref(), "{text}");
            }
        }
    }

    /// An `error` says what it carries, whatever its shape: never a bare `null`.
    #[test]
    fn an_error_message_is_read_from_its_keys_or_shown_raw() {
        let cases = [
            (
                r#"{"event":"error","stream_id":"s","payload":{"code":100002,"title":"unknown_error","detail":"boom"}}"#,
                "100002 unknown_error: boom".to_string(),
            ),
            (
                r#"{"event":"error","payload":{"x":1}}"#,
                r#"{"x":1}"#.to_string(),
            ),
            (
                r#"{"event":"error","stream_id":"s"}"#,
                r#"{"event":"error","stream_id":"s"}"#.to_string(),
            ),
        ];
        for (text, said) in cases {
            let (_, inbound) = parse(text, None).expect("parses");
            assert_eq!(inbound, Inbound::Error(said), "{text}");
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(matches!(
            parse("not json", None),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(
            parse("[1,2]", None),
            Err(ParseError::WrongShape(_))
        ));
        assert!(matches!(
            parse(
                r#"{"event":"media","stream_id":"S","media":{"track":"inbound"}}"#,
                None
            ),
            Err(ParseError::WrongShape(_))
        ));
        let (_, unknown) = parse(r#"{"event":"surprise","stream_id":"S"}"#, None).expect("parses");
        assert_eq!(unknown, Inbound::Unknown("surprise".into()));
    }

    #[test]
    fn replies_are_read_by_their_event() {
        let table = [
            (
                r#"{"event":"media","media":{"payload":"AA=="}}"#,
                Reply::Media,
            ),
            (
                r#"{"event":"mark","streamSid":"MZ1","mark":{"name":"m1"}}"#,
                Reply::Mark("m1".into()),
            ),
            (r#"{"event":"clear"}"#, Reply::Clear),
            (r#"{"event":"clearer"}"#, Reply::Other("clearer".into())),
        ];
        for (text, reply) in table {
            assert_eq!(parse_reply(text), Ok(reply), "{text}");
        }
        assert!(parse_reply("{\"mark\":1}").is_err());
    }

    #[test]
    fn a_frame_with_two_providers_keys_or_a_key_twice_is_read_in_place_as_in_full() {
        // Found by the `provider_messages` fuzz target: a Twilio sequence key before a Telnyx
        // stream id named Twilio in place and Telnyx in full.
        let frames = [
            r#"{"event":"media","sequenceNumber":"1","stream_id":"MZ1","media":{"track":"outbound","payload":"fn5+"}}"#,
            r#"{"event":"media","streamSid":"MZ1","sequence_number":"7","media":{"payload":"fn5+"}}"#,
            r#"{"event":"media","sequence_number":"1","sequence_number":"2","media":{"payload":"fn5+"}}"#,
            r#"{"event":"media","sequence_number":"1","sequence_number":"x","media":{"payload":"fn5+"}}"#,
        ];
        for text in frames {
            let (Ok((fast_provider, Read::Media(fast))), Ok((full_provider, Inbound::Media(full)))) =
                (read(text, None), parse(text, None))
            else {
                panic!("both read {text} as media");
            };
            assert_eq!(fast_provider, full_provider, "{text}");
            assert_eq!(fast, full.as_ref(), "{text}");
        }
    }
}
