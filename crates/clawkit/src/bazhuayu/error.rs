//! Bazhuayu's errors, from the `{data, error, error_Description}` envelope, the OAuth error body
//! of `/token`, and the HTTP status (the seed's status table).

use std::time::Duration;

use clawkit_runtime::{Classify, ConfigError, ErrorKind, TransportError, Verdict};

/// An error from the Bazhuayu client. Secrets never appear in it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 400 `invalid_grant`: wrong user name or password (or a refresh token that is no good).
    #[error(
        "Bazhuayu 400 invalid_grant: {description} (check BAZHUAYU_USERNAME and BAZHUAYU_PASSWORD)"
    )]
    InvalidGrant {
        /// The service's description.
        description: String,
    },
    /// 400 `unsupported_grant_type`: the token request was malformed.
    #[error("Bazhuayu 400 unsupported_grant_type: {description}")]
    UnsupportedGrantType {
        /// The service's description.
        description: String,
    },
    /// 400: a parameter is wrong.
    #[error("Bazhuayu 400 {error}: {description}")]
    BadRequest {
        /// The envelope's error code.
        error: String,
        /// The service's description.
        description: String,
    },
    /// 401 `unauthorized`: the access token was refused even after getting a new one.
    #[error("Bazhuayu 401 unauthorized: {description}")]
    Unauthorized {
        /// The service's description.
        description: String,
    },
    /// 403 `user_not_allowed`: the account's plan does not include this API (the DataAPI needs the
    /// flagship plan; start/stop/status are a paid add-on).
    #[error("Bazhuayu 403 user_not_allowed: {description} (the plan does not include this API)")]
    Forbidden {
        /// The service's description.
        description: String,
    },
    /// 404 `not_found`.
    #[error("Bazhuayu 404 not_found: {description}")]
    NotFound {
        /// The service's description.
        description: String,
    },
    /// 405 `method_not_allowed`.
    #[error("Bazhuayu 405 method_not_allowed: {description}")]
    MethodNotAllowed {
        /// The service's description.
        description: String,
    },
    /// 429 `quota_exceeded`, still there after the retries.
    #[error("Bazhuayu 429 quota_exceeded after retries: {description}")]
    QuotaExceeded {
        /// The service's description.
        description: String,
        /// `Retry-After`, if sent.
        retry_after: Option<Duration>,
    },
    /// 503 `service_unavailable`, still there after the retries.
    #[error("Bazhuayu 503 service_unavailable: {description}")]
    ServiceUnavailable {
        /// The service's description.
        description: String,
    },
    /// Any other answer.
    #[error("Bazhuayu HTTP {status} {error}: {description}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The envelope's error code.
        error: String,
        /// The service's description.
        description: String,
    },
    /// The connection failed, the answer broke off or ended early, or an HTTP answer came
    /// without Bazhuayu's envelope.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A response did not have the documented shape.
    #[error("cannot decode the response at `{path}`: {message}")]
    Decode {
        /// Path of the field that failed.
        path: String,
        /// Why.
        message: String,
    },
    /// An offset stream broke off; resume with `.from_offset(resume_offset)`.
    #[error("the data stream stopped ({source}); resume from offset {resume_offset}")]
    Stream {
        /// The offset to resume from (every row before it was delivered).
        resume_offset: i64,
        /// What went wrong.
        source: Box<Error>,
    },
    /// The export sink failed: the batch was not marked exported and will come again.
    #[error(
        "the export sink failed on a batch of {rows} rows (it will be delivered again): {source}"
    )]
    Sink {
        /// Rows in the batch.
        rows: usize,
        /// The sink's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An argument is out of range (nothing was sent).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The client is set up wrong (credentials not given, a bad base URL).
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
}

impl Error {
    /// The error for an HTTP status and envelope error code.
    pub fn from_status(
        status: u16,
        error: &str,
        description: impl Into<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        let description = description.into();
        match (status, error) {
            (_, "invalid_grant") => Error::InvalidGrant { description },
            (_, "unsupported_grant_type") => Error::UnsupportedGrantType { description },
            (401, _) | (_, "unauthorized") => Error::Unauthorized { description },
            (403, _) | (_, "user_not_allowed") => Error::Forbidden { description },
            (404, _) | (_, "not_found") => Error::NotFound { description },
            (405, _) | (_, "method_not_allowed") => Error::MethodNotAllowed { description },
            (429, _) | (_, "quota_exceeded") => Error::QuotaExceeded {
                description,
                retry_after,
            },
            (503, _) | (_, "service_unavailable") => Error::ServiceUnavailable { description },
            (400, _) => Error::BadRequest {
                error: error.to_string(),
                description,
            },
            _ => Error::Api {
                status,
                error: error.to_string(),
                description,
            },
        }
    }
}

impl Classify for Error {
    fn verdict(&self) -> Verdict {
        let kind = match self {
            Error::Transport(t) => return t.verdict(),
            // A broken stream is as retryable as what broke it: resume from the offset.
            Error::Stream { source, .. } => return source.verdict(),
            Error::Api { status, .. } => return Verdict::from_status(*status),
            Error::QuotaExceeded { retry_after, .. } => {
                return Verdict::of(ErrorKind::RateLimit).retry_after(*retry_after);
            }
            Error::ServiceUnavailable { .. } => return Verdict::of(ErrorKind::Server),
            Error::InvalidGrant { .. } | Error::Unauthorized { .. } | Error::Forbidden { .. } => {
                ErrorKind::Auth
            }
            Error::UnsupportedGrantType { .. }
            | Error::BadRequest { .. }
            | Error::MethodNotAllowed { .. }
            | Error::InvalidArgument(_) => ErrorKind::InvalidInput,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Decode { .. } => ErrorKind::Transport,
            Error::Sink { .. } => ErrorKind::Other,
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
    fn the_seed_status_table_maps_to_variants() {
        let cases = [
            (400, "invalid_grant"),
            (400, "unsupported_grant_type"),
            (401, "unauthorized"),
            (403, "user_not_allowed"),
            (404, "not_found"),
            (405, "method_not_allowed"),
            (429, "quota_exceeded"),
            (503, "service_unavailable"),
        ];
        for (status, code) in cases {
            let e = Error::from_status(status, code, "d", None);
            assert!(
                !matches!(e, Error::Api { .. } | Error::BadRequest { .. }),
                "{status} {code}: {e:?}"
            );
        }
        assert!(Error::from_status(429, "quota_exceeded", "", None).is_retryable());
        assert!(Error::from_status(429, "quota_exceeded", "", None).nothing_was_done());
        assert_eq!(
            Error::from_status(403, "user_not_allowed", "", None).kind(),
            ErrorKind::Auth
        );
        assert!(Error::from_status(502, "", "", None).is_retryable());
        assert!(!Error::from_status(400, "invalid_grant", "", None).is_retryable());
        assert!(matches!(
            Error::from_status(418, "teapot", "", None),
            Error::Api { status: 418, .. }
        ));
    }
}
