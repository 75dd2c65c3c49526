//! Pipelines and builds (流水线 API): triggering a pipeline queues a build; a build is read back
//! as it runs. `build.started` and `build.completed` are announced when they happen.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use openclaw_devops_api::types::WebhookEventType;

use crate::devops::error::ApiError;
use crate::devops::model::builds::{Build, ENVIRONMENTS, stage_times};
use crate::devops::model::ids::stamped;
use crate::devops::rbac::{Caller, PIPELINES_RUN};
use crate::devops::read::{PathId, body, finish};
use crate::devops::state::Devops;
use crate::kit::clock::{code, unix_millis};
use crate::kit::ids::hash_str;

/// `POST /pipelines/{pipelineId}/trigger`: 202 `BuildQueued`.
pub(crate) async fn trigger(
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
    body.string_map("variables");
    finish(body)?;
    let (build, position) = {
        let mut inner = d.lock();
        let now = unix_millis();
        let stamp = format!("build_{}", code(now, 0, "%Y%m%d_%H%M%S"));
        let build_id = stamped(&stamp, |id| inner.builds.iter().any(|b| b.id == id));
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
        let position = 1 + inner.builds.iter().filter(|b| b.queued_at(now)).count();
        inner.builds.push(build.clone());
        (build, position)
    };
    let started = build.id.clone();
    d.at(build.started_ms(), move |d, now| {
        let inner = d.lock();
        let b = inner.builds.iter().find(|b| b.id == started)?;
        Some((WebhookEventType::BuildStarted, b.json(now)))
    });
    let finished = build.id.clone();
    d.at(build.finished_ms(), move |d, now| {
        let inner = d.lock();
        let b = inner.builds.iter().find(|b| b.id == finished)?;
        Some((WebhookEventType::BuildCompleted, b.completed_json(now)))
    });
    Ok((StatusCode::ACCEPTED, axum::Json(build.queued(position))).into_response())
}

/// `GET /builds/{buildId}`.
pub(crate) async fn get(
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
