//! The spec's one `Error` body (`code`, `message`, `request_id`, optional `details`), built from
//! the generated type, and the codes the spec lists in its description.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use openclaw_fulfillment_api::types;
use serde::Serialize;

use crate::kit::ids::random_u64;

/// `req_` and 16 hex characters, random.
pub(crate) fn request_id() -> String {
    format!("req_{:016x}", random_u64())
}

/// A failing call, answered as an `Error` body.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    /// HTTP status.
    pub(crate) status: StatusCode,
    /// The spec's machine-readable code, e.g. `invalid_time_format`.
    pub(crate) code: &'static str,
    /// Human-readable message.
    pub(crate) message: String,
    /// Field-level problems: (JSON path of the field, reason).
    pub(crate) details: Vec<(String, String)>,
    /// Seconds for `Retry-After` (429 only).
    pub(crate) retry_after: Option<u64>,
}

impl ApiError {
    /// An error without details.
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    /// Adds a field-level problem.
    pub(crate) fn detail(mut self, field: impl Into<String>, reason: impl Into<String>) -> Self {
        self.details.push((field.into(), reason.into()));
        self
    }

    /// 400 `invalid_request` naming `field`.
    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("Invalid {field}: {reason}"),
        )
        .detail(field, reason)
    }

    /// 400 `invalid_time_format` naming `field`.
    pub(crate) fn time_format(field: &str, reason: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_time_format",
            format!("{field} must be ISO 8601 with an offset, e.g. 2024-06-15T08:30:00+08:00"),
        )
        .detail(field, reason)
    }

    /// 401 with one of `invalid_signature`, `timestamp_out_of_range`, `nonce_reused`,
    /// `invalid_token`, `token_expired`, `invalid_client`.
    pub(crate) fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403 `permission_denied`.
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "permission_denied", message)
    }

    /// 404 `order_not_found`.
    pub(crate) fn order_not_found(order_no: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "order_not_found",
            format!("No order {order_no} for this app"),
        )
    }

    /// 404 `not_found` for another resource.
    pub(crate) fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("No {what} {id} for this app"),
        )
    }

    /// 409 with `code` (`order_exists`, `invalid_order_state`, `insufficient_ats`, `conflict`).
    pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 429 `rate_limited` with `Retry-After`.
    pub(crate) fn rate_limited(message: impl Into<String>, retry_after: u64) -> Self {
        let mut error = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
        error.retry_after = Some(retry_after);
        error
    }

    /// 500 `internal_error`.
    pub(crate) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal error, please retry later",
        )
    }

    /// The `Error` body, with a fresh request id.
    pub(crate) fn body(&self) -> types::Error {
        let details = self
            .details
            .iter()
            .map(|(field, reason)| types::ErrorDetail {
                field: field.clone(),
                reason: reason.clone(),
            });
        types::Error {
            code: self.code.to_string(),
            details: details.collect(),
            message: self.message.clone(),
            request_id: request_id(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = answer(self.status, &self.body());
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A JSON answer with `status`.
pub(crate) fn answer<T: Serialize>(status: StatusCode, body: &T) -> Response {
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_body_has_the_specs_fields() {
        let error = ApiError::time_format("ordered_at", "1718411400 is a Unix timestamp");
        let body = serde_json::to_value(error.body()).unwrap();
        assert_eq!(body["code"], "invalid_time_format");
        assert!(body["message"].as_str().unwrap().starts_with("ordered_at "));
        assert_eq!(body["details"][0]["field"], "ordered_at");
        let id = body["request_id"].as_str().unwrap();
        assert!(id.starts_with("req_") && id.len() == 20);
        let internal = serde_json::to_value(ApiError::internal().body()).unwrap();
        assert!(internal.get("details").is_none());
    }
}
