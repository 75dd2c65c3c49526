//! v1's envelope `{code, message, data}`: success, errors, and the bodies of the faults that
//! answer in a route's place.

use axum::response::{IntoResponse, Response};
use coreclaw_api::enums::StatusCode as Code;
use serde::Serialize;
use serde_json::{Value, json};

use crate::coreclaw::error::ApiError;

impl ApiError {
    /// The envelope of this error: `{code, message, data: null}`, in that order.
    pub fn body(&self) -> Value {
        let body = coreclaw_api::types::ApiError {
            code: Some(self.code),
            message: self.message.clone(),
            data: None,
        };
        let mut value = serde_json::to_value(body).unwrap_or_else(|_| json!({}));
        value["data"] = Value::Null;
        value
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

/// A success envelope around `data`.
pub fn ok<T: Serialize>(data: T) -> Response {
    axum::Json(json!({"code": 0, "message": "success", "data": data})).into_response()
}

/// The 4290 envelope of a rate limit (with HTTP 429, or in-band with HTTP 200).
pub(super) fn rate_limited() -> Value {
    ApiError::new(
        Code::RateLimited,
        "Too many requests, please try again later",
    )
    .body()
}

/// The 5000 envelope of an unavailable service (with HTTP 503).
pub(super) fn unavailable() -> Value {
    ApiError::new(Code::InternalError, "Network error, try again").body()
}
