//! The seed's rate limits (限流策略), per account and tier, over the kit's limits: a token bucket
//! of the tier's requests per minute (refilling continuously at limit/60 per second) and one of
//! its requests per hour, taken from together or not at all ([`crate::kit::limits::Buckets`]),
//! and a cap on requests in flight ([`crate::kit::limits::Leases`]). Over any of them (checked in
//! that order: in flight, minute, hour) the answer is 429 `RATE_LIMITED`.
//!
//! The vendor's own parts are its tiers and the four headers on every answer of
//! `/openclaw-devops`: `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` and
//! `Retry-After` ([`Quota`]).

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::kit::clock::unix_now;
use crate::kit::limits::{Buckets, Lease, Leases, Rate};

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

    /// Its two buckets: the minute's, then the hour's.
    fn rates(self) -> [Rate; 2] {
        [
            Rate::per_minute(self.per_minute()),
            Rate::per_hour(self.per_hour()),
        ]
    }
}

/// The rate-limit headers of one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quota {
    /// `X-RateLimit-Limit`: requests per minute.
    pub(crate) limit: u64,
    /// `X-RateLimit-Remaining`: whole tokens left in the minute bucket.
    pub(crate) remaining: u64,
    /// `X-RateLimit-Reset`: Unix seconds when the minute bucket is full again.
    pub(crate) reset: i64,
    /// `Retry-After`: 0 while tokens are left, else seconds until the next one.
    pub(crate) retry_after: u64,
}

impl Quota {
    /// Headers for an answer that did not go through a bucket (a fault's): the default tier's
    /// limit, nothing remaining, a full minute to reset.
    pub(crate) fn fixed(retry_after: u64) -> Self {
        Self {
            limit: DevopsTier::Pro.per_minute(),
            remaining: 0,
            reset: unix_now() + 60,
            retry_after,
        }
    }

    /// The headers of a minute bucket of `rate` holding `tokens`, saying `retry_after`.
    fn of(rate: &Rate, tokens: f64, retry_after: u64) -> Self {
        Self {
            limit: rate.capacity as u64,
            remaining: tokens.max(0.0).floor() as u64,
            reset: unix_now() + rate.secs_until_full(tokens) as i64,
            retry_after,
        }
    }

    /// Sets the four headers on `headers`.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(self.reset));
        headers.insert("retry-after", HeaderValue::from(self.retry_after));
    }

    /// `response` with the four headers.
    pub(crate) fn on(&self, mut response: Response) -> Response {
        self.apply(response.headers_mut());
        response
    }
}

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    /// Too many requests in flight.
    Concurrency,
    /// The minute bucket is empty.
    Minute,
    /// The hour bucket is empty.
    Hour,
}

impl Window {
    /// Its name in `details.window`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Window::Concurrency => "concurrency",
            Window::Minute => "minute",
            Window::Hour => "hour",
        }
    }
}

/// A request over a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused {
    /// The headers (with `Retry-After` the wait).
    pub(crate) quota: Quota,
    /// Which limit.
    pub(crate) window: Window,
    /// The limit of that window.
    pub(crate) limit: u64,
}

impl Refused {
    /// 429 `RATE_LIMITED` with its headers.
    pub(crate) fn response(&self) -> Response {
        let error = ApiError::rate_limited(self.limit, self.window.name(), self.quota.retry_after);
        self.quota.on(error.into_response())
    }
}

/// A request let in: the headers of its answer, and its place among the account's requests in
/// flight until it is dropped.
#[derive(Debug)]
pub(crate) struct Admission {
    /// The headers of its answer.
    pub(crate) quota: Quota,
    lease: Lease,
}

impl Admission {
    /// How many of the account's requests were in flight with this one.
    pub(crate) fn in_flight(&self) -> u64 {
        self.lease.in_flight
    }
}

/// Every account's buckets and requests in flight.
#[derive(Debug)]
pub(crate) struct Limiter {
    default: DevopsTier,
    tiers: HashMap<String, DevopsTier>,
    buckets: Buckets,
    leases: Leases,
}

impl Limiter {
    /// Limits for accounts of the given tiers (any other account's is `default`).
    pub(crate) fn new(default: DevopsTier, tiers: HashMap<String, DevopsTier>) -> Self {
        Self {
            default,
            tiers,
            buckets: Buckets::new(),
            leases: Leases::new(),
        }
    }

    /// The tier of `account`.
    pub(crate) fn tier(&self, account: &str) -> DevopsTier {
        self.tiers.get(account).copied().unwrap_or(self.default)
    }

    /// Lets one request of `account` in (a place in flight and a token from both buckets), or
    /// says which limit refuses it (nothing is taken then).
    pub(crate) fn admit(&self, account: &str) -> Result<Admission, Refused> {
        let tier = self.tier(account);
        let rates = tier.rates();
        let minute = &rates[0];
        let Some(lease) = self.leases.acquire(account, tier.concurrent()) else {
            let tokens = self.buckets.peek(account, &rates);
            return Err(Refused {
                quota: Quota::of(minute, tokens[0], 1),
                window: Window::Concurrency,
                limit: tier.concurrent(),
            });
        };
        match self.buckets.take(account, &rates) {
            Ok(tokens) => {
                let retry_after = if tokens[0] >= 1.0 {
                    0
                } else {
                    minute.secs_until_one(tokens[0])
                };
                Ok(Admission {
                    quota: Quota::of(minute, tokens[0], retry_after),
                    lease,
                })
            }
            Err(refused) => {
                let (window, limit) = if refused.index == 0 {
                    (Window::Minute, tier.per_minute())
                } else {
                    (Window::Hour, tier.per_hour())
                };
                Err(Refused {
                    quota: Quota::of(minute, refused.tokens[0], refused.retry_after),
                    window,
                    limit,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> Limiter {
        Limiter::new(
            DevopsTier::Pro,
            HashMap::from([("free".to_string(), DevopsTier::Free)]),
        )
    }

    #[test]
    fn the_minute_bucket_empties_and_says_when_to_come_back() {
        let limiter = limiter();
        for i in 0..60u64 {
            let admission = limiter.admit("free").unwrap();
            assert_eq!(admission.quota.limit, 60);
            assert!(admission.quota.remaining <= 59 - i + 1);
        }
        let refused = limiter.admit("free").unwrap_err();
        assert_eq!((refused.window.name(), refused.limit), ("minute", 60));
        assert_eq!(refused.quota.retry_after, 1);
        assert_eq!(refused.quota.remaining, 0);
        // Another account has its own bucket, of the default tier.
        assert_eq!(limiter.admit("other").unwrap().quota.limit, 300);
    }

    #[test]
    fn requests_in_flight_are_capped() {
        let limiter = limiter();
        let held: Vec<_> = (0..5).map(|_| limiter.admit("free").unwrap()).collect();
        assert_eq!(held[4].in_flight(), 5);
        let refused = limiter.admit("free").unwrap_err();
        assert_eq!((refused.window.name(), refused.limit), ("concurrency", 5));
        assert_eq!(refused.quota.retry_after, 1);
        drop(held);
        assert!(limiter.admit("free").is_ok());
    }
}
