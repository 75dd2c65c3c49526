//! The bots.win sandbox's state: settings, counters, the account (quota, pricing), the sessions
//! (the seeded history and the live WebSocket sessions) and the User Data containers, behind one
//! lock.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use tokio::sync::watch;

use super::model::{Container, DEFAULT_QUOTA, Pricing, Reason, Session, TOTAL_QUOTA};
use super::seed;
use crate::kit::clock::Clock;
use crate::kit::ids::mix;

/// Settings of the bots.win part.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seed for the generated history and container ids.
    pub seed: u64,
    /// Sandbox time per real time (default 1; finite and above 0, at most
    /// [`crate::kit::clock::MAX_TIME_SCALE`]).
    pub time_scale: f64,
    /// Remaining quota units at start (default [`DEFAULT_QUOTA`]).
    pub quota: f64,
    /// Live sessions allowed at once (`pricing.breakdown.maxSessions`, default 1).
    pub max_sessions: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            seed: 42,
            time_scale: 1.0,
            quota: DEFAULT_QUOTA,
            max_sessions: 1,
        }
    }
}

/// Counters tests and benchmarks read.
#[derive(Debug, Default)]
pub struct Stats {
    /// REST requests whose bearer token was accepted.
    pub requests: AtomicU64,
    /// REST requests refused 401.
    pub refused_token: AtomicU64,
    /// WebSocket sessions started (handshakes accepted).
    pub sessions_started: AtomicU64,
    /// WebSocket sessions ended, whatever the reason.
    pub sessions_ended: AtomicU64,
    /// Handshakes of the browser endpoint answered with an HTTP error instead of an upgrade.
    pub handshakes_refused: AtomicU64,
    /// Session minutes billed (the first minutes at start included).
    pub minutes_billed: AtomicU64,
}

impl Stats {
    /// The counters as JSON (`GET /botswin/_sandbox/stats`).
    pub fn snapshot(&self) -> Value {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        json!({
            "requests": get(&self.requests),
            "refused_token": get(&self.refused_token),
            "sessions_started": get(&self.sessions_started),
            "sessions_ended": get(&self.sessions_ended),
            "handshakes_refused": get(&self.handshakes_refused),
            "minutes_billed": get(&self.minutes_billed),
        })
    }
}

/// Everything behind the lock.
#[derive(Debug, Default)]
pub(super) struct Inner {
    /// Remaining quota units.
    pub(super) remaining: f64,
    /// Every session, by id (so by start).
    pub(super) sessions: Vec<Session>,
    /// Containers, in creation order.
    pub(super) containers: Vec<Container>,
    /// Containers created through the API (moves the id sequence).
    pub(super) created: u64,
}

impl Inner {
    /// The sessions still running.
    pub(super) fn live(&self) -> usize {
        self.sessions.iter().filter(|s| s.live()).count()
    }

    /// The session `id`.
    pub(super) fn session_mut(&mut self, id: u64) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|s| s.id == id)
    }

    /// The container `id`.
    pub(super) fn container_mut(&mut self, id: &str) -> Option<&mut Container> {
        self.containers.iter_mut().find(|c| c.id == id)
    }
}

/// The bots.win sandbox.
#[derive(Debug)]
pub struct Botswin {
    /// Settings.
    pub(super) config: Config,
    /// The sandbox clock.
    pub(super) clock: Clock,
    /// The account's pricing.
    pub(super) pricing: Pricing,
    /// Total quota units: the larger of [`TOTAL_QUOTA`] and the remaining units at start.
    pub(super) total_quota: f64,
    /// Quota, sessions and containers.
    inner: Mutex<Inner>,
    /// Bumped to end every live session with `server_closed`.
    pub(super) closer: watch::Sender<()>,
    /// Bumped whenever a session ends or a session's socket task exits.
    pub(super) changes: watch::Sender<()>,
    /// Socket tasks running (a session's task outlives its record by its closing handshake).
    pub(super) tasks: AtomicU64,
    /// Set once the sandbox shuts down: no session starts any more.
    pub(super) stopped: AtomicBool,
    /// Counters.
    pub stats: Stats,
}

impl Botswin {
    /// A fresh sandbox with the seeded history and container.
    pub fn new(config: Config) -> Arc<Self> {
        let mut config = config;
        config.time_scale = crate::kit::clock::valid_scale(config.time_scale);
        if !(config.quota.is_finite() && config.quota >= 0.0) {
            config.quota = DEFAULT_QUOTA;
        }
        let clock = Clock::real().scaled(config.time_scale);
        let inner = Inner {
            remaining: config.quota,
            sessions: seed::history(config.seed, clock.start_ms()),
            containers: seed::containers(),
            created: 0,
        };
        Arc::new(Self {
            pricing: Pricing {
                max_sessions: config.max_sessions,
            },
            total_quota: TOTAL_QUOTA.max(config.quota),
            clock,
            inner: Mutex::new(inner),
            closer: watch::Sender::new(()),
            changes: watch::Sender::new(()),
            tasks: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            stats: Stats::default(),
            config,
        })
    }

    /// Everything, locked (a panic in another holder does not lock it away).
    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Quota units per session minute.
    pub(super) fn rate(&self) -> f64 {
        Pricing::EFFECTIVE_RATE
    }

    /// The next container id: `udd_` and 16 lowercase alphanumerics, the same sequence per seed,
    /// never one that exists.
    pub(super) fn next_container_id(&self, inner: &mut Inner) -> String {
        const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        loop {
            inner.created += 1;
            let mut h = mix(self.config.seed ^ mix(0xb075_0000 ^ inner.created));
            let mut id = String::from("udd_");
            for i in 0..16 {
                if i == 8 {
                    h = mix(h);
                }
                id.push(ALPHABET[(h % 36) as usize] as char);
                h /= 36;
            }
            if inner.containers.iter().all(|c| c.id != id) {
                return id;
            }
        }
    }

    /// Bills the next minute of the live session `id`: `false` (nothing billed) when the
    /// remaining quota cannot pay it.
    pub(super) fn bill(&self, id: u64) -> bool {
        let rate = self.rate();
        let mut inner = self.lock();
        if inner.remaining < rate {
            return false;
        }
        let Some(session) = inner.session_mut(id).filter(|s| s.live()) else {
            return false;
        };
        session.minutes += 1;
        inner.remaining -= rate;
        self.stats.minutes_billed.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Ends the live session `id` at `at_ms` for `reason` and unlocks its container; `false` if it
    /// had ended already.
    pub(super) fn end(&self, id: u64, at_ms: i64, reason: Reason) -> bool {
        {
            let mut inner = self.lock();
            let Some(session) = inner.session_mut(id).filter(|s| s.live()) else {
                return false;
            };
            let ended = at_ms.max(session.started_ms);
            session.ended_ms = Some(ended);
            session.reason = Some(reason);
            let user_data = session.user_data.clone();
            if let Some(container) = user_data.and_then(|u| inner.container_mut(&u)) {
                container.locked_by = None;
                container.last_used_ms = Some(ended);
            }
        }
        self.stats.sessions_ended.fetch_add(1, Ordering::Relaxed);
        self.changes.send_replace(());
        tracing::debug!(
            session = id,
            reason = reason.as_str(),
            "botswin session ended"
        );
        true
    }

    /// The sessions live now.
    pub fn live_sessions(&self) -> usize {
        self.lock().live()
    }

    /// How the most recent session ended, and when (Unix ms, sandbox clock), if it has: to look
    /// at after a shutdown, when no request can ask.
    pub fn last_end(&self) -> Option<(Reason, i64)> {
        let inner = self.lock();
        let last = inner.sessions.last()?;
        last.reason.zip(last.ended_ms)
    }

    /// Whether a live session holds the User Data container `id`, and when it was last used
    /// (Unix ms, sandbox clock); `None` if there is no such container.
    pub fn container_use(&self, id: &str) -> Option<(bool, Option<i64>)> {
        let inner = self.lock();
        let container = inner.containers.iter().find(|c| c.id == id)?;
        Some((container.locked_by.is_some(), container.last_used_ms))
    }

    /// Ends every live session with `server_closed` (each sends its client a Close frame) and
    /// waits, at most `limit`, until they are recorded; how many were live.
    pub async fn close_sessions(&self, limit: std::time::Duration) -> usize {
        // Under the lock, so that a session admitted at the same time is either among `ids` and
        // told, or admitted after and not told (see `sessions::admit`).
        let ids: Vec<u64> = {
            let inner = self.lock();
            self.closer.send_replace(());
            inner
                .sessions
                .iter()
                .filter(|s| s.live())
                .map(|s| s.id)
                .collect()
        };
        let mut changes = self.changes.subscribe();
        let recorded = changes.wait_for(|_| {
            let inner = self.lock();
            inner
                .sessions
                .iter()
                .all(|s| !ids.contains(&s.id) || !s.live())
        });
        let _ = tokio::time::timeout(limit, recorded).await;
        ids.len()
    }

    /// Stops for good: no session starts any more, every live one ends with `server_closed`, and
    /// waits (at most `limit` in all) until each is recorded and its socket closed.
    pub async fn stop(&self, limit: std::time::Duration) {
        {
            let _inner = self.lock();
            self.stopped.store(true, Ordering::SeqCst);
        }
        let deadline = tokio::time::Instant::now() + limit;
        self.close_sessions(limit).await;
        let mut changes = self.changes.subscribe();
        let closed = changes.wait_for(|_| self.tasks.load(Ordering::SeqCst) == 0);
        let _ = tokio::time::timeout_at(deadline, closed).await;
    }

    /// What a drop of the sandbox does: no session starts any more and every live one is told
    /// to end (without waiting).
    pub fn stop_now(&self) {
        let _inner = self.lock();
        self.stopped.store(true, Ordering::SeqCst);
        self.closer.send_replace(());
    }
}
