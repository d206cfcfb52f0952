//! Numbers as providers write them: `"4"` or `4`. Anything else reads as absent rather than
//! failing the whole message, so an odd field never drops a stream.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A number written as a number or a string.
pub fn number(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn flex_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(number(Some(&Value::deserialize(deserializer)?)))
}
