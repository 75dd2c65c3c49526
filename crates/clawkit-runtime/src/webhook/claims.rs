//! De-duplication of deliveries across processes: every receiver of one endpoint claims a
//! delivery id in the shared state store before it handles the delivery. The first claim is
//! `processing` under a short lease; the handler then marks it done (kept for the sender's retry
//! window) or releases it (it failed: the next attempt is handled). A twin that arrives while the
//! first is processing is told to come back ([`Ticket::Busy`]: answer so the sender retries),
//! so a delivery whose first handler fails is not lost.

use std::sync::Arc;
use std::time::Duration;

use crate::state::{Claim, Scope, Store, StoreError, holder_id};

/// The delivery claims of one endpoint in a store.
#[derive(Debug, Clone)]
pub struct Claims {
    store: Arc<dyn Store>,
    scope: Scope,
    processing: Duration,
    keep: Duration,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ticket {
    /// New: this caller handles it, then calls [`Claims::done`] or [`Claims::release`].
    Fresh(Held),
    /// Another receiver is handling it now: answer so the sender retries later (503).
    Busy,
    /// It was handled already: acknowledge it, do not act again.
    Done,
}

/// A claim held: its key and holder (compare-and-delete releases only one's own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    key: String,
    holder: String,
}

impl Claims {
    /// Claims in `store` under `scope` (every receiver of the endpoint gives the same), held for
    /// 30 s while processing and remembered for a day once done (longer than any of the
    /// vendors' retry windows).
    pub fn new(store: Arc<dyn Store>, scope: Scope) -> Self {
        Self {
            store,
            scope,
            processing: Duration::from_secs(30),
            keep: Duration::from_secs(86_400),
        }
    }

    /// How long a claim stays `processing` before another receiver may take it over (a receiver
    /// that died while handling): the longest a handler takes.
    pub fn processing(mut self, lease: Duration) -> Self {
        self.processing = lease.max(Duration::from_millis(1));
        self
    }

    /// How long a handled id is remembered: at least the sender's retry window.
    pub fn keep(mut self, keep: Duration) -> Self {
        self.keep = keep.max(Duration::from_millis(1));
        self
    }

    /// Whether the store is shared with other processes.
    pub fn is_shared(&self) -> bool {
        self.store.is_shared()
    }

    /// Claims delivery `id`.
    pub async fn claim(&self, id: &str) -> Result<Ticket, StoreError> {
        let key = self.scope.key(&format!("delivery:{id}"));
        let holder = holder_id();
        Ok(
            match self.store.claim(&key, &holder, self.processing).await? {
                Claim::Fresh => Ticket::Fresh(Held { key, holder }),
                Claim::Busy => Ticket::Busy,
                Claim::Done => Ticket::Done,
            },
        )
    }

    /// Its handling succeeded: the id is done, and stays so for the retry window.
    pub async fn done(&self, held: &Held) -> Result<(), StoreError> {
        self.store.finish(&held.key, &held.holder, self.keep).await
    }

    /// Its handling failed: the next delivery of the id is handled.
    pub async fn release(&self, held: &Held) -> Result<(), StoreError> {
        self.store.abandon(&held.key, &held.holder).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryStore;

    #[tokio::test]
    async fn a_delivery_is_handled_once_and_a_failed_one_again() {
        let claims = Claims::new(
            Arc::new(MemoryStore::new()),
            Scope::new("acme", "webhooks", "", &[]),
        );
        let Ticket::Fresh(first) = claims.claim("evt_1").await.unwrap() else {
            panic!("new")
        };
        assert_eq!(claims.claim("evt_1").await.unwrap(), Ticket::Busy);
        claims.release(&first).await.unwrap();
        let Ticket::Fresh(again) = claims.claim("evt_1").await.unwrap() else {
            panic!("released: handled again")
        };
        claims.done(&again).await.unwrap();
        assert_eq!(claims.claim("evt_1").await.unwrap(), Ticket::Done);
        // A stale holder's release does not free a claim done by another.
        claims.release(&first).await.unwrap();
        assert_eq!(claims.claim("evt_1").await.unwrap(), Ticket::Done);
    }
}
