//! OpenClaw fulfillment errors: the spec's flat error body (`code`, `message`, `request_id`,
//! `details[]`) as [`ApiError`], its codes as [`Reason`], and what the client itself can fail at.

use std::time::Duration;

use clawkit_runtime::webhook::WebhookError;
use clawkit_runtime::{Classify, ConfigError, ErrorKind, TransportError, Verdict};

crate::error::wire_codes! {
    /// What an error answer's `code` means. The spec's list is open: a code this client does not
    /// know is [`Reason::Unlisted`] and [`ApiError::code`] keeps its spelling.
    pub enum Reason in REASONS {
        /// `invalid_request`: a body or query that does not fit the spec.
        InvalidRequest = "invalid_request",
        /// `invalid_time_format`: a time without an offset, or a Unix timestamp.
        InvalidTimeFormat = "invalid_time_format",
        /// `token_expired`: the access token is past its 2 hours (renewed and replayed once).
        TokenExpired = "token_expired",
        /// `invalid_token`: an access token (or a spent refresh token) the service does not know.
        InvalidToken = "invalid_token",
        /// `invalid_client`: a token call whose client credentials are not the signing app's.
        InvalidClient = "invalid_client",
        /// `invalid_signature`: the request signature does not match (wrong client secret?).
        InvalidSignature = "invalid_signature",
        /// `timestamp_out_of_range`: the signing time is more than 300 s from the server's clock.
        TimestampOutOfRange = "timestamp_out_of_range",
        /// `nonce_reused`: a nonce seen within 600 s (a replayed request).
        NonceReused = "nonce_reused",
        /// `permission_denied`: the app may not do this.
        PermissionDenied = "permission_denied",
        /// `order_not_found` or `not_found`.
        NotFound = "order_not_found" | "not_found",
        /// `order_exists`: an order number already taken.
        OrderExists = "order_exists",
        /// `invalid_order_state`: the order's status does not allow it (cancelling a shipped order).
        InvalidOrderState = "invalid_order_state",
        /// `insufficient_ats`: the stock available to sell does not cover the request.
        InsufficientAts = "insufficient_ats",
        /// `conflict`: another state conflict.
        Conflict = "conflict",
        /// `rate_limited`: over a limit (order queries: 10 QPS).
        RateLimited = "rate_limited",
        /// `internal_error`.
        InternalError = "internal_error",
    }
}

/// An error answer of the service: its status, what its code means, and the body as sent
/// (`code`, `message`, `request_id` to quote against the console's API call log, and `details`
/// naming fields).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// What `body.code` means.
    pub reason: Reason,
    /// `Retry-After`, when the answer gave one.
    pub retry_after: Option<Duration>,
    /// The error body.
    pub body: openclaw_fulfillment_api::types::Error,
}

impl ApiError {
    pub(crate) fn from_body(
        status: u16,
        body: openclaw_fulfillment_api::types::Error,
        retry_after: Option<Duration>,
    ) -> Self {
        ApiError {
            status,
            reason: Reason::of(&body.code),
            retry_after,
            body,
        }
    }

    /// What the answer says is wrong with field `field` (e.g. `updated_from`), if it names it.
    pub fn problem(&self, field: &str) -> Option<&str> {
        self.body
            .details
            .iter()
            .find(|d| d.field == field)
            .map(|d| d.reason.as_str())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = &self.body;
        write!(
            f,
            "OpenClaw fulfillment HTTP {} `{}`: {}",
            self.status, body.code, body.message
        )?;
        let named: Vec<String> = body
            .details
            .iter()
            .map(|d| format!("{}: {}", d.field, d.reason))
            .collect();
        if !named.is_empty() {
            write!(f, " ({})", named.join("; "))?;
        }
        write!(f, " [request_id {}]", body.request_id)
    }
}

/// An error from the OpenClaw fulfillment client. Secrets never appear in it.
#[allow(missing_docs)] // `Decode`'s fields are described on the variant
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No usable answer: the connection failed or broke off, or an HTTP answer came without the
    /// service's error body.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The service answered with its error body (after the retries that were safe).
    #[error("{0}")]
    Api(Box<ApiError>),
    /// An answer that is not the documented shape: `path` names the field, `message` says why.
    #[error("cannot decode the response at `{path}`: {message}")]
    Decode { path: String, message: String },
    /// The client is set up wrong (credentials not given, a bad base URL).
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    /// An argument was refused before anything was sent; the message names it.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Writing a downloaded label failed.
    #[error("writing the label failed: {0}")]
    Io(#[from] std::io::Error),
    /// A webhook delivery was refused (signature, timestamp or body).
    #[error(transparent)]
    Webhook(#[from] WebhookError),
}

crate::error::api_error_access!(Error, ApiError, Reason, REASONS);

impl From<clawkit_runtime::download::DownloadError> for Error {
    fn from(e: clawkit_runtime::download::DownloadError) -> Self {
        match e.split() {
            Ok(t) => Error::Transport(t),
            Err(io) => Error::Io(io),
        }
    }
}

fn api_verdict(e: &ApiError) -> Verdict {
    let kind = match e.reason {
        // The runtime has learned the server's clock from this answer's Date: signing again
        // with it succeeds, and the refused request did nothing.
        Reason::TimestampOutOfRange => {
            return Verdict {
                transient: true,
                not_processed: true,
                ..Verdict::of(ErrorKind::Auth)
            };
        }
        Reason::RateLimited => return Verdict::of(ErrorKind::RateLimit).retry_after(e.retry_after),
        Reason::InternalError => return Verdict::of(ErrorKind::Server).retry_after(e.retry_after),
        Reason::TokenExpired
        | Reason::InvalidToken
        | Reason::InvalidClient
        | Reason::InvalidSignature
        | Reason::NonceReused
        | Reason::PermissionDenied => ErrorKind::Auth,
        Reason::NotFound => ErrorKind::NotFound,
        Reason::OrderExists
        | Reason::InvalidOrderState
        | Reason::InsufficientAts
        | Reason::Conflict => ErrorKind::Conflict,
        Reason::InvalidRequest | Reason::InvalidTimeFormat => ErrorKind::InvalidInput,
        Reason::Unlisted => return Verdict::from_status(e.status).retry_after(e.retry_after),
    };
    Verdict::of(kind).final_()
}

impl Classify for Error {
    fn verdict(&self) -> Verdict {
        let kind = match self {
            Error::Transport(t) => return t.verdict(),
            Error::Api(e) => return api_verdict(e),
            Error::Webhook(_) => ErrorKind::Auth,
            Error::Decode { .. } => ErrorKind::Transport,
            Error::InvalidArgument(_) => ErrorKind::InvalidInput,
            Error::Io(_) => ErrorKind::Other,
            Error::Config(_) => ErrorKind::Config,
        };
        Verdict::of(kind).final_()
    }
}

crate::error::vendor_error!(Error);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_code_has_its_reason_and_others_are_unlisted() {
        for (wire, reason) in REASONS {
            assert_eq!(Reason::of(wire), *reason, "{wire}");
        }
        assert_eq!(Reason::of("order_not_found"), Reason::NotFound);
        assert_eq!(Reason::of("not_found"), Reason::NotFound);
        assert_eq!(Reason::of("invalid_client"), Reason::InvalidClient);
        assert_eq!(Reason::of("brand_new_code"), Reason::Unlisted);
        assert_eq!(REASONS.len(), 17);
    }
}
