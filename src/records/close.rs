//! How a WebSocket session ended, as evidence: the close frame the peer sent (its code and
//! reason exactly as sent, invalid ones included), or the error that ended the connection
//! without one. One wording everywhere. Reading it off the wire is `net::close`'s.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Close {
    /// A close frame; a frame may carry no code at all.
    Frame {
        code: Option<u16>,
        reason: String,
        /// What the frame gets wrong, when it breaks RFC 6455.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invalid: Option<String>,
    },
    /// No close frame: what ended the connection instead.
    Error { error: String },
}

impl Close {
    /// A close frame as a WebSocket library decoded it (no frame: no code, no reason).
    pub(crate) fn decoded(code: Option<u16>, reason: &str) -> Self {
        Close::Frame {
            code,
            reason: reason.to_string(),
            invalid: None,
        }
    }

    /// A close frame's payload as it came off the wire.
    pub(crate) fn raw(payload: &[u8]) -> Self {
        let (code, reason) = match payload {
            [] => (None, &[][..]),
            [_] => {
                return Close::Frame {
                    code: None,
                    reason: String::new(),
                    invalid: Some("a one-byte payload, which holds no code".into()),
                };
            }
            [high, low, reason @ ..] => (Some(u16::from_be_bytes([*high, *low])), reason),
        };
        let mut invalid = Vec::new();
        if let Some(code) = code.filter(|c| !sendable(*c)) {
            invalid.push(format!("code {code} is not one a peer may send"));
        }
        let text = match std::str::from_utf8(reason) {
            Ok(text) => text.to_string(),
            Err(_) => {
                invalid.push("the reason is not UTF-8".into());
                String::from_utf8_lossy(reason).into_owned()
            }
        };
        Close::Frame {
            code,
            reason: text,
            invalid: (!invalid.is_empty()).then(|| invalid.join("; ")),
        }
    }

    pub(crate) fn error(text: impl Into<String>) -> Self {
        Close::Error { error: text.into() }
    }

    /// The connection ended with no close frame at all.
    pub(crate) fn no_frame() -> Self {
        Close::error("connection ended without a close frame")
    }
}

/// Codes a peer may put in a close frame (RFC 6455 §7.4).
fn sendable(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1011 | 1012..=1014 | 3000..=4999)
}

impl std::fmt::Display for Close {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Close::Error { error } => f.write_str(error),
            Close::Frame {
                code: Some(code),
                reason,
                invalid,
            } => {
                write!(f, "close code {code} '{reason}'")?;
                match invalid {
                    Some(why) => write!(f, " (invalid: {why})"),
                    None => Ok(()),
                }
            }
            Close::Frame { code: None, .. } => f.write_str("close frame without a code"),
        }
    }
}
