//! The fulfillment server's clock and its times, on the kit's clock and time readers.
//!
//! The server's "now" is the real time moved by the configured offset (a client learns the skew
//! from the `Date` header). Every time the server emits is RFC 3339 in China Standard Time
//! (`+08:00`, the vendor's), whole seconds. Every time it reads, in a body, a query string or the
//! `X-OpenClaw-Timestamp` header, must be RFC 3339 with an offset: [`Stamp::parse`] says why not.

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::kit::clock::{self, Clock};
use crate::kit::read::coded;

/// The offset of every time the server emits: China Standard Time.
pub(crate) const CST: i32 = 8 * 3600;

/// The code of a time field that is not an ISO 8601 date-time with an offset: the request reader
/// answers 400 `invalid_time_format` (instead of `invalid_request`) naming the field.
pub(crate) const TIME_FORMAT: &str = "invalid_time_format";

/// The server clock: real time, `offset_secs` ahead (behind when negative).
pub(crate) fn server(offset_secs: i64) -> Clock {
    Clock::real().offset(offset_secs)
}

/// `ms` as RFC 3339 in `+08:00`, whole seconds: `2024-06-15T08:30:00+08:00`.
pub(crate) fn rfc3339(ms: i64) -> String {
    clock::in_offset(ms, CST)
}

/// `ms` in `+08:00`, whole seconds, typed: what [`rfc3339`] writes, for the generated bodies.
pub(crate) fn time(ms: i64) -> DateTime<FixedOffset> {
    clock::date_time(ms, CST)
}

/// Unix milliseconds of a wall-clock time in `+08:00` (for the seeded data).
pub(crate) fn cst(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> i64 {
    clock::at(CST, (year, month, day), (hour, minute, 0))
}

/// The `YYYYMMDD` of `ms` in `+08:00`, for order and RMA numbers.
pub(crate) fn date_code(ms: i64) -> String {
    clock::code(ms, CST, "%Y%m%d")
}

/// A time as a client sent it: the instant, with its own offset kept for echoing it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp(pub(crate) DateTime<FixedOffset>);

impl Stamp {
    /// Reads an RFC 3339 date-time with an offset (`T` or `t`, optional fraction, `Z`/`z` or
    /// `±hh:mm`); the error says what is wrong, naming the value.
    pub(crate) fn parse(value: &str) -> Result<Stamp, String> {
        clock::parse_strict(value).map(Stamp)
    }

    /// Unix milliseconds.
    pub(crate) fn ms(&self) -> i64 {
        self.0.timestamp_millis()
    }

    /// The time in its own offset, as RFC 3339 (fractions kept, `Z` for UTC).
    pub(crate) fn text(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

/// A time field of a JSON body: any other JSON type, a Unix timestamp or a time without offset
/// fails with the code [`TIME_FORMAT`] and the reason.
impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Time;
        impl<'v> Visitor<'v> for Time {
            type Value = Stamp;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an ISO 8601 date-time with an offset")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Stamp, E> {
                Stamp::parse(v).map_err(|why| E::custom(coded(TIME_FORMAT, why)))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Stamp, E> {
                self.visit_str(&v.to_string())
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Stamp, E> {
                self.visit_str(&v.to_string())
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Stamp, E> {
                self.visit_str(&v.to_string())
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Stamp, E> {
                Err(E::custom(coded(
                    TIME_FORMAT,
                    format!("{v} is not a date-time"),
                )))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Stamp, E> {
                Err(E::custom(coded(TIME_FORMAT, "null is not a date-time")))
            }

            fn visit_seq<A: de::SeqAccess<'v>>(self, _: A) -> Result<Stamp, A::Error> {
                Err(de::Error::custom(coded(
                    TIME_FORMAT,
                    "an array is not a date-time",
                )))
            }

            fn visit_map<A: de::MapAccess<'v>>(self, _: A) -> Result<Stamp, A::Error> {
                Err(de::Error::custom(coded(
                    TIME_FORMAT,
                    "an object is not a date-time",
                )))
            }
        }
        deserializer.deserialize_any(Time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emitted_times_are_cst_whole_seconds() {
        let t = cst(2024, 6, 15, 8, 30);
        assert_eq!(rfc3339(t), "2024-06-15T08:30:00+08:00");
        assert_eq!(rfc3339(t + 999), "2024-06-15T08:30:00+08:00");
        assert_eq!(serde_json::to_value(time(t + 999)).unwrap(), rfc3339(t));
        assert_eq!(date_code(t), "20240615");
        assert_eq!(t, 1_718_411_400_000);
    }

    /// The reader is `kit::clock::parse_strict` (whose own test goes through every refused
    /// shape); what `Stamp` adds is the instant and the echo in the client's own offset.
    #[test]
    fn only_rfc3339_with_an_offset_is_read() {
        let at = Stamp::parse("2024-06-14T17:30:00-07:00").unwrap();
        assert_eq!(at.ms(), 1_718_411_400_000);
        assert_eq!(at.text(), "2024-06-14T17:30:00-07:00");
        assert_eq!(
            Stamp::parse("2024-06-15t00:30:00.250z").map(|s| s.ms()),
            Ok(1_718_411_400_250)
        );
        assert!(Stamp::parse("1718411400").unwrap_err().contains("Unix"));
        assert!(
            Stamp::parse("2024-06-15T00:00:00 08:00")
                .unwrap_err()
                .contains("%2B")
        );
        assert!(Stamp::parse("2024-06-15T08:30:00").is_err());
    }

    #[test]
    fn the_clock_runs_offset() {
        let clock = server(600);
        let skew = clock.now_ms() - clock::unix_millis();
        assert!((599_000..=601_000).contains(&skew), "{skew}");
        assert!(clock.http_date().ends_with(" GMT"));
    }
}
