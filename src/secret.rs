//! Secrets (auth tokens, API keys) typed so that nothing prints them by accident: `Debug`,
//! `Display` and `Serialize` all show a mask; only `expose` hands out the value, at the socket.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

/// A saved report holds only the mask; reading it back keeps the mask, never a value.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Secret(String::deserialize(deserializer)?))
    }
}

/// Masks every given secret value wherever it appears in `text`: the last line of defence,
/// after the types have already kept secrets out of every record.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut clean = text.to_string();
    for secret in secrets.iter().filter(|s| s.len() >= 3) {
        clean = clean.replace(secret, REDACTED);
    }
    clean
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

    #[test]
    fn scrub_masks_every_occurrence() {
        let text = "GET /stream/abc123 with abc123 and x";
        assert_eq!(
            scrub(text, &["abc123", ""]),
            "GET /stream/[redacted] with [redacted] and x"
        );
    }
}
