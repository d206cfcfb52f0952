//! Webhook signatures, judged as the providers' own SDKs judge them (docs/providers.md),
//! with the step that failed named, never trusted silently:
//! - Telnyx: Ed25519 over `"{telnyx-timestamp}|{raw body}"`, the timestamp within 300 s either
//!   way, key and signature in padded standard base64 (32 and 64 bytes), `verify_strict`;
//! - Twilio: HMAC-SHA1 with the auth token over the URL the provider called, followed by the
//!   form parameters sorted by name (`name` + `value`), base64; valid with or without the
//!   default port in the URL. A JSON callback has no parameters: its URL carries `bodySHA256`,
//!   the hex SHA-256 of the raw body, which must match too (Twilio's `RequestValidator`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::records::webhook::{Judged, SignatureVerdict};
use crate::secret::Secret;

/// How far a Telnyx timestamp may be from now, either way.
pub(crate) const TELNYX_TOLERANCE_SECS: i64 = 300;
pub(crate) const TELNYX_SIGNATURE_HEADER: &str = "telnyx-signature-ed25519";
pub(crate) const TELNYX_TIMESTAMP_HEADER: &str = "telnyx-timestamp";
pub(crate) const TWILIO_SIGNATURE_HEADER: &str = "x-twilio-signature";

fn invalid(why: impl Into<String>) -> Judged {
    (SignatureVerdict::Invalid, Some(why.into()))
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the public key is not padded standard base64")]
    NotBase64,
    #[error("the public key is {0} bytes, not the 32 of an Ed25519 key")]
    Length(usize),
    #[error("the public key is not a valid Ed25519 point")]
    NotAKey,
}

/// The account's Ed25519 public key, as Mission Control shows it (base64 of 32 bytes).
pub fn telnyx_key(base64: &str) -> Result<VerifyingKey, KeyError> {
    let bytes = STANDARD
        .decode(base64.trim())
        .map_err(|_| KeyError::NotBase64)?;
    let bytes: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| KeyError::Length(bytes.len()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::NotAKey)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Judges a Telnyx webhook at `now_unix`.
pub(crate) fn telnyx(
    key: Option<&VerifyingKey>,
    headers: &[(String, String)],
    body: &[u8],
    now_unix: i64,
) -> Judged {
    let signature = header(headers, TELNYX_SIGNATURE_HEADER);
    let timestamp = header(headers, TELNYX_TIMESTAMP_HEADER);
    let (Some(signature), Some(timestamp)) = (signature, timestamp) else {
        let missing = match (signature, timestamp) {
            (None, None) => "no telnyx-signature-ed25519 and no telnyx-timestamp header",
            (None, Some(_)) => "no telnyx-signature-ed25519 header",
            _ => "no telnyx-timestamp header",
        };
        return (SignatureVerdict::Missing, Some(missing.into()));
    };
    let Some(key) = key else {
        let why = "no public key was given (--webhook-public-key or TELNYX_PUBLIC_KEY)";
        return (SignatureVerdict::Unchecked, Some(why.into()));
    };
    if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return invalid(format!("the timestamp '{timestamp}' is not whole seconds"));
    }
    let Ok(sent) = timestamp.parse::<i64>() else {
        return invalid(format!("the timestamp '{timestamp}' is out of range"));
    };
    let skew = now_unix - sent;
    if skew.abs() > TELNYX_TOLERANCE_SECS {
        let direction = if skew > 0 { "old" } else { "in the future" };
        return invalid(format!(
            "the timestamp is {} s {direction}, more than the {TELNYX_TOLERANCE_SECS} s allowed",
            skew.abs()
        ));
    }
    let Ok(bytes) = STANDARD.decode(signature.trim()) else {
        return invalid("the signature is not padded standard base64");
    };
    let Ok(bytes) = <[u8; 64]>::try_from(bytes.as_slice()) else {
        return invalid(format!(
            "the signature is {} bytes, not the 64 of Ed25519",
            bytes.len()
        ));
    };
    let mut signed = Vec::with_capacity(timestamp.len() + 1 + body.len());
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b'|');
    signed.extend_from_slice(body);
    match key.verify_strict(&signed, &Signature::from_bytes(&bytes)) {
        Ok(()) => (SignatureVerdict::Valid, None),
        Err(_) => invalid(
            "the signature does not match this body with this key (another account's key, or a body changed on the way)",
        ),
    }
}

/// Whether Telnyx's signature headers came with a request.
pub(crate) fn has_telnyx_signature(headers: &[(String, String)]) -> bool {
    header(headers, TELNYX_SIGNATURE_HEADER).is_some()
}

/// The URL Twilio signed, with and without the scheme's default port.
fn url_forms(url: &str) -> Vec<String> {
    let mut forms = vec![url.to_string()];
    if let Ok(mut parsed) = url::Url::parse(url) {
        let default = match parsed.scheme() {
            "https" | "wss" => 443,
            _ => 80,
        };
        let other = if parsed.port().is_some() {
            parsed.set_port(None).ok().map(|()| parsed.to_string())
        } else {
            parsed
                .set_port(Some(default))
                .ok()
                .map(|()| parsed.to_string())
        };
        forms.extend(other);
    }
    forms
}

/// The `bodySHA256` a Twilio JSON callback's URL carries, if it carries one.
pub(crate) fn twilio_body_hash(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(name, _)| name == "bodySHA256")
        .map(|(_, value)| value.into_owned())
}

/// Judges a Twilio JSON callback: the body's hash against the URL's `bodySHA256`, then the
/// signature of the URL alone.
pub(crate) fn twilio_json(
    auth_token: Option<&Secret>,
    headers: &[(String, String)],
    url: &str,
    body: &[u8],
) -> Judged {
    use sha2::{Digest, Sha256};
    let judged = twilio(auth_token, headers, url, &[]);
    if judged.0 != SignatureVerdict::Valid {
        return judged;
    }
    let hash: String = Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    match twilio_body_hash(url) {
        Some(claimed) if claimed.eq_ignore_ascii_case(&hash) => judged,
        _ => invalid(
            "the body's SHA-256 differs from the bodySHA256 in the signed URL (the body changed on the way)",
        ),
    }
}

/// Judges a Twilio callback: `url` is the URL the provider called, `params` the form fields.
pub(crate) fn twilio(
    auth_token: Option<&Secret>,
    headers: &[(String, String)],
    url: &str,
    params: &[(String, String)],
) -> Judged {
    let Some(signature) = header(headers, TWILIO_SIGNATURE_HEADER) else {
        return (
            SignatureVerdict::Missing,
            Some("no X-Twilio-Signature header".into()),
        );
    };
    let Some(token) = auth_token else {
        let why = "no auth token was given (--twilio-auth-token or TWILIO_AUTH_TOKEN)";
        return (SignatureVerdict::Unchecked, Some(why.into()));
    };
    let Ok(expected) = STANDARD.decode(signature.trim()) else {
        return invalid("the signature is not base64");
    };
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let matches = url_forms(url).iter().any(|form| {
        let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(token.expose().as_bytes()) else {
            return false;
        };
        mac.update(form.as_bytes());
        for (name, value) in &sorted {
            mac.update(name.as_bytes());
            mac.update(value.as_bytes());
        }
        mac.verify_slice(&expected).is_ok()
    });
    if matches {
        (SignatureVerdict::Valid, None)
    } else {
        invalid(format!(
            "the signature does not match {url} and these parameters with this auth token (another account's token, a changed body, or a proxy that changed the URL)"
        ))
    }
}

/// Signs as Telnyx does, for tests and the provider stand-in.
pub fn telnyx_sign(key: &ed25519_dalek::SigningKey, timestamp: &str, body: &[u8]) -> String {
    use ed25519_dalek::Signer;
    let mut signed = timestamp.as_bytes().to_vec();
    signed.push(b'|');
    signed.extend_from_slice(body);
    STANDARD.encode(key.sign(&signed).to_bytes())
}

/// Signs as Twilio does, for tests and the provider stand-in.
pub fn twilio_sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = match Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    const NOW: i64 = 1_795_000_000;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn headers(signature: &str, timestamp: &str) -> Vec<(String, String)> {
        vec![
            ("Telnyx-Signature-Ed25519".into(), signature.into()),
            ("telnyx-timestamp".into(), timestamp.into()),
        ]
    }

    /// Every way a Telnyx signature can be right or wrong, with the step named.
    #[test]
    fn telnyx_signatures_are_judged_as_the_sdks_do() {
        let signer = key(7);
        let public = signer.verifying_key();
        let body = br#"{"data":{"event_type":"streaming.started"}}"#;
        let ts = NOW.to_string();
        let good = telnyx_sign(&signer, &ts, body);
        let judge = |h: &[(String, String)], body: &[u8]| telnyx(Some(&public), h, body, NOW);
        assert_eq!(
            judge(&headers(&good, &ts), body),
            (SignatureVerdict::Valid, None)
        );
        type Case<'a> = (Vec<(String, String)>, &'a [u8], &'a str);
        let cases: Vec<Case> = vec![
            (
                headers(&telnyx_sign(&key(8), &ts, body), &ts),
                body,
                "does not match",
            ),
            (
                headers(&good, &ts),
                br#"{"data":{"event_type":"streaming.failed"}}"#,
                "does not match",
            ),
            (
                headers(&telnyx_sign(&signer, "1794999000", body), "1794999000"),
                body,
                "1000 s old",
            ),
            (
                headers(&telnyx_sign(&signer, "1795000400", body), "1795000400"),
                body,
                "400 s in the future",
            ),
            (headers(&good, "17950x0000"), body, "not whole seconds"),
            (
                headers("not base64!", &ts),
                body,
                "not padded standard base64",
            ),
            (headers("AAAA", &ts), body, "3 bytes, not the 64"),
        ];
        for (h, body, why) in cases {
            let (verdict, problem) = judge(&h, body);
            assert_eq!(verdict, SignatureVerdict::Invalid, "{why}");
            let problem = problem.unwrap_or_default();
            assert!(problem.contains(why), "{why}: {problem}");
        }
        let (verdict, _) = judge(&[], body);
        assert_eq!(verdict, SignatureVerdict::Missing);
        let (verdict, _) = telnyx(None, &headers(&good, &ts), body, NOW);
        assert_eq!(verdict, SignatureVerdict::Unchecked);
    }

    #[test]
    fn a_public_key_must_be_32_bytes_of_base64() {
        let public = STANDARD.encode(key(1).verifying_key().to_bytes());
        assert!(telnyx_key(&public).is_ok());
        assert!(matches!(telnyx_key("%%%"), Err(KeyError::NotBase64)));
        assert!(matches!(telnyx_key("AAAA"), Err(KeyError::Length(3))));
    }

    #[test]
    fn twilio_signatures_cover_the_url_and_sorted_parameters() {
        let token = Secret::new("twilio-auth-token");
        let url = "https://example.ngrok-free.app/webhooks/twilio";
        let params = vec![
            ("StreamSid".to_string(), "MZ1".to_string()),
            ("CallSid".to_string(), "CA1".to_string()),
            ("StreamEvent".to_string(), "stream-error".to_string()),
        ];
        let signature = twilio_sign(token.expose(), url, &params);
        let h = vec![("X-Twilio-Signature".to_string(), signature.clone())];
        assert_eq!(
            twilio(Some(&token), &h, url, &params).0,
            SignatureVerdict::Valid
        );
        let with_port = "https://example.ngrok-free.app:443/webhooks/twilio";
        assert_eq!(
            twilio(Some(&token), &h, with_port, &params).0,
            SignatureVerdict::Valid,
            "valid with or without the default port"
        );
        let mut changed = params.clone();
        changed[2].1 = "stream-started".into();
        assert_eq!(
            twilio(Some(&token), &h, url, &changed).0,
            SignatureVerdict::Invalid
        );
        let other = Secret::new("another-token");
        assert_eq!(
            twilio(Some(&other), &h, url, &params).0,
            SignatureVerdict::Invalid
        );
        assert_eq!(
            twilio(Some(&token), &[], url, &params).0,
            SignatureVerdict::Missing
        );
        assert_eq!(
            twilio(None, &h, url, &params).0,
            SignatureVerdict::Unchecked
        );
    }
}
