//! v2's envelope: `{code, message, data, request_id}` on success, `{code, message, request_id}`
//! (the spec's `ErrorEnvelope`) on error, with v2's codes (11000, 12001, 13000, ...).

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use coreclaw_api::enums::StatusCode as Code;
use coreclaw_v2_api::types::ErrorEnvelope;
use serde_json::{Value, json};

use crate::coreclaw::error::ApiError;

/// What a v2 route answers.
pub(super) type Answer = Result<Response, V2Error>;

/// An error in v2's envelope.
#[derive(Debug)]
pub(crate) struct V2Error {
    status: StatusCode,
    code: i64,
    message: String,
}

impl V2Error {
    /// `code` with `status`.
    pub(super) fn of(code: i64, status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 11000 (HTTP 400) naming each problem.
    pub(super) fn invalid(problems: &[String]) -> Self {
        Self::of(
            11000,
            StatusCode::BAD_REQUEST,
            format!("invalid argument: {}", problems.join("; ")),
        )
    }

    /// 13000, v2's rate limit (HTTP 429).
    pub(super) fn rate_limited() -> Self {
        Self::of(13000, StatusCode::TOO_MANY_REQUESTS, "too many requests")
    }

    /// 10000, v2's system error, with HTTP 503: the service is unavailable for a while.
    pub(super) fn unavailable() -> Self {
        Self::of(
            10000,
            StatusCode::SERVICE_UNAVAILABLE,
            "service temporarily unavailable, try again",
        )
    }

    /// Its HTTP status.
    pub(super) fn status(&self) -> StatusCode {
        self.status
    }

    /// The envelope: `{code, message, request_id}`.
    pub(super) fn body(self) -> Value {
        let body = ErrorEnvelope {
            code: self.code,
            details: None,
            message: self.message,
            request_id: Some(request_id()),
        };
        serde_json::to_value(body).unwrap_or_else(|_| json!({}))
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
        let status = self.status;
        (status, axum::Json(self.body())).into_response()
    }
}

/// The `request_id` of the next answer.
fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("req-sandbox-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A success envelope around `data`.
pub(super) fn ok(data: impl serde::Serialize) -> Answer {
    Ok(axum::Json(json!({
        "code": 0,
        "message": "success",
        "data": data,
        "request_id": request_id(),
    }))
    .into_response())
}

/// A success envelope without data.
pub(super) fn done() -> Answer {
    Ok(
        axum::Json(json!({"code": 0, "message": "success", "request_id": request_id()}))
            .into_response(),
    )
}
