//! Time as every record keeps it: durations as milliseconds with one decimal, instants as UTC
//! `OffsetDateTime`s to the second, written in RFC 3339 (`2026-11-25T14:00:00Z`), and the two
//! shorter forms the reports print (certificate validity to the minute, timeline entries to the
//! millisecond).

use std::time::Duration;

use time::{OffsetDateTime, PrimitiveDateTime, Time};

/// Milliseconds with a fraction, as the reports print durations.
pub(crate) fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

/// Now, in UTC, to the second: what `started_at` and `ended_at` record.
pub(crate) fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// An instant as the reports print it: RFC 3339 (`2026-11-25T14:00:00Z`).
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Now as a time of day (UTC), for timeline entries.
pub(crate) fn time_of_day() -> Time {
    OffsetDateTime::now_utc().time()
}

/// An instant to the minute (`2027-02-23 15:57Z`), as certificate validity is shown.
pub mod minutes {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _, ser::Error as _};

    use super::{OffsetDateTime, PrimitiveDateTime};

    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]Z");

    pub(crate) fn text(at: OffsetDateTime) -> String {
        at.format(FORMAT)
            .unwrap_or_else(|_| at.unix_timestamp().to_string())
    }

    pub(crate) fn serialize<S: Serializer>(
        at: &OffsetDateTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let text = at.format(FORMAT).map_err(S::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        PrimitiveDateTime::parse(&text, FORMAT)
            .map(PrimitiveDateTime::assume_utc)
            .map_err(D::Error::custom)
    }
}

/// A time of day to the millisecond (`14:02:11.250`), as timeline entries are stamped.
const TIMELINE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[hour]:[minute]:[second].[subsecond digits:3]");

time::serde::format_description!(pub timeline_time, Time, TIMELINE);

pub(crate) fn timeline_text(at: Time) -> String {
    at.format(TIMELINE).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_in_their_formats() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Record {
            #[serde(with = "time::serde::rfc3339")]
            at: OffsetDateTime,
            #[serde(with = "minutes")]
            valid_until: OffsetDateTime,
            #[serde(with = "timeline_time")]
            logged: Time,
        }
        let at = time::macros::datetime!(2026-11-25 14:00:00 UTC);
        let record = Record {
            at,
            valid_until: time::macros::datetime!(2027-02-23 15:57 UTC),
            logged: time::macros::time!(14:02:11.250),
        };
        let json = serde_json::to_string(&record).expect("serialises");
        assert_eq!(
            json,
            r#"{"at":"2026-11-25T14:00:00Z","valid_until":"2027-02-23 15:57Z","logged":"14:02:11.250"}"#
        );
        let back: Record = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, record);
        assert_eq!(now().nanosecond(), 0);
        assert_eq!(millis(Duration::from_micros(1234)), 1.2);
    }
}
