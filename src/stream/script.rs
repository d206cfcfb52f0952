//! The messages of one stream in order, as a provider writes them: `connected`, `start` with
//! the media format, numbered and time-stamped `media` frames, `mark`s, `stop`; and the replies
//! a server sends back (`media`, `mark`). The envelope (event, sequence number, stream id) is
//! the same for every provider; the provider's `Protocol` fills in the rest.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value, json};

use super::Provider;
use super::protocol::{Ids, Protocol};
use crate::audio::Codec;
use crate::secret::Secret;

/// Every media frame carries 20 ms of audio.
pub(crate) const FRAME_MS: u64 = 20;

pub struct Script {
    protocol: &'static dyn Protocol,
    pub ids: Ids,
    /// The custom parameters `start` carries, as a stream started with them does.
    pub parameters: BTreeMap<String, String>,
    sequence: u64,
}

impl Script {
    pub fn new(provider: Provider) -> Self {
        let protocol = provider.protocol();
        Self {
            protocol,
            ids: protocol.new_ids(),
            parameters: BTreeMap::new(),
            sequence: 1,
        }
    }

    /// `event` with the next sequence number and the stream id, and `body` under `event`.
    fn message(&mut self, event: &str, body: Value) -> String {
        let keys = self.protocol.keys();
        let mut message = Map::new();
        message.insert("event".into(), event.into());
        message.insert(keys.sequence.into(), self.sequence.to_string().into());
        message.insert(keys.stream_id.into(), self.ids.stream_id.clone().into());
        message.insert(event.into(), body);
        self.sequence += 1;
        Value::Object(message).to_string()
    }

    pub fn connected(&self, token: Option<&Secret>) -> String {
        self.protocol.connected(token).to_string()
    }

    /// `start`, always sequence number 1, with the codec's name at the clock rate given.
    pub fn start(&mut self, codec: Codec, clock_rate_hz: u32, tracks: &[&str]) -> String {
        let keys = self.protocol.keys();
        let mut start = self.protocol.start_fields(&self.ids, tracks);
        start.insert(keys.call_id.into(), self.ids.call_id.clone().into());
        let mut format = Map::new();
        format.insert("encoding".into(), self.protocol.encoding(codec).into());
        format.insert(keys.sample_rate.into(), clock_rate_hz.into());
        format.insert("channels".into(), 1.into());
        start.insert(keys.media_format.into(), Value::Object(format));
        let parameters = self
            .parameters
            .iter()
            .map(|(name, value)| (name.clone(), Value::from(value.as_str())))
            .collect();
        start.insert(keys.custom_parameters.into(), Value::Object(parameters));
        self.sequence = 1;
        self.message("start", Value::Object(start))
    }

    /// The `chunk`-th frame (from 1) of `track`.
    pub fn media(&mut self, track: &str, chunk: u64, payload: &[u8]) -> String {
        let payload = base64::engine::general_purpose::STANDARD.encode(payload);
        let timestamp_ms = chunk.saturating_sub(1) * FRAME_MS;
        let body = json!({
            "track": track,
            "chunk": chunk.to_string(),
            "timestamp": timestamp_ms.to_string(),
            "payload": payload,
        });
        self.message("media", body)
    }

    pub(crate) fn mark(&mut self, name: &str) -> String {
        self.message("mark", json!({ "name": name }))
    }

    pub(crate) fn stop(&mut self) -> String {
        let body = self.protocol.stop_body(&self.ids);
        self.message("stop", body)
    }
}

/// What a server sends back on stream `stream_id` of `provider`: `event` with its body.
fn reply(provider: Provider, stream_id: &str, event: &str, body: Value) -> String {
    let protocol = provider.protocol();
    let mut message = Map::new();
    message.insert("event".into(), event.into());
    if protocol.replies_name_the_stream() {
        message.insert(protocol.keys().stream_id.into(), stream_id.into());
    }
    message.insert(event.into(), body);
    Value::Object(message).to_string()
}

/// Audio back to the provider, on a bidirectional stream.
pub(crate) fn reply_media(provider: Provider, stream_id: &str, payload_b64: &str) -> String {
    reply(
        provider,
        stream_id,
        "media",
        json!({ "payload": payload_b64 }),
    )
}

/// A mark the provider returns once the audio before it has played.
pub(crate) fn reply_mark(provider: Provider, stream_id: &str, name: &str) -> String {
    reply(provider, stream_id, "mark", json!({ "name": name }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{Inbound, Reply, parse, parse_reply};

    /// Every message a provider stand-in writes reads back as that provider's.
    #[test]
    fn each_provider_reads_its_own_messages() {
        for provider in Provider::ALL {
            let mut script = Script::new(provider);
            let start = script.start(Codec::Pcmu, 8000, &["inbound"]);
            let (seen, inbound) = parse(&start, None).expect("start");
            assert_eq!(seen, Some(provider));
            let Inbound::Start(info) = inbound else {
                panic!("{start}")
            };
            assert_eq!(
                info.stream_id.as_deref(),
                Some(script.ids.stream_id.as_str())
            );
            assert_eq!(info.call_id.as_deref(), Some(script.ids.call_id.as_str()));
            assert_eq!(info.sample_rate, Some(8000));
            assert_eq!(
                info.encoding.as_deref(),
                Some(provider.protocol().encoding(Codec::Pcmu))
            );
            let media = script.media("outbound", 3, &[0xff; 160]);
            let (_, inbound) = parse(&media, None).expect("media");
            let Inbound::Media(m) = inbound else {
                panic!("{media}")
            };
            assert_eq!(
                (m.track.as_str(), m.sequence, m.chunk, m.timestamp_ms),
                ("outbound", Some(2), Some(3), Some(40))
            );
            let (_, mark) = parse(&script.mark("m1"), None).expect("mark");
            assert_eq!(mark, Inbound::Mark("m1".into()));
            let (_, stop) = parse(&script.stop(), None).expect("stop");
            assert_eq!(stop, Inbound::Stop);
            let back = reply_mark(provider, &script.ids.stream_id, "m2");
            assert_eq!(parse_reply(&back), Ok(Reply::Mark("m2".into())));
            assert_eq!(
                back.contains(&script.ids.stream_id),
                provider.protocol().replies_name_the_stream()
            );
        }
    }

    #[test]
    fn telnyx_carries_the_token_in_connected_and_twilio_does_not() {
        let token = Secret::new("tok-1");
        let telnyx = Script::new(Provider::Telnyx).connected(Some(&token));
        assert!(telnyx.contains("\"x-telnyx-streaming-auth-token\":\"tok-1\""));
        let twilio = Script::new(Provider::Twilio).connected(Some(&token));
        assert!(!twilio.contains("tok-1"));
    }
}
