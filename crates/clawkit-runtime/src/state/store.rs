//! The store's primitives and their types.

use std::time::Duration;

use futures::future::BoxFuture;

/// The fleet size assumed when a shared store is unreachable and each process falls back to its
/// own share of every limit (`CLAWKIT_FLEET_SIZE` overrides it).
pub const DEFAULT_FLEET_SIZE: u32 = 4;

/// A store's answer, later.
pub type StoreFuture<'a, T> = BoxFuture<'a, Result<T, StoreError>>;

/// Why the store did not answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("state store ({store}): {reason}")]
pub struct StoreError {
    /// Which store: `sqlite`, `redis`.
    pub store: &'static str,
    /// What went wrong.
    pub reason: String,
}

impl StoreError {
    pub(crate) fn new(store: &'static str, reason: impl std::fmt::Display) -> Self {
        Self {
            store,
            reason: reason.to_string(),
        }
    }
}

/// One GCRA bucket: one request every `interval` on average, bursts of `burst`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Its key in the store.
    pub key: String,
    /// The emission interval.
    pub interval: Duration,
    /// How many requests may go at once.
    pub burst: u32,
}

impl Bucket {
    /// A bucket at `key`.
    pub fn new(key: impl Into<String>, interval: Duration, burst: u32) -> Self {
        Self {
            key: key.into(),
            interval,
            burst: burst.max(1),
        }
    }
}

/// What claiming a delivery id found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Nobody had it: it is the caller's now, until its lease ends or it is finished.
    Fresh,
    /// Another holder is handling it right now.
    Busy,
    /// It was handled already.
    Done,
}

/// A versioned value: [`Store::save`] replaces it only when nobody did since it was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its version (1 for the first save).
    pub version: u64,
    /// The value.
    pub value: Vec<u8>,
}

/// The shared state's primitives. Every operation is atomic in the store, and every time is the
/// store's own clock (Redis's `TIME`), never the caller's.
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// `memory`, `sqlite` or `redis`.
    fn kind(&self) -> &'static str;

    /// Whether other processes see this store (not `memory`).
    fn is_shared(&self) -> bool {
        self.kind() != "memory"
    }

    /// Takes one request from every bucket, or from none: zero when taken, else how long to wait
    /// before trying again. The hold at `hold` ([`Store::hold`]) counts as a bucket that is empty
    /// until it ends.
    fn take<'a>(&'a self, hold: &'a str, buckets: &'a [Bucket]) -> StoreFuture<'a, Duration>;

    /// Nobody takes through `key` for `wait` from now (it only ever lengthens a hold).
    fn hold<'a>(&'a self, key: &'a str, wait: Duration) -> StoreFuture<'a, ()>;

    /// One of `slots` leases at `key` for `holder`, for `ttl`: `false` when all are held. A lease
    /// that is not released ends by itself after `ttl` (its holder may have been killed).
    fn lease<'a>(
        &'a self,
        key: &'a str,
        slots: u32,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool>;

    /// Gives `holder`'s lease back.
    fn release<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()>;

    /// The record at `key`.
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Record>>;

    /// Writes `value` at `key` as version `version + 1`, only if the record there is still at
    /// `version` (0: there is none). `false` when someone saved first.
    fn save<'a>(&'a self, key: &'a str, version: u64, value: &'a [u8]) -> StoreFuture<'a, bool>;

    /// Claims `key` for `holder` for `ttl` (then it is free again), unless it is held or done.
    fn claim<'a>(&'a self, key: &'a str, holder: &'a str, ttl: Duration) -> StoreFuture<'a, Claim>;

    /// `holder` is done with `key`: it stays [`Claim::Done`] for `keep`.
    fn finish<'a>(&'a self, key: &'a str, holder: &'a str, keep: Duration) -> StoreFuture<'a, ()>;

    /// `holder` gives `key` up (compare-and-delete: a claim that is not its own is kept).
    fn abandon<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()>;
}

/// A random holder id for a lease or a claim.
pub fn holder_id() -> String {
    let mut bytes = [0u8; 12];
    // A clock-based id would do if the OS had no randomness.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes[..12].copy_from_slice(&nanos.to_le_bytes()[..12]);
    }
    format!("{}-{}", std::process::id(), hex::encode(bytes))
}
