//! Test runs (测试管理 API): run a suite, read the run and its report. A run that ends failed is
//! announced as `test.failed`.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use openclaw_devops_api::types::WebhookEventType;

use crate::devops::error::ApiError;
use crate::devops::model::ids::stamped;
use crate::devops::model::test_runs::TestRun;
use crate::devops::rbac::{Caller, TESTS_RUN};
use crate::devops::read::{PathId, body, finish};
use crate::devops::state::Devops;
use crate::kit::clock::{code, unix_millis};

/// `POST /tests/suites/{suiteId}/run`: 202 `TestRun`, queued.
pub(crate) async fn run(
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
        let run = TestRun {
            id: stamped(&stamp, |id| inner.runs.iter().any(|r| r.id == id)),
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
            Some((WebhookEventType::TestFailed, r.report_json(now)))
        });
    }
    Ok((StatusCode::ACCEPTED, axum::Json(run.json(now))).into_response())
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
pub(crate) async fn get(
    State(d): State<Arc<Devops>>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    Ok(axum::Json(find(&d, &id)?.json(unix_millis())).into_response())
}

/// `GET /tests/runs/{runId}/report`.
pub(crate) async fn report(
    State(d): State<Arc<Devops>>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    Ok(axum::Json(find(&d, &id)?.report_json(unix_millis())).into_response())
}
