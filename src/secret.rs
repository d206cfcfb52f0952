//! Secrets (auth tokens, API keys) typed so that nothing prints them by accident: `Debug`,
//! `Display` and `Serialize` all show a mask; only `expose` hands out the value, at the socket.

use std::fmt;

use serde::{Serialize, Serializer};

/// What every rendering of a secret shows instead of its value.
pub const REDACTED: &str = "[redacted]";

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that must send it (a header, a frame).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_rendering_shows_the_value() {
        let secret = Secret::new("hunter2-token");
        let rendered = [
            format!("{secret:?}"),
            format!("{secret}"),
            serde_json::to_string(&secret).unwrap_or_default(),
        ];
        for text in rendered {
            assert!(!text.contains("hunter2"), "leaked in {text}");
            assert!(text.contains(REDACTED));
        }
        assert_eq!(secret.expose(), "hunter2-token");
    }
}
