//! How a WebSocket session ended, as evidence: the close frame the peer sent (its code and
//! reason), or the error that ended the connection without one. One wording everywhere.

use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Close {
    /// A close frame; a frame may carry no code at all.
    Frame { code: Option<u16>, reason: String },
    /// No close frame: what ended the connection instead.
    Error { error: String },
}

impl Close {
    pub fn frame(frame: Option<&CloseFrame>) -> Self {
        match frame {
            Some(f) => Close::Frame {
                code: Some(u16::from(f.code)),
                reason: f.reason.to_string(),
            },
            None => Close::Frame {
                code: None,
                reason: String::new(),
            },
        }
    }

    pub fn error(text: impl Into<String>) -> Self {
        Close::Error { error: text.into() }
    }

    /// The connection ended with no close frame at all.
    pub fn no_frame() -> Self {
        Close::error("connection ended without a close frame")
    }
}

impl std::fmt::Display for Close {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Close::Error { error } => f.write_str(error),
            Close::Frame {
                code: Some(code),
                reason,
            } => write!(f, "close code {code} '{reason}'"),
            Close::Frame { code: None, .. } => f.write_str("close frame without a code"),
        }
    }
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
                },
                "close code 1008 'no session'",
                r#"{"code":1008,"reason":"no session"}"#,
            ),
            (
                Close::frame(None),
                "close frame without a code",
                r#"{"code":null,"reason":""}"#,
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
}
