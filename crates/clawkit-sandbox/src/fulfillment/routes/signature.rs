//! The signature check of every signed route (the token calls included), before the handler
//! sees the request: the vendor's scheme (`signing`) over the raw path and query as sent (prefix
//! removed) and the raw body. The refusals are 401 `invalid_signature`, `timestamp_out_of_range`
//! (±300 s of the server clock) or `nonce_reused` (600 s), each counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::fulfillment::clock::{Stamp, rfc3339};
use crate::fulfillment::error::ApiError;
use crate::fulfillment::signing::{
    CLIENT_ID_HEADER, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, TOLERANCE_MS, canonical,
    matches, nonce_shape,
};
use crate::fulfillment::state::{CLIENT_ID, CLIENT_SECRET, Fulfillment, NAME};
use crate::vendor::read_body;

/// The largest request body read (1 MiB).
const BODY_LIMIT: usize = 1024 * 1024;

/// The request target as sent: raw path and query, without the vendor prefix (the nested
/// router's URI is the wire's, prefix cut, percent-encoding untouched).
fn target(request: &Request) -> String {
    let uri = request.uri();
    let path = uri.path();
    let prefix = format!("/{NAME}");
    let path = match path.strip_prefix(prefix.as_str()) {
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    };
    match uri.query() {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.to_string(),
    }
}

/// A header as text, if it is there and readable.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl Fulfillment {
    /// Checks the signature of a request whose body is `body`; the refusal names its reason.
    fn check_signature(&self, request: &Request, body: &[u8]) -> Result<(), ApiError> {
        let refuse = |code: &'static str, counter: &AtomicU64, message: String| {
            counter.fetch_add(1, Ordering::Relaxed);
            ApiError::unauthorized(code, message)
        };
        let stats = &self.stats;
        let bad = |message: String| {
            refuse(
                "invalid_signature",
                &stats.refused_invalid_signature,
                message,
            )
        };
        let headers = request.headers();
        let mut values = [""; 4];
        let names = [
            CLIENT_ID_HEADER,
            TIMESTAMP_HEADER,
            NONCE_HEADER,
            SIGNATURE_HEADER,
        ];
        for (value, name) in values.iter_mut().zip(names) {
            *value = header(headers, name)
                .ok_or_else(|| bad(format!("The {name} header is missing")))?;
        }
        let [client_id, timestamp, nonce, signature] = values;
        if client_id != CLIENT_ID {
            return Err(bad(format!("Unknown client_id {client_id:?}")));
        }
        let signed_at = Stamp::parse(timestamp).map_err(|why| {
            bad("X-OpenClaw-Timestamp must be RFC 3339 with an offset".into())
                .detail("X-OpenClaw-Timestamp", why)
        })?;
        if !nonce_shape(nonce) {
            return Err(bad(
                "X-OpenClaw-Nonce must be 16-64 characters of A-Z a-z 0-9 - _".into(),
            ));
        }
        let target = target(request);
        let message = canonical([request.method().as_str(), &target, timestamp, nonce], body);
        if !matches(CLIENT_SECRET, &message, signature) {
            return Err(bad("Signature mismatch".into()));
        }
        let now = self.clock.now_ms();
        if (now - signed_at.ms()).abs() > TOLERANCE_MS {
            return Err(refuse(
                "timestamp_out_of_range",
                &stats.refused_timestamp,
                format!(
                    "X-OpenClaw-Timestamp {timestamp} is more than 300 s from the server time {}",
                    rfc3339(now)
                ),
            ));
        }
        let fresh = self
            .nonces
            .lock()
            .map(|mut n| n.fresh(client_id, nonce, now))
            .unwrap_or(false);
        if !fresh {
            return Err(refuse(
                "nonce_reused",
                &stats.refused_nonce,
                format!("Nonce {nonce} was already used within 600 s"),
            ));
        }
        Ok(())
    }
}

/// The middleware of every signed route: reads the body, checks the signature, and hands the
/// request on with the same body.
pub(crate) async fn verify(
    State(fulfillment): State<Arc<Fulfillment>>,
    request: Request,
    next: Next,
) -> Response {
    let checked = match read_body(request, BODY_LIMIT).await {
        None => Err(ApiError::invalid("body", "larger than 1 MiB or unreadable")),
        Some((request, bytes)) => fulfillment
            .check_signature(&request, &bytes)
            .map(|()| request),
    };
    match checked {
        Ok(request) => {
            fulfillment.stats.requests.fetch_add(1, Ordering::Relaxed);
            next.run(request).await
        }
        Err(refusal) => refusal.into_response(),
    }
}
