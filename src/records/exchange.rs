//! One upgrade request and exactly what came back (status line, headers, a body excerpt), or
//! why nothing complete did. Sending it is `net::upgrade`'s.

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// What a provider's upgrade request may carry for the server to trust it: Telnyx's
/// `stream_auth_token`, or the account's auth token Twilio signs the stream's URL with.
#[derive(Clone, Copy, Debug, Default)]
pub struct UpgradeAuth<'a> {
    pub stream_token: Option<&'a Secret>,
    pub account_token: Option<&'a Secret>,
    /// The stream URL as given, which a signature covers.
    pub url: &'a str,
}

/// What one upgrade request got back: always the evidence, whatever happened.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub request: String,
    pub status_line: Option<String>,
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
    pub body_excerpt: String,
    pub accept_expected: String,
    pub accept_ok: bool,
    pub received_bytes: usize,
    pub response_ms: f64,
    /// Why no complete response was read, when none was.
    pub problem: Option<Problem>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum Problem {
    Timeout(String),
    Closed(String),
    Malformed(String),
    Io(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Timeout(text)
            | Problem::Closed(text)
            | Problem::Malformed(text)
            | Problem::Io(text) => f.write_str(text),
        }
    }
}

impl Exchange {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn upgraded(&self) -> bool {
        self.status == Some(101) && self.accept_ok
    }
}
