//! `GET /api/quota` and `GET /api/usage`: the account's quota and pricing, and its usage.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use botswin_api::types::Usage;
use serde_json::{Value, json};

use super::model::number;
use super::state::Botswin;

/// `GET /api/quota`: the seed's `remainingQuota` and `pricing`, plus `totalQuota`, `usedQuota`
/// (total − remaining) and `usagePercentage` (0..100, two decimals).
pub(super) async fn quota(State(botswin): State<Arc<Botswin>>) -> Json<Value> {
    let remaining = botswin.lock().remaining;
    let total = botswin.total_quota;
    let used = (total - remaining).max(0.0);
    let percentage = if total > 0.0 {
        (used / total * 100.0 * 100.0).round() / 100.0
    } else {
        0.0
    };
    Json(json!({
        "remainingQuota": number(remaining),
        "pricing": botswin.pricing.json(),
        "totalQuota": number(total),
        "usedQuota": number(used),
        "usagePercentage": number(percentage.clamp(0.0, 100.0)),
    }))
}

/// `GET /api/usage`: every session (live ones too), their billed minutes so far, and the live
/// sessions.
pub(super) async fn usage(State(botswin): State<Arc<Botswin>>) -> Json<Usage> {
    let inner = botswin.lock();
    let minutes: i64 = inner.sessions.iter().map(|s| i64::from(s.minutes)).sum();
    Json(Usage {
        total_sessions: inner.sessions.len() as i64,
        total_minutes: minutes,
        active_sessions: inner.live() as i64,
    })
}
