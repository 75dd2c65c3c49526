//! CoreClaw's v2 API under `/coreclaw/api/v2`, true to specs/coreclaw-v2 (the vendor's v2 document
//! plus our overlay), over the **same** state as v1: a run started through v1 is read, aborted,
//! exported and rerun through v2, and a task saved through v2 is run by v1's `task/run`.
//!
//! Auth is `Authorization: Bearer KEY` or `?token=KEY` (the sandbox's API key); errors are v2's
//! envelope `{code, message, request_id}` with v2's codes (11000, 12001, 70001, ...).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use coreclaw_api::enums::StatusCode as Code;
use coreclaw_api::types as v1;
use coreclaw_v2_api::types;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::catalog::{OWNER, Worker};
use super::export::Format;
use super::launch::{Launched, launch};
use super::runs::usd;
use super::validate::{self, StartRequest};
use super::{ApiError, CoreClaw, Task, ops};

type Shared = State<Arc<CoreClaw>>;
type Answer = Result<Response, V2Error>;
type Params = Query<HashMap<String, String>>;

/// The largest page v2 allows (`limit` 1..=100).
const MAX_LIMIT: u64 = 100;

/// v2's routes, behind Bearer (or `?token=`) auth.
pub(super) fn routes(cc: Arc<CoreClaw>) -> Router {
    Router::new()
        .route("/api/v2/proxy/region", get(proxy_regions))
        .route("/api/v2/store", get(store))
        .route("/api/v2/users/account", get(account))
        .route("/api/v2/worker-runs", get(list_runs))
        .route("/api/v2/worker-runs/last", get(last_run))
        .route("/api/v2/worker-runs/last/abort", post(abort_last))
        .route("/api/v2/worker-runs/last/export", get(export_last))
        .route("/api/v2/worker-runs/last/log", get(log_last))
        .route("/api/v2/worker-runs/last/rerun", post(rerun_last))
        .route("/api/v2/worker-runs/last/result", get(results_last))
        .route("/api/v2/worker-runs/{run}", get(run))
        .route("/api/v2/worker-runs/{run}/abort", post(abort))
        .route("/api/v2/worker-runs/{run}/log", get(log))
        .route("/api/v2/worker-runs/{run}/rerun", post(rerun))
        .route("/api/v2/worker-runs/{run}/result", get(results))
        .route("/api/v2/worker-runs/{run}/result/export", get(export))
        .route("/api/v2/worker-tasks", get(list_tasks).post(create_task))
        .route(
            "/api/v2/worker-tasks/{task}",
            get(get_task).put(update_task).delete(delete_task),
        )
        .route(
            "/api/v2/worker-tasks/{task}/input",
            get(task_input).put(update_task_input),
        )
        .route("/api/v2/worker-tasks/{task}/runs", post(run_task))
        .route("/api/v2/workers", get(list_workers))
        .route("/api/v2/workers/{worker}", get(worker))
        .route("/api/v2/workers/{worker}/input-schema", get(input_schema))
        .route("/api/v2/workers/{worker}/runs", post(run_worker))
        .route("/api/v2/workers/{worker}/runs/last", get(worker_last_run))
        .route(
            "/api/v2/workers/{worker}/runs/last/abort",
            post(abort_worker_last),
        )
        .route(
            "/api/v2/workers/{worker}/runs/last/export",
            get(export_worker_last),
        )
        .route(
            "/api/v2/workers/{worker}/runs/last/log",
            get(log_worker_last),
        )
        .route(
            "/api/v2/workers/{worker}/runs/last/rerun",
            post(rerun_worker_last),
        )
        .route(
            "/api/v2/workers/{worker}/runs/last/result",
            get(results_worker_last),
        )
        .route_layer(axum::middleware::from_fn_with_state(cc.clone(), authorize))
        .with_state(cc)
}

/// `Authorization: Bearer KEY`, or `?token=KEY` when no header is sent.
async fn authorize(State(cc): Shared, request: Request, next: Next) -> Response {
    let header = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .unwrap_or("")
                .trim()
                .to_string()
        });
    let query = Query::<HashMap<String, String>>::try_from_uri(request.uri())
        .ok()
        .and_then(|Query(mut q)| q.remove("token"));
    match header.or(query) {
        Some(token) if token == cc.config.api_key => next.run(request).await,
        Some(_) => V2Error::of(12002, StatusCode::UNAUTHORIZED, "invalid token").into_response(),
        None => V2Error::of(
            12001,
            StatusCode::UNAUTHORIZED,
            "authentication required: send Authorization: Bearer API_KEY or ?token=API_KEY",
        )
        .into_response(),
    }
}

// ---- the v2 envelope ------------------------------------------------------------------------

/// An error in v2's envelope `{code, message, request_id}`.
#[derive(Debug)]
pub(super) struct V2Error {
    status: StatusCode,
    code: i64,
    message: String,
}

impl V2Error {
    fn of(code: i64, status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 11000 (HTTP 400) naming each problem.
    fn invalid(problems: &[String]) -> Self {
        Self::of(
            11000,
            StatusCode::BAD_REQUEST,
            format!("invalid argument: {}", problems.join("; ")),
        )
    }
}

/// v1's codes as v2 sends them (v2's table: 11000, 11004, 12001, 13000, 10000, and the shared
/// 30001, 5000x, 60001, 7000x).
impl From<ApiError> for V2Error {
    fn from(e: ApiError) -> Self {
        let message = e.message;
        let (code, status) = match e.code {
            Code::InvalidParams => (11000, StatusCode::BAD_REQUEST),
            Code::NotFound => (11004, StatusCode::NOT_FOUND),
            Code::Unauthorized | Code::InvalidApiKey | Code::ApiKeyExpired => {
                (12001, StatusCode::UNAUTHORIZED)
            }
            Code::RateLimited => (13000, StatusCode::TOO_MANY_REQUESTS),
            Code::InsufficientBalance | Code::InsufficientTraffic => {
                (e.code.code(), StatusCode::BAD_REQUEST)
            }
            Code::WorkerNotFound | Code::TaskNotFound | Code::RunNotFound => {
                (e.code.code(), StatusCode::NOT_FOUND)
            }
            Code::WorkerExecutionFailed | Code::WorkerVersionUnavailable | Code::AbortFailed => {
                (e.code.code(), StatusCode::BAD_REQUEST)
            }
            _ => (10000, StatusCode::INTERNAL_SERVER_ERROR),
        };
        Self::of(code, status, message)
    }
}

impl IntoResponse for V2Error {
    fn into_response(self) -> Response {
        let body = json!({
            "code": self.code,
            "message": self.message,
            "request_id": request_id(),
        });
        (self.status, axum::Json(body)).into_response()
    }
}

fn request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("req-sandbox-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A success envelope around `data`.
fn ok(data: impl serde::Serialize) -> Answer {
    Ok(axum::Json(json!({
        "code": 0,
        "message": "success",
        "data": data,
        "request_id": request_id(),
    }))
    .into_response())
}

/// A success envelope without data.
fn done() -> Answer {
    Ok(
        axum::Json(json!({"code": 0, "message": "success", "request_id": request_id()}))
            .into_response(),
    )
}

// ---- parsing --------------------------------------------------------------------------------

/// A JSON body as the spec's request type (unknown fields refused, as `additionalProperties:
/// false` says). Every v2 body is required: an empty one is refused, `{}` is not empty.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, V2Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(V2Error::invalid(&[
            "request body: required (a JSON object)".into(),
        ]));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| V2Error::invalid(&[format!("request body: not JSON ({e})")]))?;
    let Some(fields) = value.as_object() else {
        return Err(V2Error::invalid(&[format!(
            "request body: expected a JSON object, got {}",
            super::catalog::type_of(&value)
        )]));
    };
    // No field of a v2 request is nullable: `null` is not "left out".
    let nulls: Vec<String> = fields
        .iter()
        .filter(|(_, v)| v.is_null())
        .map(|(k, _)| format!("{k}: expected a value, got null (leave the field out instead)"))
        .collect();
    check(nulls)?;
    serde_json::from_value(value).map_err(|e| V2Error::invalid(&[format!("request body: {e}")]))
}

/// `offset` (>= 0, default 0) and `limit` (1..=100, default 20).
fn window(q: &HashMap<String, String>, problems: &mut Vec<String>) -> (u64, u64) {
    let offset = match q.get("offset") {
        None => 0,
        // int64, as the spec says: past i64::MAX is not an offset.
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => n as u64,
            _ => {
                problems.push(format!(
                    "offset: expected an integer from 0 to {}, got `{v}`",
                    i64::MAX
                ));
                0
            }
        },
    };
    let limit = match q.get("limit") {
        None => 20,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                problems.push(format!(
                    "limit: expected an integer from 1 to {MAX_LIMIT}, got `{v}`"
                ));
                20
            }
        },
    };
    (offset, limit)
}

/// `limit`/`offset` of a start body (already typed; the bound serde cannot state).
fn sync_window(limit: u64, offset: i64, problems: &mut Vec<String>) -> (u64, u64) {
    if limit > MAX_LIMIT {
        problems.push(format!("limit: at most {MAX_LIMIT}, got {limit}"));
    }
    if offset < 0 {
        problems.push(format!("offset: at least 0, got {offset}"));
    }
    (offset.max(0) as u64, limit.min(MAX_LIMIT))
}

fn check(problems: Vec<String>) -> Result<(), V2Error> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(V2Error::invalid(&problems))
    }
}

fn worker_of<'a>(cc: &'a CoreClaw, id: &str) -> Result<&'a Worker, V2Error> {
    cc.workers.iter().find(|w| w.is(id)).ok_or_else(|| {
        V2Error::of(
            50001,
            StatusCode::NOT_FOUND,
            format!("worker does not exist: {id} (a Worker slug, or a path owner~name)"),
        )
    })
}

/// The `worker_id` filter as a Worker slug (an unknown id filters everything out).
fn worker_filter(cc: &CoreClaw, q: &HashMap<String, String>) -> Option<String> {
    q.get("worker_id").map(|id| {
        cc.workers
            .iter()
            .find(|w| w.is(id))
            .map(|w| w.slug.to_string())
            .unwrap_or_else(|| id.clone())
    })
}

fn callback(value: Option<String>, problems: &mut Vec<String>) -> Option<String> {
    value.and_then(|url| validate::check_callback(&Value::String(url), "callback_url", problems))
}

// ---- answers --------------------------------------------------------------------------------

const STATUS_WORDS: [&str; 5] = ["ready", "running", "succeeded", "failed", "aborting"];

fn status_word(status: coreclaw_api::enums::RunStatus) -> String {
    let code = status.code();
    usize::try_from(code - 1)
        .ok()
        .and_then(|i| STATUS_WORDS.get(i))
        .map(|s| s.to_string())
        .unwrap_or_else(|| code.to_string())
}

fn run_of(r: v1::RunSummary) -> types::WorkerRun {
    types::WorkerRun {
        slug: r.slug,
        status: types::RunStatus(status_word(r.status)),
        err_msg: Some(r.err_msg),
        results: Some(r.results),
        usage: Some(r.usage),
        traffic: Some(r.traffic),
        started_at: Some(r.started_at),
        finished_at: Some(r.finished_at),
        duration: Some(r.duration),
        origin: Some(r.origin),
        version: Some(r.version),
        scraper_title: r.scraper_title.or(r.actors_title),
        scraper_slug: r.scraper_slug.or(r.actors_slug),
    }
}

fn headers_of(page: &v1::RunResultListData) -> Vec<types::ResultHeader> {
    page.headers
        .iter()
        .map(|h| types::ResultHeader {
            key: h.key.clone(),
            label: h.label.clone(),
        })
        .collect()
}

fn page_of(page: v1::RunResultListData) -> types::ResultPage {
    types::ResultPage {
        count: page.count,
        headers: headers_of(&page),
        list: page
            .list
            .into_iter()
            .map(|r| types::ResultRecord(r.0))
            .collect(),
    }
}

/// The answer to a start: the slug, and for a synchronous run its end and one page of results.
fn started(cc: &Arc<CoreClaw>, launched: Launched, offset: u64, limit: u64) -> Answer {
    let Some(record) = launched.sync else {
        return ok(json!({"run_slug": launched.slug}));
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

fn summary(w: &Worker) -> types::WorkerSummary {
    types::WorkerSummary {
        slug: w.slug.to_string(),
        name: w.name(),
        path: w.path(),
        title: w.title.to_string(),
        description: Some(w.description.to_string()),
        username: OWNER.to_string(),
    }
}

// ---- account, proxies, Workers --------------------------------------------------------------

/// (code, English name, Chinese name).
const REGIONS: [(&str, &str, &str); 8] = [
    ("US", "United States", "美国"),
    ("GB", "United Kingdom", "英国"),
    ("DE", "Germany", "德国"),
    ("FR", "France", "法国"),
    ("JP", "Japan", "日本"),
    ("SG", "Singapore", "新加坡"),
    ("BR", "Brazil", "巴西"),
    ("IN", "India", "印度"),
];

async fn proxy_regions(Query(q): Params) -> Answer {
    let zh = q.get("language").is_some_and(|l| l.starts_with("zh"));
    let list = REGIONS
        .iter()
        .map(|(code, en, cn)| types::ProxyRegion {
            code: code.to_string(),
            name: if zh { cn } else { en }.to_string(),
        })
        .collect();
    ok(types::ProxyRegionList { list })
}

async fn account(State(cc): Shared) -> Answer {
    let inner = cc.lock();
    ok(types::Account {
        balance: usd(inner.account.balance_micros),
        balance_expiration_at: Some(inner.account.traffic_expiration_at),
    })
}

fn workers_page(cc: &CoreClaw, q: &HashMap<String, String>) -> Answer {
    let mut problems = Vec::new();
    let (offset, limit) = window(q, &mut problems);
    check(problems)?;
    let keyword = q.get("keyword").map(|k| k.trim().to_lowercase());
    let scraper = cc
        .workers
        .iter()
        .filter(|w| {
            keyword.as_deref().is_none_or(|k| {
                w.title.to_lowercase().contains(k)
                    || w.slug.to_lowercase().contains(k)
                    || w.path().contains(k)
            })
        })
        .skip(offset.min(usize::MAX as u64) as usize)
        .take(limit as usize)
        .map(summary)
        .collect();
    ok(types::WorkerList { scraper })
}

async fn store(State(cc): Shared, Query(q): Params) -> Answer {
    workers_page(&cc, &q)
}

/// Inferred: the sandbox account has every catalog Worker in its list.
async fn list_workers(State(cc): Shared, Query(q): Params) -> Answer {
    workers_page(&cc, &q)
}

async fn worker(State(cc): Shared, Path(id): Path<String>) -> Answer {
    let w = worker_of(&cc, &id)?;
    let system = validate::System::defaults(w);
    ok(json!({
        "name": w.name(),
        "username": OWNER,
        "version": w.version,
        "readme": w.readme,
        "parameters": {
            "custom": w.input_schema(),
            "system": {
                "cpus": system.cpus,
                "memory": system.memory,
                "execute_limit_time_seconds": system.execute_limit_time_seconds,
                "proxy_region": system.proxy_region,
            },
        },
    }))
}

async fn input_schema(State(cc): Shared, Path(id): Path<String>) -> Answer {
    let w = worker_of(&cc, &id)?;
    ok(json!({"input_schema": w.input_schema()}))
}

// ---- runs -----------------------------------------------------------------------------------

async fn run_worker(State(cc): Shared, Path(id): Path<String>, bytes: Bytes) -> Answer {
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
        let d = validate::System::defaults(worker);
        parameters.insert(
            "system".into(),
            json!({"cpus": d.cpus, "memory": d.memory,
                   "execute_limit_time_seconds": d.execute_limit_time_seconds,
                   "max_total_charge": d.max_total_charge, "max_total_traffic": d.max_total_traffic,
                   "proxy_region": d.proxy_region}),
        );
    }
    let mut v1_body = json!({
        "scraper_slug": worker.slug,
        "version": version,
        "is_async": request.is_async.unwrap_or(true),
        "input": input,
    });
    if let Some(url) = callback_url {
        v1_body["callback_url"] = json!(url);
    }
    let start = {
        let inner = cc.lock();
        validate::validate_start(&cc.workers, &v1_body, |s| {
            inner.runs.contains_key(s) || inner.tasks.iter().any(|t| t.slug == s)
        })
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

async fn list_runs(State(cc): Shared, Query(q): Params) -> Answer {
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
    let count = records.len() as i64;
    let list = records
        .into_iter()
        .skip(offset.min(usize::MAX as u64) as usize)
        .take(limit as usize)
        .collect();
    ok(types::WorkerRunPage { count, list })
}

/// Which run a route names: a slug, the newest run, or a Worker's newest run.
enum Which {
    Slug(String),
    Last,
    WorkerLast(String),
}

impl Which {
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

fn read_run(cc: &Arc<CoreClaw>, which: Which) -> Answer {
    let slug = which.slug(cc)?;
    ok(run_of(ops::record(cc, &slug)?))
}

fn abort_run(cc: &Arc<CoreClaw>, which: Which) -> Answer {
    let slug = which.slug(cc)?;
    ops::abort(cc, &slug)?;
    done()
}

fn read_log(cc: &Arc<CoreClaw>, which: Which) -> Answer {
    let slug = which.slug(cc)?;
    let log = ops::log(cc, &slug)?;
    ok(types::RunLog {
        all_logs_url: Some(log.all_logs_url),
        list: log.list.into_iter().map(|e| e.content).collect(),
        result_count: Some(log.result_count),
    })
}

fn read_results(cc: &Arc<CoreClaw>, which: Which, q: &HashMap<String, String>) -> Answer {
    let mut problems = Vec::new();
    let (offset, limit) = window(q, &mut problems);
    check(problems)?;
    let slug = which.slug(cc)?;
    ok(page_of(ops::results(cc, &slug, offset, limit)?))
}

fn export_run(cc: &Arc<CoreClaw>, which: Which, q: &HashMap<String, String>) -> Answer {
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
    let slug = which.slug(cc)?;
    ok(types::ExportLink {
        download_url: ops::export(cc, &slug, format, filter)?,
    })
}

async fn rerun_run(cc: &Arc<CoreClaw>, which: Which, bytes: &Bytes) -> Answer {
    let request: types::RerunRequest = body(bytes)?;
    let mut problems = Vec::new();
    let (offset, limit) = sync_window(request.limit.get(), request.offset, &mut problems);
    let callback_url = callback(request.callback_url, &mut problems);
    check(problems)?;
    let slug = which.slug(cc)?;
    let start = ops::rerun_request(cc, &slug, request.is_async.unwrap_or(true), callback_url)?;
    let launched = launch(cc, start).await?;
    started(cc, launched, offset, limit)
}

async fn run(State(cc): Shared, Path(slug): Path<String>) -> Answer {
    read_run(&cc, Which::Slug(slug))
}
async fn last_run(State(cc): Shared) -> Answer {
    read_run(&cc, Which::Last)
}
async fn worker_last_run(State(cc): Shared, Path(id): Path<String>) -> Answer {
    read_run(&cc, Which::WorkerLast(id))
}
async fn abort(State(cc): Shared, Path(slug): Path<String>) -> Answer {
    abort_run(&cc, Which::Slug(slug))
}
async fn abort_last(State(cc): Shared) -> Answer {
    abort_run(&cc, Which::Last)
}
async fn abort_worker_last(State(cc): Shared, Path(id): Path<String>) -> Answer {
    abort_run(&cc, Which::WorkerLast(id))
}
async fn log(State(cc): Shared, Path(slug): Path<String>) -> Answer {
    read_log(&cc, Which::Slug(slug))
}
async fn log_last(State(cc): Shared) -> Answer {
    read_log(&cc, Which::Last)
}
async fn log_worker_last(State(cc): Shared, Path(id): Path<String>) -> Answer {
    read_log(&cc, Which::WorkerLast(id))
}
async fn results(State(cc): Shared, Path(slug): Path<String>, Query(q): Params) -> Answer {
    read_results(&cc, Which::Slug(slug), &q)
}
async fn results_last(State(cc): Shared, Query(q): Params) -> Answer {
    read_results(&cc, Which::Last, &q)
}
async fn results_worker_last(
    State(cc): Shared,
    Path(id): Path<String>,
    Query(q): Params,
) -> Answer {
    read_results(&cc, Which::WorkerLast(id), &q)
}
async fn export(State(cc): Shared, Path(slug): Path<String>, Query(q): Params) -> Answer {
    export_run(&cc, Which::Slug(slug), &q)
}
async fn export_last(State(cc): Shared, Query(q): Params) -> Answer {
    export_run(&cc, Which::Last, &q)
}
async fn export_worker_last(State(cc): Shared, Path(id): Path<String>, Query(q): Params) -> Answer {
    export_run(&cc, Which::WorkerLast(id), &q)
}
async fn rerun(State(cc): Shared, Path(slug): Path<String>, bytes: Bytes) -> Answer {
    rerun_run(&cc, Which::Slug(slug), &bytes).await
}
async fn rerun_last(State(cc): Shared, bytes: Bytes) -> Answer {
    rerun_run(&cc, Which::Last, &bytes).await
}
async fn rerun_worker_last(State(cc): Shared, Path(id): Path<String>, bytes: Bytes) -> Answer {
    rerun_run(&cc, Which::WorkerLast(id), &bytes).await
}

// ---- tasks ----------------------------------------------------------------------------------

fn task_of(t: &Task, cc: &CoreClaw) -> types::WorkerTask {
    types::WorkerTask {
        id: t.id,
        slug: t.slug.clone(),
        title: t.title.clone(),
        description: Some(t.description.clone()),
        version: Some(t.version.clone()),
        worker_slug: Some(t.worker.clone()),
        worker_path: cc.worker(&t.worker).map(Worker::path),
        schedule_enabled: Some(t.schedule_enabled),
        schedule_type: t.schedule_type,
        schedule_time: t.schedule_time.clone(),
        schedule_weekday: t.schedule_weekday,
        schedule_day: t.schedule_day,
        schedule_once_date: t.schedule_once_date.clone(),
    }
}

/// Checks a task's input against its Worker's schema, as a run would.
fn check_input(worker: &Worker, input: &Value, problems: &mut Vec<String>) {
    match ops::custom_of(input) {
        Value::Object(custom) => {
            validate::validate_custom(worker, &custom, problems);
        }
        other => problems.push(format!(
            "input: expected an object (the Worker's input), got {}",
            super::catalog::type_of(&other)
        )),
    }
}

/// A Worker version a task may name: the current one (or `latest`).
fn version_of(worker: &Worker, version: Option<&str>, problems: &mut Vec<String>) -> String {
    match version {
        None | Some("latest") | Some("") => worker.version.to_string(),
        Some(v) if v == worker.version => v.to_string(),
        Some(v) => {
            problems.push(format!(
                "version: {v} is not available; the Worker's current version is {}",
                worker.version
            ));
            v.to_string()
        }
    }
}

/// `HH:mm`.
fn check_time(time: Option<&str>, problems: &mut Vec<String>) {
    if let Some(t) = time {
        let ok = t.len() == 5
            && t.as_bytes()[2] == b':'
            && t[..2].parse::<u8>().is_ok_and(|h| h < 24)
            && t[3..].parse::<u8>().is_ok_and(|m| m < 60);
        if !ok {
            problems.push(format!("schedule_time: expected HH:mm, got `{t}`"));
        }
    }
}

/// The bound a typed number cannot state: day of month 1..=31.
fn check_day(day: Option<std::num::NonZeroU64>, problems: &mut Vec<String>) {
    if let Some(d) = day.filter(|d| d.get() > 31) {
        problems.push(format!("schedule_day: expected 1 to 31, got {d}"));
    }
}

/// `YYYY-MM-DD`.
fn check_date(date: Option<&str>, problems: &mut Vec<String>) {
    if let Some(d) = date
        && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err()
    {
        problems.push(format!(
            "schedule_once_date: expected YYYY-MM-DD, got `{d}`"
        ));
    }
}

async fn list_tasks(State(cc): Shared, Query(q): Params) -> Answer {
    let mut problems = Vec::new();
    let (offset, limit) = window(&q, &mut problems);
    check(problems)?;
    let worker = worker_filter(&cc, &q);
    let keyword = q.get("keyword").map(|k| k.trim().to_lowercase());
    let inner = cc.lock();
    let matching: Vec<&Task> = inner
        .tasks
        .iter()
        .filter(|t| worker.as_deref().is_none_or(|w| t.worker == w))
        .filter(|t| {
            keyword.as_deref().is_none_or(|k| {
                t.title.to_lowercase().contains(k) || t.slug.to_lowercase().contains(k)
            })
        })
        .collect();
    let list = matching
        .iter()
        .skip(offset.min(usize::MAX as u64) as usize)
        .take(limit as usize)
        .map(|t| types::WorkerTaskSummary {
            id: t.id,
            slug: t.slug.clone(),
            title: t.title.clone(),
            version: Some(t.version.clone()),
            worker_slug: Some(t.worker.clone()),
        })
        .collect();
    ok(types::WorkerTaskPage {
        count: matching.len() as i64,
        list,
    })
}

async fn create_task(State(cc): Shared, bytes: Bytes) -> Answer {
    let request: types::CreateRequest = body(&bytes)?;
    let worker = worker_of(&cc, &request.worker_id)?;
    let mut problems = Vec::new();
    if request.title.trim().is_empty() {
        problems.push("title: must not be empty".into());
    }
    let version = version_of(worker, request.version.as_deref(), &mut problems);
    check_input(worker, &request.input, &mut problems);
    check_time(request.schedule_time.as_deref(), &mut problems);
    check_date(request.schedule_once_date.as_deref(), &mut problems);
    check_day(request.schedule_day, &mut problems);
    check(problems)?;
    let slug = cc.ids.next();
    let mut inner = cc.lock();
    let id = inner.tasks.iter().map(|t| t.id).max().unwrap_or(2000) + 1;
    inner.tasks.push(Task {
        id,
        slug: slug.clone(),
        worker: worker.slug.to_string(),
        title: request.title,
        description: request.description.unwrap_or_default(),
        version,
        input: request.input,
        schedule_enabled: request.schedule_enabled.map(|v| *v).unwrap_or(0),
        schedule_type: request.schedule_type.map(|v| *v),
        schedule_time: request.schedule_time,
        schedule_weekday: request.schedule_weekday.map(|v| v.get() as i64),
        schedule_day: request.schedule_day.map(|v| v.get() as i64),
        schedule_once_date: request.schedule_once_date,
    });
    ok(types::WorkerTaskCreated { slug })
}

async fn get_task(State(cc): Shared, Path(slug): Path<String>) -> Answer {
    let inner = cc.lock();
    let task = inner.task(&slug)?;
    ok(task_of(task, &cc))
}

async fn update_task(State(cc): Shared, Path(slug): Path<String>, bytes: Bytes) -> Answer {
    let request: types::UpdateRequest = body(&bytes)?;
    let mut problems = Vec::new();
    if request
        .title
        .as_deref()
        .is_some_and(|t| t.trim().is_empty())
    {
        problems.push("title: must not be empty".into());
    }
    check_time(request.schedule_time.as_deref(), &mut problems);
    check_date(request.schedule_once_date.as_deref(), &mut problems);
    check_day(request.schedule_day, &mut problems);
    let mut inner = cc.lock();
    let task = inner.task_mut(&slug)?;
    check(problems)?;
    if let Some(v) = request.title {
        task.title = v;
    }
    if let Some(v) = request.description {
        task.description = v;
    }
    if let Some(v) = request.schedule_enabled {
        task.schedule_enabled = *v;
    }
    if let Some(v) = request.schedule_type {
        task.schedule_type = Some(*v);
    }
    if let Some(v) = request.schedule_time {
        task.schedule_time = Some(v);
    }
    if let Some(v) = request.schedule_weekday {
        task.schedule_weekday = Some(v.get() as i64);
    }
    if let Some(v) = request.schedule_day {
        task.schedule_day = Some(v.get() as i64);
    }
    if let Some(v) = request.schedule_once_date {
        task.schedule_once_date = Some(v);
    }
    done()
}

async fn delete_task(State(cc): Shared, Path(slug): Path<String>) -> Answer {
    let mut inner = cc.lock();
    inner.task(&slug)?;
    inner.tasks.retain(|t| t.slug != slug);
    done()
}

async fn task_input(State(cc): Shared, Path(slug): Path<String>) -> Answer {
    let inner = cc.lock();
    let task = inner.task(&slug)?;
    ok(types::WorkerTaskInput {
        input: task.input.clone(),
        version: Some(task.version.clone()),
    })
}

async fn update_task_input(State(cc): Shared, Path(slug): Path<String>, bytes: Bytes) -> Answer {
    let request: types::UpdateInputBody = body(&bytes)?;
    let worker = {
        let inner = cc.lock();
        let task = inner.task(&slug)?;
        task.worker.clone()
    };
    let worker = worker_of(&cc, &worker)?;
    let mut problems = Vec::new();
    let version = request
        .version
        .as_deref()
        .map(|v| version_of(worker, Some(v), &mut problems));
    check_input(worker, &request.input, &mut problems);
    check(problems)?;
    let mut inner = cc.lock();
    let task = inner.task_mut(&slug)?;
    task.input = request.input;
    if let Some(v) = version {
        task.version = v;
    }
    done()
}

async fn run_task(State(cc): Shared, Path(slug): Path<String>, bytes: Bytes) -> Answer {
    let request: types::RunTaskRequest = body(&bytes)?;
    let mut problems = Vec::new();
    let (offset, limit) = sync_window(request.limit.get(), request.offset, &mut problems);
    let callback_url = callback(request.callback_url, &mut problems);
    check(problems)?;
    let start: StartRequest =
        ops::task_request(&cc, &slug, request.is_async.unwrap_or(true), callback_url)?;
    let launched = launch(&cc, start).await?;
    started(&cc, launched, offset, limit)
}
