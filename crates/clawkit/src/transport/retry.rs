//! Retries with exponential backoff and jitter (backon), honouring `Retry-After`.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

/// How failed requests are retried: exponential backoff from `base` doubling up to `max_delay`,
/// with jitter, at most `max_retries` times. A server's `Retry-After` replaces the computed delay.
///
/// The default (1, 2, 4, 8, 16 s; five retries) follows the vendors' guidance. Tests use
/// [`RetryPolicy::fast`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// First delay.
    pub base: Duration,
    /// Longest delay.
    pub max_delay: Duration,
    /// Retries after the first attempt.
    pub max_retries: usize,
    /// Add random jitter to each delay.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            max_delay: Duration::from_secs(16),
            max_retries: 5,
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Millisecond delays, for tests against a local server.
    pub fn fast() -> Self {
        Self {
            base: Duration::from_millis(5),
            max_delay: Duration::from_millis(40),
            max_retries: 5,
            jitter: false,
        }
    }

    fn backoff(&self) -> ExponentialBuilder {
        let builder = ExponentialBuilder::new()
            .with_min_delay(self.base)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_max_times(self.max_retries);
        if self.jitter {
            builder.with_jitter()
        } else {
            builder
        }
    }
}

/// What the retry loop needs to know about an error.
pub trait Retry {
    /// Whether trying again may succeed.
    fn should_retry(&self) -> bool;
    /// How long the server asked us to wait, if it did.
    fn retry_after(&self) -> Option<Duration>;
}

/// Runs `op` until it succeeds, fails with an error that should not be retried, or the policy's
/// retries are spent. `Retry-After` from the server replaces the computed delay (capped at 5
/// minutes).
pub async fn retry<T, E, F, Fut>(policy: &RetryPolicy, what: &str, op: F) -> Result<T, E>
where
    E: Retry + std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    retry_if(policy, what, op, E::should_retry).await
}

/// [`retry`] with the caller's own test of which errors to retry (for requests that create
/// something, only errors that prove nothing was done).
pub async fn retry_if<T, E, F, Fut>(
    policy: &RetryPolicy,
    what: &str,
    op: F,
    when: impl FnMut(&E) -> bool,
) -> Result<T, E>
where
    E: Retry + std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    op.retry(policy.backoff())
        .sleep(tokio::time::sleep)
        .when(when)
        .adjust(|e: &E, computed| match e.retry_after() {
            Some(asked) => computed.map(|_| asked.min(Duration::from_secs(300))),
            None => computed,
        })
        .notify(|e: &E, delay| tracing::warn!(what, ?delay, error = %e, "retrying"))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug)]
    struct Flaky(bool);
    impl std::fmt::Display for Flaky {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "flaky")
        }
    }
    impl Retry for Flaky {
        fn should_retry(&self) -> bool {
            self.0
        }
        fn retry_after(&self) -> Option<Duration> {
            None
        }
    }

    #[tokio::test]
    async fn retries_until_success_or_budget() {
        let calls = AtomicUsize::new(0);
        let out: Result<u32, Flaky> = retry(&RetryPolicy::fast(), "test", || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                Err(Flaky(true))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(out.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 4);

        let calls = AtomicUsize::new(0);
        let out: Result<u32, Flaky> = retry(&RetryPolicy::fast(), "test", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Flaky(true))
        })
        .await;
        assert!(out.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 6, "one try and five retries");

        let calls = AtomicUsize::new(0);
        let _: Result<u32, Flaky> = retry(&RetryPolicy::fast(), "test", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Flaky(false))
        })
        .await;
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "a final error is not retried"
        );
    }
}
