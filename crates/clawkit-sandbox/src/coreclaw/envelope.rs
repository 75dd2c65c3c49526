//! CoreClaw's envelope `{code, message, data}`: success, errors, and the fault bodies.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use coreclaw_api::enums::StatusCode as Code;
use serde::Serialize;
use serde_json::{Value, json};

/// An error answer: the envelope `{code, message, data: null}` with its HTTP status.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Envelope code.
    pub code: Code,
    /// Message.
    pub message: String,
}

impl ApiError {
    /// An error with the HTTP status CoreClaw pairs with `code`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        let status = match code {
            Code::InvalidParams | Code::InsufficientBalance | Code::InsufficientTraffic => {
                StatusCode::BAD_REQUEST
            }
            Code::InvalidApiKey | Code::ApiKeyExpired | Code::Unauthorized => {
                StatusCode::UNAUTHORIZED
            }
            Code::WorkerNotFound | Code::TaskNotFound | Code::RunNotFound | Code::NotFound => {
                StatusCode::NOT_FOUND
            }
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 4000 naming the problems.
    pub fn invalid(problems: &[String]) -> Self {
        Self::new(
            Code::InvalidParams,
            format!("Invalid request parameters: {}", problems.join("; ")),
        )
    }

    /// 70001 for a run slug.
    pub fn no_run(slug: &str) -> Self {
        Self::new(
            Code::RunNotFound,
            format!("Run record does not exist: {slug}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = coreclaw_api::types::ApiError {
            code: Some(self.code),
            message: self.message,
            data: None,
        };
        let mut value = serde_json::to_value(body).unwrap_or_else(|_| json!({}));
        value["data"] = serde_json::Value::Null;
        (self.status, axum::Json(value)).into_response()
    }
}

/// A success envelope around `data`.
pub fn ok<T: Serialize>(data: T) -> Response {
    axum::Json(json!({"code": 0, "message": "success", "data": data})).into_response()
}

/// The 4290 envelope of a rate limit (with HTTP 429, or in-band with HTTP 200).
pub(super) fn rate_limited() -> Value {
    json!({"code": 4290, "message": "Too many requests, please try again later", "data": null})
}

/// The 5000 envelope of an unavailable service (with HTTP 503).
pub(super) fn unavailable() -> Value {
    json!({"code": 5000, "message": "Network error, try again", "data": null})
}
