//! The server's clock as seen from here: the skew learned from `Date` headers (the way the AWS
//! SDKs learn it), so signed timestamps agree with the server even when this machine's clock is off.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

/// Skews smaller than this are the `Date` header's one-second resolution, not a wrong clock.
const DEADBAND_MS: i64 = 2_000;

/// A clock corrected by the skew learned from the server. Shared by every clone of a runtime.
#[derive(Debug, Default)]
pub struct Clock {
    skew_ms: AtomicI64,
}

impl Clock {
    /// The server's time now, as best known: local time plus the learned skew.
    pub fn now(&self) -> SystemTime {
        shift(SystemTime::now(), self.skew_ms())
    }

    /// The learned skew in milliseconds (server minus local; 0 until learned).
    pub fn skew_ms(&self) -> i64 {
        self.skew_ms.load(Ordering::Relaxed)
    }

    /// Sets the skew, e.g. from a server's answer that names its own time.
    pub fn set_skew_ms(&self, skew: i64) {
        self.skew_ms.store(skew, Ordering::Relaxed);
    }

    /// Learns the skew from a response's `Date` header: the server's time minus the middle of the
    /// exchange. Ignored when the header is missing or unparsable, or the exchange took over 15
    /// minutes; skews within the header's resolution count as none.
    pub fn learn(&self, sent: SystemTime, received: SystemTime, date: Option<&str>) {
        let Some(server) = date.and_then(|d| httpdate::parse_http_date(d).ok()) else {
            return;
        };
        let Ok(rtt) = received.duration_since(sent) else {
            return;
        };
        if rtt > Duration::from_secs(15 * 60) {
            return;
        }
        let middle = sent + rtt / 2;
        let skew = millis_between(middle, server);
        self.set_skew_ms(if skew.abs() < DEADBAND_MS { 0 } else { skew });
    }
}

/// `to - from` in milliseconds, negative when `to` is earlier.
fn millis_between(from: SystemTime, to: SystemTime) -> i64 {
    match to.duration_since(from) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

/// `t` moved by `ms` milliseconds.
fn shift(t: SystemTime, ms: i64) -> SystemTime {
    let d = Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 { t + d } else { t - d }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_skew_from_the_date_header() {
        let clock = Clock::default();
        let sent = SystemTime::now();
        let received = sent + Duration::from_millis(200);
        let server = httpdate::fmt_http_date(sent + Duration::from_secs(400));
        clock.learn(sent, received, Some(&server));
        let skew = clock.skew_ms();
        assert!((398_000..=400_500).contains(&skew), "{skew}");
        let ahead = millis_between(SystemTime::now(), clock.now());
        assert!((397_000..=401_000).contains(&ahead), "{ahead}");

        let behind = httpdate::fmt_http_date(sent - Duration::from_secs(90));
        clock.learn(sent, received, Some(&behind));
        assert!(
            (-91_500..=-89_000).contains(&clock.skew_ms()),
            "{}",
            clock.skew_ms()
        );

        // a synchronised server (within the header's one-second resolution) is no skew
        clock.learn(sent, received, Some(&httpdate::fmt_http_date(sent)));
        assert_eq!(clock.skew_ms(), 0);
        // garbage and a missing header change nothing
        clock.set_skew_ms(5_000);
        clock.learn(sent, received, Some("yesterday"));
        clock.learn(sent, received, None);
        assert_eq!(clock.skew_ms(), 5_000);
    }
}
