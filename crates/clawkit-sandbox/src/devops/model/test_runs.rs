//! Test suites and their runs (测试): a run is queued, runs its suite's cases with progress, then
//! passes or fails; its report shows the summary so far. `suite_ecom_login_e2e` ends failed with
//! two failures (the spec's report example), `suite_ecom_smoke` passes. Answers: the spec's
//! `TestRun` and `TestReport`.

use openclaw_devops_api::types::{self, TestCaseResult, TestReport, TestSummary};
use serde_json::{Value, json};

use super::builds::round_secs;
use super::wire::keeping;
use crate::kit::clock::utc_datetime;

/// A case of a suite that fails.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// Case name.
    pub(crate) name: &'static str,
    /// Its place among the suite's cases (0-based).
    pub(crate) at: i64,
    /// Duration in ms.
    pub(crate) duration_ms: i64,
    /// Error message.
    pub(crate) message: &'static str,
}

/// A test suite.
#[derive(Debug, Clone)]
pub(crate) struct Suite {
    /// `suite_…`.
    pub(crate) id: String,
    /// How many cases it has.
    pub(crate) total: i64,
    /// The places of its skipped cases.
    pub(crate) skipped: Vec<i64>,
    /// Its failing cases.
    pub(crate) failures: Vec<Failure>,
}

/// A run of a suite.
#[derive(Debug, Clone)]
pub(crate) struct TestRun {
    /// `run_…`.
    pub(crate) id: String,
    /// The suite, as it was when the run started.
    pub(crate) suite: Suite,
    /// 测试环境.
    pub(crate) environment: Option<String>,
    /// 浏览器列表.
    pub(crate) browsers: Vec<String>,
    /// 并行执行数.
    pub(crate) parallel: i64,
    /// Who started it.
    pub(crate) triggered_by: String,
    /// Unix ms.
    pub(crate) queued_ms: i64,
    /// Time queued.
    pub(crate) queue_ms: i64,
    /// Time running.
    pub(crate) run_ms: i64,
}

/// A run's status at one moment: the status, its progress and the cases run so far.
struct State {
    status: &'static str,
    progress: Option<i64>,
    done: i64,
}

impl State {
    fn started(&self) -> bool {
        self.status != "queued"
    }

    fn finished(&self) -> bool {
        matches!(self.status, "passed" | "failed")
    }
}

impl TestRun {
    fn started_ms(&self) -> i64 {
        self.queued_ms + self.queue_ms
    }

    /// When it reaches `passed` or `failed`.
    pub(crate) fn finished_ms(&self) -> i64 {
        self.started_ms() + self.run_ms
    }

    /// Whether it ends failed.
    pub(crate) fn fails(&self) -> bool {
        !self.suite.failures.is_empty()
    }

    fn state(&self, now: i64) -> State {
        let (status, progress, done) = if now < self.started_ms() {
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
        };
        State {
            status,
            progress,
            done,
        }
    }

    /// When it started and finished, as far as it has at `state`.
    fn times(&self, state: &State) -> (Option<i64>, Option<i64>) {
        (
            state.started().then(|| self.started_ms()),
            state.finished().then(|| self.finished_ms()),
        )
    }

    /// The `TestRun` schema at `now`.
    pub(crate) fn wire(&self, now: i64) -> types::TestRun {
        let state = self.state(now);
        let (started, finished) = self.times(&state);
        types::TestRun {
            run_id: self.id.clone(),
            suite_id: self.suite.id.clone(),
            status: state.status.into(),
            progress: state.progress,
            environment: self.environment.clone(),
            browsers: self.browsers.clone(),
            parallel: Some(self.parallel),
            triggered_by: Some(self.triggered_by.clone()),
            queued_at: Some(utc_datetime(self.queued_ms)),
            started_at: started.map(utc_datetime),
            finished_at: finished.map(utc_datetime),
            report_url: Some(format!("/tests/runs/{}/report", self.id)),
        }
    }

    /// The `TestRun` schema at `now` as JSON (`browsers` even when empty).
    pub(crate) fn json(&self, now: i64) -> Value {
        keeping(&self.wire(now), &[("browsers", json!([]))])
    }

    /// The `TestReport` at `now`: the summary of the cases run so far.
    pub(crate) fn report(&self, now: i64) -> TestReport {
        let state = self.state(now);
        let done = state.done;
        let failures: Vec<TestCaseResult> = self
            .suite
            .failures
            .iter()
            .enumerate()
            .filter(|(_, f)| f.at < done)
            .map(|(i, f)| TestCaseResult {
                name: f.name.into(),
                browser: Some(
                    self.browsers
                        .get((i + 1) % self.browsers.len().max(1))
                        .cloned()
                        .unwrap_or_else(|| "chromium".into()),
                ),
                status: "failed".into(),
                duration: Some(f.duration_ms),
                error_message: Some(f.message.into()),
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
        let (started, finished) = self.times(&state);
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        TestReport {
            run_id: self.id.clone(),
            suite_id: Some(self.suite.id.clone()),
            status: state.status.into(),
            environment: self.environment.clone(),
            summary: TestSummary {
                total: count(total),
                passed: count(passed),
                failed: count(failed),
                skipped: count(skipped),
                pass_rate: Some(pass_rate),
                duration: Some(round_secs(elapsed)),
            },
            failures,
            report_url: Some(format!(
                "https://reports.example.com/{}/index.html",
                self.id
            )),
            started_at: started.map(utc_datetime),
            finished_at: finished.map(utc_datetime),
        }
    }

    /// The `TestReport` at `now` as JSON (`failures` even when there are none).
    pub(crate) fn report_json(&self, now: i64) -> Value {
        keeping(&self.report(now), &[("failures", json!([]))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_reports_what_it_ran_so_far() {
        let run = TestRun {
            id: "run_x".into(),
            suite: Suite {
                id: "suite_x".into(),
                total: 10,
                skipped: vec![2],
                failures: vec![Failure {
                    name: "f",
                    at: 5,
                    duration_ms: 7,
                    message: "m",
                }],
            },
            environment: None,
            browsers: vec!["chromium".into()],
            parallel: 1,
            triggered_by: "usr_x".into(),
            queued_ms: 0,
            queue_ms: 100,
            run_ms: 1_000,
        };
        let queued = run.report_json(50);
        assert_eq!(queued["status"], "queued");
        assert_eq!(queued["failures"], json!([]));
        assert!(queued.get("startedAt").is_none());
        let half = run.report_json(600);
        assert_eq!(
            half["summary"],
            json!({"total": 10, "passed": 4, "failed": 0, "skipped": 1, "passRate": 40.0, "duration": 1})
        );
        let done = run.json(1_100);
        assert_eq!(done["status"], "failed");
        assert_eq!(done["finishedAt"], "1970-01-01T00:00:01.100Z");
        assert_eq!(run.report_json(1_100)["failures"][0]["browser"], "chromium");
    }
}
