//! The store of one process: today's behaviour, and what [`super::Resilient`] falls back to.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::gcra::{self, micros};
use super::store::{Bucket, Claim, Record, Store, StoreFuture};

#[derive(Debug, Default)]
struct Mem {
    tats: HashMap<String, i64>,
    holds: HashMap<String, i64>,
    leases: HashMap<String, HashMap<String, i64>>,
    records: HashMap<String, Record>,
    /// A claim: its holder (`None` once done) and when it ends.
    claims: HashMap<String, (Option<String>, i64)>,
}

/// State in this process's memory, on tokio's clock (so paused-time tests hold).
#[derive(Debug)]
pub struct MemoryStore {
    base: tokio::time::Instant,
    mem: Mutex<Mem>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            base: tokio::time::Instant::now(),
            mem: Mutex::new(Mem::default()),
        }
    }

    fn now(&self) -> i64 {
        micros(tokio::time::Instant::now().saturating_duration_since(self.base))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Mem, i64) -> T) -> T {
        let now = self.now();
        let mut mem = self.mem.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut mem, now)
    }

    fn ready<T: Send + 'static>(value: T) -> StoreFuture<'static, T> {
        Box::pin(std::future::ready(Ok(value)))
    }
}

impl Store for MemoryStore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    fn take<'a>(&'a self, hold: &'a str, buckets: &'a [Bucket]) -> StoreFuture<'a, Duration> {
        let wait = self.with(|mem, now| {
            if mem.tats.len() > 10_000 {
                mem.tats.retain(|_, tat| *tat > now);
            }
            let tats: Vec<Option<i64>> = buckets
                .iter()
                .map(|b| mem.tats.get(&b.key).copied())
                .collect();
            match gcra::take(now, mem.holds.get(hold).copied(), buckets, &tats) {
                Ok(next) => {
                    for (bucket, tat) in buckets.iter().zip(next) {
                        mem.tats.insert(bucket.key.clone(), tat);
                    }
                    Duration::ZERO
                }
                Err(wait) => wait,
            }
        });
        Self::ready(wait)
    }

    fn hold<'a>(&'a self, key: &'a str, wait: Duration) -> StoreFuture<'a, ()> {
        self.with(|mem, now| {
            let until = now.saturating_add(micros(wait));
            let held = mem.holds.entry(key.to_string()).or_insert(until);
            *held = (*held).max(until);
        });
        Self::ready(())
    }

    fn lease<'a>(
        &'a self,
        key: &'a str,
        slots: u32,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let got = self.with(|mem, now| {
            let held = mem.leases.entry(key.to_string()).or_default();
            held.retain(|_, until| *until > now);
            if held.contains_key(holder) || held.len() < slots.max(1) as usize {
                held.insert(holder.to_string(), now.saturating_add(micros(ttl)));
                true
            } else {
                false
            }
        });
        Self::ready(got)
    }

    fn release<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()> {
        self.with(|mem, _| {
            if let Some(held) = mem.leases.get_mut(key) {
                held.remove(holder);
            }
        });
        Self::ready(())
    }

    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Record>> {
        Self::ready(self.with(|mem, _| mem.records.get(key).cloned()))
    }

    fn save<'a>(&'a self, key: &'a str, version: u64, value: &'a [u8]) -> StoreFuture<'a, bool> {
        let saved = self.with(|mem, _| {
            let current = mem.records.get(key).map_or(0, |r| r.version);
            if current != version {
                return false;
            }
            mem.records.insert(
                key.to_string(),
                Record {
                    version: version + 1,
                    value: value.to_vec(),
                },
            );
            true
        });
        Self::ready(saved)
    }

    fn claim<'a>(&'a self, key: &'a str, holder: &'a str, ttl: Duration) -> StoreFuture<'a, Claim> {
        let claim = self.with(|mem, now| {
            if mem.claims.len() > 10_000 {
                mem.claims.retain(|_, (_, until)| *until > now);
            }
            match mem.claims.get(key) {
                Some((None, until)) if *until > now => Claim::Done,
                Some((Some(_), until)) if *until > now => Claim::Busy,
                _ => {
                    let until = now.saturating_add(micros(ttl));
                    mem.claims
                        .insert(key.to_string(), (Some(holder.to_string()), until));
                    Claim::Fresh
                }
            }
        });
        Self::ready(claim)
    }

    fn finish<'a>(&'a self, key: &'a str, holder: &'a str, keep: Duration) -> StoreFuture<'a, ()> {
        self.with(|mem, now| {
            let mine = match mem.claims.get(key) {
                Some((Some(h), until)) => h == holder || *until <= now,
                Some((None, until)) => *until <= now,
                None => true,
            };
            if mine {
                mem.claims
                    .insert(key.to_string(), (None, now.saturating_add(micros(keep))));
            }
        });
        Self::ready(())
    }

    fn abandon<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()> {
        self.with(|mem, _| {
            if matches!(mem.claims.get(key), Some((Some(h), _)) if h == holder) {
                mem.claims.remove(key);
            }
        });
        Self::ready(())
    }
}
