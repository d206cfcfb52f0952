//! Secrets (auth tokens, API keys, header values) and the one rule that masks them in output.
//! `Secret` keeps a value out of every rendering by type: `Debug`, `Display` and `Serialize`
//! all show a mask; only `expose` hands out the value, at the socket. `Redactor` is the
//! render-time rule every output edge applies (the binary's writers, the monitor's socket,
//! report exports, recording names): the session's secret values wherever they appear, and
//! the password of any URL's userinfo, become `[redacted]`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What every rendering of a secret shows instead of its value.
pub(crate) const REDACTED: &str = "[redacted]";

/// Values shorter than this are not masked: a two-letter token would blank out ordinary
/// words, and no credential is that short.
const SHORTEST: usize = 3;

/// Environment variables that hold a credential whenever they are set, whatever the command.
pub const SECRET_ENV: [&str; 6] = [
    "STREAM_DOCTOR_TOKEN",
    "STREAM_DOCTOR_LISTEN_TOKEN",
    "STREAM_DOCTOR_AUTH_TOKEN",
    "TELNYX_API_KEY",
    "TWILIO_AUTH_TOKEN",
    "GITHUB_TOKEN",
];

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that must send it (a header, a frame).
    pub(crate) fn expose(&self) -> &str {
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

/// The session's secret values, and the rule that masks them in any text.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Every form a value may take in output (as given, form-encoded, JSON- and
    /// HTML-escaped), longest first so a secret holding another is masked whole.
    forms: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} form(s))", self.forms.len())
    }
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// A redactor that knows `values`.
    pub fn of<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut redactor = Self::new();
        for value in values {
            redactor.add(value);
        }
        redactor
    }

    /// Learns `value`, in each form output may give it.
    pub fn add(&mut self, value: &str) {
        let value = value.trim();
        if value.chars().count() < SHORTEST {
            return;
        }
        let json = serde_json::to_string(value).unwrap_or_default();
        let forms = [
            value.to_string(),
            url::form_urlencoded::byte_serialize(value.as_bytes()).collect(),
            json.trim_matches('"').to_string(),
            html_escaped(value),
        ];
        for form in forms {
            if form.chars().count() >= SHORTEST && !self.forms.contains(&form) {
                self.forms.push(form);
            }
        }
        self.forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    }

    pub(crate) fn add_secret(&mut self, secret: &Secret) {
        self.add(secret.expose());
    }

    /// Learns the credentials the environment holds (`SECRET_ENV`).
    pub fn add_env(&mut self) {
        for name in SECRET_ENV {
            if let Ok(value) = std::env::var(name) {
                self.add(&value);
            }
        }
    }

    /// Learns a URL's userinfo password (masked by shape too, but a password may also be
    /// echoed alone, in an error or a server's answer).
    pub fn add_url(&mut self, url: &str) {
        if let Ok(parsed) = url::Url::parse(url.trim())
            && let Some(password) = parsed.password()
        {
            let decoded = url::form_urlencoded::parse(format!("p={password}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            self.add(password);
            self.add(&decoded);
        }
    }

    /// Whether `text` holds nothing this redactor would mask.
    pub fn is_clean(&self, text: &str) -> bool {
        self.mask(text) == text
    }

    /// `text` with every known value and every URL password masked.
    pub fn mask(&self, text: &str) -> String {
        let mut clean = mask_url_passwords(text);
        for form in &self.forms {
            if clean.contains(form.as_str()) {
                clean = clean.replace(form.as_str(), REDACTED);
            }
        }
        clean
    }
}

fn html_escaped(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Masks the password of every `scheme://user:password@host` in `text`, found by shape: a
/// URL may reach output from a peer (a webhook's `stream_url`) as well as from the user.
fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| {
                matches!(
                    c,
                    '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '`' | ')' | ']'
                ) || c.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                let userinfo = &authority[..userinfo_end];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..=colon]);
                        out.push_str(REDACTED);
                        out.push_str(&authority[userinfo_end..]);
                    }
                    None => out.push_str(authority),
                }
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
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
    fn every_form_of_a_value_is_masked_longest_first() {
        let redactor = Redactor::of(["abc123", "", "ab", "abc123-long"]);
        assert_eq!(
            redactor.mask("GET /stream/abc123 with abc123-long and ab"),
            "GET /stream/[redacted] with [redacted] and ab"
        );
        let odd = Redactor::of(["a b&\"c"]);
        for shown in ["a+b%26%22c", "a b&\\\"c", "a b&amp;&quot;c"] {
            assert_eq!(odd.mask(shown), REDACTED, "{shown}");
        }
    }

    #[test]
    fn a_urls_password_is_masked_by_shape_and_its_user_kept() {
        let redactor = Redactor::new();
        assert_eq!(
            redactor.mask("to wss://bob:pa%20ss@h.example:443/a?b=c and http://x/y@z"),
            "to wss://bob:[redacted]@h.example:443/a?b=c and http://x/y@z"
        );
        assert_eq!(
            redactor.mask("\"url\":\"https://user@h/\""),
            "\"url\":\"https://user@h/\""
        );
        let mut learned = Redactor::new();
        learned.add_url("wss://bob:pa%20ss@h.example/a");
        assert_eq!(
            learned.mask("said pa ss and pa%20ss"),
            "said [redacted] and [redacted]"
        );
    }

    #[test]
    fn the_redactor_never_shows_what_it_knows() {
        let redactor = Redactor::of(["hunter2-token"]);
        assert!(!format!("{redactor:?}").contains("hunter2"));
        assert!(!redactor.is_clean("x hunter2-token"));
        assert!(redactor.is_clean("nothing here"));
    }
}
