//! Receiving signed webhooks: HMAC-SHA256 signatures checked in constant time against one or
//! more secrets (a rotation accepts the old and the new secret at once), a timestamp tolerance
//! that refuses replays, and de-duplication by delivery id, the way Standard Webhooks and svix
//! describe it. A vendor only says which headers hold what and which bytes are signed.
//!
//! ```
//! use std::time::{Duration, SystemTime, UNIX_EPOCH};
//! use clawkit_runtime::webhook::{self, Deliveries, WebhookVerifier};
//!
//! let now = SystemTime::now();
//! let ts = now.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
//! let body = br#"{"id":"evt_1"}"#;
//! let ts_text = ts.to_string();
//! let signed = [ts_text.as_bytes(), b".", &body[..]];
//! let header = format!("sha256={}", hex::encode(webhook::hmac_sha256(b"new-secret", &signed)));
//!
//! // During a rotation both secrets are accepted.
//! let verifier = WebhookVerifier::new("old-secret").also("new-secret");
//! let sent = webhook::hex_signatures("X-Signature", &header, "sha256=").unwrap();
//! verifier.check_time(ts, now).unwrap();
//! verifier.check_signature(&signed, &sent).unwrap();
//!
//! let seen = Deliveries::new(Duration::from_secs(3600), 10_000);
//! assert!(seen.first_time("evt_1"));
//! assert!(!seen.first_time("evt_1")); // a redelivery: answer 2xx, do not act again
//! ```

mod claims;
#[cfg(feature = "service")]
pub mod service;

pub use claims::{Claims, Held, Ticket};

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A header the scheme needs is missing.
    #[error("webhook header {0} is missing")]
    MissingHeader(&'static str),
    /// A header is there but not in the expected form.
    #[error("webhook header {header}: {reason}")]
    BadHeader {
        /// The header.
        header: &'static str,
        /// What was expected.
        reason: String,
    },
    /// The signed timestamp is too far from now: a replay, or a clock far off.
    #[error(
        "webhook timestamp is {age_secs} s away from now (tolerance {tolerance_secs} s): refused as a replay"
    )]
    Stale {
        /// Seconds between the timestamp and now (either way).
        age_secs: u64,
        /// The tolerance.
        tolerance_secs: u64,
    },
    /// No signature matches any secret.
    #[error("webhook signature does not match any configured secret")]
    BadSignature,
    /// The body is not the event the scheme describes.
    #[error("webhook body: {0}")]
    Body(String),
    /// The shared store of delivery claims did not answer: let the sender retry.
    #[error("webhook delivery claims: {0}")]
    Store(String),
}

/// HMAC-SHA256 of the concatenated `parts` keyed with `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The signatures in a header holding one or more `prefix` + hex values separated by spaces or
/// commas (`sha256=ab.. sha256=cd..`); values with another prefix (another scheme) are ignored.
pub fn hex_signatures(
    header: &'static str,
    value: &str,
    prefix: &str,
) -> Result<Vec<Vec<u8>>, WebhookError> {
    let found: Vec<Vec<u8>> = value
        .split([' ', ','])
        .filter_map(|token| token.trim().strip_prefix(prefix))
        .filter_map(|hex_value| hex::decode(hex_value).ok())
        .collect();
    if found.is_empty() {
        return Err(WebhookError::BadHeader {
            header,
            reason: format!("expected `{prefix}` followed by a hex HMAC"),
        });
    }
    Ok(found)
}

/// Checks webhook signatures and timestamps against a set of secrets.
#[derive(Clone)]
pub struct WebhookVerifier {
    secrets: Vec<SecretString>,
    tolerance: Duration,
}

impl std::fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            )
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

impl WebhookVerifier {
    /// Signatures made with `secret`; timestamps within 5 minutes either way.
    pub fn new(secret: impl Into<SecretString>) -> Self {
        Self {
            secrets: vec![secret.into()],
            tolerance: Duration::from_secs(300),
        }
    }

    /// Accepts signatures made with `secret` too (during a rotation: the old and the new).
    pub fn also(mut self, secret: impl Into<SecretString>) -> Self {
        self.secrets.push(secret.into());
        self
    }

    /// How far a signed timestamp may be from now, either way (default 300 s).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Refuses a timestamp (Unix seconds) further than the tolerance from `now`.
    pub fn check_time(&self, timestamp: i64, now: SystemTime) -> Result<(), WebhookError> {
        let now = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let age = now.abs_diff(timestamp);
        if age > self.tolerance.as_secs() {
            return Err(WebhookError::Stale {
                age_secs: age,
                tolerance_secs: self.tolerance.as_secs(),
            });
        }
        Ok(())
    }

    /// Accepts if any of `signatures` is the HMAC-SHA256 of `signed` (the parts concatenated)
    /// under any secret. Each comparison takes constant time.
    pub fn check_signature(
        &self,
        signed: &[&[u8]],
        signatures: &[Vec<u8>],
    ) -> Result<(), WebhookError> {
        let mut ok = false;
        for secret in &self.secrets {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose_secret().as_bytes())
                .expect("HMAC takes keys of any length");
            for part in signed {
                mac.update(part);
            }
            for signature in signatures {
                // `verify_slice` compares in constant time; every pair is tried.
                ok |= mac.clone().verify_slice(signature).is_ok();
            }
        }
        if ok {
            Ok(())
        } else {
            Err(WebhookError::BadSignature)
        }
    }
}

/// Where delivery ids are remembered for de-duplication. [`Deliveries`] (bounded, in memory) is
/// the default; implement this over a shared store (Redis, a database) when several processes
/// receive the same webhooks.
pub trait DeliveryStore: Send + Sync + 'static {
    /// Whether `id` is new, remembering it; `false` for a delivery already seen.
    fn first_time(&self, id: &str) -> bool;
    /// Forgets `id`, so that the next delivery of it is handled (its handling failed).
    fn forget(&self, id: &str);
}

impl DeliveryStore for Deliveries {
    fn first_time(&self, id: &str) -> bool {
        Deliveries::first_time(self, id)
    }
    fn forget(&self, id: &str) {
        Deliveries::forget(self, id)
    }
}

/// Delivery ids seen recently: a redelivered event is acknowledged but not handled twice.
/// Remembers at most `capacity` ids, each for `ttl`. Shared by reference across handlers.
#[derive(Debug)]
pub struct Deliveries {
    ttl: Duration,
    capacity: usize,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    at: HashMap<String, Instant>,
    order: VecDeque<(String, Instant)>,
}

impl Deliveries {
    /// Remembers ids for `ttl`, at most `capacity` of them (the oldest are forgotten first).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Whether `id` is new (and remembers it); `false` for a delivery already seen.
    pub fn first_time(&self, id: &str) -> bool {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((old, at)) = seen.order.front().cloned() {
            let expired = now.duration_since(at) > self.ttl;
            if !expired && seen.order.len() < self.capacity {
                break;
            }
            seen.order.pop_front();
            if seen.at.get(&old) == Some(&at) {
                seen.at.remove(&old);
            }
        }
        if seen.at.contains_key(id) {
            return false;
        }
        seen.at.insert(id.to_string(), now);
        seen.order.push_back((id.to_string(), now));
        true
    }

    /// Forgets `id`, so a delivery whose handling failed can be handled when it comes again.
    pub fn forget(&self, id: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.at.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(key: &str, parts: &[&[u8]]) -> Vec<u8> {
        hmac_sha256(key.as_bytes(), parts).to_vec()
    }

    #[test]
    fn any_secret_and_any_signature_may_match() {
        let v = WebhookVerifier::new("old").also("new");
        let parts: [&[u8]; 2] = [b"123.", b"{}"];
        assert!(v.check_signature(&parts, &[sig("new", &parts)]).is_ok());
        assert!(v.check_signature(&parts, &[sig("old", &parts)]).is_ok());
        assert!(
            v.check_signature(&parts, &[sig("other", &parts), sig("old", &parts)])
                .is_ok()
        );
        assert_eq!(
            v.check_signature(&parts, &[sig("other", &parts)]),
            Err(WebhookError::BadSignature)
        );
        let tampered: [&[u8]; 2] = [b"123.", b"{ }"];
        assert_eq!(
            v.check_signature(&tampered, &[sig("new", &parts)]),
            Err(WebhookError::BadSignature)
        );
        assert!(!format!("{v:?}").contains("old"));
    }

    #[test]
    fn timestamps_outside_the_tolerance_are_replays() {
        let v = WebhookVerifier::new("k");
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert!(v.check_time(1_000_000 - 300, now).is_ok());
        assert!(v.check_time(1_000_000 + 300, now).is_ok());
        assert_eq!(
            v.check_time(1_000_000 - 301, now),
            Err(WebhookError::Stale {
                age_secs: 301,
                tolerance_secs: 300
            })
        );
        assert!(v.check_time(1_000_000 + 3600, now).is_err());
    }

    #[test]
    fn signature_headers_hold_one_or_more_values() {
        let h = format!(
            "sha256={} v1=zz sha256={}",
            "ab".repeat(32),
            "cd".repeat(32)
        );
        assert_eq!(hex_signatures("X", &h, "sha256=").unwrap().len(), 2);
        assert!(matches!(
            hex_signatures("X", "md5=abc", "sha256="),
            Err(WebhookError::BadHeader { header: "X", .. })
        ));
    }

    #[test]
    fn deliveries_are_handled_once_until_forgotten() {
        let d = Deliveries::new(Duration::from_secs(60), 2);
        assert!(d.first_time("a"));
        assert!(!d.first_time("a"));
        d.forget("a");
        assert!(d.first_time("a"));
        assert!(d.first_time("b"));
        assert!(d.first_time("c")); // capacity 2: "a" is forgotten
        assert!(d.first_time("a"));
    }
}
