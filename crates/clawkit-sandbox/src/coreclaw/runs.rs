//! Runs and the account: how a run moves 1 -> 2 -> 3 (or 4, or 5), what it produced so far, and
//! what it costs.

use std::time::{Duration, Instant};

use coreclaw_api::enums::RunStatus;
use coreclaw_api::types;
use serde_json::{Map, Value};

use super::validate::System;
use super::worker::{FAIL_MARKER, Worker};

/// Share of the run time spent in status 1 (ready).
const READY_SHARE: f64 = 0.1;
/// Point of the run time at which a failing run fails, with half its items.
const FAIL_SHARE: f64 = 0.55;

/// Formats micro-USD as CoreClaw's decimal string: at least 2 and at most 4 decimals.
pub fn usd(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let m = micros.unsigned_abs();
    let whole = m / 1_000_000;
    let frac = (m % 1_000_000) / 100; // 4 decimals
    let mut s = format!("{sign}{whole}.{frac:04}");
    while s.ends_with('0') && s.len() - s.find('.').unwrap_or(0) > 3 {
        s.pop();
    }
    s
}

/// Does any string in the input contain the fail marker?
fn contains_marker(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains(FAIL_MARKER),
        Value::Array(items) => items.iter().any(contains_marker),
        Value::Object(map) => map.values().any(contains_marker),
        _ => false,
    }
}

/// One run.
#[derive(Debug, Clone)]
pub struct Run {
    /// `run_slug`.
    pub slug: String,
    /// Hash of the slug: the seed of its items.
    pub hash: u64,
    /// The Worker's slug.
    pub worker: String,
    /// The Worker's title.
    pub worker_title: String,
    /// The Worker version run.
    pub version: String,
    /// Custom input with defaults.
    pub custom: Map<String, Value>,
    /// System parameters.
    pub system: System,
    /// `api` for runs started through the API.
    pub origin: &'static str,
    /// When it was started (monotonic).
    pub created: Instant,
    /// When it was started (unix seconds).
    pub created_unix: i64,
    /// Time from start to a final status.
    pub duration: Duration,
    /// Items it produces if it completes.
    pub planned: u64,
    /// Whether the input makes it fail.
    pub fails: bool,
    /// When it was aborted.
    pub aborted: Option<Instant>,
    /// Whether its usage was charged (once, at its final status).
    pub charged: bool,
    /// Webhook for completion.
    pub callback_url: Option<String>,
    /// Price per item (micro-USD) and traffic per item (bytes).
    pub price_micros: i64,
    /// Traffic per item in bytes.
    pub bytes_per_item: i64,
    /// Completion webhook deliveries: HTTP status or error text per attempt.
    pub deliveries: Vec<String>,
}

/// What a run looks like at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    /// Status.
    pub status: RunStatus,
    /// Items produced so far.
    pub produced: u64,
    /// Unix seconds it started running (0 while ready).
    pub started_at: i64,
    /// Unix seconds it finished (0 while not final).
    pub finished_at: i64,
    /// Seconds it ran.
    pub duration: i64,
}

impl Snapshot {
    /// Whether the status is final (3 or 4; 5 is "aborting", on its way to 4).
    pub fn is_final(&self) -> bool {
        matches!(self.status, RunStatus::Succeeded | RunStatus::Failed)
    }
}

impl Run {
    /// A new run of `worker`, planned from its input and caps.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        slug: String,
        hash: u64,
        worker: &Worker,
        custom: Map<String, Value>,
        system: System,
        duration: Duration,
        callback_url: Option<String>,
        now_unix: i64,
    ) -> Self {
        let mut planned = worker.result_count(&custom);
        if system.max_total_charge > 0.0 && worker.price_micros > 0 {
            let cap = (system.max_total_charge * 1_000_000.0 / worker.price_micros as f64).floor();
            planned = planned.min(cap as u64);
        }
        if system.max_total_traffic > 0.0 && worker.bytes_per_item > 0 {
            let cap =
                (system.max_total_traffic * 1_000_000.0 / worker.bytes_per_item as f64).floor();
            planned = planned.min(cap as u64);
        }
        let fails = contains_marker(&Value::Object(custom.clone()));
        Self {
            slug,
            hash,
            worker: worker.slug.to_string(),
            worker_title: worker.title.to_string(),
            version: worker.version.to_string(),
            custom,
            system,
            origin: "api",
            created: Instant::now(),
            created_unix: now_unix,
            duration,
            planned,
            fails,
            aborted: None,
            charged: false,
            callback_url,
            price_micros: worker.price_micros,
            bytes_per_item: worker.bytes_per_item,
            deliveries: Vec::new(),
        }
    }

    /// How long an aborted run stays at 5 (aborting) before it ends as 4 (failed): a tenth of its
    /// planned duration, at most 2 s.
    pub fn aborting(&self) -> Duration {
        self.duration.mul_f64(0.1).min(Duration::from_secs(2))
    }

    /// When the run reaches its final status by itself.
    pub fn natural_end(&self) -> Instant {
        let share = if self.fails { FAIL_SHARE } else { 1.0 };
        self.created + self.duration.mul_f64(share)
    }

    fn produced_at(&self, elapsed: Duration) -> u64 {
        let d = self.duration.as_secs_f64();
        if d <= 0.0 {
            return if self.fails {
                self.planned / 2
            } else {
                self.planned
            };
        }
        let t = elapsed.as_secs_f64() / d;
        let running = ((t - READY_SHARE) / (1.0 - READY_SHARE)).clamp(0.0, 1.0);
        let produced = (self.planned as f64 * running).floor() as u64;
        if self.fails {
            produced.min(self.planned / 2)
        } else {
            produced.min(self.planned)
        }
    }

    /// The run at `now`.
    pub fn at(&self, now: Instant) -> Snapshot {
        let secs = |d: Duration| d.as_secs_f64().round() as i64;
        let start_offset = self.duration.mul_f64(READY_SHARE);
        let started_at = self.created_unix + secs(start_offset);
        // An abort freezes the results at once; the run reports 5 while it stops, then 4.
        let stopped = self.aborted.filter(|at| *at <= now);
        let (end, status) = match self.aborted {
            Some(at) if at + self.aborting() <= now => {
                (Some(at + self.aborting()), RunStatus::Failed)
            }
            Some(at) if at <= now => (None, RunStatus::Aborting),
            _ if now >= self.natural_end() => (
                Some(self.natural_end()),
                if self.fails {
                    RunStatus::Failed
                } else {
                    RunStatus::Succeeded
                },
            ),
            _ if now < self.created + start_offset => (None, RunStatus::Ready),
            _ => (None, RunStatus::Running),
        };
        let until = end.unwrap_or(now);
        let elapsed = until.saturating_duration_since(self.created);
        let ran = elapsed.saturating_sub(start_offset);
        let producing = stopped
            .unwrap_or(until)
            .saturating_duration_since(self.created);
        Snapshot {
            status,
            produced: self.produced_at(producing),
            started_at: if status == RunStatus::Ready || (end.is_some() && ran.is_zero()) {
                0
            } else {
                started_at
            },
            finished_at: end.map(|_| self.created_unix + secs(elapsed)).unwrap_or(0),
            duration: secs(ran),
        }
    }

    /// Usage in micro-USD for `items` results.
    pub fn usage_micros(&self, items: u64) -> i64 {
        self.price_micros.saturating_mul(items as i64)
    }

    /// The run record of run detail and history.
    pub fn record(&self, now: Instant) -> types::RunSummary {
        let snap = self.at(now);
        types::RunSummary {
            status: snap.status,
            err_msg: if snap.status == RunStatus::Failed && self.aborted.is_some() {
                ABORTED_MESSAGE.to_string()
            } else if snap.status == RunStatus::Failed {
                format!("Navigation timeout of 30000 ms exceeded (input contains `{FAIL_MARKER}`)")
            } else {
                String::new()
            },
            slug: self.slug.clone(),
            scraper_title: Some(self.worker_title.clone()),
            scraper_slug: Some(self.worker.clone()),
            actors_title: None,
            actors_slug: None,
            results: snap.produced as i64,
            usage: usd(self.usage_micros(snap.produced)),
            started_at: snap.started_at,
            finished_at: snap.finished_at,
            duration: snap.duration,
            origin: self.origin.to_string(),
            traffic: self.bytes_per_item.saturating_mul(snap.produced as i64),
            version: self.version.clone(),
        }
    }
}

/// The `err_msg` of a run that ended because it was aborted.
pub const ABORTED_MESSAGE: &str = "Run aborted by the user.";

/// The sandbox account.
#[derive(Debug, Clone)]
pub struct Account {
    /// Balance in micro-USD.
    pub balance_micros: i64,
    /// Remaining traffic in bytes.
    pub traffic: i64,
    /// Unix seconds the traffic expires.
    pub traffic_expiration_at: i64,
}

#[cfg(test)]
mod tests {
    use super::super::catalog::{LOAD_WORKER, workers};
    use super::*;
    use serde_json::json;

    fn run(custom: Value, duration_ms: u64) -> Run {
        let worker = workers()
            .into_iter()
            .find(|w| w.slug == LOAD_WORKER)
            .unwrap();
        let system = System {
            cpus: 0.125,
            memory: 512,
            execute_limit_time_seconds: 60,
            max_total_charge: 0.0,
            max_total_traffic: 0.0,
            proxy_region: "US".into(),
        };
        Run::new(
            "01KTEST".into(),
            1,
            &worker,
            custom.as_object().unwrap().clone(),
            system,
            Duration::from_millis(duration_ms),
            None,
            1_000,
        )
    }

    #[test]
    fn usd_formats_like_coreclaw() {
        assert_eq!(usd(100_000_000), "100.00");
        assert_eq!(usd(60_000), "0.06");
        assert_eq!(usd(21_700), "0.0217");
        assert_eq!(usd(-1_500_000), "-1.50");
    }

    #[test]
    fn a_run_goes_ready_running_succeeded() {
        let r = run(json!({"count": 100}), 10_000);
        let at = |ms| r.at(r.created + Duration::from_millis(ms));
        assert_eq!(at(0).status, RunStatus::Ready);
        assert_eq!(at(0).started_at, 0);
        let mid = at(5_500);
        assert_eq!(mid.status, RunStatus::Running);
        assert_eq!(mid.produced, 50);
        assert_eq!(mid.finished_at, 0);
        let end = at(20_000);
        assert_eq!(end.status, RunStatus::Succeeded);
        assert_eq!(end.produced, 100);
        assert_eq!(end.finished_at, 1_010);
    }

    #[test]
    fn the_marker_fails_halfway_and_an_abort_goes_through_aborting_to_failed() {
        let r = run(
            json!({"count": 100, "payload_bytes": 1, "note": "sandbox:fail"}),
            1_000,
        );
        let end = r.at(r.created + Duration::from_secs(5));
        assert_eq!(end.status, RunStatus::Failed);
        assert_eq!(end.produced, 50);
        let mut r = run(json!({"count": 100}), 10_000);
        r.aborted = Some(r.created + Duration::from_millis(3_250));
        let aborting = r.at(r.created + Duration::from_millis(3_500));
        assert_eq!(aborting.status, RunStatus::Aborting);
        assert!(!aborting.is_final());
        assert_eq!(aborting.produced, 25, "results stop at the abort");
        assert_eq!(aborting.finished_at, 0);
        let snap = r.at(r.created + Duration::from_secs(60));
        assert_eq!(snap.status, RunStatus::Failed);
        assert_eq!(snap.produced, 25);
        assert_eq!(
            r.record(r.created + Duration::from_secs(60)).err_msg,
            ABORTED_MESSAGE
        );
    }
}
