//! The one error envelope of the DevOps API, the spec's `ErrorResponse` (`{"error": {code,
//! message, details, requestId, timestamp}}`), with the seed's codes and messages.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use openclaw_devops_api::types::{ErrorBody, ErrorCode, ErrorResponse};
use serde_json::{Map, Value, json};

use crate::kit::clock::{unix_millis, utc_datetime};
use crate::kit::ids::{mix, random_u64};
use crate::kit::read::Problem;

/// `req_` and 12 hex characters, unique in this process.
pub(crate) fn request_id() -> String {
    static BASE: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let base = *BASE.get_or_init(random_u64);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("req_{:012x}", mix(base ^ n) & 0xffff_ffff_ffff)
}

/// An error answer of the DevOps API.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    /// HTTP status.
    pub(crate) status: StatusCode,
    /// `INVALID_REQUEST`, `UNAUTHORIZED`, ...
    pub(crate) code: ErrorCode,
    /// Human-readable message.
    pub(crate) message: String,
    /// `details`.
    pub(crate) details: Map<String, Value>,
}

/// Builds a `details` object from pairs.
pub(crate) fn details<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

impl ApiError {
    /// An error with every part given.
    pub(crate) fn new(
        status: StatusCode,
        code: ErrorCode,
        message: impl Into<String>,
        details: Map<String, Value>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details,
        }
    }

    /// 400 `INVALID_REQUEST` naming a query or path parameter.
    pub(crate) fn parameter(parameter: &str, reason: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            "请求参数无效或格式错误",
            details([
                ("parameter", json!(parameter)),
                ("reason", json!(reason.into())),
            ]),
        )
    }

    /// 400 `INVALID_REQUEST` for a body that is not a JSON object.
    pub(crate) fn body(reason: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            "请求参数无效或格式错误",
            details([("reason", json!(reason.into()))]),
        )
    }

    /// 401 `UNAUTHORIZED` with `details.reason`.
    pub(crate) fn unauthorized(reason: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "未认证或 Token 无效",
            details([("reason", json!(reason))]),
        )
    }

    /// 403 `FORBIDDEN`.
    pub(crate) fn forbidden(details: Map<String, Value>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "权限不足",
            details,
        )
    }

    /// 404 `NOT_FOUND` with `details {resource, id}`, as the seed's example.
    pub(crate) fn not_found(resource: &str, id: &str) -> Self {
        let message = match resource {
            "user" => "用户不存在",
            "project" => "项目不存在",
            "task" => "任务不存在",
            "activation" => "Agent 激活记录不存在",
            "pipeline" => "流水线不存在",
            "build" => "构建不存在",
            "deployment" => "部署不存在",
            "suite" => "测试套件不存在",
            "run" => "测试执行不存在",
            "webhook" => "Webhook 不存在",
            _ => "资源不存在",
        };
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            message,
            details([("resource", json!(resource)), ("id", json!(id))]),
        )
    }

    /// 409 `CONFLICT`.
    pub(crate) fn conflict(message: impl Into<String>, details: Map<String, Value>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, message, details)
    }

    /// 409 `CONFLICT` for a value another resource already has.
    pub(crate) fn duplicate(resource: &str, field: &str, value: &str) -> Self {
        let what = match field {
            "email" => "邮箱已被注册",
            "username" => "用户名已被占用",
            "key" => "项目标识符已存在",
            _ => "重复创建",
        };
        Self::conflict(
            format!("资源冲突:{what}"),
            details([
                ("resource", json!(resource)),
                ("field", json!(field)),
                ("value", json!(value)),
            ]),
        )
    }

    /// 422 `VALIDATION_ERROR` with `details.fields`: each problem as the seed shows it,
    /// `{field, message, code}`.
    pub(crate) fn validation(problems: &[Problem]) -> Self {
        let fields: Vec<Value> = problems
            .iter()
            .map(|p| json!({"field": p.field, "message": p.message, "code": p.code}))
            .collect();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationError,
            "请求数据验证失败",
            details([("fields", Value::Array(fields))]),
        )
    }

    /// 429 `RATE_LIMITED` with `details {limit, window, retryAfter}`.
    pub(crate) fn rate_limited(limit: u64, window: &str, retry_after: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "请求频率超限",
            details([
                ("limit", json!(limit)),
                ("window", json!(window)),
                ("retryAfter", json!(retry_after)),
            ]),
        )
    }

    /// 503 `SERVICE_UNAVAILABLE` with `details.retryAfter`.
    pub(crate) fn unavailable(retry_after: u64) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServiceUnavailable,
            "服务暂时不可用",
            details([("retryAfter", json!(retry_after))]),
        )
    }

    /// The envelope, with a fresh request id and the time in whole seconds.
    pub(crate) fn envelope(&self) -> ErrorResponse {
        ErrorResponse {
            error: ErrorBody {
                code: self.code,
                message: self.message.clone(),
                details: self.details.clone(),
                request_id: request_id(),
                timestamp: utc_datetime(unix_millis() / 1000 * 1000),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.envelope())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_req_and_12_hex() {
        let a = request_id();
        let b = request_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert!(a.starts_with("req_"));
        assert!(a[4..].bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn the_envelope_has_the_seeds_fields() {
        let body = serde_json::to_value(ApiError::not_found("user", "usr_invalid123").envelope())
            .unwrap_or_default();
        let error = &body["error"];
        assert_eq!(error["code"], "NOT_FOUND");
        assert_eq!(error["message"], "用户不存在");
        assert_eq!(
            error["details"],
            json!({"resource": "user", "id": "usr_invalid123"})
        );
        assert!(
            error["timestamp"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
    }
}
