//! The seed's rate limits (限流策略): per account, a token bucket of the tier's requests per minute
//! refilling continuously at limit/60 per second, an hourly bucket refilling at limit/3600 per
//! second, and a cap on requests in flight. Over any of them the answer is 429 `RATE_LIMITED`.
//!
//! Every answer of `/openclaw-devops` carries `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
//! `X-RateLimit-Reset` and `Retry-After`: the middlewares here wrap the public routes (the account
//! is the body's `username` or `client_id`, a refresh token's owner, else `anonymous`) and the
//! protected ones (the token's `name`); a 401 of [`crate::vendor::Api::authorize`] is counted and
//! labelled against the `anonymous` account.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Devops;
use super::envelope::ApiError;
use super::state::Stats;
use crate::kit::clock::unix_now;
use crate::vendor::read_body;

/// The account of requests that name none (no token, a bad token, an auth body without a
/// client id).
pub(super) const ANONYMOUS: &str = "anonymous";

/// The largest body the auth middleware reads to find the account (the routes' own limit).
const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// A rate-limit tier (用户等级) of the seed's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, clap::ValueEnum)]
pub enum DevopsTier {
    /// 60 requests a minute, 1,000 an hour, 5 at once.
    Free,
    /// 300 requests a minute, 10,000 an hour, 20 at once (every account's tier by default).
    #[default]
    Pro,
    /// 1,000 requests a minute, 50,000 an hour, 100 at once.
    Enterprise,
}

impl DevopsTier {
    /// Requests per minute (`X-RateLimit-Limit`).
    pub fn per_minute(self) -> u64 {
        match self {
            DevopsTier::Free => 60,
            DevopsTier::Pro => 300,
            DevopsTier::Enterprise => 1_000,
        }
    }

    /// Requests per hour.
    pub fn per_hour(self) -> u64 {
        match self {
            DevopsTier::Free => 1_000,
            DevopsTier::Pro => 10_000,
            DevopsTier::Enterprise => 50_000,
        }
    }

    /// Requests in flight at once (并发连接).
    pub fn concurrent(self) -> u64 {
        match self {
            DevopsTier::Free => 5,
            DevopsTier::Pro => 20,
            DevopsTier::Enterprise => 100,
        }
    }
}

/// A token bucket refilling continuously.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl Bucket {
    fn full(capacity: u64, now: Instant) -> Self {
        Self {
            tokens: capacity as f64,
            refilled: now,
        }
    }

    /// Adds what `per_second` refilled since the last call, up to `capacity`.
    fn refill(&mut self, now: Instant, capacity: u64, per_second: f64) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(capacity as f64);
        self.refilled = now;
    }

    /// Whole seconds until the bucket holds one token (at least 1).
    fn wait_for_one(&self, per_second: f64) -> u64 {
        (((1.0 - self.tokens) / per_second).ceil() as u64).max(1)
    }
}

/// One account's buckets and requests in flight.
#[derive(Debug)]
struct Usage {
    minute: Bucket,
    hour: Bucket,
    in_flight: u64,
}

/// The rate-limit headers of one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Quota {
    /// `X-RateLimit-Limit`: requests per minute.
    pub(super) limit: u64,
    /// `X-RateLimit-Remaining`: whole tokens left in the minute bucket.
    pub(super) remaining: u64,
    /// `X-RateLimit-Reset`: Unix seconds when the minute bucket is full again.
    pub(super) reset: i64,
    /// `Retry-After`: 0 while tokens are left, else seconds until the next one.
    pub(super) retry_after: u64,
}

impl Quota {
    /// Headers for an answer that did not go through a bucket (a fault's): the default tier's
    /// limit, nothing remaining, a full minute to reset.
    pub(super) fn fixed(retry_after: u64) -> Self {
        Self {
            limit: DevopsTier::Pro.per_minute(),
            remaining: 0,
            reset: unix_now() + 60,
            retry_after,
        }
    }

    /// Sets the four headers on `headers`.
    pub(super) fn apply(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(self.reset));
        headers.insert("retry-after", HeaderValue::from(self.retry_after));
    }

    /// `response` with the four headers.
    pub(super) fn on(&self, mut response: Response) -> Response {
        self.apply(response.headers_mut());
        response
    }
}

/// A request over a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Refused {
    /// The headers (with `Retry-After` the wait).
    pub(super) quota: Quota,
    /// `minute`, `hour` or `concurrency`.
    pub(super) window: &'static str,
    /// The limit of that window.
    pub(super) limit: u64,
}

impl Refused {
    /// 429 `RATE_LIMITED` with its headers.
    pub(super) fn response(&self) -> Response {
        let error = ApiError::rate_limited(self.limit, self.window, self.quota.retry_after);
        self.quota.on(error.into_response())
    }
}

/// A request let in: its headers, and its place among the account's requests in flight until it
/// is dropped.
#[derive(Debug)]
pub(super) struct Admission<'a> {
    limiter: &'a Limiter,
    account: String,
    /// The headers of its answer.
    pub(super) quota: Quota,
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        let mut usage = self.limiter.lock();
        if let Some(u) = usage.get_mut(&self.account) {
            u.in_flight = u.in_flight.saturating_sub(1);
        }
    }
}

/// Every account's buckets.
#[derive(Debug)]
pub(super) struct Limiter {
    default: DevopsTier,
    tiers: HashMap<String, DevopsTier>,
    usage: Mutex<HashMap<String, Usage>>,
}

impl Limiter {
    /// Buckets for accounts of the given tiers (any other account's is `default`).
    pub(super) fn new(default: DevopsTier, tiers: HashMap<String, DevopsTier>) -> Self {
        Self {
            default,
            tiers,
            usage: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Usage>> {
        self.usage.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The tier of `account`.
    pub(super) fn tier(&self, account: &str) -> DevopsTier {
        self.tiers.get(account).copied().unwrap_or(self.default)
    }

    /// Lets one request of `account` in (taking a token from both buckets and a place in
    /// flight), or refuses it; counts refusals and the most requests in flight in `stats`.
    pub(super) fn admit(&self, account: &str, stats: &Stats) -> Result<Admission<'_>, Refused> {
        let tier = self.tier(account);
        let (minute_cap, hour_cap) = (tier.per_minute(), tier.per_hour());
        let (minute_rate, hour_rate) = (minute_cap as f64 / 60.0, hour_cap as f64 / 3600.0);
        let now = Instant::now();
        let now_unix = unix_now();
        let mut all = self.lock();
        let usage = all.entry(account.to_string()).or_insert_with(|| Usage {
            minute: Bucket::full(minute_cap, now),
            hour: Bucket::full(hour_cap, now),
            in_flight: 0,
        });
        usage.minute.refill(now, minute_cap, minute_rate);
        usage.hour.refill(now, hour_cap, hour_rate);
        let quota = |minute: &Bucket, retry_after: u64| Quota {
            limit: minute_cap,
            remaining: minute.tokens.max(0.0).floor() as u64,
            reset: now_unix + ((minute_cap as f64 - minute.tokens) / minute_rate).ceil() as i64,
            retry_after,
        };
        let refusal = if usage.in_flight >= tier.concurrent() {
            Some(("concurrency", tier.concurrent(), 1))
        } else if usage.minute.tokens < 1.0 {
            Some(("minute", minute_cap, usage.minute.wait_for_one(minute_rate)))
        } else if usage.hour.tokens < 1.0 {
            Some(("hour", hour_cap, usage.hour.wait_for_one(hour_rate)))
        } else {
            None
        };
        if let Some((window, limit, wait)) = refusal {
            let counter = match window {
                "concurrency" => &stats.rate_limited_concurrency,
                "minute" => &stats.rate_limited_minute,
                _ => &stats.rate_limited_hour,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            return Err(Refused {
                quota: quota(&usage.minute, wait),
                window,
                limit,
            });
        }
        usage.minute.tokens -= 1.0;
        usage.hour.tokens -= 1.0;
        usage.in_flight += 1;
        stats.note_in_flight(account, usage.in_flight);
        let retry_after = if usage.minute.tokens >= 1.0 {
            0
        } else {
            usage.minute.wait_for_one(minute_rate)
        };
        Ok(Admission {
            limiter: self,
            account: account.to_string(),
            quota: quota(&usage.minute, retry_after),
        })
    }
}

/// Runs `request` as one of `account`'s (or answers 429) and labels the answer.
async fn limited(devops: &Devops, account: &str, request: Request, next: Next) -> Response {
    match devops.limiter.admit(account, &devops.stats) {
        Err(refused) => refused.response(),
        Ok(admission) => {
            devops.stats.requests.fetch_add(1, Ordering::Relaxed);
            let response = next.run(request).await;
            let quota = admission.quota;
            drop(admission);
            quota.on(response)
        }
    }
}

/// The middleware of the public routes (`/auth/*`): the account is read from the body.
pub(super) async fn public(
    State(devops): State<Arc<Devops>>,
    request: Request,
    next: Next,
) -> Response {
    let Some((request, bytes)) = read_body(request, BODY_LIMIT).await else {
        let quota = match devops.limiter.admit(ANONYMOUS, &devops.stats) {
            Ok(admission) => admission.quota,
            Err(refused) => return refused.response(),
        };
        return quota.on(ApiError::body("请求体过大或无法读取").into_response());
    };
    let account = devops.account_of_auth_body(&bytes);
    limited(&devops, &account, request, next).await
}

/// The middleware of the protected routes, inside [`crate::vendor::require`]: the account is the
/// token's, and the handlers find the [`super::rbac::Caller`] in the request's extensions.
pub(super) async fn protected(
    State(devops): State<Arc<Devops>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match devops.verify(request.headers()) {
        Ok(caller) => caller,
        // `authorize` let it in a moment ago; it expired in between.
        Err(reason) => return devops.refuse(reason),
    };
    let account = caller.account.clone();
    request.extensions_mut().insert(caller);
    limited(&devops, &account, request, next).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minute_bucket_empties_and_says_when_to_come_back() {
        let limiter = Limiter::new(
            DevopsTier::Pro,
            HashMap::from([("free".to_string(), DevopsTier::Free)]),
        );
        let stats = Stats::default();
        for i in 0..60u64 {
            let admission = limiter.admit("free", &stats).unwrap();
            assert_eq!(admission.quota.limit, 60);
            assert!(admission.quota.remaining <= 59 - i + 1);
        }
        let refused = limiter.admit("free", &stats).unwrap_err();
        assert_eq!((refused.window, refused.limit), ("minute", 60));
        assert_eq!(refused.quota.retry_after, 1);
        assert_eq!(stats.rate_limited_minute.load(Ordering::Relaxed), 1);
        // Another account has its own bucket, of the default tier.
        assert_eq!(limiter.admit("other", &stats).unwrap().quota.limit, 300);
    }

    #[test]
    fn requests_in_flight_are_capped() {
        let limiter = Limiter::new(
            DevopsTier::Pro,
            HashMap::from([("free".to_string(), DevopsTier::Free)]),
        );
        let stats = Stats::default();
        let held: Vec<_> = (0..5)
            .map(|_| limiter.admit("free", &stats).unwrap())
            .collect();
        let refused = limiter.admit("free", &stats).unwrap_err();
        assert_eq!((refused.window, refused.limit), ("concurrency", 5));
        assert_eq!(stats.max_concurrency("free"), 5);
        drop(held);
        assert!(limiter.admit("free", &stats).is_ok());
    }
}
