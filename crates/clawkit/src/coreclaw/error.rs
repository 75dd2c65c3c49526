//! CoreClaw's errors: one variant per documented status code, plus transport and decoding.
//!
//! The envelope's `code` is the truth whatever the HTTP status: 4000 arrives with HTTP 400, 4290
//! may arrive with HTTP 200, and both become the same variant here.

use std::time::Duration;

use clawkit_runtime::{Classify, ConfigError, ErrorKind, TransportError, Verdict};
pub use coreclaw_api::enums::StatusCode;

use super::input::InputErrors;

/// An error from the CoreClaw client. Secrets never appear in it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 4000: the request's parameters are invalid. Check names and types against the Worker's live
    /// schema (`Client::worker`).
    #[error("CoreClaw 4000 invalid parameters: {message}")]
    InvalidParams {
        /// The service's message (it names the field).
        message: String,
    },
    /// 4010: not authorized for this resource.
    #[error("CoreClaw 4010 unauthorized: {message}")]
    Unauthorized {
        /// The service's message.
        message: String,
    },
    /// 4040: not found.
    #[error("CoreClaw 4040 not found: {message}")]
    NotFound {
        /// The service's message.
        message: String,
    },
    /// 4290 or HTTP 429, still there after the retries.
    #[error("CoreClaw rate limit (4290) still hit after retries: {message}")]
    RateLimited {
        /// The service's message.
        message: String,
        /// The last `Retry-After` the service sent.
        retry_after: Option<Duration>,
    },
    /// 5000: internal error at CoreClaw.
    #[error("CoreClaw 5000 internal error: {message}")]
    Internal {
        /// The service's message.
        message: String,
    },
    /// 10001: the user does not exist.
    #[error("CoreClaw 10001 user does not exist: {message}")]
    UserNotFound {
        /// The service's message.
        message: String,
    },
    /// 10002: the user is disabled.
    #[error("CoreClaw 10002 user disabled: {message}")]
    UserDisabled {
        /// The service's message.
        message: String,
    },
    /// 20001: the API key is invalid.
    #[error("CoreClaw 20001 invalid API key: check CORECLAW_API_KEY ({message})")]
    InvalidApiKey {
        /// The service's message.
        message: String,
    },
    /// 20002: the API key has expired.
    #[error("CoreClaw 20002 API key expired: create a new key in the console ({message})")]
    ApiKeyExpired {
        /// The service's message.
        message: String,
    },
    /// 30001: the balance is too low: top up the account.
    #[error("CoreClaw 30001 insufficient balance: top up the account ({message})")]
    InsufficientBalance {
        /// The service's message.
        message: String,
    },
    /// 30002: the traffic quota is used up.
    #[error("CoreClaw 30002 insufficient traffic: buy a traffic package ({message})")]
    InsufficientTraffic {
        /// The service's message.
        message: String,
    },
    /// 50001: no Worker with this slug.
    #[error("CoreClaw 50001 Worker not found: check the scraper_slug ({message})")]
    WorkerNotFound {
        /// The service's message.
        message: String,
    },
    /// 50002: the Worker failed to execute.
    #[error("CoreClaw 50002 Worker execution failed: {message}")]
    WorkerExecutionFailed {
        /// The service's message.
        message: String,
    },
    /// 50003: the Worker version is not available: read the Worker again for its current version.
    #[error("CoreClaw 50003 Worker version unavailable: read the Worker again ({message})")]
    WorkerVersionUnavailable {
        /// The service's message.
        message: String,
    },
    /// 60001: no saved task with this slug.
    #[error("CoreClaw 60001 task not found: {message}")]
    TaskNotFound {
        /// The service's message.
        message: String,
    },
    /// 70001: no run with this slug.
    #[error("CoreClaw 70001 run not found: {message}")]
    RunNotFound {
        /// The service's message.
        message: String,
    },
    /// 70002: the run could not be aborted (for example, it already ended).
    #[error("CoreClaw 70002 abort failed: {message}")]
    AbortFailed {
        /// The service's message.
        message: String,
    },
    /// Any other envelope code.
    #[error("CoreClaw {code}: {message} (HTTP {http_status})")]
    Api {
        /// The envelope code.
        code: i64,
        /// The service's message.
        message: String,
        /// The HTTP status it came with.
        http_status: u16,
    },
    /// The connection failed, the answer broke off or ended early, or an HTTP answer came
    /// without a CoreClaw envelope.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A wait took too long. The run is not lost: `run_slug` says which run to resume.
    #[error("timed out {what}{}", run_slug.as_ref().map(|s| format!(" (run {s} is not lost: resume with Client::run)")).unwrap_or_default())]
    Timeout {
        /// What was being waited for.
        what: String,
        /// The run concerned, if any.
        run_slug: Option<String>,
    },
    /// A response did not have the documented shape.
    #[error("cannot decode the response at `{path}`: {message}")]
    Decode {
        /// Path of the field that failed, e.g. `data.list[3].price`.
        path: String,
        /// Why.
        message: String,
    },
    /// The input does not match the Worker's live schema: nothing was sent, nothing was spent.
    #[error("{0}")]
    InvalidInput(#[from] InputErrors),
    /// An argument is out of range or does not fit the request (nothing was sent).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The client is set up wrong (missing key, bad URL, ...).
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    /// Writing an export or log file failed.
    #[error("writing the output failed: {0}")]
    Io(#[from] std::io::Error),
    /// Writing to object storage failed (feature `object-store`): a bad destination URL, missing
    /// credentials, or the store's refusal.
    #[cfg(feature = "object-store")]
    #[error(transparent)]
    Storage(#[from] clawkit_runtime::objects::ObjectError),
}

crate::error::vendor_error!(Error);

impl Classify for Error {
    fn verdict(&self) -> Verdict {
        use ErrorKind as K;
        let kind = match self {
            Error::RateLimited { retry_after, .. } => {
                return Verdict::of(K::RateLimit).retry_after(*retry_after);
            }
            Error::Internal { .. } => return Verdict::of(K::Server),
            Error::Transport(t) => return t.verdict(),
            Error::Api { http_status, .. } => return Verdict::from_status(*http_status).final_(),
            Error::InvalidParams { .. } | Error::InvalidInput(_) | Error::InvalidArgument(_) => {
                K::InvalidInput
            }
            Error::Unauthorized { .. }
            | Error::UserDisabled { .. }
            | Error::InvalidApiKey { .. }
            | Error::ApiKeyExpired { .. } => K::Auth,
            Error::NotFound { .. }
            | Error::UserNotFound { .. }
            | Error::WorkerNotFound { .. }
            | Error::TaskNotFound { .. }
            | Error::RunNotFound { .. } => K::NotFound,
            Error::InsufficientBalance { .. } | Error::InsufficientTraffic { .. } => K::Quota,
            Error::WorkerVersionUnavailable { .. } | Error::AbortFailed { .. } => K::Conflict,
            Error::WorkerExecutionFailed { .. } => K::Server,
            // Waiting again is the caller's decision: the error keeps the run slug.
            Error::Timeout { .. } => K::Timeout,
            Error::Decode { .. } => K::Transport,
            Error::Config(_) => K::Config,
            Error::Io(_) => K::Other,
            #[cfg(feature = "object-store")]
            Error::Storage(_) => K::Other,
        };
        Verdict::of(kind).final_()
    }
}

impl Error {
    /// The error for an envelope `code` (v1's or v2's: 11000 is `InvalidParams` like 4000, 12001
    /// `Unauthorized`, 12002 `InvalidApiKey`, 13000 `RateLimited`, 11004 `NotFound`, 10000 and 14000
    /// `Internal`) with its message and HTTP status.
    pub fn from_code(
        code: i64,
        message: impl Into<String>,
        http_status: u16,
        retry_after: Option<Duration>,
    ) -> Self {
        let message = message.into();
        // v2's own codes (its table in specs/coreclaw-v2), onto the same variants as v1's.
        match code {
            10000 | 14000 => return Error::Internal { message },
            11000 => return Error::InvalidParams { message },
            11004 => return Error::NotFound { message },
            12001 => return Error::Unauthorized { message },
            12002 => return Error::InvalidApiKey { message },
            13000 => {
                return Error::RateLimited {
                    message,
                    retry_after,
                };
            }
            _ => {}
        }
        match StatusCode::from(code) {
            StatusCode::InvalidParams => Error::InvalidParams { message },
            StatusCode::Unauthorized => Error::Unauthorized { message },
            StatusCode::NotFound => Error::NotFound { message },
            StatusCode::RateLimited => Error::RateLimited {
                message,
                retry_after,
            },
            StatusCode::InternalError => Error::Internal { message },
            StatusCode::UserNotFound => Error::UserNotFound { message },
            StatusCode::UserDisabled => Error::UserDisabled { message },
            StatusCode::InvalidApiKey => Error::InvalidApiKey { message },
            StatusCode::ApiKeyExpired => Error::ApiKeyExpired { message },
            StatusCode::InsufficientBalance => Error::InsufficientBalance { message },
            StatusCode::InsufficientTraffic => Error::InsufficientTraffic { message },
            StatusCode::WorkerNotFound => Error::WorkerNotFound { message },
            StatusCode::WorkerExecutionFailed => Error::WorkerExecutionFailed { message },
            StatusCode::WorkerVersionUnavailable => Error::WorkerVersionUnavailable { message },
            StatusCode::TaskNotFound => Error::TaskNotFound { message },
            StatusCode::RunNotFound => Error::RunNotFound { message },
            StatusCode::AbortFailed => Error::AbortFailed { message },
            StatusCode::Success | StatusCode::Unknown(_) => Error::Api {
                code,
                message,
                http_status,
            },
        }
    }

    /// The envelope code, when the service sent one, as v1 numbers it (a v2 11000 is 4000 here).
    pub fn code(&self) -> Option<i64> {
        let code = match self {
            Error::InvalidParams { .. } => StatusCode::InvalidParams,
            Error::Unauthorized { .. } => StatusCode::Unauthorized,
            Error::NotFound { .. } => StatusCode::NotFound,
            Error::RateLimited { .. } => StatusCode::RateLimited,
            Error::Internal { .. } => StatusCode::InternalError,
            Error::UserNotFound { .. } => StatusCode::UserNotFound,
            Error::UserDisabled { .. } => StatusCode::UserDisabled,
            Error::InvalidApiKey { .. } => StatusCode::InvalidApiKey,
            Error::ApiKeyExpired { .. } => StatusCode::ApiKeyExpired,
            Error::InsufficientBalance { .. } => StatusCode::InsufficientBalance,
            Error::InsufficientTraffic { .. } => StatusCode::InsufficientTraffic,
            Error::WorkerNotFound { .. } => StatusCode::WorkerNotFound,
            Error::WorkerExecutionFailed { .. } => StatusCode::WorkerExecutionFailed,
            Error::WorkerVersionUnavailable { .. } => StatusCode::WorkerVersionUnavailable,
            Error::TaskNotFound { .. } => StatusCode::TaskNotFound,
            Error::RunNotFound { .. } => StatusCode::RunNotFound,
            Error::AbortFailed { .. } => StatusCode::AbortFailed,
            Error::Api { code, .. } => return Some(*code),
            _ => return None,
        };
        Some(code.code())
    }

    /// The run this error concerns, when it keeps one (a wait that timed out).
    pub fn run_slug(&self) -> Option<&str> {
        match self {
            Error::Timeout { run_slug, .. } => run_slug.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_has_its_variant() {
        for code in StatusCode::ALL
            .iter()
            .filter(|c| **c != StatusCode::Success)
        {
            let e = Error::from_code(code.code(), "m", 400, None);
            assert_eq!(e.code(), Some(code.code()), "{e}");
            assert!(
                !matches!(e, Error::Api { .. }),
                "{code} fell through to Api"
            );
        }
        let other = Error::from_code(12345, "new", 200, None);
        assert_eq!(other.code(), Some(12345));
        assert!(matches!(
            other,
            Error::Api {
                http_status: 200,
                ..
            }
        ));
    }

    #[test]
    fn retryable_and_safe_to_repeat() {
        assert!(Error::from_code(4290, "", 200, None).is_retryable());
        assert!(Error::from_code(4290, "", 200, None).nothing_was_done());
        assert!(!Error::from_code(4000, "", 400, None).is_retryable());
        assert_eq!(
            Error::from_code(4000, "", 400, None).kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            Error::from_code(30001, "", 400, None).kind(),
            ErrorKind::Quota
        );
        let reset = Error::Transport(TransportError::new(
            clawkit_runtime::TransportKind::Body,
            None,
            "reset",
        ));
        assert!(reset.is_retryable() && !reset.nothing_was_done());
        let timeout = Error::Timeout {
            what: "waiting".into(),
            run_slug: Some("01K".into()),
        };
        assert!(!timeout.is_retryable());
        assert_eq!(timeout.run_slug(), Some("01K"));
        assert!(timeout.to_string().contains("01K"));
    }
}
