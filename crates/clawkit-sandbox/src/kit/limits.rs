//! Rate limits per account, the way the vendors' documents describe them: token buckets
//! ([`Buckets`], several taken from at once or not at all), a count in a sliding window
//! ([`Windows`]) and requests in flight ([`Leases`]). A vendor picks its limits and its key (an
//! access token, an account, an app) and shapes its own 429 from the wait they give
//! ([`too_many_requests`] sets the status and `Retry-After`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

/// A token bucket: how many requests it holds and how fast it refills.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests the full bucket holds.
    pub capacity: f64,
    /// Requests it refills per second, continuously.
    pub per_second: f64,
}

impl Rate {
    /// `capacity` requests, refilling `per_second`.
    pub fn new(capacity: f64, per_second: f64) -> Self {
        Self {
            capacity,
            per_second,
        }
    }

    /// `n` requests a minute, all of them at once if the bucket is full.
    pub fn per_minute(n: u64) -> Self {
        Self::new(n as f64, n as f64 / 60.0)
    }

    /// `n` requests an hour, all of them at once if the bucket is full.
    pub fn per_hour(n: u64) -> Self {
        Self::new(n as f64, n as f64 / 3600.0)
    }

    /// Whole seconds until a bucket at `tokens` holds one (at least 1).
    pub fn secs_until_one(&self, tokens: f64) -> u64 {
        (((1.0 - tokens) / self.per_second).ceil() as u64).max(1)
    }

    /// Whole seconds until a bucket at `tokens` is full again.
    pub fn secs_until_full(&self, tokens: f64) -> u64 {
        ((self.capacity - tokens).max(0.0) / self.per_second).ceil() as u64
    }
}

/// One bucket's level.
#[derive(Debug, Clone, Copy)]
struct Level {
    tokens: f64,
    refilled: Instant,
}

impl Level {
    fn refill(&mut self, rate: &Rate, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate.per_second).min(rate.capacity);
        self.refilled = now;
    }
}

/// A request a bucket refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// Which of the rates refused (the first empty one).
    pub index: usize,
    /// Whole seconds until that bucket holds a request again (at least 1).
    pub retry_after: u64,
    /// Every bucket's tokens after refilling (nothing was taken).
    pub tokens: Vec<f64>,
}

/// Token buckets per key, each key starting full.
#[derive(Debug, Default)]
pub struct Buckets {
    levels: Mutex<HashMap<String, Vec<Level>>>,
}

impl Buckets {
    /// No key has used a bucket yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Vec<Level>>> {
        self.levels.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one request from each of `key`'s buckets of `rates`, or from none if any is empty;
    /// the tokens left in each.
    pub fn take(&self, key: &str, rates: &[Rate]) -> Result<Vec<f64>, Refused> {
        self.take_at(key, rates, Instant::now())
    }

    /// [`Buckets::take`] at `now`.
    pub fn take_at(&self, key: &str, rates: &[Rate], now: Instant) -> Result<Vec<f64>, Refused> {
        let mut all = self.lock();
        let levels = refilled(&mut all, key, rates, now);
        if let Some(index) = levels.iter().position(|l| l.tokens < 1.0) {
            return Err(Refused {
                index,
                retry_after: rates[index].secs_until_one(levels[index].tokens),
                tokens: levels.iter().map(|l| l.tokens).collect(),
            });
        }
        for level in levels.iter_mut() {
            level.tokens -= 1.0;
        }
        Ok(levels.iter().map(|l| l.tokens).collect())
    }

    /// The tokens in each of `key`'s buckets of `rates` now, taking none.
    pub fn peek(&self, key: &str, rates: &[Rate]) -> Vec<f64> {
        let mut all = self.lock();
        refilled(&mut all, key, rates, Instant::now())
            .iter()
            .map(|l| l.tokens)
            .collect()
    }
}

/// `key`'s levels refilled to `now` (full for a new key, or when the rates changed in number).
fn refilled<'a>(
    all: &'a mut HashMap<String, Vec<Level>>,
    key: &str,
    rates: &[Rate],
    now: Instant,
) -> &'a mut Vec<Level> {
    let levels = all.entry(key.to_string()).or_default();
    if levels.len() != rates.len() {
        *levels = rates
            .iter()
            .map(|r| Level {
                tokens: r.capacity,
                refilled: now,
            })
            .collect();
    }
    for (level, rate) in levels.iter_mut().zip(rates) {
        level.refill(rate, now);
    }
    levels
}

/// At most so many requests per key in any window of a fixed length.
#[derive(Debug)]
pub struct Windows {
    length: Duration,
    recent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Windows {
    /// Windows of `length`.
    pub fn new(length: Duration) -> Self {
        Self {
            length,
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// Lets one request of `key` in at `now` if fewer than `max` (at least 1) came in the window
    /// before it, or says how long until one fits.
    pub fn admit(&self, key: &str, max: usize, now: Instant) -> Result<(), Duration> {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let times = recent.entry(key.to_string()).or_default();
        while times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.length)
        {
            times.pop_front();
        }
        if times.len() >= max.max(1) {
            let oldest = times.front().copied().unwrap_or(now);
            return Err((oldest + self.length).saturating_duration_since(now));
        }
        times.push_back(now);
        Ok(())
    }
}

/// Requests in flight per key, each held by a [`Lease`] until it is dropped.
#[derive(Debug, Clone, Default)]
pub struct Leases {
    held: Arc<Mutex<HashMap<String, u64>>>,
}

/// One request's place among its key's requests in flight, given back when dropped.
#[derive(Debug)]
pub struct Lease {
    held: Arc<Mutex<HashMap<String, u64>>>,
    key: String,
    /// How many of the key's requests were in flight with this one.
    pub in_flight: u64,
}

impl Leases {
    /// None held.
    pub fn new() -> Self {
        Self::default()
    }

    /// A place for one more request of `key`, if fewer than `max` are in flight.
    pub fn acquire(&self, key: &str, max: u64) -> Option<Lease> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let count = held.entry(key.to_string()).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Lease {
            held: self.held.clone(),
            key: key.to_string(),
            in_flight: *count,
        })
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = held.get_mut(&self.key) {
            *count = count.saturating_sub(1);
        }
    }
}

/// `response` as a 429 that says to come back in `retry_after_secs` whole seconds.
pub fn too_many_requests(mut response: Response, retry_after_secs: u64) -> Response {
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

/// Whole seconds of `wait`, rounded up, at least 1: what `Retry-After` says for it.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_taken_from_together_or_not_at_all() {
        let buckets = Buckets::new();
        let rates = [Rate::per_minute(60), Rate::per_hour(2)];
        let start = Instant::now();
        assert_eq!(buckets.take_at("a", &rates, start).unwrap()[1], 1.0);
        assert!(buckets.take_at("a", &rates, start).is_ok());
        // The hour bucket is empty: nothing is taken from the minute one.
        let refused = buckets.take_at("a", &rates, start).unwrap_err();
        assert_eq!(refused.index, 1);
        assert_eq!(refused.retry_after, 1800);
        assert_eq!(refused.tokens[0], 58.0);
        // Another key has its own, full buckets.
        assert_eq!(buckets.take_at("b", &rates, start).unwrap()[0], 59.0);
    }

    #[test]
    fn a_bucket_refills_continuously_up_to_its_capacity() {
        let buckets = Buckets::new();
        let rate = [Rate::new(100.0, 20.0)];
        let start = Instant::now();
        for _ in 0..100 {
            buckets.take_at("t", &rate, start).unwrap();
        }
        let refused = buckets.take_at("t", &rate, start).unwrap_err();
        assert_eq!((refused.index, refused.retry_after), (0, 1));
        let later = start + Duration::from_millis(100);
        let left = buckets.take_at("t", &rate, later).unwrap();
        assert!((left[0] - 1.0).abs() < 1e-9, "{left:?}");
        let much_later = start + Duration::from_secs(3600);
        assert_eq!(buckets.take_at("t", &rate, much_later).unwrap()[0], 99.0);
        assert_eq!(rate[0].secs_until_full(99.0), 1);
        assert_eq!(Rate::per_minute(60).secs_until_full(0.0), 60);
    }

    #[test]
    fn windows_count_the_last_length_of_time() {
        let window = Windows::new(Duration::from_secs(1));
        let start = Instant::now();
        for i in 0..10 {
            assert_eq!(
                window.admit("app", 10, start + Duration::from_millis(i * 10)),
                Ok(())
            );
        }
        let wait = window
            .admit("app", 10, start + Duration::from_millis(500))
            .unwrap_err();
        assert_eq!(retry_after_secs(wait), 1);
        assert_eq!(wait, Duration::from_millis(500));
        assert_eq!(window.admit("other", 10, start), Ok(()));
        assert_eq!(
            window.admit("app", 10, start + Duration::from_millis(1000)),
            Ok(())
        );
    }

    #[test]
    fn leases_cap_requests_in_flight_until_dropped() {
        let leases = Leases::new();
        let held: Vec<Lease> = (0..3).map(|_| leases.acquire("k", 3).unwrap()).collect();
        assert_eq!(held[2].in_flight, 3);
        assert!(leases.acquire("k", 3).is_none());
        assert!(leases.acquire("other", 3).is_some());
        drop(held);
        assert_eq!(leases.acquire("k", 3).unwrap().in_flight, 1);
    }

    #[test]
    fn a_429_says_when_to_come_back() {
        let response = too_many_requests(Response::new(axum::body::Body::empty()), 7);
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
    }
}
