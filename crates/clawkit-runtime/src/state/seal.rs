//! Records sealed with ChaCha20-Poly1305 under a key derived (HKDF-SHA256) from the account's own
//! credentials: whoever reads the store without the credentials cannot use what is in it.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

const NONCE: usize = 12;

/// Seals and opens one account's records. `Debug` shows no key.
#[derive(Clone)]
pub struct Sealer {
    key: SecretSlice<u8>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    /// A key derived from `secret` (the account's credentials, in a fixed order) for `context`
    /// (the scope's namespace, so each account and origin has its own key).
    pub fn derive(secret: &[u8], context: &str) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(b"clawkit state v1"), secret);
        let mut key = vec![0u8; 32];
        // 32 bytes is always a valid HKDF-SHA256 output length.
        let _ = hk.expand(context.as_bytes(), &mut key);
        Self { key: key.into() }
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(self.key.expose_secret()))
    }

    /// `plain` sealed, bound to `aad` (the record's key): a random nonce, then the ciphertext.
    pub fn seal(&self, plain: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE];
        if getrandom::fill(&mut nonce).is_err() {
            // Unique enough without an OS random source: the time and the process.
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            nonce[..8].copy_from_slice(&(t as u64).to_le_bytes());
            nonce[8..].copy_from_slice(&std::process::id().to_le_bytes());
        }
        let sealed = self
            .cipher()
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        out
    }

    /// The plain text, or `None` when `sealed` was not sealed by this key for `aad` (other
    /// credentials, another record, or tampered with).
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE {
            return None;
        }
        let (nonce, text) = sealed.split_at(NONCE);
        self.cipher()
            .decrypt(Nonce::from_slice(nonce), Payload { msg: text, aad })
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_credentials_and_record_open_it() {
        let a = Sealer::derive(b"user\0secret", "scope-1");
        let sealed = a.seal(b"token", b"k");
        assert_eq!(a.open(&sealed, b"k").as_deref(), Some(&b"token"[..]));
        assert!(!sealed.windows(5).any(|w| w == b"token"));
        assert_eq!(a.open(&sealed, b"other-key"), None);
        assert_eq!(
            Sealer::derive(b"user\0other", "scope-1").open(&sealed, b"k"),
            None
        );
        assert_eq!(
            Sealer::derive(b"user\0secret", "scope-2").open(&sealed, b"k"),
            None
        );
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(a.open(&tampered, b"k"), None);
        assert_ne!(a.seal(b"token", b"k"), sealed, "a new nonce every time");
        assert!(!format!("{a:?}").contains("secret"));
    }
}
