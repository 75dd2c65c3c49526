//! Bazhuayu's errors, from the `{data, error, error_Description}` envelope, the OAuth error body
//! of `/token`, and the HTTP status (the seed's status table).

use std::time::Duration;

use crate::transport::retry::Retry;

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
    /// A connection that failed, or a body that broke off.
    #[error("HTTP error{}: {message}", status.map(|s| format!(" {s}")).unwrap_or_default())]
    Http {
        /// HTTP status, when there was an answer.
        status: Option<u16>,
        /// What happened.
        message: String,
    },
    /// A request took too long.
    #[error("timed out: {0}")]
    Timeout(String),
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
    /// The client is set up wrong, or an argument is out of range.
    #[error("configuration error: {0}")]
    Config(String),
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

    /// Whether the same request may succeed later: 429, 503, 502/504, broken connections or
    /// bodies, timeouts.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::QuotaExceeded { .. } | Error::ServiceUnavailable { .. } | Error::Timeout(_) => {
                true
            }
            Error::Http { status: None, .. } => true,
            Error::Http {
                status: Some(s), ..
            }
            | Error::Api { status: s, .. } => matches!(s, 429 | 500 | 502 | 503 | 504),
            _ => false,
        }
    }
}

impl Retry for Error {
    fn should_retry(&self) -> bool {
        self.is_retryable()
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::QuotaExceeded { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

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
        assert!(!Error::from_status(400, "invalid_grant", "", None).is_retryable());
        assert!(matches!(
            Error::from_status(418, "teapot", "", None),
            Error::Api { status: 418, .. }
        ));
    }
}
