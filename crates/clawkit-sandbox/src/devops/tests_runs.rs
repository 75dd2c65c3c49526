//! Test suites and their runs (测试管理 API): a run is queued, runs its suite's cases with
//! progress, then passes or fails; its report shows the summary so far. `suite_ecom_login_e2e`
//! ends failed with two failures (the spec's report example), `suite_ecom_smoke` passes.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Devops;
use super::builds::round_secs;
use super::envelope::{ApiError, json_answer};
use super::rbac::{Caller, TESTS_RUN};
use super::request::{PathId, body, finish};
use crate::kit::clock::{code, unix_millis, utc};

/// A case of a suite that fails.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    /// Case name.
    pub(super) name: &'static str,
    /// Its place among the suite's cases (0-based).
    pub(super) at: i64,
    /// Duration in ms.
    pub(super) duration_ms: i64,
    /// Error message.
    pub(super) message: &'static str,
}

/// A test suite.
#[derive(Debug, Clone)]
pub(super) struct Suite {
    /// `suite_…`.
    pub(super) id: String,
    /// How many cases it has.
    pub(super) total: i64,
    /// The places of its skipped cases.
    pub(super) skipped: Vec<i64>,
    /// Its failing cases.
    pub(super) failures: Vec<Failure>,
}

/// A run of a suite.
#[derive(Debug, Clone)]
pub(super) struct TestRun {
    /// `run_…`.
    pub(super) id: String,
    /// The suite, as it was when the run started.
    pub(super) suite: Suite,
    /// 测试环境.
    pub(super) environment: Option<String>,
    /// 浏览器列表.
    pub(super) browsers: Vec<String>,
    /// 并行执行数.
    pub(super) parallel: i64,
    /// Who started it.
    pub(super) triggered_by: String,
    /// Unix ms.
    pub(super) queued_ms: i64,
    /// Time queued.
    pub(super) queue_ms: i64,
    /// Time running.
    pub(super) run_ms: i64,
}

impl TestRun {
    fn started_ms(&self) -> i64 {
        self.queued_ms + self.queue_ms
    }

    /// When it reaches `passed` or `failed`.
    pub(super) fn finished_ms(&self) -> i64 {
        self.started_ms() + self.run_ms
    }

    fn fails(&self) -> bool {
        !self.suite.failures.is_empty()
    }

    /// Status, progress and cases run at `now`.
    fn state(&self, now: i64) -> (&'static str, Option<i64>, i64) {
        if now < self.started_ms() {
            ("queued", None, 0)
        } else if now < self.finished_ms() {
            let elapsed = now - self.started_ms();
            let run = self.run_ms.max(1);
            (
                "running",
                Some(elapsed * 100 / run),
                self.suite.total * elapsed / run,
            )
        } else if self.fails() {
            ("failed", Some(100), self.suite.total)
        } else {
            ("passed", Some(100), self.suite.total)
        }
    }

    /// The `TestRun` schema at `now`.
    pub(super) fn json(&self, now: i64) -> Value {
        let (status, progress, _) = self.state(now);
        let mut out = json!({
            "runId": self.id,
            "suiteId": self.suite.id,
            "status": status,
        });
        if let Some(p) = progress {
            out["progress"] = json!(p);
        }
        if let Some(e) = &self.environment {
            out["environment"] = json!(e);
        }
        out["browsers"] = json!(self.browsers);
        out["parallel"] = json!(self.parallel);
        out["triggeredBy"] = json!(self.triggered_by);
        out["queuedAt"] = json!(utc(self.queued_ms));
        if status != "queued" {
            out["startedAt"] = json!(utc(self.started_ms()));
        }
        if matches!(status, "passed" | "failed") {
            out["finishedAt"] = json!(utc(self.finished_ms()));
        }
        out["reportUrl"] = json!(format!("/tests/runs/{}/report", self.id));
        out
    }

    /// The `TestReport` at `now`: the summary of the cases run so far.
    pub(super) fn report_json(&self, now: i64) -> Value {
        let (status, _, done) = self.state(now);
        let failures: Vec<Value> = self
            .suite
            .failures
            .iter()
            .enumerate()
            .filter(|(_, f)| f.at < done)
            .map(|(i, f)| {
                let browser = self
                    .browsers
                    .get((i + 1) % self.browsers.len().max(1))
                    .cloned()
                    .unwrap_or_else(|| "chromium".into());
                json!({
                    "name": f.name,
                    "browser": browser,
                    "status": "failed",
                    "duration": f.duration_ms,
                    "errorMessage": f.message,
                })
            })
            .collect();
        let skipped = self.suite.skipped.iter().filter(|s| **s < done).count() as i64;
        let failed = failures.len() as i64;
        let passed = done - failed - skipped;
        let total = self.suite.total;
        let pass_rate = if total > 0 {
            (passed as f64 * 10_000.0 / total as f64).round() / 100.0
        } else {
            0.0
        };
        let elapsed = (now.min(self.finished_ms()) - self.started_ms()).max(0);
        let mut out = json!({
            "runId": self.id,
            "suiteId": self.suite.id,
            "status": status,
        });
        if let Some(e) = &self.environment {
            out["environment"] = json!(e);
        }
        out["summary"] = json!({
            "total": total,
            "passed": passed,
            "failed": failed,
            "skipped": skipped,
            "passRate": pass_rate,
            "duration": round_secs(elapsed),
        });
        out["failures"] = Value::Array(failures);
        out["reportUrl"] = json!(format!(
            "https://reports.example.com/{}/index.html",
            self.id
        ));
        if status != "queued" {
            out["startedAt"] = json!(utc(self.started_ms()));
        }
        if matches!(status, "passed" | "failed") {
            out["finishedAt"] = json!(utc(self.finished_ms()));
        }
        out
    }
}

/// `POST /tests/suites/{suiteId}/run`: 202 `TestRun`, queued.
pub(super) async fn run(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(TESTS_RUN)?;
    let suite = d
        .lock()
        .suites
        .iter()
        .find(|s| s.id == id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("suite", &id))?;
    let mut body = body(&bytes)?;
    let environment = body.string("environment", false);
    let browsers = body.strings("browsers", false);
    let parallel = body.integer("parallel", 1);
    finish(body)?;
    let now = unix_millis();
    let job = d.job_ms();
    let run = {
        let mut inner = d.lock();
        let stamp = format!("run_{}", code(now, 0, "%Y%m%d_%H%M%S"));
        let mut run_id = stamp.clone();
        let mut n = 1;
        while inner.runs.iter().any(|r| r.id == run_id) {
            n += 1;
            run_id = format!("{stamp}_{n}");
        }
        let run = TestRun {
            id: run_id,
            suite,
            environment,
            browsers: browsers
                .filter(|b| !b.is_empty())
                .unwrap_or_else(|| vec!["chromium".into()]),
            parallel: parallel.unwrap_or(4),
            triggered_by: caller.user_id,
            queued_ms: now,
            queue_ms: job / 10,
            run_ms: job - job / 10,
        };
        inner.runs.push(run.clone());
        run
    };
    if run.fails() {
        let id = run.id.clone();
        d.at(run.finished_ms(), move |d, now| {
            let inner = d.lock();
            let r = inner.runs.iter().find(|r| r.id == id)?;
            Some(("test.failed", r.report_json(now)))
        });
    }
    Ok(json_answer(StatusCode::ACCEPTED, run.json(now)))
}

/// The run `id`, or 404.
fn find(d: &Devops, id: &str) -> Result<TestRun, ApiError> {
    d.lock()
        .runs
        .iter()
        .find(|r| r.id == id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("run", id))
}

/// `GET /tests/runs/{runId}`.
pub(super) async fn get(
    State(d): State<Arc<Devops>>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    Ok(axum::Json(find(&d, &id)?.json(unix_millis())).into_response())
}

/// `GET /tests/runs/{runId}/report`.
pub(super) async fn report(
    State(d): State<Arc<Devops>>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    Ok(axum::Json(find(&d, &id)?.report_json(unix_millis())).into_response())
}
