//! CoreClaw's errors: its envelope codes (v1's and v2's onto one [`Reason`] each), an input that
//! does not match the Worker's live schema ([`InputErrors`]), and what the client's own flows
//! fail at.
//!
//! The envelope's `code` is the truth whatever the HTTP status: 4000 arrives with HTTP 400, 4290
//! may arrive with HTTP 200, and both read the same here.

use std::fmt;

use clawkit_runtime::reply::Head;
use clawkit_runtime::{Classify, ErrorKind, Verdict};
pub use coreclaw_api::enums::StatusCode;
use serde_json::Value;

use crate::error::ErrorBody;

/// What the CoreClaw client's own flows fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Flow {
    /// A wait took too long. The run is not lost: `run_slug` says which run to resume.
    #[error("timed out {what}{}", run_slug.as_ref().map(|s| format!(" (run {s} is not lost: resume with Client::run)")).unwrap_or_default())]
    Timeout {
        /// What was being waited for.
        what: String,
        /// The run concerned, if any.
        run_slug: Option<String>,
    },
    /// The input does not match the Worker's live schema: nothing was sent, nothing was spent.
    #[error("{0}")]
    InvalidInput(#[from] InputErrors),
    /// Writing an export or log file failed.
    #[error("writing the output failed: {0}")]
    Io(#[from] std::io::Error),
    /// Writing to object storage failed (feature `object-store`): a bad destination URL, missing
    /// credentials, or the store's refusal.
    #[cfg(feature = "object-store")]
    #[error(transparent)]
    Storage(#[from] clawkit_runtime::objects::ObjectError),
}

impl Classify for Flow {
    fn verdict(&self) -> Verdict {
        let kind = match self {
            // Waiting again is the caller's decision: the error keeps the run slug.
            Flow::Timeout { .. } => ErrorKind::Timeout,
            Flow::InvalidInput(_) => ErrorKind::InvalidInput,
            Flow::Io(_) => ErrorKind::Other,
            #[cfg(feature = "object-store")]
            Flow::Storage(_) => ErrorKind::Other,
        };
        Verdict::of(kind).final_()
    }
}

crate::reasons::reasons! {
    /// What an envelope `code` means: v1's codes (the first spelling, how [`Error::code`] numbers
    /// it) and v2's onto the same reasons (11000 is `InvalidParams` like 4000, 12001
    /// `Unauthorized`, 12002 `InvalidApiKey`, 13000 `RateLimited`, 11004 `NotFound`, 10000 and
    /// 14000 `Internal`). Any other code is [`Reason::Unlisted`], kept in
    /// [`ApiError::code`](crate::ApiError::code).
    pub enum Reason {
        /// 4000: the request's parameters are invalid. Check names and types against the
        /// Worker's live schema (`Client::worker`).
        InvalidParams("4000", "11000") => Final(InvalidInput),
        /// 4010: not authorized for this resource.
        Unauthorized("4010", "12001") => Final(Auth),
        /// 4040: not found.
        NotFound("4040", "11004") => Final(NotFound),
        /// 4290 or HTTP 429, still there after the retries.
        RateLimited("4290", "13000") => Limit,
        /// 5000: internal error at CoreClaw.
        Internal("5000", "10000", "14000") => Retry(Server),
        /// 10001: the user does not exist.
        UserNotFound("10001") => Final(NotFound),
        /// 10002: the user is disabled.
        UserDisabled("10002") => Final(Auth),
        /// 20001: the API key is invalid.
        InvalidApiKey("20001", "12002") => Final(Auth),
        /// 20002: the API key has expired.
        ApiKeyExpired("20002") => Final(Auth),
        /// 30001: the balance is too low: top up the account.
        InsufficientBalance("30001") => Final(Quota),
        /// 30002: the traffic quota is used up.
        InsufficientTraffic("30002") => Final(Quota),
        /// 50001: no Worker with this slug.
        WorkerNotFound("50001") => Final(NotFound),
        /// 50002: the Worker failed to execute.
        WorkerExecutionFailed("50002") => Final(Server),
        /// 50003: the Worker version is not available: read the Worker again for its current
        /// version.
        WorkerVersionUnavailable("50003") => Final(Conflict),
        /// 60001: no saved task with this slug.
        TaskNotFound("60001") => Final(NotFound),
        /// 70001: no run with this slug.
        RunNotFound("70001") => Final(NotFound),
        /// 70002: the run could not be aborted (for example, it already ended).
        AbortFailed("70002") => Final(Conflict),
    }
    unlisted => FinalStatus;
    flow => Flow;
    describe => describe;
}

impl From<InputErrors> for Error {
    fn from(e: InputErrors) -> Self {
        Flow::InvalidInput(e).into()
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Flow::Io(e).into()
    }
}

#[cfg(feature = "object-store")]
impl From<clawkit_runtime::objects::ObjectError> for Error {
    fn from(e: clawkit_runtime::objects::ObjectError) -> Self {
        Flow::Storage(e).into()
    }
}

impl Error {
    /// The envelope code, when the service sent one, as v1 numbers it (a v2 11000 is 4000 here).
    pub fn code(&self) -> Option<i64> {
        let api = self.api()?;
        api.reason.spelled().unwrap_or(&api.code).parse().ok()
    }

    /// The run this error concerns, when it keeps one (a wait that timed out).
    pub fn run_slug(&self) -> Option<&str> {
        match self.flow() {
            Some(Flow::Timeout { run_slug, .. }) => run_slug.as_deref(),
            _ => None,
        }
    }
}

fn describe(e: &ApiError, service: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let m = &e.message;
    let (what, hint) = match e.reason {
        Reason::RateLimited => {
            return write!(
                f,
                "{service} rate limit (4290) still hit after retries: {m}"
            );
        }
        Reason::Unlisted => return write!(f, "{service} {}: {m} (HTTP {})", e.code, e.status),
        Reason::InvalidParams => ("invalid parameters", None),
        Reason::Unauthorized => ("unauthorized", None),
        Reason::NotFound => ("not found", None),
        Reason::Internal => ("internal error", None),
        Reason::UserNotFound => ("user does not exist", None),
        Reason::UserDisabled => ("user disabled", None),
        Reason::InvalidApiKey => ("invalid API key", Some("check CORECLAW_API_KEY")),
        Reason::ApiKeyExpired => ("API key expired", Some("create a new key in the console")),
        Reason::InsufficientBalance => ("insufficient balance", Some("top up the account")),
        Reason::InsufficientTraffic => ("insufficient traffic", Some("buy a traffic package")),
        Reason::WorkerNotFound => ("Worker not found", Some("check the scraper_slug")),
        Reason::WorkerExecutionFailed => ("Worker execution failed", None),
        Reason::WorkerVersionUnavailable => {
            ("Worker version unavailable", Some("read the Worker again"))
        }
        Reason::TaskNotFound => ("task not found", None),
        Reason::RunNotFound => ("run not found", None),
        Reason::AbortFailed => ("abort failed", None),
    };
    let code = e.reason.spelled().unwrap_or(&e.code);
    match hint {
        Some(hint) => write!(f, "{service} {code} {what}: {hint} ({m})"),
        None => write!(f, "{service} {code} {what}: {m}"),
    }
}

/// CoreClaw's envelope `{code, message, data}` (v1 or v2, an error body or a success status's):
/// an error unless `code` is 0.
pub(crate) fn refusal(head: &Head, body: Value) -> Option<ApiError> {
    let at = ErrorBody {
        code: "/code",
        message: &["/message"],
        request_id: None,
        fields: None,
    };
    ApiError::read(head, body, at).filter(|e| e.code != "0")
}

/// One thing wrong with an input.
#[derive(Debug, Clone, PartialEq)]
pub enum InputProblem {
    /// A field the Worker does not take.
    UnknownField {
        /// The field.
        name: String,
        /// The closest known names.
        suggestions: Vec<String>,
    },
    /// A value of the wrong type.
    WrongType {
        /// The field (a path for nested values).
        name: String,
        /// The type the Worker declares.
        expected: String,
        /// The type given.
        got: String,
    },
    /// A required field is missing.
    MissingRequired {
        /// The field.
        name: String,
    },
    /// Any other constraint (bounds, choices, system parameters).
    Invalid {
        /// The field.
        name: String,
        /// Why.
        message: String,
    },
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputProblem::UnknownField { name, suggestions } if suggestions.is_empty() => {
                write!(f, "`{name}`: unknown field")
            }
            InputProblem::UnknownField { name, suggestions } => {
                write!(
                    f,
                    "`{name}`: unknown field; did you mean {}?",
                    suggestions
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )
            }
            InputProblem::WrongType {
                name,
                expected,
                got,
            } => {
                write!(f, "`{name}`: expected {expected}, got {got}")
            }
            InputProblem::MissingRequired { name } => {
                write!(f, "`{name}`: required field is missing")
            }
            InputProblem::Invalid { name, message } => write!(f, "`{name}`: {message}"),
        }
    }
}

/// Every problem of an input, found at once.
#[derive(Debug, Clone, PartialEq)]
pub struct InputErrors {
    /// The Worker.
    pub worker: String,
    /// Its version.
    pub version: String,
    /// The problems.
    pub problems: Vec<InputProblem>,
}

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the input does not match Worker {} {} ({} problem{}): ",
            self.worker,
            self.version,
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" }
        )?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(code: i64, status: u16) -> Error {
        ApiError::new(status, code.to_string(), "m").into()
    }

    #[test]
    fn every_documented_code_has_its_reason() {
        for code in StatusCode::ALL
            .iter()
            .filter(|c| **c != StatusCode::Success)
        {
            let e = answer(code.code(), 400);
            assert_eq!(e.code(), Some(code.code()), "{e}");
            assert!(
                e.reason() != Some(Reason::Unlisted),
                "{code} fell through to Unlisted"
            );
        }
        let other = answer(12345, 200);
        assert_eq!(other.code(), Some(12345));
        assert_eq!(other.reason(), Some(Reason::Unlisted));
        assert_eq!(other.api().map(|a| a.status), Some(200));
    }

    #[test]
    fn retryable_and_safe_to_repeat() {
        assert!(answer(4290, 200).is_retryable());
        assert!(answer(4290, 200).nothing_was_done());
        assert!(!answer(4000, 400).is_retryable());
        assert_eq!(answer(4000, 400).kind(), ErrorKind::InvalidInput);
        assert_eq!(answer(30001, 400).kind(), ErrorKind::Quota);
        let reset = Error::Transport(clawkit_runtime::TransportError::new(
            clawkit_runtime::TransportKind::Body,
            None,
            "reset",
        ));
        assert!(reset.is_retryable() && !reset.nothing_was_done());
        let timeout: Error = Flow::Timeout {
            what: "waiting".into(),
            run_slug: Some("01K".into()),
        }
        .into();
        assert!(!timeout.is_retryable());
        assert_eq!(timeout.run_slug(), Some("01K"));
        assert!(timeout.to_string().contains("01K"));
    }
}
