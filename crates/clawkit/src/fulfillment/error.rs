//! OpenClaw fulfillment errors: the spec's flat error body (`code`, `message`, `request_id`,
//! `details[]`) as [`ApiError`], its codes as [`Reason`], and what the client itself can fail at.

use clawkit_runtime::reply::Head;
use clawkit_runtime::webhook::WebhookError;
use clawkit_runtime::{Classify, ErrorKind, Verdict};
use serde::Deserialize;
use serde_json::Value;

use crate::FieldProblem;

crate::error::reasons! {
    /// What an error answer's `code` means. The spec's list is open: a code this client does not
    /// know is [`Reason::Unlisted`] and [`ApiError::code`](crate::ApiError::code) keeps its spelling.
    pub enum Reason {
        /// `invalid_request`: a body or query that does not fit the spec.
        InvalidRequest("invalid_request") => Final(InvalidInput),
        /// `invalid_time_format`: a time without an offset, or a Unix timestamp.
        InvalidTimeFormat("invalid_time_format") => Final(InvalidInput),
        /// `token_expired`: the access token is past its 2 hours (renewed and replayed once).
        TokenExpired("token_expired") => Final(Auth),
        /// `invalid_token`: an access token (or a spent refresh token) the service does not know.
        InvalidToken("invalid_token") => Final(Auth),
        /// `invalid_client`: a token call whose client credentials are not the signing app's.
        InvalidClient("invalid_client") => Final(Auth),
        /// `invalid_signature`: the request signature does not match (wrong client secret?).
        InvalidSignature("invalid_signature") => Final(Auth),
        // The runtime has learned the server's clock from this answer's Date: signing again
        // with it succeeds, and the refused request did nothing.
        /// `timestamp_out_of_range`: the signing time is more than 300 s from the server's clock.
        TimestampOutOfRange("timestamp_out_of_range") => Resend(Auth),
        /// `nonce_reused`: a nonce seen within 600 s (a replayed request).
        NonceReused("nonce_reused") => Final(Auth),
        /// `permission_denied`: the app may not do this.
        PermissionDenied("permission_denied") => Final(Auth),
        /// `order_not_found` or `not_found`.
        NotFound("order_not_found", "not_found") => Final(NotFound),
        /// `order_exists`: an order number already taken.
        OrderExists("order_exists") => Final(Conflict),
        /// `invalid_order_state`: the order's status does not allow it (cancelling a shipped order).
        InvalidOrderState("invalid_order_state") => Final(Conflict),
        /// `insufficient_ats`: the stock available to sell does not cover the request.
        InsufficientAts("insufficient_ats") => Final(Conflict),
        /// `conflict`: another state conflict.
        Conflict("conflict") => Final(Conflict),
        /// `rate_limited`: over a limit (order queries: 10 QPS).
        RateLimited("rate_limited") => Limit,
        /// `internal_error`.
        InternalError("internal_error") => Retry(Server),
    }
    unlisted => Status;
    flow => Flow;
    describe => describe;
}

/// An error answer of the service: its status, what its code means, the message, the
/// `request_id` to quote against the console's API call log, the fields `details` names, and the
/// body as sent.
pub type ApiError = crate::ApiError<Reason>;

/// An error from the OpenClaw fulfillment client. Secrets never appear in it.
pub type Error = crate::ServiceError<Reason>;

/// What the fulfillment client's own flows fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Flow {
    /// Writing a downloaded label failed.
    #[error("writing the label failed: {0}")]
    Io(#[from] std::io::Error),
    /// A webhook delivery was refused (signature, timestamp or body).
    #[error(transparent)]
    Webhook(#[from] WebhookError),
}

impl Classify for Flow {
    fn verdict(&self) -> Verdict {
        match self {
            Flow::Io(_) => Verdict::of(ErrorKind::Other).final_(),
            Flow::Webhook(_) => Verdict::of(ErrorKind::Auth).final_(),
        }
    }
}

impl From<WebhookError> for Error {
    fn from(e: WebhookError) -> Self {
        Flow::Webhook(e).into()
    }
}

impl From<clawkit_runtime::download::DownloadError> for Error {
    fn from(e: clawkit_runtime::download::DownloadError) -> Self {
        match e.split() {
            Ok(t) => Error::Transport(t),
            Err(io) => Flow::Io(io).into(),
        }
    }
}

fn describe(e: &ApiError, service: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    write!(f, "{service} HTTP {} `{}`: {}", e.status, e.code, e.message)?;
    let named: Vec<String> = e
        .fields
        .iter()
        .map(|d| format!("{}: {}", d.field, d.message))
        .collect();
    if !named.is_empty() {
        write!(f, " ({})", named.join("; "))?;
    }
    match &e.request_id {
        Some(id) => write!(f, " [request_id {id}]"),
        None => Ok(()),
    }
}

/// The service's error in a body `{code, message, request_id, details[{field, reason}]}`.
pub(crate) fn refusal(head: &Head, body: Value) -> Option<ApiError> {
    #[derive(Deserialize)]
    struct Body {
        code: String,
        #[serde(default)]
        message: String,
        #[serde(default)]
        request_id: Option<String>,
        #[serde(default)]
        details: Vec<Detail>,
    }
    #[derive(Deserialize)]
    struct Detail {
        field: String,
        reason: String,
    }
    let read = Body::deserialize(&body).ok()?;
    let fields = read
        .details
        .into_iter()
        .map(|d| FieldProblem {
            field: d.field,
            message: d.reason,
            code: String::new(),
        })
        .collect();
    Some(
        ApiError::answered(head, read.code, read.message, body)
            .with_request_id(read.request_id)
            .with_fields(fields),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_code_has_its_reason_and_others_are_unlisted() {
        use crate::error::Reasons;
        let of = |code: &str| <Reason as Reasons>::of(400, code);
        for (wire, reason) in Reason::CODES {
            assert_eq!(of(wire), *reason, "{wire}");
        }
        assert_eq!(of("order_not_found"), Reason::NotFound);
        assert_eq!(of("not_found"), Reason::NotFound);
        assert_eq!(of("invalid_client"), Reason::InvalidClient);
        assert_eq!(of("brand_new_code"), Reason::Unlisted);
        assert_eq!(Reason::CODES.len(), 17);
    }
}
