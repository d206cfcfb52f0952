//! Numbers as providers write them: `"4"` or `4`. Anything else reads as absent rather than
//! failing the whole message, so an odd field never drops a stream.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

pub fn flex_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

pub fn flex_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    Ok(flex_u64(deserializer)?.and_then(|v| u32::try_from(v).ok()))
}
