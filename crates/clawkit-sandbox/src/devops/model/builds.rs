//! Pipelines and builds (流水线): a build is queued, then runs its stages checkout → build → test
//! → deploy over its running time. `pipe_ecom_main` builds succeed; `pipe_ecom_flaky` builds fail
//! halfway through their test stage (unless tests are skipped). Answers: the spec's `Build` and
//! `BuildQueued`.

use openclaw_devops_api::types::{self, BuildArtifact, BuildLogs, BuildQueued, BuildStage};
use serde_json::{Value, json};

use super::wire::keeping;
use crate::kit::clock::utc_datetime;

/// The stages of every build, in order.
pub(crate) const STAGES: [&str; 4] = ["checkout", "build", "test", "deploy"];
/// Each stage's share of a build's running time, in percent.
const STAGE_SHARES: [i64; 4] = [10, 35, 35, 20];
/// 部署环境.
pub(crate) const ENVIRONMENTS: [&str; 4] = ["dev", "test", "staging", "prod"];
/// The test stage.
const TEST: usize = 2;

/// A pipeline.
#[derive(Debug, Clone)]
pub(crate) struct Pipeline {
    /// `pipe_…`.
    pub(crate) id: String,
    /// Whether its builds fail in the test stage.
    pub(crate) fails_tests: bool,
}

/// A build.
#[derive(Debug, Clone)]
pub(crate) struct Build {
    /// `build_…`.
    pub(crate) id: String,
    /// Its pipeline.
    pub(crate) pipeline_id: String,
    /// Who triggered it.
    pub(crate) triggered_by: String,
    /// Each stage's running time (0 for a skipped stage).
    pub(crate) stage_ms: [i64; 4],
    /// When it was triggered, Unix ms.
    pub(crate) triggered_ms: i64,
    /// How long it queued.
    pub(crate) queued_for_ms: i64,
    /// Whether the test stage is skipped.
    pub(crate) skip_tests: bool,
    /// Whether the test stage fails halfway.
    pub(crate) fails: bool,
    /// The size of `app.jar` in bytes.
    pub(crate) artifact_size: i64,
}

/// Whole seconds in `ms` milliseconds, rounded to the nearest.
pub(crate) fn round_secs(ms: i64) -> i64 {
    (ms.max(0) + 500) / 1000
}

/// Each stage's running time for a build of `running_ms`, the test stage left out when skipped.
pub(crate) fn stage_times(running_ms: i64, skip_tests: bool) -> [i64; 4] {
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

/// A build's state at one moment.
struct Snapshot {
    status: &'static str,
    current: Option<&'static str>,
    progress: i64,
    stages: Vec<BuildStage>,
    built: bool,
    tested: bool,
    finished: Option<i64>,
}

/// A stage that has not run (`pending`) or will not (`skipped`).
fn idle(name: &str, status: &str) -> BuildStage {
    BuildStage {
        name: name.into(),
        status: status.into(),
        duration: None,
        progress: None,
        started_at: None,
        finished_at: None,
    }
}

impl Build {
    /// When it leaves the queue.
    pub(crate) fn started_ms(&self) -> i64 {
        self.triggered_ms + self.queued_for_ms
    }

    /// When the build reaches its final status.
    pub(crate) fn finished_ms(&self) -> i64 {
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
            snap.stages = STAGES.iter().map(|name| idle(name, "pending")).collect();
            return snap;
        }
        let mut t = start;
        let mut failed = false;
        for (i, name) in STAGES.iter().enumerate() {
            let length = self.stage_ms[i];
            if failed || (i == TEST && self.skip_tests) {
                snap.stages.push(idle(name, "skipped"));
                continue;
            }
            let fails_here = self.fails && i == TEST;
            let end = if fails_here {
                t + length / 2
            } else {
                t + length
            };
            let stage = if now >= end {
                snap.built |= i == 1;
                snap.tested |= i == TEST;
                failed = fails_here;
                BuildStage {
                    status: if fails_here { "failed" } else { "success" }.into(),
                    duration: Some(round_secs(end - t)),
                    started_at: Some(utc_datetime(t)),
                    finished_at: Some(utc_datetime(end)),
                    ..idle(name, "")
                }
            } else if now >= t {
                snap.current = Some(name);
                BuildStage {
                    progress: Some((now - t) * 100 / length.max(1)),
                    started_at: Some(utc_datetime(t)),
                    ..idle(name, "running")
                }
            } else {
                idle(name, "pending")
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
    pub(crate) fn wire(&self, now: i64) -> types::Build {
        let snap = self.snapshot(now);
        let mut artifacts = Vec::new();
        if snap.built {
            artifacts.push(BuildArtifact {
                name: "app.jar".into(),
                size: Some(self.artifact_size),
                url: format!("https://artifacts.example.com/{}/app.jar", self.id),
            });
        }
        types::Build {
            build_id: self.id.clone(),
            pipeline_id: self.pipeline_id.clone(),
            status: snap.status.into(),
            current_stage: snap.current.map(str::to_string),
            progress: Some(snap.progress),
            stages: snap.stages,
            artifacts,
            logs: Some(BuildLogs {
                console: Some(format!("https://logs.example.com/{}/console", self.id)),
                test_report: snap
                    .tested
                    .then(|| format!("https://logs.example.com/{}/test-report", self.id)),
            }),
        }
    }

    /// The `Build` schema at `now` as JSON (`artifacts` even when there are none yet).
    pub(crate) fn json(&self, now: i64) -> Value {
        keeping(
            &self.wire(now),
            &[("stages", json!([])), ("artifacts", json!([]))],
        )
    }

    /// The `build.completed` event's data: the build and when it finished.
    pub(crate) fn completed_json(&self, now: i64) -> Value {
        let mut out = self.json(now);
        if let Some(finished) = self.snapshot(now).finished {
            out["finishedAt"] = json!(utc_datetime(finished));
        }
        out
    }

    /// The 202 answer of a trigger, `position` in the queue.
    pub(crate) fn queued(&self, position: usize) -> BuildQueued {
        BuildQueued {
            build_id: self.id.clone(),
            pipeline_id: self.pipeline_id.clone(),
            status: "queued".into(),
            queue_position: Some(position as u64),
            triggered_by: Some(self.triggered_by.clone()),
            triggered_at: utc_datetime(self.triggered_ms),
            estimated_start_time: Some(utc_datetime(self.started_ms())),
        }
    }

    /// Whether it is still queued at `now`.
    pub(crate) fn queued_at(&self, now: i64) -> bool {
        now < self.started_ms()
    }
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
