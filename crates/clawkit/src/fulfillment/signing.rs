//! The request signature (spec: "Authentication: request signature"): every request, the token
//! calls included, carries `X-OpenClaw-Client-Id`, `X-OpenClaw-Timestamp`, `X-OpenClaw-Nonce` and
//! `X-OpenClaw-Signature`, the lowercase hex HMAC-SHA256 keyed with the client secret of
//!
//! ```text
//! {METHOD}\n{REQUEST_TARGET}\n{TIMESTAMP}\n{NONCE}\n{BODY_SHA256}
//! ```
//!
//! [`RequestSigner`] is the runtime's [`Signer`]: it runs in the request hook over the exact
//! bytes sent, on every attempt (a retry gets a fresh timestamp and nonce), with the clock the
//! runtime corrected by the server's `Date`.

use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};
use clawkit_runtime::sign::{self, SignError, Signer};
use clawkit_runtime::webhook::hmac_sha256;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// `X-OpenClaw-Client-Id`.
pub const CLIENT_ID_HEADER: &str = "x-openclaw-client-id";
/// `X-OpenClaw-Timestamp`.
pub const TIMESTAMP_HEADER: &str = "x-openclaw-timestamp";
/// `X-OpenClaw-Nonce`.
pub const NONCE_HEADER: &str = "x-openclaw-nonce";
/// `X-OpenClaw-Signature`.
pub const SIGNATURE_HEADER: &str = "x-openclaw-signature";

/// The canonical string of one request: five lines joined by `\n`, no trailing line feed.
/// `target` is the raw path and query relative to the server URL, exactly as sent.
///
/// ```
/// use clawkit::fulfillment::signing::{canonical_string, signature};
///
/// // The spec's test vector 1.
/// let text = canonical_string(
///     "POST",
///     "/v2.1/orders/%231001/cancel",
///     "2024-06-15T08:30:00+08:00",
///     "7c9e6679-7425-40de-944b-e07fc1f90ae7",
///     br#"{"reason":"customer_request"}"#,
/// );
/// assert_eq!(
///     signature("cs_sandbox_5f2b9c7e4d1a", &text),
///     "70bda7f8c5eeaa641a79206185815f86c694a7ee9a2e37570b6565a470fd3286"
/// );
/// ```
pub fn canonical_string(
    method: &str,
    target: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> String {
    [
        method.to_ascii_uppercase().as_str(),
        target,
        timestamp,
        nonce,
        &sign::sha256_hex(body),
    ]
    .join("\n")
}

/// Lowercase hex HMAC-SHA256 of `text` keyed with the UTF-8 bytes of `client_secret`.
pub fn signature(client_secret: &str, text: &str) -> String {
    hex::encode(hmac_sha256(client_secret.as_bytes(), &[text.as_bytes()]))
}

/// The signing time as the header carries it: RFC 3339 with an offset, whole seconds.
pub fn timestamp(at: SystemTime) -> String {
    DateTime::<Utc>::from(at).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Signs every request of one app (see the module docs).
pub struct RequestSigner {
    client_id: HeaderValue,
    client_secret: SecretString,
    base: reqwest::Url,
}

impl RequestSigner {
    /// A signer for the app `client_id` whose API lives at `base` (its path prefix is not part of
    /// the signed target).
    pub fn new(
        client_id: &str,
        client_secret: SecretString,
        base: reqwest::Url,
    ) -> Result<Self, SignError> {
        let client_id = HeaderValue::from_str(client_id)
            .map_err(|_| SignError("client_id: not a valid header value".into()))?;
        Ok(Self {
            client_id,
            client_secret,
            base,
        })
    }
}

impl Signer for RequestSigner {
    fn sign(&self, request: &mut reqwest::Request, now: SystemTime) -> Result<(), SignError> {
        let body = sign::body_bytes(request)
            .ok_or_else(|| SignError("a streaming body cannot be signed".into()))?;
        let target = sign::request_target(request.url(), &self.base);
        let stamp = timestamp(now);
        let nonce = sign::nonce()?;
        let text = canonical_string(request.method().as_str(), &target, &stamp, &nonce, body);
        let signed = signature(self.client_secret.expose_secret(), &text);
        let header = |value: String| {
            HeaderValue::from_str(&value).map_err(|_| SignError("header value".into()))
        };
        let (stamp, nonce, signed) = (header(stamp)?, header(nonce)?, header(signed)?);
        let headers = request.headers_mut();
        headers.insert(CLIENT_ID_HEADER, self.client_id.clone());
        headers.insert(TIMESTAMP_HEADER, stamp);
        headers.insert(NONCE_HEADER, nonce);
        headers.insert(SIGNATURE_HEADER, signed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "cs_sandbox_5f2b9c7e4d1a";

    #[test]
    fn the_specs_request_vectors() {
        let one = canonical_string(
            "POST",
            "/v2.1/orders/%231001/cancel",
            "2024-06-15T08:30:00+08:00",
            "7c9e6679-7425-40de-944b-e07fc1f90ae7",
            br#"{"reason":"customer_request"}"#,
        );
        assert_eq!(
            one,
            "POST\n/v2.1/orders/%231001/cancel\n2024-06-15T08:30:00+08:00\n\
             7c9e6679-7425-40de-944b-e07fc1f90ae7\n\
             9b12c07b9c20a2791edbeb3c48b5237092f344dc1a9d666af636531fca36f53d"
        );
        assert_eq!(
            signature(SECRET, &one),
            "70bda7f8c5eeaa641a79206185815f86c694a7ee9a2e37570b6565a470fd3286"
        );
        let two = canonical_string(
            "GET",
            "/v2.1/orders?status=shipped&updated_from=2024-06-15T00%3A00%3A00%2B08%3A00&limit=50",
            "2024-06-15T08:30:00+08:00",
            "f47ac10b-58cc-4372-a567-0e02b2c3d479",
            b"",
        );
        assert_eq!(
            signature(SECRET, &two),
            "4930d1a6a23510fe625220bed3602349cab1e45fae42c1bcabf56213b6e6f333"
        );
    }

    #[test]
    fn the_signer_covers_the_target_without_the_base_path_and_the_exact_body() {
        let base = reqwest::Url::parse("http://127.0.0.1:8787/openclaw-fulfillment").unwrap();
        let signer =
            RequestSigner::new("sandbox-client", SecretString::from(SECRET), base).unwrap();
        let mut request = reqwest::Request::new(
            reqwest::Method::POST,
            "http://127.0.0.1:8787/openclaw-fulfillment/v2.1/orders/%231001/cancel"
                .parse()
                .unwrap(),
        );
        *request.body_mut() = Some(r#"{"reason":"customer_request"}"#.into());
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_718_411_400);
        signer.sign(&mut request, at).unwrap();
        let h = |name: &str| request.headers()[name].to_str().unwrap().to_string();
        assert_eq!(h(TIMESTAMP_HEADER), "2024-06-15T00:30:00Z");
        assert_eq!(h(CLIENT_ID_HEADER), "sandbox-client");
        let text = canonical_string(
            "POST",
            "/v2.1/orders/%231001/cancel",
            "2024-06-15T00:30:00Z",
            &h(NONCE_HEADER),
            br#"{"reason":"customer_request"}"#,
        );
        assert_eq!(h(SIGNATURE_HEADER), signature(SECRET, &text));
        // a second signing is a new nonce
        let first = h(NONCE_HEADER);
        signer.sign(&mut request, at).unwrap();
        assert_ne!(request.headers()[NONCE_HEADER].to_str().unwrap(), first);
    }
}
