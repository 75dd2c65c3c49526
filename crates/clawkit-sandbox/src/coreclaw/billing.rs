//! Billing: a run is charged its usage and traffic once, when it reaches its final status.

use std::sync::Arc;
use std::time::Instant;

use coreclaw_api::types;

use super::runs::usd;
use super::state::CoreClaw;
use super::webhook::deliver;

/// Charges a run that reached its final status (once) and sends its completion webhook.
pub(super) fn settle(cc: &Arc<CoreClaw>, slug: &str) {
    let now = Instant::now();
    let event = {
        let mut guard = cc.lock();
        let inner = &mut *guard;
        let Some(run) = inner.runs.get_mut(slug) else {
            return;
        };
        let snap = run.at(now);
        if !snap.is_final() || run.charged {
            return;
        }
        run.charged = true;
        let usage = run.usage_micros(snap.produced);
        inner.account.balance_micros -= usage;
        inner.account.traffic -= run.bytes_per_item.saturating_mul(snap.produced as i64);
        run.callback_url.clone().map(|url| {
            (
                url,
                types::RunCompletedEvent {
                    run_slug: slug.to_string(),
                    status: snap.status,
                    results: snap.produced as i64,
                    usage: usd(usage),
                },
            )
        })
    };
    if let Some((url, event)) = event {
        let cc = cc.clone();
        let slug = slug.to_string();
        tokio::spawn(async move { deliver(cc, slug, url, event).await });
    }
}
