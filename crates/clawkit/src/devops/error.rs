//! OpenClaw DevOps errors: the seed's one envelope (`{"error": {code, message, details,
//! requestId, timestamp}}`) as a typed [`ApiError`], plus what the client itself can fail at.

use std::time::Duration;

use clawkit_runtime::webhook::WebhookError;
use clawkit_runtime::{Classify, ConfigError, ErrorKind, TransportError, Verdict};
use serde::Deserialize;
use serde_json::Value;

/// The seed's error codes (常见错误码). A code the seed does not list is kept as [`ErrorCode::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: 请求参数无效或格式错误.
    InvalidRequest,
    /// 401: 未认证或 Token 无效.
    Unauthorized,
    /// 403: 权限不足 (the caller's role does not allow it).
    Forbidden,
    /// 404: 资源不存在.
    NotFound,
    /// 409: 资源冲突 (a duplicate, or a move the state does not allow).
    Conflict,
    /// 422: 数据验证失败; see [`ApiError::fields`].
    ValidationError,
    /// 429: 请求频率超限.
    RateLimited,
    /// 500: 服务器内部错误.
    InternalError,
    /// 503: 服务暂时不可用.
    ServiceUnavailable,
    /// A code this client does not know, as sent.
    Other(String),
}

impl ErrorCode {
    /// The code as the service spells it.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::ValidationError => "VALIDATION_ERROR",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            ErrorCode::Other(code) => code,
        }
    }

    /// The code for its spelling.
    pub fn parse(code: &str) -> Self {
        match code {
            "INVALID_REQUEST" => ErrorCode::InvalidRequest,
            "UNAUTHORIZED" => ErrorCode::Unauthorized,
            "FORBIDDEN" => ErrorCode::Forbidden,
            "NOT_FOUND" => ErrorCode::NotFound,
            "CONFLICT" => ErrorCode::Conflict,
            "VALIDATION_ERROR" => ErrorCode::ValidationError,
            "RATE_LIMITED" => ErrorCode::RateLimited,
            "INTERNAL_ERROR" => ErrorCode::InternalError,
            "SERVICE_UNAVAILABLE" => ErrorCode::ServiceUnavailable,
            other => ErrorCode::Other(other.to_string()),
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failing field of a 422 (`details.fields[]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FieldError {
    /// The field, e.g. `email`.
    pub field: String,
    /// What is wrong, in the service's words.
    pub message: String,
    /// A machine code, e.g. `invalid_format`, `min_length`.
    #[serde(default)]
    pub code: String,
}

/// An error answer of the service, as its envelope says.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The error code.
    pub code: ErrorCode,
    /// 人类可读的错误描述.
    pub message: String,
    /// `details` as sent (`resource`/`id` for a 404, `requiredRole` for a 403, ...).
    pub details: Value,
    /// For a 422, each failing field.
    pub fields: Vec<FieldError>,
    /// The request id to quote to support.
    pub request_id: Option<String>,
    /// When the service answered, as sent.
    pub timestamp: Option<String>,
    /// `Retry-After`, when the answer gave one above 0.
    pub retry_after: Option<Duration>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OpenClaw DevOps {} {}: {}",
            self.status, self.code, self.message
        )?;
        for field in &self.fields {
            write!(f, "; {}: {} ({})", field.field, field.message, field.code)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [requestId {id}]")?;
        }
        Ok(())
    }
}

/// The envelope, read leniently: any code, any details.
#[derive(Deserialize)]
pub(crate) struct Envelope {
    pub(crate) error: Body,
}

#[derive(Deserialize)]
pub(crate) struct Body {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: Value,
    #[serde(rename = "requestId", default)]
    request_id: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
}

impl ApiError {
    pub(crate) fn from_body(status: u16, body: Body, retry_after: Option<Duration>) -> Self {
        let fields = body
            .details
            .get("fields")
            .and_then(|f| Vec::<FieldError>::deserialize(f).ok())
            .unwrap_or_default();
        ApiError {
            status,
            code: ErrorCode::parse(&body.code),
            message: body.message,
            details: body.details,
            fields,
            request_id: body.request_id,
            timestamp: body.timestamp,
            retry_after: retry_after.filter(|d| !d.is_zero()),
        }
    }

    /// The failing field named `name`, for a 422.
    pub fn field(&self, name: &str) -> Option<&FieldError> {
        self.fields.iter().find(|f| f.field == name)
    }
}

/// An error from the OpenClaw DevOps client. Secrets never appear in it.
#[allow(missing_docs)] // `Decode`'s fields are described on the variant
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service answered with its error envelope (after the retries that were safe).
    #[error("{0}")]
    Api(Box<ApiError>),
    /// A wait gave up; the job goes on and can be waited for again by its id.
    #[error("gave up after {waited:?} waiting for {what} {id} (last status: {last_status})")]
    Timeout {
        /// What was waited for: `build`, `deployment`, `agent activation`, `test run`.
        what: &'static str,
        /// Its id, to wait again or look it up.
        id: String,
        /// How long.
        waited: Duration,
        /// The last status seen.
        last_status: String,
    },
    /// A webhook delivery was refused (signature, timestamp or body).
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// An argument is out of range (nothing was sent).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// An answer that is not the documented shape: `path` names the field, `message` says why.
    #[error("cannot decode the response at `{path}`: {message}")]
    Decode { path: String, message: String },
    /// No usable answer: the connection failed, the answer broke off or ended early, or an HTTP
    /// answer came without the service's envelope.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The client is set up wrong (credentials not given, a bad base URL).
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
}

impl Error {
    /// The service's error, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The service's error code, if this is an error answer.
    pub fn code(&self) -> Option<&ErrorCode> {
        self.api().map(|e| &e.code)
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}

impl Classify for Error {
    fn verdict(&self) -> Verdict {
        let kind = match self {
            Error::Transport(t) => return t.verdict(),
            Error::Api(e) => match e.code {
                ErrorCode::Unauthorized | ErrorCode::Forbidden => ErrorKind::Auth,
                ErrorCode::NotFound => ErrorKind::NotFound,
                ErrorCode::Conflict => ErrorKind::Conflict,
                ErrorCode::InvalidRequest | ErrorCode::ValidationError => ErrorKind::InvalidInput,
                ErrorCode::RateLimited => {
                    return Verdict::of(ErrorKind::RateLimit).retry_after(e.retry_after);
                }
                ErrorCode::ServiceUnavailable => {
                    return Verdict::of(ErrorKind::Server).retry_after(e.retry_after);
                }
                ErrorCode::InternalError | ErrorCode::Other(_) => {
                    return Verdict::from_status(e.status).retry_after(e.retry_after);
                }
            },
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Webhook(_) => ErrorKind::Auth,
            Error::Decode { .. } => ErrorKind::Transport,
            Error::InvalidArgument(_) => ErrorKind::InvalidInput,
            Error::Config(_) => ErrorKind::Config,
        };
        Verdict::of(kind).final_()
    }
}

crate::error::vendor_error!(Error);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(status: u16, body: Value) -> ApiError {
        let envelope: Envelope = serde_json::from_value(body).unwrap();
        ApiError::from_body(status, envelope.error, None)
    }

    #[test]
    fn the_seeds_validation_example_reads_as_fields() {
        let e = api(
            422,
            json!({"error": {"code": "VALIDATION_ERROR", "message": "请求数据验证失败",
                "details": {"fields": [
                    {"field": "email", "message": "邮箱格式不正确", "code": "invalid_format"},
                    {"field": "password", "message": "密码长度至少为 8 位", "code": "min_length"}]},
                "requestId": "req_xyz789", "timestamp": "2026-03-14T12:35:00Z"}}),
        );
        assert_eq!(e.code, ErrorCode::ValidationError);
        assert_eq!(e.field("password").unwrap().code, "min_length");
        assert_eq!(e.request_id.as_deref(), Some("req_xyz789"));
        let text = e.to_string();
        assert!(
            text.contains("email: 邮箱格式不正确") && text.contains("req_xyz789"),
            "{text}"
        );
        let e = Error::from(e);
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(!e.is_retryable());
    }

    #[test]
    fn unknown_codes_are_kept_and_classified_by_status() {
        let e = api(
            502,
            json!({"error": {"code": "BAD_GATEWAY", "message": "x", "requestId": "req_1",
                "timestamp": "2026-03-14T12:35:00Z"}}),
        );
        assert_eq!(e.code, ErrorCode::Other("BAD_GATEWAY".into()));
        assert_eq!(e.code.as_str(), "BAD_GATEWAY");
        assert!(Error::from(e).is_retryable());
        for (code, kind, retry) in [
            ("RATE_LIMITED", ErrorKind::RateLimit, true),
            ("SERVICE_UNAVAILABLE", ErrorKind::Server, true),
            ("FORBIDDEN", ErrorKind::Auth, false),
            ("CONFLICT", ErrorKind::Conflict, false),
            ("NOT_FOUND", ErrorKind::NotFound, false),
        ] {
            let e = Error::from(api(
                400,
                json!({"error": {"code": code, "message": "m", "requestId": "r", "timestamp": "t"}}),
            ));
            assert_eq!((e.kind(), e.is_retryable()), (kind, retry), "{code}");
        }
    }
}
