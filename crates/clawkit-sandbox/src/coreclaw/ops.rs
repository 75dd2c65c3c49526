//! What v1's and v2's routes both do to the one CoreClaw state: each route parses its own request
//! shape, calls one of these, and writes its own answer shape. A run started through one version is
//! therefore the same run through the other.

use std::sync::Arc;
use std::time::Instant;

use coreclaw_api::enums::StatusCode as Code;
use coreclaw_api::types;
use serde_json::{Map, Value};

use super::billing::settle;
use super::error::ApiError;
use super::export::{Export, Format};
use super::logs::log_entries;
use super::state::CoreClaw;
use super::validate::{self, StartRequest};
use super::worker::Worker;
use crate::kit::pages::span;

/// A run's record now (settled first, so a run past its end is final).
pub(super) fn record(cc: &Arc<CoreClaw>, slug: &str) -> Result<types::RunSummary, ApiError> {
    settle(cc, slug);
    let inner = cc.lock();
    let run = inner.run(slug)?;
    Ok(run.record(Instant::now()))
}

/// The newest run, of one Worker or of any.
pub(super) fn last_run(cc: &CoreClaw, worker: Option<&str>) -> Result<String, ApiError> {
    let inner = cc.lock();
    inner
        .order
        .iter()
        .rev()
        .find(|slug| {
            worker.is_none_or(|w| inner.runs.get(*slug).is_some_and(|run| run.worker == w))
        })
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                Code::RunNotFound,
                match worker {
                    Some(w) => format!("Run record does not exist: Worker {w} has no run yet"),
                    None => "Run record does not exist: no run yet".to_string(),
                },
            )
        })
}

/// What a run's results are made from: its Worker, item seed, input and items so far.
fn source(cc: &CoreClaw, slug: &str) -> Result<(Worker, u64, Map<String, Value>, u64), ApiError> {
    let inner = cc.lock();
    let run = inner.run(slug)?;
    let worker = cc
        .worker(&run.worker)
        .ok_or_else(ApiError::no_worker)?
        .clone();
    Ok((
        worker,
        run.hash,
        run.custom.clone(),
        run.at(Instant::now()).produced,
    ))
}

/// Results `skip..skip + take` of a run, with the total and the Worker's headers.
pub(super) fn results(
    cc: &CoreClaw,
    slug: &str,
    skip: u64,
    take: u64,
) -> Result<types::RunResultListData, ApiError> {
    let (worker, hash, custom, produced) = source(cc, slug)?;
    let list = span(produced, skip, take)
        .map(|i| types::RunResultRecord(worker.item(hash, i, &custom)))
        .collect();
    let headers = worker
        .headers
        .iter()
        .map(|(key, label, format)| types::ResultHeader {
            key: key.to_string(),
            label: label.to_string(),
            format: format.to_string(),
        })
        .collect();
    Ok(types::RunResultListData {
        count: produced as i64,
        headers,
        list,
    })
}

/// Registers an export file of a run's results so far; its download URL.
pub(super) fn export(
    cc: &CoreClaw,
    slug: &str,
    format: Format,
    filter: Vec<String>,
) -> Result<String, ApiError> {
    let (worker, run_hash, custom, count) = source(cc, slug)?;
    // Keys the Worker does not produce stay as empty columns (absent in JSON), like a column
    // filter: the export still succeeds.
    let keys = if filter.is_empty() {
        worker
            .headers
            .iter()
            .map(|(k, _, _)| k.to_string())
            .collect()
    } else {
        filter
    };
    let export = Export {
        run_slug: slug.to_string(),
        run_hash,
        count,
        custom,
        worker,
        keys,
        format,
        lengths: Default::default(),
    };
    let id = cc.ids.next();
    let download_url = format!(
        "{}/_sandbox/exports/exported_result_{}_{id}.{}",
        cc.config.base_url,
        format.name(),
        format.name()
    );
    cc.lock().exports.insert(id, export);
    Ok(download_url)
}

/// A run's log lines so far, the whole log's URL and the result count.
pub(super) fn log(cc: &CoreClaw, slug: &str) -> Result<types::RunLogsData, ApiError> {
    let inner = cc.lock();
    let run = inner.run(slug)?;
    let now = Instant::now();
    Ok(types::RunLogsData {
        all_logs_url: format!("{}/_sandbox/logs/{slug}", cc.config.base_url),
        list: log_entries(run, now),
        result_count: run.at(now).produced as i64,
    })
}

/// Aborts a run: it shows 5 (aborting) for a while, then ends as failed. A final run cannot be
/// aborted (70002); asking again while it stops changes nothing.
pub(super) fn abort(cc: &Arc<CoreClaw>, slug: &str) -> Result<(), ApiError> {
    {
        let mut inner = cc.lock();
        let run = inner
            .runs
            .get_mut(slug)
            .ok_or_else(|| ApiError::no_run(slug))?;
        let now = Instant::now();
        let snap = run.at(now);
        if snap.is_final() {
            return Err(ApiError::new(
                Code::AbortFailed,
                format!(
                    "Failed to abort run: it already ended with status {}",
                    snap.status
                ),
            ));
        }
        if run.aborted.is_none() {
            run.aborted = Some(now);
            let stopping = run.aborting();
            let cc = cc.clone();
            let slug = slug.to_string();
            tokio::spawn(async move {
                tokio::time::sleep(stopping).await;
                settle(&cc, &slug);
            });
        }
    }
    settle(cc, slug);
    Ok(())
}

/// A new run with an existing run's Worker, input and system settings.
pub(super) fn rerun_request(
    cc: &CoreClaw,
    slug: &str,
    is_async: bool,
    callback_url: Option<String>,
) -> Result<StartRequest, ApiError> {
    let inner = cc.lock();
    let run = inner.run(slug)?;
    Ok(StartRequest {
        worker: run.worker.clone(),
        is_async,
        system: run.system.clone(),
        custom: run.custom.clone(),
        callback_url,
    })
}

/// A run of a saved task: its Worker with its saved input, checked against the Worker's schema.
pub(super) fn task_request(
    cc: &CoreClaw,
    task_slug: &str,
    is_async: bool,
    callback_url: Option<String>,
) -> Result<StartRequest, ApiError> {
    let (worker, custom) = {
        let inner = cc.lock();
        let task = inner.task(task_slug)?;
        (task.worker.clone(), custom_of(&task.input))
    };
    let worker = cc.worker(&worker).ok_or_else(ApiError::no_worker)?;
    let mut problems = Vec::new();
    let custom = validate::validate_custom(
        worker,
        custom.as_object().unwrap_or(&Map::new()),
        &mut problems,
    );
    if !problems.is_empty() {
        return Err(ApiError::invalid(&problems));
    }
    Ok(StartRequest {
        worker: worker.slug.to_string(),
        is_async,
        system: validate::System::defaults(worker),
        custom,
        callback_url,
    })
}

/// The `custom` part of a v1/v2 run input (`{"parameters": {"custom": {...}}}`), or the input
/// itself when it is already the custom object.
pub(super) fn custom_of(input: &Value) -> Value {
    input
        .pointer("/parameters/custom")
        .cloned()
        .unwrap_or_else(|| input.clone())
}
