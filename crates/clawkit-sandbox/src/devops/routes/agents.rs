//! AI agents (Agents API): activating an agent on a task, its progress and its result.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use openclaw_devops_api::types::{AgentType, WebhookEventType};

use crate::devops::error::ApiError;
use crate::devops::model::agents::{AGENT_TYPES, Activation, abbreviation};
use crate::devops::model::ids::next_in;
use crate::devops::rbac::{AGENTS_RUN, Caller};
use crate::devops::read::{PathId, body, finish};
use crate::devops::state::Devops;
use crate::kit::clock::{code, unix_millis};

/// `POST /agents/{agentType}/activate`: 202 `AgentActivation`.
pub(crate) async fn activate(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(agent_type): PathId,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(AGENTS_RUN)?;
    let Ok(agent_type) = agent_type.parse::<AgentType>() else {
        return Err(ApiError::parameter(
            "agentType",
            format!("取值无效,应为 {} 之一", AGENT_TYPES.join(", ")),
        ));
    };
    let mut body = body(&bytes)?;
    let task_id = body.string("taskId", true);
    let input = body.object("input", true);
    let config = body.object("config", false);
    let notify = body.boolean("notifyOnComplete").unwrap_or(true);
    finish(body)?;
    let (Some(task_id), Some(input)) = (task_id, input) else {
        return Err(ApiError::body("缺少必填字段"));
    };
    let activation = {
        let mut inner = d.lock();
        if !inner.tasks.iter().any(|t| t.id == task_id) {
            return Err(ApiError::not_found("task", &task_id));
        }
        let now = unix_millis();
        let prefix = format!("act_{}{}", abbreviation(agent_type), code(now, 0, "%Y%m%d"));
        let activation = Activation {
            id: next_in(&prefix, 2, inner.activations.iter().map(|a| a.id.as_str())),
            agent_type,
            task_id,
            input,
            config: config.unwrap_or_default(),
            notify,
            started_ms: now,
            job_ms: d.job_ms(),
            fixed: None,
        };
        inner.activations.push(activation.clone());
        activation
    };
    if activation.notify {
        let id = activation.id.clone();
        d.at(activation.completed_ms(), move |d, now| {
            let inner = d.lock();
            let a = inner.activations.iter().find(|a| a.id == id)?;
            let result = serde_json::to_value(a.result(now, d.config.seed)).ok()?;
            Some((WebhookEventType::AgentCompleted, result))
        });
    }
    Ok((StatusCode::ACCEPTED, axum::Json(activation.accepted())).into_response())
}

/// The activation `id`, or 404.
fn find(d: &Devops, id: &str) -> Result<Activation, ApiError> {
    d.lock()
        .activations
        .iter()
        .find(|a| a.id == id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("activation", id))
}

/// `GET /agents/activations/{activationId}/progress`.
pub(crate) async fn progress(
    State(d): State<Arc<Devops>>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let activation = find(&d, &id)?;
    Ok(axum::Json(activation.progress_json(unix_millis())).into_response())
}

/// `GET /agents/activations/{activationId}/result`.
pub(crate) async fn result(
    State(d): State<Arc<Devops>>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let activation = find(&d, &id)?;
    Ok(axum::Json(activation.result(unix_millis(), d.config.seed)).into_response())
}
