//! The retry policy: exponential backoff with jitter (backon), `Retry-After` honoured, and one rule
//! for every vendor: a request that may have created something is repeated only when the failure
//! proves the service did nothing.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

use crate::error::Classify;

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

/// The longest `Retry-After` obeyed.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

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

/// Whether repeating a request is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    /// Reads, and writes that land the same way twice (PUT, DELETE, marks): retried on any
    /// transient failure.
    Idempotent,
    /// A request that may create something (start a run, place an order): retried only when the
    /// failure proves nothing was done (a rate limit refused it, or it was never sent).
    Creates,
}

/// Whether a failure with this verdict is worth another attempt of a request with this safety.
pub fn should_retry<E: Classify>(error: &E, safety: Safety) -> bool {
    let verdict = error.verdict();
    verdict.transient && (safety == Safety::Idempotent || verdict.not_processed)
}

/// Runs `op` until it succeeds, fails for good, or the policy's retries are spent; see [`Safety`]
/// for which failures are retried. `what` names the request in the logs.
pub async fn retry<T, E, F, Fut>(
    policy: &RetryPolicy,
    what: &str,
    safety: Safety,
    op: F,
) -> Result<T, E>
where
    E: Classify + std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    op.retry(policy.backoff())
        .sleep(tokio::time::sleep)
        .when(|e: &E| should_retry(e, safety))
        .adjust(|e: &E, computed| match e.verdict().retry_after {
            Some(asked) => computed.map(|_| asked.min(MAX_RETRY_AFTER)),
            None => computed,
        })
        .notify(|e: &E, delay| tracing::warn!(what, ?delay, error = %e, "retrying"))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorKind, Verdict};
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug)]
    struct Fails(Verdict);
    impl std::fmt::Display for Fails {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "fails")
        }
    }
    impl Classify for Fails {
        fn verdict(&self) -> Verdict {
            self.0
        }
    }

    async fn attempts(verdict: Verdict, safety: Safety, succeed_after: usize) -> (bool, usize) {
        let calls = AtomicUsize::new(0);
        let out: Result<u32, Fails> = retry(&RetryPolicy::fast(), "test", safety, || async {
            if calls.fetch_add(1, Ordering::SeqCst) < succeed_after {
                Err(Fails(verdict))
            } else {
                Ok(7)
            }
        })
        .await;
        (out.is_ok(), calls.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn transient_failures_are_retried_until_success_or_budget() {
        let server = Verdict::of(ErrorKind::Server);
        assert_eq!(attempts(server, Safety::Idempotent, 3).await, (true, 4));
        assert_eq!(
            attempts(server, Safety::Idempotent, 100).await,
            (false, 6),
            "one try and five retries"
        );
        let bad = Verdict::of(ErrorKind::InvalidInput);
        assert_eq!(
            attempts(bad, Safety::Idempotent, 100).await,
            (false, 1),
            "final errors are not retried"
        );
    }

    #[tokio::test]
    async fn a_create_is_repeated_only_when_nothing_was_done() {
        let reset = Verdict::of(ErrorKind::Transport);
        assert_eq!(
            attempts(reset, Safety::Creates, 1).await,
            (false, 1),
            "may have been created"
        );
        let limited = Verdict::of(ErrorKind::RateLimit);
        assert_eq!(attempts(limited, Safety::Creates, 2).await, (true, 3));
        let refused = Verdict {
            not_processed: true,
            ..Verdict::of(ErrorKind::Transport)
        };
        assert_eq!(attempts(refused, Safety::Creates, 1).await, (true, 2));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_replaces_the_backoff() {
        let started = tokio::time::Instant::now();
        let asked = Verdict::of(ErrorKind::RateLimit).retry_after(Some(Duration::from_secs(7)));
        let policy = RetryPolicy {
            jitter: false,
            ..RetryPolicy::default()
        };
        let calls = AtomicUsize::new(0);
        let _: Result<(), Fails> = retry(&policy, "t", Safety::Idempotent, || async {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                Err(Fails(asked))
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(started.elapsed().as_secs(), 7);
    }
}
