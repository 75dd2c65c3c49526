//! v2's run routes: start a Worker, list runs, and read, abort, log, page, export or rerun one
//! run, named by its slug, as the newest run, or as a Worker's newest run ([`Which`]).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use coreclaw_api::enums::StatusCode as Code;
use coreclaw_v2_api::types;
use serde_json::{Map, Value, json};

use super::envelope::{Answer, V2Error, done, ok};
use super::request::{body, callback, check, sync_window, window};
use super::wire::{STATUS_WORDS, headers_of, page_of, run_of, status_word};
use super::workers::{worker_filter, worker_of};
use crate::coreclaw::error::ApiError;
use crate::coreclaw::export::Format;
use crate::coreclaw::launch::{Launched, launch};
use crate::coreclaw::ops;
use crate::coreclaw::state::CoreClaw;
use crate::coreclaw::validate::{self, System};
use crate::kit::pages::from_offset;

type Shared = State<Arc<CoreClaw>>;
type Params = Query<HashMap<String, String>>;

/// The answer to a start: the slug, and for a synchronous run its end and one page of results.
/// (The synchronous answer is written out: the generated `RunStarted` would leave out an empty
/// `list`.)
pub(super) fn started(cc: &Arc<CoreClaw>, launched: Launched, offset: u64, limit: u64) -> Answer {
    let Some(record) = launched.sync else {
        return ok(types::RunStarted {
            run_slug: launched.slug,
            status: None,
            err_msg: None,
            count: None,
            headers: Vec::new(),
            list: Vec::new(),
        });
    };
    let page = ops::results(cc, &launched.slug, offset, limit)?;
    ok(json!({
        "run_slug": launched.slug,
        "status": status_word(record.status),
        "err_msg": record.err_msg,
        "count": page.count,
        "headers": headers_of(&page),
        "list": page.list,
    }))
}

pub(super) async fn run_worker(State(cc): Shared, Path(id): Path<String>, bytes: Bytes) -> Answer {
    let request: types::RunWorkerRequest = body(&bytes)?;
    let worker = worker_of(&cc, &id)?;
    let mut problems = Vec::new();
    let (offset, limit) = sync_window(request.limit.get(), request.offset, &mut problems);
    let callback_url = callback(request.callback_url, &mut problems);
    let version = match request.version.as_deref() {
        None | Some("latest") | Some("") => worker.version.to_string(),
        Some(v) => v.to_string(),
    };
    check(problems)?;
    // The v1 body the same run would take: one validation for both versions.
    let input = request.input.unwrap_or_else(|| json!({}));
    // v2's examples send `parameters.custom` only: the Worker's system defaults fill the rest
    // (inferred; v1 requires `system`).
    let mut input = if input.get("parameters").is_some() {
        input
    } else {
        json!({"parameters": {"custom": input}})
    };
    if let Some(parameters) = input.get_mut("parameters").and_then(Value::as_object_mut)
        && !parameters.contains_key("system")
    {
        let d = System::defaults(worker);
        parameters.insert(
            "system".into(),
            json!({"cpus": d.cpus, "memory": d.memory,
                   "execute_limit_time_seconds": d.execute_limit_time_seconds,
                   "max_total_charge": d.max_total_charge, "max_total_traffic": d.max_total_traffic,
                   "proxy_region": d.proxy_region}),
        );
    }
    let mut v1_body = Map::new();
    v1_body.insert("scraper_slug".into(), json!(worker.slug));
    v1_body.insert("version".into(), json!(version));
    v1_body.insert("is_async".into(), json!(request.is_async.unwrap_or(true)));
    v1_body.insert("input".into(), input);
    if let Some(url) = callback_url {
        v1_body.insert("callback_url".into(), json!(url));
    }
    let start = {
        let inner = cc.lock();
        validate::validate_start(&cc.workers, &v1_body, |s| inner.is_run_or_task(s))
    };
    let start = match start {
        Ok(start) => start,
        Err(validate::Refusal::Invalid(problems)) => return Err(V2Error::invalid(&problems)),
        Err(validate::Refusal::UnknownWorker(slug)) => {
            return Err(ApiError::new(Code::WorkerNotFound, slug).into());
        }
    };
    let launched = launch(&cc, start).await?;
    started(&cc, launched, offset, limit)
}

pub(super) async fn list_runs(State(cc): Shared, Query(q): Params) -> Answer {
    let mut problems = Vec::new();
    let (offset, limit) = window(&q, &mut problems);
    let status = match q.get("status") {
        None => None,
        Some(s) => match STATUS_WORDS.iter().position(|w| w == s) {
            Some(i) => Some(i as i64 + 1),
            None => {
                problems.push(format!(
                    "status: expected one of {}, got `{s}`",
                    STATUS_WORDS.join(", ")
                ));
                None
            }
        },
    };
    check(problems)?;
    let worker = worker_filter(&cc, &q);
    let slugs: Vec<String> = {
        let inner = cc.lock();
        inner
            .order
            .iter()
            .rev()
            .filter(|s| {
                worker
                    .as_deref()
                    .is_none_or(|w| inner.runs.get(*s).is_some_and(|r| r.worker == w))
            })
            .cloned()
            .collect()
    };
    let records: Vec<types::WorkerRun> = slugs
        .iter()
        .filter_map(|s| ops::record(&cc, s).ok())
        .filter(|r| status.is_none_or(|s| r.status.code() == s))
        .map(run_of)
        .collect();
    ok(types::WorkerRunPage {
        count: records.len() as i64,
        list: from_offset(records, offset, limit),
    })
}

/// Which run a route names: a slug (`{run}`), the newest run (`last`), or a Worker's newest run
/// (`{worker}/runs/last`).
pub(super) enum Which {
    Slug(String),
    Last,
    WorkerLast(String),
}

impl<S: Send + Sync> FromRequestParts<S> for Which {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(match (params.get("run"), params.get("worker")) {
            (Some(run), _) => Which::Slug(run.clone()),
            (None, Some(worker)) => Which::WorkerLast(worker.clone()),
            (None, None) => Which::Last,
        })
    }
}

impl Which {
    /// The run's slug: 70001 when there is no run yet, 50001 for an unknown Worker.
    fn slug(&self, cc: &CoreClaw) -> Result<String, V2Error> {
        match self {
            Which::Slug(s) => Ok(s.clone()),
            Which::Last => Ok(ops::last_run(cc, None)?),
            Which::WorkerLast(id) => {
                let worker = worker_of(cc, id)?;
                Ok(ops::last_run(cc, Some(worker.slug))?)
            }
        }
    }
}

pub(super) async fn read(State(cc): Shared, which: Which) -> Answer {
    let slug = which.slug(&cc)?;
    ok(run_of(ops::record(&cc, &slug)?))
}

pub(super) async fn abort(State(cc): Shared, which: Which) -> Answer {
    let slug = which.slug(&cc)?;
    ops::abort(&cc, &slug)?;
    done()
}

pub(super) async fn log(State(cc): Shared, which: Which) -> Answer {
    let slug = which.slug(&cc)?;
    let log = ops::log(&cc, &slug)?;
    ok(types::RunLog {
        all_logs_url: Some(log.all_logs_url),
        list: log.list.into_iter().map(|e| e.content).collect(),
        result_count: Some(log.result_count),
    })
}

pub(super) async fn results(State(cc): Shared, which: Which, Query(q): Params) -> Answer {
    let mut problems = Vec::new();
    let (offset, limit) = window(&q, &mut problems);
    check(problems)?;
    let slug = which.slug(&cc)?;
    ok(page_of(ops::results(&cc, &slug, offset, limit)?))
}

pub(super) async fn export(State(cc): Shared, which: Which, Query(q): Params) -> Answer {
    let mut problems = Vec::new();
    let format = match q.get("format") {
        None => Some(Format::Csv),
        Some(f) => {
            let format = Format::parse(f);
            if format.is_none() {
                let known: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                problems.push(if f.eq_ignore_ascii_case("xlsx") {
                    format!(
                        "format: the sandbox does not write xlsx (CoreClaw does); use one of {}",
                        known.join(", ")
                    )
                } else {
                    format!("format: expected one of {}, got `{f}`", known.join(", "))
                });
            }
            format
        }
    };
    let filter: Vec<String> = q
        .get("filter_keys")
        .map(|keys| {
            keys.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let (Some(format), true) = (format, problems.is_empty()) else {
        return Err(V2Error::invalid(&problems));
    };
    let slug = which.slug(&cc)?;
    ok(types::ExportLink {
        download_url: ops::export(&cc, &slug, format, filter)?,
    })
}

pub(super) async fn rerun(State(cc): Shared, which: Which, bytes: Bytes) -> Answer {
    let request: types::RerunRequest = body(&bytes)?;
    let mut problems = Vec::new();
    let (offset, limit) = sync_window(request.limit.get(), request.offset, &mut problems);
    let callback_url = callback(request.callback_url, &mut problems);
    check(problems)?;
    let slug = which.slug(&cc)?;
    let start = ops::rerun_request(&cc, &slug, request.is_async.unwrap_or(true), callback_url)?;
    let launched = launch(&cc, start).await?;
    started(&cc, launched, offset, limit)
}
