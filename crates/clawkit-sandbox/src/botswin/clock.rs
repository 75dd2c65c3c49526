//! The vendor's clock, which can run faster (or slower) than real time, and its times.
//!
//! Sandbox time is the wall time at start plus the real time elapsed since, times the scale: at
//! scale 60000 one real millisecond is one sandbox minute. Every time the API shows, every billed
//! minute and the 5-minute idle timeout run on it; a timer sleeps for the real time that matches
//! the sandbox time of its next event ([`Clock::real_until`]).
//!
//! Times are emitted as RFC 3339 in UTC with `Z`, whole seconds or milliseconds
//! (`2025-01-15T10:30:00Z`, `2026-11-24T10:30:00.123Z`); times read (the history's `start` and
//! `end`) are RFC 3339 date-times with an offset ([`parse`]).

use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

use crate::kit::clock::unix_millis;

/// A sandbox minute, in milliseconds.
pub(super) const MINUTE_MS: i64 = 60_000;

/// The largest time scale: one real second is then about 11.6 sandbox days, and the clock stays
/// within the years a date-time can show for hundreds of real years.
pub const MAX_TIME_SCALE: f64 = 1.0e6;

/// The longest a timer sleeps at once (it then looks at the clock again).
const LONGEST_SLEEP: Duration = Duration::from_secs(3600);

/// The sandbox clock.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    /// Unix ms of the wall clock at start.
    wall_ms: i64,
    /// The real instant of start.
    origin: Instant,
    /// Sandbox time per real time.
    scale: f64,
}

impl Clock {
    /// A clock showing the wall time now and running `scale` times as fast as real time (a scale
    /// that is not finite or not above 0 reads as 1, one above [`MAX_TIME_SCALE`] as that).
    pub(super) fn new(scale: f64) -> Self {
        Self {
            wall_ms: unix_millis(),
            origin: Instant::now(),
            scale: valid_scale(scale),
        }
    }

    /// The sandbox time now, Unix milliseconds.
    pub(super) fn now_ms(&self) -> i64 {
        let elapsed = self.origin.elapsed().as_secs_f64() * 1000.0 * self.scale;
        self.wall_ms.saturating_add(elapsed as i64)
    }

    /// The sandbox time at start, Unix milliseconds.
    pub(super) fn start_ms(&self) -> i64 {
        self.wall_ms
    }

    /// The real time to wait until the sandbox clock shows `at_ms` (rounded up by a sandbox
    /// millisecond so that a timer never wakes before its event; zero if it is past).
    pub(super) fn real_until(&self, at_ms: i64) -> Duration {
        let ahead = at_ms.saturating_sub(self.now_ms());
        if ahead < 0 {
            return Duration::ZERO;
        }
        let real_secs = (ahead as f64 + 1.0) / self.scale / 1000.0;
        Duration::try_from_secs_f64(real_secs)
            .unwrap_or(LONGEST_SLEEP)
            .min(LONGEST_SLEEP)
    }
}

/// `scale` if it is finite and above 0 (at most [`MAX_TIME_SCALE`]), else 1.
pub(super) fn valid_scale(scale: f64) -> f64 {
    if scale.is_finite() && scale > 0.0 {
        scale.min(MAX_TIME_SCALE)
    } else {
        1.0
    }
}

/// `ms` as RFC 3339 UTC with `Z`: whole seconds, or milliseconds when there are any.
pub(super) fn rfc3339(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(at) => at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => String::new(),
    }
}

/// Unix ms of a UTC wall-clock time (for the seeded data).
pub(super) fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> i64 {
    Utc.with_ymd_and_hms(year, month, day, hour, minute, second)
        .single()
        .map_or(0, |at| at.timestamp_millis())
}

/// Reads an RFC 3339 date-time with an offset (`Z` or `±hh:mm`, fractional seconds allowed, `T`,
/// `t` or a space between date and time), as Unix nanoseconds so that a bound with a fraction
/// below the millisecond still compares exactly. A space where the offset's `+` belongs (what a
/// `+` becomes in a query string that was not percent-encoded) reads as `+`.
pub(super) fn parse(value: &str) -> Option<i128> {
    let mut text = value.to_string();
    if let Some(at) = text.rfind(' ').filter(|at| *at >= 19) {
        text.replace_range(at..=at, "+");
    }
    let at: DateTime<_> = DateTime::parse_from_rfc3339(&text).ok()?;
    let nanos =
        i128::from(at.timestamp()) * 1_000_000_000 + i128::from(at.timestamp_subsec_nanos());
    Some(nanos)
}

/// Unix ms as Unix nanoseconds, to compare with a parsed bound.
pub(super) fn ms_to_nanos(ms: i64) -> i128 {
    i128::from(ms) * 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emitted_times_are_utc_with_at_most_milliseconds() {
        let t = utc(2025, 1, 15, 10, 30, 0);
        assert_eq!(rfc3339(t), "2025-01-15T10:30:00Z");
        assert_eq!(rfc3339(t + 123), "2025-01-15T10:30:00.123Z");
        assert_eq!(rfc3339(t + 100), "2025-01-15T10:30:00.100Z");
    }

    #[test]
    fn offsets_fractions_and_a_decoded_plus_are_read() {
        let t = i128::from(utc(2025, 1, 15, 10, 30, 0)) * 1_000_000;
        assert_eq!(parse("2025-01-15T10:30:00Z"), Some(t));
        assert_eq!(parse("2025-01-15T18:30:00+08:00"), Some(t));
        assert_eq!(parse("2025-01-15T18:30:00 08:00"), Some(t));
        assert_eq!(parse("2025-01-15T05:30:00-05:00"), Some(t));
        assert_eq!(parse("2025-01-15t10:30:00.0005z"), Some(t + 500_000));
        for bad in [
            "",
            "yesterday",
            "2025-01-15",
            "2025-01-15T10:30:00",
            "1736937000",
            "2025-01-15T10:30:00+0800",
            "2025-02-30T10:30:00Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_clock_runs_scaled_and_timers_convert_back_to_real_time() {
        let clock = Clock::new(60_000.0);
        let start = clock.start_ms();
        assert!((start - unix_millis()).abs() < 5_000);
        // A sandbox minute ahead is about a real millisecond away.
        let wait = clock.real_until(clock.now_ms() + MINUTE_MS);
        assert!(wait <= Duration::from_millis(2), "{wait:?}");
        assert_eq!(clock.real_until(start - 1), Duration::ZERO);
        std::thread::sleep(Duration::from_millis(5));
        assert!(clock.now_ms() - start >= 5 * MINUTE_MS);
        let slow = Clock::new(1.0);
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
