//! Bazhuayu DataAPI under `/bazhuayu`, true to specs/bazhuayu and the seed.
//!
//! - `POST /token` (form) with the password grant (`sandbox` / `sandbox`) or a refresh token, which
//!   works once. Access tokens expire after the configured time (the seed's 86399 s by default).
//! - The seed's leaky bucket, per access token: 20 requests per second, a 5-second bucket (100),
//!   HTTP 429 `quota_exceeded` beyond it.
//! - Task groups, tasks, offset paging with an opaque offset (never the count read), export batches
//!   (`gettop` marks rows "exporting", `update` marks them exported), clearing data, and the paid
//!   start/stop/status endpoints.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::store::{Ids, hash_str, mix, unit};

/// Sandbox credentials.
pub const USERNAME: &str = "sandbox";
/// Sandbox password.
pub const PASSWORD: &str = "sandbox";

/// Requests per second the bucket refills.
pub const RATE_PER_SECOND: f64 = 20.0;
/// Bucket size: five seconds of requests.
pub const BUCKET: f64 = 100.0;

/// Where returned offsets start: an opaque number, never the count read.
const OFFSET_BASE: i64 = 1_000;
/// Offset step per row.
const OFFSET_STEP: i64 = 3;

/// Counters tests and benchmarks read.
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    /// `POST /token` calls.
    pub token_requests: AtomicU64,
    /// Refresh grants with a refresh token that was already used.
    pub refresh_reuse: AtomicU64,
    /// 429s the bucket answered.
    pub rate_limited: AtomicU64,
    /// Authenticated requests served.
    pub requests: AtomicU64,
}

#[derive(Debug)]
struct Token {
    expires: Instant,
    bucket: f64,
    refilled: Instant,
}

#[derive(Debug)]
struct Task {
    id: String,
    name: String,
    group: i64,
    rows: u64,
    exported: u64,
    exporting: u64,
    status: &'static str,
}

#[derive(Debug)]
struct Inner {
    tokens: HashMap<String, Token>,
    refresh: HashMap<String, bool>,
    tasks: Vec<Task>,
}

/// The Bazhuayu sandbox.
#[derive(Debug)]
pub struct Bazhuayu {
    seed: u64,
    ttl: Duration,
    ids: Ids,
    inner: Mutex<Inner>,
    /// Counters.
    pub stats: Stats,
}

/// The seeded task groups.
pub const GROUPS: [(i64, &str); 2] = [(1, "示例组1"), (2, "示例组2")];

impl Bazhuayu {
    /// A fresh sandbox; access tokens live `ttl`.
    pub fn new(seed: u64, ttl: Duration) -> Arc<Self> {
        let ids = Ids::new(seed ^ 0xba2);
        let guid = |n: u64| {
            let h = mix(seed ^ mix(n));
            format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                h >> 32,
                (h >> 16) & 0xffff,
                h & 0xfff,
                0x8000 | (mix(h) & 0x3fff),
                mix(h ^ 7) & 0xffff_ffff_ffff
            )
        };
        let tasks = vec![
            Task {
                id: "337fd7d7-aded-4081-9104-2b551161ccc8".into(),
                name: "示例任务1".into(),
                group: 1,
                rows: 2_500,
                exported: 0,
                exporting: 0,
                status: "Completed",
            },
            Task {
                id: "4adf489b-f883-43fa-b958-0cfde945ddb7".into(),
                name: "示例任务2".into(),
                group: 1,
                rows: 100_000,
                exported: 0,
                exporting: 0,
                status: "Stopped",
            },
            Task {
                id: guid(3),
                name: "新闻采集".into(),
                group: 2,
                rows: 37,
                exported: 0,
                exporting: 0,
                status: "Waiting",
            },
        ];
        Arc::new(Self {
            seed,
            ttl,
            ids,
            inner: Mutex::new(Inner {
                tokens: HashMap::new(),
                refresh: HashMap::new(),
                tasks,
            }),
            stats: Stats::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Row `index` of a task: the seed's example rows first, then generated ones.
    pub fn row(&self, task: &str, index: u64) -> Map<String, Value> {
        const SEED_ROWS: [(&str, &str); 4] = [
            (
                "深圳视界",
                "领先的信息化解决方案提供商,致力于企业级数据整合,网页数据采集,整理,分析和挖掘。",
            ),
            (
                "八爪鱼",
                "它彻底改变了我对爬虫和采集器的认识,让网页数据采集变得前所未有的简单。",
            ),
            ("数多多", "致力于打造大数据共享与交易平台。"),
            (
                "微图",
                "一款简单易用的数据分析及可视化工具,支持自然语言分析及文本挖掘。",
            ),
        ];
        let mut row = Map::new();
        match SEED_ROWS.get(index as usize) {
            Some((term, intro)) => {
                row.insert("词条".into(), json!(term));
                row.insert("简介".into(), json!(intro));
            }
            None => {
                let h = hash_str(self.seed, task) ^ mix(index);
                row.insert("词条".into(), json!(format!("词条{index}")));
                row.insert(
                    "简介".into(),
                    json!(format!("第{index}条数据,评分{:.2}", unit(h) * 5.0)),
                );
            }
        }
        row.insert("序号".into(), json!(index.to_string()));
        row
    }

    fn issue(&self, inner: &mut Inner) -> Value {
        let access = format!("at_{}", self.ids.next());
        let refresh = format!("rt_{}", self.ids.next());
        let now = Instant::now();
        inner.tokens.insert(
            access.clone(),
            Token {
                expires: now + self.ttl,
                bucket: BUCKET,
                refilled: now,
            },
        );
        inner.refresh.insert(refresh.clone(), false);
        json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.ttl.as_secs(),
            "refresh_token": refresh,
        })
    }
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// The `{data, error, error_Description}` envelope.
fn envelope(status: StatusCode, data: Value, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"data": data, "error": error, "error_Description": description})),
    )
        .into_response()
}

fn ok(data: Value) -> Response {
    envelope(StatusCode::OK, data, "success", "操作成功")
}

fn done() -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"error": "success", "error_Description": "操作成功"})),
    )
        .into_response()
}

fn bad_request(description: impl Into<String>) -> Response {
    envelope(
        StatusCode::BAD_REQUEST,
        Value::Null,
        "bad_request",
        &description.into(),
    )
}

/// The error body of a rate limit or an unavailable service, for the fault middleware.
pub fn fault_body(limited: bool) -> Value {
    if limited {
        json!({"data": null, "error": "quota_exceeded", "error_Description": "API访问频率过快,限制频率为20次/秒,请降低访问频率。"})
    } else {
        json!({"data": null, "error": "service_unavailable", "error_Description": "服务暂时不可用,请稍后重试。"})
    }
}

/// The router of `/bazhuayu`.
pub fn router(state: Arc<Bazhuayu>) -> Router {
    let api = Router::new()
        .route("/TaskGroup", get(task_groups))
        .route("/Task", get(tasks))
        .route("/task/RemoveDataByTaskId", post(clear))
        .route("/notexportdata/gettop", get(gettop))
        .route("/notexportdata/update", post(mark_exported))
        .route("/alldata/GetDataOfTaskByOffset", get(by_offset))
        .route("/task/StartTask", post(start_task))
        .route("/task/StopTask", post(stop_task))
        .route("/task/GetTaskStatusByIdList", post(statuses))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authorize,
        ));
    Router::new()
        .route("/token", post(token))
        .nest("/api", api)
        .route("/_sandbox/stats", get(stats))
        .with_state(state)
}

type Shared = State<Arc<Bazhuayu>>;

async fn stats(State(b): Shared) -> Response {
    axum::Json(&b.stats).into_response()
}

async fn token(State(b): Shared, headers: HeaderMap, body: Bytes) -> Response {
    b.stats.token_requests.fetch_add(1, Ordering::Relaxed);
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let form: Vec<(String, String)> = match serde_urlencoded_pairs(&body) {
        Some(f) if is_form => f,
        _ => {
            return oauth_error(
                "unsupported_grant_type",
                "POST数据格式不正确,要保证格式为:username={username}&password={password}&grant_type=password。",
            );
        }
    };
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut inner = b.lock();
    match field("grant_type") {
        Some("password") => {
            if field("username") == Some(USERNAME) && field("password") == Some(PASSWORD) {
                (StatusCode::OK, axum::Json(b.issue(&mut inner))).into_response()
            } else {
                oauth_error("invalid_grant", "账号名或密码不正确。")
            }
        }
        Some("refresh_token") => match field("refresh_token")
            .and_then(|t| inner.refresh.get(t).copied().map(|used| (t, used)))
        {
            Some((t, false)) => {
                let t = t.to_string();
                inner.refresh.insert(t, true);
                (StatusCode::OK, axum::Json(b.issue(&mut inner))).into_response()
            }
            Some((_, true)) => {
                b.stats.refresh_reuse.fetch_add(1, Ordering::Relaxed);
                oauth_error(
                    "invalid_grant",
                    "refresh_token已使用,同一个refresh_token只能使用一次。",
                )
            }
            None => oauth_error("invalid_grant", "refresh_token无效。"),
        },
        _ => oauth_error(
            "unsupported_grant_type",
            "POST数据格式不正确,要保证格式为:username={username}&password={password}&grant_type=password。",
        ),
    }
}

/// Parses `application/x-www-form-urlencoded` (percent-decoding, `+` as space).
fn serde_urlencoded_pairs(body: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(body).ok()?;
    let decode = |s: &str| -> Option<String> {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
                    out.push(u8::from_str_radix(hex, 16).ok()?);
                    i += 2;
                }
                b'%' => return None,
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).ok()
    };
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}

/// Checks `Authorization: bearer TOKEN` and the token's leaky bucket.
async fn authorize(State(b): Shared, request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    let unauthorized = || {
        envelope(
            StatusCode::UNAUTHORIZED,
            Value::Null,
            "unauthorized",
            "access_token无效 ,原因是token过期或者非法,此时需要重新获取token。",
        )
    };
    let Some(token) = token else {
        return unauthorized();
    };
    {
        let mut inner = b.lock();
        let now = Instant::now();
        let Some(t) = inner.tokens.get_mut(&token) else {
            return unauthorized();
        };
        if now >= t.expires {
            return unauthorized();
        }
        t.bucket =
            (t.bucket + now.duration_since(t.refilled).as_secs_f64() * RATE_PER_SECOND).min(BUCKET);
        t.refilled = now;
        if t.bucket < 1.0 {
            b.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            return (StatusCode::TOO_MANY_REQUESTS, axum::Json(fault_body(true))).into_response();
        }
        t.bucket -= 1.0;
    }
    b.stats.requests.fetch_add(1, Ordering::Relaxed);
    next.run(request).await
}

async fn task_groups() -> Response {
    ok(Value::Array(
        GROUPS
            .iter()
            .map(|(id, name)| json!({"taskGroupId": id, "taskGroupName": name}))
            .collect(),
    ))
}

type Params = Query<HashMap<String, String>>;

async fn tasks(State(b): Shared, Query(q): Params) -> Response {
    let Some(group) = q.get("taskGroupId").and_then(|g| g.parse::<i64>().ok()) else {
        return bad_request("taskGroupId: required, an integer");
    };
    let inner = b.lock();
    ok(Value::Array(
        inner
            .tasks
            .iter()
            .filter(|t| t.group == group)
            .map(|t| json!({"taskId": t.id, "taskName": t.name, "creationUserId": "5d1e4b3c-645c-44ab-ac0e-bfa9ad600ece"}))
            .collect(),
    ))
}

/// Which task `taskId` names; the error is the 400 description.
fn task_index(inner: &Inner, q: &HashMap<String, String>) -> Result<usize, String> {
    let Some(id) = q.get("taskId") else {
        return Err("taskId: required".into());
    };
    inner
        .tasks
        .iter()
        .position(|t| t.id.eq_ignore_ascii_case(id))
        .ok_or_else(|| format!("taskId: no task {id}"))
}

/// 404 `not_found` for a task id that names no task; 400 for a missing one.
fn task_error(description: String) -> Response {
    if description.starts_with("taskId: no task") {
        envelope(
            StatusCode::NOT_FOUND,
            Value::Null,
            "not_found",
            &description,
        )
    } else {
        bad_request(description)
    }
}

/// The `size` parameter in [1,1000]; the error is the 400 description.
fn size_of(q: &HashMap<String, String>) -> Result<u64, String> {
    match q.get("size").map(|s| s.parse::<u64>()) {
        Some(Ok(n)) if (1..=1000).contains(&n) => Ok(n),
        Some(_) => Err("size: must be an integer in [1,1000]".into()),
        None => Err("size: required, in [1,1000]".into()),
    }
}

async fn clear(State(b): Shared, Query(q): Params) -> Response {
    let mut inner = b.lock();
    match task_index(&inner, &q).map_err(task_error) {
        Ok(i) => {
            let t = &mut inner.tasks[i];
            t.rows = 0;
            t.exported = 0;
            t.exporting = 0;
            done()
        }
        Err(r) => r,
    }
}

async fn gettop(State(b): Shared, Query(q): Params) -> Response {
    let (id, start, end, rows) = {
        let mut inner = b.lock();
        let i = match task_index(&inner, &q) {
            Ok(i) => i,
            Err(r) => return task_error(r),
        };
        let size = match size_of(&q) {
            Ok(s) => s,
            Err(r) => return bad_request(r),
        };
        let t = &mut inner.tasks[i];
        // Rows not yet exported, from the first one: a batch that was not confirmed comes again.
        let start = t.exported;
        let end = (start + size).min(t.rows);
        t.exporting = t.exporting.max(end);
        (t.id.clone(), start, end, t.rows)
    };
    let list: Vec<Value> = (start..end).map(|i| Value::Object(b.row(&id, i))).collect();
    ok(json!({"total": rows - start, "currentTotal": list.len(), "dataList": list}))
}

async fn mark_exported(State(b): Shared, Query(q): Params) -> Response {
    let mut inner = b.lock();
    match task_index(&inner, &q).map_err(task_error) {
        Ok(i) => {
            let t = &mut inner.tasks[i];
            t.exported = t.exporting.max(t.exported);
            done()
        }
        Err(r) => r,
    }
}

async fn by_offset(State(b): Shared, Query(q): Params) -> Response {
    let (id, rows) = {
        let inner = b.lock();
        match task_index(&inner, &q) {
            Ok(i) => (inner.tasks[i].id.clone(), inner.tasks[i].rows),
            Err(r) => return task_error(r),
        }
    };
    let size = match size_of(&q) {
        Ok(s) => s,
        Err(r) => return bad_request(r),
    };
    let offset = match q.get("offset").map(|o| o.parse::<i64>()) {
        Some(Ok(o)) => o,
        _ => return bad_request("offset: required, an integer (0 to start)"),
    };
    // The returned offsets are OFFSET_BASE + STEP * rows; any other value reads from the next
    // row at or after it (offsets at or below 0 from the start, as the seed says).
    let start = if offset <= OFFSET_BASE {
        0
    } else {
        ((offset - OFFSET_BASE) as u64).div_ceil(OFFSET_STEP as u64)
    };
    let start = start.min(rows);
    let end = (start + size).min(rows);
    let list: Vec<Value> = (start..end).map(|i| Value::Object(b.row(&id, i))).collect();
    ok(json!({
        "offset": OFFSET_BASE + end as i64 * OFFSET_STEP,
        "total": rows,
        "restTotal": rows - end,
        "dataList": list,
    }))
}

async fn set_status(
    b: &Bazhuayu,
    q: &HashMap<String, String>,
    status: &'static str,
    answer: Value,
) -> Response {
    let mut inner = b.lock();
    match task_index(&inner, q).map_err(task_error) {
        Ok(i) => {
            inner.tasks[i].status = status;
            if answer.is_null() { done() } else { ok(answer) }
        }
        Err(r) => r,
    }
}

async fn start_task(State(b): Shared, Query(q): Params) -> Response {
    set_status(&b, &q, "Running", json!(1)).await
}

async fn stop_task(State(b): Shared, Query(q): Params) -> Response {
    set_status(&b, &q, "Stopped", Value::Null).await
}

async fn statuses(State(b): Shared, body: Bytes) -> Response {
    let ids: Vec<String> = match serde_json::from_slice::<Value>(&body) {
        Ok(v) => match v.get("taskIdList").and_then(Value::as_array) {
            Some(list) if list.iter().all(Value::is_string) => list
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => return bad_request("taskIdList: required, an array of task id strings"),
        },
        Err(e) => return bad_request(format!("request body: JSON syntax error: {e}")),
    };
    let inner = b.lock();
    ok(Value::Array(
        inner
            .tasks
            .iter()
            .filter(|t| ids.iter().any(|i| i.eq_ignore_ascii_case(&t.id)))
            .map(|t| json!({"taskId": t.id, "taskName": t.name, "status": t.status}))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_decode() {
        let f =
            serde_urlencoded_pairs(b"username=a%20b&password=p%2Bq&grant_type=password").unwrap();
        assert_eq!(f[0], ("username".into(), "a b".into()));
        assert_eq!(f[1], ("password".into(), "p+q".into()));
        assert!(serde_urlencoded_pairs(b"x=%zz").is_none());
        assert!(serde_urlencoded_pairs(b"x=%4").is_none());
    }

    #[test]
    fn the_first_rows_are_the_seeds() {
        let b = Bazhuayu::new(1, Duration::from_secs(10));
        assert_eq!(b.row("t", 1)["词条"], "八爪鱼");
        assert_eq!(b.row("t", 9)["序号"], "9");
    }
}
