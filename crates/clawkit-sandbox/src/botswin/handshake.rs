//! The browser endpoint: `GET /botswin?token=...[&user_data_id=udd_...]` upgraded to a WebSocket,
//! as `wss://cloud.bots.win?token=...` is. Every other query parameter (`device_type=mac`,
//! `--proxy-server=...`) is a browser option and ignored.
//!
//! A handshake that cannot start a session is answered with an HTTP error instead of 101, checked
//! in this order: the token (401 `unauthorized`), the container (404 `not_found`, 423
//! `user_data_locked`), the live sessions against `maxSessions` (429 `too_many_sessions`), the
//! balance against one minute (402 `insufficient_balance`), then the upgrade headers (426
//! `upgrade_required`). A sandbox shutting down answers 503 `unavailable`.
//!
//! An accepted session starts when the 101 is answered: the next id, `startedAt` now on the
//! sandbox clock, its container locked (`lastUsedAt` now) and its first minute billed.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};

use super::auth::TOKEN;
use super::error::ApiError;
use super::model::Session;
use super::socket::{self, Admission, Guard};
use super::state::Botswin;

impl Botswin {
    /// Runs the handshake's checks and, when `start` is set and they pass, starts the session.
    /// `Ok(None)` when they pass without `start`.
    pub(super) fn admit(
        self: &Arc<Self>,
        user_data: Option<&str>,
        start: bool,
    ) -> Result<Option<Admission>, ApiError> {
        let rate = self.rate();
        let now = self.clock.now_ms();
        let mut inner = self.lock();
        if self.stopped.load(Ordering::SeqCst) {
            return Err(ApiError::unavailable());
        }
        if let Some(id) = user_data {
            let container = inner
                .containers
                .iter()
                .find(|c| c.id == id)
                .ok_or_else(|| ApiError::user_data_not_found(id))?;
            if container.locked_by.is_some() {
                return Err(ApiError::user_data_locked(id));
            }
        }
        let max = self.pricing.max_sessions;
        if inner.live() >= max as usize {
            return Err(ApiError::too_many_sessions(max));
        }
        if inner.remaining < rate {
            return Err(ApiError::insufficient_balance(inner.remaining, rate));
        }
        if !start {
            return Ok(None);
        }
        let id = inner.sessions.iter().map(|s| s.id).max().unwrap_or(0) + 1;
        if let Some(container) = user_data.and_then(|u| inner.container_mut(u)) {
            container.locked_by = Some(id);
            container.last_used_ms = Some(now);
        }
        inner.remaining -= rate;
        inner.sessions.push(Session {
            id,
            started_ms: now,
            ended_ms: None,
            minutes: 1,
            reason: None,
            user_data: user_data.map(str::to_string),
        });
        // Under the lock: see `Botswin::close_sessions`.
        let closer = self.closer.subscribe();
        self.tasks.fetch_add(1, Ordering::SeqCst);
        drop(inner);
        self.stats.sessions_started.fetch_add(1, Ordering::Relaxed);
        self.stats.minutes_billed.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(session = id, "botswin session started");
        Ok(Some(Admission {
            id,
            started_ms: now,
            closer,
            guard: Guard {
                botswin: self.clone(),
                id,
            },
        }))
    }
}

/// The first value of the query parameter `name`, if it is there and not empty.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .filter(|value| !value.is_empty())
}

/// `GET /botswin` (and `/botswin/`): the handshake's checks, then the upgrade.
pub(super) async fn connect(
    State(botswin): State<Arc<Botswin>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let params = query.map(|Query(p)| p).unwrap_or_default();
    let refuse = |error: ApiError| {
        botswin
            .stats
            .handshakes_refused
            .fetch_add(1, Ordering::Relaxed);
        error.into_response()
    };
    if param(&params, "token") != Some(TOKEN) {
        return refuse(ApiError::unauthorized());
    }
    let user_data = param(&params, "user_data_id");
    match botswin.admit(user_data, upgrade.is_ok()) {
        Err(error) => refuse(error),
        Ok(None) => refuse(ApiError::upgrade_required()),
        Ok(Some(admission)) => match upgrade {
            Ok(upgrade) => {
                let botswin = botswin.clone();
                upgrade.on_upgrade(move |ws| socket::run(botswin, admission, ws))
            }
            // Not reached: `admit` starts a session only with an upgrade.
            Err(_) => refuse(ApiError::upgrade_required()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::botswin::model::Reason;
    use crate::botswin::state::Config;

    fn sandbox(quota: f64, max_sessions: u32) -> Arc<Botswin> {
        Botswin::new(Config {
            quota,
            max_sessions,
            ..Config::default()
        })
    }

    #[tokio::test]
    async fn admission_bills_the_first_minute_and_locks_the_container() {
        let b = sandbox(10.0, 1);
        let a = b
            .admit(Some("udd_abc123xyz789defg"), true)
            .unwrap()
            .unwrap();
        assert_eq!(a.id, 143);
        {
            let inner = b.lock();
            assert_eq!(inner.remaining, 9.0);
            assert_eq!(inner.containers[0].locked_by, Some(143));
            assert_eq!(inner.containers[0].last_used_ms, Some(a.started_ms));
        }
        assert_eq!(b.live_sessions(), 1);
        drop(a);
        // The guard ends a session nothing else ended, and unlocks the container.
        let inner = b.lock();
        let session = inner.sessions.last().unwrap();
        assert_eq!(session.reason, Some(Reason::ClientDisconnected));
        assert_eq!(session.minutes, 1);
        assert_eq!(inner.containers[0].locked_by, None);
    }

    #[tokio::test]
    async fn checks_come_in_order_and_a_dry_run_changes_nothing() {
        let b = sandbox(0.5, 1);
        let code = |r: Result<Option<Admission>, ApiError>| r.err().map(|e| e.code);
        assert_eq!(code(b.admit(Some("udd_nope"), true)), Some("not_found"));
        assert_eq!(code(b.admit(None, false)), Some("insufficient_balance"));
        let b = sandbox(5.0, 0);
        assert_eq!(code(b.admit(None, true)), Some("too_many_sessions"));
        let b = sandbox(5.0, 1);
        assert!(b.admit(None, false).unwrap().is_none());
        assert_eq!(b.live_sessions(), 0);
        assert_eq!(b.lock().remaining, 5.0);
        let _live = b.admit(Some("udd_abc123xyz789defg"), true).unwrap();
        assert_eq!(
            code(b.admit(Some("udd_abc123xyz789defg"), true)),
            Some("user_data_locked")
        );
        assert_eq!(code(b.admit(None, true)), Some("too_many_sessions"));
        b.stop_now();
        assert_eq!(code(b.admit(None, false)), Some("unavailable"));
    }
}
