//! What every vendor shares: building the HTTP client, retries with backoff, `Retry-After`, and
//! turning "fetch page n" into a `Stream`. Nothing here knows a vendor.

pub mod paging;
#[cfg(feature = "bazhuayu")]
pub mod ratelimit;
pub mod retry;

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// The `User-Agent` clawkit sends.
pub const USER_AGENT: &str = concat!("clawkit/", env!("CARGO_PKG_VERSION"));

/// Builds a reqwest client with clawkit's user agent, explicit timeouts and default headers.
///
/// `timeout` bounds a whole request; `None` leaves it unbounded (for downloads, which are bounded
/// by `read_timeout` between chunks instead).
pub fn http_client(
    headers: HeaderMap,
    timeout: Option<Duration>,
    connect_timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .default_headers(headers)
        .connect_timeout(connect_timeout);
    match timeout {
        Some(t) => builder = builder.timeout(t),
        None => builder = builder.read_timeout(Duration::from_secs(120)),
    }
    builder.build()
}

/// A header map with one sensitive header (its value is marked sensitive, so it is never logged
/// by reqwest or hyper).
pub fn sensitive_header(name: &'static str, value: &str) -> Result<HeaderMap, String> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        format!("the {name} value contains characters not allowed in an HTTP header")
    })?;
    value.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert(HeaderName::from_static(name), value);
    Ok(headers)
}

/// Parses a `Retry-After` header given in seconds (the HTTP-date form is ignored).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static(" 3 "),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn sensitive_headers_reject_bad_values() {
        assert!(sensitive_header("api-key", "ok").unwrap()["api-key"].is_sensitive());
        assert!(sensitive_header("api-key", "bad\nvalue").is_err());
    }
}
