//! OpenClaw DevOps errors: the seed's one envelope (`{"error": {code, message, details,
//! requestId, timestamp}}`) as [`ApiError`], its codes (常见错误码) as [`Reason`], plus what the
//! client itself can fail at.

use std::time::Duration;

use clawkit_runtime::reply::Head;
use clawkit_runtime::{Classify, ErrorKind, Verdict};
use serde_json::Value;

use crate::error::ErrorBody;

/// What the DevOps client's own flows fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Flow {
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
}

impl Classify for Flow {
    fn verdict(&self) -> Verdict {
        match self {
            Flow::Timeout { .. } => Verdict::of(ErrorKind::Timeout).final_(),
        }
    }
}

crate::reasons::reasons! {
    /// The seed's error codes (常见错误码). A code the seed does not list is
    /// [`Reason::Unlisted`], and [`ApiError::code`](crate::ApiError::code) keeps it as sent.
    pub enum Reason {
        /// 400: 请求参数无效或格式错误.
        InvalidRequest("INVALID_REQUEST") => Final(InvalidInput),
        /// 401: 未认证或 Token 无效.
        Unauthorized("UNAUTHORIZED") => Final(Auth),
        /// 403: 权限不足 (the caller's role does not allow it).
        Forbidden("FORBIDDEN") => Final(Auth),
        /// 404: 资源不存在.
        NotFound("NOT_FOUND") => Final(NotFound),
        /// 409: 资源冲突 (a duplicate, or a move the state does not allow).
        Conflict("CONFLICT") => Final(Conflict),
        /// 422: 数据验证失败; see [`ApiError::fields`](crate::ApiError::fields).
        ValidationError("VALIDATION_ERROR") => Final(InvalidInput),
        /// 429: 请求频率超限.
        RateLimited("RATE_LIMITED") => Limit,
        /// 500: 服务器内部错误.
        InternalError("INTERNAL_ERROR") => Status,
        /// 503: 服务暂时不可用.
        ServiceUnavailable("SERVICE_UNAVAILABLE") => Retry(Server),
    }
    unlisted => Status;
    flow => Flow;
    describe => describe;
}

fn describe(e: &ApiError, service: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    write!(f, "{service} {} {}: {}", e.status, e.code, e.message)?;
    for field in &e.fields {
        write!(f, "; {}: {} ({})", field.field, field.message, field.code)?;
    }
    if let Some(id) = &e.request_id {
        write!(f, " [requestId {id}]")?;
    }
    Ok(())
}

/// The service's error in its envelope, read leniently: any code, any details, a 422's fields.
pub(crate) fn refusal(head: &Head, body: Value) -> Option<ApiError> {
    let at = ErrorBody {
        code: "/error/code",
        message: &["/error/message"],
        request_id: Some("/error/requestId"),
        fields: Some("/error/details/fields"),
    };
    ApiError::read(head, body, at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(status: u16, body: Value) -> ApiError {
        let head = Head {
            status,
            headers: Default::default(),
        };
        refusal(&head, body).unwrap()
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
        assert_eq!(e.reason, Reason::ValidationError);
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
        assert_eq!(e.reason, Reason::Unlisted);
        assert_eq!(e.code, "BAD_GATEWAY");
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
