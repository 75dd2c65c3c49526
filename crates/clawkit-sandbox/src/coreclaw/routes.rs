//! The CoreClaw routes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use coreclaw_api::enums::{LogLevel, RunStatus, StatusCode as Code};
use coreclaw_api::types;
use serde_json::{Map, Value, json};

use super::catalog::type_of;
use super::export::{Export, Format};
use super::runs::{Run, usd};
use super::validate::{self, Refusal, StartRequest};
use super::{ApiError, CoreClaw, ok};
use crate::store::{hash_str, unix_millis, unix_now};

type Shared = State<Arc<CoreClaw>>;
type Answer = Result<Response, ApiError>;

/// How long a synchronous run may hold the request (the guide: up to 5 minutes).
const SYNC_LIMIT: Duration = Duration::from_secs(300);
/// The largest result page.
const MAX_RESULT_PAGE: u64 = 1_000;

pub fn router(state: Arc<CoreClaw>) -> Router {
    let authed = Router::new()
        .route("/scraper/run", post(start_run))
        .route("/task/run", post(run_task))
        .route("/rerun", post(rerun))
        .route("/run/detail", post(run_detail))
        .route("/run/list", post(run_list))
        .route("/run/result/list", post(result_list))
        .route("/run/result/export", post(result_export))
        .route("/run/last/log", post(run_log))
        .route("/scraper/abort", post(abort))
        .route("/account/info", post(account).get(account))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_key,
        ));
    Router::new()
        .route("/api/store", get(store))
        .route("/api/scraper", get(scraper))
        .nest("/api/v1", authed)
        .route("/_sandbox/exports/{file}", get(download))
        .route("/_sandbox/logs/{slug}", get(all_logs))
        .with_state(state)
}

async fn require_key(State(cc): Shared, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get("api-key")
        .and_then(|v| v.to_str().ok());
    match given {
        Some(key) if key == cc.config.api_key => next.run(request).await,
        Some(_) => ApiError::new(Code::InvalidApiKey, "Invalid API key").into_response(),
        None => ApiError::new(
            Code::InvalidApiKey,
            "Invalid API key: the api-key header is missing",
        )
        .into_response(),
    }
}

/// Parses a JSON body; an empty body is `{}`.
fn body_json(body: &Bytes) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(&[format!("request body: JSON syntax error: {e}")]))
}

fn object(value: &Value) -> Result<&Map<String, Value>, ApiError> {
    value.as_object().ok_or_else(|| {
        ApiError::invalid(&[format!(
            "request body: expected a JSON object, got {}",
            type_of(value)
        )])
    })
}

/// A required string field. An empty slug is simply one that names nothing (404 later).
fn required_str(body: &Map<String, Value>, key: &str) -> Result<String, ApiError> {
    match body.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => Err(ApiError::invalid(&[format!(
            "{key}: expected string, got {}",
            type_of(v)
        )])),
        None => Err(ApiError::invalid(&[format!("{key}: required")])),
    }
}

fn positive_int(
    body: &Map<String, Value>,
    keys: &[&str],
    problems: &mut Vec<String>,
) -> Option<u64> {
    let Some((key, value)) = keys.iter().find_map(|k| body.get(*k).map(|v| (*k, v))) else {
        problems.push(format!("{}: required", keys[0]));
        return None;
    };
    let whole = value.as_u64().or_else(|| {
        // Integers beyond u64 arrive as floats: still integers, just too many pages.
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 1.0)
            .map(|_| u64::MAX)
    });
    match whole {
        Some(n) if n >= 1 => Some(n),
        _ => {
            problems.push(format!(
                "{key}: expected an integer of at least 1, got {value}"
            ));
            None
        }
    }
}

// ---- public: store and Worker detail --------------------------------------------------------

async fn store(State(cc): Shared, Query(query): Query<HashMap<String, String>>) -> Answer {
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
        Some(l) => match l.parse::<u64>() {
            Ok(n) if n >= 1 => n,
            // An integer too large for u64 is still a valid limit: everything.
            _ if !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_digit())
                && !l.trim_start_matches('0').is_empty() =>
            {
                u64::MAX
            }
            _ => {
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

async fn scraper(State(cc): Shared, Query(query): Query<HashMap<String, String>>) -> Answer {
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

// ---- runs -----------------------------------------------------------------------------------

/// Registers a run, schedules its completion, and waits for it when asked to (sync mode).
async fn launch(cc: &Arc<CoreClaw>, request: StartRequest) -> Answer {
    let worker = cc
        .worker(&request.worker)
        .ok_or_else(|| ApiError::new(Code::WorkerNotFound, "Script does not exist"))?
        .clone();
    let slug = cc.ids.next();
    let run = Run::new(
        slug.clone(),
        hash_str(cc.config.seed, &slug),
        &worker,
        request.custom,
        request.system,
        cc.config.run_duration,
        request.callback_url,
        unix_now(),
    );
    let end = run.natural_end();
    {
        let mut inner = cc.lock();
        if inner.account.balance_micros < worker.price_micros.max(1) {
            return Err(ApiError::new(
                Code::InsufficientBalance,
                format!(
                    "Balance is not enough: {} USD",
                    usd(inner.account.balance_micros)
                ),
            ));
        }
        if inner.account.traffic <= 0 {
            return Err(ApiError::new(
                Code::InsufficientTraffic,
                "Account traffic is insufficient. Please purchase a traffic package to enable normal operation.",
            ));
        }
        inner.order.push(slug.clone());
        inner.runs.insert(slug.clone(), run);
    }
    let finisher = cc.clone();
    let finished_slug = slug.clone();
    tokio::spawn(async move {
        tokio::time::sleep_until(end.into()).await;
        settle(&finisher, &finished_slug);
    });
    if !request.is_async {
        let deadline = tokio::time::Instant::now() + SYNC_LIMIT;
        tokio::time::sleep_until(tokio::time::Instant::from_std(end).min(deadline)).await;
        let inner = cc.lock();
        if let Some(run) = inner.runs.get(&slug) {
            let record = run.record(Instant::now());
            return Ok(ok(json!({
                "run_slug": slug,
                "status": record.status,
                "results": record.results,
                "usage": record.usage,
            })));
        }
    }
    Ok(ok(types::RunSlugData { run_slug: slug }))
}

/// Charges a run that reached its final status (once) and sends its completion webhook.
pub fn settle(cc: &Arc<CoreClaw>, slug: &str) {
    let now = Instant::now();
    let event = {
        let mut guard = cc.lock();
        let inner = &mut *guard;
        let Some(run) = inner.runs.get_mut(slug) else {
            return;
        };
        let snap = run.at(now);
        if !snap.is_final() || run.charged {
            return;
        }
        run.charged = true;
        let usage = run.usage_micros(snap.produced);
        inner.account.balance_micros -= usage;
        inner.account.traffic -= run.bytes_per_item.saturating_mul(snap.produced as i64);
        run.callback_url.clone().map(|url| {
            (
                url,
                types::RunCompletedEvent {
                    run_slug: slug.to_string(),
                    status: snap.status,
                    results: snap.produced as i64,
                    usage: usd(usage),
                },
            )
        })
    };
    if let Some((url, event)) = event {
        let cc = cc.clone();
        let slug = slug.to_string();
        tokio::spawn(async move { deliver(cc, slug, url, event).await });
    }
}

/// POSTs the completion event, retrying with backoff until the endpoint answers 200.
async fn deliver(cc: Arc<CoreClaw>, slug: String, url: String, event: types::RunCompletedEvent) {
    let mut delay = Duration::from_millis(250);
    for attempt in 1..=4 {
        let outcome = match cc.http.post(&url).json(&event).send().await {
            Ok(r) => r.status().as_u16().to_string(),
            Err(e) => format!("error: {e}"),
        };
        let delivered = outcome == "200";
        tracing::debug!(%slug, %url, attempt, %outcome, "completion webhook");
        if let Some(run) = cc.lock().runs.get_mut(&slug) {
            run.deliveries.push(outcome);
        }
        if delivered {
            return;
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
}

async fn start_run(State(cc): Shared, body: Bytes) -> Answer {
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

fn required_callback(body: &Map<String, Value>) -> Result<String, ApiError> {
    let mut problems = Vec::new();
    let url = match body.get("callback_url") {
        None => {
            problems.push("callback_url: required".to_string());
            None
        }
        Some(v) => validate::check_callback(v, "callback_url", &mut problems),
    };
    url.ok_or_else(|| ApiError::invalid(&problems))
}

async fn run_task(State(cc): Shared, body: Bytes) -> Answer {
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

async fn rerun(State(cc): Shared, body: Bytes) -> Answer {
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

fn run_slug_of(body: &Bytes) -> Result<String, ApiError> {
    let body = body_json(body)?;
    required_str(object(&body)?, "run_slug")
}

async fn run_detail(State(cc): Shared, body: Bytes) -> Answer {
    let slug = run_slug_of(&body)?;
    settle(&cc, &slug);
    let inner = cc.lock();
    let run = inner
        .runs
        .get(&slug)
        .ok_or_else(|| ApiError::no_run(&slug))?;
    Ok(ok(run.record(Instant::now())))
}

async fn run_list(State(cc): Shared, body: Bytes) -> Answer {
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

async fn result_list(State(cc): Shared, body: Bytes) -> Answer {
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

async fn result_export(State(cc): Shared, body: Bytes) -> Answer {
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
        },
    );
    Ok(ok(types::RunResultExportData { download_url }))
}

async fn download(State(cc): Shared, Path(file): Path<String>) -> Response {
    let id = file
        .rsplit('_')
        .next()
        .and_then(|tail| tail.split('.').next())
        .unwrap_or_default()
        .to_string();
    let Some(export) = cc.lock().exports.get(&id).cloned() else {
        return (axum::http::StatusCode::NOT_FOUND, "export file not found").into_response();
    };
    let mut response = Response::new(export.clone().body());
    let headers = response.headers_mut();
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

/// The log lines of a run at `now`.
fn log_entries(run: &Run, now: Instant) -> Vec<types::LogEntry> {
    let snap = run.at(now);
    let group = format!("{}", run.hash % 100_000_000_000_000_000);
    let t0 = run.created_unix * 1000;
    let mut lines = vec![(
        LogLevel::Info,
        format!("SYSTEM: Subtask-[{group}] - Preparing the execution environment."),
        t0,
    )];
    if snap.status != RunStatus::Ready {
        lines.push((
            LogLevel::Info,
            format!("SYSTEM: Subtask-[{group}] - Running..."),
            snap.started_at.max(run.created_unix) * 1000,
        ));
        lines.push((
            LogLevel::Debug,
            format!("Produced {} of {} result items", snap.produced, run.planned),
            if snap.finished_at > 0 {
                snap.finished_at * 1000
            } else {
                unix_millis()
            },
        ));
    }
    match snap.status {
        RunStatus::Succeeded => lines.push((
            LogLevel::Info,
            "SYSTEM: Run succeeded.".into(),
            snap.finished_at * 1000,
        )),
        RunStatus::Failed => lines.push((
            LogLevel::Error,
            run.record(now).err_msg,
            snap.finished_at * 1000,
        )),
        RunStatus::Aborted => lines.push((
            LogLevel::Warn,
            "SYSTEM: Run aborted by the user.".into(),
            snap.finished_at * 1000,
        )),
        _ => {}
    }
    for outcome in &run.deliveries {
        let level = if outcome == "200" {
            LogLevel::Info
        } else {
            LogLevel::Warn
        };
        lines.push((
            level,
            format!("Completion webhook: {outcome}"),
            unix_millis(),
        ));
    }
    lines
        .into_iter()
        .map(|(level, content, timestamp)| types::LogEntry {
            type_: level,
            group: group.clone(),
            content,
            timestamp,
        })
        .collect()
}

async fn run_log(State(cc): Shared, body: Bytes) -> Answer {
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

async fn all_logs(State(cc): Shared, Path(slug): Path<String>) -> Response {
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

async fn abort(State(cc): Shared, body: Bytes) -> Answer {
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
        run.aborted = Some(now);
    }
    settle(&cc, &slug);
    Ok(ok(Value::Null))
}

/// Account info takes no parameters: an empty body or `{}` (the spec closes the object).
async fn account(State(cc): Shared, body: Bytes) -> Answer {
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
