//! The gate every request passes before it is sent: the runtime's buckets (a documented rate,
//! limits of some operations, write spacing) taken all-or-nothing from the state store, the
//! backoff a server asked for (a hold every process of the account waits for), and, when the
//! store is shared, leases on the account's requests in flight. With the default `memory` store
//! this is one process's limiter, as before; with SQLite or Redis it is the account's.

use std::time::Duration;

use crate::state::{Bucket, Shared, holder_id};

/// How long a request waits between two tries of a full set of in-flight leases.
const LEASE_POLL: Duration = Duration::from_millis(20);

#[derive(Debug, Clone)]
struct Limit {
    /// Operation ids it applies to (`None`: every request).
    operations: Option<Vec<String>>,
    /// Writes only.
    writes: bool,
    bucket: Bucket,
}

/// The runtime's limits over its store.
#[derive(Debug)]
pub(crate) struct Gate {
    shared: Shared,
    limits: Vec<Limit>,
    inflight: Option<u32>,
    hold_key: String,
    inflight_key: String,
}

fn is_write(method: &reqwest::Method) -> bool {
    !matches!(
        *method,
        reqwest::Method::GET | reqwest::Method::HEAD | reqwest::Method::OPTIONS
    )
}

impl Default for Gate {
    fn default() -> Self {
        Self::new(Shared::memory())
    }
}

/// Settings of a [`Gate`], gathered by the runtime builder before the store is known.
#[derive(Debug, Default)]
pub(crate) struct Limits {
    rate: Option<(Duration, u32)>,
    operations: Vec<(Vec<String>, Duration, u32)>,
    writes: Option<Duration>,
    pub(crate) inflight: Option<u32>,
}

impl Limits {
    pub(crate) fn rate(&mut self, period: Duration, burst: u32) {
        self.rate = Some((period, burst));
    }

    pub(crate) fn operations(&mut self, operations: &[&str], period: Duration, burst: u32) {
        let names = operations.iter().map(|o| o.to_string()).collect();
        self.operations.push((names, period, burst));
    }

    pub(crate) fn writes(&mut self, gap: Duration) {
        self.writes = Some(gap);
    }

    /// The gate of these limits over `shared`.
    pub(crate) fn over(self, shared: Shared) -> Gate {
        let mut gate = Gate::new(shared);
        let key = |what: &str| gate.shared.key(what);
        let mut limits = Vec::new();
        if let Some((period, burst)) = self.rate {
            limits.push(Limit {
                operations: None,
                writes: false,
                bucket: Bucket::new(key("limit:rate"), period, burst),
            });
        }
        for (i, (names, period, burst)) in self.operations.into_iter().enumerate() {
            limits.push(Limit {
                bucket: Bucket::new(key(&format!("limit:operations:{i}")), period, burst),
                operations: Some(names),
                writes: false,
            });
        }
        if let Some(gap) = self.writes {
            limits.push(Limit {
                operations: None,
                writes: true,
                bucket: Bucket::new(key("limit:writes"), gap, 1),
            });
        }
        gate.limits = limits;
        gate.inflight = self.inflight;
        gate
    }
}

impl Gate {
    fn new(shared: Shared) -> Self {
        Self {
            hold_key: shared.key("hold"),
            inflight_key: shared.key("inflight"),
            shared,
            limits: Vec::new(),
            inflight: None,
        }
    }

    /// The store and scope.
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Waits until `operation` (with `method`) fits in every bucket that names it and no hold
    /// is on, and takes from them all at once. A store error lets the request go (a
    /// [`crate::state::Resilient`] store does not fail; a bare one is not worth a lost call).
    pub(crate) async fn pass(&self, operation: &str, method: &reqwest::Method) {
        let buckets: Vec<Bucket> = self
            .limits
            .iter()
            .filter(|l| !l.writes || is_write(method))
            .filter(|l| {
                l.operations
                    .as_ref()
                    .is_none_or(|ops| ops.iter().any(|o| o == operation))
            })
            .map(|l| l.bucket.clone())
            .collect();
        loop {
            match self.shared.store.take(&self.hold_key, &buckets).await {
                Ok(wait) if wait.is_zero() => return,
                Ok(wait) => {
                    tracing::trace!(operation, ?wait, "waiting for the account's limits");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the state store did not answer; not waiting");
                    return;
                }
            }
        }
    }

    /// Every request of the account waits `wait` (a `Retry-After`, a budget at 0).
    /// Only a shared store publishes it: in one process the pacer and the retry already wait.
    pub(crate) async fn hold(&self, wait: Duration) {
        if wait.is_zero() || !self.shared.store.is_shared() {
            return;
        }
        tracing::debug!(
            ?wait,
            "the service asked to wait; holding every request of the account"
        );
        if let Err(e) = self.shared.store.hold(&self.hold_key, wait).await {
            tracing::warn!(error = %e, "could not publish the hold");
        }
    }

    /// One of the account's in-flight slots when the store is shared (a process's own cap is
    /// its semaphore), held until the guard drops; it ends by itself after `ttl` if this process
    /// dies or stops.
    pub(crate) async fn in_flight(&self, ttl: Duration) -> Option<InFlight> {
        let slots = self.inflight?;
        if !self.shared.store.is_shared() {
            return None;
        }
        let holder = holder_id();
        loop {
            match self
                .shared
                .store
                .lease(&self.inflight_key, slots, &holder, ttl)
                .await
            {
                Ok(true) => break,
                Ok(false) => tokio::time::sleep(LEASE_POLL).await,
                Err(e) => {
                    tracing::warn!(error = %e, "the state store did not answer; not leasing");
                    return None;
                }
            }
        }
        Some(InFlight {
            shared: self.shared.clone(),
            key: self.inflight_key.clone(),
            holder,
        })
    }
}

/// An in-flight lease, given back when dropped.
pub(crate) struct InFlight {
    shared: Shared,
    key: String,
    holder: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let (shared, key, holder) = (
            self.shared.clone(),
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.holder),
        );
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = shared.store.release(&key, &holder).await;
            });
        }
    }
}
