//! Bazhuayu's state: the tokens, each account's leaky bucket, the tasks, the counters.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;

use super::model::{self, Task};
use crate::kit::ids::Ids;
use crate::kit::limits::{Buckets, Rate};
use crate::kit::tokens::{AccessTokens, RefreshTokens};

/// Requests per second the bucket refills.
pub const RATE_PER_SECOND: f64 = 20.0;
/// Bucket size: five seconds of requests.
pub const BUCKET: f64 = 100.0;

/// The seed's leaky bucket of every account (all of a user's access tokens take from it): 20
/// requests a second, 100 at once.
pub(super) const LEAKY_BUCKET: Rate = Rate {
    capacity: BUCKET,
    per_second: RATE_PER_SECOND,
};

/// Counters tests and benchmarks read.
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    /// `POST /token` calls.
    pub token_requests: AtomicU64,
    /// Tokens granted, by either grant.
    pub token_grants: AtomicU64,
    /// Tokens granted for a refresh token.
    pub refreshes: AtomicU64,
    /// Refresh grants with a refresh token that was already used.
    pub refresh_reuse: AtomicU64,
    /// 429s the bucket answered.
    pub rate_limited: AtomicU64,
    /// Authenticated requests served.
    pub requests: AtomicU64,
}

/// Mutable state.
#[derive(Debug)]
pub(super) struct Inner {
    /// Access tokens, each granting its user's account.
    pub(super) access: AccessTokens<String>,
    /// Refresh tokens of a user: each works once.
    pub(super) refresh: RefreshTokens<String>,
    /// Tasks.
    pub(super) tasks: Vec<Task>,
}

/// The Bazhuayu sandbox.
#[derive(Debug)]
pub struct Bazhuayu {
    pub(super) seed: u64,
    pub(super) ttl: Duration,
    pub(super) ids: Ids,
    inner: Mutex<Inner>,
    /// Each account's leaky bucket.
    pub(super) buckets: Buckets,
    /// Counters.
    pub stats: Stats,
}

impl Bazhuayu {
    /// A fresh sandbox; access tokens live `ttl`.
    pub fn new(seed: u64, ttl: Duration) -> Arc<Self> {
        Arc::new(Self {
            seed,
            ttl,
            ids: Ids::new(seed ^ 0xba2),
            inner: Mutex::new(Inner {
                access: AccessTokens::default(),
                refresh: RefreshTokens::new(),
                tasks: model::tasks(seed),
            }),
            buckets: Buckets::new(),
            stats: Stats::default(),
        })
    }

    /// Locks the state (a poisoned lock is recovered: the state stays usable).
    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
