//! bots.win errors: the `{error, message}` body as [`ApiError`], its codes as [`Reason`], the
//! browser handshake's refusals, and what the client itself refuses before asking.

use clawkit_runtime::relay::RelayError;
use clawkit_runtime::reply::Head;
use clawkit_runtime::{Classify, ErrorKind, Verdict};
use serde_json::Value;

use crate::error::ErrorBody;

/// What the bots.win client's own flows fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Flow {
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
}

impl Classify for Flow {
    fn verdict(&self) -> Verdict {
        match self {
            Flow::InsufficientQuota { .. } => Verdict::of(ErrorKind::Conflict).final_(),
            Flow::Session(_) => Verdict::of(ErrorKind::Transport).final_(),
        }
    }
}

crate::reasons::reasons! {
    /// What an error answer's `error` code means. The list is the spec's (all inferred: the seed
    /// documents no error); a code this client does not know is [`Reason::Unlisted`] and
    /// [`ApiError::code`](crate::ApiError::code) keeps its spelling.
    pub enum Reason {
        /// `unauthorized`: the token is missing, wrong or revoked.
        Unauthorized("unauthorized") => Final(Auth),
        /// `not_found`: no such User Data container.
        NotFound("not_found") => Final(NotFound),
        // Locked containers, sessions and quota are free again only when another session ends,
        // which may take hours: not retried here (a `UserDataGuard` waits for its own session to
        // release the container).
        /// `user_data_locked`: the container is in use by a live session.
        UserDataLocked("user_data_locked") => Final(Conflict),
        /// `user_data_quota_exceeded`: as many containers as the plan allows (`userDataMax`).
        UserDataQuotaExceeded("user_data_quota_exceeded") => Final(Conflict),
        /// `insufficient_balance`: the quota cannot pay the first minute of a session.
        InsufficientBalance("insufficient_balance") => Final(Conflict),
        /// `too_many_sessions`: as many live sessions as the plan allows (`maxSessions`).
        TooManySessions("too_many_sessions") => Final(Conflict),
        /// `invalid_parameter`: a parameter that cannot be read (the message names it).
        InvalidParameter("invalid_parameter") => Final(InvalidInput),
        /// `invalid_range`: a history range whose start is after its end.
        InvalidRange("invalid_range") => Final(InvalidInput),
        /// `upgrade_required`: the browser endpoint was called without a WebSocket upgrade.
        UpgradeRequired("upgrade_required") => Final(InvalidInput),
        /// `rate_limited`.
        RateLimited("rate_limited") => Limit,
    }
    unlisted => Status;
    flow => Flow;
    describe => describe;
}

fn describe(e: &ApiError, service: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    write!(f, "{service} HTTP {} `{}`", e.status, e.code)?;
    if !e.message.is_empty() {
        write!(f, ": {}", e.message)?;
    }
    Ok(())
}

/// The service's error in a body `{error, message}`.
pub(crate) fn refusal(head: &Head, body: Value) -> Option<ApiError> {
    let at = ErrorBody {
        code: "/error",
        message: &["/message"],
        request_id: None,
        fields: None,
    };
    ApiError::read(head, body, at)
}

/// A refused browser handshake: the body is the service's error when it parses, else a snippet
/// of it.
fn handshake(status: u16, body: &[u8]) -> ApiError {
    let head = Head {
        status,
        headers: Default::default(),
    };
    let parsed = serde_json::from_slice(body)
        .ok()
        .and_then(|value| refusal(&head, value));
    parsed.unwrap_or_else(|| {
        ApiError::new(
            status,
            format!("http_{status}"),
            String::from_utf8_lossy(&body[..body.len().min(200)]),
        )
    })
}

impl From<RelayError> for Error {
    fn from(e: RelayError) -> Self {
        match e {
            RelayError::Refused { status, body } => handshake(status, &body).into(),
            other => Flow::Session(other.to_string()).into(),
        }
    }
}
