//! Time as the DevOps API writes it: Unix milliseconds inside, RFC 3339 (`2026-03-14T12:05:01Z`) on
//! the wire, and the `20260314` / `120501` date and time codes of its ids.

use crate::kit::clock::unix_millis;

/// Unix milliseconds now.
pub(super) fn now_ms() -> i64 {
    unix_millis()
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Unix milliseconds of a UTC date and time.
pub(super) fn at(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> i64 {
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second);
    secs * 1000
}

/// The UTC fields of `ms`: (year, month, day, hour, minute, second, millisecond).
fn fields(ms: i64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000) as u32;
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let in_day = secs.rem_euclid(86_400) as u32;
    (
        year,
        month,
        day,
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60,
        millis,
    )
}

/// RFC 3339 in UTC: `2026-03-14T12:05:01Z`, with `.mmm` only when the milliseconds are not zero.
pub(super) fn iso(ms: i64) -> String {
    let (y, mo, d, h, mi, s, milli) = fields(ms);
    if milli == 0 {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
    }
}

/// The date code of ids: `20260314`.
pub(super) fn date_code(ms: i64) -> String {
    let (y, mo, d, ..) = fields(ms);
    format!("{y:04}{mo:02}{d:02}")
}

/// The date and time code of ids: `20260314_120501`.
pub(super) fn stamp_code(ms: i64) -> String {
    let (y, mo, d, h, mi, s, _) = fields(ms);
    format!("{y:04}{mo:02}{d:02}_{h:02}{mi:02}{s:02}")
}

/// Whole seconds in `ms` milliseconds, rounded up (a started second counts).
pub(super) fn ceil_secs(ms: i64) -> i64 {
    (ms.max(0) + 999) / 1000
}

/// Whole seconds in `ms` milliseconds, rounded to the nearest.
pub(super) fn round_secs(ms: i64) -> i64 {
    (ms.max(0) + 500) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_codes() {
        let t = at(2026, 3, 14, 12, 5, 1);
        assert_eq!(t, 1_773_489_901_000);
        assert_eq!(iso(t), "2026-03-14T12:05:01Z");
        assert_eq!(iso(t + 250), "2026-03-14T12:05:01.250Z");
        assert_eq!(date_code(t), "20260314");
        assert_eq!(stamp_code(t), "20260314_120501");
        assert_eq!(iso(at(2024, 2, 29, 23, 59, 59)), "2024-02-29T23:59:59Z");
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!((ceil_secs(1001), round_secs(1499)), (2, 1));
    }
}
