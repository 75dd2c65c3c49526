//! Client-side limits: a fixed rate (governor) matching a service's documented bucket, and pacing
//! from the rate-limit headers a service sends (the way GitHub documents its own: honour
//! `Retry-After`; when the remaining budget is 0 wait for the reset; slow down as it runs low).

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use governor::{DefaultDirectRateLimiter, Quota};
use reqwest::header::{HeaderMap, HeaderName};

/// Paces requests to stay inside a server's bucket: one request every `period` on average, with
/// bursts of up to `burst`. Cheap to clone; clones share the bucket.
#[derive(Clone)]
pub struct RateLimit {
    limiter: Arc<DefaultDirectRateLimiter>,
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit").finish_non_exhaustive()
    }
}

impl RateLimit {
    /// One request per `period`, bursts of `burst`.
    pub fn new(period: Duration, burst: u32) -> Self {
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        Self {
            limiter: Arc::new(DefaultDirectRateLimiter::direct(quota)),
        }
    }

    /// Waits until one more request fits.
    pub async fn acquire(&self) {
        self.limiter.until_ready().await;
    }
}

/// Writes (anything but GET, HEAD and OPTIONS) at least `gap` apart, for every clone: GitHub's
/// advice for secondary limits, and a way never to burst a service's write quota.
#[derive(Debug)]
pub struct WriteSpacing {
    gap: Duration,
    next: Mutex<Option<Instant>>,
}

impl WriteSpacing {
    /// Writes at least `gap` apart.
    pub fn new(gap: Duration) -> Self {
        Self {
            gap,
            next: Mutex::new(None),
        }
    }

    /// How long a request with `method` must wait, reserving its slot.
    pub fn delay(&self, method: &reqwest::Method, now: Instant) -> Duration {
        if matches!(
            *method,
            reqwest::Method::GET | reqwest::Method::HEAD | reqwest::Method::OPTIONS
        ) {
            return Duration::ZERO;
        }
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let slot = next.map_or(now, |n| n.max(now));
        *next = Some(slot + self.gap);
        slot - now
    }

    /// Waits for the slot of a request with `method`.
    pub async fn wait(&self, method: &reqwest::Method) {
        let delay = self.delay(method, Instant::now());
        if !delay.is_zero() {
            tracing::trace!(?delay, "spacing writes");
            tokio::time::sleep(delay).await;
        }
    }
}

/// How a service's rate-limit reset header counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetIn {
    /// Unix seconds when the window resets (GitHub, most APIs).
    EpochSeconds,
    /// Seconds from now until the window resets.
    Seconds,
}

/// The names of a service's rate-limit headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// Requests allowed in the window.
    pub limit: HeaderName,
    /// Requests left in the window.
    pub remaining: HeaderName,
    /// When the window resets.
    pub reset: HeaderName,
    /// How the reset counts.
    pub reset_in: ResetIn,
    /// For a token bucket: the time in which the whole `limit` refills (continuously). `None`
    /// for a fixed window, whose budget comes back only at the reset.
    pub refill: Option<Duration>,
}

impl RateLimitHeaders {
    /// `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (Unix seconds).
    pub fn x_ratelimit() -> Self {
        Self {
            limit: HeaderName::from_static("x-ratelimit-limit"),
            remaining: HeaderName::from_static("x-ratelimit-remaining"),
            reset: HeaderName::from_static("x-ratelimit-reset"),
            reset_in: ResetIn::EpochSeconds,
            refill: None,
        }
    }

    /// The same headers over a token bucket that refills its whole limit in `period` (e.g. a
    /// per-minute limit: 60 s). A low budget is then paced at the refill rate, which is what the
    /// bucket sustains, rather than spread over the time to a full bucket.
    pub fn refilled_over(mut self, period: Duration) -> Self {
        self.refill = Some(period);
        self
    }
}

/// Below this share of the window's budget, requests are spread over what is left of the window.
const LOW_WATER: f64 = 0.1;

#[derive(Debug, Default)]
struct PaceState {
    hold_until: Option<Instant>,
    limit: Option<u64>,
    remaining: Option<u64>,
    reset_at: Option<Instant>,
    next_slot: Option<Instant>,
}

/// Pacing from the rate-limit headers of the answers: shared by every clone of a runtime.
#[derive(Debug)]
pub struct Pacer {
    headers: RateLimitHeaders,
    state: Mutex<PaceState>,
}

fn header_u64(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The `Retry-After` of a 429 or 503 answer: how long the server asked every request to wait.
pub fn retry_after_on(status: u16, headers: &HeaderMap) -> Option<Duration> {
    if matches!(status, 429 | 503) {
        retry_after(headers)
    } else {
        None
    }
}

/// Parses a `Retry-After` header given in seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    match value.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(SystemTime::now())
            .ok(),
    }
}

impl Pacer {
    /// Pacing from headers named `headers`.
    pub fn new(headers: RateLimitHeaders) -> Self {
        Self {
            headers,
            state: Mutex::new(PaceState::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PaceState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads an answer's headers: a `Retry-After` on a 429 or 503 holds every request until then;
    /// the budget left and the reset time steer [`Pacer::delay`]. Returns how long from now the
    /// answer asked every request to wait (zero when it did not): a runtime publishes it to the
    /// other processes of the account.
    pub fn observe(&self, status: u16, headers: &HeaderMap) -> Duration {
        let now = Instant::now();
        let mut state = self.state();
        let mut asked = Duration::ZERO;
        let mut hold = |state: &mut PaceState, until: Instant| {
            asked = asked.max(until.saturating_duration_since(now));
            state.hold_until = Some(state.hold_until.map_or(until, |h| h.max(until)));
        };
        if let Some(wait) = retry_after_on(status, headers) {
            hold(&mut state, now + wait);
        }
        if let Some(remaining) = header_u64(headers, &self.headers.remaining) {
            state.remaining = Some(remaining);
            state.limit = header_u64(headers, &self.headers.limit).or(state.limit);
            state.reset_at = header_u64(headers, &self.headers.reset).map(|reset| {
                let secs = match self.headers.reset_in {
                    ResetIn::Seconds => reset,
                    ResetIn::EpochSeconds => {
                        let unix = SystemTime::now()
                            .duration_since(UNIX_EPOCH)
                            .map(|d| d.as_secs())
                            .unwrap_or(0);
                        reset.saturating_sub(unix)
                    }
                };
                now + Duration::from_secs(secs)
            });
            if remaining == 0
                && let Some(reset) = state.reset_at
            {
                // A bucket has a token again after one refill step; a window only at its reset.
                let until = match (self.headers.refill, state.limit) {
                    (Some(period), Some(limit)) if limit > 0 => {
                        reset.min(now + period / (limit.min(u32::MAX as u64) as u32))
                    }
                    _ => reset,
                };
                hold(&mut state, until);
            }
        }
        asked
    }

    /// How long the next request should wait, counting it against the budget left.
    pub fn delay(&self, now: Instant) -> Duration {
        let mut state = self.state();
        if let Some(hold) = state.hold_until {
            if hold > now {
                return hold - now;
            }
            state.hold_until = None;
        }
        let (Some(remaining), Some(reset)) = (state.remaining, state.reset_at) else {
            return Duration::ZERO;
        };
        if reset <= now {
            state.remaining = None;
            state.next_slot = None;
            return Duration::ZERO;
        }
        let low = state
            .limit
            .is_some_and(|limit| (remaining as f64) < limit as f64 * LOW_WATER);
        state.remaining = Some(remaining.saturating_sub(1));
        if !low {
            return Duration::ZERO;
        }
        let gap = match (self.headers.refill, state.limit) {
            // A bucket sustains its refill rate: one request per refilled token.
            (Some(period), Some(limit)) if limit > 0 => {
                period / (limit.min(u32::MAX as u64) as u32)
            }
            // A window: spread what is left over what is left of it.
            _ => (reset - now) / (remaining as u32).saturating_add(1),
        };
        let slot = state.next_slot.map_or(now, |s| s.max(now));
        state.next_slot = Some(slot + gap);
        slot - now
    }

    /// Waits as [`Pacer::delay`] says.
    pub async fn wait(&self) {
        let delay = self.delay(Instant::now());
        if !delay.is_zero() {
            tracing::debug!(?delay, "pacing by the rate-limit headers");
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn unix_in(secs: u64) -> String {
        (SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + secs)
            .to_string()
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", " 3 ".into())])),
            Some(Duration::from_secs(3))
        );
        let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let d = retry_after(&headers(&[("retry-after", date)])).unwrap();
        assert!(
            d > Duration::from_secs(27) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "soon".into())])),
            None
        );
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn plenty_left_means_no_wait() {
        let p = Pacer::new(RateLimitHeaders::x_ratelimit());
        p.observe(
            200,
            &headers(&[
                ("x-ratelimit-limit", "1000".into()),
                ("x-ratelimit-remaining", "900".into()),
                ("x-ratelimit-reset", unix_in(60)),
            ]),
        );
        assert_eq!(p.delay(Instant::now()), Duration::ZERO);
    }

    #[test]
    fn nothing_left_holds_until_the_reset() {
        let p = Pacer::new(RateLimitHeaders::x_ratelimit());
        p.observe(
            200,
            &headers(&[
                ("x-ratelimit-limit", "1000".into()),
                ("x-ratelimit-remaining", "0".into()),
                ("x-ratelimit-reset", unix_in(20)),
            ]),
        );
        let d = p.delay(Instant::now());
        assert!(
            d > Duration::from_secs(18) && d <= Duration::from_secs(20),
            "{d:?}"
        );
    }

    #[test]
    fn a_retry_after_on_429_holds_everyone() {
        let p = Pacer::new(RateLimitHeaders::x_ratelimit());
        p.observe(200, &headers(&[("retry-after", "9".into())]));
        assert_eq!(p.delay(Instant::now()), Duration::ZERO, "only on 429/503");
        p.observe(429, &headers(&[("retry-after", "2".into())]));
        let d = p.delay(Instant::now());
        assert!(d > Duration::from_millis(1900), "{d:?}");
    }

    #[test]
    fn writes_are_spaced_and_reads_are_not() {
        let w = WriteSpacing::new(Duration::from_millis(250));
        let now = Instant::now();
        assert_eq!(w.delay(&reqwest::Method::POST, now), Duration::ZERO);
        assert_eq!(w.delay(&reqwest::Method::GET, now), Duration::ZERO);
        assert_eq!(
            w.delay(&reqwest::Method::PUT, now),
            Duration::from_millis(250)
        );
        assert_eq!(
            w.delay(&reqwest::Method::DELETE, now),
            Duration::from_millis(500)
        );
        assert_eq!(
            w.delay(&reqwest::Method::PATCH, now + Duration::from_secs(5)),
            Duration::ZERO
        );
    }

    #[test]
    fn a_low_bucket_is_paced_at_its_refill_rate() {
        let p = Pacer::new(RateLimitHeaders::x_ratelimit().refilled_over(Duration::from_secs(60)));
        // 300 a minute: 5 a second. A full bucket costs nothing; a low one goes at 200 ms.
        p.observe(
            200,
            &headers(&[
                ("x-ratelimit-limit", "300".into()),
                ("x-ratelimit-remaining", "250".into()),
                ("x-ratelimit-reset", unix_in(10)),
            ]),
        );
        assert_eq!(p.delay(Instant::now()), Duration::ZERO);
        p.observe(
            200,
            &headers(&[
                ("x-ratelimit-limit", "300".into()),
                ("x-ratelimit-remaining", "10".into()),
                ("x-ratelimit-reset", unix_in(58)),
            ]),
        );
        let now = Instant::now();
        let gaps: Vec<Duration> = (0..4).map(|_| p.delay(now)).collect();
        assert_eq!(gaps[0], Duration::ZERO);
        assert_eq!(gaps[1], Duration::from_millis(200));
        assert_eq!(gaps[3], Duration::from_millis(600));
        // Empty: wait for one token, not for the full bucket.
        p.observe(
            200,
            &headers(&[
                ("x-ratelimit-limit", "300".into()),
                ("x-ratelimit-remaining", "0".into()),
                ("x-ratelimit-reset", unix_in(60)),
            ]),
        );
        let d = p.delay(Instant::now());
        assert!(d <= Duration::from_millis(800), "{d:?}");
    }

    #[test]
    fn a_low_budget_is_spread_over_the_window() {
        let p = Pacer::new(RateLimitHeaders {
            reset_in: ResetIn::Seconds,
            ..RateLimitHeaders::x_ratelimit()
        });
        p.observe(
            200,
            &headers(&[
                ("x-ratelimit-limit", "100".into()),
                ("x-ratelimit-remaining", "4".into()),
                ("x-ratelimit-reset", "10".into()),
            ]),
        );
        let now = Instant::now();
        let first = p.delay(now);
        let second = p.delay(now);
        let third = p.delay(now);
        assert_eq!(first, Duration::ZERO);
        assert!(
            second >= Duration::from_secs(1) && second <= Duration::from_secs(2),
            "{second:?}"
        );
        assert!(third > second, "{third:?} after {second:?}");
    }
}
