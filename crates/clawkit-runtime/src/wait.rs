//! Waiting for a long job by polling: a growing, capped interval, a deadline, and every new
//! snapshot on the way as a `Stream` (for progress bars, logs, callbacks). The vendor says how to
//! read the job and when it is final; a timeout is the vendor's error, which keeps the job's id.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::time::Duration;
//! use clawkit_runtime::wait::{self, Polling};
//! use futures::StreamExt;
//!
//! let polls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
//! let read = move || {
//!     let polls = polls.clone();
//!     async move { Ok::<u32, String>(polls.fetch_add(25, std::sync::atomic::Ordering::SeqCst) + 25) }
//! };
//! let progress: Vec<u32> = wait::watch(Polling::fast(), read, |p| *p >= 100, |waited| format!("gave up after {waited:?}"))
//!     .map(|r| r.unwrap())
//!     .collect()
//!     .await;
//! assert_eq!(progress, [25, 50, 75, 100]);
//! # }
//! ```

use std::future::Future;
use std::time::{Duration, Instant};

use futures::stream::{self, BoxStream, StreamExt};

/// How a job is polled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polling {
    /// First pause between polls.
    pub initial_interval: Duration,
    /// Each pause is this many times the previous one...
    pub factor: f64,
    /// ...up to this.
    pub max_interval: Duration,
    /// Give up after this long.
    pub timeout: Duration,
}

impl Default for Polling {
    /// 1 s growing by half up to 10 s; give up after an hour.
    fn default() -> Self {
        Self {
            initial_interval: Duration::from_secs(1),
            factor: 1.5,
            max_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(3600),
        }
    }
}

impl Polling {
    /// Every 50 ms, for tests against a local server (timeout 60 s).
    pub fn fast() -> Self {
        Self {
            initial_interval: Duration::from_millis(50),
            factor: 1.0,
            max_interval: Duration::from_millis(50),
            timeout: Duration::from_secs(60),
        }
    }

    /// The same with another timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// Polls `read` until `is_final` says so, yielding each snapshot that differs from the one
/// before (the final one included), then ends. A read error is yielded and ends the stream; so
/// does the deadline, as `timed_out(waited)`. Dropping the stream stops polling.
pub fn watch<T, E, F, Fut>(
    polling: Polling,
    read: F,
    is_final: impl Fn(&T) -> bool + Send + Sync + 'static,
    timed_out: impl Fn(Duration) -> E + Send + Sync + 'static,
) -> BoxStream<'static, Result<T, E>>
where
    T: PartialEq + Clone + Send + 'static,
    E: Send + 'static,
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
{
    struct Poller<T, F> {
        read: F,
        last: Option<T>,
        began: Instant,
        interval: Duration,
        first: bool,
        done: bool,
    }
    let poller = Poller {
        read,
        last: None,
        began: Instant::now(),
        interval: polling.initial_interval,
        first: true,
        done: false,
    };
    let (is_final, timed_out) = (
        std::sync::Arc::new(is_final),
        std::sync::Arc::new(timed_out),
    );
    stream::unfold(poller, move |mut p| {
        let (is_final, timed_out) = (is_final.clone(), timed_out.clone());
        async move {
            if p.done {
                return None;
            }
            loop {
                if !p.first {
                    if p.began.elapsed() + p.interval > polling.timeout {
                        p.done = true;
                        return Some((Err(timed_out(p.began.elapsed())), p));
                    }
                    tokio::time::sleep(p.interval).await;
                    p.interval = p
                        .interval
                        .mul_f64(polling.factor.max(1.0))
                        .min(polling.max_interval);
                }
                p.first = false;
                match (p.read)().await {
                    Err(e) => {
                        p.done = true;
                        return Some((Err(e), p));
                    }
                    Ok(now) => {
                        let end = is_final(&now);
                        if end || p.last.as_ref() != Some(&now) {
                            p.done = end;
                            p.last = Some(now.clone());
                            return Some((Ok(now), p));
                        }
                    }
                }
            }
        }
    })
    .boxed()
}

/// Drives a [`watch`] stream to its end, calling `progress` with each snapshot; returns the
/// final one (`None` only for a stream that yielded nothing, which [`watch`] never does), or
/// the error that ended it.
pub async fn until_final<T, E>(
    mut snapshots: BoxStream<'static, Result<T, E>>,
    mut progress: impl FnMut(&T),
) -> Result<Option<T>, E> {
    let mut last = None;
    while let Some(next) = snapshots.next().await {
        let now = next?;
        progress(&now);
        last = Some(now);
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn counter(
        step: u32,
    ) -> impl FnMut() -> futures::future::BoxFuture<'static, Result<u32, String>> {
        let n = Arc::new(AtomicU32::new(0));
        move || {
            let n = n.clone();
            Box::pin(async move { Ok(n.fetch_add(step, Ordering::SeqCst) + step) })
        }
    }

    #[tokio::test]
    async fn repeated_snapshots_are_not_yielded_twice() {
        let n = Arc::new(AtomicU32::new(0));
        let read = move || {
            let n = n.clone();
            async move { Ok::<u32, String>(n.fetch_add(1, Ordering::SeqCst) / 3) }
        };
        let seen: Vec<u32> = watch(
            Polling::fast(),
            read,
            |v| *v == 2,
            |_| "timeout".to_string(),
        )
        .map(|r| r.unwrap())
        .collect()
        .await;
        assert_eq!(seen, [0, 1, 2]);
    }

    #[tokio::test]
    async fn the_deadline_is_an_error_and_the_end() {
        let polling = Polling::fast().timeout(Duration::from_millis(120));
        let got: Vec<Result<u32, String>> = watch(
            polling,
            counter(1),
            |_| false,
            |w| format!("timeout {}", w.as_millis() >= 50),
        )
        .collect()
        .await;
        assert!(got.len() >= 2, "{got:?}");
        assert_eq!(got.last(), Some(&Err("timeout true".to_string())));
    }

    #[tokio::test]
    async fn until_final_reports_progress_and_returns_the_last() {
        let mut seen = Vec::new();
        let last = until_final(
            watch(
                Polling::fast(),
                counter(40),
                |v| *v >= 100,
                |_| String::new(),
            ),
            |v| seen.push(*v),
        )
        .await;
        assert_eq!(last, Ok(Some(120)));
        assert_eq!(seen, [40, 80, 120]);
    }
}
