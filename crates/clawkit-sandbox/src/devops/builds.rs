//! Pipelines and builds (流水线 API): triggering a pipeline queues a build that then runs its
//! stages checkout → build → test → deploy over the configured job time. `pipe_ecom_main` builds
//! succeed; `pipe_ecom_flaky` builds fail halfway through their test stage (unless tests are
//! skipped).

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Devops;
use super::envelope::{ApiError, json_answer};
use super::rbac::{Caller, PIPELINES_RUN};
use super::request::{PathId, body, finish};
use crate::kit::clock::{code, unix_millis, utc};
use crate::kit::ids::hash_str;

/// The stages of every build, in order.
pub(super) const STAGES: [&str; 4] = ["checkout", "build", "test", "deploy"];
/// Each stage's share of a build's running time, in percent.
const STAGE_SHARES: [i64; 4] = [10, 35, 35, 20];
/// 部署环境.
pub(super) const ENVIRONMENTS: [&str; 4] = ["dev", "test", "staging", "prod"];
/// The test stage.
const TEST: usize = 2;

/// Whole seconds in `ms` milliseconds, rounded to the nearest.
pub(super) fn round_secs(ms: i64) -> i64 {
    (ms.max(0) + 500) / 1000
}

/// A pipeline.
#[derive(Debug, Clone)]
pub(super) struct Pipeline {
    /// `pipe_…`.
    pub(super) id: String,
    /// Whether its builds fail in the test stage.
    pub(super) fails_tests: bool,
}

/// A build.
#[derive(Debug, Clone)]
pub(super) struct Build {
    /// `build_…`.
    pub(super) id: String,
    // Its pipeline and who triggered it; when (Unix ms), how long it queued, each stage's
    // running time (0 for a skipped stage); whether the test stage is skipped or fails
    // halfway; the size of `app.jar` in bytes.
    pipeline_id: String,
    triggered_by: String,
    triggered_ms: i64,
    queued_for_ms: i64,
    stage_ms: [i64; 4],
    skip_tests: bool,
    fails: bool,
    artifact_size: i64,
}

impl Build {
    /// The seed's build `build_20260314_120501` of `pipe_ecom_main`, triggered by `by` at `at`
    /// (Unix ms) and finished `success` at 12:15:29 (the webhook example's time).
    pub(super) fn seeded(by: &str, at: i64) -> Build {
        Build {
            id: "build_20260314_120501".into(),
            pipeline_id: "pipe_ecom_main".into(),
            triggered_by: by.into(),
            triggered_ms: at,
            queued_for_ms: 119_000,
            stage_ms: [15_000, 180_000, 240_000, 74_000],
            skip_tests: false,
            fails: false,
            artifact_size: 45_678_912,
        }
    }
}

/// A build's state at one moment.
struct Snapshot {
    status: &'static str,
    current: Option<&'static str>,
    progress: i64,
    stages: Vec<Value>,
    built: bool,
    tested: bool,
    finished: Option<i64>,
}

impl Build {
    fn started_ms(&self) -> i64 {
        self.triggered_ms + self.queued_for_ms
    }

    /// When the build reaches its final status.
    pub(super) fn finished_ms(&self) -> i64 {
        let start = self.started_ms();
        if self.fails && !self.skip_tests {
            start + self.stage_ms[0] + self.stage_ms[1] + self.stage_ms[TEST] / 2
        } else {
            start + self.stage_ms.iter().sum::<i64>()
        }
    }

    fn snapshot(&self, now: i64) -> Snapshot {
        let start = self.started_ms();
        let mut snap = Snapshot {
            status: "queued",
            current: None,
            progress: 0,
            stages: Vec::new(),
            built: false,
            tested: false,
            finished: None,
        };
        if now < start {
            snap.stages = STAGES
                .iter()
                .map(|name| json!({"name": name, "status": "pending"}))
                .collect();
            return snap;
        }
        let mut t = start;
        let mut failed = false;
        for (i, name) in STAGES.iter().enumerate() {
            let length = self.stage_ms[i];
            if failed || (i == TEST && self.skip_tests) {
                snap.stages.push(json!({"name": name, "status": "skipped"}));
                continue;
            }
            let fails_here = self.fails && i == TEST;
            let end = if fails_here {
                t + length / 2
            } else {
                t + length
            };
            let stage = if now >= end {
                if i == 1 {
                    snap.built = true;
                }
                if i == TEST {
                    snap.tested = true;
                }
                failed = fails_here;
                json!({
                    "name": name,
                    "status": if fails_here { "failed" } else { "success" },
                    "duration": round_secs(end - t),
                    "startedAt": utc(t),
                    "finishedAt": utc(end),
                })
            } else if now >= t {
                snap.current = Some(name);
                let progress = (now - t) * 100 / length.max(1);
                json!({"name": name, "status": "running", "progress": progress, "startedAt": utc(t)})
            } else {
                json!({"name": name, "status": "pending"})
            };
            snap.stages.push(stage);
            t = end;
        }
        let total: i64 = self.stage_ms.iter().sum::<i64>().max(1);
        let finished = self.finished_ms();
        if now >= finished {
            snap.finished = Some(finished);
            snap.status = if failed { "failed" } else { "success" };
            snap.progress = if failed {
                (finished - start) * 100 / total
            } else {
                100
            };
        } else {
            snap.status = "running";
            snap.progress = ((now - start) * 100 / total).min(99);
        }
        snap
    }

    /// The `Build` schema at `now`.
    pub(super) fn json(&self, now: i64) -> Value {
        let snap = self.snapshot(now);
        let mut out = json!({
            "buildId": self.id,
            "pipelineId": self.pipeline_id,
            "status": snap.status,
        });
        if let Some(stage) = snap.current {
            out["currentStage"] = json!(stage);
        }
        out["progress"] = json!(snap.progress);
        out["stages"] = Value::Array(snap.stages);
        let mut artifacts = Vec::new();
        if snap.built {
            artifacts.push(json!({
                "name": "app.jar",
                "size": self.artifact_size,
                "url": format!("https://artifacts.example.com/{}/app.jar", self.id),
            }));
        }
        out["artifacts"] = Value::Array(artifacts);
        let mut logs = json!({"console": format!("https://logs.example.com/{}/console", self.id)});
        if snap.tested {
            logs["testReport"] = json!(format!("https://logs.example.com/{}/test-report", self.id));
        }
        out["logs"] = logs;
        out
    }

    /// The `build.completed` event's data: the build and when it finished.
    fn completed_json(&self, now: i64) -> Value {
        let mut out = self.json(now);
        if let Some(finished) = self.snapshot(now).finished {
            out["finishedAt"] = json!(utc(finished));
        }
        out
    }

    /// The 202 answer of a trigger.
    fn queued_json(&self, position: usize) -> Value {
        json!({
            "buildId": self.id,
            "pipelineId": self.pipeline_id,
            "status": "queued",
            "queuePosition": position,
            "triggeredBy": self.triggered_by,
            "triggeredAt": utc(self.triggered_ms),
            "estimatedStartTime": utc(self.started_ms()),
        })
    }
}

/// Each stage's running time for a build of `running_ms`, the test stage left out when skipped.
fn stage_times(running_ms: i64, skip_tests: bool) -> [i64; 4] {
    let shares: Vec<i64> = STAGE_SHARES
        .iter()
        .enumerate()
        .map(|(i, s)| if i == TEST && skip_tests { 0 } else { *s })
        .collect();
    let sum: i64 = shares.iter().sum();
    let mut out = [0; 4];
    for (slot, share) in out.iter_mut().zip(&shares) {
        *slot = running_ms * share / sum;
    }
    out
}

/// `POST /pipelines/{pipelineId}/trigger`: 202 `BuildQueued`.
pub(super) async fn trigger(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(PIPELINES_RUN)?;
    let fails_tests = match d.lock().pipelines.iter().find(|p| p.id == id) {
        Some(p) => p.fails_tests,
        None => return Err(ApiError::not_found("pipeline", &id)),
    };
    let mut body = body(&bytes)?;
    body.string("branch", false);
    body.string("commit", false);
    body.one_of("environment", &ENVIRONMENTS, false);
    let skip_tests = body.boolean("skipTests").unwrap_or(false);
    let _variables: Option<Map<String, Value>> = body.string_map("variables");
    finish(body)?;
    let (build, position) = {
        let mut inner = d.lock();
        let now = unix_millis();
        let stamp = format!("build_{}", code(now, 0, "%Y%m%d_%H%M%S"));
        let mut build_id = stamp.clone();
        let mut n = 1;
        while inner.builds.iter().any(|b| b.id == build_id) {
            n += 1;
            build_id = format!("{stamp}_{n}");
        }
        let job = d.job_ms();
        let queued_for = job / 10;
        let build = Build {
            artifact_size: 40_000_000 + (hash_str(d.config.seed, &build_id) % 10_000_000) as i64,
            id: build_id,
            pipeline_id: id,
            triggered_by: caller.user_id.clone(),
            triggered_ms: now,
            queued_for_ms: queued_for,
            stage_ms: stage_times(job - queued_for, skip_tests),
            skip_tests,
            fails: fails_tests,
        };
        let position = 1 + inner
            .builds
            .iter()
            .filter(|b| b.snapshot(now).status == "queued")
            .count();
        inner.builds.push(build.clone());
        (build, position)
    };
    let started = build.id.clone();
    d.at(build.started_ms(), move |d, now| {
        let inner = d.lock();
        let b = inner.builds.iter().find(|b| b.id == started)?;
        Some(("build.started", b.json(now)))
    });
    let finished = build.id.clone();
    d.at(build.finished_ms(), move |d, now| {
        let inner = d.lock();
        let b = inner.builds.iter().find(|b| b.id == finished)?;
        Some(("build.completed", b.completed_json(now)))
    });
    Ok(json_answer(
        StatusCode::ACCEPTED,
        build.queued_json(position),
    ))
}

/// `GET /builds/{buildId}`.
pub(super) async fn get(
    State(d): State<Arc<Devops>>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let inner = d.lock();
    let build = inner
        .builds
        .iter()
        .find(|b| b.id == id)
        .ok_or_else(|| ApiError::not_found("build", &id))?;
    Ok(axum::Json(build.json(unix_millis())).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(fails: bool, skip_tests: bool) -> Build {
        Build {
            id: "build_x".into(),
            pipeline_id: "pipe_x".into(),
            triggered_by: "usr_x".into(),
            triggered_ms: 0,
            queued_for_ms: 100,
            stage_ms: stage_times(900, skip_tests),
            skip_tests,
            fails,
            artifact_size: 1,
        }
    }

    #[test]
    fn a_build_runs_its_stages_in_order() {
        let b = build(false, false);
        assert_eq!(b.json(50)["status"], "queued");
        let running = b.json(100 + 90 + 100);
        assert_eq!(running["status"], "running");
        assert_eq!(running["currentStage"], "build");
        assert_eq!(running["stages"][0]["status"], "success");
        assert_eq!(running["artifacts"], json!([]));
        let later = b.json(100 + 90 + 315 + 10);
        assert_eq!(later["currentStage"], "test");
        assert_eq!(later["artifacts"][0]["name"], "app.jar");
        let done = b.json(1_000);
        assert_eq!(
            (done["status"].as_str(), done["progress"].as_i64()),
            (Some("success"), Some(100))
        );
        assert!(done.get("currentStage").is_none());
        assert!(done["logs"]["testReport"].is_string());
        assert_eq!((round_secs(1499), round_secs(1500)), (1, 2));
    }

    #[test]
    fn a_flaky_build_fails_in_test_unless_tests_are_skipped() {
        let b = build(true, false);
        let done = b.json(b.finished_ms());
        assert_eq!(done["status"], "failed");
        assert_eq!(done["stages"][2]["status"], "failed");
        assert_eq!(done["stages"][3]["status"], "skipped");
        let skipped = build(true, true);
        let done = skipped.json(skipped.finished_ms());
        assert_eq!(done["status"], "success");
        assert_eq!(done["stages"][2]["status"], "skipped");
        assert!(done["logs"].get("testReport").is_none());
    }
}
