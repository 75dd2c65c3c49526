//! The seed's order-query limit (订单查询≤10QPS): `list_orders` and `get_order`, the two operations
//! the spec counts as order queries, at most `order_qps` (10) per app in any one-second window.
//! Beyond it: 429 `rate_limited` with `Retry-After` in whole seconds. Other operations are not
//! limited.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

use super::Fulfillment;
use super::error::ApiError;
use super::signing::CLIENT_ID_HEADER;

/// The window the limit counts in.
const WINDOW: Duration = Duration::from_secs(1);

/// When each app's recent order queries were let in.
#[derive(Debug)]
pub(super) struct QueryWindow {
    per_second: usize,
    recent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl QueryWindow {
    /// `per_second` queries per app in any second (at least 1).
    pub(super) fn new(per_second: u32) -> Self {
        Self {
            per_second: per_second.max(1) as usize,
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// Lets one query of `app` in at `now`, or says in how many whole seconds one will fit.
    fn admit(&self, app: &str, now: Instant) -> Result<(), u64> {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let times = recent.entry(app.to_string()).or_default();
        while times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
        {
            times.pop_front();
        }
        if times.len() >= self.per_second {
            let oldest = times.front().copied().unwrap_or(now);
            let wait = (oldest + WINDOW).saturating_duration_since(now);
            return Err(wait.as_secs_f64().ceil().max(1.0) as u64);
        }
        times.push_back(now);
        Ok(())
    }
}

impl Fulfillment {
    /// Counts one order query of the signing app: 429 beyond the limit.
    pub(super) fn order_query(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let app = headers
            .get(CLIENT_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        self.window.admit(app, Instant::now()).map_err(|wait| {
            self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            ApiError::rate_limited(
                format!(
                    "Order query limit of {} QPS exceeded",
                    self.window.per_second
                ),
                wait,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_per_second_then_wait() {
        let window = QueryWindow::new(10);
        let start = Instant::now();
        for i in 0..10 {
            assert_eq!(
                window.admit("app", start + Duration::from_millis(i * 10)),
                Ok(())
            );
        }
        assert_eq!(
            window.admit("app", start + Duration::from_millis(500)),
            Err(1)
        );
        assert_eq!(window.admit("other", start), Ok(()));
        assert_eq!(
            window.admit("app", start + Duration::from_millis(1000)),
            Ok(())
        );
    }
}
