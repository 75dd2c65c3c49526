//! v1's run routes: start (a Worker, a saved task, a rerun), detail, history, results, export,
//! log and abort, each reading its body with [`super::request`] and calling `ops`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use coreclaw_api::enums::StatusCode as Code;
use coreclaw_api::types;
use serde_json::{Value, json};

use super::envelope::ok;
use super::request::{fields, finish, positive, required, run_slug_of, slug_and_callback, stop};
use crate::coreclaw::error::ApiError;
use crate::coreclaw::export::Format;
use crate::coreclaw::launch::{Launched, launch};
use crate::coreclaw::ops;
use crate::coreclaw::state::CoreClaw;
use crate::coreclaw::validate::{self, Refusal};
use crate::kit::pages;
use crate::kit::read::json_type;

type Shared = State<Arc<CoreClaw>>;
type Answer = Result<Response, ApiError>;

/// The largest result page.
const MAX_RESULT_PAGE: u64 = 1_000;

/// How many results a synchronous v1 run answers with (inferred: see the overlay's `RunStartData`).
const SYNC_RESULTS: u64 = 100;

pub(super) async fn start_run(State(cc): Shared, body: Bytes) -> Answer {
    let body = fields(&body)?;
    let request = {
        let inner = cc.lock();
        validate::validate_start(&cc.workers, body.map(), |s| inner.is_run_or_task(s))
    };
    match request {
        Ok(request) => v1_started(&cc, launch(&cc, request).await?),
        Err(Refusal::Invalid(problems)) => Err(ApiError::invalid(&problems)),
        Err(Refusal::UnknownWorker(slug)) => Err(ApiError::new(
            Code::WorkerNotFound,
            format!("Script does not exist: {slug}"),
        )),
    }
}

/// v1's answer to a start: the run slug, and for a synchronous run its end and first results.
/// (Written as the guide shows it: the generated `RunStartData` would leave out an empty `list`.)
fn v1_started(cc: &Arc<CoreClaw>, launched: Launched) -> Answer {
    let Some(record) = launched.sync else {
        return Ok(ok(types::RunSlugData {
            run_slug: launched.slug,
        }));
    };
    let page = ops::results(cc, &launched.slug, 0, SYNC_RESULTS)?;
    Ok(ok(json!({
        "run_slug": launched.slug,
        "status": record.status,
        "err_msg": record.err_msg,
        "results": record.results,
        "usage": record.usage,
        "count": page.count,
        "headers": page.headers,
        "list": page.list,
    })))
}

pub(super) async fn run_task(State(cc): Shared, body: Bytes) -> Answer {
    let (task_slug, callback_url) = slug_and_callback(&body, "task_slug")?;
    let request = ops::task_request(&cc, &task_slug, true, callback_url)?;
    v1_started(&cc, launch(&cc, request).await?)
}

pub(super) async fn rerun(State(cc): Shared, body: Bytes) -> Answer {
    let (run_slug, callback_url) = slug_and_callback(&body, "run_slug")?;
    let request = ops::rerun_request(&cc, &run_slug, true, callback_url)?;
    v1_started(&cc, launch(&cc, request).await?)
}

pub(super) async fn run_detail(State(cc): Shared, body: Bytes) -> Answer {
    let slug = run_slug_of(&body)?;
    Ok(ok(ops::record(&cc, &slug)?))
}

pub(super) async fn run_list(State(cc): Shared, body: Bytes) -> Answer {
    let mut body = fields(&body)?;
    let page = positive(&mut body, &["page_index", "page"]);
    if body.map().contains_key("page_index") && body.map().contains_key("page") {
        positive(&mut body, &["page"]);
    }
    let size = positive(&mut body, &["page_size"]);
    let status = match body.map().get("status").cloned() {
        None => 0,
        Some(v) => match v.as_i64() {
            Some(s) if (0..=5).contains(&s) => s,
            _ => {
                let message = format!("expected 0 (all) or 1 to 5, got {v}");
                body.problem("status", message, "invalid_value");
                0
            }
        },
    };
    let worker = body.string("scraper_slug", false).unwrap_or_default();
    finish(body)?;
    // Both were read, or `finish` refused the body.
    let (page, size) = (page.unwrap_or(1), size.unwrap_or(1));
    let now = Instant::now();
    let inner = cc.lock();
    let matching: Vec<types::RunSummary> = inner
        .order
        .iter()
        .rev()
        .filter_map(|slug| inner.runs.get(slug))
        .filter(|run| worker.is_empty() || run.worker == worker)
        .map(|run| run.record(now))
        .filter(|record| status == 0 || record.status.code() == status)
        .collect();
    let page = pages::numbered(matching, page, size);
    Ok(ok(types::RunListData {
        count: page.total as i64,
        list: page.items,
    }))
}

pub(super) async fn result_list(State(cc): Shared, body: Bytes) -> Answer {
    let mut body = fields(&body)?;
    let slug = required(&mut body, "run_slug");
    stop(&body)?;
    let page = positive(&mut body, &["page_index", "page"]);
    let size = positive(&mut body, &["page_size"]);
    if let Some(s) = size
        && s > MAX_RESULT_PAGE
    {
        let message = format!("at most {MAX_RESULT_PAGE}, got {s}");
        body.problem("page_size", message, "invalid_value");
    }
    finish(body)?;
    // Both were read, or `finish` refused the body.
    let (page, size) = (page.unwrap_or(1), size.unwrap_or(1));
    let offset = (page - 1).saturating_mul(size);
    Ok(ok(ops::results(&cc, &slug, offset, size)?))
}

pub(super) async fn result_export(State(cc): Shared, body: Bytes) -> Answer {
    let mut body = fields(&body)?;
    let slug = required(&mut body, "run_slug");
    stop(&body)?;
    let format = match body.map().get("format").cloned() {
        Some(Value::String(f)) if f == "csv" => Some(Format::Csv),
        Some(Value::String(f)) if f == "json" => Some(Format::Json),
        Some(v) => {
            let message = format!("expected \"csv\" or \"json\", got {v}");
            body.problem("format", message, "invalid_value");
            None
        }
        None => {
            body.problem("format", "required (\"csv\" or \"json\")", "required");
            None
        }
    };
    let filter: Vec<String> = match body.map().get("filter_keys").cloned() {
        None => Vec::new(),
        Some(Value::Array(keys)) => keys
            .iter()
            .filter_map(|k| match k.as_str() {
                Some(s) => Some(s.to_string()),
                None => {
                    let message = format!("expected strings, got {k}");
                    body.problem("filter_keys", message, "invalid_type");
                    None
                }
            })
            .collect(),
        Some(v) => {
            let message = format!("expected an array of strings, got {}", json_type(&v));
            body.problem("filter_keys", message, "invalid_type");
            Vec::new()
        }
    };
    finish(body)?;
    // It was read, or `finish` refused the body.
    let format = format.unwrap_or(Format::Csv);
    let download_url = ops::export(&cc, &slug, format, filter)?;
    Ok(ok(types::RunResultExportData { download_url }))
}

pub(super) async fn run_log(State(cc): Shared, body: Bytes) -> Answer {
    let slug = run_slug_of(&body)?;
    Ok(ok(ops::log(&cc, &slug)?))
}

pub(super) async fn abort(State(cc): Shared, body: Bytes) -> Answer {
    let slug = run_slug_of(&body)?;
    ops::abort(&cc, &slug).map_err(|mut error| {
        // The envelope code is 70002 as documented; the HTTP status is 409 (see the overlay)
        // because the run's state, not the platform, makes the abort impossible.
        if error.code == Code::AbortFailed {
            error.status = StatusCode::CONFLICT;
        }
        error
    })?;
    Ok(ok(Value::Null))
}
