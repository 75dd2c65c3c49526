//! The files behind v1's and v2's links: export files (served as a file host serves them) and a
//! run's whole log as text. Public, under v1's mount (a fault there answers v1's envelope).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::coreclaw::logs::log_entries;
use crate::coreclaw::state::CoreClaw;

type Shared = State<Arc<CoreClaw>>;

/// An export file, as a file host serves one: a strong `ETag`, and `Range: bytes=N-` answered
/// `206` (`416` past the end), unless an `If-Range` names another version.
pub(super) async fn download(
    State(cc): Shared,
    Path(file): Path<String>,
    request: HeaderMap,
) -> Response {
    let id = file
        .rsplit('_')
        .next()
        .and_then(|tail| tail.split('.').next())
        .unwrap_or_default()
        .to_string();
    let Some(export) = cc.lock().exports.get(&id).cloned() else {
        return (StatusCode::NOT_FOUND, "export file not found").into_response();
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
                let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{total}")) {
                    r.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return r;
            }
            let mut r = Response::new(export.clone().body_from(offset));
            *r.status_mut() = StatusCode::PARTIAL_CONTENT;
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

pub(super) async fn all_logs(State(cc): Shared, Path(slug): Path<String>) -> Response {
    let inner = cc.lock();
    let Some(run) = inner.runs.get(&slug) else {
        return (StatusCode::NOT_FOUND, "log not found").into_response();
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
