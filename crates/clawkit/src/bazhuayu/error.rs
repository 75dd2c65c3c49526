//! Bazhuayu's errors, from the `{data, error, error_Description}` envelope, the OAuth error body
//! of `/token`, and the HTTP status (the seed's status table).

use clawkit_runtime::reply::Head;
use clawkit_runtime::{Classify, ErrorKind, Verdict};
use serde_json::Value;

use crate::error::ErrorBody;

/// What the Bazhuayu client's own flows fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Flow {
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
}

impl Classify for Flow {
    fn verdict(&self) -> Verdict {
        match self {
            // A broken stream is as retryable as what broke it: resume from the offset.
            Flow::Stream { source, .. } => source.verdict(),
            Flow::Sink { .. } => Verdict::of(ErrorKind::Other).final_(),
        }
    }
}

crate::reasons::reasons! {
    /// What an error answer means, by its `error` code or, where the seed's status table says so,
    /// its HTTP status (a 401 is `Unauthorized` whatever its code). Any other answer is
    /// [`Reason::Unlisted`], its code kept in [`ApiError::code`](crate::ApiError::code).
    pub enum Reason {
        /// 400 `invalid_grant`: wrong user name or password (or a refresh token that is no good).
        InvalidGrant("invalid_grant") => Final(Auth),
        /// 400 `unsupported_grant_type`: the token request was malformed.
        UnsupportedGrantType("unsupported_grant_type") => Final(InvalidInput),
        /// 401 `unauthorized`: the access token was refused even after getting a new one.
        Unauthorized("unauthorized"; 401) => Final(Auth),
        /// 403 `user_not_allowed`: the account's plan does not include this API (the DataAPI needs
        /// the flagship plan; start/stop/status are a paid add-on).
        Forbidden("user_not_allowed"; 403) => Final(Auth),
        /// 404 `not_found`.
        NotFound("not_found"; 404) => Final(NotFound),
        /// 405 `method_not_allowed`.
        MethodNotAllowed("method_not_allowed"; 405) => Final(InvalidInput),
        /// 429 `quota_exceeded`, still there after the retries.
        QuotaExceeded("quota_exceeded"; 429) => Limit,
        /// 503 `service_unavailable`, still there after the retries.
        ServiceUnavailable("service_unavailable"; 503) => Retry(Server),
        /// 400 with any other code: a parameter is wrong.
        BadRequest(; 400) => Final(InvalidInput),
    }
    unlisted => Status;
    flow => Flow;
    describe => describe;
}

fn describe(e: &ApiError, service: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    let d = &e.message;
    match e.reason {
        Reason::InvalidGrant => write!(
            f,
            "{service} 400 invalid_grant: {d} (check BAZHUAYU_USERNAME and BAZHUAYU_PASSWORD)"
        ),
        Reason::Forbidden => write!(
            f,
            "{service} 403 user_not_allowed: {d} (the plan does not include this API)"
        ),
        Reason::QuotaExceeded => write!(f, "{service} 429 quota_exceeded after retries: {d}"),
        Reason::BadRequest => write!(f, "{service} 400 {}: {d}", e.code),
        Reason::Unlisted => write!(f, "{service} HTTP {} {}: {d}", e.status, e.code),
        listed => write!(
            f,
            "{service} {} {}: {d}",
            listed.status().unwrap_or(e.status),
            listed.spelled().unwrap_or(&e.code)
        ),
    }
}

/// Bazhuayu's error fields, in an envelope or an OAuth error body (either spelling of the
/// description): an error unless `error` is `success`.
pub(crate) fn refusal(head: &Head, body: Value) -> Option<ApiError> {
    let at = ErrorBody {
        code: "/error",
        message: &["/error_Description", "/error_description"],
        request_id: None,
        fields: None,
    };
    ApiError::read(head, body, at).filter(|e| !e.code.eq_ignore_ascii_case("success"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, code: &str) -> Error {
        ApiError::new(status, code, "d").into()
    }

    #[test]
    fn the_seed_status_table_maps_to_reasons() {
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
            let e = answer(status, code);
            assert!(
                !matches!(e.reason(), Some(Reason::Unlisted | Reason::BadRequest)),
                "{status} {code}: {e:?}"
            );
        }
        assert!(answer(429, "quota_exceeded").is_retryable());
        assert!(answer(429, "quota_exceeded").nothing_was_done());
        assert_eq!(answer(403, "user_not_allowed").kind(), ErrorKind::Auth);
        assert!(answer(502, "").is_retryable());
        assert!(!answer(400, "invalid_grant").is_retryable());
        let teapot = answer(418, "teapot");
        assert_eq!(teapot.reason(), Some(Reason::Unlisted));
        assert_eq!(teapot.api().map(|a| a.status), Some(418));
    }
}
