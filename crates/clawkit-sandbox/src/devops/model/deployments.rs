//! Deployments (部署): a deployment waits for its approvers (production only), is queued, rolls
//! out with progress, then succeeds, or fails when its version ends in `-bad`. A rollback is a
//! new deployment of the previous (or given) version; once it succeeds the deployment it rolled
//! back reads `rolled_back`. Answer: the spec's `Deployment`.

use openclaw_devops_api::types::{self, DeploymentStrategy};

use super::ids::stamped;
use crate::kit::clock::{code, utc_datetime};

/// 部署策略.
pub(crate) const STRATEGIES: [&str; 3] = ["rolling", "blue-green", "canary"];
/// The version suffix that makes a deployment fail, so failures can be tried.
pub(crate) const FAIL_SUFFIX: &str = "-bad";
/// Share of the rollout after which a failing deployment fails, in percent.
const FAIL_AT: i64 = 60;

/// A deployment (or a rollback, which is one).
#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    /// `dep_…`.
    pub(crate) id: String,
    /// 应用 ID.
    pub(crate) application_id: String,
    /// 目标环境.
    pub(crate) environment: String,
    /// 部署版本号.
    pub(crate) version: String,
    /// The version running before.
    pub(crate) previous_version: Option<String>,
    /// 部署策略.
    pub(crate) strategy: DeploymentStrategy,
    /// Approvers' user ids.
    pub(crate) approvals: Vec<String>,
    /// Who started it.
    pub(crate) created_by: String,
    /// Unix ms.
    pub(crate) created_ms: i64,
    /// For a rollback: the deployment rolled back.
    pub(crate) rollback_of: Option<String>,
    /// For a rollback: why.
    pub(crate) reason: Option<String>,
    /// Time waiting for approval (production only).
    pub(crate) approval_ms: i64,
    /// Time queued.
    pub(crate) queue_ms: i64,
    /// Time rolling out.
    pub(crate) rollout_ms: i64,
}

/// A deployment's own status at one moment (before any rollback of it counts) and since when.
struct Phase {
    status: &'static str,
    progress: Option<i64>,
    since: i64,
}

/// A new `dep_YYYYMMDD_HHMMSS` id at `now` (with `_2`, `_3` … within one second), not one of
/// `taken`.
pub(crate) fn new_id(taken: &[Deployment], now: i64) -> String {
    let stamp = format!("dep_{}", code(now, 0, "%Y%m%d_%H%M%S"));
    stamped(&stamp, |id| taken.iter().any(|d| d.id == id))
}

impl Deployment {
    /// Whether it fails (its version ends in [`FAIL_SUFFIX`]).
    pub(crate) fn fails(&self) -> bool {
        self.version.ends_with(FAIL_SUFFIX)
    }

    fn rollout_start(&self) -> i64 {
        self.created_ms + self.approval_ms + self.queue_ms
    }

    /// When it reaches `succeeded` or `failed`.
    pub(crate) fn finished_ms(&self) -> i64 {
        if self.fails() {
            self.rollout_start() + self.rollout_ms * FAIL_AT / 100
        } else {
            self.rollout_start() + self.rollout_ms
        }
    }

    fn phase(&self, now: i64) -> Phase {
        let approved = self.created_ms + self.approval_ms;
        let start = self.rollout_start();
        let end = self.finished_ms();
        let (status, progress, since) = if now < approved {
            ("pending_approval", None, self.created_ms)
        } else if now < start {
            let since = if self.approval_ms > 0 {
                approved
            } else {
                self.created_ms
            };
            ("queued", None, since)
        } else if now < end {
            let progress = (now - start) * 100 / self.rollout_ms.max(1);
            ("in_progress", Some(progress), start)
        } else if self.fails() {
            ("failed", Some(FAIL_AT), end)
        } else {
            ("succeeded", Some(100), end)
        };
        Phase {
            status,
            progress,
            since,
        }
    }

    /// The `Deployment` schema at `now`: `rolled_back` once a rollback of it among `all` has
    /// succeeded.
    pub(crate) fn wire(&self, all: &[Deployment], now: i64) -> types::Deployment {
        let phase = self.phase(now);
        let rolled_back = all
            .iter()
            .filter(|r| r.rollback_of.as_deref() == Some(self.id.as_str()))
            .map(|r| r.phase(now))
            .filter(|p| p.status == "succeeded")
            .map(|p| p.since)
            .min();
        let (status, updated) = match rolled_back {
            Some(at) => ("rolled_back", at),
            None => (phase.status, phase.since),
        };
        types::Deployment {
            id: self.id.clone(),
            application_id: self.application_id.clone(),
            environment: self.environment.clone(),
            version: self.version.clone(),
            previous_version: self.previous_version.clone(),
            strategy: Some(self.strategy),
            status: status.into(),
            progress: phase.progress,
            approvals: self.approvals.clone(),
            created_by: Some(self.created_by.clone()),
            rollback_of: self.rollback_of.clone(),
            reason: self.reason.clone(),
            created_at: utc_datetime(self.created_ms),
            updated_at: Some(utc_datetime(updated)),
        }
    }

    /// Its status at `now`, rollbacks among `all` counted.
    pub(crate) fn status(&self, all: &[Deployment], now: i64) -> String {
        self.wire(all, now).status
    }
}

/// The version running in an application's environment: that of the newest deployment there
/// that stands succeeded.
pub(crate) fn current_version(
    all: &[Deployment],
    application: &str,
    environment: &str,
    now: i64,
) -> Option<String> {
    all.iter()
        .rev()
        .filter(|d| d.application_id == application && d.environment == environment)
        .find(|d| d.status(all, now) == "succeeded")
        .map(|d| d.version.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_follow_each_other() {
        let dep = Deployment {
            id: "dep_x".into(),
            application_id: "app".into(),
            environment: "prod".into(),
            version: "1.0.0".into(),
            previous_version: None,
            strategy: DeploymentStrategy::Rolling,
            approvals: vec!["usr_a".into()],
            created_by: "usr_b".into(),
            created_ms: 0,
            rollback_of: None,
            reason: None,
            approval_ms: 100,
            queue_ms: 50,
            rollout_ms: 200,
        };
        assert_eq!(dep.phase(10).status, "pending_approval");
        assert_eq!(dep.phase(120).status, "queued");
        let rolling = dep.phase(250);
        assert_eq!(
            (rolling.status, rolling.progress),
            ("in_progress", Some(50))
        );
        assert_eq!(dep.phase(350).status, "succeeded");
        let bad = Deployment {
            version: "1.0.1-bad".into(),
            ..dep
        };
        assert_eq!(bad.finished_ms(), 150 + 120);
        assert_eq!(bad.phase(270).status, "failed");
        assert_eq!(new_id(&[], 1_773_493_201_000), "dep_20260314_130001");
    }
}
