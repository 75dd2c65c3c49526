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
use serde_json::Value;

use super::catalog::type_of;
use super::export::Format;
use super::launch::{Launched, launch};
use super::logs::log_entries;
use super::request::{
    body_json, object, positive_int, required_callback, required_str, run_slug_of,
};
use super::runs::usd;
use super::validate::{self, Refusal};
use super::{ApiError, CoreClaw, ok, ops};

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
        Some(l) => match crate::kit::read::positive_integer(l) {
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
        let is_known =
            |s: &str| inner.runs.contains_key(s) || inner.tasks.iter().any(|t| t.slug == s);
        validate::validate_start(&cc.workers, &body, is_known)
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

/// How many results a synchronous v1 run answers with (inferred: see the overlay's `RunStartData`).
const SYNC_RESULTS: u64 = 100;

/// v1's answer to a start: the run slug, and for a synchronous run its end and first results.
fn v1_started(cc: &Arc<CoreClaw>, launched: Launched) -> Answer {
    let Some(record) = launched.sync else {
        return Ok(ok(types::RunSlugData {
            run_slug: launched.slug,
        }));
    };
    let page = ops::results(cc, &launched.slug, 0, SYNC_RESULTS)?;
    Ok(ok(serde_json::json!({
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
    let body = body_json(&body)?;
    let body = object(&body)?;
    let task_slug = required_str(body, "task_slug")?;
    let callback = required_callback(body)?;
    let request = ops::task_request(&cc, &task_slug, true, Some(callback))?;
    v1_started(&cc, launch(&cc, request).await?)
}

pub(super) async fn rerun(State(cc): Shared, body: Bytes) -> Answer {
    let body = body_json(&body)?;
    let body = object(&body)?;
    let run_slug = required_str(body, "run_slug")?;
    let callback = required_callback(body)?;
    let request = ops::rerun_request(&cc, &run_slug, true, Some(callback))?;
    v1_started(&cc, launch(&cc, request).await?)
}

pub(super) async fn run_detail(State(cc): Shared, body: Bytes) -> Answer {
    let slug = run_slug_of(&body)?;
    Ok(ok(ops::record(&cc, &slug)?))
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
    Ok(ok(ops::results(
        &cc,
        &slug,
        (page - 1).saturating_mul(size),
        size,
    )?))
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
    let Some(format) = format else {
        return Err(ApiError::invalid(&problems));
    };
    if !problems.is_empty() {
        return Err(ApiError::invalid(&problems));
    }
    let download_url = ops::export(&cc, &slug, format, filter)?;
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
    Ok(ok(ops::log(&cc, &slug)?))
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
    ops::abort(&cc, &slug).map_err(|mut error| {
        // The envelope code is 70002 as documented; the HTTP status is 409 (see the overlay)
        // because the run's state, not the platform, makes the abort impossible.
        if error.code == Code::AbortFailed {
            error.status = axum::http::StatusCode::CONFLICT;
        }
        error
    })?;
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
