//! The seed's order-query limit (订单查询≤10QPS): `list_orders` and `get_order`, the two operations
//! the spec counts as order queries, at most `order_qps` (10) per app in any one-second window
//! (the kit's [`Windows`]). Beyond it: 429 `rate_limited` with `Retry-After` in whole seconds.
//! Other operations are not limited.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

use super::Fulfillment;
use super::error::ApiError;
use super::signing::CLIENT_ID_HEADER;
use crate::kit::limits::{Windows, retry_after_secs};

/// The window the limit counts in.
const WINDOW: Duration = Duration::from_secs(1);

/// Each app's recent order queries.
pub(super) fn query_window() -> Windows {
    Windows::new(WINDOW)
}

impl Fulfillment {
    /// Order queries allowed per second and app (at least 1).
    fn order_qps(&self) -> usize {
        self.config.order_qps.max(1) as usize
    }

    /// Counts one order query of the signing app: 429 beyond the limit.
    pub(super) fn order_query(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let app = headers
            .get(CLIENT_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        self.order_query_at(app, Instant::now())
    }

    /// Counts one order query of `app` at `now`.
    fn order_query_at(&self, app: &str, now: Instant) -> Result<(), ApiError> {
        let qps = self.order_qps();
        self.window.admit(app, qps, now).map_err(|wait| {
            self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            ApiError::rate_limited(
                format!("Order query limit of {qps} QPS exceeded"),
                retry_after_secs(wait),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fulfillment::state::Config;

    #[test]
    fn ten_per_second_then_wait() {
        let f = Fulfillment::new(Config::default());
        let start = Instant::now();
        let wait = |at: Instant, app: &str| f.order_query_at(app, at).map_err(|e| e.retry_after);
        for i in 0..10 {
            assert_eq!(wait(start + Duration::from_millis(i * 10), "app"), Ok(()));
        }
        assert_eq!(
            wait(start + Duration::from_millis(500), "app"),
            Err(Some(1))
        );
        assert_eq!(wait(start, "other"), Ok(()));
        assert_eq!(wait(start + Duration::from_millis(1000), "app"), Ok(()));
    }
}
