//! Whose state: one account of one vendor at one origin.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::memory::MemoryStore;
use super::seal::Sealer;
use super::store::Store;

/// The namespace of one account's keys, `clawkit:VENDOR:ORIGIN:{ACCOUNT}:`, where ORIGIN and
/// ACCOUNT are hashes (of the API's origin, and of the account's identity, never its secret) and
/// `{..}` is a Redis hash tag (a cluster keeps an account's keys together); and the key that
/// seals its records.
#[derive(Debug, Clone)]
pub struct Scope {
    prefix: String,
    sealer: Sealer,
}

fn short_hash(parts: &[&[u8]], len: usize) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())[..len].to_string()
}

impl Scope {
    /// The scope of the account known as `identity` (a user name, a client id) of `vendor` at
    /// `origin` (a base URL: a token issued by one is never sent to another), whose records are
    /// sealed with a key derived from `secrets` (its password, client secret, API key).
    pub fn new(vendor: &str, origin: &str, identity: &str, secrets: &[&[u8]]) -> Self {
        let origin = origin.trim_end_matches('/');
        let prefix = format!(
            "clawkit:{vendor}:{}:{{{}}}:",
            short_hash(&[origin.as_bytes()], 8),
            short_hash(
                &[vendor.as_bytes(), origin.as_bytes(), identity.as_bytes()],
                16
            ),
        );
        let mut material = identity.as_bytes().to_vec();
        for s in secrets {
            material.push(0);
            material.extend_from_slice(s);
        }
        let sealer = Sealer::derive(&material, &prefix);
        Self { prefix, sealer }
    }

    /// The full key of `what` (e.g. `limit:rate`).
    pub fn key(&self, what: &str) -> String {
        format!("{}{what}", self.prefix)
    }

    /// The sealer of this account's records.
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }
}

/// A store and the scope of one account in it: what a runtime shares.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Whose keys.
    pub scope: Scope,
}

impl Shared {
    /// `scope` in `store`.
    pub fn new(store: Arc<dyn Store>, scope: Scope) -> Self {
        Self { store, scope }
    }

    /// A fresh in-memory store for one anonymous account: a runtime's default.
    pub fn memory() -> Self {
        Self::new(
            Arc::new(MemoryStore::new()),
            Scope::new("local", "", "", &[]),
        )
    }

    /// The key of `what` in this scope.
    pub fn key(&self, what: &str) -> String {
        self.scope.key(what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_vendor_and_hash_the_origin_and_the_account() {
        let a = Scope::new("bazhuayu", "http://127.0.0.1:1/", "alice", &[b"pw"]);
        let key = a.key("limit:rate");
        assert!(key.starts_with("clawkit:bazhuayu:"), "{key}");
        assert!(!key.contains("alice") && !key.contains("127.0.0.1") && !key.contains("pw"));
        assert_eq!(key.matches('{').count(), 1, "one hash tag: {key}");
        assert_eq!(
            a.key("x"),
            Scope::new("bazhuayu", "http://127.0.0.1:1", "alice", &[b"other"]).key("x")
        );
        assert_ne!(
            a.key("x"),
            Scope::new("bazhuayu", "http://127.0.0.1:2", "alice", &[b"pw"]).key("x")
        );
        assert_ne!(
            a.key("x"),
            Scope::new("bazhuayu", "http://127.0.0.1:1", "bob", &[b"pw"]).key("x")
        );
        assert_ne!(
            a.key("x"),
            Scope::new("coreclaw", "http://127.0.0.1:1", "alice", &[b"pw"]).key("x")
        );
    }
}
