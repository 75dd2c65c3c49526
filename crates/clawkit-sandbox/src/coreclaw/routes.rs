//! The CoreClaw route handlers; [`super::CoreClaw`]'s [`crate::vendor::Api`] lists them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use coreclaw_api::enums::StatusCode as Code;
use coreclaw_api::types;
use serde_json::{Map, Value};

use super::billing::settle;
use super::catalog::type_of;
use super::export::{Export, Format};
use super::launch::launch;
use super::logs::log_entries;
use super::request::{
    body_json, object, positive_int, required_callback, required_str, run_slug_of,
};
use super::runs::usd;
use super::validate::{self, Refusal, StartRequest};
use super::{ApiError, CoreClaw, ok};

type Shared = State<Arc<CoreClaw>>;
type Answer = Result<Response, ApiError>;

/// The largest result page.
const MAX_RESULT_PAGE: u64 = 1_000;

// ---- public: store and Worker detail --------------------------------------------------------

pub(super) async fn store(
    State(cc): Shared,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let mut problems = Vec::new();
    let search = match query.get("search").map(|s| s.trim()) {
        Some(s) if !s.is_empty() => s.to_lowercase(),
        Some(_) => {
            problems.push("search: must not be empty".to_string());
            String::new()
        }
        None => {
            problems.push("search: required".to_string());
            String::new()
        }
    };
    let limit = match query.get("limit") {
        None => 10,
        // An integer too large for u64 is still a valid limit: everything.
        Some(l) => match crate::query::positive_integer(l) {
            Some(n) => n,
            None => {
                problems.push(format!(
                    "limit: expected an integer of at least 1, got `{l}`"
                ));
                10
            }
        },
    };
    if !problems.is_empty() {
        return Err(ApiError::invalid(&problems));
    }
    let scraper: Vec<types::ScraperStoreItem> = cc
        .workers
        .iter()
        .filter(|w| {
            w.title.to_lowercase().contains(&search)
                || w.description.to_lowercase().contains(&search)
                || w.slug.to_lowercase() == search
        })
        .take(limit.min(usize::MAX as u64) as usize)
        .map(|w| types::ScraperStoreItem {
            slug: w.slug.to_string(),
            title: w.title.to_string(),
            description: w.description.to_string(),
        })
        .collect();
    Ok(ok(types::StoreSearchData { scraper }))
}

pub(super) async fn scraper(
    State(cc): Shared,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let slug = match query.get("slug") {
        Some(s) if !s.is_empty() => s,
        _ => return Err(ApiError::invalid(&["slug: required".to_string()])),
    };
    let worker = cc.worker(slug).ok_or_else(|| {
        ApiError::new(
            Code::WorkerNotFound,
            format!("Script does not exist: {slug}"),
        )
    })?;
    let data = types::ScraperDetailData {
        version: worker.version.to_string(),
        readme: Some(worker.readme.to_string()),
        parameters: types::ScraperParameters {
            system: types::ScraperSystemDefaults {
                cpus: worker.cpus,
                memory: Some(worker.memory),
                memory_bytes: None,
                max_total_charge: Some(0.0),
                max_total_traffic: Some(0.0),
                execute_limit_time_seconds: worker.execute_limit_time_seconds,
            },
            custom: types::CustomParameterDescriptor {
                properties: Vec::new(),
                description: Some(
                    "Live custom parameter descriptor: build input.parameters.custom from properties[].name."
                        .into(),
                ),
            },
        },
    };
    // The typed descriptor has no room for the extra fields a property may carry (bounds,
    // choices): those are added as the service sends them.
    let mut data = serde_json::to_value(data).unwrap_or_default();
    data["parameters"]["custom"]["properties"] =
        Value::Array(worker.properties.iter().map(|p| p.to_json()).collect());
    Ok(ok(data))
}

pub(super) async fn start_run(State(cc): Shared, body: Bytes) -> Answer {
    let body = body_json(&body)?;
    let request = {
        let inner = cc.lock();
        let is_known = |s: &str| inner.runs.contains_key(s) || cc.tasks.iter().any(|t| t.slug == s);
        validate::validate_start(&cc.workers, &body, is_known)
    };
    match request {
        Ok(request) => launch(&cc, request).await,
        Err(Refusal::Invalid(problems)) => Err(ApiError::invalid(&problems)),
        Err(Refusal::UnknownWorker(slug)) => Err(ApiError::new(
            Code::WorkerNotFound,
            format!("Script does not exist: {slug}"),
        )),
    }
}

pub(super) async fn run_task(State(cc): Shared, body: Bytes) -> Answer {
    let body = body_json(&body)?;
    let body = object(&body)?;
    let task_slug = required_str(body, "task_slug")?;
    let callback = required_callback(body)?;
    let task = cc
        .tasks
        .iter()
        .find(|t| t.slug == task_slug)
        .ok_or_else(|| {
            ApiError::new(
                Code::TaskNotFound,
                format!("Task does not exist: {task_slug}"),
            )
        })?;
    let worker = cc
        .worker(task.worker)
        .ok_or_else(|| ApiError::new(Code::WorkerNotFound, "Script does not exist"))?;
    let mut problems = Vec::new();
    let custom = validate::validate_custom(
        worker,
        task.custom.as_object().unwrap_or(&Map::new()),
        &mut problems,
    );
    if !problems.is_empty() {
        return Err(ApiError::invalid(&problems));
    }
    let system = validate::System::defaults(worker);
    let request = StartRequest {
        worker: worker.slug.to_string(),
        is_async: true,
        system,
        custom,
        callback_url: Some(callback),
    };
    launch(&cc, request).await
}

pub(super) async fn rerun(State(cc): Shared, body: Bytes) -> Answer {
    let body = body_json(&body)?;
    let body = object(&body)?;
    let run_slug = required_str(body, "run_slug")?;
    let callback = required_callback(body)?;
    let request = {
        let inner = cc.lock();
        let run = inner
            .runs
            .get(&run_slug)
            .ok_or_else(|| ApiError::no_run(&run_slug))?;
        StartRequest {
            worker: run.worker.clone(),
            is_async: true,
            system: run.system.clone(),
            custom: run.custom.clone(),
            callback_url: Some(callback),
        }
    };
    launch(&cc, request).await
}

pub(super) async fn run_detail(State(cc): Shared, body: Bytes) -> Answer {
    let slug = run_slug_of(&body)?;
    settle(&cc, &slug);
    let inner = cc.lock();
    let run = inner
        .runs
        .get(&slug)
        .ok_or_else(|| ApiError::no_run(&slug))?;
    Ok(ok(run.record(Instant::now())))
}

pub(super) async fn run_list(State(cc): Shared, body: Bytes) -> Answer {
    let body = body_json(&body)?;
    let body = object(&body)?;
    let mut problems = Vec::new();
    let page = positive_int(body, &["page_index", "page"], &mut problems);
    if body.contains_key("page_index") && body.contains_key("page") {
        positive_int(body, &["page"], &mut problems);
    }
    let size = positive_int(body, &["page_size"], &mut problems);
    let status = match body.get("status") {
        None => 0,
        Some(v) => match v.as_i64() {
            Some(s) if (0..=5).contains(&s) => s,
            _ => {
                problems.push(format!("status: expected 0 (all) or 1 to 5, got {v}"));
                0
            }
        },
    };
    let worker = match body.get("scraper_slug") {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => {
            problems.push(format!("scraper_slug: expected string, got {}", type_of(v)));
            String::new()
        }
    };
    let (Some(page), Some(size)) = (page, size) else {
        return Err(ApiError::invalid(&problems));
    };
    if !problems.is_empty() {
        return Err(ApiError::invalid(&problems));
    }
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
    let count = matching.len() as i64;
    let skip = (page - 1).saturating_mul(size);
    let list = matching
        .into_iter()
        .skip(skip.min(usize::MAX as u64) as usize)
        .take(size.min(usize::MAX as u64) as usize)
        .collect();
    Ok(ok(types::RunListData { count, list }))
}

/// What the results of a run are made from: its Worker, item seed, input and items so far.
fn results_source(
    cc: &CoreClaw,
    slug: &str,
) -> Result<(super::catalog::Worker, u64, Map<String, Value>, u64), ApiError> {
    let inner = cc.lock();
    let run = inner.runs.get(slug).ok_or_else(|| ApiError::no_run(slug))?;
    let worker = cc
        .worker(&run.worker)
        .ok_or_else(|| ApiError::new(Code::WorkerNotFound, "Script does not exist"))?
        .clone();
    Ok((
        worker,
        run.hash,
        run.custom.clone(),
        run.at(Instant::now()).produced,
    ))
}

pub(super) async fn result_list(State(cc): Shared, body: Bytes) -> Answer {
    let body = body_json(&body)?;
    let body = object(&body)?;
    let slug = required_str(body, "run_slug")?;
    let mut problems = Vec::new();
    let page = positive_int(body, &["page_index", "page"], &mut problems);
    let size = positive_int(body, &["page_size"], &mut problems);
    if let Some(s) = size
        && s > MAX_RESULT_PAGE
    {
        problems.push(format!("page_size: at most {MAX_RESULT_PAGE}, got {s}"));
    }
    let (Some(page), Some(size)) = (page, size) else {
        return Err(ApiError::invalid(&problems));
    };
    if !problems.is_empty() {
        return Err(ApiError::invalid(&problems));
    }
    let (worker, hash, custom, produced) = results_source(&cc, &slug)?;
    let start = (page - 1).saturating_mul(size).min(produced);
    let end = start.saturating_add(size).min(produced);
    let list = (start..end)
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
    Ok(ok(types::RunResultListData {
        count: produced as i64,
        headers,
        list,
    }))
}

pub(super) async fn result_export(State(cc): Shared, body: Bytes) -> Answer {
    let body = body_json(&body)?;
    let body = object(&body)?;
    let slug = required_str(body, "run_slug")?;
    let mut problems = Vec::new();
    let format = match body.get("format") {
        Some(Value::String(f)) if f == "csv" => Some(Format::Csv),
        Some(Value::String(f)) if f == "json" => Some(Format::Json),
        Some(v) => {
            problems.push(format!("format: expected \"csv\" or \"json\", got {v}"));
            None
        }
        None => {
            problems.push("format: required (\"csv\" or \"json\")".to_string());
            None
        }
    };
    let filter: Vec<String> = match body.get("filter_keys") {
        None => Vec::new(),
        Some(Value::Array(keys)) => keys
            .iter()
            .filter_map(|k| match k.as_str() {
                Some(s) => Some(s.to_string()),
                None => {
                    problems.push(format!("filter_keys: expected strings, got {k}"));
                    None
                }
            })
            .collect(),
        Some(v) => {
            problems.push(format!(
                "filter_keys: expected an array of strings, got {}",
                type_of(v)
            ));
            Vec::new()
        }
    };
    let (worker, hash, custom, produced) = results_source(&cc, &slug)?;
    // Keys the Worker does not produce stay as empty CSV columns (absent in JSON), like a column
    // filter: the export still succeeds.
    let known: Vec<String> = worker
        .headers
        .iter()
        .map(|(k, _, _)| k.to_string())
        .collect();
    let Some(format) = format else {
        return Err(ApiError::invalid(&problems));
    };
    if !problems.is_empty() {
        return Err(ApiError::invalid(&problems));
    }
    let keys = if filter.is_empty() { known } else { filter };
    let id = cc.ids.next();
    let download_url = format!(
        "{}/_sandbox/exports/exported_result_{}_{id}.{}",
        cc.config.base_url,
        format.name(),
        format.name()
    );
    cc.lock().exports.insert(
        id,
        Export {
            run_slug: slug,
            run_hash: hash,
            worker,
            custom,
            count: produced,
            keys,
            format,
            lengths: Default::default(),
        },
    );
    Ok(ok(types::RunResultExportData { download_url }))
}

/// An export file, as a file host serves one: a strong `ETag`, and `Range: bytes=N-` answered
/// `206` (`416` past the end), unless an `If-Range` names another version.
pub(super) async fn download(
    State(cc): Shared,
    Path(file): Path<String>,
    request: axum::http::HeaderMap,
) -> Response {
    let id = file
        .rsplit('_')
        .next()
        .and_then(|tail| tail.split('.').next())
        .unwrap_or_default()
        .to_string();
    let Some(export) = cc.lock().exports.get(&id).cloned() else {
        return (axum::http::StatusCode::NOT_FOUND, "export file not found").into_response();
    };
    let etag = format!("\"{id}\"");
    let resume = request
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.trim().strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|_| {
            request
                .get(header::IF_RANGE)
                .is_none_or(|v| v.as_bytes() == etag.as_bytes())
        });
    let mut response = match resume {
        None => Response::new(export.clone().body()),
        Some(offset) => {
            let measured = export.clone();
            let total = tokio::task::spawn_blocking(move || measured.byte_len())
                .await
                .unwrap_or(0);
            if offset >= total {
                let mut r = axum::http::StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{total}")) {
                    r.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return r;
            }
            let mut r = Response::new(export.clone().body_from(offset));
            *r.status_mut() = axum::http::StatusCode::PARTIAL_CONTENT;
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {offset}-{}/{total}", total - 1)) {
                h.insert(header::CONTENT_RANGE, v);
            }
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(total - offset));
            r
        }
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(export.format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&export.count.to_string()) {
        headers.insert("x-sandbox-item-count", v);
    }
    response
}

pub(super) async fn run_log(State(cc): Shared, body: Bytes) -> Answer {
    let slug = run_slug_of(&body)?;
    let inner = cc.lock();
    let run = inner
        .runs
        .get(&slug)
        .ok_or_else(|| ApiError::no_run(&slug))?;
    let now = Instant::now();
    Ok(ok(types::RunLogsData {
        all_logs_url: format!("{}/_sandbox/logs/{slug}", cc.config.base_url),
        list: log_entries(run, now),
        result_count: run.at(now).produced as i64,
    }))
}

pub(super) async fn all_logs(State(cc): Shared, Path(slug): Path<String>) -> Response {
    let inner = cc.lock();
    let Some(run) = inner.runs.get(&slug) else {
        return (axum::http::StatusCode::NOT_FOUND, "log not found").into_response();
    };
    let text: String = log_entries(run, Instant::now())
        .iter()
        .map(|e| {
            format!(
                "{} [{}] {}\n",
                e.timestamp,
                e.type_.description(),
                e.content
            )
        })
        .collect();
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

pub(super) async fn abort(State(cc): Shared, body: Bytes) -> Answer {
    let slug = run_slug_of(&body)?;
    {
        let mut inner = cc.lock();
        let run = inner
            .runs
            .get_mut(&slug)
            .ok_or_else(|| ApiError::no_run(&slug))?;
        let now = Instant::now();
        let snap = run.at(now);
        if snap.is_final() {
            // The envelope code is 70002 as documented; the HTTP status is 409 (see the overlay)
            // because the run's state, not the platform, makes the abort impossible.
            let mut error = ApiError::new(
                Code::AbortFailed,
                format!(
                    "Failed to abort run: it already ended with status {}",
                    snap.status
                ),
            );
            error.status = axum::http::StatusCode::CONFLICT;
            return Err(error);
        }
        // Asking again while it stops changes nothing.
        if run.aborted.is_none() {
            run.aborted = Some(now);
            let stopping = run.aborting();
            let cc = cc.clone();
            let slug = slug.clone();
            tokio::spawn(async move {
                tokio::time::sleep(stopping).await;
                settle(&cc, &slug);
            });
        }
    }
    settle(&cc, &slug);
    Ok(ok(Value::Null))
}

/// Account info takes no parameters: an empty body or `{}` (the spec closes the object).
pub(super) async fn account(State(cc): Shared, body: Bytes) -> Answer {
    let body = body_json(&body)?;
    let fields = object(&body)?;
    if let Some(key) = fields.keys().next() {
        return Err(ApiError::invalid(&[format!(
            "{key}: unknown field; send {{}} or no body"
        )]));
    }
    let inner = cc.lock();
    let account = &inner.account;
    Ok(ok(types::AccountInfoData {
        balance: usd(account.balance_micros),
        traffic: types::AccountInfoDataTraffic::Integer(account.traffic),
        traffic_expiration_at: Some(account.traffic_expiration_at),
        traffic_expires_at: None,
    }))
}
