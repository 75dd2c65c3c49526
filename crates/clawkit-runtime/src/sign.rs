//! Request signing: a [`Signer`] sees each request as it will be sent (method, URL, headers and the
//! exact body bytes) just before it goes out, on every attempt, with the clock corrected for the
//! server's skew.

use std::time::SystemTime;

/// Signs requests; set one with [`crate::RuntimeBuilder::signer`].
pub trait Signer: Send + Sync + 'static {
    /// Adds the signature (headers, query) to `request`. `now` is the local time corrected by the
    /// skew learned from the server's `Date` headers; it is fresh on every attempt, so a retried
    /// request is signed again and never carries a stale timestamp.
    fn sign(&self, request: &mut reqwest::Request, now: SystemTime) -> Result<(), SignError>;
}

/// A request that could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot sign the request: {0}")]
pub struct SignError(pub String);

/// The exact bytes of a request's body: empty without a body, `None` for a streaming body (which
/// cannot be signed over its bytes).
pub fn body_bytes(request: &reqwest::Request) -> Option<&[u8]> {
    match request.body() {
        None => Some(&[]),
        Some(body) => body.as_bytes(),
    }
}

/// Lowercase hex SHA-256 of `bytes` (the body hash most request signatures include).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A fresh random nonce: 32 lowercase hex characters (128 bits from the operating system).
pub fn nonce() -> Result<String, SignError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| SignError(format!("no randomness for a nonce: {e}")))?;
    Ok(hex::encode(bytes))
}

/// The request target as sent on the wire, relative to `base` (the service's base URL, whose own
/// path prefix is left out): the raw path, then `?` and the raw query when there is one. Nothing
/// is decoded or re-encoded.
///
/// ```
/// let base = reqwest::Url::parse("http://127.0.0.1:8787/openclaw-fulfillment").unwrap();
/// let url = reqwest::Url::parse("http://127.0.0.1:8787/openclaw-fulfillment/v2.1/orders?limit=50").unwrap();
/// assert_eq!(clawkit_runtime::sign::request_target(&url, &base), "/v2.1/orders?limit=50");
/// ```
pub fn request_target(url: &reqwest::Url, base: &reqwest::Url) -> String {
    let prefix = base.path().trim_end_matches('/');
    let path = url.path();
    let path = match path.strip_prefix(prefix) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => path,
    };
    let path = if path.is_empty() { "/" } else { path };
    match url.query() {
        Some(query) if !query.is_empty() => format!("{path}?{query}"),
        _ => path.to_string(),
    }
}

/// Bytes a strictly encoded path keeps as they are: RFC 3986's unreserved characters, the
/// segment separator, and `%` (existing escapes are kept, never encoded twice).
const STRICT_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/')
    .remove(b'%');

/// Percent-encodes every byte of `url`'s path outside the unreserved characters, `/` and existing
/// `%XX` escapes (see [`crate::RuntimeBuilder::strict_path_encoding`]).
pub fn encode_path_strictly(url: &mut reqwest::Url) {
    let strict = percent_encoding::percent_encode(url.path().as_bytes(), STRICT_PATH).to_string();
    if strict != url.path() {
        url.set_path(&strict);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_strictly_once() {
        let mut url =
            reqwest::Url::parse("http://h/p/v2.1/orders/%231001&A%20B/cancel?x=a&b=%2B").unwrap();
        encode_path_strictly(&mut url);
        assert_eq!(
            url.as_str(),
            "http://h/p/v2.1/orders/%231001%26A%20B/cancel?x=a&b=%2B"
        );
        let again = url.clone();
        encode_path_strictly(&mut url);
        assert_eq!(url, again);
    }

    #[test]
    fn targets_leave_the_base_path_out_and_keep_the_raw_query() {
        let base = reqwest::Url::parse("http://h/openclaw-fulfillment/").unwrap();
        let url = reqwest::Url::parse(
            "http://h/openclaw-fulfillment/v2.1/orders?status=shipped&updated_from=2024-06-15T00%3A00%3A00%2B08%3A00&limit=50",
        )
        .unwrap();
        assert_eq!(
            request_target(&url, &base),
            "/v2.1/orders?status=shipped&updated_from=2024-06-15T00%3A00%3A00%2B08%3A00&limit=50"
        );
        let root = reqwest::Url::parse("https://api.openclaw.com").unwrap();
        let url =
            reqwest::Url::parse("https://api.openclaw.com/v2.1/orders/%231001/cancel").unwrap();
        assert_eq!(request_target(&url, &root), "/v2.1/orders/%231001/cancel");
        // a base that is only a prefix of a segment is not removed
        let odd = reqwest::Url::parse("http://h/open").unwrap();
        let url = reqwest::Url::parse("http://h/openclaw/x").unwrap();
        assert_eq!(request_target(&url, &odd), "/openclaw/x");
    }

    #[test]
    fn nonces_are_fresh_hex() {
        let a = nonce().unwrap();
        let b = nonce().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
