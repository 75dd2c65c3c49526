//! The vendor's signature scheme: request signatures (HMAC-SHA256 over the spec's five-line
//! canonical string), the nonces a request may use once, and the webhook signature. The routes
//! check every signed request with it before the handler sees it (`routes::auth`).
//!
//! The check, in order: the four `X-OpenClaw-*` headers are there, the client id is the app's,
//! the timestamp is RFC 3339 with an offset and the nonce 16-64 characters of `A-Z a-z 0-9 - _`
//! (else 401 `invalid_signature`); the signature matches, compared in constant time
//! (`invalid_signature`); the timestamp is within ±300 s of the server clock
//! (`timestamp_out_of_range`); the nonce was not seen from this client within 600 s
//! (`nonce_reused`). Only a request that passes records its nonce.
//!
//! The scheme's functions are public, for clients' tests: [`canonical`] and [`hmac_hex`] sign a
//! request, [`webhook_signature`] checks a delivery.

use std::collections::{HashMap, VecDeque};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The app's client id header.
pub(crate) const CLIENT_ID_HEADER: &str = "x-openclaw-client-id";
/// The signing time header.
pub(crate) const TIMESTAMP_HEADER: &str = "x-openclaw-timestamp";
/// The nonce header.
pub(crate) const NONCE_HEADER: &str = "x-openclaw-nonce";
/// The signature header.
pub(crate) const SIGNATURE_HEADER: &str = "x-openclaw-signature";

/// The tolerance between the signing time and the server clock, either way.
pub(crate) const TOLERANCE_MS: i64 = 300_000;
/// How long a nonce stays used.
const NONCE_TTL_MS: i64 = 600_000;

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The canonical string: its first four lines as given (`[METHOD, REQUEST_TARGET, TIMESTAMP,
/// NONCE]`), then `BODY_SHA256`, joined by LF.
pub fn canonical(lines: [&str; 4], body: &[u8]) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    text.push_str(&sha256_hex(body));
    text
}

/// The HMAC-SHA256 of `message` keyed with `secret`.
fn mac(secret: &str, message: &str) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(message.as_bytes());
    Some(mac)
}

/// Lowercase hex HMAC-SHA256 of `message` keyed with `secret`.
pub fn hmac_hex(secret: &str, message: &str) -> String {
    mac(secret, message)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Whether `signature_hex` is the HMAC of `message`, compared in constant time.
pub(crate) fn matches(secret: &str, message: &str, signature_hex: &str) -> bool {
    let Ok(signature) = hex::decode(signature_hex) else {
        return false;
    };
    mac(secret, message).is_some_and(|m| m.verify_slice(&signature).is_ok())
}

/// The webhook signature: lowercase hex HMAC-SHA256 of `{timestamp}\n{request_id}\n{hex
/// sha256(body)}`.
pub fn webhook_signature(secret: &str, timestamp: &str, request_id: &str, body: &[u8]) -> String {
    hmac_hex(
        secret,
        &format!("{timestamp}\n{request_id}\n{}", sha256_hex(body)),
    )
}

/// Whether `nonce` is 16-64 characters of `A-Z a-z 0-9 - _`.
pub(crate) fn nonce_shape(nonce: &str) -> bool {
    (16..=64).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Nonces seen in the last 600 s, per client, oldest first (memory bounded by the window).
#[derive(Debug, Default)]
pub(crate) struct Nonces {
    seen: HashMap<(String, String), i64>,
    order: VecDeque<(i64, (String, String))>,
}

impl Nonces {
    /// Records `nonce` of `client` at `now`; false if it was already used within the window.
    pub(crate) fn fresh(&mut self, client: &str, nonce: &str, now: i64) -> bool {
        while let Some((at, _)) = self.order.front() {
            if now - at < NONCE_TTL_MS {
                break;
            }
            if let Some((at, key)) = self.order.pop_front()
                && self.seen.get(&key) == Some(&at)
            {
                self.seen.remove(&key);
            }
        }
        let key = (client.to_string(), nonce.to_string());
        if self
            .seen
            .get(&key)
            .is_some_and(|at| now - at < NONCE_TTL_MS)
        {
            return false;
        }
        self.seen.insert(key.clone(), now);
        self.order.push_back((now, key));
        true
    }

    /// Nonces currently remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "cs_sandbox_5f2b9c7e4d1a";

    #[test]
    fn test_vector_1() {
        let body = br#"{"reason":"customer_request"}"#;
        assert_eq!(body.len(), 29);
        let text = canonical(
            [
                "POST",
                "/v2.1/orders/%231001/cancel",
                "2024-06-15T08:30:00+08:00",
                "7c9e6679-7425-40de-944b-e07fc1f90ae7",
            ],
            body,
        );
        assert_eq!(
            text,
            "POST\n/v2.1/orders/%231001/cancel\n2024-06-15T08:30:00+08:00\n\
             7c9e6679-7425-40de-944b-e07fc1f90ae7\n\
             9b12c07b9c20a2791edbeb3c48b5237092f344dc1a9d666af636531fca36f53d"
        );
        let signature = hmac_hex(SECRET, &text);
        assert_eq!(
            signature,
            "70bda7f8c5eeaa641a79206185815f86c694a7ee9a2e37570b6565a470fd3286"
        );
        assert!(matches(SECRET, &text, &signature));
        assert!(!matches(SECRET, &text, &signature.replace('7', "8")));
        assert!(!matches(SECRET, &text, "not hex"));
    }

    #[test]
    fn test_vector_2() {
        let text = canonical(
            [
                "GET",
                "/v2.1/orders?status=shipped&updated_from=2024-06-15T00%3A00%3A00%2B08%3A00&limit=50",
                "2024-06-15T08:30:00+08:00",
                "f47ac10b-58cc-4372-a567-0e02b2c3d479",
            ],
            b"",
        );
        assert!(
            text.ends_with("\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(
            hmac_hex(SECRET, &text),
            "4930d1a6a23510fe625220bed3602349cab1e45fae42c1bcabf56213b6e6f333"
        );
    }

    #[test]
    fn webhook_test_vector() {
        let body = br#"{"event_id":"evt_01J0KA1B2C3D4E5F6G7H8J9K0M"}"#;
        assert_eq!(
            sha256_hex(body),
            "97a83f1c0ea0d191b4f9100082938b104b07af9080e666dd3f51a628a26ba78c"
        );
        assert_eq!(
            webhook_signature(
                SECRET,
                "2024-06-15T08:30:05+08:00",
                "evt_01J0KA1B2C3D4E5F6G7H8J9K0M",
                body
            ),
            "ba09e8137c477910b0405d53bad9e3d095c84e7a63711752cb3b4c41eb2aae64"
        );
    }

    #[test]
    fn nonces_are_single_use_for_600_s_and_then_forgotten() {
        let mut nonces = Nonces::default();
        assert!(nonces.fresh("app", "n-0000000000000001", 0));
        assert!(!nonces.fresh("app", "n-0000000000000001", 599_999));
        assert!(nonces.fresh("other", "n-0000000000000001", 1));
        assert!(nonces.fresh("app", "n-0000000000000002", 300_000));
        assert!(nonces.fresh("app", "n-0000000000000001", 600_000));
        // Entries older than the window are pruned: only the renewed one and the new one stay.
        assert!(nonces.fresh("app", "n-0000000000000003", 900_000));
        assert_eq!(nonces.len(), 2);
    }

    #[test]
    fn nonce_shapes() {
        assert!(nonce_shape("7c9e6679-7425-40de-944b-e07fc1f90ae7"));
        assert!(nonce_shape("abcdefghijklmnop"));
        assert!(!nonce_shape("short"));
        assert!(!nonce_shape("has space in it ok"));
        assert!(!nonce_shape(&"a".repeat(65)));
    }
}
