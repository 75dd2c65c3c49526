//! Bazhuayu's bodies: the `{data, error, error_Description}` envelope of every data call, the
//! OAuth error of `/token`, and the fault bodies of the spec's 429 and 503.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

/// The OAuth error of `POST /token`: 400 `{error, error_description}`.
pub(super) fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// The `{data, error, error_Description}` envelope.
pub(super) fn envelope(
    status: StatusCode,
    data: impl Serialize,
    error: &str,
    description: &str,
) -> Response {
    (
        status,
        axum::Json(json!({"data": data, "error": error, "error_Description": description})),
    )
        .into_response()
}

/// 200 with `data` and `success`.
pub(super) fn ok(data: impl Serialize) -> Response {
    envelope(StatusCode::OK, data, "success", "操作成功")
}

/// 200 `success` without `data` (the answer of the calls that change a task).
pub(super) fn done() -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"error": "success", "error_Description": "操作成功"})),
    )
        .into_response()
}

/// 400 `bad_request` with the problem.
pub(super) fn bad_request(description: impl Into<String>) -> Response {
    envelope(
        StatusCode::BAD_REQUEST,
        Value::Null,
        "bad_request",
        &description.into(),
    )
}

/// 401 `unauthorized`: no live access token.
pub(super) fn unauthorized() -> Response {
    envelope(
        StatusCode::UNAUTHORIZED,
        Value::Null,
        "unauthorized",
        "access_token无效 ,原因是token过期或者非法,此时需要重新获取token。",
    )
}

/// The error body of a rate limit (`quota_exceeded`, 429) or an unavailable service
/// (`service_unavailable`, 503), as the spec's `TooManyRequests` and `ServiceUnavailable` show it.
pub fn fault_body(limited: bool) -> Value {
    if limited {
        json!({"data": null, "error": "quota_exceeded", "error_Description": "API访问频率过快,限制频率为20次/秒,请降低访问频率。"})
    } else {
        json!({"data": null, "error": "service_unavailable", "error_Description": "服务暂时不可用,请稍后重试。"})
    }
}
