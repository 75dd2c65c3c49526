//! Deployments (部署管理 API): a deployment waits for its approvers (production only), is queued,
//! rolls out with progress, then succeeds, or fails when its version ends in `-bad`. A rollback
//! is a new deployment of the previous (or given) version; once it succeeds the deployment it
//! rolled back reads `rolled_back`.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Devops;
use super::envelope::{ApiError, details, json_answer};
use super::rbac::{Caller, DEPLOY};
use super::request::{PathId, body, finish};
use super::state::Inner;
use crate::kit::clock::{code, unix_millis, utc};

/// 部署策略.
const STRATEGIES: [&str; 3] = ["rolling", "blue-green", "canary"];
/// The version suffix that makes a deployment fail, so failures can be tried.
pub(super) const FAIL_SUFFIX: &str = "-bad";
/// Share of the rollout after which a failing deployment fails, in percent.
const FAIL_AT: i64 = 60;

/// A deployment (or a rollback, which is one).
#[derive(Debug, Clone)]
pub(super) struct Deployment {
    /// `dep_…`.
    pub(super) id: String,
    /// 应用 ID.
    pub(super) application_id: String,
    /// 目标环境.
    pub(super) environment: String,
    /// 部署版本号.
    pub(super) version: String,
    /// The version running before.
    pub(super) previous_version: Option<String>,
    /// 部署策略.
    pub(super) strategy: &'static str,
    /// Approvers' user ids.
    pub(super) approvals: Vec<String>,
    /// Who started it.
    pub(super) created_by: String,
    /// Unix ms.
    pub(super) created_ms: i64,
    /// For a rollback: the deployment rolled back.
    pub(super) rollback_of: Option<String>,
    /// For a rollback: why.
    pub(super) reason: Option<String>,
    /// Time waiting for approval (production only).
    pub(super) approval_ms: i64,
    /// Time queued.
    pub(super) queue_ms: i64,
    /// Time rolling out.
    pub(super) rollout_ms: i64,
}

/// A deployment's own status at one moment (before any rollback of it counts) and since when.
struct Phase {
    status: &'static str,
    progress: Option<i64>,
    since: i64,
}

impl Deployment {
    fn fails(&self) -> bool {
        self.version.ends_with(FAIL_SUFFIX)
    }

    fn rollout_start(&self) -> i64 {
        self.created_ms + self.approval_ms + self.queue_ms
    }

    /// When it reaches `succeeded` or `failed`.
    pub(super) fn finished_ms(&self) -> i64 {
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
        if now < approved {
            Phase {
                status: "pending_approval",
                progress: None,
                since: self.created_ms,
            }
        } else if now < start {
            Phase {
                status: "queued",
                progress: None,
                since: if self.approval_ms > 0 {
                    approved
                } else {
                    self.created_ms
                },
            }
        } else if now < end {
            Phase {
                status: "in_progress",
                progress: Some((now - start) * 100 / self.rollout_ms.max(1)),
                since: start,
            }
        } else if self.fails() {
            Phase {
                status: "failed",
                progress: Some(FAIL_AT),
                since: end,
            }
        } else {
            Phase {
                status: "succeeded",
                progress: Some(100),
                since: end,
            }
        }
    }

    /// The `Deployment` schema at `now`: `rolled_back` once a rollback of it has succeeded.
    pub(super) fn json(&self, inner: &Inner, now: i64) -> Value {
        let phase = self.phase(now);
        let rolled_back = inner
            .deployments
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
        let mut out = json!({
            "id": self.id,
            "applicationId": self.application_id,
            "environment": self.environment,
            "version": self.version,
        });
        if let Some(previous) = &self.previous_version {
            out["previousVersion"] = json!(previous);
        }
        out["strategy"] = json!(self.strategy);
        out["status"] = json!(status);
        if let Some(progress) = phase.progress {
            out["progress"] = json!(progress);
        }
        if !self.approvals.is_empty() {
            out["approvals"] = json!(self.approvals);
        }
        out["createdBy"] = json!(self.created_by);
        if let Some(of) = &self.rollback_of {
            out["rollbackOf"] = json!(of);
        }
        if let Some(reason) = &self.reason {
            out["reason"] = json!(reason);
        }
        out["createdAt"] = json!(utc(self.created_ms));
        out["updatedAt"] = json!(utc(updated));
        out
    }

    /// Its status at `now`, rollbacks counted.
    fn status(&self, inner: &Inner, now: i64) -> String {
        self.json(inner, now)["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// The version running in an application's environment: that of the newest deployment there
/// that stands succeeded.
fn current_version(
    inner: &Inner,
    application: &str,
    environment: &str,
    now: i64,
) -> Option<String> {
    inner
        .deployments
        .iter()
        .rev()
        .filter(|d| d.application_id == application && d.environment == environment)
        .find(|d| d.status(inner, now) == "succeeded")
        .map(|d| d.version.clone())
}

/// A new `dep_YYYYMMDD_HHMMSS` id (with `_2`, `_3` … within one second).
fn new_id(inner: &Inner, now: i64) -> String {
    let stamp = format!("dep_{}", code(now, 0, "%Y%m%d_%H%M%S"));
    let mut id = stamp.clone();
    let mut n = 1;
    while inner.deployments.iter().any(|d| d.id == id) {
        n += 1;
        id = format!("{stamp}_{n}");
    }
    id
}

impl Devops {
    /// Stores `deployment`, announces its outcome when it comes, and answers 202 with it.
    fn start_deployment(self: &Arc<Self>, deployment: Deployment) -> Response {
        let answer = {
            let mut inner = self.lock();
            inner.deployments.push(deployment.clone());
            deployment.json(&inner, deployment.created_ms)
        };
        let id = deployment.id.clone();
        self.at(deployment.finished_ms(), move |d, now| {
            let inner = d.lock();
            let dep = inner.deployments.iter().find(|x| x.id == id)?;
            let event = if dep.fails() {
                "deployment.failed"
            } else {
                "deployment.success"
            };
            Some((event, dep.json(&inner, now)))
        });
        json_answer(StatusCode::ACCEPTED, answer)
    }

    /// The phase lengths of a new deployment: approval (production only), queue, rollout.
    fn deployment_phases(&self, needs_approval: bool) -> (i64, i64, i64) {
        let job = self.job_ms();
        if needs_approval {
            (job / 5, job / 10, job - job / 5 - job / 10)
        } else {
            (0, job * 15 / 100, job - job * 15 / 100)
        }
    }
}

/// `POST /deployments`: 202 `Deployment`; production needs `approvals`.
pub(super) async fn create(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(DEPLOY)?;
    let mut body = body(&bytes)?;
    let application = body.string("applicationId", true);
    let environment = body.string("environment", true);
    let version = body.string("version", true);
    let strategy = body.one_of("strategy", &STRATEGIES, false);
    let approvals = body.strings("approvals", false);
    let prod = environment.as_deref() == Some("prod");
    if prod && !body.failed("approvals") && approvals.as_ref().is_none_or(Vec::is_empty) {
        body.problem("approvals", "生产环境部署必须提供审批人列表", "required");
    }
    finish(body)?;
    let (Some(application), Some(environment), Some(version)) = (application, environment, version)
    else {
        return Err(ApiError::body("缺少必填字段"));
    };
    let now = unix_millis();
    let (approval_ms, queue_ms, rollout_ms) = d.deployment_phases(prod);
    let deployment = {
        let inner = d.lock();
        Deployment {
            id: new_id(&inner, now),
            previous_version: current_version(&inner, &application, &environment, now),
            application_id: application,
            environment,
            version,
            strategy: strategy.unwrap_or("rolling"),
            approvals: approvals.unwrap_or_default(),
            created_by: caller.user_id,
            created_ms: now,
            rollback_of: None,
            reason: None,
            approval_ms,
            queue_ms,
            rollout_ms,
        }
    };
    Ok(d.start_deployment(deployment))
}

/// `GET /deployments/{deploymentId}`.
pub(super) async fn get(
    State(d): State<Arc<Devops>>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let inner = d.lock();
    let deployment = inner
        .deployments
        .iter()
        .find(|x| x.id == id)
        .ok_or_else(|| ApiError::not_found("deployment", &id))?;
    Ok(axum::Json(deployment.json(&inner, unix_millis())).into_response())
}

/// `POST /deployments/{deploymentId}/rollback`: 202 with the rollback `Deployment`. Only a
/// finished deployment (succeeded or failed) that is not rolled back yet can be rolled back.
pub(super) async fn rollback(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(DEPLOY)?;
    let original = d
        .lock()
        .deployments
        .iter()
        .find(|x| x.id == id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("deployment", &id))?;
    let mut body = body(&bytes)?;
    let target = body.string("targetVersion", false);
    let reason = body.string("reason", true);
    finish(body)?;
    let now = unix_millis();
    let inner = d.lock();
    let status = original.status(&inner, now);
    if !matches!(status.as_str(), "succeeded" | "failed") {
        return Err(ApiError::conflict(
            format!("资源冲突:状态为 {status} 的部署不能回滚"),
            details([
                ("resource", json!("deployment")),
                ("id", json!(id)),
                ("status", json!(status)),
                ("allowed", json!(["succeeded", "failed"])),
            ]),
        ));
    }
    let Some(version) = target.or_else(|| original.previous_version.clone()) else {
        return Err(ApiError::conflict(
            "资源冲突:没有可回滚的上一版本,请指定 targetVersion",
            details([
                ("resource", json!("deployment")),
                ("id", json!(id)),
                ("field", json!("targetVersion")),
            ]),
        ));
    };
    let (_, queue_ms, rollout_ms) = d.deployment_phases(false);
    let deployment = Deployment {
        id: new_id(&inner, now),
        application_id: original.application_id.clone(),
        environment: original.environment.clone(),
        version,
        previous_version: Some(original.version.clone()),
        strategy: original.strategy,
        approvals: Vec::new(),
        created_by: caller.user_id,
        created_ms: now,
        rollback_of: Some(original.id.clone()),
        reason,
        approval_ms: 0,
        queue_ms,
        rollout_ms,
    };
    drop(inner);
    Ok(d.start_deployment(deployment))
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
            strategy: "rolling",
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
    }
}
