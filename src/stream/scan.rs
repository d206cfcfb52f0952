//! The hand-written scanner for a media frame: the frames that come fifty a second per track,
//! read in one pass over the bytes with no JSON parser. It knows only the plain JSON providers
//! write (strings without escapes, whole non-negative numbers, `true`, `false`, `null`, nested
//! objects and arrays of those); anything else makes it give up (`None`), and serde's in-place
//! reading takes the frame. Where it answers, it answers as that reading does: the fuzz target
//! `provider_messages` holds the two equal.

use std::borrow::Cow;

use super::{MediaFields, MediaFrame, OwnedKey, owned_key};

/// How deep nested values it skips may go before it gives up.
const MAX_DEPTH: usize = 32;

struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes().get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes().get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// A string without escapes or control characters, borrowed.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let rest = &self.bytes()[start..];
        let end = memchr::memchr(b'"', rest)?;
        // Without an early exit, so the check runs many bytes at a time.
        let odd = rest[..end].iter().fold(0u8, |odd, &b| {
            odd | u8::from(b == b'\\') | u8::from(b < 0x20)
        });
        if odd != 0 {
            return None;
        }
        self.at = start + end + 1;
        self.text.get(start..start + end)
    }

    /// A whole non-negative number written as JSON writes one (no sign, no leading zero, no
    /// fraction or exponent); `Some(None)` when it does not fit, as serde reads it then.
    fn number(&mut self) -> Option<Option<u64>> {
        self.skip_ws();
        let start = self.at;
        let digits = self.bytes()[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let after = self.bytes().get(start + digits).copied();
        let plain = digits > 0
            && !(digits > 1 && self.bytes()[start] == b'0')
            && !matches!(after, Some(b'.' | b'e' | b'E' | b'-' | b'+'));
        if !plain {
            return None;
        }
        self.at = start + digits;
        Some(self.text.get(start..self.at)?.parse().ok())
    }

    /// A number as providers write it: a number, or a string holding one; anything else is
    /// no number (the rule of `flex`).
    fn flexible(&mut self) -> Option<Option<u64>> {
        match self.peek()? {
            b'"' => Some(self.string()?.trim().parse().ok()),
            b'0'..=b'9' => self.number(),
            b't' | b'f' | b'n' => self.literal().map(|()| None),
            b'{' | b'[' => self.skip_value(0).map(|()| None),
            _ => None,
        }
    }

    fn null(&mut self) -> Option<()> {
        self.skip_ws();
        self.bytes()[self.at..]
            .starts_with(b"null")
            .then(|| self.at += 4)
    }

    fn literal(&mut self) -> Option<()> {
        self.skip_ws();
        let rest = &self.bytes()[self.at..];
        let word: &[u8] = [&b"true"[..], b"false", b"null"]
            .into_iter()
            .find(|word| rest.starts_with(word))?;
        self.at += word.len();
        Some(())
    }

    /// Any value of the plain JSON it knows, unread.
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'0'..=b'9' => self.number().map(drop),
            b't' | b'f' | b'n' => self.literal(),
            b'{' => {
                self.at += 1;
                if self.eat(b'}').is_some() {
                    return Some(());
                }
                loop {
                    self.string()?;
                    self.eat(b':')?;
                    self.skip_value(depth + 1)?;
                    if self.eat(b',').is_none() {
                        return self.eat(b'}');
                    }
                }
            }
            b'[' => {
                self.at += 1;
                if self.eat(b']').is_some() {
                    return Some(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    if self.eat(b',').is_none() {
                        return self.eat(b']');
                    }
                }
            }
            _ => None,
        }
    }

    /// The `media` object: each known field at most once, `payload` required.
    fn media(&mut self) -> Option<MediaFields<'a>> {
        self.eat(b'{')?;
        let mut track: Option<Option<&'a str>> = None;
        let mut chunk = None;
        let mut timestamp = None;
        let mut payload = None;
        if self.eat(b'}').is_none() {
            loop {
                let key = self.string()?;
                self.eat(b':')?;
                match key {
                    "track" if track.is_none() => {
                        track = Some(if self.peek()? == b'n' {
                            self.null()?;
                            None
                        } else {
                            Some(self.string()?)
                        });
                    }
                    "chunk" if chunk.is_none() => chunk = Some(self.flexible()?),
                    "timestamp" if timestamp.is_none() => timestamp = Some(self.flexible()?),
                    "payload" if payload.is_none() => payload = Some(self.string()?),
                    "track" | "chunk" | "timestamp" | "payload" => return None,
                    _ => self.skip_value(1)?,
                }
                if self.eat(b',').is_none() {
                    self.eat(b'}')?;
                    break;
                }
            }
        }
        Some(MediaFields {
            track: track.flatten().map(Cow::Borrowed),
            chunk: chunk.flatten(),
            timestamp: timestamp.flatten(),
            payload: Cow::Borrowed(payload?),
        })
    }
}

/// A frame's top-level object read as serde's in-place reading does (`MediaFrameSeed`), or
/// `None` when it holds anything this scanner does not read.
pub(super) fn media_frame(text: &str) -> Option<MediaFrame<'_>> {
    let mut cursor = Cursor { text, at: 0 };
    cursor.eat(b'{')?;
    let mut frame = MediaFrame::new();
    if cursor.eat(b'}').is_some() {
        return Some(frame);
    }
    loop {
        let key = cursor.string()?;
        cursor.eat(b':')?;
        if key == "event" {
            frame.event = Some(Cow::Borrowed(cursor.string()?));
        } else if key == "media" {
            frame.media = Some(cursor.media()?);
        } else {
            match owned_key(key) {
                Some(OwnedKey::Sequence(provider)) => {
                    let sequence = cursor.flexible()?;
                    frame.sequence(provider, sequence);
                }
                Some(OwnedKey::StreamId(provider)) => {
                    cursor.skip_value(1)?;
                    frame.owned_by(provider);
                }
                None => cursor.skip_value(1)?,
            }
        }
        if cursor.eat(b',').is_none() {
            cursor.eat(b'}')?;
            return Some(frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{flex, read_in_place};

    fn flex_rule(raw: &str) -> Option<u64> {
        flex::number(serde_json::from_str(raw).ok().as_ref())
    }

    #[test]
    fn numbers_read_as_the_flexible_rule_reads_them() {
        for raw in [
            "4",
            "\"4\"",
            "\" 7 \"",
            "\"+3\"",
            "18446744073709551615",
            "18446744073709551616",
            "true",
            "null",
            "[1]",
            "{\"a\":1}",
        ] {
            let text = format!(r#"{{"event":"media","media":{{"chunk":{raw},"payload":"AA=="}}}}"#);
            let scanned = media_frame(&text).expect("scanned");
            let chunk = scanned.media.expect("media").chunk;
            assert_eq!(chunk, flex_rule(raw), "{raw}");
        }
    }

    /// Where the scanner answers, it answers as serde's reading; where it gives up, serde reads.
    #[test]
    fn the_scanner_agrees_with_serde_or_gives_up() {
        let table = [
            (
                r#"{"event":"media","sequence_number":"4","stream_id":"S","media":{"track":"inbound","chunk":"2","timestamp":"20","payload":"AAA="}}"#,
                true,
            ),
            (
                r#"{"event":"media","sequenceNumber":"4","streamSid":"MZ1","media":{"track":"outbound","chunk":"2","timestamp":"20","payload":"AAA="}}"#,
                true,
            ),
            (
                r#" { "media" : { "payload" : "x" , "track" : null } , "event" : "media" } trailing"#,
                true,
            ),
            (
                r#"{"event":"media","extra":{"a":[1,{"b":null}],"c":true},"media":{"payload":"x","other":[]}}"#,
                true,
            ),
            (
                r#"{"event":"media","media":{"payload":"x"},"event":"start"}"#,
                false,
            ),
            (r#"{"event":"me\u0064ia","media":{"payload":"x"}}"#, false),
            (
                r#"{"event":"media","media":{"payload":"x","payload":"y"}}"#,
                false,
            ),
            (r#"{"event":"media","media":{"track":"inbound"}}"#, false),
            (
                r#"{"event":"media","media":{"payload":"x","chunk":-1}}"#,
                false,
            ),
            (
                r#"{"event":"media","media":{"payload":"x","chunk":1.5}}"#,
                false,
            ),
            (
                r#"{"event":"media","media":{"payload":"x","chunk":01}}"#,
                false,
            ),
            (r#"{"event":"media","media":{"payload":"x",}}"#, false),
            (r#"{"event":"media","media":{"payload":"x"},}"#, false),
            (
                r#"{"event":"media","media":{"track":nul,"payload":"x"}}"#,
                false,
            ),
            (
                "{\"event\":\"media\",\"media\":{\"payload\":\"a\tb\"}}",
                false,
            ),
            (r#"["event","media"]"#, false),
        ];
        for (text, answers) in table {
            let (scanned, serde) = read_in_place(text);
            assert_eq!(scanned.is_some(), answers, "{text}");
            if scanned.is_some() {
                assert_eq!(scanned, serde, "{text}");
            }
        }
    }
}
