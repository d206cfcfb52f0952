//! Numbers as providers write them: `"4"` or `4`. Anything else reads as absent rather than
//! failing the whole message, so an odd field never drops a stream.

use std::fmt;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A number written as a number or a string.
pub(crate) fn number(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The same reading straight from the JSON, with nothing allocated on the way.
struct Flex;

impl<'de> Visitor<'de> for Flex {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, or a string holding one")
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(u64::try_from(v).ok())
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.trim().parse().ok())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(Flex)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

pub(crate) fn flex_u64<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    deserializer.deserialize_any(Flex)
}

/// A number as providers write it, as a value of its own: for readers that learn their keys at
/// run time and so cannot name a field's `deserialize_with`.
pub(crate) struct Flexible(pub Option<u64>);

impl<'de> Deserialize<'de> for Flexible {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        flex_u64(d).map(Flexible)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Holder {
        #[serde(default, deserialize_with = "flex_u64")]
        n: Option<u64>,
    }

    #[test]
    fn both_readings_agree_on_every_shape() {
        for raw in [
            "4",
            "\"4\"",
            "\" 7 \"",
            "-1",
            "4.5",
            "true",
            "null",
            "\"x\"",
            "[1]",
            "{\"a\":1}",
            "18446744073709551615",
        ] {
            let value: Value = serde_json::from_str(raw).expect("json");
            let holder: Holder = serde_json::from_str(&format!("{{\"n\":{raw}}}")).expect("reads");
            assert_eq!(holder.n, number(Some(&value)), "{raw}");
        }
    }
}
