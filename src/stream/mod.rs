//! Media streams: the providers' protocols (one file each), the listener that stands in for
//! the user's server, and the replay that stands in for the provider. Messages are read into
//! one provider-neutral shape, `Inbound`.

mod flex;
pub mod listener;
pub mod live;
pub mod ngrok;
pub mod replay;
pub mod telnyx;
pub mod twilio;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Telnyx,
    Twilio,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::Telnyx => "telnyx",
            Provider::Twilio => "twilio",
        }
    }
}

impl std::str::FromStr for Provider {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "telnyx" => Ok(Provider::Telnyx),
            "twilio" => Ok(Provider::Twilio),
            _ => Err(format!("unknown protocol '{s}' (telnyx or twilio)")),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartInfo {
    pub stream_id: Option<String>,
    pub call_id: Option<String>,
    pub encoding: Option<String>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Media {
    pub track: String,
    pub sequence: Option<u64>,
    pub chunk: Option<u64>,
    pub timestamp_ms: Option<u64>,
    pub payload_b64: String,
}

/// The `media` object both providers send, with the same field names.
#[derive(Debug, Deserialize)]
pub struct MediaBody {
    pub track: Option<String>,
    #[serde(default, deserialize_with = "flex::flex_u64")]
    pub chunk: Option<u64>,
    #[serde(default, deserialize_with = "flex::flex_u64")]
    pub timestamp: Option<u64>,
    pub payload: String,
}

impl MediaBody {
    /// With the message's sequence number; a frame without a track is the inbound one.
    pub fn into_media(self, sequence: Option<u64>) -> Media {
        Media {
            track: self.track.unwrap_or_else(|| "inbound".into()),
            sequence,
            chunk: self.chunk,
            timestamp_ms: self.timestamp,
            payload_b64: self.payload,
        }
    }
}

/// A string field of a JSON object, empty when absent.
fn text_field(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
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
    Unknown,
}

impl Inbound {
    /// The counter this message goes in.
    pub fn kind(&self) -> &'static str {
        match self {
            Inbound::Connected => "connected",
            Inbound::Start(_) => "start",
            Inbound::Media(_) => "media",
            Inbound::Stop => "stop",
            Inbound::Dtmf(_) => "dtmf",
            Inbound::Mark(_) => "mark",
            Inbound::Error(_) | Inbound::Unknown => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("JSON of the wrong shape: {0}")]
    WrongShape(String),
}

/// Which provider wrote this object, where its field names tell.
pub fn detect(value: &Value) -> Option<Provider> {
    let has = |key: &str| value.get(key).is_some();
    if has("streamSid") || has("sequenceNumber") {
        Some(Provider::Twilio)
    } else if has("stream_id") || has("sequence_number") {
        Some(Provider::Telnyx)
    } else {
        None
    }
}

/// Reads one text frame; `known` is the provider seen so far, used when this frame does not say.
pub fn parse(
    text: &str,
    known: Option<Provider>,
) -> Result<(Option<Provider>, Inbound), ParseError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| ParseError::NotJson(e.to_string()))?;
    if !value.is_object() || value.get("event").and_then(Value::as_str).is_none() {
        return Err(ParseError::WrongShape("no \"event\" field".into()));
    }
    let provider = detect(&value).or(known);
    let shape = |e: serde_json::Error| ParseError::WrongShape(e.to_string());
    let inbound = match provider {
        Some(Provider::Twilio) => serde_json::from_value::<twilio::Event>(value)
            .map_err(shape)?
            .into_inbound(),
        _ => serde_json::from_value::<telnyx::Event>(value)
            .map_err(shape)?
            .into_inbound(),
    };
    Ok((provider, inbound))
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
        assert_eq!(info.call_id.as_deref(), Some("CA1"));
        assert_eq!(info.encoding.as_deref(), Some("audio/x-mulaw"));
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
        assert_eq!(unknown, Inbound::Unknown);
    }
}
