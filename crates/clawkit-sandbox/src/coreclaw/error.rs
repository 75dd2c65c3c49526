//! The error of what v1 and v2 both do to the one state (see `ops.rs`): CoreClaw's code (the
//! vendor's own table, v1's numbers) with the HTTP status v1 pairs with it. v1 writes it in its
//! envelope `{code, message, data}`, v2 in its own with v2's codes.

use axum::http::StatusCode;
use coreclaw_api::enums::StatusCode as Code;

/// An error answer: CoreClaw's code, its HTTP status and the message.
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

    /// 60001 for a task slug.
    pub fn no_task(slug: &str) -> Self {
        Self::new(Code::TaskNotFound, format!("Task does not exist: {slug}"))
    }

    /// 50001 for a Worker the state names but the catalog does not have.
    pub fn no_worker() -> Self {
        Self::new(Code::WorkerNotFound, "Script does not exist")
    }
}
