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
