//! Any body, signature and timestamp as a webhook: judged and recorded, never trusted by
//! accident, never a panic.
#![no_main]

use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;
use stream_doctor::provider::signature::telnyx_key;
use stream_doctor::records::webhook::SignatureVerdict;
use stream_doctor::provider::webhook;

fuzz_target!(|data: &[u8]| {
    let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
    let now = time::OffsetDateTime::from_unix_timestamp(1_764_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    // The first two lines are the signature and timestamp headers, the rest the body.
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let signature = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let timestamp = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default();
    let headers = vec![
        ("telnyx-signature-ed25519".to_string(), signature.clone()),
        ("telnyx-timestamp".to_string(), timestamp),
    ];
    let record = webhook::telnyx(Some(&key), &headers, body, now);
    // Nobody but the key's holder can sign, so a fuzzed body is never judged valid.
    assert_ne!(record.signature, SignatureVerdict::Valid);
    let _ = webhook::twilio(None, &headers, "https://x/webhooks/twilio", body, now);
    let _ = telnyx_key(&signature);
});
