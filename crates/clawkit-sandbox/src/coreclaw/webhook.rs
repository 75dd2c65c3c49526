//! The completion webhook: `{run_slug, status, results, usage}` POSTed to the run's `callback_url`
//! by the kit's courier; each attempt's outcome is kept on the run for its log.

use std::sync::Arc;

use axum::http::HeaderMap;
use coreclaw_api::types;

use super::state::CoreClaw;
use crate::kit::delivery::{Attempt, Delivery};

/// Delivers the completion event of run `slug` to `url` (unsigned: the guide documents no
/// signature), noting each attempt on the run (`200`, `500`, `error: ...`).
pub(super) async fn deliver(
    cc: Arc<CoreClaw>,
    slug: String,
    url: String,
    event: types::RunCompletedEvent,
) {
    let delivery = Delivery {
        hook: slug.clone(),
        event_id: slug.clone(),
        url,
        body: serde_json::to_vec(&event).unwrap_or_default().into(),
    };
    let note = |attempt: u32, outcome: &Attempt| {
        let outcome = match outcome {
            Attempt::Answered(status) => status.to_string(),
            Attempt::Failed(e) => format!("error: {e}"),
        };
        tracing::debug!(%slug, url = %delivery.url, attempt, %outcome, "completion webhook");
        if let Some(run) = cc.lock().runs.get_mut(&slug) {
            run.deliveries.push(outcome);
        }
    };
    cc.courier
        .deliver_noting(&cc.webhooks, &delivery, |_| HeaderMap::new(), || true, note)
        .await;
}
