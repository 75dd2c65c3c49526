//! Deployments (部署管理 API): create (production needs approvers), read, and roll back a
//! finished deployment. `deployment.success` or `deployment.failed` is announced when it ends.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use openclaw_devops_api::types::{DeploymentStrategy, WebhookEventType};
use serde_json::json;

use crate::devops::error::{ApiError, details};
use crate::devops::model::deployments::{Deployment, STRATEGIES, current_version, new_id};
use crate::devops::rbac::{Caller, DEPLOY};
use crate::devops::read::{PathId, body, choice, finish};
use crate::devops::state::Devops;
use crate::kit::clock::unix_millis;

impl Devops {
    /// Stores `deployment`, announces its outcome when it comes, and answers 202 with it.
    fn start_deployment(self: &Arc<Self>, deployment: Deployment) -> Response {
        let answer = {
            let mut inner = self.lock();
            inner.deployments.push(deployment.clone());
            deployment.wire(&inner.deployments, deployment.created_ms)
        };
        let id = deployment.id.clone();
        self.at(deployment.finished_ms(), move |d, now| {
            let inner = d.lock();
            let dep = inner.deployments.iter().find(|x| x.id == id)?;
            let event = if dep.fails() {
                WebhookEventType::DeploymentFailed
            } else {
                WebhookEventType::DeploymentSuccess
            };
            let data = serde_json::to_value(dep.wire(&inner.deployments, now)).ok()?;
            Some((event, data))
        });
        (StatusCode::ACCEPTED, axum::Json(answer)).into_response()
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
pub(crate) async fn create(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(DEPLOY)?;
    let mut body = body(&bytes)?;
    let application = body.string("applicationId", true);
    let environment = body.string("environment", true);
    let version = body.string("version", true);
    let strategy: Option<DeploymentStrategy> = choice(&mut body, "strategy", &STRATEGIES, false);
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
        let all = &inner.deployments;
        Deployment {
            id: new_id(all, now),
            previous_version: current_version(all, &application, &environment, now),
            application_id: application,
            environment,
            version,
            strategy: strategy.unwrap_or(DeploymentStrategy::Rolling),
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
pub(crate) async fn get(
    State(d): State<Arc<Devops>>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let inner = d.lock();
    let deployment = inner
        .deployments
        .iter()
        .find(|x| x.id == id)
        .ok_or_else(|| ApiError::not_found("deployment", &id))?;
    Ok(axum::Json(deployment.wire(&inner.deployments, unix_millis())).into_response())
}

/// `POST /deployments/{deploymentId}/rollback`: 202 with the rollback `Deployment`. Only a
/// finished deployment (succeeded or failed) that is not rolled back yet can be rolled back.
pub(crate) async fn rollback(
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
    let status = original.status(&inner.deployments, now);
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
        id: new_id(&inner.deployments, now),
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
