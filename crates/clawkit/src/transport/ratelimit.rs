//! A client-side rate limiter (governor), shared by every clone of a client.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota};

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
