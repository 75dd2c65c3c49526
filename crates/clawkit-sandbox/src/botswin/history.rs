//! `GET /api/history?start=&end=`: the sessions whose `startedAt` is within `[start, end]`
//! (both inclusive, both optional), ordered by `startedAt` then `id`.
//!
//! The bounds are RFC 3339 date-times with an offset (`Z` or `±hh:mm`, fractions allowed): one
//! that cannot be read is 400 `invalid_parameter` naming it, `start` after `end` is 400
//! `invalid_range`, `start` equal to `end` is allowed. Other query parameters are ignored.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde_json::{Value, json};

use super::error::ApiError;
use super::state::Botswin;

/// An RFC 3339 date-time with an offset as Unix nanoseconds, so that a bound with a fraction
/// below the millisecond still compares exactly.
fn parse(value: &str) -> Option<i128> {
    let at = crate::kit::clock::parse(value)?;
    Some(i128::from(at.timestamp()) * 1_000_000_000 + i128::from(at.timestamp_subsec_nanos()))
}

/// Unix ms as Unix nanoseconds, to compare with a parsed bound.
fn ms_to_nanos(ms: i64) -> i128 {
    i128::from(ms) * 1_000_000
}

/// One bound: `None` when absent, else the instant in Unix ns, or the 400 naming `name`.
fn bound(params: &[(String, String)], name: &str) -> Result<Option<(i128, String)>, ApiError> {
    match params.iter().find(|(key, _)| key == name) {
        None => Ok(None),
        Some((_, value)) => parse(value)
            .map(|at| Some((at, value.clone())))
            .ok_or_else(|| ApiError::invalid_time(name, value)),
    }
}

/// `GET /api/history`.
pub(super) async fn list(
    State(botswin): State<Arc<Botswin>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let params = query.map(|Query(p)| p).unwrap_or_default();
    let start = bound(&params, "start")?;
    let end = bound(&params, "end")?;
    if let (Some((from, from_text)), Some((to, to_text))) = (&start, &end)
        && from > to
    {
        return Err(ApiError::invalid_range(from_text, to_text));
    }
    let (from, to) = (start.map(|b| b.0), end.map(|b| b.0));
    let rate = botswin.rate();
    let inner = botswin.lock();
    let mut sessions: Vec<_> = inner
        .sessions
        .iter()
        .filter(|s| {
            let at = ms_to_nanos(s.started_ms);
            from.is_none_or(|from| at >= from) && to.is_none_or(|to| at <= to)
        })
        .collect();
    sessions.sort_by_key(|s| (s.started_ms, s.id));
    let total = sessions.len();
    let sessions: Vec<Value> = sessions.into_iter().map(|s| s.json(rate)).collect();
    Ok(Json(json!({"sessions": sessions, "total": total})))
}
