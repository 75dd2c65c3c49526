//! A shared store that keeps working while it is unreachable: it says so once, goes on with this
//! process's memory, each limit divided by the fleet size (so the fleet as a whole stays inside
//! it), and rejoins the store at the first answer after that (tried once a second).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::memory::MemoryStore;
use super::store::{Bucket, Claim, Record, Store, StoreError, StoreFuture};

/// How often an unreachable store is tried again.
const PROBE: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Outage {
    /// Until when the local memory answers without asking the store.
    local_until: Option<Instant>,
}

/// `remote`, falling back to memory with every limit divided by `fleet`.
#[derive(Debug)]
pub struct Resilient {
    remote: Arc<dyn Store>,
    local: MemoryStore,
    fleet: u32,
    outage: Mutex<Outage>,
}

impl Resilient {
    /// `remote` for a fleet of `fleet` processes.
    pub fn new(remote: Arc<dyn Store>, fleet: u32) -> Self {
        Self {
            remote,
            local: MemoryStore::new(),
            fleet: fleet.max(1),
            outage: Mutex::new(Outage::default()),
        }
    }

    /// Whether it is on its own memory now.
    pub fn is_degraded(&self) -> bool {
        self.outage().local_until.is_some()
    }

    fn outage(&self) -> std::sync::MutexGuard<'_, Outage> {
        self.outage.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ask_remote(&self) -> bool {
        self.outage()
            .local_until
            .is_none_or(|until| Instant::now() >= until)
    }

    fn answered(&self) {
        let mut outage = self.outage();
        if outage.local_until.take().is_some() {
            tracing::warn!(
                store = self.remote.kind(),
                "the state store answers again: limits, tokens and deliveries are shared again"
            );
        }
    }

    fn failed(&self, e: &StoreError) {
        let mut outage = self.outage();
        if outage.local_until.is_none() {
            tracing::warn!(
                error = %e,
                fleet_size = self.fleet,
                "the state store is unreachable: this process goes on with its own memory, each \
                 limit divided by the fleet size, until it answers again"
            );
        }
        outage.local_until = Some(Instant::now() + PROBE);
    }

    /// The remote answer, else the local one.
    async fn either<'a, T>(
        &'a self,
        remote: impl FnOnce() -> StoreFuture<'a, T>,
        local: impl FnOnce() -> StoreFuture<'a, T>,
    ) -> Result<T, StoreError> {
        if self.ask_remote() {
            match remote().await {
                Ok(v) => {
                    self.answered();
                    return Ok(v);
                }
                Err(e) => self.failed(&e),
            }
        }
        local().await
    }

    fn share(&self, buckets: &[Bucket]) -> Vec<Bucket> {
        buckets
            .iter()
            .map(|b| Bucket {
                key: b.key.clone(),
                interval: b.interval * self.fleet,
                burst: (b.burst / self.fleet).max(1),
            })
            .collect()
    }
}

impl Store for Resilient {
    fn kind(&self) -> &'static str {
        self.remote.kind()
    }

    fn take<'a>(&'a self, hold: &'a str, buckets: &'a [Bucket]) -> StoreFuture<'a, Duration> {
        Box::pin(async move {
            let share = self.share(buckets);
            self.either(
                || self.remote.take(hold, buckets),
                || Box::pin(async move { self.local.take(hold, &share).await }),
            )
            .await
        })
    }

    fn hold<'a>(&'a self, key: &'a str, wait: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            // Hold here too: this process waits even if the store lost it.
            self.local.hold(key, wait).await?;
            self.either(
                move || self.remote.hold(key, wait),
                || Box::pin(async { Ok(()) }),
            )
            .await
        })
    }

    fn lease<'a>(
        &'a self,
        key: &'a str,
        slots: u32,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let share = (slots / self.fleet).max(1);
        Box::pin(self.either(
            move || self.remote.lease(key, slots, holder, ttl),
            move || self.local.lease(key, share, holder, ttl),
        ))
    }

    fn release<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.local.release(key, holder).await?;
            if let Err(e) = self.remote.release(key, holder).await {
                // It ends by itself at its ttl.
                tracing::debug!(error = %e, "could not release a lease");
            }
            Ok(())
        })
    }

    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Record>> {
        Box::pin(self.either(|| self.remote.load(key), || self.local.load(key)))
    }

    fn save<'a>(&'a self, key: &'a str, version: u64, value: &'a [u8]) -> StoreFuture<'a, bool> {
        Box::pin(self.either(
            move || self.remote.save(key, version, value),
            move || self.local.save(key, version, value),
        ))
    }

    fn claim<'a>(&'a self, key: &'a str, holder: &'a str, ttl: Duration) -> StoreFuture<'a, Claim> {
        Box::pin(self.either(
            move || self.remote.claim(key, holder, ttl),
            move || self.local.claim(key, holder, ttl),
        ))
    }

    fn finish<'a>(&'a self, key: &'a str, holder: &'a str, keep: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.local.finish(key, holder, keep).await?;
            self.either(
                move || self.remote.finish(key, holder, keep),
                || Box::pin(async { Ok(()) }),
            )
            .await
        })
    }

    fn abandon<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.local.abandon(key, holder).await?;
            self.either(
                || self.remote.abandon(key, holder),
                || Box::pin(async { Ok(()) }),
            )
            .await
        })
    }
}
