//! bots.win errors: the `{error, message}` body as [`ApiError`], its codes as [`Reason`], the
//! browser handshake's refusals, and what the client itself refuses before asking.

use std::time::Duration;

use clawkit_runtime::relay::RelayError;
use clawkit_runtime::{Classify, ConfigError, ErrorKind, TransportError, Verdict};

crate::error::wire_codes! {
    /// What an error answer's `error` code means. The list is the spec's (all inferred: the seed
    /// documents no error); a code this client does not know is [`Reason::Unlisted`] and
    /// [`ApiError::code`] keeps its spelling.
    pub enum Reason in REASONS {
        /// `unauthorized`: the token is missing, wrong or revoked.
        Unauthorized = "unauthorized",
        /// `not_found`: no such User Data container.
        NotFound = "not_found",
        /// `user_data_locked`: the container is in use by a live session.
        UserDataLocked = "user_data_locked",
        /// `user_data_quota_exceeded`: as many containers as the plan allows (`userDataMax`).
        UserDataQuotaExceeded = "user_data_quota_exceeded",
        /// `insufficient_balance`: the quota cannot pay the first minute of a session.
        InsufficientBalance = "insufficient_balance",
        /// `too_many_sessions`: as many live sessions as the plan allows (`maxSessions`).
        TooManySessions = "too_many_sessions",
        /// `invalid_parameter`: a parameter that cannot be read (the message names it).
        InvalidParameter = "invalid_parameter",
        /// `invalid_range`: a history range whose start is after its end.
        InvalidRange = "invalid_range",
        /// `upgrade_required`: the browser endpoint was called without a WebSocket upgrade.
        UpgradeRequired = "upgrade_required",
        /// `rate_limited`.
        RateLimited = "rate_limited",
    }
}

/// An error answer of the service (REST call or browser handshake).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The `error` code as sent.
    pub code: String,
    /// What `code` means.
    pub reason: Reason,
    /// HTTP status.
    pub status: u16,
    /// The human-readable `message`, when sent.
    pub message: Option<String>,
    /// `Retry-After`, when the answer gave one.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub(crate) fn from_body(
        status: u16,
        body: botswin_api::types::Error,
        retry_after: Option<Duration>,
    ) -> Self {
        ApiError {
            status,
            reason: Reason::of(&body.error),
            code: body.error,
            message: body.message,
            retry_after,
        }
    }

    /// A refused browser handshake: the body is the service's error when it parses, else a
    /// snippet of it.
    pub(crate) fn from_handshake(status: u16, body: &[u8]) -> Self {
        match serde_json::from_slice::<botswin_api::types::Error>(body) {
            Ok(body) => Self::from_body(status, body, None),
            Err(_) => ApiError {
                status,
                reason: Reason::Unlisted,
                code: format!("http_{status}"),
                message: Some(String::from_utf8_lossy(&body[..body.len().min(200)]).into()),
                retry_after: None,
            },
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bots.win HTTP {} `{}`", self.status, self.code)?;
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

/// An error from the bots.win client. Neither the token nor a URL holding it appears in it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// bots.win refused: its `{error, message}` body, from a REST call or a browser handshake.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The preflight found too little quota for the job: nothing was started.
    #[error(
        "not enough bots.win quota: {minutes} minute(s) at {rate} unit(s) a minute need {needed} unit(s), {remaining} remain"
    )]
    InsufficientQuota {
        /// Minutes asked for.
        minutes: u32,
        /// Units a minute (`pricing.effectiveRate`).
        rate: f64,
        /// Units they cost.
        needed: f64,
        /// Units left (`remainingQuota`).
        remaining: f64,
    },
    /// The browser WebSocket could not be opened (the message names no URL: it holds the token).
    #[error("cannot open the browser session: {0}")]
    Session(String),
    /// Refused here, before any request: the message starts with the argument's name.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The connection failed or broke off, or an HTTP answer came without bots.win's error body.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A body of the wrong shape: `path` is the field, `message` what was wrong with it.
    #[error("cannot decode the response at `{path}`: {message}")]
    Decode {
        /// The field.
        path: String,
        /// What was wrong with it.
        message: String,
    },
    /// No token, or a base URL that cannot be used.
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
}

crate::error::api_error_access!(Error, ApiError, Reason, REASONS);

impl From<RelayError> for Error {
    fn from(e: RelayError) -> Self {
        match e {
            RelayError::Refused { status, body } => ApiError::from_handshake(status, &body).into(),
            other => Error::Session(other.to_string()),
        }
    }
}

fn api_verdict(e: &ApiError) -> Verdict {
    let kind = match e.reason {
        Reason::RateLimited => return Verdict::of(ErrorKind::RateLimit).retry_after(e.retry_after),
        Reason::Unauthorized => ErrorKind::Auth,
        Reason::NotFound => ErrorKind::NotFound,
        // Free again only when another session ends, which may take hours: not retried here
        // (a `UserDataGuard` waits for its own session to release the container).
        Reason::UserDataLocked
        | Reason::TooManySessions
        | Reason::UserDataQuotaExceeded
        | Reason::InsufficientBalance => ErrorKind::Conflict,
        Reason::InvalidParameter | Reason::InvalidRange | Reason::UpgradeRequired => {
            ErrorKind::InvalidInput
        }
        Reason::Unlisted => return Verdict::from_status(e.status).retry_after(e.retry_after),
    };
    Verdict::of(kind).final_()
}

impl Classify for Error {
    fn verdict(&self) -> Verdict {
        let kind = match self {
            Error::Transport(t) => return t.verdict(),
            Error::Api(e) => return api_verdict(e),
            Error::Decode { .. } => ErrorKind::Transport,
            Error::InvalidArgument(_) => ErrorKind::InvalidInput,
            Error::Config(_) => ErrorKind::Config,
            Error::InsufficientQuota { .. } => ErrorKind::Conflict,
            Error::Session(_) => ErrorKind::Transport,
        };
        Verdict::of(kind).final_()
    }
}

crate::error::vendor_error!(Error);
