//! One clock for every vendor's server, and the times it reads and writes.
//!
//! A [`Clock`] is the wall time at start, moved by a fixed offset (a server whose clock is off,
//! which a client learns from `Date`) and run at a scale (one real millisecond can be a sandbox
//! minute, so billed minutes and idle timeouts pass quickly in tests). Timers sleep for the real
//! time that matches the sandbox time of their event ([`Clock::real_until`]).
//!
//! Times are RFC 3339, written and read with chrono: [`utc`] in UTC with `Z` (milliseconds when
//! there are any), [`in_offset`] in a fixed offset, whole seconds ([`date_time`] and
//! [`utc_datetime`]: the same, typed, for the generated types' fields); [`parse`] reads what
//! chrono reads, [`parse_strict`] only
//! `YYYY-MM-DDThh:mm:ss[.f](Z|±hh:mm)` and says why not.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, FixedOffset, Offset, SecondsFormat, TimeZone, Utc};

/// The largest time scale: one real second is then about 11.6 sandbox days, and the clock stays
/// within the years a date-time can show for hundreds of real years.
pub const MAX_TIME_SCALE: f64 = 1.0e6;

/// The longest a timer sleeps at once (it then looks at the clock again).
const LONGEST_SLEEP: Duration = Duration::from_secs(3600);

/// A vendor's server clock.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Unix ms the clock showed at start (the wall clock plus the offset).
    start_ms: i64,
    /// The real instant of start.
    origin: Instant,
    /// Sandbox time per real time.
    scale: f64,
}

impl Default for Clock {
    fn default() -> Self {
        Self::real()
    }
}

impl Clock {
    /// The wall clock: no offset, real speed.
    pub fn real() -> Self {
        Self {
            start_ms: unix_millis(),
            origin: Instant::now(),
            scale: 1.0,
        }
    }

    /// This clock `seconds` ahead (behind when negative).
    pub fn offset(self, seconds: i64) -> Self {
        Self {
            start_ms: self.start_ms.saturating_add(seconds.saturating_mul(1000)),
            ..self
        }
    }

    /// This clock running `scale` times as fast as real time (see [`valid_scale`]).
    pub fn scaled(self, scale: f64) -> Self {
        Self {
            scale: valid_scale(scale),
            ..self
        }
    }

    /// Its time now, Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        let elapsed = self.origin.elapsed().as_secs_f64() * 1000.0 * self.scale;
        self.start_ms.saturating_add(elapsed as i64)
    }

    /// Its time at start, Unix milliseconds.
    pub fn start_ms(&self) -> i64 {
        self.start_ms
    }

    /// Its time now as an HTTP-date, for a `Date` header.
    pub fn http_date(&self) -> String {
        let ms = self.now_ms();
        let at = if ms >= 0 {
            UNIX_EPOCH + Duration::from_millis(ms as u64)
        } else {
            UNIX_EPOCH
        };
        httpdate::fmt_http_date(at)
    }

    /// The real time to wait until the clock shows `at_ms` (rounded up by a sandbox millisecond
    /// so that a timer never wakes before its event; zero if it is past; at most an hour, after
    /// which a timer looks again).
    pub fn real_until(&self, at_ms: i64) -> Duration {
        let ahead = at_ms.saturating_sub(self.now_ms());
        if ahead < 0 {
            return Duration::ZERO;
        }
        let real_secs = (ahead as f64 + 1.0) / self.scale / 1000.0;
        Duration::try_from_secs_f64(real_secs)
            .unwrap_or(LONGEST_SLEEP)
            .min(LONGEST_SLEEP)
    }

    /// Sleeps until the clock shows `at_ms`.
    pub async fn sleep_until(&self, at_ms: i64) {
        loop {
            let wait = self.real_until(at_ms);
            if wait.is_zero() || self.now_ms() >= at_ms {
                return;
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// `scale` if it is finite and above 0 (at most [`MAX_TIME_SCALE`]), else 1.
pub fn valid_scale(scale: f64) -> f64 {
    if scale.is_finite() && scale > 0.0 {
        scale.min(MAX_TIME_SCALE)
    } else {
        1.0
    }
}

/// Unix milliseconds of the wall clock now.
pub fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Unix seconds of the wall clock now.
pub fn unix_now() -> i64 {
    unix_millis().div_euclid(1000)
}

/// `ms` as RFC 3339 in UTC with `Z`: whole seconds, or milliseconds when there are any
/// (`2026-03-14T12:05:01Z`, `2026-03-14T12:05:01.250Z`).
pub fn utc(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(at) => at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => String::new(),
    }
}

/// `ms` as a chrono UTC date-time, for the `date-time` fields of the generated types (they
/// serialize as [`utc`] writes them); the Unix epoch if `ms` is beyond chrono's range.
pub fn utc_datetime(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// `ms` as RFC 3339 in the fixed offset `offset_secs` east of UTC, whole seconds
/// (`2024-06-15T08:30:00+08:00`).
pub fn in_offset(ms: i64, offset_secs: i32) -> String {
    FixedOffset::east_opt(offset_secs)
        .and_then(|tz| tz.timestamp_millis_opt(ms).single())
        .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, false))
        .unwrap_or_default()
}

/// `ms` as a chrono date-time in the fixed offset `offset_secs` east of UTC, whole seconds: the
/// instant [`in_offset`] writes, for the typed bodies of a generated API crate (their serde writes
/// it as [`in_offset`] does). The Unix epoch in that offset if `ms` or the offset is out of range.
pub fn date_time(ms: i64, offset_secs: i32) -> DateTime<FixedOffset> {
    let tz = FixedOffset::east_opt(offset_secs).unwrap_or(Utc.fix());
    tz.timestamp_opt(ms.div_euclid(1000), 0)
        .single()
        .unwrap_or_else(|| DateTime::<Utc>::UNIX_EPOCH.with_timezone(&tz))
}

/// Unix ms of a wall-clock time in the offset `offset_secs` east of UTC (0 if there is none).
pub fn at(
    offset_secs: i32,
    (year, month, day): (i32, u32, u32),
    (hour, minute, second): (u32, u32, u32),
) -> i64 {
    FixedOffset::east_opt(offset_secs)
        .and_then(|tz| {
            tz.with_ymd_and_hms(year, month, day, hour, minute, second)
                .single()
        })
        .map_or(0, |at| at.timestamp_millis())
}

/// `ms` formatted with chrono's `format` in the offset `offset_secs` east of UTC (date codes of
/// ids: `%Y%m%d`, `%Y%m%d_%H%M%S`).
pub fn code(ms: i64, offset_secs: i32, format: &str) -> String {
    FixedOffset::east_opt(offset_secs)
        .and_then(|tz| tz.timestamp_millis_opt(ms).single())
        .map(|at| at.format(format).to_string())
        .unwrap_or_default()
}

/// Reads an RFC 3339 date-time as chrono does (`T`, `t` or a space between date and time, `Z` or
/// `±hh:mm`, any fraction). A space where the offset's `+` belongs (what a `+` becomes in a query
/// string that was not percent-encoded) reads as `+`.
pub fn parse(value: &str) -> Option<DateTime<FixedOffset>> {
    let mut text = value.to_string();
    if let Some(at) = text.rfind(' ').filter(|at| *at >= 19) {
        text.replace_range(at..=at, "+");
    }
    DateTime::parse_from_rfc3339(&text).ok()
}

/// Reads `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)` only (`T`/`t`, `Z`/`z`); the error says what
/// is wrong, naming the value (a Unix timestamp, a missing offset, a space for a `+`).
pub fn parse_strict(value: &str) -> Result<DateTime<FixedOffset>, String> {
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
    let is = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
    let shape = digits(0..4)
        && is(4, b"-")
        && digits(5..7)
        && is(7, b"-")
        && digits(8..10)
        && is(10, b"Tt")
        && digits(11..13)
        && is(13, b":")
        && digits(14..16)
        && is(16, b":")
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
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
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
    DateTime::parse_from_rfc3339(value).or_else(|e| reject(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CST: i32 = 8 * 3600;

    #[test]
    fn times_are_written_in_utc_or_an_offset() {
        let t = at(0, (2026, 3, 14), (12, 5, 1));
        assert_eq!(t, 1_773_489_901_000);
        assert_eq!(utc(t), "2026-03-14T12:05:01Z");
        assert_eq!(utc(t + 250), "2026-03-14T12:05:01.250Z");
        assert_eq!(utc(t + 100), "2026-03-14T12:05:01.100Z");
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        let cst = at(CST, (2024, 6, 15), (8, 30, 0));
        assert_eq!(cst, 1_718_411_400_000);
        assert_eq!(in_offset(cst + 999, CST), "2024-06-15T08:30:00+08:00");
        assert_eq!(code(cst, CST, "%Y%m%d"), "20240615");
        assert_eq!(code(t, 0, "%Y%m%d_%H%M%S"), "20260314_120501");
        assert_eq!(
            utc(at(0, (2024, 2, 29), (23, 59, 59))),
            "2024-02-29T23:59:59Z"
        );
        assert_eq!(at(0, (2024, 2, 30), (0, 0, 0)), 0);
    }

    #[test]
    fn typed_times_are_the_instants_written_in_the_offset() {
        let cst = at(CST, (2024, 6, 15), (8, 30, 0));
        let typed = date_time(cst + 999, CST);
        assert_eq!(typed.timestamp_millis(), cst);
        assert_eq!(typed.offset().local_minus_utc(), CST);
        let written = serde_json::to_value(typed).unwrap();
        assert_eq!(written, in_offset(cst + 999, CST).as_str());
        assert_eq!(written, "2024-06-15T08:30:00+08:00");
        assert_eq!(date_time(-1, 0).timestamp(), -1);
        assert_eq!(date_time(i64::MAX, CST).timestamp(), 0);
        assert_eq!(date_time(0, 86_400).offset().local_minus_utc(), 0);
    }

    #[test]
    fn typed_times_serialize_as_utc_writes_them() {
        for ms in [0, 1_773_489_901_000, 1_773_489_901_250, 1_773_489_901_100] {
            let typed = serde_json::to_value(utc_datetime(ms)).unwrap();
            assert_eq!(typed, serde_json::Value::from(utc(ms)), "{ms}");
            assert_eq!(utc_datetime(ms).timestamp_millis(), ms);
        }
        assert_eq!(utc_datetime(i64::MAX).timestamp_millis(), 0);
    }

    #[test]
    fn the_lenient_reader_takes_what_chrono_takes_and_a_decoded_plus() {
        let t = at(0, (2025, 1, 15), (10, 30, 0));
        let ms = |v: &str| parse(v).map(|d| d.timestamp_millis());
        assert_eq!(ms("2025-01-15T10:30:00Z"), Some(t));
        assert_eq!(ms("2025-01-15T18:30:00+08:00"), Some(t));
        assert_eq!(ms("2025-01-15T18:30:00 08:00"), Some(t));
        assert_eq!(ms("2025-01-15 10:30:00Z"), Some(t));
        for bad in [
            "",
            "yesterday",
            "2025-01-15",
            "2025-01-15T10:30:00",
            "1736937000",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_strict_reader_says_why() {
        let ok = [
            ("2024-06-15T08:30:00+08:00", 1_718_411_400_000),
            ("2024-06-15T00:30:00Z", 1_718_411_400_000),
            ("2024-06-14T17:30:00-07:00", 1_718_411_400_000),
            ("2024-06-15t00:30:00.250z", 1_718_411_400_250),
        ];
        for (text, ms) in ok {
            assert_eq!(
                parse_strict(text).map(|s| s.timestamp_millis()),
                Ok(ms),
                "{text}"
            );
        }
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
            assert!(parse_strict(bad).is_err(), "{bad}");
        }
        assert!(parse_strict("1718411400").unwrap_err().contains("Unix"));
        assert!(
            parse_strict("2024-06-15T00:00:00 08:00")
                .unwrap_err()
                .contains("%2B")
        );
    }

    #[test]
    fn a_clock_runs_offset_and_scaled() {
        let ahead = Clock::real().offset(600);
        let skew = ahead.now_ms() - unix_millis();
        assert!((599_000..=601_000).contains(&skew), "{skew}");
        assert!(ahead.http_date().ends_with(" GMT"));

        let fast = Clock::real().scaled(60_000.0);
        let start = fast.start_ms();
        let wait = fast.real_until(fast.now_ms() + 60_000);
        assert!(wait <= Duration::from_millis(2), "{wait:?}");
        assert_eq!(fast.real_until(start - 1), Duration::ZERO);
        std::thread::sleep(Duration::from_millis(5));
        assert!(fast.now_ms() - start >= 5 * 60_000);
        let slow = Clock::real();
        let wait = slow.real_until(slow.now_ms() + 2_000);
        assert!(wait > Duration::from_millis(1_900) && wait <= Duration::from_millis(2_001));
    }

    #[test]
    fn invalid_scales_read_as_one_and_huge_ones_are_capped() {
        assert_eq!(valid_scale(0.0), 1.0);
        assert_eq!(valid_scale(-3.0), 1.0);
        assert_eq!(valid_scale(f64::NAN), 1.0);
        assert_eq!(valid_scale(f64::INFINITY), 1.0);
        assert_eq!(valid_scale(1e12), MAX_TIME_SCALE);
        assert_eq!(valid_scale(0.5), 0.5);
    }
}
