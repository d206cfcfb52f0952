//! How a WebSocket session ended, read off the connection: `of_frame` takes the close the
//! WebSocket library decoded, and `Sniffed` reads the peer's close frame off the wire, because
//! the library replaces an invalid code with 1002 and refuses a reason that is not UTF-8. The
//! record itself is `records::close::Close`.

use std::sync::{Arc, Mutex};

use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use super::tap::{Ear, Tapped};
use crate::records::close::Close;

/// The close the WebSocket library decoded (none: a close frame without a payload).
pub(crate) fn of_frame(frame: Option<&CloseFrame>) -> Close {
    frame.map_or_else(
        || Close::decoded(None, ""),
        |f| Close::decoded(Some(u16::from(f.code)), &f.reason),
    )
}

const MAX_CONTROL_PAYLOAD: usize = 125;

/// Where the sniffer is in the byte stream from the peer.
#[derive(Debug, Default)]
enum Wire {
    /// In the HTTP response head: counts the `\r\n\r\n` that ends it.
    #[default]
    Head,
    /// Reading a frame header of this many bytes so far.
    Header(Vec<u8>),
    /// Skipping (or, for a close frame, keeping) a payload.
    Payload { left: u64, close: bool },
    /// A close frame has been read: nothing after it matters.
    Done,
}

/// The state the sniffer shares with whoever asks what the peer's close frame said.
#[derive(Debug, Default)]
pub(crate) struct SniffState {
    wire: Wire,
    matched: usize,
    payload: Vec<u8>,
    close: Option<Vec<u8>>,
}

impl Ear for SniffState {
    fn hear(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match &mut self.wire {
                Wire::Done => return,
                Wire::Head => {
                    let byte = bytes[0];
                    bytes = &bytes[1..];
                    let expected = b"\r\n\r\n"[self.matched];
                    self.matched = if byte == expected {
                        self.matched + 1
                    } else {
                        usize::from(byte == b'\r')
                    };
                    if self.matched == 4 {
                        self.wire = Wire::Header(Vec::new());
                    }
                }
                Wire::Header(header) => {
                    header.push(bytes[0]);
                    bytes = &bytes[1..];
                    if let Some((length, close)) = frame_header(header) {
                        self.payload.clear();
                        self.wire = Wire::Payload {
                            left: length,
                            close,
                        };
                        self.settle();
                    }
                }
                Wire::Payload { left, close } => {
                    let take = (*left).min(bytes.len() as u64) as usize;
                    if *close {
                        // A control frame carries at most 125 bytes; a peer claiming more
                        // does not get to fill memory.
                        let room = MAX_CONTROL_PAYLOAD.saturating_sub(self.payload.len());
                        self.payload.extend_from_slice(&bytes[..take.min(room)]);
                    }
                    *left -= take as u64;
                    bytes = &bytes[take..];
                    self.settle();
                }
            }
        }
    }
}

impl SniffState {
    /// Moves on once a payload is complete.
    fn settle(&mut self) {
        if let Wire::Payload { left: 0, close } = self.wire {
            if close {
                self.close = Some(std::mem::take(&mut self.payload));
                self.wire = Wire::Done;
            } else {
                self.wire = Wire::Header(Vec::new());
            }
        }
    }
}

/// A complete frame header's payload length and whether it starts a close frame; `None` while
/// more header bytes are needed.
fn frame_header(header: &[u8]) -> Option<(u64, bool)> {
    let [first, second, rest @ ..] = header else {
        return None;
    };
    let close = first & 0x0f == 0x8;
    let mask = if second & 0x80 != 0 { 4 } else { 0 };
    let (length, extended) = match second & 0x7f {
        126 => (
            rest.get(..2)
                .map(|b| u64::from(u16::from_be_bytes([b[0], b[1]]))),
            2,
        ),
        127 => (
            rest.get(..8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes),
            8,
        ),
        short => (Some(u64::from(short)), 0),
    };
    (rest.len() == extended + mask).then_some(())?;
    length.map(|length| (length, close))
}

/// A byte stream that notes the close frame the peer sends, as sent.
pub(crate) type Sniffed<S> = Tapped<S, SniffState>;

/// Asks a `Sniffed` stream, from anywhere, what close frame the peer sent.
#[derive(Clone, Debug, Default)]
pub(crate) struct CloseWitness(Arc<Mutex<SniffState>>);

impl CloseWitness {
    /// The peer's close frame, as sent; `None` when none came.
    pub(crate) fn close(&self) -> Option<Close> {
        let state = self.0.lock().ok()?;
        state.close.as_deref().map(Close::raw)
    }
}

/// `inner`, sniffed, and the witness to ask later.
pub(crate) fn sniff<S>(inner: S) -> (Sniffed<S>, CloseWitness) {
    let state = Arc::new(Mutex::new(SniffState::default()));
    let witness = CloseWitness(state.clone());
    (Tapped::new(inner, state), witness)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ending_reads_the_same_everywhere_and_round_trips() {
        let table = [
            (
                Close::Frame {
                    code: Some(1008),
                    reason: "no session".into(),
                    invalid: None,
                },
                "close code 1008 'no session'",
                r#"{"code":1008,"reason":"no session"}"#,
            ),
            (
                of_frame(None),
                "close frame without a code",
                r#"{"code":null,"reason":""}"#,
            ),
            (
                Close::raw(&[0x03, 0xe7, 0xff, b'x']),
                "close code 999 '\u{fffd}x' (invalid: code 999 is not one a peer may send; the reason is not UTF-8)",
                r#"{"code":999,"reason":"�x","invalid":"code 999 is not one a peer may send; the reason is not UTF-8"}"#,
            ),
            (
                Close::no_frame(),
                "connection ended without a close frame",
                r#"{"error":"connection ended without a close frame"}"#,
            ),
        ];
        for (close, text, json) in table {
            assert_eq!(close.to_string(), text);
            assert_eq!(serde_json::to_string(&close).expect("json"), json);
            let back: Close = serde_json::from_str(json).expect("reads");
            assert_eq!(back, close);
        }
    }

    /// The close frame is found after the HTTP head and other frames, whatever the chunking.
    #[test]
    fn the_sniffer_reads_the_close_frame_as_sent() {
        let mut wire = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n".to_vec();
        wire.extend([0x89, 0x02, b'h', b'i']);
        wire.extend([0x81, 126, 0x01, 0x00]);
        wire.extend([b'a'; 256]);
        wire.extend([0x88, 0x05, 0x03, 0xed, b'b', b'y', b'e']);
        for chunk in [1, 3, 7, 4096] {
            let mut state = SniffState::default();
            for piece in wire.chunks(chunk) {
                state.hear(piece);
            }
            let close = state.close.as_deref().map(Close::raw);
            assert_eq!(
                close,
                Some(Close::Frame {
                    code: Some(1005),
                    reason: "bye".into(),
                    invalid: Some("code 1005 is not one a peer may send".into()),
                }),
                "chunks of {chunk}"
            );
        }
    }
}
