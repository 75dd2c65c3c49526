//! The fulfillment server's clock and its times.
//!
//! The server's "now" is the real time moved by the configured offset (a client learns the skew
//! from the `Date` header). Every time the server emits is RFC 3339 in China Standard Time
//! (`+08:00`, the vendor's), whole seconds. Every time it reads, in a body, a query string or the
//! `X-OpenClaw-Timestamp` header, must be RFC 3339 with an offset: [`Stamp::parse`] says why not.

use std::time::{Duration, UNIX_EPOCH};

use chrono::{DateTime, FixedOffset, SecondsFormat, TimeZone};
use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::kit::clock::unix_millis;

/// The offset of every time the server emits: China Standard Time.
const CST: i32 = 8 * 3600;

/// What a time field's deserialization error starts with, so that the request reader answers
/// `invalid_time_format` (instead of `invalid_request`) naming the field.
pub(super) const TIME_ERROR: &str = "invalid_time_format: ";

/// The server clock: real time plus a fixed offset.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    offset_ms: i64,
}

impl Clock {
    /// A clock `offset_secs` ahead of real time (behind when negative).
    pub(super) fn new(offset_secs: i64) -> Self {
        Self {
            offset_ms: offset_secs.saturating_mul(1000),
        }
    }

    /// The server's now, Unix milliseconds.
    pub(super) fn now_ms(&self) -> i64 {
        unix_millis().saturating_add(self.offset_ms)
    }

    /// The server's now as an HTTP-date, for the `Date` header.
    pub(super) fn http_date(&self) -> String {
        let ms = self.now_ms();
        let at = if ms >= 0 {
            UNIX_EPOCH + Duration::from_millis(ms as u64)
        } else {
            UNIX_EPOCH
        };
        httpdate::fmt_http_date(at)
    }

    /// Real time from now until the server's clock shows `at_ms` (zero if it already does).
    pub(super) fn until(&self, at_ms: i64) -> Duration {
        Duration::from_millis(at_ms.saturating_sub(self.now_ms()).max(0) as u64)
    }
}

/// `ms` as RFC 3339 in `+08:00`, whole seconds: `2024-06-15T08:30:00+08:00`.
pub(super) fn rfc3339(ms: i64) -> String {
    let Some(offset) = FixedOffset::east_opt(CST) else {
        return String::new();
    };
    match offset.timestamp_millis_opt(ms).single() {
        Some(at) => at.to_rfc3339_opts(SecondsFormat::Secs, false),
        None => String::new(),
    }
}

/// Unix milliseconds of a wall-clock time in `+08:00` (for the seeded data).
pub(super) fn cst(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> i64 {
    FixedOffset::east_opt(CST)
        .and_then(|tz| {
            tz.with_ymd_and_hms(year, month, day, hour, minute, 0)
                .single()
        })
        .map_or(0, |at| at.timestamp_millis())
}

/// The `YYYYMMDD` of `ms` in `+08:00`, for order and RMA numbers.
pub(super) fn date_code(ms: i64) -> String {
    rfc3339(ms).get(..10).unwrap_or_default().replace('-', "")
}

/// A time as a client sent it: the instant, with its own offset kept for echoing it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp(DateTime<FixedOffset>);

impl Stamp {
    /// Reads an RFC 3339 date-time with an offset (`T` or `t`, optional fraction, `Z`/`z` or
    /// `±hh:mm`); the error says what is wrong, naming the value.
    pub(super) fn parse(value: &str) -> Result<Stamp, String> {
        let unsigned = value.strip_prefix('-').unwrap_or(value);
        if !unsigned.is_empty()
            && unsigned.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && unsigned.bytes().filter(|b| *b == b'.').count() <= 1
        {
            return Err(format!(
                "{value} is a Unix timestamp, not an ISO 8601 date-time with an offset"
            ));
        }
        let reject = |why: &str| Err(format!("{value:?} is not an ISO 8601 date-time: {why}"));
        let b = value.as_bytes();
        let digits = |range: std::ops::Range<usize>| {
            b.get(range)
                .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
        };
        let at = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
        let shape = digits(0..4)
            && at(4, b"-")
            && digits(5..7)
            && at(7, b"-")
            && digits(8..10)
            && at(10, b"Tt")
            && digits(11..13)
            && at(13, b":")
            && digits(14..16)
            && at(16, b":")
            && digits(17..19);
        if !shape {
            return reject("expected YYYY-MM-DDThh:mm:ss followed by an offset");
        }
        let mut rest = &value[19..];
        if let Some(fraction) = rest.strip_prefix('.') {
            let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return reject("a '.' must be followed by digits");
            }
            rest = &fraction[n..];
        }
        let offset_ok = match rest.as_bytes() {
            [b'Z' | b'z'] => true,
            [b'+' | b'-', h1, h2, b':', m1, m2] => {
                [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
            }
            [] => return reject("no offset; add Z or ±hh:mm, e.g. 2024-06-15T08:30:00+08:00"),
            [b' ', ..] => {
                return reject(
                    "a space where the offset's sign belongs; in a query string send '+' as %2B",
                );
            }
            _ => false,
        };
        if !offset_ok {
            return reject("the offset must be Z or ±hh:mm");
        }
        match DateTime::parse_from_rfc3339(value) {
            Ok(at) => Ok(Stamp(at)),
            Err(e) => reject(&e.to_string()),
        }
    }

    /// Unix milliseconds.
    pub(super) fn ms(&self) -> i64 {
        self.0.timestamp_millis()
    }

    /// The time in its own offset, as RFC 3339 (fractions kept, `Z` for UTC).
    pub(super) fn text(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

/// A time field of a JSON body: any other JSON type, a Unix timestamp or a time without offset
/// fails with [`TIME_ERROR`] and the reason.
impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Time;
        impl<'v> Visitor<'v> for Time {
            type Value = Stamp;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an ISO 8601 date-time with an offset")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Stamp, E> {
                Stamp::parse(v).map_err(|why| E::custom(format!("{TIME_ERROR}{why}")))
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
                Err(E::custom(format!("{TIME_ERROR}{v} is not a date-time")))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Stamp, E> {
                Err(E::custom(format!("{TIME_ERROR}null is not a date-time")))
            }

            fn visit_seq<A: de::SeqAccess<'v>>(self, _: A) -> Result<Stamp, A::Error> {
                Err(de::Error::custom(format!(
                    "{TIME_ERROR}an array is not a date-time"
                )))
            }

            fn visit_map<A: de::MapAccess<'v>>(self, _: A) -> Result<Stamp, A::Error> {
                Err(de::Error::custom(format!(
                    "{TIME_ERROR}an object is not a date-time"
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
        assert_eq!(date_code(t), "20240615");
        assert_eq!(t, 1_718_411_400_000);
    }

    #[test]
    fn only_rfc3339_with_an_offset_is_read() {
        let ok = [
            ("2024-06-15T08:30:00+08:00", 1_718_411_400_000),
            ("2024-06-15T00:30:00Z", 1_718_411_400_000),
            ("2024-06-14T17:30:00-07:00", 1_718_411_400_000),
            ("2024-06-15t00:30:00.250z", 1_718_411_400_250),
        ];
        for (text, ms) in ok {
            assert_eq!(Stamp::parse(text).map(|s| s.ms()), Ok(ms), "{text}");
        }
        assert_eq!(
            Stamp::parse("2024-06-14T17:30:00-07:00").unwrap().text(),
            "2024-06-14T17:30:00-07:00"
        );
        for bad in [
            "1718411400",
            "2024-06-15T08:30:00",
            "2024-06-15 08:30:00+08:00",
            "2024-06-15T08:30:00 08:00",
            "2024-01-01T12:99:00Z",
            "2024-02-30T00:00:00Z",
            "2024-06-15T08:30:00+0800",
            "2024-06-15",
            "",
        ] {
            assert!(Stamp::parse(bad).is_err(), "{bad}");
        }
        assert!(Stamp::parse("1718411400").unwrap_err().contains("Unix"));
        assert!(
            Stamp::parse("2024-06-15T00:00:00 08:00")
                .unwrap_err()
                .contains("%2B")
        );
    }

    #[test]
    fn the_clock_runs_offset() {
        let clock = Clock::new(600);
        let skew = clock.now_ms() - unix_millis();
        assert!((599_000..=601_000).contains(&skew), "{skew}");
        assert!(clock.http_date().ends_with(" GMT"));
    }
}
