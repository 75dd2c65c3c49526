//! The one error body of every failing call, REST or handshake: `{"error": "<code>", "message":
//! "<human text>"}` (the spec's `Error`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::vendor::ErrorFault;

/// A failing call.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ApiError {
    /// HTTP status.
    pub(super) status: StatusCode,
    /// Machine-readable code, e.g. `not_found`.
    pub(super) code: &'static str,
    /// Human-readable message.
    pub(super) message: String,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            message,
            code,
            status,
        }
    }

    /// 401 `unauthorized`: no bearer token (or `token` query parameter), or not the sandbox's.
    pub(super) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Invalid or missing bearer token",
        )
    }

    /// 404 `not_found` for the User Data container `id`.
    pub(super) fn user_data_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("User data {id} not found"),
        )
    }

    /// 423 `user_data_locked`: the container `id` is in use by a live session.
    pub(super) fn user_data_locked(id: &str) -> Self {
        Self::new(
            StatusCode::LOCKED,
            "user_data_locked",
            format!("User data {id} is in use by an active session"),
        )
    }

    /// 403 `user_data_quota_exceeded`: `max` containers exist.
    pub(super) fn user_data_quota_exceeded(max: usize) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "user_data_quota_exceeded",
            format!("User data limit reached ({max}/{max})"),
        )
    }

    /// 400 `invalid_parameter` naming the query parameter `name` and its value.
    pub(super) fn invalid_time(name: &str, value: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!(
                "{name}: expected an ISO 8601 date-time such as 2025-01-15T10:30:00Z, got {value:?}"
            ),
        )
    }

    /// 400 `invalid_range`: `start` is after `end` (both as sent).
    pub(super) fn invalid_range(start: &str, end: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_range",
            format!("start ({start}) is after end ({end})"),
        )
    }

    /// 429 `too_many_sessions`: `max` sessions are live already.
    pub(super) fn too_many_sessions(max: u32) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_sessions",
            format!(
                "Too many concurrent sessions: maxSessions {max} reached; close a session first"
            ),
        )
    }

    /// 402 `insufficient_balance`: `remaining` units cannot pay a minute at `rate`.
    pub(super) fn insufficient_balance(remaining: f64, rate: f64) -> Self {
        Self::new(
            StatusCode::PAYMENT_REQUIRED,
            "insufficient_balance",
            format!(
                "Insufficient balance: {remaining} quota units remaining, a session minute costs {rate}"
            ),
        )
    }

    /// 426 `upgrade_required`: the browser endpoint was called without the WebSocket upgrade.
    pub(super) fn upgrade_required() -> Self {
        Self::new(
            StatusCode::UPGRADE_REQUIRED,
            "upgrade_required",
            "connect with a WebSocket client",
        )
    }

    /// 503 `unavailable`: the sandbox is shutting down, or the unavailable fault.
    pub(super) fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service temporarily unavailable, retry later",
        )
    }

    /// 404 `not_found` for a path no route matches.
    pub(super) fn no_route(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("No route {method} {path}"),
        )
    }

    /// The body.
    pub(super) fn body(&self) -> Value {
        json!({"error": self.code, "message": self.message})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if self.status == StatusCode::UPGRADE_REQUIRED {
            // RFC 9110: a 426 names the protocol to upgrade to.
            response
                .headers_mut()
                .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        }
        response
    }
}

/// The vendor's answer to a fault: 429 `rate_limited` for both rate limits (with `Retry-After` for
/// [`ErrorFault::Http429`]), 503 `unavailable`.
pub(super) fn fault_response(fault: ErrorFault) -> Response {
    if fault.is_rate_limit() {
        fault.respond(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": "rate_limited", "message": "Too many requests, slow down"}),
        )
    } else {
        fault.respond(
            StatusCode::SERVICE_UNAVAILABLE,
            ApiError::unavailable().body(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_the_code_and_message() {
        let body = ApiError::user_data_locked("udd_x").body();
        assert_eq!(
            body,
            json!({"error": "user_data_locked", "message": "User data udd_x is in use by an active session"})
        );
        let message = ApiError::invalid_time("end", "soon").message;
        assert_eq!(
            message,
            "end: expected an ISO 8601 date-time such as 2025-01-15T10:30:00Z, got \"soon\""
        );
        assert!(
            ApiError::too_many_sessions(1)
                .message
                .contains("maxSessions 1")
        );
    }
}
