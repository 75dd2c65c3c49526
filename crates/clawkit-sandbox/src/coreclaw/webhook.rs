//! The completion webhook: `{run_slug, status, results, usage}` POSTed to the run's `callback_url`.

use std::sync::Arc;
use std::time::Duration;

use coreclaw_api::types;

use super::CoreClaw;

/// POSTs the completion event, retrying with backoff until the endpoint answers 200.
pub(super) async fn deliver(
    cc: Arc<CoreClaw>,
    slug: String,
    url: String,
    event: types::RunCompletedEvent,
) {
    let mut delay = Duration::from_millis(250);
    for attempt in 1..=4 {
        let outcome = match cc.http.post(&url).json(&event).send().await {
            Ok(r) => r.status().as_u16().to_string(),
            Err(e) => format!("error: {e}"),
        };
        let delivered = outcome == "200";
        tracing::debug!(%slug, %url, attempt, %outcome, "completion webhook");
        if let Some(run) = cc.lock().runs.get_mut(&slug) {
            run.deliveries.push(outcome);
        }
        if delivered {
            return;
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
}
