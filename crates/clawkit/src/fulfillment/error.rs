//! OpenClaw fulfillment errors: the spec's flat error body (`code`, `message`, `request_id`,
//! `details[]`) as [`ApiError`], its codes as [`Reason`], and what the client itself can fail at.

use clawkit_runtime::reply::Head;
use clawkit_runtime::{Classify, ErrorKind, Verdict};
use serde_json::Value;

use crate::error::ErrorBody;

/// What the fulfillment client's own flows fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Flow {
    /// Writing a downloaded label failed.
    #[error("writing the label failed: {0}")]
    Io(#[from] std::io::Error),
}

impl Classify for Flow {
    fn verdict(&self) -> Verdict {
        match self {
            Flow::Io(_) => Verdict::of(ErrorKind::Other).final_(),
        }
    }
}

crate::reasons::reasons! {
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
    let at = ErrorBody {
        code: "/code",
        message: &["/message"],
        request_id: Some("/request_id"),
        fields: Some("/details"),
    };
    ApiError::read(head, body, at)
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
